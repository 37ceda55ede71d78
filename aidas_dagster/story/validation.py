"""Plain checks of the writers' room output; each returns the list of problems found."""

from __future__ import annotations

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible, StoryState

MIN_CHARACTERS = 10
LINES_PER_MINUTE = (8.0, 10.0)  # ~80-100 lines for a 10-minute episode


def expected_line_range(config: SeriesConfig) -> tuple[int, int]:
    low, high = LINES_PER_MINUTE
    minutes = float(config.episode_duration)
    return max(3, int(minutes * low)), max(6, int(round(minutes * high)) + 1)


def roster_problems(roster: Roster) -> list[str]:
    problems = []
    if len(roster.characters) < MIN_CHARACTERS:
        problems.append(f"only {len(roster.characters)} characters; at least {MIN_CHARACTERS} are needed")
    tiers = [c.importance for c in roster.characters]
    if tiers.count("main") < 2:
        problems.append("fewer than 2 leads (importance 'main')")
    if tiers.count("major_supporting") < 4:
        problems.append("fewer than 4 major supporting characters")
    voices: dict[tuple, str] = {}
    for c in roster.characters:
        key = (c.voice.provider, c.voice.voice_id, c.voice.pitch)
        if key in voices:
            problems.append(f"{c.id} {c.name} shares voice {key} with {voices[key]}")
        voices[key] = f"{c.id} {c.name}"
    ids = [c.id for c in roster.characters]
    if len(set(ids)) != len(ids):
        problems.append("duplicate character ids")
    return problems


def bible_problems(bible: SeriesBible) -> list[str]:
    problems = []
    want = list(range(1, bible.config.total_episodes + 1))
    have = sorted(o.episode_number for o in bible.outlines)
    if have != want:
        problems.append(f"outlines cover episodes {have[:3]}…{have[-3:]}, expected 1…{bible.config.total_episodes}")
    covered = sorted(e for part in bible.arc for e in part.episodes)
    if covered != want:
        problems.append("the four arc parts do not cover every episode exactly once")
    return problems


def script_problems(script: EpisodeScript, roster: Roster, config: SeriesConfig) -> list[str]:
    problems = []
    known = roster.by_id()
    for scene in script.scenes:
        for n, line in enumerate(scene.lines, 1):
            where = f"scene {scene.number} line {n}"
            if line.speaker not in known:
                problems.append(f"{where}: speaker {line.speaker!r} is not in the roster")
            elif line.speaker not in scene.characters:
                problems.append(f"{where}: {known[line.speaker].name} speaks but is not in the scene")
            if not line.text.strip():
                problems.append(f"{where}: empty text")
    low, high = expected_line_range(config)
    if not low <= script.line_count <= high:
        problems.append(f"{script.line_count} lines; a {config.episode_duration}-minute episode needs {low}-{high}")
    min_scenes = 5 if float(config.episode_duration) >= 5 else 1
    if len(script.scenes) < min_scenes:
        problems.append(f"{len(script.scenes)} scenes; at least {min_scenes} expected")
    if not script.cliffhanger.strip():
        problems.append("no cliffhanger")
    return problems


def check_next_episode(bible: SeriesBible, previous: StoryState, episode: int) -> None:
    """An episode is written within the series and from the state after the episode before it (ValueError)."""
    if not bible.config.has_episode(episode):
        raise ValueError(
            f"{bible.series_id} has {bible.config.total_episodes} episodes; episode {episode} is beyond its end"
        )
    if previous.after_episode != episode - 1:
        raise ValueError(
            f"episode {episode} of {bible.series_id} must be written from the state after episode {episode - 1}, "
            f"got the state after episode {previous.after_episode}"
        )
