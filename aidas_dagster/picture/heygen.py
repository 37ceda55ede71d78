"""Lip-synced avatar clips from HeyGen's v3 API, falling back to the local renderer clip by clip.

HeyGen retired its v1/v2 video endpoints on 2026-10-31, so this speaks v3 over plain HTTP
(HeyGen ships no Python client). One clip is made per line:

1. ``POST /v3/assets`` (multipart form, field ``file``) uploads the line's WAV (and, for a
   character without a HeyGen avatar, its portrait PNG); the reply is
   ``{"data": {"asset_id", "url", "mime_type", "size_bytes"}}``.
2. ``POST /v3/videos`` with an ``Idempotency-Key`` header creates the video. Body::

       {"type": "avatar", "avatar_id": "...",                      # a HeyGen avatar (look) id
        # or {"type": "image", "image": {"type": "asset_id", "asset_id": "..."}}  (a portrait)
        "audio_asset_id": "...", "title": "...", "resolution": "1080p", "aspect_ratio": "16:9",
        "background": {"type": "color", "value": "#1d2330"},
        "voice_settings": {"locale": "ko-KR"}}

   HeyGen replays the original reply for 24 hours to a request carrying the same key, and answers
   409 (``request_in_progress``) while the original is still running: so a create retried after a
   lost reply never starts (or pays for) a second job. The reply's ``data.video_id`` (or
   ``data.id``) names the job.
3. ``GET /v3/videos/{id}`` is polled until ``data.status`` is ``completed`` (``data.video_url``
   then holds a presigned URL that expires: the mp4 is downloaded at once, without the API key)
   or ``failed`` (``data.failure_code`` / ``data.failure_message`` say why). ``waiting``,
   ``pending`` and ``processing`` mean not yet.

Errors come as ``{"error": {"code", "message"}}``: 401 bad key (a clear failure that never shows
the key), 402 no credit (stop using HeyGen for the rest of the run; the caller renders locally),
429 (honour Retry-After; a 429 whose code names a quota is treated like 402), 5xx and timeouts
(retried through `core.paid_call`). The balance is ``GET /v2/user/remaining_quota`` →
``{"data": {"remaining_quota": n}}`` (v3 has no documented balance endpoint we could find).

Where HeyGen's documentation is silent we chose: ``video_id`` before ``id`` in the create reply,
the ``image`` asset input for portraits, and a plain colour background (``background_color``).

Crash safety: before creating, a small job record (``<key>.job.json``) is written beside the cache
entry holding the idempotency key; after creating, the job id. A run that crashed mid-way resumes
polling that job (or repeats the create with the same key, which HeyGen replays) instead of paying
for a new one. Finished clips are content-addressed (avatar + audio digest + settings), so a line
that did not change is never sent again. A job that failed (or that HeyGen no longer knows) is
made again by a later run under a new key, since the old key would replay the old reply.

Costs: each job is recorded in the ledger once, when HeyGen hands out its id (provider "heygen",
units = seconds of line audio, cost = whole seconds × the configured per-minute price); HeyGen
refunds failed renders but the ledger keeps the charge, erring towards the budget. Cache hits are
recorded at cost 0; refusals (402) and failed jobs are recorded at cost 0 with HeyGen's reason.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from aidas_dagster.core.ledger import Budget, BudgetExceeded, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import (
    Decision,
    OutOfCredit,
    ProviderError,
    RetryPolicy,
    call_with_retry,
    retry_after_seconds,
)
from aidas_dagster.core.storage import atomic_path, file_digest, fingerprint, write_json
from aidas_dagster.story.models import Character

log = logging.getLogger(__name__)

PROVIDER = "heygen"
DEFAULT_BASE_URL = "https://api.heygen.com"
# v3 bills per second; roughly 1-2 credits per avatar-minute. A credit's price depends on the plan,
# so the per-minute price is configuration; this default errs on the expensive side for budgets.
DEFAULT_PRICE_PER_MINUTE_USD = 1.0
# Generation takes minutes; past this a line falls back (its job record stays for the next run).
DEFAULT_MAX_WAIT_SECONDS = 30 * 60.0
# HeyGen runs about ten jobs at a time per account.
DEFAULT_MAX_CONCURRENT = 10
# HeyGen asks for about a minute after a 429; five tries span several minutes.
DEFAULT_POLICY = RetryPolicy(max_attempts=5, base_delay=2.0, max_delay=90.0)
PENDING_STATUSES = frozenset({"waiting", "pending", "processing"})
_QUOTA_CODE = re.compile(r"quota|credit", re.IGNORECASE)


class HeyGenAuthError(ProviderError):
    """HeyGen refused the API key (401/403): fix the key; retrying cannot help."""


class HeyGenJobFailed(ProviderError):
    """HeyGen finished a job with status `failed`; the message carries HeyGen's reason."""


class HeyGenTimeout(ProviderError):
    """A job was still rendering when the bounded wait ran out; its id is kept for the next run."""


class HeyGenHTTPError(RuntimeError):
    """One HeyGen reply with an error status (before retry classification)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None):
        super().__init__(
            f"HTTP {status}{f' {code}' if code else ''}: {message}" if message else f"HTTP {status} {code}"
        )
        self.status = status
        self.code = code
        self.retry_after = retry_after


def classify_heygen_error(exc: BaseException) -> Decision:
    """What a failed HeyGen request means for the retry loop."""
    if isinstance(exc, HeyGenHTTPError):
        if exc.status == 402 or (exc.status == 429 and _QUOTA_CODE.search(exc.code or "")):
            return Decision("failover")
        if exc.status == 429 or exc.status == 409 or exc.status >= 500:
            return Decision("retry", exc.retry_after)
        return Decision("fail")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return Decision("retry")
    return Decision("fail")


class HeyGenClient:
    """HeyGen's v3 video endpoints over `requests`; every call goes through `call_with_retry`."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        poll_interval: float = 5.0,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        download_timeout: float | tuple[float, float] = (10.0, 300.0),
    ):
        if not api_key:
            raise ValueError("HeyGenClient: api_key is empty (set HEYGEN_API_KEY)")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.download_timeout = download_timeout
        self.policy = policy
        self.sleep = sleep
        self.clock = clock

    def __repr__(self) -> str:  # never show the key
        return f"HeyGenClient(base_url={self.base_url!r})"

    # -- plumbing -------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _raise_for(self, resp: requests.Response) -> None:
        if resp.status_code < 400:
            return
        code, message = "", ""
        try:
            err = resp.json().get("error")
            if isinstance(err, dict):
                code, message = str(err.get("code") or ""), str(err.get("message") or "")
            elif err:
                message = str(err)
        except (ValueError, AttributeError):
            message = resp.text[:200]
        raise HeyGenHTTPError(
            resp.status_code, self._redact(code), self._redact(message), retry_after_seconds(resp.headers.get("Retry-After"))
        )

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return call_with_retry(
                fn,
                what=f"HeyGen {what}",
                classify=classify_heygen_error,
                policy=self.policy,
                sleep=self.sleep,
                on_retry=lambda attempt, exc, wait: log.warning(
                    "HeyGen %s: attempt %d failed (%s); retrying in %.1f s", what, attempt, exc, wait
                ),
            )
        except OutOfCredit:
            raise
        except ProviderError as exc:
            cause = exc.__cause__
            if isinstance(cause, HeyGenHTTPError) and cause.status in (401, 403):
                raise HeyGenAuthError(
                    f"HeyGen {what}: the API key was refused ({cause}); check HEYGEN_API_KEY"
                ) from None
            raise ProviderError(self._redact(str(exc))) from cause

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"X-Api-Key": self._api_key, "Accept": "application/json", **kwargs.pop("headers", {})}
        resp = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)
        self._raise_for(resp)
        try:
            body = resp.json()
        except ValueError as exc:
            raise ProviderError(f"HeyGen {method} {path}: reply is not JSON ({resp.text[:120]!r})") from exc
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ProviderError(f"HeyGen {method} {path}: reply has no 'data' object ({str(body)[:200]})")
        return data

    # -- endpoints ------------------------------------------------------------------------------

    def upload_asset(self, path: Path, content_type: str) -> str:
        """Upload a file (≤ 32 MB) with POST /v3/assets; returns its asset id."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: file to upload to HeyGen is missing")
        payload = path.read_bytes()

        def send() -> dict[str, Any]:
            return self._request("POST", "/v3/assets", files={"file": (path.name, payload, content_type)})

        data = self._call("POST /v3/assets", send)
        asset_id = data.get("asset_id") or data.get("id")
        if not asset_id:
            raise ProviderError(f"HeyGen POST /v3/assets: reply has no data.asset_id ({data})")
        return str(asset_id)

    def create_video(self, payload: dict[str, Any], idempotency_key: str) -> str:
        """Create a video job (POST /v3/videos); the same key never starts a second job."""

        def send() -> dict[str, Any]:
            return self._request("POST", "/v3/videos", json=payload, headers={"Idempotency-Key": idempotency_key})

        data = self._call("POST /v3/videos", send)
        video_id = data.get("video_id") or data.get("id")
        if not video_id:
            raise ProviderError(f"HeyGen POST /v3/videos: reply has no data.video_id ({data})")
        return str(video_id)

    def get_video(self, video_id: str) -> dict[str, Any]:
        """The job's status record (GET /v3/videos/{id}): status, video_url, failure_message, ..."""
        data = self._call("GET /v3/videos/{id}", lambda: self._request("GET", f"/v3/videos/{video_id}"))
        if "status" not in data:
            raise ProviderError(f"HeyGen GET /v3/videos/{video_id}: reply has no data.status ({data})")
        return data

    def wait_for_video(self, video_id: str, max_wait: float = DEFAULT_MAX_WAIT_SECONDS) -> dict[str, Any]:
        """Poll until the job completes (returns its record) or fails (HeyGenJobFailed).

        Raises HeyGenTimeout when `max_wait` seconds pass while the job is still pending.
        """
        started = self.clock()
        while True:
            data = self.get_video(video_id)
            status = str(data["status"]).lower()
            if status == "completed":
                if not data.get("video_url"):
                    raise ProviderError(f"HeyGen video {video_id}: completed but has no video_url")
                return data
            if status == "failed":
                reason = data.get("failure_message") or data.get("error") or "no reason given"
                code = data.get("failure_code")
                raise HeyGenJobFailed(f"HeyGen video {video_id} failed{f' ({code})' if code else ''}: {reason}")
            if status not in PENDING_STATUSES:
                raise ProviderError(f"HeyGen video {video_id}: unknown status {status!r}")
            if self.clock() - started >= max_wait:
                raise HeyGenTimeout(f"HeyGen video {video_id} still {status} after {max_wait:.0f} s")
            self.sleep(self.poll_interval)

    def download(self, url: str, target: Path) -> Path:
        """Fetch a result URL into `target` atomically. The presigned URL needs no key: none is sent."""
        target = Path(target)

        def fetch() -> Path:
            with self.session.get(url, stream=True, timeout=self.download_timeout) as resp:
                if resp.status_code >= 400:
                    raise HeyGenHTTPError(
                        resp.status_code,
                        "",
                        "download of the result failed",
                        retry_after_seconds(resp.headers.get("Retry-After")),
                    )
                with atomic_path(target) as tmp:
                    with tmp.open("wb") as fh:
                        for chunk in resp.iter_content(1 << 16):
                            fh.write(chunk)
                    head = tmp.read_bytes()[:12] if tmp.stat().st_size >= 12 else b""
                    if head[4:8] != b"ftyp":
                        raise ProviderError(f"HeyGen result at {url.split('?')[0]} is not an MP4 file")
            return target

        return self._call("result download", fetch)

    def remaining_quota(self) -> float:
        """Credits left on the account (GET /v2/user/remaining_quota)."""
        data = self._call("GET /v2/user/remaining_quota", lambda: self._request("GET", "/v2/user/remaining_quota"))
        try:
            return float(data["remaining_quota"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"HeyGen remaining_quota: reply has no numeric data.remaining_quota ({data})") from exc


def _refused_outright(exc: ProviderError) -> bool:
    """Did HeyGen refuse a create for good (no credit, bad request), so that no job exists?"""
    cause = exc.__cause__
    return (
        isinstance(cause, HeyGenHTTPError)
        and 400 <= cause.status < 500
        and cause.status not in (408, 409, 429)
        or (isinstance(exc, OutOfCredit))
    )


def wants_provider_clip(character: Character, include_supporting: bool = False) -> bool:
    """Does this character get a HeyGen clip? Leads always; major supporting only when asked (spec 4.3)."""
    if character.importance == "main" or character.avatar_strategy == "full_avatar":
        return True
    return include_supporting and (
        character.importance == "major_supporting" or character.avatar_strategy == "partial_avatar"
    )


def wav_seconds(path: Path) -> float:
    """Duration of a PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: line audio is missing (materialise audio_track first)") from exc
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path}: not a readable WAV file ({exc})") from exc


@dataclass(frozen=True)
class LineRequest:
    """One line to render, for `HeyGenAvatars.render_lines`."""

    character: Character
    line_wav: Path
    line_key: str
    series_id: str
    episode: int
    portrait: Path | None = None


class HeyGenAvatars:
    """Per-line HeyGen clips with caching, crash-safe resume, budgets and fallback.

    `render_line` returns the cached mp4 or None; None means "render this line locally" and the
    reason is in `outcomes[line_key]` and the log. After HeyGen says the account has no credit, or
    after `max_failures` lines failed in this run, HeyGen is not called again by this object.
    A refused API key (401/403) raises HeyGenAuthError: that is a configuration error to fix.
    """

    def __init__(
        self,
        client: HeyGenClient,
        cache_dir: Path,
        ledger: CostLedger | None = None,
        budget: Budget | None = None,
        avatar_ids: dict[str, str] | None = None,
        max_failures: int = 2,
        *,
        price_per_minute_usd: float = DEFAULT_PRICE_PER_MINUTE_USD,
        include_supporting: bool = False,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        locale: str = "ko-KR",
        resolution: str = "1080p",
        aspect_ratio: str = "16:9",
        background_color: str = "#1d2330",
    ):
        self.client = client
        self.cache_dir = Path(cache_dir)
        self.ledger = ledger
        self.budget = budget
        self.avatar_ids = dict(avatar_ids or {})
        self.max_failures = max_failures
        self.price_per_minute_usd = price_per_minute_usd
        self.include_supporting = include_supporting
        self.max_wait = max_wait
        self.settings = {
            "locale": locale,
            "resolution": resolution,
            "aspect_ratio": aspect_ratio,
            "background": {"type": "color", "value": background_color},
        }
        self.outcomes: dict[str, str] = {}
        self.disabled_reason: str | None = None
        self.failures = 0
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._portrait_assets: dict[str, str] = {}

    # -- public ---------------------------------------------------------------------------------

    def avatar_for(self, character: Character, series_id: str) -> str | None:
        """The HeyGen avatar id of a character: `"<series>:<CHARnnn>"` first, then `"CHARnnn"`."""
        return self.avatar_ids.get(f"{series_id}:{character.id}") or self.avatar_ids.get(character.id)

    def clip_path(self, content_key: str) -> Path:
        return self.cache_dir / f"{content_key}.mp4"

    def job_path(self, content_key: str) -> Path:
        return self.cache_dir / f"{content_key}.job.json"

    def content_key(self, avatar: dict[str, str], audio_digest: str) -> str:
        return fingerprint("heygen-v3", avatar, audio_digest, self.settings)

    def render_line(
        self,
        character: Character,
        line_wav: Path,
        line_key: str,
        series_id: str,
        episode: int,
        portrait: Path | None = None,
    ) -> Path | None:
        """The HeyGen clip of one line (from the cache or made now), or None to render it locally.

        `portrait` (a PNG of the character) is animated when no HeyGen avatar id is configured
        for the character; without either, the line is rendered locally.
        """
        if not wants_provider_clip(character, self.include_supporting):
            return self._fallback(line_key, f"{character.id} ({character.importance}) is not cast for HeyGen")
        line_wav = Path(line_wav)
        seconds = wav_seconds(line_wav)
        avatar_id = self.avatar_for(character, series_id)
        if avatar_id:
            avatar = {"avatar_id": avatar_id}
        elif portrait is not None and Path(portrait).is_file():
            avatar = {"portrait": file_digest(Path(portrait))}
        else:
            return self._fallback(line_key, f"{character.id} has no HeyGen avatar id and no portrait")
        key = self.content_key(avatar, file_digest(line_wav))
        clip = self.clip_path(key)
        with self._key_lock(key):
            if clip.exists():
                self._record(series_id, episode, seconds, 0.0, line_key, cache_hit=True, detail=f"cache {key}")
                return self._done(line_key, clip, "cache")
            with self._lock:
                disabled = self.disabled_reason
            if disabled:
                return self._fallback(line_key, disabled)
            try:
                line = LineRequest(character, line_wav, line_key, series_id, episode, portrait)
                return self._render(line, avatar, key, seconds)
            except HeyGenAuthError:
                with self._lock:
                    self.disabled_reason = "HeyGen refused the API key"
                raise
            except OutOfCredit as exc:
                with self._lock:
                    self.disabled_reason = f"HeyGen account is out of credit ({exc})"
                self._record(series_id, episode, 0.0, 0.0, line_key, operation="avatar_video_refused", detail=str(exc))
                return self._fallback(line_key, self.disabled_reason)
            except BudgetExceeded as exc:
                return self._fallback(line_key, f"budget: {exc}")
            except HeyGenTimeout as exc:
                return self._fallback(line_key, f"{exc}; the job is kept and resumed on the next run")
            except ProviderError as exc:
                self._count_failure()
                if isinstance(exc, HeyGenJobFailed):
                    self._record(
                        series_id, episode, 0.0, 0.0, line_key, operation="avatar_video_failed", detail=str(exc)
                    )
                return self._fallback(line_key, str(exc))

    def render_lines(
        self, lines: list[LineRequest], max_concurrent: int = DEFAULT_MAX_CONCURRENT
    ) -> dict[str, Path | None]:
        """Render many lines with at most `max_concurrent` HeyGen jobs at once; line_key -> clip or None."""
        if not lines:
            return {}
        with ThreadPoolExecutor(max_workers=max(1, min(max_concurrent, len(lines)))) as pool:
            futures = {
                r.line_key: pool.submit(
                    self.render_line, r.character, r.line_wav, r.line_key, r.series_id, r.episode, r.portrait
                )
                for r in lines
            }
            return {key: fut.result() for key, fut in futures.items()}

    # -- the paid path --------------------------------------------------------------------------

    def _render(self, line: LineRequest, avatar: dict[str, str], key: str, seconds: float) -> Path | None:
        character, line_wav, line_key = line.character, line.line_wav, line.line_key
        series_id, episode, portrait = line.series_id, line.episode, line.portrait
        job_file = self.job_path(key)
        job = self._load_job(job_file)
        if job.get("status") in ("failed", "refused"):
            # HeyGen replays a key's first reply for 24 h: a new attempt needs a new key.
            job = {"attempt": int(job.get("attempt", 1)) + 1}
        if not job.get("video_id"):
            estimate = estimate_cost_usd(seconds, self.price_per_minute_usd)
            held = None
            if self.budget is not None:
                mode = self.budget.mode(PROVIDER)
                if mode == "economy" and character.importance != "main":
                    return self._fallback(
                        line_key, f"budget economy mode: only leads get HeyGen clips ({character.id})"
                    )
                # Reserved before the job exists, so parallel runs cannot both pass the limit.
                held = self.budget.reserve(PROVIDER, estimate, what=f"{series_id} {episode} {line_key}")
            attempt = int(job.get("attempt", 1))
            job.update(
                attempt=attempt,
                idempotency_key=job.get("idempotency_key") or f"aidas-{key}-a{attempt}",
                status="creating",
                line_key=line_key,
                character=character.id,
                seconds=round(seconds, 3),
            )
            try:
                if not job.get("audio_asset_id"):
                    job["audio_asset_id"] = self.client.upload_asset(line_wav, "audio/wav")
                payload = self._payload(character, line_key, avatar, job, portrait)
                write_json(job_file, job)  # the key is on disk before HeyGen can start a job
                try:
                    job["video_id"] = self.client.create_video(payload, job["idempotency_key"])
                except ProviderError as exc:
                    if _refused_outright(exc):  # no job exists; the key must not be reused
                        job.update(status="refused", failure=str(exc))
                        write_json(job_file, job)
                    raise  # otherwise a job may exist: the key stays so the next run replays it
            except BaseException:
                if held is not None:
                    held.release()
                raise
            job["status"] = "created"
            write_json(job_file, job)
            self._record(series_id, episode, seconds, estimate, line_key, detail=f"video {job['video_id']} key {key}")
            if held is not None:
                held.settle(round(estimate, 6))
            log.info("HeyGen: %s created video %s (%.1f s of audio)", line_key, job["video_id"], seconds)
        else:
            log.info("HeyGen: %s resuming video %s from %s", line_key, job["video_id"], job_file)
        try:
            done = self.client.wait_for_video(job["video_id"], self.max_wait)
        except ProviderError as exc:
            gone = isinstance(exc.__cause__, HeyGenHTTPError) and exc.__cause__.status == 404
            if isinstance(exc, HeyGenJobFailed) or gone:  # this job will never deliver: next time, a new one
                job.update(status="failed", failure=str(exc))
                write_json(job_file, job)
            raise
        clip = self.clip_path(key)
        try:
            self.client.download(done["video_url"], clip)
        except ProviderError:
            # Result URLs expire; a fresh status read hands out a fresh one.
            self.client.download(self.client.get_video(job["video_id"])["video_url"], clip)
        job["status"] = "downloaded"
        write_json(job_file, job)
        return self._done(line_key, clip, f"heygen video {job['video_id']}")

    def _payload(
        self, character: Character, line_key: str, avatar: dict[str, str], job: dict[str, Any], portrait: Path | None
    ) -> dict[str, Any]:
        payload: dict[str, Any]
        if "avatar_id" in avatar:
            payload = {"type": "avatar", "avatar_id": avatar["avatar_id"]}
        else:
            asset = job.get("image_asset_id") or self._portrait_asset(Path(portrait), avatar["portrait"])  # type: ignore[arg-type]
            job["image_asset_id"] = asset
            payload = {"type": "image", "image": {"type": "asset_id", "asset_id": asset}}
        payload.update(
            title=f"AIDAS {line_key} {character.name}"[:200],
            audio_asset_id=job["audio_asset_id"],
            resolution=self.settings["resolution"],
            aspect_ratio=self.settings["aspect_ratio"],
            background=dict(self.settings["background"]),
            voice_settings={"locale": self.settings["locale"]},
        )
        return payload

    def _portrait_asset(self, portrait: Path, digest: str) -> str:
        with self._lock:
            known = self._portrait_assets.get(digest)
        if known:
            return known
        asset = self.client.upload_asset(portrait, "image/png")
        with self._lock:
            self._portrait_assets[digest] = asset
        return asset

    # -- bookkeeping ----------------------------------------------------------------------------

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    @staticmethod
    def _load_job(path: Path) -> dict[str, Any]:
        if not path.exists():
            return {}
        try:
            job = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{path}: HeyGen job record is unreadable ({exc}); delete it to start the line again"
            ) from exc
        if isinstance(job, dict):
            return job
        raise ValueError(f"{path}: HeyGen job record is not a JSON object; delete it to start the line again")

    def _count_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.max_failures and not self.disabled_reason:
                self.disabled_reason = f"HeyGen failed {self.failures} times in this run; the rest is rendered locally"

    def _record(
        self,
        series_id: str,
        episode: int,
        seconds: float,
        cost: float,
        line_key: str,
        *,
        cache_hit: bool = False,
        operation: str = "avatar_video",
        detail: str = "",
    ) -> None:
        if self.ledger is None:
            return
        self.ledger.record(
            LedgerEntry(
                provider=PROVIDER,
                operation=operation,
                units=round(seconds, 3),
                unit="seconds",
                cost_usd=round(cost, 6),
                cache_hit=cache_hit,
                series_id=series_id,
                episode=episode,
                detail=f"{line_key}: {detail}" if detail else line_key,
            )
        )

    def _done(self, line_key: str, clip: Path, how: str) -> Path:
        with self._lock:
            self.outcomes[line_key] = how
        return clip

    def _fallback(self, line_key: str, reason: str) -> None:
        log.warning("HeyGen: %s rendered locally: %s", line_key, reason)
        with self._lock:
            self.outcomes[line_key] = f"fallback: {reason}"


def estimate_cost_usd(seconds: float, price_per_minute_usd: float = DEFAULT_PRICE_PER_MINUTE_USD) -> float:
    """What `seconds` of avatar video costs (v3 bills per second)."""
    return math.ceil(seconds) / 60.0 * price_per_minute_usd if seconds > 0 else 0.0
