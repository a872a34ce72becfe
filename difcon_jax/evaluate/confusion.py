"""Confusion matrices at the three label levels: crystal system (7×7, counts written in the cells),
extinction group (112×112) and space group (230×230).

The two large ones are stored sparsely as ``[[true, predicted, count], ...]`` (a dense 230×230 table per
set and model would dominate the JSON report) and drawn as row-normalised images on a square-root colour
scale, with lines at the crystal-system boundaries so that off-diagonal mass inside a block (a wrong space
group of the right system) reads apart from mass between blocks (a wrong system).
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_array, extinction_group_array
from difcon_jax.files import atomic_savefig

LEVELS = ("cs", "eg", "sg")


def sparse_confusion(true: np.ndarray, pred: np.ndarray) -> list[list[int]]:
    """``[[true, predicted, count], ...]`` sorted by (true, predicted); labels are integer ids."""
    pairs, counts = np.unique(np.stack([np.asarray(true), np.asarray(pred)], 1), axis=0, return_counts=True)
    return [[int(t), int(p), int(n)] for (t, p), n in zip(pairs, counts)]


def _level_axes(level: str) -> tuple[int, int, np.ndarray]:
    """(number of classes, id of the first class, crystal system of each class) for 'eg' or 'sg'."""
    cs_of = crystal_system_array()
    if level == "sg":
        return 230, 1, cs_of[1:]
    eg = extinction_group_array()
    n = int(eg.max()) + 1
    first_sg = np.array([np.flatnonzero(eg == e)[0] for e in range(n)])
    return n, 0, cs_of[first_sg]


def _dense(confusion, level: str) -> np.ndarray:
    if level == "cs":
        return np.asarray(confusion, float)
    n, base, _ = _level_axes(level)
    m = np.zeros((n, n))
    for t, p, c in confusion:
        m[t - base, p - base] += c
    return m


def confusion_png(confusion, title: str, path: str, level: str = "cs") -> str:
    """Draw one confusion matrix (rows: true, normalised) to ``path`` (atomic)."""
    if level not in LEVELS:
        raise ValueError(f"confusion level {level!r} is not one of {LEVELS}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = _dense(confusion, level)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    diag = np.trace(m) / max(m.sum(), 1)
    if level == "cs":
        fig, ax = plt.subplots(figsize=(5.5, 4.8))
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        names = [c[:5] for c in CRYSTAL_SYSTEMS]
        ax.set_xticks(range(7), names, rotation=45)
        ax.set_yticks(range(7), names)
        for i, j in zip(*np.nonzero(m)):
            ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    else:
        _, _, cs = _level_axes(level)
        fig, ax = plt.subplots(figsize=(6.4, 5.8))
        cmap = plt.get_cmap("magma_r").with_extremes(bad="white")  # empty cells white: a single confusion stands out
        im = ax.imshow(np.ma.masked_equal(np.sqrt(norm), 0), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        bounds = np.flatnonzero(np.diff(cs)) + 0.5
        for b in bounds:
            ax.axhline(b, color="0.6", lw=0.5)
            ax.axvline(b, color="0.6", lw=0.5)
        edges = np.concatenate([[-0.5], bounds, [len(cs) - 0.5]])
        mids = (edges[:-1] + edges[1:]) / 2
        names = [CRYSTAL_SYSTEMS[c][:5] for c in np.unique(cs)]
        ax.set_xticks(mids, names, rotation=45, fontsize=7)
        ax.set_yticks(mids, names, fontsize=7)
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        cb.set_ticks(np.sqrt([0, 0.1, 0.25, 0.5, 1.0]), labels=["0", "0.1", "0.25", "0.5", "1"])
        cb.set_label("share of the true class's patterns", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    what = {"cs": "crystal system", "eg": "extinction group", "sg": "space group"}[level]
    ax.set_title(f"{title}\n{what}: {diag:.1%} on the diagonal", fontsize=9)
    fig.tight_layout()
    return atomic_savefig(fig, path, dpi=110)


def write_confusions(result: dict, title: str, stem: str) -> list[str]:
    """All confusion PNGs present in one score dict: ``{stem}`` with ``cs``/``eg``/``sg`` filled in."""
    return [confusion_png(result[f"confusion_{level}"], title, stem.format(level=level), level)
            for level in LEVELS if result.get(f"confusion_{level}") and result.get("n")]
