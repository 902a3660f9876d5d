"""A tiny OpenAI-compatible embeddings server on 127.0.0.1 for tests (stdlib only).

It answers ``POST /v1/embeddings`` with deterministic vectors made from the input text (hashed
words, so texts sharing words get similar vectors), honours ``dimensions`` and
``encoding_format`` ("float" or "base64"), records every request, and can be scripted to fail::

    with StubEmbeddingServer() as server:
        server.script(Fail(429), Fail(500), Drop())   # the next three requests fail, then success
        client = OpenAI(api_key="test", base_url=server.base_url)

Only loopback traffic; the server stops when the ``with`` block ends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

NATIVE_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
UNKNOWN_MODEL_DIM = 96
_WORD = re.compile(r"\w+")


def stub_vector(text: str, dim: int) -> np.ndarray:
    """The stub's embedding of ``text``: hashed words, NOT normalised (the client must do it)."""
    vec = np.zeros(dim, dtype=np.float64)
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=16).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        vec += rng.standard_normal(dim)
    if not vec.any():
        vec[0] = 1.0
    return (3.0 * vec).astype(np.float32)  # deliberately not unit norm


@dataclass
class Fail:
    """Answer the next request with HTTP ``status`` and an OpenAI-style error body."""

    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Drop:
    """Read the next request, then close the connection without answering."""


@dataclass
class RecordedRequest:
    """One request as received: path, headers (lower-case names) and parsed JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class StubEmbeddingServer:
    """Threaded HTTP server speaking the OpenAI embeddings API on an ephemeral loopback port."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Fail | Drop] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *actions: Fail | Drop) -> None:
        """Queue failures for the next requests; requests after the queue empties succeed."""
        with self._lock:
            self._script.extend(actions)

    def always(self, action: Fail | Drop, times: int = 1000) -> None:
        """Fail the next ``times`` requests the same way (a persistent outage)."""
        self.script(*([action] * times))

    def start(self) -> StubEmbeddingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StubEmbeddingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_action(self) -> Fail | Drop | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("latin-1")}
                with stub._lock:
                    stub.requests.append(
                        RecordedRequest(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                        )
                    )
                action = stub._next_action()
                if isinstance(action, Drop):
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if isinstance(action, Fail):
                    self._send(
                        action.status,
                        {
                            "error": {
                                "message": action.message,
                                "type": "stub_error",
                                "param": None,
                                "code": None,
                            }
                        },
                        action.headers,
                    )
                    return
                if self.path.rstrip("/") != "/v1/embeddings":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if not self.headers.get("authorization", "").startswith("Bearer "):
                    self._send(401, {"error": {"message": "missing bearer token"}})
                    return
                self._send(200, stub._embed(body))

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _embed(self, body: dict[str, Any]) -> dict[str, Any]:
        model = str(body.get("model", ""))
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        dim = int(body.get("dimensions") or NATIVE_DIMS.get(model, UNKNOWN_MODEL_DIM))
        fmt = body.get("encoding_format", "float")
        data = []
        for index, text in enumerate(inputs):
            vec = stub_vector(str(text), NATIVE_DIMS.get(model, UNKNOWN_MODEL_DIM))[:dim]
            emb: Any = (
                base64.b64encode(vec.astype("<f4").tobytes()).decode("ascii")
                if fmt == "base64"
                else [float(x) for x in vec]
            )
            data.append({"object": "embedding", "index": index, "embedding": emb})
        data.reverse()  # clients must order by "index", not by position
        tokens = sum(len(str(t).split()) for t in inputs)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
