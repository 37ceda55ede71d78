"""The offline cast: the roster of the story world (voices, looks, relationships), how its people
address each other, and the story state before episode 1."""

from __future__ import annotations

import random
from typing import Any

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.korean import casual_reference, casual_vocative, fill, speech_only
from aidas_dagster.story.models import (
    Appearance,
    Character,
    CharacterState,
    Relationship,
    Roster,
    SeriesBible,
    StoryState,
    VoiceCaster,
    VoiceProfile,
)
from aidas_dagster.story.composer import world_of  # the series' composed world (story/composer.py)
from aidas_dagster.story.world import CastSpec, StoryWorld, cast_ids, given_names, thread_text


def pair_key(a: str, b: str) -> str:
    """The key of a pair in StoryState.relationships: both ids, sorted, joined by '-'."""
    return "-".join(sorted((a, b)))


class People:
    """How the characters of a roster call and refer to each other, where they live, what they do.

    World details apply only to roster characters whose id and name still match the world's cast,
    so an edited roster falls back to sensible defaults instead of mixing people up.
    """

    def __init__(self, world: StoryWorld, roster: Roster, intimacy: dict[str, int]):
        self.world = world
        self.chars = roster.by_id()
        self.ids = [c.id for c in roster.characters]
        ids = cast_ids(world)
        self.spec: dict[str, CastSpec] = {}
        for spec in world.cast:
            cid = ids[spec.key]
            if cid in self.chars and self.chars[cid].name == spec.name:
                self.spec[cid] = spec
        self.key_id = {spec.key: cid for cid, spec in self.spec.items()}
        self.addr = {
            (self.key_id[a.speaker], self.key_id[a.listener]): a
            for a in world.addresses
            if a.speaker in self.key_id and a.listener in self.key_id
        }
        self.intimacy = intimacy
        mains = [c.id for c in roster.characters if c.importance == "main"]
        self.leads = (mains + [c.id for c in roster.characters if c.id not in mains])[:2]

    def given(self, cid: str) -> str:
        if cid in self.spec:
            return self.spec[cid].given
        name = self.chars[cid].name
        return name[1:] if len(name) == 3 else name

    def home(self, cid: str) -> tuple[str, str]:
        if cid in self.spec:
            return self.spec[cid].home, self.spec[cid].home_short
        return f"{self.given(cid)}의 집", "집"

    def work(self, cid: str) -> str:
        return self.spec[cid].work if cid in self.spec else "일"

    def family(self, cid: str) -> str:
        return self.spec[cid].family if cid in self.spec else ""

    def tics(self, cid: str) -> tuple[str, ...]:
        return self.spec[cid].tics if cid in self.spec else ()

    def detective(self, cid: str) -> bool:
        return self.spec[cid].detective if cid in self.spec else False

    def id_of(self, key: str) -> str | None:
        return self.key_id.get(key)

    def ids_of(self, keys: tuple[str, ...]) -> list[str]:
        return [self.key_id[k] for k in keys if k in self.key_id]

    def close(self, a: str, b: str) -> int:
        return self.intimacy.get(pair_key(a, b), 0)

    def is_parent(self, a: str, b: str) -> bool:
        """a is of b's parents' generation in the same family."""
        fam = self.family(a)
        return bool(fam) and fam == self.family(b) and self.chars[a].age - self.chars[b].age >= 18

    def address(self, s: str, l: str) -> tuple[str, str, bool]:
        """(vocative, reference, speaks 반말) for speaker `s` talking to `l`."""
        spec = self.addr.get((s, l))
        if spec is not None:
            if self.close(s, l) >= spec.close_at:
                return spec.close_vocative, spec.close_reference, spec.close_banmal
            return spec.vocative, spec.reference, spec.banmal
        speaker, listener = self.chars[s], self.chars[l]
        fam = self.family(s)
        if fam and fam == self.family(l):
            older = listener.age - speaker.age
            if older >= 40:
                term = "할아버지" if listener.gender == "male" else "할머니"
            elif older >= 18:
                term = "아빠" if listener.gender == "male" else "엄마"
            elif older >= 1:
                if listener.gender == "male":
                    term = "형" if speaker.gender == "male" else "오빠"
                else:
                    term = "누나" if speaker.gender == "male" else "언니"
            else:
                return casual_vocative(self.given(l)), casual_reference(self.given(l)), True
            return term, term, True
        only = speech_only(speaker.speech_style)  # a written manner ("무뚝뚝한 반말") wins over the defaults
        if (only == "banmal" and speaker.age > listener.age) or (
            only != "polite" and speaker.age - listener.age >= 20 and listener.age <= 25
        ) or (only == "polite" and listener.age < 20 and speaker.age - listener.age >= 20):
            return casual_vocative(self.given(l)), casual_reference(self.given(l)), True
        title = self.spec[l].title if l in self.spec else ""
        if title:
            return title, title, False
        polite = f"{self.given(l)} 씨"
        return polite, polite, False

    def refer(self, s: str, t: str) -> str:
        return self.address(s, t)[1]


_SKINS = ("#F6D7C3", "#EFC9AF", "#E8BD9F", "#F2D0B8", "#DDB08F", "#F9E0CF")
_HAIR = {
    "young": ("#1C1A1D", "#2B211E", "#3A2A22", "#4B3427", "#5E4232", "#6E4F3A"),
    "middle": ("#1F1D1E", "#2F2A28", "#4A4542", "#5A5350"),
    "senior": ("#8C8C8C", "#A9A9A9", "#C7C7C7", "#6F6A66"),
}
_OUTFITS = (
    "#2F3E5C",
    "#7A3E48",
    "#3E6B5A",
    "#C9A46B",
    "#5B4B8A",
    "#D9D4C7",
    "#8C5A3C",
    "#3B3B3B",
    "#A7C4D9",
    "#E3B5A4",
)
_EYES = ("#2B1D14", "#3B2A1E", "#4A3526", "#1E1612")
_OUTFIT_BY_JOB = (
    (
        ("CEO", "변호사", "투자", "임원", "과장", "팀장", "회장", "상무", "이사", "컨설턴트", "의사", "형사", "공무원"),
        "suit",
    ),
    (("카페", "바리스타", "치킨", "국밥", "국숫", "요리", "반찬", "미용실"), "apron"),
    (("대학생", "대학원생", "고등학생", "수험생", "해커", "아르바이트", "라이더", "배달"), "hoodie"),
    (("디자이너", "큐레이터", "유튜버", "배우"), "dress"),
    (("주부", "건물주", "창업주", "이장", "경비원"), "cardigan"),
)


def appearance_for(series_id: str, cid: str, c: CastSpec) -> Appearance:
    """The avatar's look, seeded by the character id so it never drifts."""
    rng = random.Random(f"{series_id}:{cid}:appearance")
    age_band = "senior" if c.age >= 56 else "middle" if c.age >= 40 else "young"
    if c.gender == "male":
        # The drawn "curly" style is a voluminous bob that reads as a woman's cut on a man.
        styles = ["short", "side_part"] + (["bald"] if c.age >= 55 else [])
    else:
        styles = ["long", "bob", "ponytail", "curly"]
    outfit_style = next((style for words, style in _OUTFIT_BY_JOB if any(w in c.occupation for w in words)), "casual")
    if outfit_style == "dress" and c.gender == "male":
        outfit_style = "casual"
    if outfit_style == "suit" and c.gender == "male":
        accessories = ["tie", "glasses", "tie"]
    elif c.gender == "female":
        accessories = ["earrings", "glasses", "none"]
    elif outfit_style == "hoodie":
        accessories = ["cap", "none", "glasses"]
    else:
        accessories = ["none", "glasses"] + (["beard"] if c.age >= 40 else [])
    return Appearance(
        skin=rng.choice(_SKINS),
        hair=rng.choice(_HAIR[age_band]),
        hair_style=rng.choice(styles),
        outfit=rng.choice(_OUTFITS),
        outfit_style=outfit_style,
        eye=rng.choice(_EYES),
        accessory=rng.choice(accessories),
    )


AVATAR_STRATEGY = {
    "main": "full_avatar",
    "major_supporting": "partial_avatar",
    "supporting": "voice_only",
    "minor": "voice_only",
}


def characters_with_voices(
    series_id: str, people: list[tuple[str, Any, VoiceProfile]], cast_voices: VoiceCaster
) -> list[Character]:
    """The roster's characters from (id, the person as written, voice profile), in the given order.

    The person is a world's CastSpec or an LLM's CharacterDraft (the same fields). All voices are
    cast at once by the voice stage's `cast_voices`; the look is seeded by series and id from age,
    gender and occupation, so both engines give a person the same look.
    """
    voices = cast_voices([(cid, profile, person.importance) for cid, person, profile in people])
    return [
        Character(
            id=cid,
            name=person.name,
            role=person.role,
            importance=person.importance,
            gender=person.gender,
            age=person.age,
            occupation=person.occupation,
            personality=list(person.personality),
            background=person.background,
            goals=list(person.goals),
            secrets=list(person.secrets),
            speech_style=person.speech_style,
            voice_profile=profile,
            appearance=appearance_for(series_id, cid, person),
            avatar_strategy=AVATAR_STRATEGY[person.importance],
            voice=voices[cid],
        )
        for cid, person, profile in people
    ]


def write_roster(config: SeriesConfig, bible: SeriesBible, cast_voices: VoiceCaster) -> Roster:
    """The cast of the bible's story world, with voices (cast by the voice stage's `cast_voices`),
    looks and the relationship matrix."""
    _template, world = world_of(bible)
    ids = cast_ids(world)
    profiles = {
        ids[c.key]: VoiceProfile(gender=c.gender, age_group=c.age_group, tone=c.tone, speaking_style=c.speaking_style)
        for c in world.cast
    }
    people = [(ids[c.key], c, profiles[ids[c.key]]) for c in world.cast]
    characters = characters_with_voices(config.series_id, people, cast_voices)
    return Roster(series_id=config.series_id, characters=characters, relationships=_relationships(world))


def _relationships(world: StoryWorld) -> list[Relationship]:
    """The world's relations, plus every lead with everyone and every family pair not written out."""
    ids = cast_ids(world)
    rels: list[Relationship] = []
    seen: set[str] = set()
    for r in world.relations:
        rels.append(Relationship(a=ids[r.a], b=ids[r.b], type=r.type, intimacy=r.intimacy, potential_arc=r.arc))
        seen.add(pair_key(ids[r.a], ids[r.b]))
    leads = [c for c in world.cast if c.importance == "main"]
    for a in world.cast:
        for b in world.cast:
            if ids[a.key] >= ids[b.key] or pair_key(ids[a.key], ids[b.key]) in seen:
                continue
            family = a.family and a.family == b.family
            if not family and a not in leads and b not in leads:
                continue
            kind, level = ("가족", 70) if family else ("지인", 20)
            arc = fill("{a|과/와} {b}의 거리가 사건을 겪으며 조금씩 달라진다", {"a": a.given, "b": b.given})
            rels.append(Relationship(a=ids[a.key], b=ids[b.key], type=kind, intimacy=level, potential_arc=arc))
            seen.add(pair_key(ids[a.key], ids[b.key]))
    return rels


def initial_state(bible: SeriesBible, roster: Roster) -> StoryState:
    """Where the story stands before episode 1: the main conflict and two seeded threads are open."""
    _template, world = world_of(bible)
    people = People(world, roster, {})
    names = given_names(world)
    return StoryState(
        after_episode=0,
        character_states={
            c.id: CharacterState(emotional_state="평온", location=people.home(c.id)[0], active_goals=list(c.goals[:3]))
            for c in roster.characters
        },
        relationships={pair_key(r.a, r.b): r.intimacy for r in roster.relationships},
        key_events=[],
        open_threads=[bible.main_conflict] + [thread_text(c, names) for c in world.conflicts[:2]],
        resolved_threads=[],
        summaries=[],
    )
