"""OpenAIEncoder with the real ``openai`` client against a local stub server on 127.0.0.1."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("openai")

from openai_stub_server import Drop, Fail, StubEmbeddingServer, stub_vector

from hopfield_memory.encoders.base import Encoder
from hopfield_memory.encoders.openai import OpenAIEncoder
from hopfield_memory.errors import (
    EncoderCredentialsError,
    EncoderRequestError,
    HopfieldMemoryError,
    InvalidInputError,
)

FAST = {"backoff_initial": 0.001, "backoff_max": 0.01, "timeout": 5.0}


@pytest.fixture
def server():
    with StubEmbeddingServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_env_credentials(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def make(server, **kwargs) -> OpenAIEncoder:
    params = {"api_key": "test-key", "base_url": server.base_url, **FAST, **kwargs}
    return OpenAIEncoder(**params)


def expected(text: str, dim: int, model_dim: int = 1536) -> np.ndarray:
    vec = stub_vector(text, model_dim)[:dim].astype(np.float64)
    return (vec / np.linalg.norm(vec)).astype(np.float32)


def test_constructor_makes_no_request_and_knows_dim(server):
    enc = make(server)
    assert enc.dim == 1536
    assert isinstance(enc, Encoder)
    assert enc.spec.backend == "openai"
    assert server.requests == []


@pytest.mark.parametrize("fmt", ["float", "base64"])
def test_vectors_match_the_server_in_both_wire_formats(server, fmt):
    enc = make(server, encoding_format=fmt)
    texts = ["the cat sat", "a dog barked loudly", "the cat sat"]
    out = enc.encode_batch(texts)
    assert out.dtype == np.float32 and out.shape == (3, 1536)
    assert out.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    for row, text in zip(out, texts, strict=True):
        np.testing.assert_allclose(row, expected(text, 1536), rtol=1e-5, atol=1e-6)
    assert len(server.requests) == 1
    body = server.requests[0].body
    assert body["encoding_format"] == fmt and body["model"] == "text-embedding-3-small"
    assert body["input"] == texts
    assert server.requests[0].headers["authorization"] == "Bearer test-key"


def test_dimensions_are_requested_and_change_the_fingerprint(server):
    small = make(server, dimensions=256)
    assert small.dim == 256
    out = small.encode("shorter vectors please")
    assert out.shape == (256,)
    np.testing.assert_allclose(out, expected("shorter vectors please", 256), rtol=1e-5, atol=1e-6)
    assert server.requests[0].body["dimensions"] == 256
    assert small.spec.fingerprint != make(server).spec.fingerprint


def test_unknown_model_learns_dim_from_the_first_request(server):
    enc = make(server, model="my-local-model")
    assert server.requests == []
    assert enc.dim == 96
    assert len(server.requests) == 1


def test_endpoint_is_part_of_the_spec(server):
    local = make(server)
    official = OpenAIEncoder(api_key="k")
    assert official.spec.options["endpoint"] == "api.openai.com"
    assert local.spec.options["endpoint"].startswith("127.0.0.1:")
    assert local.spec.fingerprint != official.spec.fingerprint
    same = make(server, endpoint_id="api.openai.com")
    assert same.spec.fingerprint == official.spec.fingerprint


def test_blank_texts_are_zero_rows_and_never_sent(server):
    enc = make(server)
    out = enc.encode_batch(["", "hello world", "   \n", "bye"])
    assert not out[0].any() and not out[2].any()
    np.testing.assert_allclose(np.linalg.norm(out[[1, 3]], axis=1), 1.0, rtol=1e-5)
    assert [r.body["input"] for r in server.requests] == [["hello world", "bye"]]
    assert not enc.encode("  ").any()
    assert len(server.requests) == 1
    assert enc.encode_batch([]).shape == (0, 1536)


def test_batches_respect_count_and_token_budgets(server):
    enc = make(server, batch_size=3, max_request_tokens=20)
    texts = [f"w{i}" for i in range(7)] + ["x" * 15, "y" * 15, "z" * 30]
    out = enc.encode_batch(texts)
    sizes = [len(r.body["input"]) for r in server.requests]
    sent = [t for r in server.requests for t in r.body["input"]]
    assert sent == texts
    assert max(sizes) <= 3
    for r in server.requests:
        inputs = r.body["input"]
        assert len(inputs) == 1 or sum(len(t.encode()) for t in inputs) <= 20
    for row, text in zip(out, texts, strict=True):
        np.testing.assert_allclose(row, expected(text, 1536), rtol=1e-5, atol=1e-6)
    # batch and single encodes agree
    np.testing.assert_allclose(enc.encode("w3"), out[3], rtol=1e-6)


def test_default_batch_size_is_the_endpoint_limit(server):
    enc = make(server)
    enc.encode_batch([f"t{i}" for i in range(2049)])
    assert [len(r.body["input"]) for r in server.requests] == [2048, 1]


def test_429_then_success_is_retried_with_backoff(server, caplog):
    enc = make(server)
    waits: list[float] = []
    enc._sleep = waits.append
    server.script(Fail(429, "slow down"), Fail(429, "slow down"))
    with caplog.at_level(logging.WARNING, logger="hopfield_memory.encoders.openai"):
        out = enc.encode("retry me")
    np.testing.assert_allclose(out, expected("retry me", 1536), rtol=1e-5, atol=1e-6)
    assert len(server.requests) == 3
    assert waits == [pytest.approx(0.001), pytest.approx(0.002)]
    assert "HTTP 429" in caplog.text


def test_retry_after_header_is_honoured_up_to_the_cap(server):
    enc = make(server, backoff_max=0.05)
    waits: list[float] = []
    enc._sleep = waits.append
    server.script(
        Fail(429, headers={"retry-after": "0.03"}), Fail(429, headers={"retry-after": "9"})
    )
    enc.encode("x")
    assert waits == [pytest.approx(0.03), pytest.approx(0.05)]


def test_5xx_is_retried(server):
    enc = make(server)
    server.script(Fail(500), Fail(503))
    assert enc.encode("server hiccup").shape == (1536,)
    assert len(server.requests) == 3


def test_persistent_5xx_gives_up_after_max_retries(server):
    enc = make(server, max_retries=2)
    server.always(Fail(502, "bad gateway"))
    with pytest.raises(EncoderRequestError, match=r"HTTP 502 after 3 attempts") as info:
        enc.encode("never")
    assert info.value.status_code == 502 and info.value.attempts == 3
    assert len(server.requests) == 3


def test_400_raises_at_once_with_the_server_message(server):
    enc = make(server)
    server.script(Fail(400, "input is too long"))
    with pytest.raises(EncoderRequestError, match=r"HTTP 400.*input is too long") as info:
        enc.encode("bad")
    assert isinstance(info.value, HopfieldMemoryError)
    assert info.value.status_code == 400 and info.value.attempts == 1
    assert len(server.requests) == 1


def test_401_is_a_credentials_error_without_retry(server):
    enc = make(server)
    server.script(Fail(401, "Incorrect API key provided"))
    with pytest.raises(EncoderCredentialsError, match=r"rejected the API key.*Incorrect API key"):
        enc.encode("x")
    assert len(server.requests) == 1


def test_missing_key_raises_at_first_encode_not_at_construction(server):
    enc = OpenAIEncoder(base_url=server.base_url, **FAST)  # no key anywhere: still constructs
    assert enc.dim == 1536
    with pytest.raises(EncoderCredentialsError, match="OPENAI_API_KEY"):
        enc.encode("x")
    assert server.requests == []


def test_key_is_read_from_the_environment_at_first_encode(server, monkeypatch):
    enc = OpenAIEncoder(base_url=server.base_url, **FAST)
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    enc.encode("x")
    assert server.requests[0].headers["authorization"] == "Bearer from-env"


def test_dropped_connection_is_retried(server):
    enc = make(server)
    server.script(Drop())
    assert enc.encode("after a drop").shape == (1536,)
    assert len(server.requests) == 2


def test_persistent_connection_failure_raises(server):
    enc = make(server, max_retries=2)
    server.always(Drop())
    with pytest.raises(EncoderRequestError, match=r"could not reach.*after 3 attempts") as info:
        enc.encode("x")
    assert info.value.status_code is None
    assert len(server.requests) == 3


def test_unreachable_port_raises_after_retries():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    enc = OpenAIEncoder(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, **FAST)
    with pytest.raises(EncoderRequestError, match="could not reach"):
        enc.encode("x")


def test_wrong_vector_length_is_reported(server):
    enc = make(server, model="text-embedding-3-small", endpoint_id="x")
    enc._dim = 10  # pretend the table said 10: the server's 1536 must be refused
    with pytest.raises(EncoderRequestError, match="length"):
        enc.encode("x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": 2049},
        {"dimensions": 0},
        {"max_retries": -1},
        {"encoding_format": "hex"},
        {"model": ""},
        {"backoff_initial": -1.0},
    ],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(InvalidInputError):
        OpenAIEncoder(**kwargs)


def test_non_text_input_is_refused(server):
    enc = make(server)
    with pytest.raises(TypeError):
        enc.encode_batch("not a list")
    with pytest.raises(TypeError):
        enc.encode(3)  # type: ignore[arg-type]
    assert server.requests == []
