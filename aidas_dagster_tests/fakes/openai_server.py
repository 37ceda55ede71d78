"""A local server speaking OpenAI's chat-completions wire protocol, and reply fixtures.

The replies are the offline engine's bible, cast and scripts re-shaped into the drafts the LLM
engine asks for: what is under test is the real OpenAI client, the repair loop, the conversion
into the project's models and the accounting, not the prose.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aidas_dagster.story.models import Roster, SeriesBible

CHAT_PATH = "/v1/chat/completions"


def completion_body(
    content: str | None,
    *,
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 1200,
    completion_tokens: int = 800,
    refusal: str | None = None,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A chat.completion object as api.openai.com returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1764000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_test",
    }


def error_body(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class OpenAIServer:
    """Queues replies for POST /v1/chat/completions in order and records what was asked."""

    def __init__(self, httpserver: HTTPServer):
        self.httpserver = httpserver

    @property
    def base_url(self) -> str:
        return self.httpserver.url_for("/v1")

    def _expect(self):
        return self.httpserver.expect_ordered_request(CHAT_PATH, method="POST")

    def reply(self, content: Any, **usage: Any) -> None:
        """A successful completion whose message content is `content` (JSON-encoded unless a str)."""
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        self._expect().respond_with_json(completion_body(text, **usage))

    def reply_body(self, body: dict[str, Any]) -> None:
        self._expect().respond_with_json(body)

    def error(self, status: int, message: str, type_: str, code: str | None, headers: dict[str, str] | None = None):
        self._expect().respond_with_response(
            Response(
                json.dumps(error_body(message, type_, code)),
                status=status,
                headers=headers or {},
                content_type="application/json",
            )
        )

    def handler(self, fn) -> None:
        self._expect().respond_with_handler(fn)

    @property
    def requests(self) -> list[Request]:
        return [request for request, _response in self.httpserver.log]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.get_data(as_text=True)) for request in self.requests]


def bible_reply(bible: SeriesBible, roster: Roster) -> dict[str, Any]:
    """A stored bible in the BibleDraft shape (the cast plan taken from the roster)."""
    return {
        "logline": bible.logline,
        "themes": bible.themes,
        "tone": bible.tone,
        "arc": [{"name": part.name, "description": part.description} for part in bible.arc],
        "main_conflict": bible.main_conflict,
        "cast_plan": [
            {"id": c.id, "name": c.name, "role": c.role, "importance": c.importance} for c in roster.characters
        ],
        "subplots": [sp.model_dump() for sp in bible.subplots],
        "genre_beats": [{"beat": b.beat, "description": b.description} for b in bible.genre_beats],
        "outlines": [
            o.model_dump(include={
                "episode_number", "title", "main_event", "sub_events", "character_focus",
                "emotional_journey", "cliffhanger_type",
            })
            for o in bible.outlines
        ],
    }


def roster_reply(roster: Roster) -> dict[str, Any]:
    """A stored roster in the RosterDraft shape (no voices or looks: the engine casts those)."""
    return {
        "characters": [
            {
                "id": c.id,
                "name": c.name,
                "role": c.role,
                "importance": c.importance,
                "gender": c.gender,
                "age": c.age,
                "age_group": c.voice_profile.age_group,
                "occupation": c.occupation,
                "personality": c.personality,
                "background": c.background,
                "goals": c.goals,
                "secrets": c.secrets,
                "speech_style": c.speech_style,
                "voice_tone": c.voice_profile.tone,
                "speaking_style": c.voice_profile.speaking_style,
            }
            for c in roster.characters
        ],
        "relationships": [r.model_dump() for r in roster.relationships],
    }
