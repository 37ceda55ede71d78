"""OpenAI-compatible servers that refuse parts of structured output still write the series."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.paid_call import RetryPolicy
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story.openai_drafts import script_to_draft
from aidas_dagster.story.openai_engine import OpenAIStoryEngine
from aidas_dagster.story.openai_schemas import UNSENT_KEYWORDS, CharacterDraft, ScriptDraft, strict_schema
from aidas_dagster_tests.fakes.openai_server import OpenAIServer, completion_body, error_body
from aidas_dagster.voice.casting import cast_voices


class Series:
    """An offline-written series whose first script serves as the model's reply."""

    def __init__(self) -> None:
        config = SeriesConfig(
            series_id="compat-love", title="짧은 첫사랑", genre="로맨틱 코미디", total_episodes=3,
            episode_duration=0.3, main_theme="첫사랑의 설렘과 성장", target_audience="20-30대 여성",
        )  # fmt: skip
        self.bible = oe.write_bible(config)
        self.roster = oe.write_roster(config, self.bible, cast_voices)
        self.start = oe.initial_state(self.bible, self.roster)
        self.ep1 = oe.write_script(self.bible, self.roster, self.start, 1)

    def script_reply(self, script, previous) -> dict:
        return script_to_draft(script, previous).model_dump()


@pytest.fixture(scope="module")
def offline() -> Series:
    return Series()


@pytest.fixture
def server(httpserver) -> OpenAIServer:
    return OpenAIServer(httpserver)


def make_engine(server: OpenAIServer, **kw) -> OpenAIStoryEngine:
    return OpenAIStoryEngine(
        "sk-test-compat", base_url=server.base_url, policy=RetryPolicy(max_attempts=2, base_delay=0.01),
        sleep=lambda _s: None, **kw,
    )  # fmt: skip


def _keywords(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in UNSENT_KEYWORDS and not isinstance(value, dict):
                found.add(key)
            if key != "properties":
                _keywords(value, found)
            else:
                for child in value.values():
                    _keywords(child, found)
    elif isinstance(node, list):
        for child in node:
            _keywords(child, found)
    return found


def test_wire_schemas_hold_no_numeric_length_or_pattern_keywords():
    for draft in (ScriptDraft, CharacterDraft):
        schema = strict_schema(draft)
        assert _keywords(schema, set()) == set()
        assert schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])
    # the drafts themselves still carry the constraints that validation enforces
    assert "pattern" in json.dumps(CharacterDraft.model_json_schema())


def _refusing(kinds: set[str], reply_body: dict, seen: list[dict]):
    """A handler refusing the response formats in `kinds` as compatible servers do (HTTP 400)."""

    def handle(request: Request) -> Response:
        body = json.loads(request.get_data(as_text=True))
        seen.append(body)
        kind = (body.get("response_format") or {}).get("type", "none")
        if kind in kinds:
            error = error_body(f"response_format type '{kind}' is not supported by this server", "invalid_request_error", None)
            return Response(json.dumps(error), status=400, content_type="application/json")
        if _keywords(body.get("response_format", {}), set()):
            error = error_body("unsupported keyword in json_schema", "invalid_request_error", None)
            return Response(json.dumps(error), status=400, content_type="application/json")
        return Response(json.dumps(reply_body), status=200, content_type="application/json")

    return handle


def test_a_server_refusing_json_schema_is_asked_in_json_mode_once_and_remembered(server, offline, tmp_path):
    reply = completion_body(json.dumps(offline.script_reply(offline.ep1, offline.start), ensure_ascii=False))
    seen: list[dict] = []
    server.httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        _refusing({"json_schema"}, reply, seen)
    )
    engine = make_engine(server, cache_dir=tmp_path / "cache")

    script = engine.write_script(offline.bible, offline.roster, offline.start, 1)

    assert script.cliffhanger == offline.ep1.cliffhanger
    assert [b.get("response_format", {}).get("type") for b in seen] == ["json_schema", "json_object"]
    instruction = seen[1]["messages"][0]
    assert instruction["role"] == "system"
    assert "ScriptDraft" in instruction["content"] and '"scenes"' in instruction["content"]
    # a new engine for the same server starts in JSON mode: no second refused request
    seen.clear()
    again = make_engine(server, cache_dir=tmp_path / "cache")
    again.revise_script(offline.bible, offline.roster, offline.start, offline.ep1, ["대사 하나를 고쳐 주세요"])
    assert [b.get("response_format", {}).get("type") for b in seen] == ["json_object"]


def test_a_server_with_no_response_format_gets_the_schema_in_the_prompt(server, offline):
    reply = completion_body(json.dumps(offline.script_reply(offline.ep1, offline.start), ensure_ascii=False))
    seen: list[dict] = []
    server.httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
        _refusing({"json_schema", "json_object"}, reply, seen)
    )
    engine = make_engine(server)

    script = engine.write_script(offline.bible, offline.roster, offline.start, 1)

    assert script.title == offline.ep1.title
    assert [b.get("response_format", {}).get("type", "none") for b in seen] == ["json_schema", "json_object", "none"]
    assert "JSON schema" in seen[-1]["messages"][0]["content"]


def test_ranges_left_out_of_the_wire_schema_are_enforced_by_a_repair_turn(server, offline):
    bad = offline.script_reply(offline.ep1, offline.start)
    pairs = bad["relationship_changes"]
    assert pairs, "the fixture episode changes at least one relationship"
    pairs[0]["delta"] = 60  # far beyond the gradual step the draft allows
    server.reply(bad)
    server.reply(offline.script_reply(offline.ep1, offline.start))
    engine = make_engine(server)

    engine.write_script(offline.bible, offline.roster, offline.start, 1)

    repair = server.bodies()[1]["messages"][-1]["content"]
    assert "relationship_changes.0.delta" in repair


def test_other_bad_requests_are_not_mistaken_for_a_refused_format(server, offline):
    server.error(400, "This model's maximum context length is 8192 tokens", "invalid_request_error", "context_length_exceeded")
    engine = make_engine(server)
    try:
        engine.write_script(offline.bible, offline.roster, offline.start, 1)
    except Exception as exc:  # noqa: BLE001
        assert "context" in str(exc)
    else:
        raise AssertionError("a context-length error must fail the call")
    assert len(server.requests) == 1


def test_the_bible_prompt_carries_the_premise_analysis_and_the_bible_records_it(server, tmp_path):
    from aidas_dagster_tests.fakes.openai_server import bible_reply

    config = SeriesConfig(
        series_id="court-spring", title="법정의 봄", genre="법정 드라마", total_episodes=3, episode_duration=0.3,
        main_theme="첫 재판을 앞둔 신참 변호사들의 성장", target_audience="20-40대",
    )  # fmt: skip
    bible = oe.write_bible(config)
    roster = oe.write_roster(config, bible, cast_voices)
    server.reply(bible_reply(bible, roster))
    engine = make_engine(server)

    written = engine.write_bible(config)

    prompt = next(m["content"] for m in server.bodies()[0]["messages"] if m["role"] == "user")
    data = json.loads(prompt.split("```json\n", 1)[1].rsplit("\n```", 1)[0])
    guidance = data["premise_analysis"]
    assert guidance["setting"] == "law" and guidance["genre"] == "legal"
    assert any("변호사" in role for role in guidance["protagonist_roles"])
    assert "법정" in " ".join(guidance["typical_places"])
    assert written.setting == "law" and written.premise is not None and written.genre_key == "legal"
