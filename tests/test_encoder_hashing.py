"""The default hashing encoder: deterministic, unit rows, tolerant of inflection and typos."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from hopfield_memory import Encoder, InvalidInputError, InvalidTypeError, RandomIndexEncoder
from hopfield_memory.encoders import hashing
from hopfield_memory.encoders.hashing import (
    _WORD,
    _token_lists,
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


def test_ascii_fast_path_finds_the_words_of_the_pattern() -> None:
    rng = np.random.default_rng(0)
    every_char = "".join(map(chr, range(128)))
    texts = [every_char, "Hello_World, x2+3y; A-B\tC\x00D e\x00", "", "  ", "ÅNGSTRÖM 12"]
    texts += ["".join(map(chr, rng.integers(0, 128, size=40))) for _ in range(300)]
    for text in texts:
        assert tokenize(text) == _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    for batch in (texts, texts[1:2], texts[2:4], texts[5:], [*texts[5:], "naïve café"]):
        assert _token_lists(batch) == [tokenize(text) for text in batch]


def test_words_pack_the_same_in_plain_python_and_in_numpy() -> None:
    enc = RandomIndexEncoder(dim=64, seed=3)
    words = [
        "a",
        "the",
        "paris",
        "zürich",
        "東京",
        "x" * 40,
        "w2",
        "is",
        "ǅemal",
        "\U0001d518nicode",
    ]
    assert enc._pack_many(words) == [enc._pack(word) for word in words]
    names = [f"c:{word[:3]}".encode() for word in words * 10]  # past the numpy threshold
    assert len(names) >= hashing._HASH_IN_NUMPY_FROM
    assert enc._hash(names) == [enc._hash([name])[0] for name in names]


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
