"""What the OpenAI story engine asks the model to fill: small typed "draft" models, and how they go
on the wire (a strict JSON schema, JSON mode, or the schema in the prompt for servers that take
neither). The drafts have no defaults and no free-form dicts, so one schema fits strict servers.

The engine (openai_engine.py) sends them; openai_drafts.py turns a filled draft into the
project's models and a script back into a draft.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aidas_dagster.core.lazy import lazy_import
from aidas_dagster.story.models import AgeGroup, Gender, Importance

openai = lazy_import("openai")  # the OpenAI SDK: loaded on a paid call's first use (see core/lazy.py)

MAX_INTIMACY_STEP = 10  # relationships move gradually (spec 4.1.4)


Emotion = Literal["neutral", "happy", "sad", "angry", "surprised", "shy", "worried", "excited", "calm", "tense"]
SpeakingStyle = Literal[
    "energetic", "casual", "confident", "shy", "thoughtful", "gentle", "calm", "formal", "calculating", "articulate",
    "assertive",
]
Status = Literal["active", "absent", "dead"]
CHAR_ID = r"^CHAR\d{3}$"



# =============================================================================================
# Drafts: what the model fills (no defaults, no free-form dicts: strict JSON schema friendly)
# =============================================================================================


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CastPlanDraft(_Draft):
    id: str = Field(pattern=CHAR_ID)
    name: str
    role: str
    importance: Importance


class ArcPartDraft(_Draft):
    name: str
    description: str


class SubplotDraft(_Draft):
    title: str
    characters: list[str]
    episodes: list[int]
    description: str


class BeatDraft(_Draft):
    beat: str
    description: str


class OutlineDraft(_Draft):
    episode_number: int
    title: str
    main_event: str
    sub_events: list[str]
    character_focus: list[str]
    emotional_journey: str
    cliffhanger_type: str


class BibleDraft(_Draft):
    logline: str
    themes: list[str] = Field(min_length=1)
    tone: str
    arc: list[ArcPartDraft] = Field(min_length=4, max_length=4)
    main_conflict: str
    cast_plan: list[CastPlanDraft]
    subplots: list[SubplotDraft] = Field(min_length=2, max_length=3)
    genre_beats: list[BeatDraft]
    outlines: list[OutlineDraft]


class CharacterDraft(_Draft):
    id: str = Field(pattern=CHAR_ID)
    name: str
    role: str
    importance: Importance
    gender: Gender
    age: int = Field(ge=5, le=100)
    age_group: AgeGroup
    occupation: str
    personality: list[str] = Field(min_length=1)
    background: str
    goals: list[str] = Field(min_length=1)
    secrets: list[str]
    speech_style: str
    voice_tone: str
    speaking_style: SpeakingStyle


class RelationshipDraft(_Draft):
    a: str
    b: str
    type: str
    intimacy: int = Field(ge=0, le=100)
    potential_arc: str


class RosterDraft(_Draft):
    characters: list[CharacterDraft]
    relationships: list[RelationshipDraft]


class LineDraft(_Draft):
    speaker: str
    text: str
    emotion: Emotion
    listener: str
    reaction: str


class SceneDraft(_Draft):
    location: str
    time_of_day: str
    atmosphere: str
    characters: list[str]
    lines: list[LineDraft] = Field(min_length=1)


class CharacterUpdateDraft(_Draft):
    id: str
    emotional_state: str
    location: str
    active_goals: list[str]
    status: Status
    development: str


class RelationshipChangeDraft(_Draft):
    a: str
    b: str
    delta: int = Field(ge=-MAX_INTIMACY_STEP, le=MAX_INTIMACY_STEP)


class ScriptDraft(_Draft):
    title: str
    summary: str
    scenes: list[SceneDraft] = Field(min_length=1)
    key_events: list[str]
    new_conflict: str
    partly_resolved: str
    resolved_threads: list[str]
    new_threads: list[str]
    cliffhanger: str
    character_updates: list[CharacterUpdateDraft]
    relationship_changes: list[RelationshipChangeDraft]


# Constraint keywords many OpenAI-compatible servers and models refuse in a wire schema; the
# draft models keep them, so ranges and lengths are enforced on validation (with repair turns).
UNSENT_KEYWORDS = (
    "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minItems", "maxItems", "multipleOf", "format", "title", "default",
)  # fmt: skip


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the strictest common subset of structured output: every object
    closed, every property required, and no numeric, length or pattern keywords."""
    schema = model.model_json_schema()

    def fix(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for keyword in UNSENT_KEYWORDS:
            node.pop(keyword, None)
        properties = node.get("properties")
        if isinstance(properties, dict):
            node["additionalProperties"] = False
            node["required"] = list(properties)
            for child in properties.values():
                fix(child)
        fix(node.get("items"))
        for key in ("anyOf", "allOf", "oneOf"):
            for child in node.get(key, []):
                fix(child)
        for child in node.get("$defs", {}).values():
            fix(child)

    fix(schema)
    return schema


# How a server is asked for JSON, strictest first: a strict json_schema response format; JSON mode
# with the schema in the prompt; the schema in the prompt alone (servers with no response_format).
ResponseMode = Literal["json_schema", "json_object", "prompt"]
RESPONSE_MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object", "prompt")
SERVER_MODES_FILE = "server_modes.json"


def refuses_response_format(exc: BaseException) -> bool:
    """Whether a server's 400/422 says it does not take the response format we sent."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    detail = json.dumps(body, ensure_ascii=False) + " " + str(exc.message)
    return bool(re.search(r"response_format|json_schema|json_object|structured output|strict", detail, re.IGNORECASE))


def schema_instruction(schema_name: str, schema: dict[str, Any]) -> dict[str, str]:
    """The system message that carries the schema when the server cannot enforce it."""
    return {
        "role": "system",
        "content": (
            f"Answer with exactly one JSON object (no prose, no code fence) named {schema_name} that follows "
            "this JSON schema; every property is required:\n" + json.dumps(schema, ensure_ascii=False)
        ),
    }
