"""Reference library: DIFCON representations of simulated patterns of known structures, searched by cosine
similarity — search-match in the learned, augmentation-invariant space (the use Barlow Twins trains for:
views of one structure land together, paper Fig. 4).

A library holds, per reference structure, the L2-normalised mean representation ``h`` of ``views``
augmented patterns (the training augmentation, so references look like measurements) and its space group.
:func:`knn_space_group_probs` turns the k nearest references into p(SG) (similarity-weighted votes);
:func:`mix_probabilities` blends them with the network's heads, keeping CS and EG consistent with the
blended SG. The library is built from training structures only, so the equivariance test and the
validation structures (calibration) stay held out; measured patterns are never in it.

File: ``library.npz`` beside ``params.npz`` with ``h`` float16[N, D], ``space_group`` int16[N] and the
settings ``k``, ``tau``, ``alpha`` (plain arrays, no pickle).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile

import jax
import numpy as np

from difcon_jax.augment.render import render_set
from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array, num_extinction_groups
from difcon_jax.errors import CheckpointError
from difcon_jax.files import atomic_savez
from difcon_jax.inference.forward import predict

LIBRARY_FILE = "library.npz"
#: A model folder's reference database (:mod:`difcon_jax.match.database`); when it carries the model's
#: representations and kNN settings (``meta["knn"]``) it serves as the library too.
REFERENCES_FILE = "references.npz"

log = logging.getLogger(__name__)


def params_digest(params) -> str:
    """A short digest of a model's parameters (float16 bytes of every leaf)."""
    h = hashlib.sha1()
    for leaf in jax.tree_util.tree_leaves(params):
        h.update(np.asarray(leaf, np.float16).tobytes())
    return h.hexdigest()[:16]


def representation_digest(params) -> str:
    """The digest of the parameters a representation h depends on — the encoder's: a database's representations
    belong to every model with this encoder, whatever its heads (a model whose heads were retrained on a frozen
    encoder keeps its library)."""
    return params_digest(params["encoder"])


def representations_match(meta: dict, params) -> bool:
    """Whether a database's ``meta['model_digest']`` names ``params``' encoder (or, written before the digest was
    the encoder's, the whole of ``params``)."""
    digest = meta.get("model_digest")
    return digest is not None and digest in (representation_digest(params), params_digest(params))


def build_library(cfg, model, params, table, rows: np.ndarray, views: int = 2, seed: int = 4242,
                  batch: int = 256) -> dict:
    """{'h': float16[N, D], 'space_group': int16[N]} for the table rows ``rows``."""
    acc = None
    for v in range(views):
        x = render_set(table, rows, cfg.augment, seed + 7919 * v)
        h = predict(model, params, x, max_batch=batch)["representation"].astype(np.float32)
        h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
        acc = h if acc is None else acc + h
    acc /= np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-12)
    return {"h": acc.astype(np.float16), "space_group": np.asarray(table.space_group)[rows].astype(np.int16)}


def knn_space_group_probs(h_query: np.ndarray, lib_h: np.ndarray, lib_sg: np.ndarray, k: int = 10,
                          tau: float = 0.02, chunk: int = 1024) -> np.ndarray:
    """float[B, 230]: p(SG) from the ``k`` most cosine-similar references, weights softmax(sim / tau)."""
    q = np.asarray(h_query, np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    lib = np.asarray(lib_h, np.float32)
    k = int(min(k, len(lib)))
    out = np.zeros((len(q), 230), np.float64)
    for s in range(0, len(q), chunk):
        sims = q[s:s + chunk] @ lib.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        ts = np.take_along_axis(sims, top, 1)
        w = np.exp((ts - ts.max(1, keepdims=True)) / tau)
        w /= w.sum(1, keepdims=True)
        rows = np.repeat(np.arange(len(top)), k)
        np.add.at(out[s:s + chunk], (rows, lib_sg[top].ravel().astype(int) - 1), w.ravel())
    return out


def mix_probabilities(probs: dict, p_sg_knn: np.ndarray, alpha: float) -> dict:
    """``probs`` (predict's dict) with p(SG) ← (1 − α)·p_net + α·p_knn and p(CS), p(EG) from the same blend of
    the network's heads and the library's votes summed per crystal system / extinction group."""
    if alpha <= 0:
        return probs
    cs_of, eg_of = crystal_system_array()[1:], extinction_group_array()[1:]
    knn_cs = np.zeros((len(p_sg_knn), 7))
    knn_eg = np.zeros((len(p_sg_knn), num_extinction_groups()))
    np.add.at(knn_cs.T, cs_of, p_sg_knn.T)
    np.add.at(knn_eg.T, eg_of, p_sg_knn.T)
    out = dict(probs)
    out["space_group"] = (1 - alpha) * probs["space_group"] + alpha * p_sg_knn
    out["crystal_system"] = (1 - alpha) * probs["crystal_system"] + alpha * knn_cs
    out["extinction_group"] = (1 - alpha) * probs["extinction_group"] + alpha * knn_eg
    return out


def write_library(model_dir: str, library: dict, k: int, tau: float, alpha: float) -> str:
    """Write ``library.npz`` (representations float16[N, D], space groups, k, τ, α; no pickle) into
    ``model_dir``."""
    return atomic_savez(os.path.join(model_dir, LIBRARY_FILE), h=library["h"], space_group=library["space_group"],
                        k=np.int32(k), tau=np.float32(tau), alpha=np.float32(alpha))


def read_library(model_dir: str, params=None) -> dict | None:
    """The model's library, or None when it has none. CheckpointError (one line) for a broken file. Given the
    model's ``params``, a reference database whose representations another encoder made is no library of this
    model (a warning, None): its neighbours would vote by another model's geometry."""
    path = os.path.join(model_dir, LIBRARY_FILE)
    if not os.path.exists(path):
        return _library_of_references(os.path.join(model_dir, REFERENCES_FILE), params)
    try:
        with np.load(path, allow_pickle=False) as z:
            lib = {k: z[k] for k in ("h", "space_group", "k", "tau", "alpha")}
    except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path}: unreadable reference library ({e})") from None
    if lib["h"].ndim != 2 or len(lib["h"]) != len(lib["space_group"]) or not np.all(np.isfinite(lib["h"])):
        raise CheckpointError(f"{path}: malformed reference library")
    return lib


def apply_library(probs: dict, library: dict | None) -> dict:
    """Predictions blended with the library's votes (unchanged without a library)."""
    if library is None or float(library["alpha"]) <= 0:
        return probs
    p_knn = knn_space_group_probs(probs["representation"], library["h"], library["space_group"],
                                  int(library["k"]), float(library["tau"]))
    return mix_probabilities(probs, p_knn, float(library["alpha"]))


def _library_of_references(path: str, params=None) -> dict | None:
    """The kNN library a reference database carries (its representations, space groups and ``meta['knn']``),
    or None (none, or — ``params`` given — made by another encoder)."""
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            knn = meta.get("knn")
            if knn is None or "h" not in z.files:
                return None
            if params is not None and not representations_match(meta, params):
                log.warning("%s: representations made by another model; its kNN vote is not used", path)
                return None
            lib = {"h": z["h"], "space_group": z["space_group"], "k": np.int32(knn["k"]), "tau": np.float32(knn["tau"]),
                   "alpha": np.float32(knn["alpha"])}
            if "formula" in z.files:  # which structure each entry is (a calibration leaves out the held-out ones)
                lib["formula"] = z["formula"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: unreadable reference database ({type(e).__name__})") from None
    if lib["h"].ndim != 2 or len(lib["h"]) != len(lib["space_group"]) or not np.all(np.isfinite(lib["h"])):
        raise CheckpointError(f"{path}: malformed reference library")
    return lib
