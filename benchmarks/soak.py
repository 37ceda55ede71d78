"""Soak: the studio unattended for a while, with faults injected, and what it came to.

    make soak                      # SOAK_MINUTES (default 6) of production, then the report
    SOAK_MINUTES=60 SOAK_SERIES=3 make soak

Two or more short series (SOAK_EPISODE_MINUTES, default 0.3 min) are produced side by side, each
episode by a real `aidas produce` process the way a service or cron starts it, in one Dagster
instance and one storage root (under a temporary folder, or SOAK_DIR). The voices of the leads go
through the real ElevenLabs client to a local server speaking its wire protocol, with a daily
ElevenLabs budget that is tight on purpose. Injected faults:

- kills: every SOAK_KILL_EVERY-th production process is SIGKILLed (with its ffmpeg children)
  at a random moment, as an OOM kill or a reboot does; the next one resumes the episode;
- provider 5xx: bursts of HTTP 503 from the voice server (SOAK_5XX_RATE of requests, in runs);
- a quota refusal: one ElevenLabs 401 `quota_exceeded` (the chain fails over for that run);
- a tight ElevenLabs budget (SOAK_ELEVENLABS_BUDGET_USD, default $0.03 per soak minute): once it is spent an episode
  is refused before spending and its series waits (deferred), as the daily schedule would.

The report: episodes made, runs killed and recovered, retries (5xx answered), deferrals, duplicates
(an episode published twice: must be 0), lines paid twice, blocked runs (left STARTED or holding a
pool slot at the end: must be 0), half-written files under storage (must be 0), budget overspend
(must be 0) and the wall time. Exit status 1 when a must-be-0 figure is not 0.
"""

from __future__ import annotations

import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERIES_YAML = """\
title: 소크 테스트 {n}
genre: 로맨틱 코미디
total_episodes: 200
episode_duration: {minutes}
main_theme: 첫사랑의 설렘과 성장
target_audience: 20-30대 여성
"""


class VoiceServer:
    """ElevenLabs' with-timestamps endpoint, with injected 5xx bursts and one quota refusal."""

    def __init__(self, rate_5xx: float, seed: int):
        from aidas_dagster_tests.fakes.elevenlabs_server import ElevenLabsServer

        self.fake = ElevenLabsServer()
        self.random = random.Random(seed)
        self.rate = rate_5xx
        self.burst = 0
        self.answered_5xx = 0
        self.quota_refused = 0
        self.lock = threading.Lock()

    def handle(self, request):
        from werkzeug import Response

        with self.lock:
            if self.quota_refused == 0 and len(self.fake.requests) >= 5:
                self.quota_refused = 1
                self.fake.requests.append({"text": "<refused>", "refused": True})
                detail = {"status": "quota_exceeded", "message": "This request exceeds your quota."}
                return Response(json.dumps({"detail": detail}), status=401, content_type="application/json")
            answered = len(self.fake.requests)
            # A burst early on for sure (so every soak sees one), then at random.
            if self.burst == 0 and ((answered == 2 and not self.answered_5xx) or self.random.random() < self.rate):
                self.burst = self.random.randint(1, 3)  # a burst: the next few requests fail too
            if self.burst > 0:
                self.burst -= 1
                self.answered_5xx += 1
                return Response(json.dumps({"detail": {"status": "service_unavailable"}}), status=503,
                                content_type="application/json")  # fmt: skip
        return self.fake.handle(request)

    def paid_requests(self) -> collections.Counter:
        """Answered (billed) requests by their whole content: a repeat is work paid twice."""
        return collections.Counter(
            json.dumps({k: r.get(k) for k in ("text", "voice_id", "model_id", "voice_settings", "query")}, sort_keys=True, default=str)
            for r in self.fake.requests if not r.get("refused")
        )


def main() -> int:
    import logging

    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per voice request

    minutes = float(os.environ.get("SOAK_MINUTES", "6"))
    n_series = max(2, int(os.environ.get("SOAK_SERIES", "2")))
    episode_minutes = float(os.environ.get("SOAK_EPISODE_MINUTES", "0.3"))
    kill_every = int(os.environ.get("SOAK_KILL_EVERY", "3"))
    rate_5xx = float(os.environ.get("SOAK_5XX_RATE", "0.08"))
    seed = int(os.environ.get("SOAK_SEED", "14"))
    # Tight on purpose: about what the soak's time can spend, so the refusal comes near its end.
    budget_usd = float(os.environ.get("SOAK_ELEVENLABS_BUDGET_USD") or round(0.03 * minutes, 2))
    rng = random.Random(seed)
    work = Path(os.environ.get("SOAK_DIR") or tempfile.mkdtemp(prefix="aidas-soak-"))
    series_dir, storage, home = work / "series", work / "storage", work / "home"
    for folder in (series_dir, storage, home):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    names = [f"soak-{chr(97 + i)}" for i in range(n_series)]
    for i, name in enumerate(names):
        (series_dir / f"{name}.yaml").write_text(SERIES_YAML.format(n=i + 1, minutes=episode_minutes), encoding="utf-8")

    voice = VoiceServer(rate_5xx, seed)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/v1/text-to-speech/[^/]+/with-timestamps$"), method="POST").respond_with_handler(voice.handle)
    server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HEYGEN_", "AIDAS_YOUTUBE"))},
        "PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(home), "AIDAS_STORAGE_ROOT": str(storage),
        "AIDAS_SERIES_DIR": str(series_dir), "ELEVENLABS_API_KEY": "soak-key",
        "ELEVENLABS_BASE_URL": server.url_for("").rstrip("/"), "AIDAS_ELEVENLABS_BUDGET_USD": str(budget_usd),
    }  # fmt: skip
    print(f"[soak] {minutes:g} min, {n_series} series of {episode_minutes:g}-min episodes, in {work}", flush=True)

    started = time.monotonic()
    deadline = started + minutes * 60
    next_episode = {name: 1 for name in names}
    launched = killed = failed_runs = 0
    deferred: dict[str, int] = {}  # series -> episode refused for today's budget (the schedule waits for tomorrow)
    running: dict[str, tuple[subprocess.Popen, float | None, Path]] = {}
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    while True:
        now = time.monotonic()
        for name in names:
            if name not in running and name not in deferred and now < deadline:
                launched += 1
                kill_at = now + rng.uniform(8, 70) if kill_every and launched % kill_every == 0 else None
                log_path = logs / f"{launched:03d}-{name}-{next_episode[name]:03d}.log"
                proc = subprocess.Popen(
                    [sys.executable, "-m", "aidas_dagster.cli", "produce", name, str(next_episode[name])],
                    env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
                running[name] = (proc, kill_at, log_path)
        for name, (proc, kill_at, log_path) in list(running.items()):
            if kill_at is not None and proc.poll() is None and time.monotonic() >= kill_at:
                os.killpg(proc.pid, signal.SIGKILL)
                killed += 1
                print(f"[soak] SIGKILLed {log_path.stem} after {kill_at - started:.0f} s of soak", flush=True)
            code = proc.poll()
            if code is None:
                continue
            del running[name]
            if code == 0:
                print(f"[soak] made {name} episode {next_episode[name]}", flush=True)
                next_episode[name] += 1
            elif code != -signal.SIGKILL and "budget reached" in log_path.read_text(encoding="utf-8", errors="replace"):
                deferred[name] = next_episode[name]
                print(f"[soak] {name} episode {next_episode[name]}: refused for today's budget before spending; deferred", flush=True)
            elif code != -signal.SIGKILL:
                failed_runs += 1
                print(f"[soak] {log_path.stem} failed (exit {code}); the next run resumes it: {log_path}", flush=True)
        if not running and (time.monotonic() >= deadline or len(deferred) == len(names)):
            break
        time.sleep(0.5)
    # Once more for each series after the last kill, as the next tick would: resume and finish.
    for name in names:
        if name in deferred or not (storage / "series" / name / "episodes" / f"{next_episode[name]:03d}").exists():
            continue
        out = subprocess.run([sys.executable, "-m", "aidas_dagster.cli", "produce", name, str(next_episode[name])],
                             env=env, capture_output=True, text=True)  # fmt: skip
        if out.returncode == 0:
            next_episode[name] += 1
    server.stop()
    wall = time.monotonic() - started
    return report(work, storage, home, names, voice, budget_usd, launched, killed, failed_runs, deferred, wall)


def report(work, storage, home, names, voice, budget_usd, launched, killed, failed_runs, deferred, wall) -> int:
    import dagster as dg

    from aidas_dagster.core.ledger import CostLedger
    from aidas_dagster.operations.recovery import run_process_gone

    made = {name: sorted(int(p.parent.name) for p in (storage / "series" / name / "episodes").glob("*/publish.json")) for name in names}
    episodes = sum(len(v) for v in made.values())
    # Duplicates: an episode uploaded again (a revision beyond the first for an unchanged cut), or
    # the same voice request (text, voice, model, settings) answered twice by the paid server.
    dup_uploads = 0
    for record in (storage / "channel").glob("*/video.json"):
        dup_uploads += max(0, int(json.loads(record.read_text(encoding="utf-8")).get("revision", 1)) - 1)
    ledger = CostLedger(storage / "ledger" / "costs.jsonl")
    paid = [e for e in ledger.entries() if e.provider == "elevenlabs" and not e.cache_hit]
    requests = voice.paid_requests()
    dup_paid = sum(n - 1 for n in requests.values() if n > 1)
    spent_by_day = collections.Counter()
    for e in paid:
        spent_by_day[e.day] += e.cost_usd
    overspend = max([0.0] + [usd - budget_usd for usd in spent_by_day.values()])
    half = [p for p in storage.rglob("*") if p.name.endswith(".part") or (p.is_dir() and p.name.startswith((".render-", ".aac-")))]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        statuses = collections.Counter(r.status.value for r in runs)
        unfinished = [r for r in runs if not r.is_finished]
        dead_unfinished = [r for r in unfinished if run_process_gone(r.tags)]
        storage_events = instance.event_log_storage
        held = [(pool, s.run_id) for pool in storage_events.get_concurrency_keys() for s in storage_events.get_concurrency_info(pool).claimed_slots]
        recovered = sum(
            1 for r in runs for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            if e.message and "which is gone (killed or crashed)" in e.message
        )  # fmt: skip
    blocked = len(unfinished) + len(held)
    lines = [
        "",
        f"SOAK REPORT ({work})",
        f"  wall time              {wall / 60:.1f} min",
        f"  production processes   {launched} started, {killed} SIGKILLed, {failed_runs} failed otherwise",
        f"  episodes made          {episodes}  ({', '.join(f'{n}: {len(v)}' for n, v in made.items())})",
        f"  runs                   {dict(statuses)}; dead runs recovered {recovered}",
        f"  retries (5xx answered) {voice.answered_5xx}; quota refusals {voice.quota_refused}",
        f"  deferrals (budget)     {len(deferred)}  ({', '.join(f'{n} episode {e}' for n, e in deferred.items()) or 'none'})",
        f"  ElevenLabs spend       {', '.join(f'{d}: ${usd:.4f}' for d, usd in sorted(spent_by_day.items())) or 'none'} (budget ${budget_usd:.2f}/day)",
        f"  duplicates             {dup_uploads}  (episodes uploaded twice)",
        f"  lines paid twice       {dup_paid}  (a kill between the provider's answer and the line cache; {len(paid)} paid lines in all)",
        f"  blocked runs           {blocked}  (unfinished {len(unfinished)}, of dead processes {len(dead_unfinished)}, pool slots held {len(held)})",
        f"  half-written files     {len(half)}",
        f"  budget overspend       ${overspend:.4f}",
    ]
    print("\n".join(lines), flush=True)
    bad = dup_uploads + blocked + len(half) + (overspend > 1e-9)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
