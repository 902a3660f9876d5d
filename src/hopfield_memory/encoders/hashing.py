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
import math
import re
import unicodedata
from collections.abc import Sequence
from itertools import chain

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
_TINY = np.float32(1e-30)


# Per (dim, seed): word -> (coordinates, signed weights), and feature -> signed coordinate.
# Shared by every encoder instance with the same geometry, bounded, and safe to share since the
# values are a pure function of the key.
_WORD_CACHES: dict[tuple[int, int], dict[str, tuple[tuple[int, ...], tuple[float, ...]]]] = {}
_HASH_CACHES: dict[tuple[int, int], dict[str, int]] = {}


def clear_feature_caches() -> None:
    """Forget every cached word and feature hash (for cold-start measurements; never needed)."""
    for words in _WORD_CACHES.values():
        words.clear()
    for hashes in _HASH_CACHES.values():
        hashes.clear()


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` after Unicode NFKC folding (letters and digits only).

    ASCII text skips the folding, which would leave it unchanged anyway.
    """
    if text.isascii():
        return _WORD.findall(text.lower())
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
        self._words = _WORD_CACHES.setdefault((dim, seed), {})
        self._hashes = _HASH_CACHES.setdefault((dim, seed), {})

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
        """The single-text path: the same sums as :meth:`_encode_chunk`, fewer array calls."""
        cols: list[int] = []
        vals: list[float] = []
        for word in tokenize(text):
            word_cols, word_vals = self._word_features(word)
            cols += word_cols
            vals += word_vals
        if not cols:
            return np.zeros(self._dim, dtype=np.float32)
        summed = np.bincount(np.array(cols), weights=np.array(vals), minlength=self._dim)
        return _unit_rows(summed, 1, self._dim)[0]

    def _encode_chunk(self, texts: list[str]) -> np.ndarray:
        """Sum every text's word features with one bincount, then normalise the rows.

        Python touches each word once (a dict lookup); the features of the distinct words are
        gathered for all occurrences at once with numpy.
        """
        n, dim = len(texts), self._dim
        token_lists = [tokenize(text) for text in texts]
        index: dict[str, int] = {}
        add = index.setdefault
        word_ids = np.array([add(w, len(index)) for words in token_lists for w in words], np.int64)
        if word_ids.size == 0:
            return np.zeros((n, dim), dtype=np.float32)
        features = [self._word_features(word) for word in index]
        lengths = np.fromiter((len(c) for c, _ in features), dtype=np.int64, count=len(features))
        total = int(lengths.sum())
        cols = np.fromiter(chain.from_iterable(c for c, _ in features), np.int64, count=total)
        vals = np.fromiter(chain.from_iterable(v for _, v in features), np.float64, count=total)
        per_word = lengths[word_ids]  # features of each word occurrence
        source = np.cumsum(lengths) - lengths  # where each distinct word's features start
        target = np.cumsum(per_word) - per_word  # where each occurrence's features go
        pos = np.arange(int(per_word.sum()), dtype=np.int64)
        pos += np.repeat(source[word_ids] - target, per_word)
        words_per_text = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        row_start = np.repeat(np.arange(n, dtype=np.int64) * dim, words_per_text)
        flat = np.repeat(row_start, per_word) + cols[pos]
        return _unit_rows(np.bincount(flat, weights=vals[pos], minlength=n * dim), n, dim)

    def _word_features(self, word: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Coordinates and signed weights of one word's features, cached.

        A word's own feature and its trigrams are hashed once each per geometry: a new word
        mostly reuses trigrams that other words already hashed.
        """
        cached = self._words.get(word)
        if cached is not None:
            return cached
        if word in _STOPWORDS:
            keys = [f"w:{word}"]
            weights = [_STOPWORD_WEIGHT]
        else:
            padded = f"<{word}>"
            keys = [f"w:{word}"] + [f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
            gram_weight = _TRIGRAM_WEIGHT / math.sqrt(len(keys) - 1)
            weights = [1.0] + [gram_weight] * (len(keys) - 1)
        hashes = self._hashes
        cols, vals = [], []
        for key, weight in zip(keys, weights, strict=True):
            code = hashes.get(key)
            if code is None:
                code = hashes[key] = self._hash(key)
            cols.append(abs(code) - 1)
            vals.append(weight if code > 0 else -weight)
        if len(self._words) >= _WORD_CACHE_LIMIT:
            self._words.clear()
            hashes.clear()
        features = self._words[word] = (tuple(cols), tuple(vals))
        return features

    def _hash(self, feature: str) -> int:
        """``±(coordinate + 1)``: BLAKE2b of the feature picks the coordinate and the sign."""
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, salt=self._salt)
        h = int.from_bytes(digest.digest(), "little")
        col = h % self._dim + 1
        return col if (h >> 63) & 1 else -col


def _unit_rows(summed: np.ndarray, n: int, dim: int) -> np.ndarray:
    """float64 sums (n * dim,) to float32 unit rows (n, dim), row by row the same way for any n
    (so one text encodes to the same bits alone or in a batch); zero rows stay zero."""
    rows = summed.reshape(n, dim).astype(np.float32)
    norms = np.sqrt(np.einsum("nd,nd->n", rows, rows))
    rows /= np.maximum(norms, _TINY)[:, None]  # a zero row divided by _TINY stays zero
    return rows
