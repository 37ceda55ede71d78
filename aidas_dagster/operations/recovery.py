"""Dead runs release what they hold; a step waiting for a pool says so.

A run started by the CLI executes inside the `aidas` process. When that process dies (SIGKILL, OOM,
reboot) no monitor sees it: the run stays STARTED and keeps its pool slots, so every later step of
that pool (say the one `youtube` upload slot) waits for ever. Each CLI run therefore carries the
pid, its start time and the host in its tags; `recover_dead_runs` finds runs of this host whose
process is gone, marks them failed with the reason and frees their slots. It also frees the slots
of runs that ended but still hold some (a run marked failed in the UI keeps its slots).

Runs launched by the daemon are watched by the code server (a dead run worker is marked failed)
and their slots freed by the daemon (`run_monitoring.free_slots_after_run_end_seconds` in
dagster.yaml); the `pool_watch` sensor runs this module's checks there too.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from aidas_dagster.core.storage import pid_alive
from aidas_dagster.core.run_tags import HOST_TAG, PID_STARTED_TAG, PID_TAG
from aidas_dagster.core.storage import sweep_partial_files
from aidas_dagster.partitions import EPISODE, SERIES


# STARTING/NOT_STARTED too: a CLI killed between creating its run and starting it leaves one.
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Tags naming the process that executes a run here."""
    pid = os.getpid() if pid is None else pid
    return {PID_TAG: str(pid), PID_STARTED_TAG: _start_time(pid), HOST_TAG: socket.gethostname()}


def run_process_gone(tags: dict[str, str]) -> bool:
    """True when the tags name a process on this host that no longer runs (or is another process
    now); False when it runs, or when this host cannot tell (another host, no tags)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False
    pid = int(tags[PID_TAG])
    if not pid_alive(pid):
        return True
    started = tags.get(PID_STARTED_TAG)
    return bool(started) and _start_time(pid) not in ("", started)


@dataclass(frozen=True)
class Recovered:
    run_id: str
    what: str  # job and partition
    reason: str
    freed_slots: int


def _describe(run: dg.DagsterRun) -> str:
    partition = run.tags.get("dagster/partition")
    return f"{run.job_name}{f' {partition}' if partition else ''}"


def _free(instance: dg.DagsterInstance, run_id: str) -> int:
    """Free the run's slots (and drop its waiting steps); the number of slots it held.
    (The SQL storages return nothing from free_concurrency_slots_for_run, so count first.)"""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    held = sum(
        slot.run_id == run_id
        for key in storage.get_concurrency_keys()
        for slot in storage.get_concurrency_info(key).claimed_slots
    )
    storage.free_concurrency_slots_for_run(run_id)
    return held


def recover_dead_runs(instance: dg.DagsterInstance, log: Callable[[str], None] | None = None) -> list[Recovered]:
    """Mark this host's runs whose process is gone failed and free their pool slots; also free
    the slots still held by runs that have ended. Returns what was done (each also logged)."""
    done: list[Recovered] = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        if not run_process_gone(run.tags):
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.is_finished:
            continue
        holding = _held_pools(instance, run.run_id)
        reason = (
            f"run {run.run_id} ({_describe(run)}) was executing in process {run.tags[PID_TAG]} on "
            f"{run.tags[HOST_TAG]}, which is gone (killed or crashed); marked failed"
            + (f" and its slot(s) of pool {', '.join(sorted(holding))} freed" if holding else "")
            + "; its finished work is kept and reused by the next run"
        )
        instance.report_engine_event(reason, current)
        instance.report_run_failed(current, reason)
        freed = _free(instance, run.run_id)
        done.append(Recovered(run.run_id, _describe(run), reason, freed))
        if log:
            log(reason)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        held_by = storage.get_concurrency_run_ids()
        for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=list(held_by))) if held_by else []:
            run = record.dagster_run
            if not run.is_finished:
                continue
            pools = _held_pools(instance, run.run_id)
            freed = _free(instance, run.run_id)  # also drops its leftover waiting steps
            if freed:
                reason = (
                    f"run {run.run_id} ({_describe(run)}) ended {run.status.value} but still held "
                    f"{freed} slot(s) of pool {', '.join(sorted(pools)) or '?'}; freed"
                )
                done.append(Recovered(run.run_id, _describe(run), reason, freed))
                if log:
                    log(reason)
    return done


def _held_pools(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    return {
        key
        for key in storage.get_concurrency_keys()
        if any(slot.run_id == run_id for slot in storage.get_concurrency_info(key).claimed_slots)
    }


@dataclass(frozen=True)
class PoolWait:
    run_id: str
    step_key: str
    pool: str
    limit: int | None
    holders: tuple[str, ...]  # "run <id> (<job partition>, <status>, step <key>)"

    def message(self) -> str:
        held = "; ".join(self.holders) if self.holders else "no run (a slot is about to be handed over)"
        limit = f"limit {self.limit}" if self.limit is not None else "no limit set"
        return f"step {self.step_key} waits for a slot of pool {self.pool!r} ({limit}), held by {held}"


def pool_waits(instance: dg.DagsterInstance, run_id: str | None = None) -> list[PoolWait]:
    """Steps waiting for a pool slot (of `run_id`, or of every run), and who holds the slots."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    out: list[PoolWait] = []
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        waiting = [s for s in info.pending_steps if s.assigned_timestamp is None and (run_id is None or s.run_id == run_id)]
        if not waiting:
            continue
        holders = []
        for slot in info.claimed_slots:
            holder = instance.get_run_by_id(slot.run_id)
            if holder is None:
                holders.append(f"run {slot.run_id} (no longer in the instance, step {slot.step_key})")
                continue
            dead = ", its process is gone" if run_process_gone(holder.tags) else ""
            holders.append(f"run {slot.run_id} ({_describe(holder)}, {holder.status.value}{dead}, step {slot.step_key})")
        for step in waiting:
            out.append(PoolWait(step.run_id, step.step_key, pool, info.limit, tuple(holders)))
    return out


def report_pool_waits(
    instance: dg.DagsterInstance,
    said: dict[str, str],
    run_id: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Write each new or changed wait into the waiting run's Dagster log (and `log`); `said` maps
    "run:step" to the last message, so a wait is reported once, and again when its holders change."""
    now: dict[str, str] = {}
    for wait in pool_waits(instance, run_id):
        key = f"{wait.run_id}:{wait.step_key}"
        text = wait.message()
        now[key] = text
        if said.get(key) == text:
            continue
        run = instance.get_run_by_id(wait.run_id)
        if run is not None:
            instance.report_engine_event(text, run, step_key=wait.step_key)
        if log:
            log(text)
    return now


class PoolWatch:
    """While a run executes in this process: every `interval` seconds free what dead runs hold
    and say (in the run's log and through `log`) what its steps wait for. A context manager."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, log: Callable[[str], None], interval: float = 2.0):
        self.instance, self.run_id, self.log, self.interval = instance, run_id, log, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"pool-watch-{run_id[:8]}", daemon=True)
        self._said: dict[str, str] = {}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                # Say what we wait for (and who holds it) first, then free what dead runs hold.
                self._said = report_pool_waits(self.instance, self._said, self.run_id, log=self.log)
                if self._said:
                    recover_dead_runs(self.instance, log=self.log)
            except Exception as exc:  # noqa: BLE001 - the watch must never take the run down
                self.log(f"pool watch: {type(exc).__name__}: {exc}")

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def execute_watched(job, instance: dg.DagsterInstance, log: Callable[[str], None], **kwargs):
    """`job.execute_in_process` with this process's tags on the run and a PoolWatch beside it."""
    run_id = str(uuid.uuid4())
    tags = {**process_tags(), **dict(kwargs.pop("tags", None) or {})}
    with PoolWatch(instance, run_id, log):
        return job.execute_in_process(instance=instance, run_id=run_id, tags=tags, **kwargs)


def release_finished_reservations(instance: dg.DagsterInstance, budget, log: Callable[[str], None] | None = None) -> float:
    """Budget reservations held by runs that ended (or are gone from the instance) are let go."""
    freed = 0.0
    for holder, usd in budget.holders().items():
        if not holder.startswith("run:"):
            continue
        run = instance.get_run_by_id(holder[4:])
        if run is None or run.is_finished:
            let_go = budget.release_holder(holder)
            freed += let_go
            if log and let_go:
                status = run.status.value if run else "gone"
                log(f"released ${let_go:.2f} of budget reserved by run {holder[4:]} ({status})")
    return freed


def sweep_storage(instance: dg.DagsterInstance, root, log: Callable[[str], None] | None = None) -> list:
    """Remove half-written files of dead writers under the storage root. A leftover that does not
    name its writer's pid is known dead when it lies in an episode's folder and no run of that
    episode is in flight (runs of one series go one at a time, so only that run writes there)."""
    in_flight = {
        (run.tags.get(f"dagster/partition/{SERIES}"), run.tags.get(f"dagster/partition/{EPISODE}"))
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=[*UNFINISHED, dg.DagsterRunStatus.CANCELING]))
    }
    series_root = Path(root) / "series"

    def idle(path: Path) -> bool:
        try:
            parts = path.relative_to(series_root).parts  # <series>/episodes/<NNN>/...
        except ValueError:
            return False
        if len(parts) < 4 or parts[1] != "episodes" or not parts[2].isdigit():
            return False
        return (parts[0], parts[2]) not in in_flight and (parts[0], str(int(parts[2]))) not in in_flight

    removed = sweep_partial_files(Path(root), idle=idle)
    for path in removed:
        if log:
            log(f"removed {path}: left half-written by a process that is gone")
    return removed
