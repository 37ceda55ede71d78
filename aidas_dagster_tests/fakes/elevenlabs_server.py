"""ElevenLabs `POST /v1/text-to-speech/{voice_id}/with-timestamps`: base64 PCM with a character
alignment, and its error bodies (429 `system_busy`, 401 `quota_exceeded`) scripted per text."""

from __future__ import annotations

import base64
import json
from collections import Counter

from werkzeug import Request, Response

from aidas_dagster_tests.fakes.speech_audio import SECONDS_PER_CHAR, tone, voice_freq


class ElevenLabsServer:
    """`POST /v1/text-to-speech/{voice_id}/with-timestamps`, with scripted failures per text."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}  # text -> [(status, detail, headers)]
        self.fail_everything: tuple[int, dict] | None = None

    def texts(self) -> Counter:
        return Counter(r["text"] for r in self.requests)

    def handle(self, request: Request) -> Response:
        body = request.get_json()
        voice_id = request.path.split("/")[3]
        self.requests.append({**body, "voice_id": voice_id, "query": dict(request.args), "key": request.headers.get("xi-api-key")})
        planned = self.failures.get(body["text"])
        if planned:
            status, detail, headers = planned.pop(0)
            return Response(json.dumps({"detail": detail}), status=status, headers=headers, content_type="application/json")
        if self.fail_everything:
            status, detail = self.fail_everything
            return Response(json.dumps({"detail": detail}), status=status, content_type="application/json")
        rate = int(request.args["output_format"].split("_")[1])
        chars = list(body["text"])
        pcm = tone(len(chars) * SECONDS_PER_CHAR + 0.1, voice_freq(voice_id), rate)
        starts = [round(i * SECONDS_PER_CHAR, 3) for i in range(len(chars))]
        alignment = {
            "characters": chars,
            "character_start_times_seconds": starts,
            "character_end_times_seconds": [round(s + SECONDS_PER_CHAR, 3) for s in starts],
        }
        reply = {"audio_base64": base64.b64encode(pcm).decode(), "alignment": alignment, "normalized_alignment": alignment}
        return Response(json.dumps(reply), content_type="application/json")
