"""TieredMemory: one softmax over hot facts and cold candidates; tier moves, presets, saving."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import FACTS

from hopfield_memory import (
    HopfieldMemory,
    TieredMemory,
    large_memory,
    massive_memory,
    medium_memory,
    small_memory,
)
from hopfield_memory.cold.evaluation import clustered_unit_vectors, noisy_queries
from hopfield_memory.errors import (
    InvalidInputError,
    PersistenceNotFoundError,
    RepulsionDisabledError,
    UnknownIdError,
)
from hopfield_memory.gate import AbstainReason

DIM = 48


def flat_and_tiered(n: int, max_hot: int, seed: int = 0) -> tuple[HopfieldMemory, TieredMemory]:
    base = clustered_unit_vectors(n, DIM, n_clusters=max(2, n // 8), seed=seed)
    texts = [f"fact {i}" for i in range(n)]
    metas = [{"i": i} for i in range(n)]
    flat = HopfieldMemory(dim=DIM)
    tiered = TieredMemory(dim=DIM, max_hot=max_hot, cold_top_k=n, hot_confidence=None)
    assert flat.store_vectors(base, texts, metas) == tiered.store_vectors(base, texts, metas)
    return flat, tiered


def assert_same_reports(flat: HopfieldMemory, tiered: TieredMemory, cues: np.ndarray) -> None:
    for a, b in zip(
        flat.match_quality_vectors(cues, top_k=3),
        tiered.match_quality_vectors(cues, top_k=3),
        strict=True,
    ):
        assert [c.id for c in a.candidates] == [c.id for c in b.candidates]
        assert [c.text for c in a.candidates] == [c.text for c in b.candidates]
        assert a.is_match == b.is_match and a.reason == b.reason
        for key in ("max_similarity", "gap", "sentinel_weight", "top_confidence", "energy"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
        np.testing.assert_allclose(
            [c.weight for c in a.candidates], [c.weight for c in b.candidates], rtol=1e-4
        )


@pytest.mark.parametrize("max_hot", [1, 7, 40, 500])
def test_equals_flat_memory_on_small_data_with_exact_tiers(max_hot: int) -> None:
    flat, tiered = flat_and_tiered(120, max_hot)
    assert tiered.num_hot == min(max_hot, 120) and len(tiered) == 120
    base = np.stack([flat.vectors([i])[0] for i in range(120)])
    cues, _ = noisy_queries(base, 40, noise=0.8, seed=1)
    far = clustered_unit_vectors(5, DIM, seed=99)  # mostly unrelated cues: abstain the same way
    assert_same_reports(flat, tiered, np.concatenate([cues, far]))


def test_equals_flat_memory_with_text_api(tmp_path: Path) -> None:
    flat = HopfieldMemory()
    tiered = TieredMemory(max_hot=3, hot_confidence=None)
    flat.store_many(FACTS)
    tiered.store_many(FACTS)
    for cue in ["Eiffel Tower Paris", "who plays the violin", "quantum chromodynamics", "Tokyo"]:
        assert tiered.query_or_none(cue) == flat.query_or_none(cue)
        assert [t for t, _ in tiered.retrieve(cue)] == [t for t, _ in flat.retrieve(cue)]
        assert tiered.match_quality(cue).is_match == flat.match_quality(cue).is_match
    assert tiered.query("Eiffel Tower") == flat.query("Eiffel Tower")
    assert sorted(tiered.all_facts()) == sorted(FACTS)


def test_cold_answers_re_scored_from_stored_vectors() -> None:
    base = clustered_unit_vectors(600, DIM, n_clusters=30, seed=2)
    tiered = TieredMemory(
        dim=DIM, max_hot=50, cold="faiss-ivf", cold_options={"nlist": 8, "nprobe": 2}
    )
    pytest.importorskip("faiss")
    tiered.store_vectors(base, [f"f{i}" for i in range(600)])
    assert tiered.cold_tier.is_trained  # type: ignore[attr-defined]
    report = tiered.match_quality_vectors(base[3])[0]
    best = report.candidates[0]
    assert best.id == 3 and best.similarity == pytest.approx(1.0, abs=1e-5)


def test_moves_between_tiers_never_lose_or_duplicate_facts() -> None:
    """A randomized sequence of stores, forgets and (promoting) reads, checked against a flat
    memory holding the same facts after every step."""
    rng = np.random.default_rng(0)
    pool = clustered_unit_vectors(400, DIM, n_clusters=20, seed=4)
    flat = HopfieldMemory(dim=DIM)
    tiered = TieredMemory(
        dim=DIM, max_hot=12, cold_top_k=400, hot_confidence=None, promote_after=1.5, half_life=50
    )
    next_row = 0
    promoted = 0
    for _step in range(150):
        action = rng.choice(["store", "forget", "read", "read", "read"])
        if action == "store" or len(flat) < 3:
            k = int(rng.integers(1, 6))
            rows = np.arange(next_row, next_row + k) % len(pool)
            texts = [f"fact {next_row + j}" for j in range(k)]
            next_row += k
            assert flat.store_vectors(pool[rows], texts) == tiered.store_vectors(pool[rows], texts)
        elif action == "forget":
            victim = int(rng.choice([f.id for f in flat]))
            assert tiered.forget(victim) == flat.forget(victim)
        else:
            target = flat.get(int(rng.choice([f.id for f in flat])))
            cue = flat.vectors([target.id])
            was_cold = tiered.tier_of(target.id) == "cold"
            for _ in range(2):
                assert_same_reports(flat, tiered, cue)
            promoted += was_cold and tiered.tier_of(target.id) == "hot"
        hot_ids = {f.id for f in tiered._hot}
        cold_ids = set(tiered.cold_tier.ids().tolist())
        assert not hot_ids & cold_ids
        assert hot_ids | cold_ids == {f.id for f in flat}
        assert len(hot_ids) <= 12
        assert list(tiered) == list(flat)
    assert promoted > 0


def test_a_cold_fact_that_keeps_winning_is_promoted_and_evicts_the_least_used() -> None:
    base = clustered_unit_vectors(30, DIM, n_clusters=30, seed=6)
    tiered = TieredMemory(dim=DIM, max_hot=5, hot_confidence=None, half_life=1000)
    tiered.store_vectors(base, [f"f{i}" for i in range(30)])
    assert [tiered.tier_of(i) for i in range(30)] == ["cold"] * 25 + ["hot"] * 5
    for i in (26, 27, 28, 29):  # used hot facts
        tiered.match_quality_vectors(base[i])
    first = tiered.match_quality_vectors(base[3])[0]
    assert first.best is not None and first.best.id == 3 and tiered.tier_of(3) == "cold"
    second = tiered.match_quality_vectors(base[3])[0]
    assert second.best is not None and second.best.id == 3  # the answer is not changed by a move
    assert tiered.tier_of(3) == "hot" and tiered.tier_of(25) == "cold"  # 25: never used
    assert tiered.num_hot == 5 and len(tiered) == 30


def test_abstention_works_at_every_size() -> None:
    dim = 384  # unrelated random cues stay far below min_similarity
    far = clustered_unit_vectors(20, dim, n_clusters=20, seed=123)
    for n, max_hot in [(0, 4), (1, 4), (10, 4), (300, 4), (300, 1000)]:
        base = clustered_unit_vectors(max(n, 1), dim, n_clusters=10, seed=7)[:n]
        tiered = TieredMemory(dim=dim, max_hot=max_hot)
        tiered.store_vectors(base, [f"f{i}" for i in range(n)])
        reports = tiered.match_quality_vectors(far)
        assert not any(r.is_match for r in reports), n
        if n == 0:
            assert reports[0].reason is AbstainReason.EMPTY_MEMORY
        else:
            hits = tiered.match_quality_vectors(base[: min(n, 5)])
            assert all(r.is_match for r in hits), n
            assert [r.best.id for r in hits if r.best] == list(range(min(n, 5)))


def test_forget_get_and_errors() -> None:
    tiered = TieredMemory(max_hot=2)
    ids = tiered.store_many(FACTS[:4], [{"n": i} for i in range(4)])
    assert tiered.get(ids[0]).metadata == {"n": 0} and tiered.tier_of(ids[0]) == "cold"
    tiered.forget(ids[0])
    assert ids[0] not in tiered and len(tiered) == 3
    with pytest.raises(UnknownIdError):
        tiered.forget(ids[0])
    with pytest.raises(UnknownIdError):
        tiered.tier_of(99)
    assert tiered.query_or_none(FACTS[0]) is None
    with pytest.raises(InvalidInputError):
        TieredMemory(max_hot=0)


def assert_same_answers(a: TieredMemory, b: TieredMemory, cues: list[str]) -> None:
    for cue in cues:
        x, y = a.match_quality(cue).as_dict(), b.match_quality(cue).as_dict()
        for d in (x, y):  # facts with equal similarity may come in either order
            d["candidates"] = [c for c in d["candidates"] if c["similarity"] > 0]
        assert x == y, cue


CUES = ["Eiffel Tower Paris", "violin", "nothing like this at all"]


def test_save_load_round_trip_in_the_memory_file_format(tmp_path: Path) -> None:
    tiered = TieredMemory(max_hot=3, hot_confidence=None, repulsive=True)
    ids = tiered.store_many(FACTS, [{"n": i} for i in range(len(FACTS))])
    tiered.store_negative("Tokyo is the capital of France")
    tiered.query_or_none("Eiffel Tower Paris")
    tiered.forget(ids[1])
    snapshot = tmp_path / "mem.sqlite"
    tiered.save(snapshot)
    again = TieredMemory.load(snapshot)
    assert list(again) == list(tiered) and again.negatives() == tiered.negatives()
    placement = {f.id: tiered.tier_of(f.id) for f in tiered}
    assert {f.id: again.tier_of(f.id) for f in again} == placement
    assert again.max_hot == 3 and again.hot_confidence is None and again.repulsive
    assert_same_answers(again, tiered, CUES)
    assert again.store("next") == tiered.store("next")
    # every fact, hot or cold, is a row: a flat memory reads the same file whole
    flat = HopfieldMemory.load(snapshot)
    assert list(flat) == [f for f in tiered if f.text != "next"]
    # and a tiered memory reads any flat memory file, newest facts hot
    flat.save(tmp_path / "flat.sqlite")
    from_flat = TieredMemory.load(tmp_path / "flat.sqlite", max_hot=2, cold_top_k=64)
    assert list(from_flat) == list(flat) and from_flat.num_hot == 2
    assert from_flat.tier_of(max(f.id for f in flat)) == "hot"
    with pytest.raises(PersistenceNotFoundError):
        TieredMemory.load(tmp_path / "missing.sqlite")


def test_durable_tiered_memory_commits_every_write_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "tiers.sqlite"
    with TieredMemory.open(path, max_hot=2, hot_confidence=None) as mem:
        ids = mem.store_many(FACTS[:5], [{"n": i} for i in range(5)])
        assert mem.num_hot == 2 and mem.num_cold == 3
        cold_id = next(i for i in ids if mem.tier_of(i) == "cold")
        mem.update(cold_id, "The violin has four strings", {"edited": True})
        mem.forget(ids[-1])
        other = TieredMemory.open(path)  # a second handle sees every committed write
        assert list(other) == list(mem) and other.max_hot == 2
        other.store("Mount Everest is the highest mountain")
        assert len(mem) == 5 and mem.query_or_none("highest mountain Everest") is not None
        other.close()
        before = list(mem)
        placement = {f.id: mem.tier_of(f.id) for f in mem}
    # a flat handle reads the same namespace: all facts are rows of the file
    assert list(HopfieldMemory.load(path)) == before
    with TieredMemory.open(path) as again:  # the layout saved by close() places the facts
        assert list(again) == before and again.max_hot == 2 and again.hot_confidence is None
        assert {f.id: again.tier_of(f.id) for f in again} == placement
        assert again.get(cold_id).metadata == {"edited": True}
        assert again.store("one more") == max(placement) + 1
    with pytest.raises(InvalidInputError, match="other parameters"):
        TieredMemory.open(path, beta=5.0)
    with TieredMemory.open(path, max_hot=1) as smaller:  # tier options may change per handle
        assert smaller.num_hot == 1 and len(smaller) == len(before) + 1


def test_negatives_abstain_and_multi_step_matches_flat_memory() -> None:
    n = 60
    base = clustered_unit_vectors(n, DIM, n_clusters=12, seed=3)
    texts = [f"fact {i}" for i in range(n)]
    options = {"dim": DIM, "num_steps": None, "repulsive": True}
    flat = HopfieldMemory(**options)
    tiered = TieredMemory(**options, max_hot=9, cold_top_k=n, hot_confidence=None)
    flat.store_vectors(base, texts)
    tiered.store_vectors(base, texts)
    cues, _ = noisy_queries(base, 20, noise=0.6, seed=5)
    assert_same_reports(flat, tiered, cues)
    negative = clustered_unit_vectors(1, DIM, seed=77)
    # the same vector in both memories (a text would encode to a vector unlike these clusters)
    flat.negative_rows.append(negative, ["never"], [{}])
    tiered._hot.negative_rows.append(negative, ["never"], [{}])
    assert_same_reports(flat, tiered, np.concatenate([cues, negative]))
    report = tiered.match_quality_vectors(negative)[0]
    assert report.reason is AbstainReason.NEGATIVE_MATCH
    assert tiered.negatives()[0].text == "never"
    with pytest.raises(RepulsionDisabledError):
        TieredMemory().store_negative("no negatives here")


def test_update_keeps_id_and_tier_and_calibrate_matches_flat_memory() -> None:
    flat = HopfieldMemory()
    tiered = TieredMemory(max_hot=3, hot_confidence=None)
    flat.store_many(FACTS)
    ids = tiered.store_many(FACTS)
    cold_id, hot_id = ids[0], ids[-1]
    for fact_id in (cold_id, hot_id):
        tier = tiered.tier_of(fact_id)
        tiered.update(fact_id, f"Replaced fact number {fact_id} about zebras", {"v": 2})
        flat.update(fact_id, f"Replaced fact number {fact_id} about zebras", {"v": 2})
        assert tiered.tier_of(fact_id) == tier and tiered.get(fact_id) == flat.get(fact_id)
    assert tiered.query_or_none(f"zebras number {cold_id}") == flat.get(cold_id).text
    with pytest.raises(UnknownIdError):
        tiered.update(999, "no such fact")
    assert tiered.calibrate() == flat.calibrate()
    examples = [("Eiffel Tower Paris", FACTS[0]), ("quantum chromodynamics", None)]
    assert tiered.calibrate(examples) == flat.calibrate(examples)
    assert tiered.policy == flat.policy


def test_presets_build_with_documented_settings(tmp_path: Path) -> None:
    small, medium = small_memory(), medium_memory()
    assert isinstance(small, HopfieldMemory) and small.dim == 256
    assert isinstance(medium, HopfieldMemory) and medium.dim == 512
    pytest.importorskip("faiss")
    massive = massive_memory()
    assert massive.max_hot == 4096 and massive.cold_tier.kind == "faiss-ivf"
    assert massive.cold_tier.config()["nlist"] == 2048
    assert massive.path is None  # in memory when no path is given
    path = tmp_path / "large.sqlite"
    large = large_memory(path=path)  # a path: both tiers live in that durable file
    assert large.max_hot == 10_000 and large.cold_tier.kind == "faiss-flat"
    assert large.path == str(path)
    large.store_many(FACTS)
    assert large.query_or_none("Eiffel Tower Paris") == FACTS[0]
    large.close()
    assert large_memory().path is None
    again = large_memory(path=path)
    assert again.query_or_none("Eiffel Tower Paris") == FACTS[0] and len(again) == len(FACTS)
    again.close()


def test_no_preset_defaults_to_a_temp_dir() -> None:
    pytest.importorskip("faiss")
    temp = Path(tempfile.gettempdir())
    for preset in (large_memory, massive_memory):
        memory = preset()
        assert memory.path is None or temp not in Path(memory.path).parents
