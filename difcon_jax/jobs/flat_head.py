"""``difcon-jax flat-head``: a model folder grown by a flat space-group head fitted on its frozen representation
(:mod:`difcon_jax.train.flat_head`), then calibrated again. Every parameter of the source model is kept bit for bit
(the representation h, and so every reference library built from it, stays valid); the new folder answers with the
hierarchical and the flat heads together (:func:`difcon_jax.models.heads.combined_space_group_log_probs`).
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import numpy as np
from flax import traverse_util

from difcon_jax.data.prepare import prepare_table
from difcon_jax.errors import ConfigError
from difcon_jax.files import atomic_savez, atomic_write_json
from difcon_jax.inference.calibration import CALIBRATION_FILE, read_calibration
from difcon_jax.inference.model_dir import EXPORTED_FILES, PARAMS_FILE, load_model, model_of
from difcon_jax.jobs.calibrate import calibrate_folder
from difcon_jax.train.flat_head import fit_flat_head, frozen_features

log = logging.getLogger(__name__)
#: written anew in the grown folder (or, the card that describes the source model, left out); everything else of
#: the source folder — its reference library, members, notes — is copied as it is
REWRITTEN = ("config.json", PARAMS_FILE, CALIBRATION_FILE, "MODEL_CARD.md")


def _stored_float16(model_dir: str) -> bool:
    """Whether the source folder's ``params.npz`` stores float16 (the grown folder keeps its precision)."""
    path = os.path.join(model_dir, PARAMS_FILE)
    if not os.path.exists(path):
        return False
    with np.load(path, allow_pickle=False) as z:
        return any(z[k].dtype == np.float16 for k in z.files)


def add_flat_head(model_dir: str, table: str, out_dir: str, dims=(1024, 1024), passes: int = 30,
                  per_pass: int = 8192, epochs: int = 8, natural: bool = False, seed: int = 100) -> dict:
    """Fit a :class:`~difcon_jax.models.resnet1d.FlatHead` of hidden widths ``dims`` on ``passes`` × ``per_pass``
    renders of the training rows of ``table`` (the peak table the model was trained on; drawn as the model's training
    drew them, or uniformly with ``natural``) through the frozen model of ``model_dir`` (a model folder or training
    directory; a flat head it has is replaced), and write ``out_dir``: the source folder's files (not its model
    card: it describes another model; from a training directory only what ``export`` takes), its parameters with
    the head added, its config with ``model.flat_head``, and a calibration fitted again on simulated validation
    patterns (temperature, the natural prior's strength, the 'uncertain' threshold; the library's frequencies kept).
    Returns a summary (features, seconds, temperature, β)."""
    if os.path.abspath(out_dir) == os.path.abspath(model_dir):
        raise ConfigError(f"--out {out_dir}: write the grown model to a new folder, not over its source")
    if not dims or any(int(d) <= 0 for d in dims):
        raise ConfigError(f"--hidden {','.join(map(str, dims))}: one or more positive widths")
    t0 = time.time()
    cfg, _, params = load_model(model_dir)
    source = read_calibration(model_dir)  # a bad one is refused before the work, not after
    params = {k: v for k, v in params.items() if k != "sg_flat"}
    cfg.model.flat_head = ()
    base = model_of(cfg)
    cfg.data.table = table
    tbl = prepare_table(cfg, model_dir)
    h, sg = frozen_features(cfg, base, params, tbl, passes, per_pass, natural=natural, seed=seed,
                            progress=lambda p: log.info("flat head: features of pass %d / %d", p + 1, passes))
    log.info("flat head: fitting on %d features (%.0f s so far)", len(h), time.time() - t0)
    head = fit_flat_head(h, sg, dims, epochs=epochs)
    cfg.model.flat_head = tuple(int(d) for d in dims)
    grown = {**params, "sg_flat": head}

    if os.path.exists(os.path.join(model_dir, PARAMS_FILE)):  # a model folder: all of it, members included
        shutil.copytree(model_dir, out_dir, ignore=shutil.ignore_patterns(*REWRITTEN), dirs_exist_ok=True)
    else:  # a training directory: what ``export`` takes from one, never its checkpoints
        os.makedirs(out_dir, exist_ok=True)
        for name in set(EXPORTED_FILES) - set(REWRITTEN):
            if os.path.exists(os.path.join(model_dir, name)):
                shutil.copy(os.path.join(model_dir, name), os.path.join(out_dir, name))
    flat = {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(grown).items()}
    if _stored_float16(model_dir):
        flat = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in flat.items()}
    atomic_savez(os.path.join(out_dir, PARAMS_FILE), **flat)
    atomic_write_json(os.path.join(out_dir, "config.json"), cfg.to_dict())  # data.table: the table fitted on

    # read back as predict will read it (float16 storage included): a tree that is not the grown model's is refused
    calib = calibrate_folder(out_dir, tbl, source.get("library_frequency"))
    return {"features": int(len(h)), "seconds": round(time.time() - t0, 1), "temperature": calib["temperature"],
            "natural_prior_strength": calib.get("natural_prior_strength"), "uncertain_below": calib["uncertain_below"]}
