"""The API reference is generated from the code and must match it; every export is documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _builder():
    spec = importlib.util.spec_from_file_location("build_api", DOCS / "build_api.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_api_reference_is_up_to_date() -> None:
    rendered = _builder().render()
    assert (DOCS / "api.md").read_text(encoding="utf-8") == rendered, (
        "docs/api.md is stale: run `python docs/build_api.py`"
    )


def test_every_documented_member_has_a_summary() -> None:
    undocumented = [
        line for line in _builder().render().splitlines() if line.rstrip().endswith(("):", "`:"))
    ]
    assert undocumented == []
