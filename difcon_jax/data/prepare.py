"""The peak table a training config names, ready for the device: synthesised once when the config names
none, cut to the config's peak count, and checked against the model's grid (wavelength and 2θ range)."""

from __future__ import annotations

import dataclasses
import logging
import os

import jax
import numpy as np

from difcon_jax.crystal.synthetic import SynthOptions
from difcon_jax.data.build import BuildOptions, build_synthetic
from difcon_jax.data.peak_table import PeakTable, load_peak_table
from difcon_jax.errors import InputError
from difcon_jax.grid import Grid

log = logging.getLogger(__name__)


def prepare_table(cfg, workdir: str) -> PeakTable:
    """The peak table named by ``cfg.data.table``, or synthesised once into WORKDIR/data (process 0 builds),
    keeping each structure's ``cfg.data.max_peaks`` strongest peaks; ConfigError when it was simulated at
    another wavelength or over a shorter 2θ range than ``cfg.augment`` describes."""
    path = cfg.data.table or os.path.join(workdir, "data")
    if not os.path.exists(os.path.join(path, "meta.json")):
        if cfg.data.table:
            raise InputError(path, "no peak table (build one with 'difcon-jax dataset ...')")
        if jax.process_count() > 1:
            raise InputError(path, "multi-process training needs cfg.data.table built beforehand")
        log.info("synthesising %d structures into %s", cfg.data.synth_count, path)
        res = build_synthetic(cfg.data.synth_count, path, cfg.data.synth_seed, cfg.data.workers,
                              BuildOptions(max_peaks=cfg.data.max_peaks, test_fraction=cfg.data.test_fraction,
                                           validation_fraction=cfg.data.validation_fraction),
                              SynthOptions(max_atoms=cfg.data.synth_max_atoms))
        log.info("%s", res.summary)
    table = load_peak_table(path)
    Grid.of(cfg.augment).check_table(table.meta, path)
    if table.max_peaks > cfg.data.max_peaks:  # keep the strongest peaks the config asks for
        table = strongest_peaks(table, cfg.data.max_peaks)
    return table


def strongest_peaks(table: PeakTable, p: int) -> PeakTable:
    """The table with each structure's ``p`` strongest peaks, in their original (2θ) order."""
    order = np.argsort(-np.where(table.mask, table.intensity, -1), axis=1, kind="stable")[:, :p]
    order = np.sort(order, axis=1)

    def take(a):
        a = np.asarray(a)
        return np.take_along_axis(a, order if a.ndim == 2 else order[..., None], axis=1)

    # per-structure arrays (labels, ids, the optional reduced cells) ride along unchanged
    return dataclasses.replace(table, two_theta=take(table.two_theta), intensity=take(table.intensity),
                               mask=take(table.mask), po_cos2=take(table.po_cos2), po_weight=take(table.po_weight),
                               meta=dict(table.meta))
