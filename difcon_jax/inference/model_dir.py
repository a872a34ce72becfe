"""Model folders and training directories, read as (config, model, parameters) and written by ``export``.

A *model folder* holds ``config.json``, ``params.npz`` (plain arrays keyed 'a/b/c', no pickle; float16 storage
read back as float32) and optionally ``calibration.json`` and a reference library; a *training directory*
holds ``config.json`` and Orbax checkpoints, of which only the parameters are read here (no optimiser: that
belongs to training). Configs of any version pass through :func:`difcon_jax.config.upgrade`.
"""

from __future__ import annotations

import os
import shutil
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

import difcon_jax.checkpoint as ckpt
from difcon_jax.config import upgrade
from difcon_jax.crystal.symmetry import num_extinction_groups
from difcon_jax.errors import CheckpointError
from difcon_jax.files import atomic_savez
from difcon_jax.models.resnet1d import build_model

#: The packaged DIFCON model (results/real_cpu), used when no ``--model`` is given.
PACKAGED_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pretrained", "difcon_cpu")
PARAMS_FILE = "params.npz"
#: What ``export`` copies from a training directory beside the parameters.
EXPORTED_FILES = ("config.json", "calibration.json", "library.npz")


def model_of(cfg):
    """The DIFCON model (encoder + heads + projector) of ``cfg.model``."""
    return build_model(cfg.model, num_extinction_groups(),
                       two_theta_range=(cfg.augment.two_theta_min, cfg.augment.two_theta_max))


def abstract_params(cfg, model):
    """The parameters' shapes and dtypes (no computation): what a checkpoint or params.npz must match."""
    return jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, cfg.augment.n_bins), jnp.float32)))["params"]


def read_model_config(path: str):
    """The upgraded config of a model folder or training directory (CheckpointError with a one-line reason)."""
    return upgrade(ckpt.read_config(path))


def load_model(path: str, step: int | None = None):
    """(cfg, model, params) of a model folder (``params.npz``) or of a training directory's latest (or
    given) checkpoint."""
    cfg = read_model_config(path)
    try:
        model = model_of(cfg)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{os.path.join(path, 'config.json')}: cannot build the model "
                              f"({type(e).__name__}: {e})") from None
    expected = abstract_params(cfg, model)
    npz = os.path.join(path, PARAMS_FILE)
    if os.path.exists(npz):
        return cfg, model, _read_params_npz(npz, expected)
    return cfg, model, ckpt.restore_params(ckpt.manager(path), expected, step)


def _read_params_npz(npz: str, expected):
    try:
        with np.load(npz, allow_pickle=False) as z:
            flat = {tuple(k.split("/")): jnp.asarray(z[k], jnp.float32) for k in z.files}
    except ValueError as e:
        if "allow_pickle" in str(e):  # never load pickles from a model folder: say what it is, not how
            raise CheckpointError(f"{npz}: holds Python objects (pickled data), not plain parameter arrays; "
                                  "refused") from None
        raise CheckpointError(f"{npz}: unreadable ({type(e).__name__}: {e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{npz}: unreadable ({type(e).__name__}: {e})") from None
    params = traverse_util.unflatten_dict(flat)
    if jax.tree_util.tree_structure(expected) != jax.tree_util.tree_structure(params):
        raise CheckpointError(f"{npz}: parameters do not match the model in config.json")
    for (where, a), b in zip(jax.tree_util.tree_leaves_with_path(expected), jax.tree_util.tree_leaves(params)):
        if a.shape != b.shape:
            name = "/".join(str(getattr(k, "key", k)) for k in where)
            raise CheckpointError(f"{npz}: parameter {name} has shape {b.shape}, the model in config.json needs {a.shape}")
    return params


def export_model(workdir: str, out_dir: str, float16: bool = False) -> str:
    """Write a training directory's latest parameters as a self-contained model folder (``params.npz``, float16
    storage if asked, plus :data:`EXPORTED_FILES` when present)."""
    _, _, params = load_model(workdir)
    flat = {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(params).items()}
    if float16:
        flat = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in flat.items()}
    os.makedirs(out_dir, exist_ok=True)
    atomic_savez(os.path.join(out_dir, PARAMS_FILE), **flat)
    for name in EXPORTED_FILES:
        if os.path.exists(os.path.join(workdir, name)):
            shutil.copy(os.path.join(workdir, name), os.path.join(out_dir, name))
    return out_dir
