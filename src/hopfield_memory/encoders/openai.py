"""OpenAI (or OpenAI-compatible) embeddings as an encoder (extra ``[openai]``).

Requests go through the official ``openai`` client with its own retries switched off: this module
retries by itself, so that the behaviour is bounded, logged and testable.

* Batching: at most ``batch_size`` (<= 2048) inputs and about ``max_request_tokens`` tokens per
  request. Tokens are bounded by UTF-8 bytes (a byte-level BPE token is at least one byte), so a
  request never exceeds the budget without needing a tokenizer.
* Retries: connection errors, timeouts, 408, 409, 429 and 5xx are retried up to ``max_retries``
  times with exponential backoff (``backoff_initial * 2**attempt``, capped at ``backoff_max``, a
  server's ``Retry-After`` honoured up to the same cap). Any other 4xx raises
  :class:`EncoderRequestError` at once.
* Credentials: the key is read at the first request (``api_key`` or ``OPENAI_API_KEY``); a missing
  key raises :class:`EncoderCredentialsError` then, never at construction.
* Fingerprint: the spec records the endpoint (host and port of ``base_url``; ``api.openai.com`` by
  default) next to the model, because an OpenAI-compatible server may serve different vectors
  under the same model name. Pass ``endpoint_id`` to declare two endpoints interchangeable
  (e.g. a proxy in front of api.openai.com).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from ..errors import EncoderCredentialsError, EncoderRequestError, InvalidInputError, missing_extra
from ..gate import GatePolicy
from .base import EncoderSpec, blank_rows, check_texts, normalize_rows

logger = logging.getLogger(__name__)

#: Native output sizes of OpenAI's embedding models.
KNOWN_DIMS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_INPUTS_PER_REQUEST = 2048
DEFAULT_MAX_REQUEST_TOKENS = 300_000
DEFAULT_ENDPOINT = "api.openai.com"
_RETRY_STATUS = frozenset({408, 409, 429})
_DIM_PROBE_TEXT = "dimension probe"


class OpenAIEncoder:
    """Encode texts with an OpenAI embeddings endpoint; rows are unit-norm float32.

    Parameters
    ----------
    model : str
        Embedding model name.
    dimensions : int or None
        Ask the endpoint for shorter vectors (text-embedding-3 models only). None keeps the
        model's native size.
    api_key : str or None
        Key; None reads ``OPENAI_API_KEY`` at the first request.
    base_url : str or None
        Endpoint root, e.g. ``"http://127.0.0.1:8000/v1"``; None reads ``OPENAI_BASE_URL`` at the
        first request, else the official API.
    batch_size : int
        Most inputs per request, 1..2048.
    max_request_tokens : int
        Token budget per request, bounded by UTF-8 bytes (see the module notes).
    max_retries : int
        Retries after the first attempt for retryable failures; 0 disables retrying.
    backoff_initial, backoff_max : float
        Seconds to wait before the first retry, and the cap on any wait.
    timeout : float
        Seconds per request.
    encoding_format : {"base64", "float"}
        Wire format asked for; answers in either format are decoded.
    endpoint_id : str or None
        Endpoint name recorded in :attr:`spec`; default is the host[:port] of ``base_url``.

    Notes
    -----
    Construction does no I/O and makes no request. ``dim`` is known without a request when
    ``dimensions`` is given or the model is in :data:`KNOWN_DIMS`; otherwise the first access
    makes one small request.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dimensions: int | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        batch_size: int = MAX_INPUTS_PER_REQUEST,
        max_request_tokens: int = DEFAULT_MAX_REQUEST_TOKENS,
        max_retries: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 20.0,
        timeout: float = 60.0,
        encoding_format: str = "base64",
        endpoint_id: str | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError(f"model must be a non-empty str, got {model!r}")
        if dimensions is not None and (
            isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1
        ):
            raise InvalidInputError(
                f"dimensions must be a positive int or None, got {dimensions!r}"
            )
        _check_int("batch_size", batch_size, 1, MAX_INPUTS_PER_REQUEST)
        _check_int("max_request_tokens", max_request_tokens, 1, None)
        _check_int("max_retries", max_retries, 0, None)
        for name, value in (("backoff_initial", backoff_initial), ("backoff_max", backoff_max)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInputError(f"{name} must be a number >= 0, got {value!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise InvalidInputError(f"timeout must be a number > 0, got {timeout!r}")
        if encoding_format not in ("base64", "float"):
            raise InvalidInputError(
                f"encoding_format must be 'base64' or 'float', got {encoding_format!r}"
            )
        strings = (("api_key", api_key), ("base_url", base_url), ("endpoint_id", endpoint_id))
        for name, text in strings:
            if text is not None and (not isinstance(text, str) or not text):
                raise InvalidInputError(f"{name} must be a non-empty str or None, got {text!r}")
        self.model = model
        self.dimensions = dimensions
        self.api_key = api_key
        self.base_url = base_url
        self.batch_size = batch_size
        self.max_request_tokens = max_request_tokens
        self.max_retries = max_retries
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.timeout = float(timeout)
        self.encoding_format = encoding_format
        self.endpoint_id = endpoint_id
        self._client: Any = None
        self._openai: Any = None
        self._dim: int | None = dimensions if dimensions is not None else KNOWN_DIMS.get(model)
        self._lock = threading.Lock()
        self._sleep = time.sleep

    def __repr__(self) -> str:
        dims = "" if self.dimensions is None else f", dimensions={self.dimensions}"
        return f"OpenAIEncoder({self.model!r}{dims}, endpoint={self._endpoint()!r})"

    # -- Encoder protocol ----------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Vector length; makes one small request only for a model of unknown size."""
        if self._dim is None:
            self.encode_batch([_DIM_PROBE_TEXT])
        return int(self._dim)  # type: ignore[arg-type]

    @property
    def spec(self) -> EncoderSpec:
        """Backend ``"openai"``, the model, dim, and options ``dimensions`` and ``endpoint``."""
        return EncoderSpec(
            backend="openai",
            model=self.model,
            dim=self.dim,
            normalization="l2",
            version="1",
            options={"dimensions": self.dimensions, "endpoint": self._endpoint()},
        )

    @property
    def default_policy(self) -> GatePolicy:
        """Thresholds for the cosine scale of text-embedding-3 models.

        Not measured on this project's machines (they have no network). text-embedding-3 cosines
        are compressed compared with MiniLM: unrelated sentences typically score 0.0-0.25 and
        close paraphrases 0.6-0.9, so 0.45 is a conservative floor. ada-002 scores about 0.7 even
        for unrelated text: calibrate it (:mod:`hopfield_memory.calibration`).
        """
        return GatePolicy(
            min_similarity=0.45, min_gap=0.01, max_sentinel_weight=0.5, source="default:openai"
        )

    def encode(self, text: str) -> np.ndarray:
        """One text to a unit vector, float32 of shape (dim,); blank text gives zeros."""
        if not isinstance(text, str):
            check_texts([text], what="text")
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to unit rows, requesting only the non-blank ones.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        ndarray of shape (len(texts), dim), float32
            L2-normalised rows; zero rows for blank texts.

        Raises
        ------
        EncoderCredentialsError
            No API key, or the endpoint rejected it.
        EncoderRequestError
            A non-retryable 4xx, or failures that outlasted every retry.
        """
        items = check_texts(texts)
        keep = np.flatnonzero(~blank_rows(items)).tolist() if items else []
        pieces: list[tuple[list[int], np.ndarray]] = []
        for batch in self._batches(keep, items):
            pieces.append((batch, self._request([items[i] for i in batch])))
        if self._dim is None:  # unknown model and nothing to send: one probe fixes the size
            self._dim = self._request([_DIM_PROBE_TEXT]).shape[1]
        out = np.zeros((len(items), self._dim), dtype=np.float32)
        for rows, vectors in pieces:
            out[rows] = vectors
        return normalize_rows(out)

    # -- internals -----------------------------------------------------------------------------

    def _endpoint(self) -> str:
        if self.endpoint_id is not None:
            return self.endpoint_id
        url = self.base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            return DEFAULT_ENDPOINT
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port}" if parts.port else host

    def _batches(self, rows: list[int], items: list[str]) -> Iterator[list[int]]:
        """Split ``rows`` into requests under the input-count and token budgets."""
        batch: list[int] = []
        budget = 0
        for row in rows:
            cost = len(items[row].encode("utf-8"))
            if batch and (len(batch) >= self.batch_size or budget + cost > self.max_request_tokens):
                yield batch
                batch, budget = [], 0
            batch.append(row)
            budget += cost
        if batch:
            yield batch

    def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        with self._lock:
            if self._client is None:
                try:
                    import openai
                except ImportError:
                    raise missing_extra("openai", "openai") from None
                key = self.api_key or os.environ.get("OPENAI_API_KEY")
                if not key:
                    raise EncoderCredentialsError(
                        "no OpenAI API key: pass OpenAIEncoder(api_key=...) or set the "
                        "OPENAI_API_KEY environment variable (for a local OpenAI-compatible "
                        "server that needs no key, pass any placeholder, e.g. api_key='none')",
                        attempts=0,
                    )
                self._openai = openai
                self._client = openai.OpenAI(
                    api_key=key,
                    base_url=self.base_url or os.environ.get("OPENAI_BASE_URL") or None,
                    max_retries=0,
                    timeout=self.timeout,
                )
        return self._client

    def _request(self, inputs: list[str]) -> np.ndarray:
        """One batch to an (len(inputs), dim) float32 array, retrying what may pass later."""
        client = self._get_client()
        openai = self._openai
        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": inputs,
            "encoding_format": self.encoding_format,
        }
        if self.dimensions is not None:
            kwargs["dimensions"] = self.dimensions
        attempt = 0
        while True:
            attempt += 1
            try:
                response = client.embeddings.create(**kwargs)
                return self._decode(response, len(inputs))
            except openai.APIStatusError as exc:
                status = int(exc.status_code)
                if status not in _RETRY_STATUS and status < 500:
                    raise _status_error(exc, status, attempt, self) from exc
                if attempt > self.max_retries:
                    raise EncoderRequestError(
                        f"embeddings request failed with HTTP {status} after {attempt} attempts: "
                        f"{_server_message(exc)}",
                        status_code=status,
                        attempts=attempt,
                    ) from exc
                wait = self._backoff(attempt, _retry_after(exc))
                logger.warning(
                    "embeddings request got HTTP %d (attempt %d of %d); retrying in %.2fs",
                    status,
                    attempt,
                    self.max_retries + 1,
                    wait,
                )
            except openai.APIConnectionError as exc:  # includes APITimeoutError
                if attempt > self.max_retries:
                    raise EncoderRequestError(
                        f"could not reach the embeddings endpoint {self._endpoint()!r} after "
                        f"{attempt} attempts: {exc.__class__.__name__}: {exc}",
                        status_code=None,
                        attempts=attempt,
                    ) from exc
                wait = self._backoff(attempt, None)
                logger.warning(
                    "embeddings request failed to connect (attempt %d of %d); retrying in %.2fs",
                    attempt,
                    self.max_retries + 1,
                    wait,
                )
            self._sleep(wait)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number ``attempt`` (1-based)."""
        wait = self.backoff_initial * (2.0 ** (attempt - 1))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.backoff_max)

    def _decode(self, response: Any, expected: int) -> np.ndarray:
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != expected:
            raise EncoderRequestError(
                f"embeddings endpoint returned {len(data)} vectors for {expected} inputs"
            )
        rows = []
        for item in data:
            emb = item.embedding
            if isinstance(emb, str):
                rows.append(np.frombuffer(base64.b64decode(emb), dtype="<f4"))
            else:
                rows.append(np.asarray(emb, dtype=np.float32))
        lengths = {row.shape[0] for row in rows}
        want = self._dim
        if len(lengths) != 1 or (want is not None and lengths != {want}):
            raise EncoderRequestError(
                f"embeddings endpoint returned vectors of length {sorted(lengths)}, "
                f"expected {want if want is not None else 'one length'} for model {self.model!r}"
            )
        matrix = np.ascontiguousarray(np.stack(rows), dtype=np.float32)
        if not np.isfinite(matrix).all():
            raise EncoderRequestError("embeddings endpoint returned NaN or infinite values")
        if self._dim is None:
            self._dim = int(matrix.shape[1])
        return matrix


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise InvalidInputError(f"{name} must be an int {bound}, got {value!r}")


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", exc))


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if seconds >= 0 and np.isfinite(seconds):
                return seconds
    return None


def _status_error(exc: Any, status: int, attempt: int, enc: OpenAIEncoder) -> EncoderRequestError:
    message = _server_message(exc)
    if status in (401, 403):
        return EncoderCredentialsError(
            f"the embeddings endpoint {enc._endpoint()!r} rejected the API key (HTTP {status}): "
            f"{message}. Check api_key / OPENAI_API_KEY.",
            status_code=status,
            attempts=attempt,
        )
    return EncoderRequestError(
        f"the embeddings endpoint {enc._endpoint()!r} refused the request for model "
        f"{enc.model!r} (HTTP {status}): {message}",
        status_code=status,
        attempts=attempt,
    )
