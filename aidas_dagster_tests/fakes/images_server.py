"""A local server speaking the OpenAI Images API (`POST /v1/images/generations`) for the tests.

It answers with real PNGs drawn with Pillow at the asked size: portraits are a figure on a
transparent background in the portrait colour (mouth open when the prompt says so), backdrops a
striped scene in the backdrop colour, so a test can find the served picture in a rendered frame.
`fail` scripts the next replies (HTTP errors, refusals, out of credit, bad bodies) in order.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PORTRAIT_RGB = (236, 28, 196)  # a magenta nobody draws
BACKDROP_RGB = (18, 200, 190)
IMAGES_KEY = "sk-image-test-key-5521"  # the key the picture tests give the image client


def portrait_png(size: tuple[int, int], mouth_open: bool, transparent: bool = True) -> bytes:
    w, h = size
    img = Image.new("RGBA", size, (0, 0, 0, 0) if transparent else (200, 200, 200, 255))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((w * 0.12, h * 0.55, w * 0.88, h), radius=w // 6, fill=(*PORTRAIT_RGB, 255))  # shoulders
    d.ellipse((w * 0.28, h * 0.12, w * 0.72, h * 0.58), fill=(*PORTRAIT_RGB, 255))  # head
    d.ellipse((w * 0.38, h * 0.3, w * 0.44, h * 0.34), fill=(20, 20, 20, 255))
    d.ellipse((w * 0.56, h * 0.3, w * 0.62, h * 0.34), fill=(20, 20, 20, 255))
    if mouth_open:
        d.ellipse((w * 0.44, h * 0.44, w * 0.56, h * 0.52), fill=(60, 0, 20, 255))
    else:
        d.line((w * 0.44, h * 0.47, w * 0.56, h * 0.47), fill=(60, 0, 20, 255), width=max(2, w // 100))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def backdrop_png(size: tuple[int, int]) -> bytes:
    img = Image.new("RGB", size, BACKDROP_RGB)
    d = ImageDraw.Draw(img)
    for x in range(0, size[0], 96):
        d.rectangle((x, 0, x + 40, size[1]), fill=(30, 220, 205))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers or {})


@dataclass
class ImagesServer:
    """Register on a pytest-httpserver; `requests` keeps every body asked for."""

    server: HTTPServer
    key: str
    requests: list[dict] = field(default_factory=list)
    fail: list[str] = field(default_factory=list)  # next replies: "429", "500", "refuse", "credit", "not_image", "truncated", "wrong_size"
    refuse_words: tuple[str, ...] = ()  # prompts containing these are refused (content policy)
    opaque: bool = False  # portraits on a flat grey background instead of transparent
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self) -> ImagesServer:
        self.server.expect_request("/v1/images/generations", method="POST").respond_with_handler(self._handle)
        return self

    def count(self, word: str = "") -> int:
        return sum(1 for r in self.requests if word in r.get("prompt", ""))

    def _handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided")
        body = json.loads(request.get_data() or b"{}")
        with self._lock:
            self.requests.append(body)
            scripted = self.fail.pop(0) if self.fail else ""
        prompt = body.get("prompt", "")
        w, h = (int(v) for v in str(body.get("size", "1024x1024")).split("x"))
        if scripted == "429":
            return _error(429, "rate_limit_exceeded", "Rate limit reached", {"retry-after": "0"})
        if scripted == "500":
            return _error(500, "server_error", "The server had an error")
        if scripted == "credit":
            return _error(429, "insufficient_quota", "You exceeded your current quota")
        if scripted == "refuse" or any(word in prompt for word in self.refuse_words):
            return _error(400, "content_policy_violation", "Your request was rejected by the safety system")
        if "Character portrait" in prompt:
            png = portrait_png((w, h), "mouth open" in prompt, transparent=not self.opaque)
        else:
            png = backdrop_png((w, h))
        if scripted == "wrong_size":
            png = backdrop_png((w // 2, h // 2))
        b64 = base64.b64encode(png).decode()
        if scripted == "not_image":
            b64 = base64.b64encode(b"<html>not an image</html>").decode()
        elif scripted == "truncated":
            b64 = b64[: len(b64) // 2 - 1]
        reply = {"created": 1764720000, "data": [{"b64_json": b64}], "usage": {"total_tokens": 0}}
        return Response(json.dumps(reply), status=200, content_type="application/json")
