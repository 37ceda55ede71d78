"""`aidas`: the chores of running the studio from a terminal.

    aidas demo                      produce episodes 1-2 of the sample series offline
    aidas add-series FILE.yaml      validate a config, copy it into the series folder, register it
    aidas produce SERIES EPISODE…   materialise episodes through Dagster
    aidas status                    what was produced, what is next, cost today, budget mode
    aidas estimate SERIES EPISODE   what the episode will cost with the configured providers
    aidas edit-script SERIES EPISODE  copy an episode's script to its override file for editing
    aidas validate FILE.yaml        check a config without registering it
    aidas youtube-auth --client-secrets FILE [--token FILE]   authorise YouTube uploads (token 0600)

Runs go into the Dagster instance at $DAGSTER_HOME (default: `.dagster_home/` in the checkout), so
`dagster dev` with the same DAGSTER_HOME shows them in the UI.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import dagster as dg

# Partitioned checks and the series partition mapping are marked beta/preview; say it once in the
# README rather than on every command. Set before the imports below: building the Definitions warns.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from aidas_dagster.core.config import SeriesConfigError, load_series_config  # noqa: E402
from aidas_dagster.core.storage import (  # noqa: E402
    PROJECT_ROOT,
    Storage,
    atomic_path,
    default_series_dir,
    default_storage_root,
)
from aidas_dagster.definitions import build_definitions, defs  # noqa: E402
from aidas_dagster.operations.pools import apply_pool_limits  # noqa: E402
from aidas_dagster.operations.recovery import (  # noqa: E402
    execute_watched,
    recover_dead_runs,
    release_finished_reservations,
    sweep_storage,
)
from aidas_dagster.operations.registry import register  # noqa: E402
from aidas_dagster.operations.status import status_text  # noqa: E402
from aidas_dagster.operations.terminal import show_progress  # noqa: E402
from aidas_dagster.partitions import EpisodePartition  # noqa: E402
from aidas_dagster.picture.probe import probe  # noqa: E402
from aidas_dagster.publish.oauth import DEFAULT_TOKEN_FILE, YouTubeAuthError, run_auth_flow  # noqa: E402
from aidas_dagster.publish.resources import Channel  # noqa: E402
from aidas_dagster.resources import StudioResource  # noqa: E402
from aidas_dagster.story.estimate import estimate_for  # noqa: E402

SAMPLE_SERIES = "first-love"


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the checkout's instance folder and give it the project's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    source = PROJECT_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    if source.exists() and (not target.exists() or target.read_bytes() != source.read_bytes()):
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    return home


def _instance():
    home = ensure_dagster_home()
    # Two CLIs opening a fresh instance at once would both create its SQLite schema and stamp its
    # migration table twice, after which no process can open it; one at a time, under a lock file.
    with (home / ".aidas-instance.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            instance = dg.DagsterInstance.get()
            apply_pool_limits(instance)  # per-provider step limits, so no manual `dagster instance concurrency set`
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return instance


def _run_config() -> dict:
    return {"loggers": {"console": {"config": {"log_level": os.environ.get("AIDAS_LOG_LEVEL", "INFO")}}}}


def _say(text: str) -> None:
    print(f"[aidas] {text}", file=sys.stderr, flush=True)


def recover(instance) -> None:
    """Before producing: runs of this machine whose process died are marked failed and their pool
    slots freed; half-written files of dead processes under storage are removed."""
    recover_dead_runs(instance, log=_say)
    release_finished_reservations(instance, StudioResource().budget, log=_say)
    sweep_storage(instance, default_storage_root(), log=_say)


def produce(instance, series_id: str, episodes: list[int]) -> list[str]:
    """Materialise pre-production for the series, then each episode in order; returns failures."""
    show_progress()  # long stages' progress lines: a bar in a terminal, plain lines otherwise
    recover(instance)
    failures = []
    pre = execute_watched(
        defs.resolve_job_def("preproduction"), instance, _say,
        partition_key=series_id, run_config=_run_config(), raise_on_error=False,
    )
    if not pre.success:
        return [f"pre-production of {series_id} failed (see the log above)"]
    job = defs.resolve_job_def("produce_episode")
    for episode in episodes:
        started = time.monotonic()
        result = execute_watched(
            job, instance, _say,
            partition_key=EpisodePartition(series_id, episode).key,
            run_config=_run_config(),
            raise_on_error=False,
        )
        took = time.monotonic() - started
        release_finished_reservations(instance, StudioResource().budget)  # this run's, now it ended
        if result.success:
            print(f"[aidas] {series_id} episode {episode}: done in {took:.1f} s", flush=True)
        else:
            failures.append(f"{series_id} episode {episode} failed after {took:.1f} s (see the log above)")
            break  # later episodes continue this one's story
    return failures


def _register(instance, only: Path | None = None) -> int:
    new, errors = register(instance, default_series_dir(), only=only)
    for error in errors:
        print(f"[aidas] skipped: {error}", file=sys.stderr)
    if new:
        print(f"[aidas] registered series: {', '.join(new)}")
    return len(errors)


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    instance = _instance()
    _register(instance)
    episodes = list(range(1, args.episodes + 1))
    failures = produce(instance, args.series, episodes)
    print_summary(args.series, episodes)
    print(f"[aidas] demo finished in {time.monotonic() - started:.1f} s")
    for failure in failures:
        print(f"[aidas] {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_produce(args: argparse.Namespace) -> int:
    instance = _instance()
    _register(instance)
    failures = produce(instance, args.series, sorted(args.episodes))
    print_summary(args.series, sorted(args.episodes))
    for failure in failures:
        print(f"[aidas] {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_add_series(args: argparse.Namespace) -> int:
    source = Path(args.file)
    try:
        config = load_series_config(source)
    except SeriesConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    target = default_series_dir() / source.name
    if source.resolve() != target.resolve():
        if target.exists() and target.read_bytes() != source.read_bytes():
            print(f"{target}: a different config for {config.series_id!r} already exists; not replaced", file=sys.stderr)
            return 2
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    instance = _instance()
    _register(instance, only=target)
    print(f"[aidas] series {config.series_id!r} ({config.title}, {config.total_episodes} episodes) is ready")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        config = load_series_config(args.file)
    except SeriesConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.file}: ok — {config.title} ({config.genre}), {config.total_episodes} × {config.episode_duration} min")
    return 0


def cmd_edit_script(args: argparse.Namespace) -> int:
    """Start a producer's edit: the written script becomes the override file the sensor watches."""
    storage = Storage(default_storage_root())
    source = storage.script_path(args.series, args.episode)
    target = storage.script_override_path(args.series, args.episode)
    if not source.exists():
        print(f"{source}: no script yet; produce episode {args.episode} of {args.series!r} first", file=sys.stderr)
        return 2
    if target.exists():
        print(f"[aidas] {target} already exists; edit it (saving re-makes episode {args.episode})")
        return 0
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    print(
        f"[aidas] edit {target}; when saved, the script_override_sensor re-materialises episode {args.episode}'s "
        "script and automation redoes its voice, picture and upload (delete the file to return to the writer's script)"
    )
    return 0


def print_summary(series_id: str, episodes: list[int]) -> None:
    storage = Storage(default_storage_root())
    for episode in episodes:
        video = storage.video_path(series_id, episode)
        if not video.exists():
            print(f"[aidas] {series_id} episode {episode}: no video")
            continue
        info = probe(video)
        print(
            f"[aidas] {video}: {info['width']}x{info['height']} {info['fps']:g} fps {info['video_codec']}/"
            f"{info['audio_codec']}, {float(info['duration']) / 60:.2f} min, {video.stat().st_size / 1e6:.1f} MB"
        )


def cmd_status(args: argparse.Namespace) -> int:
    studio = StudioResource()
    print(status_text(_instance(), Path(studio.series_dir), studio.storage, studio.budget, publish_hour=Channel().publish_hour))
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    resources = build_definitions().resources  # every stage's resource, as the code location builds them
    # Keys arrive as EnvVar (so they never enter run config); resolve them for this one look.
    resolved = {name: res.process_config_and_initialize() for name, res in resources.items()}
    try:
        est = estimate_for(
            resolved["studio"], resolved["writers_room"], resolved["voice_booth"], resolved["avatar_studio"],
            args.series, args.episode,
        )
    except dg.Failure as exc:
        print(exc.description, file=sys.stderr)
        return 2
    print(est.text())
    budget = resolved["studio"].budget
    standing = budget.standing()
    spent, limit = standing["daily"]
    reserved = budget.reserved()
    fits = spent + reserved + est.total <= limit
    print(
        f"budget today: ${spent:.2f} spent + ${reserved:.2f} reserved of ${limit:.2f}; this episode "
        + ("fits" if fits else "does NOT fit (it would be refused before spending)")
    )
    return 0


def cmd_youtube_auth(args: argparse.Namespace) -> int:
    token = Path(args.token or os.environ.get("AIDAS_YOUTUBE_TOKEN") or DEFAULT_TOKEN_FILE)
    try:
        run_auth_flow(args.client_secrets, token, open_browser=not args.no_browser)
    except YouTubeAuthError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"[aidas] YouTube token stored in {token} (mode 0600); export AIDAS_YOUTUBE_TOKEN={token} to publish to YouTube")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aidas", description="AIDAS: the self-running drama studio")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="produce the first episodes of the sample series offline")
    demo.add_argument("--series", default=SAMPLE_SERIES)
    demo.add_argument("--episodes", type=int, default=2)
    demo.set_defaults(func=cmd_demo)
    prod = sub.add_parser("produce", help="materialise episodes of a series")
    prod.add_argument("series")
    prod.add_argument("episodes", type=int, nargs="+")
    prod.set_defaults(func=cmd_produce)
    add = sub.add_parser("add-series", help="validate and register a series config")
    add.add_argument("file")
    add.set_defaults(func=cmd_add_series)
    val = sub.add_parser("validate", help="check a series config")
    val.add_argument("file")
    val.set_defaults(func=cmd_validate)
    status = sub.add_parser("status", help="what was produced, what is next, cost today and the budget mode")
    status.set_defaults(func=cmd_status)
    est = sub.add_parser("estimate", help="per-episode cost estimate for the configured providers")
    est.add_argument("series")
    est.add_argument("episode", type=int)
    est.set_defaults(func=cmd_estimate)
    edit = sub.add_parser("edit-script", help="copy an episode's script to its override file for editing")
    edit.add_argument("series")
    edit.add_argument("episode", type=int)
    edit.set_defaults(func=cmd_edit_script)
    yt = sub.add_parser("youtube-auth", help="authorise publishing to a YouTube channel (opens a browser once)")
    yt.add_argument("--client-secrets", required=True, help="OAuth client file (installed app) from Google Cloud Console")
    yt.add_argument("--token", help="where to store the token (default: $AIDAS_YOUTUBE_TOKEN or ~/.config/aidas/youtube-token.json)")
    yt.add_argument("--no-browser", action="store_true", help="print the sign-in URL instead of opening a browser")
    yt.set_defaults(func=cmd_youtube_auth)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
