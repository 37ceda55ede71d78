"""Scene art from an image model, against a local /v1/images/generations server (fakes/images_server.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidas_dagster.core.ledger import Budget, BudgetLimits, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import RetryPolicy
from aidas_dagster.core.storage import read_json
from aidas_dagster.picture.avatars import draw_roster_sprites, profile_key
from aidas_dagster.picture.image_art import (
    BACKDROP_SIZE,
    PORTRAIT_SIZE,
    ImageClient,
    SceneArtist,
    image_price,
    manifest_path,
    series_cost_estimate,
    series_style,
    to_sprite,
)
from aidas_dagster_tests.fakes.images_server import IMAGES_KEY as KEY
from aidas_dagster_tests.fakes.images_server import BACKDROP_RGB, PORTRAIT_RGB, ImagesServer, portrait_png
from aidas_dagster_tests.picture.builders import FPS, LINES, TITLE, grab, make_episode, make_roster

PLACES = [("성수동 카페", "cafe"), ("회사 사무실", "office")]
STYLE = series_style("짧은 첫사랑", "로맨틱 코미디")
# Two leads × (front, front open) + one profile role × (front, profile, profile open); the
# voice-only minor role gets nothing; two places.
PORTRAITS, PLACE_IMAGES = 2 * 2 + 3, 2


def artist(images_fake: ImagesServer, tmp: Path, ledger: CostLedger | None = None, budget: Budget | None = None) -> SceneArtist:
    client = ImageClient(KEY, images_fake.server.url_for("/v1"), policy=RetryPolicy(max_attempts=4, base_delay=0.01), sleep=lambda _s: None)
    return SceneArtist(client, tmp / "cache", ledger=ledger, budget=budget)


def roster():

    return make_roster()


def test_looks_and_places_are_made_once_and_kept_for_the_series(images_fake, tmp_path):
    ledger = CostLedger(tmp_path / "ledger" / "costs.jsonl")
    art_dir = tmp_path / "avatars" / "art"
    cast = roster()
    first = artist(images_fake, tmp_path, ledger).ensure(art_dir, cast, PLACES, STYLE, series_id="s", episode=1)
    assert first.warnings == [] and first.made == PORTRAITS + PLACE_IMAGES
    assert len(images_fake.requests) == PORTRAITS + PLACE_IMAGES
    assert set(first.portraits) == {"CHAR001", "CHAR002", "CHAR003"}  # leads and the major role, not the minor one
    assert set(first.backdrops) == {"성수동 카페", "회사 사무실"}
    assert set(first.sprites) == {"CHAR001", "CHAR002", "CHAR003", profile_key("CHAR003")}
    closed, half, opened = first.sprites["CHAR001"]
    assert half == opened and closed != opened
    for paths in first.sprites.values():
        for p in paths:
            with Image.open(p) as im:
                assert im.size == (560, 760) and im.mode == "RGBA" and im.getchannel("A").getextrema() == (0, 255)
    with Image.open(first.backdrops["성수동 카페"]) as im:
        assert im.size == (1920, 1080)
        assert np.abs(np.asarray(im.convert("RGB"), dtype=int)[540, 20] - BACKDROP_RGB).max() < 40
    # Every prompt carries the series' one style text; the leads' prompts their own looks.
    assert all(r["prompt"].startswith(STYLE) for r in images_fake.requests)
    assert {r["size"] for r in images_fake.requests} == {PORTRAIT_SIZE, BACKDROP_SIZE}
    assert sum("한지우" in r["prompt"] for r in images_fake.requests) == 2

    # Episode 2 (and any re-materialisation): nothing is asked again.
    again = artist(images_fake, tmp_path, ledger).ensure(art_dir, cast, PLACES + [("한강 공원", "riverside")], "another style", series_id="s", episode=2)
    assert len(images_fake.requests) == PORTRAITS + PLACE_IMAGES + 1  # only the new place
    assert again.sprites == {**first.sprites} and again.portraits == first.portraits
    assert images_fake.requests[-1]["prompt"].startswith(STYLE)  # the style stays the series' first
    assert read_json(manifest_path(art_dir))["style"] == STYLE

    # The manifest lost: the content cache answers, nothing is paid twice.
    manifest_path(art_dir).unlink()
    artist(images_fake, tmp_path, ledger).ensure(art_dir, cast, PLACES, STYLE, series_id="s", episode=3)
    assert len(images_fake.requests) == PORTRAITS + PLACE_IMAGES + 1

    # A look whose file went missing is made again from the cache, not left drawn, not paid again.
    (art_dir / read_json(manifest_path(art_dir))["characters"]["CHAR003"]["sprites"][profile_key("CHAR003")][1]).unlink()
    mended = artist(images_fake, tmp_path, ledger).ensure(art_dir, cast, PLACES, STYLE, series_id="s", episode=4)
    assert profile_key("CHAR003") in mended.sprites and mended.cached == 3 and mended.made == 0
    assert len(images_fake.requests) == PORTRAITS + PLACE_IMAGES + 1

    rows = [e for e in ledger.entries() if e.episode != 4]
    paid = [e for e in rows if not e.cache_hit]
    assert len(paid) == PORTRAITS + PLACE_IMAGES + 1
    assert all(e.provider == "openai" and e.operation == "image" and e.unit == "images" for e in rows)
    assert sum(e.cost_usd for e in paid) == pytest.approx(
        PORTRAITS * image_price(PORTRAIT_SIZE, "medium") + (PLACE_IMAGES + 1) * image_price(BACKDROP_SIZE, "medium"), abs=1e-6
    )
    assert sum(e.cache_hit for e in rows) == PORTRAITS + PLACE_IMAGES and all(e.cost_usd == 0 for e in rows if e.cache_hit)
    assert all(f" {PORTRAIT_SIZE} medium" in e.detail or f" {BACKDROP_SIZE} medium" in e.detail for e in rows)


def test_rate_limits_and_server_errors_are_retried(images_fake, tmp_path):
    images_fake.fail = ["429", "500", "500"]
    art = artist(images_fake, tmp_path).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert art.warnings == [] and len(art.portraits) == 3 and len(art.backdrops) == 2
    assert len(images_fake.requests) == PORTRAITS + PLACE_IMAGES + 3
    images_fake.fail = ["500"] * 4  # retries spent: no new art this run, said clearly, the episode goes on
    more = artist(images_fake, tmp_path).ensure(tmp_path / "art", roster(), [("한강 공원", "riverside")], STYLE)
    assert "한강 공원" not in more.backdrops and any("failed after 4 attempts" in w for w in more.warnings)


def test_a_refused_prompt_leaves_that_character_drawn_and_is_not_asked_again(images_fake, tmp_path):
    images_fake.refuse_words = ("강태오",)
    ledger = CostLedger(tmp_path / "costs.jsonl")
    art = artist(images_fake, tmp_path, ledger).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert "CHAR002" not in art.sprites and {"CHAR001", "CHAR003"} <= set(art.sprites)
    assert any("CHAR002" in w and "refused" in w for w in art.warnings)
    assert not list((tmp_path / "art").glob("CHAR002-*"))
    asked = len(images_fake.requests)
    artist(images_fake, tmp_path, ledger).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert len(images_fake.requests) == asked  # remembered: no second refusal asked for
    refused = [e for e in ledger.entries() if e.detail.startswith("refused")]
    assert len(refused) == 1 and refused[0].cost_usd == 0


def test_out_of_credit_stops_new_art_clearly_and_a_later_run_makes_it(images_fake, tmp_path):
    images_fake.fail = ["credit"]
    first = artist(images_fake, tmp_path)
    art = first.ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert art.empty and len(images_fake.requests) == 1  # not retried, nothing else asked
    assert first.disabled_reason and "out of credit" in first.disabled_reason and KEY not in first.disabled_reason
    assert any("no new art" in w for w in art.warnings)
    later = artist(images_fake, tmp_path).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert len(later.portraits) == 3 and len(later.backdrops) == 2


@pytest.mark.parametrize("bad", ["not_image", "truncated", "wrong_size"])
def test_a_bad_reply_is_named_and_nothing_half_written(images_fake, tmp_path, bad):
    images_fake.fail = [bad]  # the first image: CHAR001's front bust
    ledger = CostLedger(tmp_path / "costs.jsonl")
    art = artist(images_fake, tmp_path, ledger).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    words = {"not_image": "not a complete image", "truncated": "truncated", "wrong_size": "512x768, 1024x1536 was asked"}[bad]
    assert any("CHAR001" in w and "bad reply" in w and words in w for w in art.warnings), art.warnings
    assert "CHAR001" not in art.sprites and not list((tmp_path / "art").glob("CHAR001-*"))
    assert {"CHAR002", "CHAR003"} <= set(art.sprites)  # the others are unaffected
    assert not any(p.name.endswith(".part") for p in (tmp_path / "art").iterdir())
    again = artist(images_fake, tmp_path, ledger).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert "CHAR001" in again.sprites  # asked again next run, and made


def test_economy_mode_makes_no_new_art_and_keeps_what_exists(images_fake, tmp_path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    budget = Budget(ledger, BudgetLimits(daily_usd=100.0, provider_usd={"openai": 10.0}))
    made = artist(images_fake, tmp_path, ledger, budget).ensure(tmp_path / "art", roster(), PLACES[:1], STYLE)
    assert len(made.backdrops) == 1
    ledger.record(LedgerEntry(provider="openai", operation="chat", units=1, unit="tokens", cost_usd=8.5))  # 85 %
    asked = len(images_fake.requests)
    art = artist(images_fake, tmp_path, ledger, budget).ensure(tmp_path / "art", roster(), PLACES, STYLE)
    assert len(images_fake.requests) == asked
    assert any("economy" in w for w in art.warnings)
    assert set(art.backdrops) == {"성수동 카페"} and len(art.portraits) == 3  # what exists is reused


def test_an_opaque_portrait_is_cut_out_of_its_background():
    sprite = to_sprite(portrait_png((1024, 1536), False, transparent=False))
    alpha = np.asarray(sprite.getchannel("A"))
    assert alpha[5, 5] == 0 and alpha[-5, 280] == 255  # the corner is background, the shoulders are kept


def test_the_series_estimate_counts_each_image_once():
    assert series_cost_estimate(2, 3, 0, 8) == pytest.approx(0.063 * (4 + 9) + 0.063 * 8)
    assert image_price("1024x1536", "high") == 0.25 and image_price("1024x1536", "ultra") == 0.25


def test_the_final_cut_shows_the_served_portrait_where_the_lead_speaks(images_fake, tmp_path):
    from aidas_dagster.picture.clips import plan_clips
    from aidas_dagster.picture.render import render_final_cut

    lines = LINES[:2]  # a very short episode: the two leads greet each other in the cafe
    script, cast, track = make_episode(tmp_path / "audio", lines=lines, scenes={1: ("성수동 카페", "낮", "설렘", ["CHAR001", "CHAR002"])})
    art = artist(images_fake, tmp_path).ensure(tmp_path / "avatars" / "art", cast, PLACES[:1], STYLE)
    sprites = draw_roster_sprites(cast, tmp_path / "avatars")
    sprites.update(art.sprites)
    plan = plan_clips(script, cast, track, sprites, fps=FPS)
    assert plan.clips[0].sprite_paths[0] == str(art.sprites["CHAR001"][0])
    out = tmp_path / "final"
    cut = render_final_cut(plan, track, script, cast, TITLE, out / "ep.mp4", out / "ep.srt", out / "thumb.jpg", tmp_path / "seg",
                           backdrop_art=art.backdrops, portraits=art.portraits, intro_seconds=0.5, outro_seconds=0.5)  # fmt: skip
    first = track.lines[0]
    frame = np.asarray(grab(Path(cut.video_path), cut.intro_seconds + (first.start + first.end) / 2), dtype=int)

    def share(img: np.ndarray, rgb, tol: int = 45) -> float:
        return float((np.abs(img - np.array(rgb)).max(axis=2) < tol).mean())

    assert share(frame, PORTRAIT_RGB) > 0.05  # the served portrait stands in the frame
    assert share(frame[:300], BACKDROP_RGB) + share(frame[:300], (30, 220, 205)) > 0.2  # before the served place
    thumb = np.asarray(Image.open(cut.thumbnail_path).convert("RGB"), dtype=int)
    assert share(thumb, PORTRAIT_RGB) > 0.05
