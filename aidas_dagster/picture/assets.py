"""Picture stage assets: a visual clip for every line, and the edited final cut."""


import base64
import io
import time
from pathlib import Path

import dagster as dg
from PIL import Image

from aidas_dagster.core.stamps import reuse_or_make
from aidas_dagster.core.storage import fingerprint, write_json
from aidas_dagster.partitions import episode_partitions
from aidas_dagster.picture.avatars import contact_sheet, draw_roster_sprites
from aidas_dagster.picture.backdrops import BACKDROP_VERSION, location_kind
from aidas_dagster.picture.clips import PLAN_VERSION, plan_clips
from aidas_dagster.picture.heygen import LineRequest, wants_provider_clip
from aidas_dagster.picture.image_art import LockedArt, load_locked_art, manifest_path, series_style
from aidas_dagster.picture.models import ClipPlan, FinalCut, load_plan
from aidas_dagster.picture.render import RENDER_VERSION, render_final_cut
from aidas_dagster.picture.soundtrack import Loudness
from aidas_dagster.resources import StudioResource
from aidas_dagster.steps import remade_when_upstream_changes, step_retry
from aidas_dagster.picture.resources import AvatarStudio
from aidas_dagster.story.models import load_bible, load_roster, load_script
from aidas_dagster.voice.assets import audio_track
from aidas_dagster.voice.models import load_track

# Rendering fails for transient reasons (a killed ffmpeg, a full disk freed later, a provider hiccup).
PICTURE_RETRY = step_retry(delay_seconds=5)


def image_preview_md(path: Path, width: int = 320) -> dg.MetadataValue:
    """A small inline picture for the asset's page in the UI."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((width, width))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=70)
    return dg.MetadataValue.md(f"![preview](data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()})")


def locked_art(studio: StudioResource, series_id: str) -> LockedArt:
    """The generated art a series already has (none when it never had an image key)."""
    art_dir = studio.storage.series(series_id).art
    return load_locked_art(art_dir) if manifest_path(art_dir).exists() else LockedArt()


def _scene_art(context, studio: StudioResource, avatar_studio: AvatarStudio, config, part, script, roster) -> LockedArt:
    """The series' locked art, with what is missing made first when an image key is set."""
    artist = avatar_studio.scene_artist(studio.storage.cache_dir("images"), studio.ledger, studio.budget)
    if artist is None:
        return locked_art(studio, part.series_id)
    bible = load_bible(studio.storage, part.series_id)
    # Every place of the bible once per series; a bible without located places gives its scenes' places.
    places = [(loc.name, loc.kind) for loc in bible.locations] or list(
        dict.fromkeys((sc.location, location_kind(sc.location)) for sc in script.scenes)
    )
    art = artist.ensure(
        studio.storage.series(part.series_id).art, roster, places, series_style(config.title, config.genre),
        series_id=part.series_id, episode=part.episode,
    )  # fmt: skip
    context.log.info(
        f"{part.series_id} ep {part.episode}: scene art: {len(art.portraits)} looks, {len(art.backdrops)} places "
        f"({art.made} images made, {art.cached} from the cache)"
    )
    for warning in art.warnings:
        context.log.warning(f"{part.series_id} ep {part.episode}: scene art: {warning}")
    return art


def _with_provider_clips(context, plan: ClipPlan, roster, track, sprites, provider, avatar_studio: AvatarStudio, part):
    """The plan with HeyGen clips for the lines of characters who get them; the rest stay drawn."""
    cast = roster.by_id()
    requests = [
        LineRequest(
            cast[line.speaker], Path(line.wav_path), f"{part.series_id}:{part.episode}:{line.index}",
            part.series_id, part.episode, portrait=Path(sprites[line.speaker][0]) if line.speaker in sprites else None,
        )  # fmt: skip
        for line in track.lines
        if line.speaker in cast and wants_provider_clip(cast[line.speaker], avatar_studio.heygen_include_supporting)
    ]
    made = provider.render_lines(requests, max_concurrent=avatar_studio.heygen_max_concurrent)
    by_line = {int(key.rsplit(":", 1)[1]): str(path) for key, path in made.items() if path is not None}
    fallbacks = len(requests) - len(by_line)
    context.log.info(
        f"{part.series_id} ep {part.episode}: {len(by_line)} of {len(requests)} lead lines as HeyGen clips"
        + (f"; {fallbacks} rendered locally" if fallbacks else "")
        + (f" ({provider.disabled_reason})" if provider.disabled_reason else "")
    )
    return plan.with_external_clips(by_line), fallbacks


@dg.asset(
    partitions_def=episode_partitions,
    deps=[audio_track],
    group_name="picture",
    kinds={"python", "png"},
    pool="avatar",
    retry_policy=PICTURE_RETRY,
    automation_condition=remade_when_upstream_changes(),
    description="One visual clip per line by the speaker's avatar strategy, with mouth motion from the line audio.",
)
def avatar_clips(context: dg.AssetExecutionContext, studio: StudioResource, avatar_studio: AvatarStudio) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio.storage, part.series_id, part.episode)
    roster = load_roster(studio.storage, part.series_id)
    track = load_track(studio.storage, part.series_id, part.episode)
    sprites = draw_roster_sprites(roster, storage.avatars_dir(part.series_id))
    art = _scene_art(context, studio, avatar_studio, config, part, script, roster)
    sprites.update(art.sprites)  # generated looks replace the drawn ones where the series has them
    files = storage.episode(part.series_id, part.episode)
    manifest = files.clips
    provider = avatar_studio.avatar_provider(storage.cache_dir("heygen"), studio.ledger, studio.budget)
    inputs = fingerprint(
        PLAN_VERSION, track.fingerprint, script, roster, {k: [p.name for p in v] for k, v in sprites.items()},
        avatar_studio.fps, provider is not None,
    )  # fmt: skip
    plan, reused = reuse_or_make(
        manifest, inputs,
        load=lambda: files.load(manifest, ClipPlan),
        make=lambda: plan_clips(script, roster, track, sprites, fps=avatar_studio.fps),
        write=lambda made: write_json(manifest, made),
    )  # fmt: skip
    if reused:
        context.log.info(f"{part.series_id} ep {part.episode}: clip plan unchanged; reusing {manifest}")
    else:
        context.log.info(f"{part.series_id} ep {part.episode}: planned {len(plan.clips)} line clips")
    heygen_fallbacks = 0
    if provider is not None:
        # Asked on every run: cached clips come back at once, lines that fell back get another try,
        # and jobs still rendering at HeyGen are resumed rather than created again.
        plan, heygen_fallbacks = _with_provider_clips(context, plan, roster, track, sprites, provider, avatar_studio, part)
        write_json(manifest, plan)
    speakers = sorted({c.speaker for c in plan.clips})
    sheet = contact_sheet([sprites[s][0] for s in speakers if s in sprites], files.cast_sheet)
    by_kind: dict[str, int] = {}
    for clip in plan.clips:
        by_kind[clip.kind] = by_kind.get(clip.kind, 0) + 1
    return dg.MaterializeResult(
        metadata={
            "clips": len(plan.clips),
            **{f"clips_{kind}": n for kind, n in sorted(by_kind.items())},
            "reaction_cutaways": sum(1 for clip in plan.clips if clip.cutaway is not None),
            "external_clips": sum(1 for clip in plan.clips if clip.external_clip),
            "renderer": "heygen + local" if provider is not None else "local",
            "generated_looks": len(art.portraits),
            "generated_places": len(art.backdrops),
            "images_made": art.made,
            "heygen_fallbacks": heygen_fallbacks,
            "path": dg.MetadataValue.path(str(manifest)),
            "cast": image_preview_md(sheet, 480),
        },
        data_version=dg.DataVersion(plan.fingerprint),
    )


@dg.asset(
    partitions_def=episode_partitions,
    deps=[avatar_clips],
    group_name="picture",
    kinds={"python", "mp4"},
    pool="render",
    retry_policy=PICTURE_RETRY,
    automation_condition=remade_when_upstream_changes(),
    description="The edited 1080p30 H.264/AAC episode with intro, subtitles, transitions, music and outro; SRT; thumbnail.",
)
def final_cut(context: dg.AssetExecutionContext, studio: StudioResource, avatar_studio: AvatarStudio) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio.storage, part.series_id, part.episode)
    roster = load_roster(studio.storage, part.series_id)
    track = load_track(studio.storage, part.series_id, part.episode)
    plan = load_plan(studio.storage, part.series_id, part.episode)
    # The bible names each place's kind; an older bible without located places leaves it to the
    # keyword rule on the scene's location name.
    kinds = {loc.name: loc.kind for loc in load_bible(studio.storage, part.series_id).locations}
    art = locked_art(studio, part.series_id)  # generated places and thumbnail portraits, if any
    files = storage.episode(part.series_id, part.episode)
    manifest, video = files.final, files.video
    inputs = fingerprint(
        RENDER_VERSION, BACKDROP_VERSION, plan.fingerprint, track.fingerprint, script, config.title, avatar_studio.preset,
        avatar_studio.crf, kinds, {k: p.name for k, p in art.backdrops.items()}, {k: p.name for k, p in art.portraits.items()},
        avatar_studio.loudness_lufs, avatar_studio.true_peak_db,
    )  # fmt: skip
    started = time.monotonic()
    cut, reused = reuse_or_make(
        manifest, inputs,
        load=lambda: files.load(manifest, FinalCut),
        make=lambda: render_final_cut(
            plan, track, script, roster, config.title, video, files.subtitles, files.thumbnail,
            storage.cache_dir("segments"),
            preset=avatar_studio.preset,
            crf=avatar_studio.crf,
            cache_budget_bytes=int(avatar_studio.segment_cache_gb * 2**30),
            location_kinds=kinds,
            backdrop_art=art.backdrops,
            portraits=art.portraits,
            loudness=Loudness(avatar_studio.loudness_lufs, avatar_studio.true_peak_db),
            progress=context.log.info,
        ),
        write=lambda made: write_json(manifest, made),
        also_required=(video,),
    )  # fmt: skip
    if reused:
        context.log.info(f"{part.series_id} ep {part.episode}: final cut unchanged; reusing {video}")
    else:
        elapsed = time.monotonic() - started
        context.log.info(
            f"{part.series_id} ep {part.episode}: rendered {cut.duration:.1f} s of video in {elapsed:.1f} s "
            f"({cut.duration / max(elapsed, 1e-6):.2f}x real time), {cut.segments_encoded}/{len(cut.segments)} segments encoded"
        )
    return dg.MaterializeResult(
        metadata={
            "duration_seconds": round(cut.duration, 2),
            "resolution": f"{cut.width}x{cut.height}@{cut.fps}",
            "render_seconds": round(cut.render_seconds, 1),
            "segments": len(cut.segments),
            "segments_encoded": cut.segments_encoded,
            "audio_pieces_encoded": cut.audio_pieces_encoded,
            **({"loudness_lufs": cut.loudness_lufs} if cut.loudness_lufs is not None else {}),
            "size_mb": round(Path(cut.video_path).stat().st_size / 1e6, 1),
            "video": dg.MetadataValue.path(cut.video_path),
            "subtitles": dg.MetadataValue.path(cut.srt_path),
            "thumbnail": image_preview_md(Path(cut.thumbnail_path)),
        },
        data_version=dg.DataVersion(fingerprint(inputs, cut.video_path)),
    )

