"""The default encoder: hashed words and character trigrams, numpy only, no download.

Each word contributes its own hashed feature plus the hashed character trigrams of ``<word>``, so
"stores" still overlaps "store" and "Pariss" still overlaps "Paris". A small list of English
function words is down-weighted so that "the" and "is" do not make unrelated sentences look alike.
Every feature lands on one coordinate with a random sign (feature hashing; Weinberger et al., 2009,
"Feature Hashing for Large Scale Multitask Learning"), chosen by BLAKE2b of the feature, so the
vectors are the same in every process and on every machine. Rows are L2-normalised.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidInputError
from ..gate import GatePolicy
from .base import EncoderSpec, check_texts

RECIPE_VERSION = "1"
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his i if in
    into is it its me my no not of on or our she so than that the their them then there these
    they this to was we were what when where which who why will with you your""".split()
)
_STOPWORD_WEIGHT = 0.2
_TRIGRAM_WEIGHT = 1.0
_WORD_CACHE_LIMIT = 1 << 17
_TEXTS_PER_CHUNK = 4096


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` after Unicode NFKC folding (letters and digits only)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


class RandomIndexEncoder:
    """Deterministic hashing encoder, the default of :class:`~hopfield_memory.HopfieldMemory`.

    Parameters
    ----------
    dim : int
        Vector length (default 512).
    seed : int
        Salt of the hash; different seeds give unrelated geometries.
    """

    def __init__(self, dim: int = 512, *, seed: int = 0) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 8:
            raise InvalidInputError(f"dim must be an int >= 8, got {dim!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise InvalidInputError(f"seed must be an int in [0, 2**32), got {seed!r}")
        self._dim = dim
        self._seed = seed
        self._salt = seed.to_bytes(8, "little")
        self._words: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"RandomIndexEncoder(dim={self._dim}, seed={self._seed})"

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._dim

    @property
    def spec(self) -> EncoderSpec:
        """Backend "hashing", the feature recipe and its version, dim and seed."""
        return EncoderSpec(
            backend="hashing",
            model="words+char3",
            dim=self._dim,
            version=RECIPE_VERSION,
            options={"seed": self._seed},
        )

    @property
    def default_policy(self) -> GatePolicy:
        """min_similarity 0.3: sentences that share no content word mostly score below 0.1."""
        return GatePolicy(
            min_similarity=0.3, min_gap=0.01, max_sentinel_weight=0.5, source="default:hashing"
        )

    def encode(self, text: str) -> np.ndarray:
        """One text to a unit vector of shape (dim,); empty text gives zeros."""
        check_texts([text], what="text")
        return self._encode_one(text)

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to unit rows, float32 of shape (len(texts), dim)."""
        items = check_texts(texts)
        if len(items) == 1:
            return self._encode_one(items[0])[None, :]
        out = np.empty((len(items), self._dim), dtype=np.float32)
        for start in range(0, len(items), _TEXTS_PER_CHUNK):
            chunk = items[start : start + _TEXTS_PER_CHUNK]
            out[start : start + len(chunk)] = self._encode_chunk(chunk)
        return out

    def _encode_one(self, text: str) -> np.ndarray:
        """The single-text path: the same sum as :meth:`_encode_chunk` with fewer array calls."""
        features = [self._word_features(word) for word in tokenize(text)]
        if not features:
            return np.zeros(self._dim, dtype=np.float32)
        cols = np.concatenate([c for c, _ in features])
        vals = np.concatenate([v for _, v in features])
        return _unit_rows(np.bincount(cols, weights=vals, minlength=self._dim)[None, :])[0]

    def _encode_chunk(self, texts: list[str]) -> np.ndarray:
        """Sum each text's word features with one bincount, then normalise the rows."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        rows: list[int] = []
        for row, text in enumerate(texts):
            for word in tokenize(text):
                word_cols, word_vals = self._word_features(word)
                cols.append(word_cols)
                vals.append(word_vals)
                rows.append(row)
        n, dim = len(texts), self._dim
        if not cols:
            return np.zeros((n, dim), dtype=np.float32)
        lengths = np.fromiter((len(c) for c in cols), dtype=np.int64, count=len(cols))
        flat = np.repeat(np.asarray(rows, dtype=np.int64) * dim, lengths)
        flat += np.concatenate(cols)
        summed = np.bincount(flat, weights=np.concatenate(vals), minlength=n * dim)
        return _unit_rows(summed.reshape(n, dim))

    def _word_features(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates (int64) and signed weights (float64) of one word, cached."""
        cached = self._words.get(word)
        if cached is not None:
            return cached
        if word in _STOPWORDS:
            features, weights = [f"w:{word}"], [_STOPWORD_WEIGHT]
        else:
            padded = f"<{word}>"
            grams = [f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
            features = [f"w:{word}", *grams]
            weights = [1.0] + [_TRIGRAM_WEIGHT / np.sqrt(len(grams))] * len(grams)
        cols = np.empty(len(features), dtype=np.int64)
        vals = np.empty(len(features), dtype=np.float64)
        for i, feature in enumerate(features):
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, salt=self._salt)
            h = int.from_bytes(digest.digest(), "little")
            cols[i] = h % self._dim
            vals[i] = weights[i] if (h >> 63) & 1 else -weights[i]
        if len(self._words) >= _WORD_CACHE_LIMIT:
            self._words.clear()
        self._words[word] = (cols, vals)
        return cols, vals


def _unit_rows(summed: np.ndarray) -> np.ndarray:
    """float64 sums (n, dim) to float32 unit rows, row by row the same way for any n (so one
    text encodes to the same bits alone or in a batch); zero rows stay zero."""
    norms = np.sqrt(np.einsum("nd,nd->n", summed, summed))[:, None]
    np.divide(summed, norms, out=summed, where=norms > 0)
    return summed.astype(np.float32)
