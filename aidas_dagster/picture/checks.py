"""Asset checks of the picture stage: the cut is a proper 1080p30 H.264/AAC file of the right length,
its subtitles have glyphs, and every scene's place is drawn as a kind of place."""


import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition
from aidas_dagster.picture.assets import final_cut
from aidas_dagster.picture.models import load_final
from aidas_dagster.picture.fonts import subtitle_font_path
from aidas_dagster.picture.validation import cut_problems, generic_places, missing_subtitle_glyphs, subtitle_text
from aidas_dagster.resources import StudioResource
from aidas_dagster.picture.backdrops import resolve_kind
from aidas_dagster.story.models import load_bible, load_script
from aidas_dagster.voice.models import load_track


@dg.asset_check(asset=final_cut, partitions_def=episode_partitions)
def video_format_and_length(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    cut = load_final(studio.storage, part.series_id, part.episode)
    track = load_track(studio.storage, part.series_id, part.episode)
    problems, probed = cut_problems(cut, track)
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) if problems else "MP4, 1920x1080 30 fps H.264 + AAC, length matches the dialogue track and cards",
        metadata={key: value for key, value in probed.items() if value is not None},
    )


@dg.asset_check(asset=final_cut, partitions_def=episode_partitions)
def subtitle_glyphs_exist(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    script = load_script(studio.storage, part.series_id, part.episode)
    font = subtitle_font_path()
    text = subtitle_text(script)
    missing = missing_subtitle_glyphs(script, font)
    return dg.AssetCheckResult(
        passed=not missing,
        description=f"{len(missing)} characters missing from {font.name}: {''.join(missing[:40])}" if missing else "no tofu",
        metadata={"font": str(font), "distinct_characters": len(set(text))},
    )


@dg.asset_check(asset=final_cut, partitions_def=episode_partitions)
def places_drawn_as_their_kind(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """A scene whose place neither the bible's kinds nor the keyword rule know is drawn as the
    generic fallback: watchable, but not that place (a warning, the cut stands)."""
    part = parse_episode_partition(context.partition_key)
    script = load_script(studio.storage, part.series_id, part.episode)
    kinds = {loc.name: loc.kind for loc in load_bible(studio.storage, part.series_id).locations}
    drawn = {sc.location: resolve_kind(sc.location, kinds) for sc in script.scenes}
    generic = generic_places(script, kinds)
    return dg.AssetCheckResult(
        passed=not generic,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"drawn as the generic fallback: {', '.join(generic)}" if generic else "every place drawn as its kind",
        metadata={"places": dg.MetadataValue.json(drawn)},
    )


picture_checks = [video_format_and_length, subtitle_glyphs_exist, places_drawn_as_their_kind]
