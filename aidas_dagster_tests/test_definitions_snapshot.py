"""A snapshot of the whole Definitions, so any change to the graph shows in review.

Asset keys, groups, partitions, deps, retry policies, pools, automation conditions, checks (and
whether they block), jobs, schedules, sensors, resources and the executor are compared with
`definitions_snapshot.json`. After an intended change, rewrite it with
`AIDAS_UPDATE_SNAPSHOT=1 pytest aidas_dagster_tests/test_definitions_snapshot.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from aidas_dagster.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def _partitions(defn: dg.PartitionsDefinition | None) -> str | None:
    if defn is None:
        return None
    if isinstance(defn, dg.MultiPartitionsDefinition):
        dims = ", ".join(f"{d.name}: {_partitions(d.partitions_def)}" for d in defn.partitions_defs)
        return f"multi({dims})"
    if isinstance(defn, dg.DynamicPartitionsDefinition):
        return f"dynamic({defn.name})"
    return type(defn).__name__


def _retry(policy: dg.RetryPolicy | None) -> str | None:
    if policy is None:
        return None
    return f"{policy.max_retries}x delay {policy.delay} {policy.backoff and policy.backoff.value} {policy.jitter and policy.jitter.value}"


def snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "automation": node.automation_condition.get_label() if node.automation_condition else None,
            "pools": sorted(node.pools or []),
            "retry": _retry(defs.resolve_assets_def(key).op.retry_policy),
            "kinds": sorted(node.kinds),
        }
    checks = {}
    for assets_def in graph.assets_defs:
        for spec in assets_def.check_specs:
            checks[spec.key.to_user_string()] = {"blocking": spec.blocking}
    return {
        "assets": assets,
        "checks": dict(sorted(checks.items())),
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": {
            s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "status": s.default_status.value}
            for s in sorted(defs.schedules or [], key=lambda s: s.name)
        },
        "sensors": {
            s.name: {"kind": type(s).__name__, "status": s.default_status.value}
            for s in sorted(defs.sensors or [], key=lambda s: s.name)
        },
        "resources": sorted(defs.resources or {}),
        "executor": getattr(defs.executor, "name", None),
    }


def test_definitions_match_the_snapshot():
    current = snapshot(build_definitions())
    if os.environ.get("AIDAS_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == stored, "the Definitions changed; review and rewrite the snapshot (see this module's docstring)"
