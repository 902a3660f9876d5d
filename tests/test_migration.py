"""Importing mhn-ai-agent-memory 1.0 JSON files, and JSON Lines export/import."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import FACTS

from hopfield_memory import HopfieldMemory, PersistenceFormatError, RandomIndexEncoder

BASELINE_PYTHON = Path("/work/baseline-venv/bin/python")


def legacy_file(path: Path, *, sentinel: bool | None = True, repulsive: bool = False) -> Path:
    """A file with the fields mhn-ai-agent-memory 1.0 writes (its vectors are not reused)."""
    rng = np.random.default_rng(0)
    facts = list(FACTS[:4])
    patterns = rng.standard_normal((4, 16)).tolist()
    if sentinel is not False:
        facts = ["", *facts]
        patterns = [[0.0] * 16, *patterns]
    data = {
        "dim": 16,
        "beta": 10.0,
        "adaptive_beta": True,
        "repulsive": repulsive,
        "facts": facts,
        "patterns": patterns,
        "encoder_type": "RandomIndexEncoder",
    }
    if sentinel is not None:
        data["sentinel"] = sentinel
        data["sentinel_idx"] = 0 if sentinel else -1
    if repulsive:
        data |= {
            "beta_neg": 6.0,
            "clamp_radius": 1.5,
            "negative_facts": ["a confusable decoy"],
            "negative_patterns": [[0.5] * 16],
        }
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("sentinel", [True, False, None])
def test_legacy_json_imports_texts_in_order(tmp_path: Path, sentinel: bool | None) -> None:
    mem = HopfieldMemory.load(legacy_file(tmp_path / "old.json", sentinel=sentinel))
    assert mem.all_facts() == FACTS[:4]
    assert [f.id for f in mem] == [0, 1, 2, 3]
    assert mem.sentinel is (sentinel is not False)
    assert mem.query_or_none("Eiffel Tower Paris") == FACTS[0]  # re-encoded with the 2.0 encoder
    mem.save(tmp_path / "new.hmem")
    assert HopfieldMemory.load(tmp_path / "new.hmem").all_facts() == FACTS[:4]


def test_legacy_negatives_and_encoder(tmp_path: Path) -> None:
    path = legacy_file(tmp_path / "old.json", repulsive=True)
    mem = HopfieldMemory.load(path, encoder=RandomIndexEncoder(dim=64, seed=9))
    assert mem.dim == 64
    assert [f.text for f in mem._negatives] == ["a confusable decoy"]


@pytest.mark.parametrize(
    "content",
    ['{"facts": [1, 2]}', '{"dim": 4}', '{"facts": ["a"', "[1, 2, 3]"],
)
def test_bad_json_is_a_format_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "old.json"
    path.write_text(content)
    with pytest.raises(PersistenceFormatError):
        HopfieldMemory.load(path)


@pytest.mark.skipif(not BASELINE_PYTHON.exists(), reason="no mhn-ai-agent-memory 1.0 venv")
def test_a_file_written_by_the_real_1_0(tmp_path: Path) -> None:
    path = tmp_path / "real.json"
    script = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from hopfield_memory import HopfieldMemory\n"
        "from hopfield_memory.encoders import RandomIndexEncoder\n"
        "m = HopfieldMemory(encoder=RandomIndexEncoder(dim=64))\n"
        "for f in sys.argv[2:]: m.store(f)\n"
        "m.save(sys.argv[1])\n"
    )
    subprocess.run(
        [str(BASELINE_PYTHON), "-c", script, str(path), *FACTS],
        check=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    mem = HopfieldMemory.load(path)
    assert mem.all_facts() == FACTS
    assert mem.query_or_none("capital of Japan") == "The capital of Japan is Tokyo"


# ------------------------------------------------------------------------------ JSON Lines


def test_jsonl_round_trip_with_vectors_is_exact(mem: HopfieldMemory, tmp_path: Path) -> None:
    mem.forget(1)
    path = tmp_path / "facts.jsonl"
    assert mem.export_jsonl(path, vectors=True) == len(mem)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["format"] == "hopfield-memory-jsonl"
    other = HopfieldMemory()
    ids = other.import_jsonl(path)
    assert [f.text for f in other] == [f.text for f in mem]
    assert [f.metadata for f in other] == [f.metadata for f in mem]
    source = np.stack([mem._store.vector(f.id) for f in mem])
    np.testing.assert_array_equal(np.stack([other._store.vector(i) for i in ids]), source)


def test_jsonl_moves_between_encoders(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    mem.export_jsonl(path, vectors=True)
    with HopfieldMemory.open(tmp_path / "m.db", encoder=RandomIndexEncoder(dim=96)) as durable:
        durable.import_jsonl(path)  # other fingerprint: texts are encoded again
        assert durable.query_or_none("Eiffel Tower Paris") == FACTS[0]
        assert len(durable) == len(mem)
        with pytest.raises(PersistenceFormatError, match="unusable vectors"):
            durable.import_jsonl(path, use_vectors=True)  # 512-long vectors cannot fit dim 96
        assert len(durable) == len(mem)


def test_bad_jsonl_stores_nothing(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    mem.export_jsonl(path)
    path.write_text(path.read_text() + '{"text": "fine"}\n{"text": \n')
    target = HopfieldMemory()
    with pytest.raises(PersistenceFormatError, match="line"):
        target.import_jsonl(path)
    assert len(target) == 0


def test_jsonl_export_to_a_stream_equals_the_file(mem: HopfieldMemory, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    mem.export_jsonl(path, vectors=True)
    stream = io.StringIO()
    assert mem.export_jsonl(stream, vectors=True) == len(mem)
    assert stream.getvalue() == path.read_text(encoding="utf-8")


def test_jsonl_import_reports_progress(
    mem: HopfieldMemory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "facts.jsonl"
    mem.export_jsonl(path)
    target = HopfieldMemory()
    with caplog.at_level(logging.INFO, logger="hopfield_memory.progress"):
        ids = target.import_jsonl(path, progress=False)  # no bar: the INFO log at the end
    assert len(ids) == len(mem)
    assert f"importing: {len(mem)}/{len(mem)}" in caplog.text
