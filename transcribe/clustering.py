"""Group voice embeddings by speaker: average-linkage clustering on cosine similarity, in numpy.

Pure: vectors in, cluster numbers out. The number of speakers is where merging stops
(the most similar pair of clusters is less alike than `threshold`), or the caller's
count; tiny clusters (a cough, a laugh, one window at a turn change) are folded into
the nearest real one, so they do not count as speakers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Above this many windows (about 40 min of speech), cluster an even sample and give the
# rest their nearest cluster: the similarity matrix grows with the square.
MAX_POINTS = 3000


def unit(vectors: NDArray[np.floating]) -> NDArray[np.float64]:
    """Rows scaled to unit length (zero rows stay zero).

    >>> unit(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


def agglomerate(similarity: NDArray[np.float64], threshold: float, clusters: int | None = None) -> NDArray[np.int64]:
    """Average-linkage merging of a symmetric similarity matrix; cluster number per row.

    Merges the most similar pair of clusters until `clusters` remain, or (without it)
    until no pair is at least `threshold` alike. Each cluster's best partner is cached,
    so a merge costs O(n) and the whole run O(n^2).

    >>> s = np.array([[1, .9, .1], [.9, 1, .2], [.1, .2, 1]])
    >>> agglomerate(s, 0.5).tolist(), agglomerate(s, 0.0).tolist(), agglomerate(s, 0.95, 1).tolist()
    ([0, 0, 1], [0, 0, 0], [0, 0, 0])
    """
    n = len(similarity)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sim = np.array(similarity, dtype=np.float64)
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n)
    active = np.ones(n, dtype=bool)
    owner = np.arange(n)
    best = sim.argmax(axis=1)
    best_sim = sim[np.arange(n), best]
    remaining = n
    while remaining > 1:
        candidates = np.where(active, best_sim, -np.inf)
        i = int(np.argmax(candidates))
        j = int(best[i])
        if (clusters is not None and remaining <= clusters) or (clusters is None and candidates[i] < threshold):
            break
        # Lance-Williams for average linkage: the merged row is the size-weighted mean.
        merged = (size[i] * sim[i] + size[j] * sim[j]) / (size[i] + size[j])
        sim[i], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j], sim[:, j] = -np.inf, -np.inf
        size[i] += size[j]
        active[j] = False
        owner[owner == j] = i
        remaining -= 1
        # Rows that pointed at i or j look again; others may now prefer the merged i.
        stale = active & ((best == i) | (best == j))
        stale[i] = True
        for k in np.flatnonzero(stale):
            best[k] = int(sim[k].argmax())
            best_sim[k] = sim[k, best[k]]
        better = active & (sim[:, i] > best_sim)
        best[better], best_sim[better] = i, sim[better, i]
    _, labels = np.unique(owner, return_inverse=True)
    return labels.astype(np.int64)


def centroids(vectors: NDArray[np.float64], labels: NDArray[np.int64], count: int) -> NDArray[np.float64]:
    """Unit-length mean vector of each cluster 0..count-1."""
    sums = np.zeros((count, vectors.shape[1]))
    np.add.at(sums, labels, vectors)
    return unit(sums)


def cluster(
    embeddings: NDArray[np.floating],
    *,
    threshold: float,
    num_speakers: int | None = None,
    max_speakers: int = 6,
    weights: NDArray[np.floating] | None = None,
    min_weight: float = 0.0,
) -> NDArray[np.int64]:
    """Speaker number (0, 1, ...) for each embedding, numbered by first appearance.

    `num_speakers` fixes the count (as far as there are embeddings); otherwise merging
    stops at `threshold` and the count is capped at `max_speakers`. Without a fixed
    count, clusters whose total `weights` (seconds of speech) are under `min_weight`
    are folded into their most similar cluster. Finally every embedding goes to the
    cluster whose mean it is closest to.

    >>> v = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [1, 0.05]])
    >>> cluster(v, threshold=0.5).tolist(), cluster(v, threshold=0.5, num_speakers=1).tolist()
    ([0, 0, 1, 1, 0], [0, 0, 0, 0, 0])
    """
    vectors = unit(embeddings)
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    sample = np.arange(n) if n <= MAX_POINTS else np.linspace(0, n - 1, MAX_POINTS).round().astype(np.int64)
    target = min(num_speakers, len(sample)) if num_speakers else None
    labels = agglomerate(vectors[sample] @ vectors[sample].T, threshold, target)
    count = int(np.max(labels)) + 1
    if target is None and count > max_speakers:
        labels = agglomerate(vectors[sample] @ vectors[sample].T, threshold, max_speakers)
        count = max_speakers
    means = centroids(vectors[sample], labels, count)
    if target is None:
        means = _drop_small(vectors, means, w, min_weight)
    assigned = (vectors @ means.T).argmax(axis=1)
    return _by_first_appearance(assigned)


def _drop_small(
    vectors: NDArray[np.float64], means: NDArray[np.float64], weights: NDArray[np.float64], min_weight: float
) -> NDArray[np.float64]:
    """Cluster means left after folding the lightest cluster under min_weight into the others, repeatedly."""
    while len(means) > 1:
        assigned = (vectors @ means.T).argmax(axis=1)
        totals = np.bincount(assigned, weights=weights, minlength=len(means))
        lightest = int(np.argmin(totals))
        if totals[lightest] >= min_weight:
            break
        keep = np.arange(len(means)) != lightest
        kept = means[keep]
        # Recompute the kept means with the folded cluster's vectors given to their nearest.
        assigned = (vectors @ kept.T).argmax(axis=1)
        means = centroids(vectors, assigned, len(kept))
    return means


def _by_first_appearance(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Renumber so that cluster 0 appears first, 1 next, and so on (empty ones vanish).

    >>> _by_first_appearance(np.array([2, 2, 0, 3, 0])).tolist()
    [0, 0, 1, 2, 1]
    """
    order: dict[int, int] = {}
    for label in labels.tolist():
        order.setdefault(label, len(order))
    return np.array([order[label] for label in labels.tolist()], dtype=np.int64)
