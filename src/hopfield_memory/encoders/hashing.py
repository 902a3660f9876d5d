"""The default encoder: hashed words and character trigrams, numpy only, no download.

Recipe, version 2. A text is NFKC-folded, lower-cased and split into words (runs of letters and
digits). Each word contributes

* its own feature, weight 1 (0.2 for a small list of English function words, so that "the" and
  "is" do not make unrelated sentences look alike), and
* one feature per character trigram of ``<word>`` (``<`` and ``>`` mark the word's ends), weight
  ``1/sqrt(len(word))`` each; function words have none.

So "stores" still overlaps "store" and "Pariss" still overlaps "Paris". Every feature lands on one
coordinate with a random sign (feature hashing; Weinberger et al., 2009, "Feature Hashing for Large
Scale Multitask Learning"), picked by 32-bit integer hashes that are the same in every process and
on every machine:

* a character ``c`` (its code point; 0 for a word end) has the code ``g(c) = fmix32(c ^ salt_char)``
  with the finaliser ``fmix32`` of MurmurHash3 (Austin Appleby, public domain);
* a trigram ``(a, b, c)`` hashes to ``fmix32((g(a)*K1 + g(b)*K2 + g(c)) mod 2**32 ^ salt_trigram)``;
* a word hashes to ``fmix32((sum of its trigram hashes) mod 2**32 ^ salt_word)``;
* a hash ``h`` picks coordinate ``h * dim >> 32``, and the sign is negative when ``h`` is odd.

The salts derive from the seed. A row is the float32 sum of its text's weights (rounded to
float32) in the order "every word's own feature, then every trigram", L2-normalised.

Speed: a batch is hashed as one array of characters (no per-word Python), so learning new words
costs nothing extra; a single text looks its words up in a cache of packed features.
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidInputError
from ..gate import GatePolicy
from .base import EncoderSpec, check_texts

RECIPE_VERSION = "2"
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his i if in
    into is it its me my no not of on or our she so than that the their them then there these
    they this to was we were what when where which who why will with you your""".split()
)
_STOPWORD_WEIGHT = 0.2
_WORD_CACHE_LIMIT = 1 << 17
_VECTORISED_FROM = 8  # texts in a batch from which hashing the whole batch in numpy is faster
_TEXTS_PER_CHUNK = 512  # texts hashed and summed at once: their arrays stay in cache
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
_FEATURE = np.dtype([("col", np.int64), ("weight", np.float32)])
_PACK = struct.Struct("=qf").pack

_M32 = 0xFFFFFFFF
_K1, _K2 = 0x9E3779B1, 0x7FEB352D  # odd multipliers of a trigram's first and middle character
# Function words are at most this long; their UTF-8 bytes, read as a little-endian integer, are
# how the vectorised path recognises them exactly (see `_is_stopword`).
_STOPWORD_MAX_LEN = max(map(len, _STOPWORDS))
_STOPWORD_KEYS = np.array(sorted(int.from_bytes(w.encode(), "little") for w in _STOPWORDS), "<u8")
_KEY_MASKS = np.array(
    [(1 << 8 * n) - 1 if n <= _STOPWORD_MAX_LEN else 0 for n in range(_STOPWORD_MAX_LEN + 2)],
    "<u8",
)

# Per (dim, seed): word -> its own packed ``_FEATURE`` record, and word -> its trigrams' records.
# Used by single texts only; shared by every encoder with the same geometry, bounded, and safe to
# share since the values are a pure function of the word.
_WORD_CACHES: dict[tuple[int, int], tuple[dict[str, bytes], dict[str, bytes]]] = {}


def clear_feature_caches() -> None:
    """Forget every cached word (for cold-start measurements; never needed)."""
    for owns, grams in _WORD_CACHES.values():
        owns.clear()
        grams.clear()


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text`` after Unicode NFKC folding (letters and digits only).

    ASCII text skips the folding, which would leave it unchanged anyway, and the pattern: one
    byte translation (``_ASCII_FOLD``) finds the same words.
    """
    if text.isascii() and _SEP not in text:
        return text.encode().translate(_ASCII_FOLD).decode().split()
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, in place on a uint32 array; returns it."""
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _fmix32_int(h: int) -> int:
    """:func:`fmix32` of one Python int in [0, 2**32)."""
    h ^= h >> 16
    h = h * 0x85EBCA6B & _M32
    h ^= h >> 13
    h = h * 0xC2B2AE35 & _M32
    return h ^ h >> 16


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
        self._salt_char, self._salt_trigram, self._salt_word = (
            _fmix32_int((seed + step * 0x9E3779B9) & _M32) for step in (1, 2, 3)
        )
        # g(c) of every byte value (folded ASCII streams index it; NUL and space are word ends)
        self._byte_codes = self._char_codes(np.arange(256, dtype=np.uint32))
        self._byte_code_list: list[int] = self._byte_codes.tolist()
        self._owns, self._grams = _WORD_CACHES.setdefault((dim, seed), ({}, {}))

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
        self._encode_into(items, out)
        return out

    def encode_into(self, texts: Sequence[str], out: np.ndarray) -> None:
        """Encode texts into ``out``, float32 of shape (len(texts), dim), in place.

        The same rows as :meth:`encode_batch`, without allocating or copying them (a memory
        encodes straight into its pattern matrix).
        """
        items = check_texts(texts)
        if out.shape != (len(items), self._dim) or out.dtype != np.float32:
            raise InvalidInputError(
                f"out must be float32 of shape {(len(items), self._dim)}, "
                f"got {out.dtype} {out.shape}"
            )
        self._encode_into(items, out)

    def _encode_into(self, texts: list[str], out: np.ndarray) -> None:
        """:meth:`encode_into` of checked texts."""
        if len(texts) < _VECTORISED_FROM:
            for i, text in enumerate(texts):
                out[i] = self._encode_one(text)
            return
        for start in range(0, len(texts), _TEXTS_PER_CHUNK):
            chunk = texts[start : start + _TEXTS_PER_CHUNK]
            self._encode_chunk(chunk, out[start : start + len(chunk)])

    # ------------------------------------------------------------------ one text, word cache

    def _encode_one(self, text: str) -> np.ndarray:
        """One text through the word cache: the same sums as :meth:`_encode_chunk` (own
        features first, then trigrams), fewer array calls."""
        words = tokenize(text)
        if not words:
            return np.zeros(self._dim, dtype=np.float32)
        owns, grams = self._owns, self._grams
        try:
            parts = list(map(owns.__getitem__, words))
        except KeyError:
            self._learn(words)
            parts = list(map(owns.__getitem__, words))
        parts += map(grams.__getitem__, words)
        features = np.frombuffer(b"".join(parts), _FEATURE)
        row = np.zeros(self._dim, dtype=np.float32)
        np.add.at(row, features["col"], features["weight"])
        # the norm as _normalise computes it for a row; a float32 sqrt is exact through float64
        norm = np.float32(math.sqrt(np.einsum("d,d->", row, row)))
        row /= max(norm, _TINY)
        return row

    def _learn(self, words: list[str]) -> None:
        """Cache the packed features of the words not cached yet, computed in plain Python."""
        owns, grams = self._owns, self._grams
        if len(owns) + len(words) > _WORD_CACHE_LIMIT:  # start over
            owns.clear()
            grams.clear()
        for word in set(words).difference(owns):
            owns[word], grams[word] = self._word_records(word)

    def _word_records(self, word: str) -> tuple[bytes, bytes]:
        """The packed features of one word: (its own, its trigrams')."""
        codes = [self._byte_code_list[0]]
        codes += [self._char_code(c) for c in word]
        codes.append(codes[0])
        salt = self._salt_trigram
        grams = [
            _fmix32_int((a * _K1 + b * _K2 + c & _M32) ^ salt)
            for a, b, c in zip(codes, codes[1:], codes[2:], strict=False)
        ]
        own = _fmix32_int((sum(grams) & _M32) ^ self._salt_word)
        if word in _STOPWORDS:
            return self._record(own, _STOPWORD_WEIGHT), b""
        weight = 1.0 / math.sqrt(len(word))
        return self._record(own, 1.0), b"".join(self._record(h, weight) for h in grams)

    def _record(self, h: int, weight: float) -> bytes:
        """One packed feature: coordinate ``h * dim >> 32``, negative weight for an odd ``h``."""
        return _PACK(h * self._dim >> 32, -weight if h & 1 else weight)

    def _char_code(self, char: str) -> int:
        """g(c) of one word character."""
        point = ord(char)
        if point < 256:
            return self._byte_code_list[point]
        return _fmix32_int(point ^ self._salt_char)

    # ------------------------------------------------------------------ a batch, in numpy

    def _char_codes(self, points: np.ndarray) -> np.ndarray:
        """g(c) of a stream of code points (uint32, any shape); separators (<= 32) are 0."""
        codes = points.astype(np.uint32)
        codes[codes <= 32] = 0
        codes ^= np.uint32(self._salt_char)
        return fmix32(codes)

    def _encode_chunk(self, texts: list[str], rows: np.ndarray) -> None:
        """Encode a chunk of texts into ``rows`` (n, dim), hashed as one stream of characters."""
        points, bytes_of_points = _stream(texts)
        codes = (
            self._byte_codes.take(points) if points.dtype == np.uint8 else self._char_codes(points)
        )
        flat, weights = self._features(points, codes, bytes_of_points)
        rows.fill(0.0)
        np.add.at(rows.reshape(-1), flat, weights)
        _normalise(rows)

    def _features(
        self, points: np.ndarray, codes: np.ndarray, bytes_of_points: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every feature of a stream as (row * dim + coordinate, signed float32 weight), (m,).

        ``points`` (L,): the texts' words separated by spaces, texts by NUL, with NUL at both
        ends; ``codes`` (L,): g of each point; ``bytes_of_points`` (L,) uint8: the points clipped
        to 255. Own features come first, then trigrams (a function word's with weight 0).
        """
        dim = self._dim
        in_word = points > 32
        before = np.flatnonzero(in_word[1:] > in_word[:-1])  # the point before each word
        last = np.flatnonzero(in_word[:-1] > in_word[1:])  # each word's last point
        lengths = last - before
        n_words = len(lengths)
        if not n_words:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        grams = codes[:-2] * np.uint32(_K1)  # a trigram centred on every point
        grams += codes[1:-1] * np.uint32(_K2)
        grams += codes[2:]
        grams = grams.compress(in_word[1:-1])
        grams ^= np.uint32(self._salt_trigram)
        fmix32(grams)
        # a word's own hash: the sum of its trigram hashes (differences of a running sum)
        running = np.zeros(len(grams) + 1, np.uint32)
        np.cumsum(grams, dtype=np.uint32, out=running[1:])
        ends = np.cumsum(lengths)
        own = running.take(ends)
        own -= running.take(ends - lengths)
        own ^= np.uint32(self._salt_word)
        fmix32(own)
        # features: every word's own, then every trigram (a function word's weigh 0)
        stop = _is_stopword(bytes_of_points, before + 1, lengths)
        word_of_gram = np.repeat(np.arange(n_words), lengths)
        weights = np.empty(n_words + len(grams), np.float32)
        weights[:n_words] = np.where(stop, _STOPWORD_WEIGHT, 1.0)
        gram_weights = (1.0 / np.sqrt(lengths)).astype(np.float32)
        gram_weights[stop] = 0.0
        gram_weights.take(word_of_gram, out=weights[n_words:], mode="clip")
        hashes = np.concatenate((own, grams))
        weights.view(np.uint32)[...] ^= hashes << np.uint32(31)  # odd hash: sign bit set
        flat = hashes.astype(np.int64)
        flat *= dim
        flat >>= 32  # now the coordinate; plus the row's offset:
        # text k's words lie between its NUL (the k-th) and the next one
        first_word = np.searchsorted(before, np.flatnonzero(points == 0))
        words_per_text = np.diff(first_word, append=n_words)
        offset = np.repeat(np.arange(0, len(first_word) * dim, dim), words_per_text)
        flat[:n_words] += offset
        flat[n_words:] += offset.take(word_of_gram)
        return flat, weights


def _stream(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The words of ``texts`` as one array of code points, and those points clipped to a byte.

    Words are separated by spaces (or any byte <= 32), texts by NUL, with NUL at both ends and 8
    more at the end (so 8 bytes can be read from any word start). ASCII texts without NUL are
    folded by one byte translation (uint8); others go through :func:`tokenize` (uint32).
    """
    joined = _SEP.join(texts)
    tail = _SEP * 8
    if joined.isascii() and joined.count(_SEP) == len(texts) - 1:
        folded = np.frombuffer(f"{_SEP}{joined}{tail}".encode().translate(_ASCII_FOLD), np.uint8)
        return folded, folded
    words = _SEP.join(" ".join(tokenize(text)) for text in texts)
    points = np.frombuffer(f"{_SEP}{words}{tail}".encode("utf-32-le"), "<u4")
    return points, np.minimum(points, 255).astype(np.uint8)


def _is_stopword(
    bytes_of_points: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Which words are function words (bool (w,)): the bytes from each start (w,), read as a
    little-endian integer and cut to the word's length, equal a function word's key."""
    words8 = np.ndarray((len(bytes_of_points) - 7,), "<u8", bytes_of_points, strides=(1,))
    keys = words8.take(starts)
    keys &= _KEY_MASKS.take(np.minimum(lengths, _STOPWORD_MAX_LEN + 1))  # long words: key 0
    found = np.searchsorted(_STOPWORD_KEYS, keys)
    found[found == len(_STOPWORD_KEYS)] = 0
    return _STOPWORD_KEYS.take(found) == keys


def _normalise(rows: np.ndarray) -> None:
    """Scale float32 rows (n, dim) to unit length in place, row by row the same way for any n
    (so one text encodes to the same bits alone or in a batch); zero rows stay zero."""
    norms = np.sqrt(np.einsum("nd,nd->n", rows, rows))
    rows /= np.maximum(norms, _TINY)[:, None]  # a zero row divided by _TINY stays zero
