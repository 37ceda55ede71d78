"""Fingerprints of what `aidas demo` made, to show that a refactor changed no output.

    python benchmarks/demo_fingerprints.py STORAGE                 print the fingerprints of one storage folder
    python benchmarks/demo_fingerprints.py STORAGE_A STORAGE_B     print both and what differs (exit 1 if anything)

Per series: the sha256 of bible.json and roster.json. Per episode: the sha256 of script.json (and,
for diagnosis, of the dialogue track audio/dialogue.wav) and the sorted names of the video segments
its latest cut uses. Segments are content-addressed files in the segment cache, named by the
digest of everything that went into their encoding; each cut records its list in the cache's
refs/ (picture/segment_cache.py `record_cut`), which is read here through `episode_record`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from aidas_dagster.core.storage import Storage
from aidas_dagster.picture.segment_cache import episode_record


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def fingerprints(root: Path) -> dict:
    storage = Storage(root)
    segments_cache = storage.cache_dir("segments")
    out: dict = {}
    for files in storage.episodes():
        series = out.setdefault(files.series_id, {
            "bible.json": _sha(storage.series(files.series_id).bible),
            "roster.json": _sha(storage.series(files.series_id).roster),
            "episodes": {},
        })  # fmt: skip
        record = episode_record(segments_cache, files.series_id, files.number)
        series["episodes"][f"{files.number:03d}"] = {
            "script.json": _sha(files.script),
            "dialogue.wav": _sha(files.dialogue),
            "segments": sorted(record.get("segments", [])),
        }
    return out


def _print(name: str, prints: dict) -> None:
    print(f"== {name}")
    for series_id, series in prints.items():
        print(f"{series_id}  bible.json {series['bible.json']}")
        print(f"{series_id}  roster.json {series['roster.json']}")
        for episode, ep in series["episodes"].items():
            listing = hashlib.sha256("\n".join(ep["segments"]).encode()).hexdigest()
            print(f"{series_id} ep {episode}  script.json {ep['script.json']}")
            print(f"{series_id} ep {episode}  dialogue.wav {ep['dialogue.wav']}")
            print(f"{series_id} ep {episode}  {len(ep['segments'])} segments, list sha256 {listing}")
            for segment in ep["segments"]:
                print(f"    {segment}")


def _differences(a: dict, b: dict) -> list[str]:
    out = []
    for series_id in sorted(set(a) | set(b)):
        sa, sb = a.get(series_id), b.get(series_id)
        if sa is None or sb is None:
            out.append(f"{series_id}: only in {'the second' if sa is None else 'the first'} storage")
            continue
        for name in ("bible.json", "roster.json"):
            if sa[name] != sb[name]:
                out.append(f"{series_id} {name} differs")
        for episode in sorted(set(sa["episodes"]) | set(sb["episodes"])):
            ea, eb = sa["episodes"].get(episode), sb["episodes"].get(episode)
            if ea is None or eb is None:
                out.append(f"{series_id} ep {episode}: only in one storage")
                continue
            for name in ("script.json", "dialogue.wav"):
                if ea[name] != eb[name]:
                    out.append(f"{series_id} ep {episode} {name} differs")
            only_a, only_b = sorted(set(ea["segments"]) - set(eb["segments"])), sorted(set(eb["segments"]) - set(ea["segments"]))
            if only_a or only_b:
                out.append(
                    f"{series_id} ep {episode} segments differ: {len(only_a)} only in the first, {len(only_b)} only in "
                    f"the second (of {len(ea['segments'])} / {len(eb['segments'])})"
                )
    return out


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    prints = []
    for arg in argv:
        root = Path(arg)
        if not (root / "series").is_dir():
            print(f"{root}: not a storage folder made by `aidas demo` (no series/ inside)", file=sys.stderr)
            return 2
        prints.append(fingerprints(root))
        _print(arg, prints[-1])
    if len(prints) == 2:
        diffs = _differences(*prints)
        print("== comparison")
        print("\n".join(diffs) if diffs else "identical: every bible, roster, script, dialogue track and segment list")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
