"""The default encoder: hashed words and character trigrams, numpy only, no download.

Each word contributes its own hashed feature plus the hashed character trigrams of ``<word>``, so
"stores" still overlaps "store" and "Pariss" still overlaps "Paris". A small list of English
function words is down-weighted so that "the" and "is" do not make unrelated sentences look alike.
Every feature lands on one coordinate with a random sign (feature hashing; Weinberger et al., 2009,
"Feature Hashing for Large Scale Multitask Learning"), chosen by BLAKE2b of the feature, so the
vectors are the same in every process and on every machine. Rows are L2-normalised.

Speed: a word's features are hashed once per geometry and cached packed as (coordinate, signed
weight) records, so encoding joins the packed features of a text's words (of a whole batch's
texts) into one buffer and sums them with one ``np.bincount``; ASCII text is split into words by
one byte translation instead of the pattern.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
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
_TEXTS_PER_CHUNK = 1024  # texts summed per bincount: its float64 output stays in cache
_TINY = np.float32(1e-30)
# The texts of a batch are joined by NUL, which is never part of a word.
_SEP = "\x00"
# ASCII letters and digits lower-cased, NUL kept, every other byte a space: for ASCII text,
# translating with this table and splitting on spaces gives the words ``_WORD`` finds.
_ASCII_FOLD = (
    bytes(
        ord(c.lower()) if _WORD.fullmatch(c) or c == _SEP else ord(" ")
        for c in map(chr, range(128))
    )
    + b" " * 128
)
# One feature of a word, packed: coordinate and signed weight.
_FEATURE = np.dtype([("col", np.int64), ("weight", np.float64)])
_PACK = struct.Struct("=qd").pack
_PACK_MANY_FROM = 32  # new words learned at once from which numpy packs faster than Python
_HASH_IN_NUMPY_FROM = 64  # new features from which numpy turns digests into codes faster


# Per (dim, seed): word -> its packed features (``_FEATURE`` records), and feature -> signed
# coordinate (a word's own feature keyed "w:word", a trigram by its three code points packed
# into one int, 21 bits each). Shared by every encoder instance with the same geometry, bounded,
# and safe to share since the values are a pure function of the key.
_WORD_CACHES: dict[tuple[int, int], dict[str, bytes]] = {}
_HASH_CACHES: dict[tuple[int, int], dict[str | int, int]] = {}


def clear_feature_caches() -> None:
    """Forget every cached word and feature hash (for cold-start measurements; never needed)."""
    for words in _WORD_CACHES.values():
        words.clear()
    for hashes in _HASH_CACHES.values():
        hashes.clear()


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` after Unicode NFKC folding (letters and digits only).

    ASCII text skips the folding, which would leave it unchanged anyway, and the pattern: one
    byte translation (``_ASCII_FOLD``) finds the same words.
    """
    if text.isascii() and _SEP not in text:
        return text.encode().translate(_ASCII_FOLD).decode().split()
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _token_lists(texts: list[str]) -> list[list[str]]:
    """:func:`tokenize` of every text; an ASCII batch is translated in one piece."""
    joined = _SEP.join(texts)
    if joined.isascii() and joined.count(_SEP) == len(texts) - 1:
        return list(map(str.split, joined.encode().translate(_ASCII_FOLD).decode().split(_SEP)))
    return list(map(tokenize, texts))


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
        self._blake = hashlib.blake2b(digest_size=8, salt=seed.to_bytes(8, "little"))
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
        words = tokenize(text)
        if not words:
            return np.zeros(self._dim, dtype=np.float32)
        features = np.frombuffer(b"".join(self._features(words)), _FEATURE)
        summed = np.bincount(features["col"], weights=features["weight"], minlength=self._dim)
        row: np.ndarray = summed.astype(np.float32)
        # the norm as _unit_rows computes it for a row; a float32 sqrt is exact through float64
        norm = np.float32(math.sqrt(np.einsum("d,d->", row, row)))
        row /= max(norm, _TINY)
        return row

    def _encode_chunk(self, texts: list[str]) -> np.ndarray:
        """Sum every text's word features with one bincount, then normalise the rows.

        Python looks up each word's packed features once (one dict lookup per word) and joins
        them all; numpy adds each text's row offset to the coordinates of its features.
        """
        n, dim = len(texts), self._dim
        token_lists = _token_lists(texts)
        parts = self._features(list(chain.from_iterable(token_lists)))
        features = np.frombuffer(b"".join(parts), _FEATURE)
        if features.size == 0:
            return np.zeros((n, dim), dtype=np.float32)
        words_per_text = np.fromiter(map(len, token_lists), np.int64, count=n)
        records_per_word = np.fromiter(map(len, parts), np.int64, count=len(parts))
        records_per_word //= _FEATURE.itemsize
        row_of_word = np.repeat(np.arange(0, n * dim, dim, dtype=np.int64), words_per_text)
        flat = np.repeat(row_of_word, records_per_word)
        flat += features["col"]
        return _unit_rows(np.bincount(flat, weights=features["weight"], minlength=n * dim), n, dim)

    def _features(self, words: list[str]) -> list[bytes]:
        """The packed features of each of ``words``, learning the words not cached yet."""
        parts = list(map(self._words.get, words))
        if None in parts:
            self._learn(words)
            parts = list(map(self._words.__getitem__, words))
        return parts  # type: ignore[return-value]  # no None left

    def _learn(self, words: Iterable[str]) -> None:
        """Cache the packed features of every word in ``words`` not cached yet.

        A word's features are its own (weight 1, or 0.2 for a stopword), then the trigrams of
        ``<word>`` (weight 1/sqrt(len(word)) each; a stopword has none). Each feature is hashed
        once per geometry: a new word mostly reuses trigrams that other words already hashed.
        Many new words at once (a batch) are packed in numpy, a few in plain Python.
        """
        cache = self._words
        distinct = set(words)
        new = list(distinct.difference(cache))
        if not new:
            return
        if len(cache) + len(new) > _WORD_CACHE_LIMIT:  # start over, keeping these words
            cache.clear()
            self._hashes.clear()
            new = list(distinct)
        packed = self._pack_many(new) if len(new) >= _PACK_MANY_FROM else map(self._pack, new)
        cache.update(zip(new, packed, strict=True))

    def _pack(self, word: str) -> bytes:
        """The packed features of one word, in plain Python."""
        keys: list[str | int] = [f"w:{word}"]
        if word in _STOPWORDS:
            weights = [_STOPWORD_WEIGHT]
        else:
            p = list(map(ord, f"<{word}>"))
            keys += [a << 42 | b << 21 | c for a, b, c in zip(p, p[1:], p[2:], strict=False)]
            weights = [1.0] + [_TRIGRAM_WEIGHT / math.sqrt(len(word))] * len(word)
        records: list[float] = []
        for code, weight in zip(self._codes(keys), weights, strict=True):
            records += (code - 1, weight) if code > 0 else (-code - 1, -weight)
        return struct.pack(f"={'qd' * len(weights)}", *records)

    def _pack_many(self, words: list[str]) -> list[bytes]:
        """The packed features of each of ``words``, as :meth:`_pack` gives them, in numpy."""
        m = len(words)
        lengths = np.fromiter(map(len, words), np.int64, count=m)
        grams = np.fromiter((w not in _STOPWORDS for w in words), bool, count=m) * lengths
        # word j's trigrams start at the first grams[j] characters of its "<word>" in `points`
        points = np.frombuffer(f"<{'><'.join(words)}>".encode("utf-32-le"), np.uint32)
        starts = np.cumsum(lengths + 2) - (lengths + 2) - (np.cumsum(grams) - grams)
        first = np.repeat(starts, grams) + np.arange(int(grams.sum()))
        gram_keys = points[first].astype(np.int64) << 42
        gram_keys |= points[first + 1].astype(np.int64) << 21
        gram_keys |= points[first + 2]
        word_keys: list[str | int] = [f"w:{word}" for word in words]
        codes = np.array(self._codes(word_keys) + self._gram_codes(gram_keys), dtype=np.int64)
        # records: each word's own feature, then its trigrams
        per_word = grams + 1
        ends = np.cumsum(per_word)
        own = ends - per_word
        is_gram = np.ones(int(ends[-1]), dtype=bool)
        is_gram[own] = False
        signed = np.empty(len(is_gram), dtype=np.int64)
        signed[own] = codes[:m]
        signed[is_gram] = codes[m:]
        weights = np.repeat(_TRIGRAM_WEIGHT / np.sqrt(np.maximum(lengths, 1)), per_word)
        weights[own] = np.where(grams > 0, 1.0, _STOPWORD_WEIGHT)
        records = np.empty(len(signed), dtype=_FEATURE)
        records["col"] = np.abs(signed) - 1
        records["weight"] = np.where(signed > 0, weights, -weights)
        packed = records.tobytes()
        size = _FEATURE.itemsize
        bounds = zip((own * size).tolist(), (ends * size).tolist(), strict=True)
        return [packed[a:b] for a, b in bounds]

    def _codes(self, keys: list[str | int]) -> list[int]:
        """The signed coordinate of each feature: a word's ``"w:word"`` or a trigram's key."""
        hashes = self._hashes
        new = list(set(keys).difference(hashes))
        if new:
            names = [(k if isinstance(k, str) else _gram_feature(k)).encode() for k in new]
            hashes.update(zip(new, self._hash(names), strict=True))
        return list(map(hashes.__getitem__, keys))

    def _gram_codes(self, keys: np.ndarray) -> list[int]:
        """:meth:`_codes` of trigram keys (int64 array), the new ones named in numpy."""
        hashes = self._hashes
        key_list = keys.tolist()
        new = np.array(list(set(key_list).difference(hashes)), dtype=np.int64)
        if len(new):
            points = np.empty((len(new), 5), dtype=np.uint32)  # "c:" and the three characters
            points[:, 0], points[:, 1] = ord("c"), ord(":")
            points[:, 2], points[:, 3], points[:, 4] = (
                new >> 42,
                new >> 21 & 0x1FFFFF,
                new & 0x1FFFFF,
            )
            text = points.tobytes().decode("utf-32-le")
            names = [text[i : i + 5].encode() for i in range(0, len(text), 5)]
            hashes.update(zip(new.tolist(), self._hash(names), strict=True))
        return list(map(hashes.__getitem__, key_list))

    def _hash(self, names: list[bytes]) -> list[int]:
        """``±(coordinate + 1)`` of each feature name: its BLAKE2b (salted by the seed) read as
        a little-endian uint64 ``h`` picks coordinate ``h % dim`` and the sign (bit 63)."""
        copy, dim = self._blake.copy, self._dim

        def digest(name: bytes) -> bytes:
            state = copy()
            state.update(name)
            return state.digest()

        if len(names) < _HASH_IN_NUMPY_FROM:
            codes = []
            for value in (int.from_bytes(digest(name), "little") for name in names):
                codes.append(value % dim + 1 if value >> 63 else -(value % dim + 1))
            return codes
        h = np.frombuffer(b"".join(map(digest, names)), "<u8")
        col = (h % np.uint64(dim)).astype(np.int64) + 1
        return np.where(h >> np.uint64(63), col, -col).tolist()


def _gram_feature(key: int) -> str:
    """The feature name of a trigram keyed by its three code points (21 bits each)."""
    return f"c:{chr(key >> 42)}{chr(key >> 21 & 0x1FFFFF)}{chr(key & 0x1FFFFF)}"


def _unit_rows(summed: np.ndarray, n: int, dim: int) -> np.ndarray:
    """float64 sums (n * dim,) to float32 unit rows (n, dim), row by row the same way for any n
    (so one text encodes to the same bits alone or in a batch); zero rows stay zero."""
    rows = summed.reshape(n, dim).astype(np.float32)
    norms = np.sqrt(np.einsum("nd,nd->n", rows, rows))
    rows /= np.maximum(norms, _TINY)[:, None]  # a zero row divided by _TINY stays zero
    return rows
