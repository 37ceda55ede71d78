"""Google Text-to-Speech `POST /v1beta1/text:synthesize` (camelCase JSON): a LINEAR16 WAV with SSML
mark timepoints, and its error bodies scripted per text."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from collections import Counter

from werkzeug import Request, Response

from aidas_dagster_tests.fakes.speech_audio import SECONDS_PER_CHAR, tone, voice_freq


class GoogleTTSServer:
    """`POST /v1beta1/text:synthesize` (camelCase JSON), with scripted failures per text."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: dict[str, list[tuple[int, str]]] = {}  # text -> [(status, message)]

    @staticmethod
    def text_of(body: dict) -> str:
        return " ".join(re.sub(r"<[^>]+>", "", body["input"]["ssml"]).split())

    def texts(self) -> Counter:
        return Counter(self.text_of(r) for r in self.requests)

    def handle(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append({**body, "auth": request.headers.get("Authorization", "")})
        planned = self.failures.get(self.text_of(body))
        if planned:
            status, message = planned.pop(0)
            error = {"error": {"code": status, "message": message, "status": "UNAVAILABLE"}}
            return Response(json.dumps(error), status=status, content_type="application/json")
        rate = body["audioConfig"].get("sampleRateHertz", 24000)
        marks = re.findall(r'<mark name="([^"]+)"/>', body["input"]["ssml"])
        text = self.text_of(body)
        seconds = len(text) * SECONDS_PER_CHAR / float(body["audioConfig"].get("speakingRate", 1.0)) + 0.1
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(tone(seconds, voice_freq(body["voice"]["name"]), rate))
        words = text.split()
        points, at = [], 0.0
        for mark, word in zip(marks, words):
            points.append({"markName": mark, "timeSeconds": round(at, 3)})
            at += (len(word) + 1) * SECONDS_PER_CHAR
        reply = {"audioContent": base64.b64encode(buf.getvalue()).decode(), "timepoints": points,
                 "audioConfig": body["audioConfig"]}  # fmt: skip
        return Response(json.dumps(reply), content_type="application/json")
