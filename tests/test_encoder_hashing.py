"""The default hashing encoder: deterministic, unit rows, tolerant of inflection and typos."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopfield_memory import Encoder, InvalidInputError, InvalidTypeError, RandomIndexEncoder
from hopfield_memory.encoders import hashing
from hopfield_memory.encoders.hashing import (
    _STOPWORDS,
    _VECTORISED_FROM,
    _WORD,
    _stream,
    clear_feature_caches,
    tokenize,
)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_follows_protocol_and_shapes() -> None:
    enc = RandomIndexEncoder(dim=64)
    assert isinstance(enc, Encoder)
    rows = enc.encode_batch(["hello world", "", "   ", "Zürich café"])
    assert rows.shape == (4, 64) and rows.dtype == np.float32 and rows.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(rows[[0, 3]], axis=1), 1.0, rtol=1e-5)
    assert not rows[1].any() and not rows[2].any()
    assert enc.encode("hello world").shape == (64,)
    np.testing.assert_array_equal(enc.encode("hello world"), rows[0])
    assert enc.encode_batch([]).shape == (0, 64)


def test_deterministic_across_processes() -> None:
    code = (
        "from hopfield_memory import RandomIndexEncoder;"
        "print(RandomIndexEncoder(dim=32).encode('The Eiffel Tower is in Paris').tobytes().hex())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    ).stdout.strip()
    here = RandomIndexEncoder(dim=32).encode("The Eiffel Tower is in Paris").tobytes().hex()
    assert other == here


def test_inflection_and_typos_keep_overlap() -> None:
    enc = RandomIndexEncoder()
    base = enc.encode("the server stores facts")
    assert cos(base, enc.encode("server storing fact")) > 0.4
    assert cos(enc.encode("Paris"), enc.encode("Pariss")) > 0.3
    assert cos(base, enc.encode("violin orchestra concert")) < 0.15


def test_function_words_barely_count() -> None:
    enc = RandomIndexEncoder()
    assert cos(enc.encode("the cat is on the mat"), enc.encode("the tax is in the law")) < 0.2


def test_seed_and_spec() -> None:
    a, b = RandomIndexEncoder(dim=64, seed=1), RandomIndexEncoder(dim=64, seed=2)
    assert a.spec.fingerprint != b.spec.fingerprint
    assert a.spec.fingerprint == RandomIndexEncoder(dim=64, seed=1).spec.fingerprint
    assert cos(a.encode("alpha beta"), b.encode("alpha beta")) < 0.5


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError):
        RandomIndexEncoder(dim=2)
    with pytest.raises(InvalidInputError):
        RandomIndexEncoder(seed=-1)
    enc = RandomIndexEncoder(dim=16)
    with pytest.raises(InvalidTypeError, match="single str"):
        enc.encode_batch("abc")
    with pytest.raises(InvalidTypeError, match=r"texts\[1\]"):
        enc.encode_batch(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError):
        enc.encode(None)  # type: ignore[arg-type]


def test_large_batches_equal_single_encodes() -> None:
    enc = RandomIndexEncoder(dim=32)
    texts = [f"fact number {i} about topic {i % 7}" for i in range(5000)]
    batch = enc.encode_batch(texts)
    for i in (0, 4095, 4096, 4999):
        np.testing.assert_allclose(batch[i], enc.encode(texts[i]), atol=1e-6)


def test_one_text_encodes_to_the_same_bits_alone_or_in_a_batch() -> None:
    enc = RandomIndexEncoder(dim=64)
    texts = [f"run {i} batch item word{i * 13}" for i in range(40)] + ["", "Zürich café"]
    batch = enc.encode_batch(texts)
    for i, text in enumerate(texts):
        assert enc.encode(text).tobytes() == batch[i].tobytes()
        assert enc.encode_batch([text])[0].tobytes() == batch[i].tobytes()


def stream_words(texts: list[str]) -> list[list[str]]:
    """The words of each text as the vectorised path sees them in its stream of points."""
    points, _ = _stream(texts)
    text = points.tobytes().decode("latin-1" if points.dtype == np.uint8 else "utf-32-le")
    return [part.split() for part in text.strip("\x00").split("\x00")]


def test_ascii_fast_path_finds_the_words_of_the_pattern() -> None:
    rng = np.random.default_rng(0)
    every_char = "".join(map(chr, range(128)))
    texts = [every_char, "Hello_World, x2+3y; A-B\tC\x00D e\x00", "", "  ", "ÅNGSTRÖM 12"]
    texts += ["".join(map(chr, rng.integers(0, 128, size=40))) for _ in range(300)]
    for text in texts:
        assert tokenize(text) == _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    for batch in (texts[5:], [*texts[5:], "naïve café"], texts[1:], ["a b", "c", "d e f"]):
        words = stream_words(batch)
        # empty texts leave nothing between their NULs; compare the texts that have words
        assert [w for w in words if w] == [tokenize(t) for t in batch if tokenize(t)]


def reference_features(word: str, dim: int, seed: int) -> list[tuple[int, float]]:
    """The features of one word straight from the recipe in the module docstring."""

    def fmix32(h: int) -> int:
        h ^= h >> 16
        h = (h * 0x85EBCA6B) % 2**32
        h ^= h >> 13
        h = (h * 0xC2B2AE35) % 2**32
        return h ^ (h >> 16)

    salt_char, salt_trigram, salt_word = (
        fmix32((seed + step * 0x9E3779B9) % 2**32) for step in (1, 2, 3)
    )
    g = [fmix32(0 ^ salt_char)] + [fmix32(ord(c) ^ salt_char) for c in word]
    g.append(g[0])
    trigrams = [
        fmix32(((a * 0x9E3779B1 + b * 0x7FEB352D + c) % 2**32) ^ salt_trigram)
        for a, b, c in zip(g, g[1:], g[2:], strict=False)
    ]
    own = fmix32((sum(trigrams) % 2**32) ^ salt_word)

    def feature(h: int, weight: float) -> tuple[int, float]:
        return h * dim // 2**32, -weight if h % 2 else weight

    if word in _STOPWORDS:
        return [feature(own, 0.2)]
    return [feature(own, 1.0)] + [feature(h, 1 / len(word) ** 0.5) for h in trigrams]


def reference_vector(text: str, dim: int, seed: int) -> np.ndarray:
    words = tokenize(text)
    features = [reference_features(word, dim, seed) for word in words]
    ordered = [f[0] for f in features] + [t for f in features for t in f[1:]]
    row = np.zeros(dim, np.float32)
    for col, weight in ordered:
        row[col] += np.float32(weight)
    return row / max(np.float32(np.sqrt(np.einsum("d,d->", row, row))), np.float32(1e-30))


@pytest.mark.parametrize(("dim", "seed"), [(512, 0), (64, 3), (1000, 2**32 - 1)])
def test_vectors_follow_the_documented_recipe(dim: int, seed: int) -> None:
    texts = ["The Eiffel Tower is in Paris", "Zürich café 東京 ǅemal", "x" * 40, "a is the"]
    texts += ["their theirs then2 thé THEY w2", "\U0001d518nicode and 42"]
    enc = RandomIndexEncoder(dim, seed=seed)
    batch = enc.encode_batch(texts * _VECTORISED_FROM)
    for i, text in enumerate(texts):
        expected = reference_vector(text, dim, seed)
        np.testing.assert_allclose(enc.encode(text), expected, atol=1e-6)
        np.testing.assert_allclose(batch[i], expected, atol=1e-6)


def test_function_words_are_recognised_exactly() -> None:
    enc = RandomIndexEncoder(dim=4096)
    # a function word has one feature; a longer word or one with an extra letter has more
    for word in sorted(_STOPWORDS):
        assert np.count_nonzero(enc.encode_batch([word] * _VECTORISED_FROM)[0]) == 1
    for word in ["theirs", "then2", "thé", "iss", "ia", "whichever", "an" * 5]:
        assert np.count_nonzero(enc.encode_batch([word] * _VECTORISED_FROM)[0]) > 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=30))
def test_any_text_encodes_to_the_same_bits_alone_or_in_a_batch(texts: list[str]) -> None:
    enc = RandomIndexEncoder(dim=64, seed=7)
    batch = enc.encode_batch([*texts, *["pad words"] * _VECTORISED_FROM])
    for i, text in enumerate(texts):
        assert enc.encode(text).tobytes() == batch[i].tobytes()


def test_a_full_word_cache_starts_over_without_changing_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [f"alpha{i} beta{i % 7} gamma" for i in range(300)]
    expected = RandomIndexEncoder(dim=32, seed=5).encode_batch(texts)
    clear_feature_caches()
    monkeypatch.setattr(hashing, "_WORD_CACHE_LIMIT", 50)
    enc = RandomIndexEncoder(dim=32, seed=5)
    assert np.array_equal(np.stack([enc.encode(text) for text in texts]), expected)
    assert np.array_equal(enc.encode_batch(texts), expected)
