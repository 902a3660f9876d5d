"""Seeded synthetic data and recall measurement for cold tiers (tests and benchmarks share them).

>>> base = clustered_unit_vectors(1000, 32, n_clusters=20, seed=0)
>>> queries, truth_rows = noisy_queries(base, 50, seed=1)
>>> found = exact_top_k(base, queries, 1)
>>> recall_at_k(found, truth_rows[:, None]) > 0.9
True
"""

from __future__ import annotations

import numpy as np

from .. import kernel

# Rows of ``base`` scored at once by :func:`exact_top_k` (bounds the scratch matrix).
_CHUNK = 65536


def clustered_unit_vectors(
    n: int,
    dim: int,
    *,
    n_clusters: int = 1000,
    spread: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """``n`` unit rows of length ``dim`` around ``n_clusters`` random unit centres, float32.

    Each row is ``normalise(centre + spread * g / sqrt(dim))`` with ``g`` standard normal, so a
    row's cosine to its centre is about ``1 / sqrt(1 + spread**2)`` (0.71 for ``spread=1``) and
    to another row of its cluster about the square of that. Built in chunks; memory is the output.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    scale = np.float32(spread / np.sqrt(dim))
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        block = out[start:stop]
        rng.standard_normal(block.shape, dtype=np.float32, out=block)
        block *= scale
        block += centres[rng.integers(0, n_clusters, stop - start)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return out


def noisy_queries(
    base: np.ndarray, n: int, *, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` cues, each a random row of ``base`` plus noise, renormalised.

    Returns ``(queries, rows)``: queries of shape (n, dim) float32 and the int64 rows of ``base``
    they were made from. The nearest stored row is usually, not always, the source row: compare
    against :func:`exact_top_k`, not against ``rows``, to measure an index.
    """
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(base), n)
    queries = rng.standard_normal((n, base.shape[1]), dtype=np.float32)
    queries *= np.float32(noise / np.sqrt(base.shape[1]))
    queries += base[rows]
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return queries, rows.astype(np.int64)


def exact_top_k(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Rows (q, k) of ``base`` with the largest inner products per query, best first (exact).

    Ties go to the lower row. Scores ``base`` in chunks with :func:`kernel.similarities`.
    """
    q = len(queries)
    k = min(k, len(base))
    best_rows = np.full((q, 0), -1, dtype=np.int64)
    best_sims = np.full((q, 0), -np.inf, dtype=np.float32)
    for start in range(0, len(base), _CHUNK):
        sims = kernel.similarities(base[start : start + _CHUNK], queries).reshape(q, -1)
        rows = kernel.top_indices(sims, min(k, sims.shape[1]))
        cand_sims = np.concatenate([best_sims, np.take_along_axis(sims, rows, axis=1)], axis=1)
        cand_rows = np.concatenate([best_rows, rows + start], axis=1)
        keep = kernel.top_indices(cand_sims.copy(), min(k, cand_sims.shape[1]))
        best_rows = np.take_along_axis(cand_rows, keep, axis=1)
        best_sims = np.take_along_axis(cand_sims, keep, axis=1)
    return best_rows


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of true neighbours found: ``|found_i ∩ truth_i| / |truth_i|`` averaged over
    queries. ``found`` (q, k') and ``truth`` (q, k) hold ids or rows; -1 in ``found`` is empty."""
    hits = 0
    for f, t in zip(found.tolist(), truth.tolist(), strict=True):
        hits += len(set(f) & set(t))
    return hits / truth.size if truth.size else 1.0
