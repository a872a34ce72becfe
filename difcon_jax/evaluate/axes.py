"""Simulated test axes: render each structure once under an augmentation config and score the model.

* equivariance — structures of the held-out split (Split.EQUIVARIANCE_TEST), training augmentation ranges;
* invariance — training structures, the disjoint invariance-test sources and ranges (``cfg.eval.invariance``,
  from configs/augment_invariance.py).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.data.split import Split


def render_set(table, rows: np.ndarray, aug_cfg, seed: int, batch: int = 256) -> np.ndarray:
    """float32[len(rows), n_bins]: one augmentation per structure (deterministic in ``seed``)."""
    from difcon_jax.augment import device_table, gather, make_augment_batch

    augment = jax.jit(make_augment_batch(aug_cfg))
    dev = device_table(table.subset(rows))
    out = []
    for i in range(0, len(rows), batch):
        idx = np.arange(i, min(i + batch, len(rows)))
        pad = np.resize(idx, batch)  # fixed shape: one compilation
        out.append(np.asarray(augment(jax.random.fold_in(jax.random.key(seed), i), gather(dev, jnp.asarray(pad))))[:len(idx)])
    return np.concatenate(out) if out else np.zeros((0, aug_cfg.n_bins), np.float32)


def invariance_augment(cfg):
    """The invariance axis' augmentation config: the model's own (grid, input path, switches) with the
    held-out ``sources`` and ``ranges`` of ``cfg.eval.invariance``. Configs saved before those were embedded
    name a config instead (``eval.invariance_config``), whose sources and ranges are used the same way."""
    import ml_collections

    held = cfg.eval.get("invariance")
    if held is None:
        from difcon_jax.config import default_config_path, load_config

        held = load_config(default_config_path(cfg.eval.get("invariance_config", "augment_invariance")))
    aug = ml_collections.ConfigDict(cfg.augment.to_dict())
    aug.sources = held.sources
    aug.ranges = ml_collections.ConfigDict(held.ranges.to_dict())
    return aug


def axis_sets(cfg, table, seed: int = 1234) -> dict:
    """{'equivariance' | 'invariance': (rows, profiles)} with cfg.eval.num_structures structures each."""
    n = int(cfg.eval.num_structures)
    split = np.asarray(table.split)
    rng = np.random.default_rng(seed)
    inv_cfg = invariance_augment(cfg)
    sets = {}
    for axis, rows, aug in (("equivariance", np.flatnonzero(split == Split.EQUIVARIANCE_TEST), cfg.augment),
                            ("invariance", np.flatnonzero(split == Split.TRAIN), inv_cfg)):
        rows = np.sort(rng.permutation(rows)[:n])
        sets[axis] = (rows, render_set(table, rows, aug, seed, batch=int(cfg.eval.batch_size)))
    return sets


def evaluate_axes(cfg, model, params, table, seed: int = 1234, temperature: float = 1.0, sets=None) -> dict:
    """Scores on the equivariance and invariance axes (cfg.eval.num_structures structures each)."""
    from difcon_jax.evaluate.report import score
    from difcon_jax.train.predict import predict

    sets = sets or axis_sets(cfg, table, seed)
    report = {}
    for axis, (rows, x) in sets.items():
        report[axis] = (score(predict(model, params, x, temperature=temperature), np.asarray(table.space_group)[rows])
                        if len(rows) else {"n": 0})
    return report


def read_labels(folder: str) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """``labels.csv`` of a folder of measured patterns: ([(file path, space group 1–230)], [(row, reason)]).

    A missing file or a missing ``file`` / ``space_group`` column is an error (before any other work); a
    row with a space group that is not 1–230 is skipped and reported."""
    import csv

    labels = os.path.join(folder, "labels.csv")
    try:
        with open(labels, newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    except OSError as e:
        raise FileNotFoundError(f"{labels}: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{labels}: not a readable CSV ({type(e).__name__})") from None
    missing = [c for c in ("file", "space_group") if c not in columns]
    if missing:
        raise ValueError(f"{labels}: no {' or '.join(repr(c) for c in missing)} column (have {columns})")
    good, bad = [], []
    for i, row in enumerate(rows, start=2):
        raw = (row.get("space_group") or "").strip()
        if not row.get("file") or not raw.isdigit() or not 1 <= int(raw) <= 230:
            bad.append((f"{labels} line {i}", f"space group {raw!r} is not 1–230" if row.get("file") else "no file"))
            continue
        good.append((os.path.join(folder, row["file"]), int(raw)))
    return good, bad


def load_experimental(cfg, folder: str, wavelength: float | None = None):
    """(profiles float[M, n_bins], space groups int[M], [(file, reason)] skipped) of a labelled folder."""
    from difcon_jax.errors import InputError
    from difcon_jax.patterns import read_pattern, to_model_input

    rows, failed = read_labels(folder)
    xs, sgs = [], []
    for path, sg in rows:
        try:
            m = read_pattern(path, wavelength)
            xs.append(to_model_input(m, cfg.augment))
            sgs.append(sg)
        except (InputError, ValueError) as e:
            failed.append((path, str(e)))
    x = np.stack(xs) if xs else np.zeros((0, cfg.augment.n_bins), np.float32)
    return x, np.asarray(sgs, int), failed


def evaluate_experimental(cfg, model, params, folder: str, temperature: float = 1.0,
                          wavelength: float | None = None, library: dict | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """Score a folder of measured patterns listed in ``labels.csv`` (file, space_group, ...); with a reference
    library, as ``predict`` shows them (network blended with the library's votes)."""
    from difcon_jax.evaluate.library import apply_library
    from difcon_jax.evaluate.report import score
    from difcon_jax.train.predict import predict

    x, sgs, failed = load_experimental(cfg, folder, wavelength)
    if not len(x):
        return {"n": 0}, failed
    return score(apply_library(predict(model, params, x, temperature=temperature), library), sgs), failed
