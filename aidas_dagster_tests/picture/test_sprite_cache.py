"""AIDAS_SPRITE_CACHE: a second storage copies the sprites the first drew, byte for byte; a changed
look is drawn anew."""

from __future__ import annotations

import pytest

from aidas_dagster.picture import avatars
from aidas_dagster.picture.avatars import SPRITE_CACHE_ENV, draw_roster_sprites
from aidas_dagster_tests.picture.builders import make_roster


def test_a_fresh_storage_copies_drawn_sprites_and_a_new_look_is_drawn(tmp_path, monkeypatch):
    monkeypatch.setenv(SPRITE_CACHE_ENV, str(tmp_path / "shared"))
    roster = make_roster()
    first = draw_roster_sprites(roster, tmp_path / "a" / "avatars")

    def no_drawing(*_args, **_kwargs):
        raise AssertionError("drew a sprite the shared folder has")

    with monkeypatch.context() as patched:
        patched.setattr(avatars, "bust_image", no_drawing)
        patched.setattr(avatars, "profile_image", no_drawing)
        second = draw_roster_sprites(roster, tmp_path / "b" / "avatars")
    assert {k: [p.name for p in v] for k, v in second.items()} == {k: [p.name for p in v] for k, v in first.items()}
    for key, paths in first.items():
        for a, b in zip(paths, second[key]):
            assert a.read_bytes() == b.read_bytes() and b.parent == tmp_path / "b" / "avatars"

    # Another look is not in the shared folder: it is drawn (and then shared too).
    roster.characters[0].appearance.hair = "#aa3311"
    with monkeypatch.context() as patched:
        patched.setattr(avatars, "bust_image", no_drawing)
        with pytest.raises(AssertionError, match="drew a sprite"):
            draw_roster_sprites(roster, tmp_path / "c" / "avatars")
    drawn = draw_roster_sprites(roster, tmp_path / "c" / "avatars")
    assert all((tmp_path / "shared" / p.name).exists() for p in drawn[roster.characters[0].id])
