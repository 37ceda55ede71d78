"""The storage handles name every file of an episode once; reuse_or_make reuses only a fresh output."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from aidas_dagster.core.stamps import reuse_or_make, stamp_path
from aidas_dagster.core.storage import Storage, write_json


class Note(BaseModel):
    text: str


def test_episode_handle_names_every_file_under_its_folder(tmp_path: Path):
    storage = Storage(tmp_path)
    ep = storage.episode("s1", 7)
    assert ep.dir == tmp_path / "series" / "s1" / "episodes" / "007"
    names = {
        "script": "script.json", "quality": "quality.json", "context": "context.json", "track": "track.json",
        "dialogue": "dialogue.wav", "timing_table": "timing.csv",
        "clips": "clips.json", "final": "final.json", "publish": "publish.json",
        "publish_deferred": "publish-deferred.json", "feedback": "feedback.json", "thumbnail": "thumbnail.jpg",
    }  # fmt: skip
    for attr, name in names.items():
        path = getattr(ep, attr)
        assert path.name == name and ep.dir in path.parents, attr
    assert ep.series.adjustments == tmp_path / "series" / "s1" / "feedback" / "adjustments.json"
    assert ep.series.continuity_flags.parent == storage.series_dir("s1")
    assert ep.override == storage.script_override_path("s1", 7)


def test_episodes_lists_folders_in_order_and_filters_by_file(tmp_path: Path):
    storage = Storage(tmp_path)
    assert storage.episodes() == []
    for series_id, n in [("b", 2), ("a", 10), ("a", 2)]:
        storage.episode(series_id, n).dir.mkdir(parents=True)
    (storage.series_dir("a") / "episodes" / "notes").mkdir()  # not an episode folder
    write_json(storage.episode("a", 10).publish, {"x": 1})
    assert [(e.series_id, e.number) for e in storage.episodes()] == [("a", 2), ("a", 10), ("b", 2)]
    assert [(e.series_id, e.number) for e in storage.episodes(having="publish")] == [("a", 10)]


def test_load_names_the_missing_file(tmp_path: Path):
    ep = Storage(tmp_path).episode("s1", 1)
    with pytest.raises(FileNotFoundError, match="feedback.json"):
        ep.load(ep.feedback, Note)


def test_reuse_or_make_makes_writes_and_stamps_then_reuses_until_inputs_change(tmp_path: Path):
    out = tmp_path / "note.json"
    made: list[str] = []

    def make(text: str):
        return lambda: made.append(text) or Note(text=text)

    def load():
        return Note.model_validate_json(out.read_text())

    first, reused = reuse_or_make(out, "fp1", load=load, make=make("one"), write=lambda n: write_json(out, n))
    assert (first.text, reused, made) == ("one", False, ["one"]) and stamp_path(out).exists()
    again, reused = reuse_or_make(out, "fp1", load=load, make=make("two"), write=lambda n: write_json(out, n))
    assert (again.text, reused, made) == ("one", True, ["one"])
    changed, reused = reuse_or_make(out, "fp2", load=load, make=make("three"), write=lambda n: write_json(out, n))
    assert (changed.text, reused) == ("three", False)
    # A required companion file that went missing makes the output again.
    extra = tmp_path / "extra.bin"
    _, reused = reuse_or_make(out, "fp2", load=load, make=make("four"), write=lambda n: write_json(out, n), also_required=(extra,))
    assert not reused and made[-1] == "four"


def test_a_failed_make_leaves_no_stamp(tmp_path: Path):
    out = tmp_path / "note.json"

    def broken():
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        reuse_or_make(out, "fp", load=lambda: None, make=broken)
    assert not stamp_path(out).exists()


def test_script_overrides_are_found_by_name_and_a_removed_one_still_has_its_episode(tmp_path: Path):
    storage = Storage(tmp_path)
    edited = storage.episode("s1", 3).override
    write_json(edited, {"scenes": []})
    write_json(edited.parent / "notes.json", {})  # not an override: no episode number
    write_json(storage.episode("s2", 12).override, {})
    found = [(files.series_id, files.number) for files in storage.script_overrides()]
    assert found == [("s1", 3), ("s2", 12)]
    edited.unlink()
    assert [(f.series_id, f.number) for f in storage.script_overrides()] == [("s2", 12)]
    owner = storage.override_owner(edited)  # the sensor asks once more for a removed edit
    assert owner is not None and (owner.series_id, owner.number, owner.override) == ("s1", 3, edited)
    assert storage.override_owner(tmp_path / "elsewhere" / "overrides" / "003.script.json") is None
