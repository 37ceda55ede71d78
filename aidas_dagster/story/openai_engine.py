"""The LLM story engine: OpenAI, or any OpenAI-compatible server, writes bible, cast and scripts.

The model fills small typed "draft" models through chat completions with a strict JSON-schema
response format; the drafts are converted into the project's models, and fields a model should
not invent are filled by the same deterministic helpers the offline engine uses (genre template
placement of arc and beats, voice casting, avatar looks, the story-state bookkeeping).

Bad output (invalid JSON, schema violations, unknown character ids, a script the project's
validation rejects) gets a repair turn that lists every problem by field path, at most
`max_repairs` times; then a StoryOutputError names what was still wrong. Transport failures go
through the project's one retry mechanism (core.paid_call); every call is recorded in the cost
ledger, and a content cache answers repeated identical requests without paying again.

The draft models and their wire schema are in openai_schemas.py, the conversions between drafts
and the project's models in openai_drafts.py; this module is the client side: transport, error
verdicts, response-mode fallback, the repair loop and the engine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aidas_dagster.core.lazy import lazy_import
from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.ledger import Budget, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import Decision, OutOfCredit, ProviderError, RetryPolicy, call_with_retry
from aidas_dagster.core.paid_call import retry_after_seconds
from aidas_dagster.core.prices import OPENAI_PRICES_PER_MILLION, price_of
from aidas_dagster.core.storage import write_json
from aidas_dagster.story import library as story_library
from aidas_dagster.story import prompts
from aidas_dagster.story.genres import TEMPLATES, arc_episodes, place_beats, template_for
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible, StoryState, VoiceCaster
from aidas_dagster.story.openai_drafts import (
    DraftProblems,
    bible_from_draft,
    initial_state,
    roster_from_draft,
    script_from_draft,
    script_to_draft,
    validation_problems,
)
from aidas_dagster.story.openai_schemas import (
    RESPONSE_MODES,
    SERVER_MODES_FILE,
    BibleDraft,
    ResponseMode,
    RosterDraft,
    ScriptDraft,
    refuses_response_format,
    schema_instruction,
    strict_schema,
)
from aidas_dagster.story.premise import analyse_premise
from aidas_dagster.story.validation import MIN_CHARACTERS, check_next_episode, expected_line_range

openai = lazy_import("openai")  # the OpenAI SDK: loaded on a paid call's first use (see core/lazy.py)

log = logging.getLogger(__name__)

PROVIDER = "openai"
DEFAULT_MODEL = "gpt-4o-mini"

# Prices live on the common floor (the estimate reckons with the same ones); the names stay here.
PRICES_PER_MILLION = OPENAI_PRICES_PER_MILLION

SHOWN_PROBLEMS = 20


# =============================================================================================
# Errors
# =============================================================================================


class StoryOutputError(ProviderError):
    """The model's output stayed unusable after the allowed repair turns."""

    step_may_retry = True  # a new attempt asks the model again


class StoryRefusal(ProviderError):
    """The model refused to write what was asked."""


class _FormatRefused(Exception):
    """The server refused the response format; the caller asks again in the next mode."""


# =============================================================================================
# Transport: errors, retry verdicts, prices
# =============================================================================================


def _retry_after(response: Any) -> float | None:
    """Seconds from Retry-After-Ms / Retry-After (seconds or an HTTP date)."""
    headers = getattr(response, "headers", None) or {}
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    return retry_after_seconds(headers.get("retry-after"))


def _error_code(exc: openai.APIStatusError) -> str:
    return str(getattr(exc, "code", None) or getattr(exc, "type", None) or "")


def classify_openai_error(exc: BaseException) -> Decision:
    """Rate limits, 5xx, 408/409 and network failures are retried; out-of-quota fails over; the rest fail."""
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return Decision("retry")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            if _error_code(exc) == "insufficient_quota":
                return Decision("failover")
            return Decision("retry", _retry_after(exc.response))
        if status >= 500 or status in (408, 409):
            return Decision("retry", _retry_after(exc.response))
    return Decision("fail")


@dataclass(frozen=True)
class _Reply:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    model: str

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


T = TypeVar("T")


# =============================================================================================
# The engine
# =============================================================================================


class OpenAIStoryEngine:
    """Writes the series with an OpenAI chat model (or an OpenAI-compatible server at `base_url`)."""

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        ledger: CostLedger | None = None,
        budget: Budget | None = None,
        economy_model: str | None = None,
        max_repairs: int = 2,
        timeout: float = 120.0,
        *,
        cache_dir: Path | str | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key:
            raise ValueError("OpenAIStoryEngine needs an API key (local servers accept any non-empty key)")
        if max_repairs < 0:
            raise ValueError("max_repairs must be 0 or more")
        self.model = model
        self.economy_model = economy_model
        self.base_url = base_url
        self.ledger = ledger
        self.budget = budget
        self.max_repairs = max_repairs
        self.timeout = timeout
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.prices = {**PRICES_PER_MILLION, **(prices or {})}
        self.policy = policy
        self.sleep = sleep
        self._api_key = api_key
        self._mode: ResponseMode = self._remembered_mode()
        # One retry mechanism: the SDK's own retries are off, core.paid_call does them.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    # -- the StoryEngine protocol ----------------------------------------------------------

    def write_bible(self, config: SeriesConfig) -> SeriesBible:
        # The same premise analysis as the offline writer, as guidance in the prompt and on the bible.
        premise = analyse_premise(config)
        setting_key = premise.settings[0].value if premise.settings else ""
        setting = story_library.settings().get(setting_key)
        for note in premise.notes:
            log.info("%s: premise: %s", config.series_id, note)
        template = TEMPLATES[premise.genre.value] if premise.genre.value in TEMPLATES else template_for(config.genre)
        n = config.total_episodes
        arc_parts = [
            {"part": i + 1, "template_name": spec.name, "template_description": spec.description, "episodes": eps}
            for i, (spec, eps) in enumerate(zip(template.arc, arc_episodes(template, n)))
        ]
        beats = [{"beat": beat.name, "episode": e, "working_title": beat.title} for beat, e in place_beats(template, n)]
        messages = prompts.bible_messages(
            config, arc_parts, beats, template.label, list(template.character_roles), MIN_CHARACTERS,
            prompts.premise_guidance(premise, setting),
        )
        return self._exchange(
            "write_bible",
            messages,
            BibleDraft,
            lambda draft: bible_from_draft(config, draft, template.key).model_copy(
                update={"premise": premise, "setting": setting_key}
            ),
            series_id=config.series_id,
            episode=0,
            output_tokens=1500 + 250 * n,
        )

    def write_roster(self, config: SeriesConfig, bible: SeriesBible, cast_voices: VoiceCaster) -> Roster:
        messages = prompts.roster_messages(config, bible, MIN_CHARACTERS)
        return self._exchange(
            "write_roster",
            messages,
            RosterDraft,
            lambda draft: roster_from_draft(config, bible, draft, cast_voices),
            series_id=config.series_id,
            episode=0,
            output_tokens=6000,
        )

    def initial_state(self, bible: SeriesBible, roster: Roster) -> StoryState:
        return initial_state(bible, roster)

    def write_script(self, bible: SeriesBible, roster: Roster, previous: StoryState, episode: int) -> EpisodeScript:
        check_next_episode(bible, previous, episode)
        line_range, min_scenes = self._size(bible.config)
        messages = prompts.script_messages(bible, roster, previous, episode, line_range, min_scenes)
        return self._script_exchange("write_script", messages, bible, roster, previous, episode, line_range)

    def revise_script(
        self, bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript, problems: list[str]
    ) -> EpisodeScript:
        """Spec 7.2 improve-and-retry: the model rewrites the script to fix the listed problems."""
        episode = script.episode_number
        check_next_episode(bible, previous, episode)
        line_range, min_scenes = self._size(bible.config)
        current = script_to_draft(script, previous).model_dump()
        messages = prompts.revise_messages(bible, roster, previous, episode, current, problems, line_range, min_scenes)
        return self._script_exchange("revise_script", messages, bible, roster, previous, episode, line_range)

    def _script_exchange(
        self, operation: str, messages: list, bible: SeriesBible, roster: Roster, previous: StoryState,
        episode: int, line_range: tuple[int, int],
    ) -> EpisodeScript:  # fmt: skip
        """Ask for a whole script (written or revised) and convert the draft."""
        return self._exchange(
            operation,
            messages,
            ScriptDraft,
            lambda draft: script_from_draft(bible, roster, previous, episode, draft, self.name),
            series_id=bible.series_id,
            episode=episode,
            output_tokens=80 * line_range[1] + 1500,  # room for the longest allowed script
        )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _size(config: SeriesConfig) -> tuple[tuple[int, int], int]:
        return expected_line_range(config), 5 if float(config.episode_duration) >= 5 else 1

    def _pick_model(self) -> str:
        if self.budget is not None and self.economy_model and self.budget.mode(PROVIDER) == "economy":
            return self.economy_model
        return self.model

    def _exchange(
        self,
        operation: str,
        messages: list[dict[str, str]],
        draft_type: type[BaseModel],
        convert: Callable[[Any], T],
        *,
        series_id: str,
        episode: int,
        output_tokens: int,
    ) -> T:
        """Ask, check, and repair until the draft converts, or max_repairs turns are spent."""
        model = self._pick_model()
        schema_name = draft_type.__name__
        schema = strict_schema(draft_type)
        turns: list[tuple[str, _Reply]] = []  # cached only once the exchange succeeds
        problems: list[str] = []
        for turn in range(self.max_repairs + 1):
            reply = self._chat(
                operation, model, messages, schema_name, schema, series_id, episode, output_tokens, turns, turn
            )
            result, problems = self._read(reply, draft_type, convert)
            if not problems:
                for key, good in turns:
                    self._cache_put(key, good)
                return result  # type: ignore[return-value]
            log.warning(
                "OpenAI %s for %s ep %s: unusable reply (turn %d of %d): %s",
                operation, series_id, episode, turn + 1, self.max_repairs + 1, "; ".join(problems[:5]),
            )
            messages = messages + [
                {"role": "assistant", "content": reply.content or ""},
                prompts.repair_message(problems[:SHOWN_PROBLEMS]),
            ]
        where = f"{series_id} episode {episode}" if episode else series_id
        shown = "\n".join(f"  - {p}" for p in problems[:SHOWN_PROBLEMS])
        more = f"\n  … and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        raise StoryOutputError(
            f"OpenAI {operation} for {where} (model {model}): the reply was still unusable after "
            f"{self.max_repairs} repair turn(s); what was wrong:\n{shown}{more}"
        )

    @staticmethod
    def _read(reply: _Reply, draft_type: type[BaseModel], convert: Callable[[Any], T]) -> tuple[T | None, list[str]]:
        if not reply.content:
            return None, ["the reply had no content; answer with the JSON object"]
        if reply.finish_reason == "length":
            return None, ["the reply was cut off at the output token limit; write the complete JSON, more concisely"]
        text = reply.content.strip()
        fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)  # some servers fence JSON anyway
        if fenced:
            text = fenced.group(1)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [f"(top level): not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        try:
            draft = draft_type.model_validate(data)
        except ValidationError as exc:
            return None, validation_problems(exc)
        try:
            return convert(draft), []
        except DraftProblems as exc:
            return None, exc.problems
        except ValidationError as exc:  # a converted value broke a constraint of the project's model
            return None, validation_problems(exc)

    def _chat(
        self,
        operation: str,
        model: str,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        series_id: str,
        episode: int,
        output_tokens: int,
        turns: list[tuple[str, _Reply]],
        turn: int,
    ) -> _Reply:
        key = self._cache_key(model, messages, schema_name, schema)
        cached = self._cache_get(key)
        if cached is not None:
            self._record(operation, cached, series_id, episode, cache_hit=True, turn=turn)
            turns.append((key, cached))
            return cached
        held = None
        if self.budget is not None:
            prompt_tokens = sum(len(m["content"]) for m in messages) // 2  # Korean and JSON: ~2 chars a token
            # Reserved (not just checked) so parallel runs see this call in flight; released on failure.
            held = self.budget.reserve(
                PROVIDER, self._cost(model, prompt_tokens, output_tokens)[0], what=f"{series_id} {episode} {operation}"
            )
        try:
            completion = self._create(operation, model, messages, schema_name, schema)
        except BaseException:
            if held is not None:
                held.release()
            raise
        if not isinstance(getattr(completion, "choices", None), list) or not completion.choices:
            if held is not None:
                held.release()
            raise ProviderError(
                f"OpenAI {operation} with model {model}: the server at {self.base_url or 'api.openai.com'} "
                "answered without a chat completion (no choices in the reply)"
            )
        reply = self._reply_of(completion, model)
        self._record(operation, reply, series_id, episode, cache_hit=False, turn=turn)
        if held is not None:
            held.settle(round(self._cost(reply.model, reply.prompt_tokens, reply.completion_tokens)[0], 6))
        if reply.refusal:
            raise StoryRefusal(
                f"OpenAI {operation} for {series_id} (model {model}): the model refused: {reply.refusal}"
            )
        turns.append((key, reply))
        return reply

    def _create(
        self, operation: str, model: str, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Any:
        """One completion in the server's response mode; a server that refuses the mode is asked
        again in the next one, and the mode that worked is remembered for its base URL."""
        while True:
            try:
                return self._create_in_mode(self._mode, operation, model, messages, schema_name, schema)
            except _FormatRefused:
                following = RESPONSE_MODES[RESPONSE_MODES.index(self._mode) + 1]
                log.warning(
                    "OpenAI %s: the server at %s refuses response format %r; using %r from now on",
                    operation, self.base_url or "api.openai.com", self._mode, following,
                )
                self._mode = following
                self._remember_mode(following)

    def _create_in_mode(
        self,
        mode: ResponseMode,
        operation: str,
        model: str,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
    ) -> Any:
        attempts = 0
        extra: dict[str, Any] = {}
        sent = messages
        if mode == "json_schema":
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": True},
            }
        else:
            sent = [schema_instruction(schema_name, schema), *messages]
            if mode == "json_object":
                extra["response_format"] = {"type": "json_object"}

        def call() -> Any:
            nonlocal attempts
            attempts += 1
            return self._client.chat.completions.create(
                model=model,
                messages=sent,  # type: ignore[arg-type]
                **extra,
            )

        def on_retry(attempt: int, exc: BaseException, wait: float) -> None:
            log.warning("OpenAI %s: %s; retry %d in %.1fs", operation, self._short_reason(exc), attempt, wait)

        failure: ProviderError
        try:
            return call_with_retry(
                call, what=f"OpenAI {operation}", classify=classify_openai_error, policy=self.policy,
                sleep=self.sleep, on_retry=on_retry,
            )
        except ProviderError as exc:
            cause = exc.__cause__ or exc
            if mode != RESPONSE_MODES[-1] and refuses_response_format(cause):
                refused = True
            else:
                refused = False
                message = f"OpenAI {operation} with model {model}: {self._explain(cause, model, attempts)}"
                failure = OutOfCredit(message) if isinstance(exc, OutOfCredit) else ProviderError(message)
        if refused:
            raise _FormatRefused()
        # Raised outside the handler so neither the SDK error (its request carries the key) nor the
        # server's message (it may quote part of the key) travels with ours.
        raise failure

    def _modes_path(self) -> Path | None:
        return self.cache_dir / SERVER_MODES_FILE if self.cache_dir else None

    def _remembered_mode(self) -> ResponseMode:
        path = self._modes_path()
        if path is None or not path.exists():
            return RESPONSE_MODES[0]
        try:
            mode = json.loads(path.read_text(encoding="utf-8")).get(self.base_url or "api.openai.com")
        except (OSError, ValueError, AttributeError):
            return RESPONSE_MODES[0]  # a damaged file: detect again
        return mode if mode in RESPONSE_MODES else RESPONSE_MODES[0]

    def _remember_mode(self, mode: ResponseMode) -> None:
        path = self._modes_path()
        if path is None:
            return
        try:
            known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            known = {}
        if not isinstance(known, dict):
            known = {}
        known[self.base_url or "api.openai.com"] = mode
        write_json(path, known)

    def _short_reason(self, exc: BaseException) -> str:
        if isinstance(exc, openai.APITimeoutError):
            return f"timed out after {self.timeout:g}s"
        if isinstance(exc, openai.APIConnectionError):
            return "could not connect"
        if isinstance(exc, openai.APIStatusError):
            code = _error_code(exc)
            return f"HTTP {exc.status_code}{f' {code}' if code else ''}"
        return type(exc).__name__

    def _redact(self, text: str) -> str:
        text = text.replace(self._api_key, "[key]")
        return re.sub(r"sk-[\w\-*]+", "[key]", text)[:300]

    def _explain(self, exc: BaseException, model: str, attempts: int) -> str:
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        where = self.base_url or "api.openai.com"
        if isinstance(exc, openai.AuthenticationError):
            return (
                "the API key was rejected (HTTP 401). Check OPENAI_API_KEY (the key itself is not shown); "
                "nothing was retried."
            )
        if isinstance(exc, openai.RateLimitError) and _error_code(exc) == "insufficient_quota":
            return (
                "OpenAI account out of credit (HTTP 429 insufficient_quota): add credit or raise the project's "
                "quota in the OpenAI billing settings; not retried, since retrying cannot help."
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return f"access refused (HTTP 403): {self._redact(exc.message)}"
        if isinstance(exc, openai.NotFoundError):
            return f"model {model!r} or the endpoint was not found at {where} (HTTP 404): {self._redact(exc.message)}"
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {self.timeout:g}s{tried}"
        if isinstance(exc, openai.APIConnectionError):
            return f"could not reach {where}{tried}"
        if isinstance(exc, openai.APIStatusError):
            code = _error_code(exc)
            kind = "rate limited" if exc.status_code == 429 else "server error" if exc.status_code >= 500 else "refused"
            return f"{kind} (HTTP {exc.status_code}{f' {code}' if code else ''}){tried}: {self._redact(exc.message)}"
        return f"{type(exc).__name__}{tried}: {self._redact(str(exc))}"

    @staticmethod
    def _reply_of(completion: Any, model: str) -> _Reply:
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice else None
        usage = completion.usage
        return _Reply(
            content=message.content if message else None,
            refusal=getattr(message, "refusal", None) if message else None,
            finish_reason=choice.finish_reason if choice else None,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            model=completion.model or model,
        )

    # -- cost and cache -------------------------------------------------------------------

    def _cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> tuple[float, bool]:
        (per_in, per_out), known = price_of(model, self.prices)
        return (prompt_tokens * per_in + completion_tokens * per_out) / 1_000_000, known

    def _record(
        self, operation: str, reply: _Reply, series_id: str, episode: int, *, cache_hit: bool, turn: int
    ) -> None:
        if self.ledger is None:
            return
        repair = f" repair {turn}" if turn else ""
        if cache_hit:
            detail = f"cache hit{repair}: {reply.model}, {reply.total_tokens} tokens not paid again"
            entry = LedgerEntry(
                provider=PROVIDER, operation=operation, units=0, unit="tokens", cost_usd=0.0, cache_hit=True,
                series_id=series_id, episode=episode, detail=detail,
            )
        else:
            cost, known = self._cost(reply.model, reply.prompt_tokens, reply.completion_tokens)
            detail = f"{reply.model}{repair}: {reply.prompt_tokens} in + {reply.completion_tokens} out"
            if not known:
                detail += " (price unknown; estimated at a high rate)"
            if reply.total_tokens == 0:
                detail += " (server reported no usage)"
            entry = LedgerEntry(
                provider=PROVIDER, operation=operation, units=reply.total_tokens, unit="tokens",
                cost_usd=round(cost, 6), cache_hit=False, series_id=series_id, episode=episode, detail=detail,
            )
        self.ledger.record(entry)

    def _cache_key(self, model: str, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]) -> str:
        blob = json.dumps(
            {"model": model, "messages": messages, "schema_name": schema_name, "schema": schema},
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return self.cache_dir / key[:2] / f"{key}.json" if self.cache_dir else None

    def _cache_get(self, key: str) -> _Reply | None:
        path = self._cache_path(key)
        if path is None or not path.exists():
            return None
        try:
            return _Reply(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return None  # a damaged entry is ignored and overwritten on success

    def _cache_put(self, key: str, reply: _Reply) -> None:
        path = self._cache_path(key)
        if path is not None:
            write_json(path, asdict(reply))
