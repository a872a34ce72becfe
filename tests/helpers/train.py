"""Shared pieces of the training tests: a tiny peak table and tiny-model overrides."""

import os

from difcon_jax.data.build import BuildOptions, build_from_cifs
from tests.helpers.structures import STRUCTURES, make_cif

#: the repository root (subprocesses run from it, so ``python -m tests.helpers.train_worker`` resolves)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiny_overrides(table: str, steps: int = 2, mode: str = "difcon", batch: int = 8) -> list[str]:
    return [
        f"data.table={table!r}", f"num_steps={steps}", f"batch_size={batch}", f"mode={mode!r}",
        "log_every=1", "ckpt_every=1", "augment.n_bins=1500", "augment.render_stride=4",
        "model.widths=(8, 16)", "model.blocks=(1, 1)", "model.stem_features=8", "model.stem_stride=4",
        "model.projector_dims=(32, 32)", "model.head_hidden=16", "data.max_peaks=32",
        "optim.warmup_steps=1", "eval.num_structures=8", "eval.batch_size=8", "eval.cross_simulator_structures=8",
    ]


def make_table(path: str) -> str:
    cifs = os.path.join(os.path.dirname(path), "cifs")
    os.makedirs(cifs, exist_ok=True)
    for name, setting, _, cell, sites in STRUCTURES:
        with open(os.path.join(cifs, name + ".cif"), "w") as fh:
            fh.write(make_cif(name, setting, cell, sites))
    build_from_cifs(cifs, path, workers=1, options=BuildOptions(max_peaks=32, test_fraction=0.25))
    return path
