"""store: preallocated rows, geometric growth, stable ids, O(dim) delete."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unit_rows

from hopfield_memory import UnknownIdError
from hopfield_memory.store import PatternStore


def _filled(n: int, dim: int = 4) -> tuple[PatternStore, np.ndarray]:
    store = PatternStore(dim)
    vectors = unit_rows(np.random.default_rng(0), n, dim)
    store.append(vectors, [f"fact {i}" for i in range(n)], [{"i": i} for i in range(n)])
    return store, vectors


def test_capacity_grows_geometrically_without_moving_data() -> None:
    store = PatternStore(4)
    first = store.capacity
    rng = np.random.default_rng(1)
    vectors = unit_rows(rng, 1000, 4)
    capacities = set()
    for i in range(1000):
        store.append(vectors[i : i + 1], [f"t{i}"], [{}])
        capacities.add(store.capacity)
    assert len(store) == 1000
    assert sorted(capacities) == [first * 4**k for k in range(len(capacities))]
    np.testing.assert_array_equal(store.patterns, vectors)
    assert store.patterns.flags.c_contiguous


def test_rows_can_be_written_in_place_and_a_failed_write_adds_nothing() -> None:
    store, vectors = _filled(3)

    def half_written(rows: np.ndarray) -> None:
        rows[0] = 1.0
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        store.append_encoded(half_written, ["a", "b"], [{}, {}])
    assert len(store) == 3 and store.next_id == 3
    assert not store._matrix[3:].any()  # spare rows are zeros again

    def encode(rows: np.ndarray) -> None:
        rows[:] = vectors[:2]

    assert store.append_encoded(encode, ["a", "b"], [{}, {"k": 1}]) == [3, 4]
    np.testing.assert_array_equal(store.patterns[3:], vectors[:2])
    assert store.get(4).metadata == {"k": 1}


def test_ids_are_stable_across_deletes_and_never_reused() -> None:
    store, vectors = _filled(6)
    store.remove(1)
    store.remove(4)
    assert sorted(store.ids.tolist()) == [0, 2, 3, 5]
    for fact_id in (0, 2, 3, 5):
        np.testing.assert_array_equal(store.vector(fact_id), vectors[fact_id])
        assert store.get(fact_id).text == f"fact {fact_id}"
        assert store.get(fact_id).metadata == {"i": fact_id}
    (new_id,) = store.append(vectors[:1], ["again"], [{}])
    assert new_id == 6
    assert [f.id for f in store] == [0, 2, 3, 5, 6]


def test_remove_keeps_live_rows_contiguous() -> None:
    store, _ = _filled(5)
    store.remove(0)
    assert len(store) == 4 and store.patterns.shape == (4, 4)
    assert not np.any(np.all(store.patterns == 0, axis=1))
    store.remove(store.ids[-1].item())
    assert len(store) == 3


def test_unknown_ids_raise() -> None:
    store, _ = _filled(2)
    for bad in (7, -1, "0", None):
        with pytest.raises(UnknownIdError, match="no fact with id"):
            store.row(bad)  # type: ignore[arg-type]
    store.remove(0)
    with pytest.raises(UnknownIdError):
        store.remove(0)


def test_replace_and_clear() -> None:
    store, vectors = _filled(3)
    store.replace(1, vectors[0], "new", {"x": 1})
    assert store.get(1).text == "new"
    np.testing.assert_array_equal(store.vector(1), vectors[0])
    store.clear()
    assert len(store) == 0
    (fresh,) = store.append(vectors[:1], ["a"], [{}])
    assert fresh == 3
