"""The writers' room quality gate: pre-production, phrasing, continuity, the quality score and its loop.

The sample series and the thriller config of assets_data/series are written by the offline engine
and must pass every check; deliberately broken copies of their scripts must fail the right one.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.core.config import load_series_config
from aidas_dagster.core.storage import DEFAULT_SERIES_DIR, Storage, read_json, write_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story import quality as q
from aidas_dagster.story.engine import OfflineStoryEngine
from aidas_dagster.story.genres import TEMPLATES, missing_elements
from aidas_dagster.story.korean import thread_keyword, to_banmal
from aidas_dagster.story.models import EpisodeScript, StoryState
from aidas_dagster.story.reviser import to_polite
from aidas_dagster.story.validation import script_problems
from aidas_dagster.voice.casting import cast_voices


class OfflineWriter(OfflineStoryEngine):
    """The offline engine with its revision step (the same call the engine class delegates to)."""

    def revise_script(self, bible, roster, previous, script, problems):
        return oe.revise_script(bible, roster, previous, script, problems)


def _series(series_id: str, episodes: int = 3):
    """Bible, roster, the states before each episode, and scripts 1..n written through the quality loop."""
    config = load_series_config(DEFAULT_SERIES_DIR / f"{series_id}.yaml")
    engine = OfflineWriter()
    bible = engine.write_bible(config)
    roster = engine.write_roster(config, bible, cast_voices)
    states = [engine.initial_state(bible, roster)]
    scripts: list[EpisodeScript] = []
    reports, passes = [], []
    for episode in range(1, episodes + 1):
        script, report, n = q.write_checked_script(
            engine, bible, roster, states[-1], episode, config, recent_scripts=scripts
        )
        scripts.append(script)
        reports.append(report)
        passes.append(n)
        states.append(script.state_after)
    return config, bible, roster, states, scripts, reports, passes


@pytest.fixture(scope="module", params=["first-love", "night-detective"])
def series(request):
    return _series(request.param)


@pytest.fixture(scope="module")
def first_love():
    return _series("first-love")


def _dialogue(script: EpisodeScript) -> str:
    return " ".join(line.text for _s, line in script.lines())


# ---------------------------------------------------------------------------------------------
# The acceptance: episodes 1-3 of both series pass every check
# ---------------------------------------------------------------------------------------------


def test_the_thriller_config_is_a_twelve_episode_ten_minute_thriller():
    config = load_series_config(DEFAULT_SERIES_DIR / "night-detective.yaml")
    assert (config.title, config.total_episodes, config.episode_duration) == ("밤의 탐정", 12, 10)
    bible = oe.write_bible(config)
    assert bible.genre_key == "thriller"
    assert missing_elements(TEMPLATES["thriller"], [b.beat for b in bible.genre_beats]) == []


def test_preproduction_passes_for_both_series(series):
    _config, bible, roster, *_ = series
    assert q.preproduction_problems(bible, roster) == []


@pytest.mark.parametrize("episode", [1, 2, 3])
def test_episodes_one_to_three_pass_every_check(series, episode):
    config, _bible, roster, states, scripts, reports, passes = series
    script, before = scripts[episode - 1], states[episode - 1]
    assert script_problems(script, roster, config) == []
    assert q.speaker_problems(script, roster) == []
    assert q.phrasing_problems(script, roster) == []
    assert q.continuity_problems(script, roster, before, scripts[: episode - 1], config) == []
    report = reports[episode - 1]
    assert report.score >= q.DEFAULT_THRESHOLD and not report.blocking, report.problems
    assert passes[episode - 1] == 1  # the offline engine's first draft already passes
    assert 80 <= script.line_count <= 100 and len(script.scenes) >= 5


def test_episode_three_carries_every_thread_episode_two_left_open(series):
    _config, _bible, _roster, _states, scripts, *_ = series
    ep2, ep3 = scripts[1], scripts[2]
    dialogue = _dialogue(ep3)
    assert ep2.state_after.open_threads
    for thread in ep2.state_after.open_threads:
        keyword = thread_keyword(thread)
        assert keyword in dialogue or thread in ep3.state_after.resolved_threads, keyword
        assert thread in ep3.state_after.open_threads or thread in ep3.state_after.resolved_threads
    # the thread episode 3 resolves is one episode 2 left open, and it is said on screen
    resolved_now = [t for t in ep3.state_after.resolved_threads if t not in ep2.state_after.resolved_threads]
    assert resolved_now and set(resolved_now) <= set(ep2.state_after.open_threads)
    assert all(thread_keyword(t) in dialogue for t in resolved_now)


def test_the_state_after_each_episode_is_complete(series):
    _config, _bible, roster, states, scripts, *_ = series
    ids = {c.id for c in roster.characters}
    for before, script in zip(states, scripts):
        after = script.state_after
        assert set(after.character_states) == ids
        assert all(s.emotional_state and s.location for s in after.character_states.values())
        assert set(after.relationships) == set(before.relationships)
        assert after.summaries[:-1] == before.summaries and after.summaries[-1] == script.summary
        assert set(script.key_events) <= set(after.key_events)
        assert script.new_conflict in after.open_threads
        assert set(before.resolved_threads) < set(after.resolved_threads)
        assert script.character_developments


# ---------------------------------------------------------------------------------------------
# Korean speech levels and unnatural phrasing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("수진 씨, 오늘 좀 피곤해 보여요. 어젯밤에 잘 잤어요?", "polite"),
        ("감사합니다. 내일 다시 연락드리겠습니다.", "polite"),
        ("민준아, 밥은 먹었어? 같이 가자.", "banmal"),
        ("솔직히 나도 잘 모르겠어. 다들 하는 말이 다르니까.", "banmal"),
        ("알았어요. 그런데 너는 뭐 했어?", "mixed"),
        ("왜 저한테는 한마디도 안 했어?", "mixed"),
        ("괜히 떨리네요, 이상하게.", "polite"),  # inverted sentence
        ("한 형사님, 믿었는데... 왜 숨겼어요?", "polite"),  # a clause trailing off has no ending
        ("아, 망했다.", "neutral"),  # self-talk
    ],
)
def test_speech_level_of_a_line(text, level):
    assert q.speech_level(text) == level


@pytest.mark.parametrize(
    "text",
    ["나는 이 회사의 대표입니다.", "당신은 정말 그 사람입니까?", "그것은 우리가 지켜야 하는 것입니다.", "그녀가 먼저 말했어요."],
)
def test_the_specs_unnatural_patterns_are_found(text):
    assert q.unnatural_phrases(text)


def test_a_broken_line_fails_the_phrasing_check(first_love):
    _config, _bible, roster, _states, scripts, *_ = first_love
    broken = scripts[1].model_copy(deep=True)
    broken.scenes[0].lines[2].text = "나는 당신의 친구입니다. 그것은 변하지 않는 것입니다."
    problems = q.phrasing_problems(broken, roster)
    assert len(problems) == 1 and "scene 1 line 3" in problems[0] and "번역투" in problems[0]


def test_mixing_speech_levels_with_the_same_person_fails(first_love):
    _config, _bible, roster, _states, scripts, *_ = first_love
    broken = scripts[2].model_copy(deep=True)
    pairs = q.pair_levels(broken)
    (speaker, listener), lines = next(
        (k, v) for k, v in pairs.items() if [lv for *_r, lv in v].count("banmal") >= 3
    )
    _scene, _i, line, _lv = lines[-1]
    line.text = "그래요. 저도 그렇게 생각해요."
    problems = q.phrasing_problems(broken, roster)
    assert any(f"({speaker}→{listener})" in p and "말투가 바뀜" in p for p in problems), problems


def test_a_pair_going_back_from_banmal_to_polite_between_episodes_fails(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    broken = scripts[2].model_copy(deep=True)
    friends = ("CHAR003", "CHAR001")  # 지호 talks 반말 to his best friend 민준
    said = [line for _s, line in broken.lines() if (line.speaker, line.listener) == friends]
    assert said and all(q.speech_level(line.text) != "polite" for line in said)
    for line in said:
        line.text = to_polite(line.text)
    assert q.phrasing_problems(broken, roster) == []  # consistent within the episode...
    problems = q.continuity_problems(broken, roster, states[2], scripts[:2], config)
    assert any("박지호 spoke 반말 to 강민준" in p and "sudden change" in p for p in problems), problems


def test_speaking_out_of_a_written_manner_fails(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    assert roster.character("CHAR012").speech_style == "깍듯한 존댓말"  # 김과장
    broken = next(s for s in scripts if "CHAR012" in q.speakers(s)).model_copy(deep=True)
    scene, i, line = next(
        (sc, i, ln) for sc in broken.scenes for i, ln in enumerate(sc.lines, 1) if ln.speaker == "CHAR012"
    )
    line.text = to_banmal(line.text)
    assert q.speech_level(line.text) == "banmal"
    problems = q.manner_problems(broken, roster)
    assert len(problems) == 1 and problems[0].startswith(f"scene {scene.number} line {i} (CHAR012")
    assert "김과장 speaks only 존댓말" in problems[0]


# ---------------------------------------------------------------------------------------------
# Continuity failures
# ---------------------------------------------------------------------------------------------


def _with_status(state: StoryState, cid: str, status: str) -> StoryState:
    states = dict(state.character_states)
    states[cid] = states[cid].model_copy(update={"status": status})
    return state.model_copy(update={"character_states": states})


def test_a_dead_character_speaking_fails(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    script = scripts[2]
    speaker = script.scenes[1].lines[0].speaker
    problems = q.continuity_problems(script, roster, _with_status(states[2], speaker, "dead"), scripts[:2], config)
    name = roster.character(speaker).name
    assert any(f"{name} ({speaker}) is dead but speaks" in p for p in problems)
    assert any("was dead and is 'active' again" in p for p in problems)


def test_an_absent_character_speaking_fails_unless_their_return_is_an_event(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    script = scripts[2]
    speaker = script.scenes[1].lines[0].speaker
    absent = _with_status(states[2], speaker, "absent")
    assert any("is absent but speaks" in p for p in q.continuity_problems(script, roster, absent, (), config))
    back = script.model_copy(deep=True)
    back.key_events.append(f"{roster.character(speaker).name}의 귀환")
    assert not any("absent" in p for p in q.continuity_problems(back, roster, absent, (), config))


def test_a_relationship_jump_fails(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    broken = scripts[1].model_copy(deep=True)
    pair = "CHAR001-CHAR002"
    before = states[1].relationships[pair]
    broken.state_after.relationships[pair] = before + 25
    broken.relationship_changes[pair] = 25
    problems = q.continuity_problems(broken, roster, states[1], scripts[:1], config)
    assert problems == [f"relationship {pair} jumps from {before} to {before + 25} in one episode "
                        f"(at most ±{q.MAX_RELATIONSHIP_STEP}: relationships move gradually)"]  # fmt: skip


def _drop_thread(script: EpisodeScript, before: StoryState) -> tuple[EpisodeScript, str]:
    """A copy of the script that forgets a thread it was carrying: never said, gone from the state."""
    broken = script.model_copy(deep=True)
    thread = next(t for t in before.open_threads if t in script.state_after.open_threads)
    keyword = thread_keyword(thread)
    for scene in broken.scenes:
        for line in scene.lines:
            line.text = line.text.replace(keyword, "그 일")
    broken.state_after.open_threads.remove(thread)
    return broken, thread


def test_a_dropped_thread_fails(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    broken, thread = _drop_thread(scripts[2], states[2])
    problems = q.continuity_problems(broken, roster, states[2], scripts[:2], config)
    assert f"open thread dropped without resolution: '{thread}'" in problems
    unsaid = f"open thread not mentioned in the episode: '{thread_keyword(thread)}'"
    assert any(p.startswith(unsaid) for p in problems)


def test_a_forgotten_character_fails_the_window(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    quiet = min(
        (c.id for c in roster.characters if c.importance != "main" and any(c.id in q.speakers(s) for s in scripts)),
        key=lambda cid: sum(line.speaker == cid for s in scripts for _sc, line in s.lines()),
    )
    silenced = []
    for script in scripts:  # the same three episodes with every line of theirs cut
        copy = script.model_copy(deep=True)
        for scene in copy.scenes:
            scene.lines = [ln for ln in scene.lines if quiet not in (ln.speaker, ln.listener)] or scene.lines[:0]
            scene.characters = [c for c in scene.characters if c != quiet]
        copy.scenes = [sc for sc in copy.scenes if sc.lines]
        silenced.append(copy)
    problems = q.continuity_problems(silenced[2], roster, states[2], silenced[:2], config)
    name = roster.character(quiet).name
    assert f"{name} ({quiet}) has not spoken in episodes 1-3: nobody is forgotten" in problems
    assert q.continuity_problems(scripts[2], roster, states[2], scripts[:2], config) == []


def test_an_incomplete_state_and_a_sudden_goal_change_fail(first_love):
    config, _bible, roster, states, scripts, *_ = first_love
    broken = scripts[1].model_copy(deep=True)
    del broken.state_after.character_states["CHAR005"]
    goals = broken.state_after.character_states["CHAR003"]
    broken.state_after.character_states["CHAR003"] = goals.model_copy(update={"active_goals": ["세계 정복"]})
    broken.state_after.summaries = broken.state_after.summaries[-1:]
    problems = "\n".join(q.continuity_problems(broken, roster, states[1], scripts[:1], config))
    assert "state_after has no state for 차성훈 (CHAR005)" in problems
    assert "박지호 (CHAR003) drops every goal at once" in problems
    assert "summaries must be the previous summaries plus this episode's" in problems


# ---------------------------------------------------------------------------------------------
# Pre-production failures
# ---------------------------------------------------------------------------------------------


def test_preproduction_lists_everything_missing(first_love):
    _config, bible, roster, *_ = first_love
    outlines = [o for o in bible.outlines if o.episode_number != 5]
    outlines[0] = outlines[0].model_copy(update={"cliffhanger_type": "", "arc_phase": "없는 단계"})
    beats = [b for b in bible.genre_beats if b.beat != "confession"]
    short_bible = bible.model_copy(update={"outlines": outlines, "genre_beats": beats, "logline": " "})
    cast = [c for c in roster.characters if c.id not in ("CHAR010", "CHAR011", "CHAR012")]
    cast[3] = cast[3].model_copy(update={"secrets": [], "voice": cast[2].voice})
    small_roster = roster.model_copy(update={"characters": cast})
    problems = "\n".join(q.preproduction_problems(short_bible, small_roster))
    for expected in (
        "outlines cover episodes",  # episode 5 has no outline
        "outline of episode 1 has no cliffhanger_type",
        "outline of episode 1 names arc phase '없는 단계'",
        "bible has no logline",
        "genre requirement 'confession'",
        "only 9 characters",
        "CHAR004 김하늘 lacks secrets",
        "shares voice",
        "relationship CHAR001-CHAR011 names someone not in the roster",
        "outlines focus on CHAR011, who is not in the roster",
    ):
        assert expected in problems, expected


# ---------------------------------------------------------------------------------------------
# The score and the improve-and-retry loop
# ---------------------------------------------------------------------------------------------


def _broken(first_love) -> tuple[EpisodeScript, StoryState]:
    """Episode 3 as a careless draft: translationese in every fourth line, a line mixing 반말 and
    존댓말, a dropped thread and a relationship jump."""
    _config, _bible, _roster, states, scripts, *_ = first_love
    broken, _thread = _drop_thread(scripts[2], states[2])
    for n, (_scene, line) in enumerate(broken.lines()):
        if n % 4 == 3:
            line.text = f"{line.text} 그것은 정말 중요한 것입니다."
    broken.scenes[1].lines[0].text = "나는 당신의 친구입니다. 그것은 변하지 않는 것입니다."
    line = broken.scenes[2].lines[1]
    line.text = line.text + (" 근데 너는 괜찮아요?" if q.speech_level(line.text) == "polite" else " 저는 괜찮아요.")
    pair = "CHAR001-CHAR002"
    broken.state_after.relationships[pair] = states[2].relationships[pair] + 30
    broken.relationship_changes[pair] = 30
    return broken, states[2]


def test_the_score_drops_with_each_kind_of_problem(first_love):
    config, _bible, roster, states, scripts, reports, _ = first_love
    broken, before = _broken(first_love)
    report = q.quality_score(broken, roster, before, config, scripts[:2])
    assert report.score < reports[2].score and report.score < q.DEFAULT_THRESHOLD
    assert report.categories["continuity"] < 1 and report.categories["dialogue_naturalness"] < 1
    assert report.categories["plot_coherence"] < 1
    assert report.blocking and not report.acceptable()
    assert set(report.categories) == {
        "dialogue_naturalness", "plot_coherence", "character_consistency", "pacing", "emotional_arc", "continuity"
    }  # fmt: skip


def test_the_offline_revision_fixes_what_the_gate_found(first_love):
    config, bible, roster, _states, scripts, *_ = first_love
    broken, before = _broken(first_love)
    report = q.quality_score(broken, roster, before, config, scripts[:2])
    fixed = oe.revise_script(bible, roster, before, broken, report.problems)
    again = q.quality_score(fixed, roster, before, config, scripts[:2])
    assert again.acceptable() and again.problems == [], again.problems
    assert fixed.scenes[1].lines[0].text != broken.scenes[1].lines[0].text
    assert not q.unnatural_phrases(fixed.scenes[1].lines[0].text)
    for thread in before.open_threads:
        assert q.thread_mentioned(thread, q.dialogue(fixed)) or thread in fixed.state_after.resolved_threads
    pair = "CHAR001-CHAR002"
    assert abs(fixed.state_after.relationships[pair] - before.relationships[pair]) <= q.MAX_RELATIONSHIP_STEP
    low, high = q.expected_line_range(config)
    assert low <= fixed.line_count <= high


def test_the_revision_silences_the_dead(first_love):
    config, bible, roster, states, scripts, *_ = first_love
    script = scripts[2]
    dead = next(line.speaker for _s, line in script.lines() if roster.character(line.speaker).importance != "main")
    before = _with_status(states[2], dead, "dead")
    fixed = oe.revise_script(bible, roster, before, script, [])
    assert all(dead not in scene.characters for scene in fixed.scenes)
    assert dead not in q.speakers(fixed)
    assert fixed.state_after.character_states[dead].status == "dead"
    assert q.continuity_problems(fixed, roster, before, scripts[:2], config) == []
    assert q.speaker_problems(fixed, roster) == []


class _Scripted(OfflineWriter):
    """Writes a broken draft; counts revisions; optionally cannot fix anything."""

    def __init__(self, draft: EpisodeScript, can_fix: bool):
        self.draft, self.can_fix, self.revisions = draft, can_fix, 0

    def write_script(self, bible, roster, previous, episode):
        return self.draft

    def revise_script(self, bible, roster, previous, script, problems):
        self.revisions += 1
        assert problems, "the revision is told what is wrong"
        return super().revise_script(bible, roster, previous, script, problems) if self.can_fix else script


def test_the_loop_revises_a_bad_draft_until_it_passes(first_love):
    config, bible, roster, _states, scripts, *_ = first_love
    broken, before = _broken(first_love)
    engine = _Scripted(broken, can_fix=True)
    script, report, passes = q.write_checked_script(
        engine, bible, roster, before, 3, config, recent_scripts=scripts[:2]
    )
    assert (passes, engine.revisions) == (2, 1)
    assert report.acceptable() and script != broken


def test_the_loop_stops_after_three_passes_and_keeps_the_best(first_love):
    config, bible, roster, _states, scripts, *_ = first_love
    broken, before = _broken(first_love)
    engine = _Scripted(broken, can_fix=False)
    script, report, passes = q.write_checked_script(
        engine, bible, roster, before, 3, config, recent_scripts=scripts[:2]
    )
    assert (passes, engine.revisions) == (3, 2)
    assert script == broken and not report.acceptable()
    with pytest.raises(ValueError, match="max_passes"):
        q.write_checked_script(engine, bible, roster, before, 3, config, max_passes=0)


def test_a_good_draft_is_not_revised(first_love):
    config, bible, roster, states, scripts, *_ = first_love
    engine = _Scripted(scripts[2], can_fix=True)
    _script, report, passes = q.write_checked_script(
        engine, bible, roster, states[2], 3, config, recent_scripts=scripts[:2]
    )
    assert (passes, engine.revisions) == (1, 0) and report.acceptable()


def test_to_polite_turns_common_banmal_endings_into_haeyo():
    assert to_polite("밥은 먹었어? 같이 가자.") == "밥은 먹었어요? 같이 가죠."
    assert to_polite("나는 괜찮아. 그게 맞지.") == "저는 괜찮아요. 그게 맞죠."
    assert to_polite("그건 아니야. 내 잘못이야.") == "그건 아니에요. 제 잘못이에요."
    assert q.speech_level(to_polite("응, 알았어. 내일 봐.")) == "polite"


# ---------------------------------------------------------------------------------------------
# The checks in Dagster
# ---------------------------------------------------------------------------------------------


STORY_CHECKS = {
    "bible_ready_for_production",
    "series_ready_for_production",
    "script_structure",
    "script_speakers_in_roster",
    "script_phrasing",
    "script_continuity",
    "script_quality_score",
}


def _story_run(defs: dg.Definitions, instance, names: set[str], partition_key: str, raise_on_error: bool = True):
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey(n) for n in names})
    return job.execute_in_process(partition_key=partition_key, instance=instance, raise_on_error=raise_on_error)


def test_dagster_checks_pass_for_the_thriller_and_block_a_broken_script(instance, studio):
    shutil.copy(DEFAULT_SERIES_DIR / "night-detective.yaml", Path(studio.series_dir) / "night-detective.yaml")
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    pre = _story_run(defs, instance, {"series_bible", "character_roster"}, "night-detective")
    evaluations = list(pre.get_asset_check_evaluations())
    for episode in (1, 2):
        result = _story_run(defs, instance, {"episode_script"}, EpisodePartition("night-detective", episode).key)
        evaluations += result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == STORY_CHECKS
    assert [(e.check_name, e.description) for e in evaluations if not e.passed] == []
    scores = [e.metadata["quality_score"].value for e in evaluations if e.check_name == "script_quality_score"]
    assert len(scores) == 2 and min(scores) >= q.DEFAULT_THRESHOLD

    # Episode 2's stored script edited so that a relationship leaps: the continuity check fails it.
    storage = Storage(studio.storage_root)
    path = storage.script_path("night-detective", 2)
    script = EpisodeScript.model_validate(read_json(path))
    before = EpisodeScript.model_validate(read_json(storage.script_path("night-detective", 1))).state_after
    pair = next(iter(before.relationships))
    script.state_after.relationships[pair] = min(100, before.relationships[pair] + 40)
    script.relationship_changes[pair] = script.state_after.relationships[pair] - before.relationships[pair]
    write_json(path, script)
    # the script's inputs are unchanged, so re-materialising reuses the edited file and checks it again
    result = _story_run(
        defs, instance, {"episode_script"}, EpisodePartition("night-detective", 2).key, raise_on_error=False
    )
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "script_continuity"]
    assert not evaluation.passed and re.search(rf"relationship {pair} jumps", evaluation.description)
