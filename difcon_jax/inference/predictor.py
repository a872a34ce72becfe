"""A loaded model as one callable: profiles → probabilities as ``predict``'s network lines show them
(temperature-scaled, corrected to the population's space-group prior, blended with the model's reference library), or
the network's own. Every evaluation and every user-facing prediction goes through it, so all of them score the
same thing.

A model folder may name further networks in ``members.json`` (``{"members": ["ln_axis"]}``: sub-folders, each a
model folder of its own): the heads' probabilities are then the mean of every network's, each with its own
temperature and training draw divided out and the folder's population (its library's or its training split's
frequencies) put in, before the library's votes are blended in. Networks that read the pattern on
different axes (2θ and ln sin θ) err on different patterns (results/network_axes/README.md). The representation
and the lattice estimate stay the folder's own network's: its reference library was built with them.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

import numpy as np

from difcon_jax.errors import CheckpointError
from difcon_jax.files import atomic_write_json
from difcon_jax.grid import Grid
from difcon_jax.inference.calibration import UNCALIBRATED, read_calibration
from difcon_jax.inference.forward import predict
from difcon_jax.inference.library import apply_library, read_library
from difcon_jax.inference.model_dir import load_model
from difcon_jax.inference.prior import label_shift, prior_target

MEMBERS_FILE = "members.json"
#: The heads whose probabilities a folder's networks average (the rest is the first network's).
AVERAGED = ("crystal_system", "extinction_group", "space_group")


class Predictor(NamedTuple):
    """(config, model, parameters) with the calibration and library they are shown with."""
    cfg: Any
    model: Any
    params: Any
    calibration: dict
    library: dict | None
    #: Further networks (Predictors without a library) whose heads are averaged with this one's.
    members: tuple = ()

    @classmethod
    def load(cls, path: str, step: int | None = None) -> "Predictor":
        """The model folder or training directory ``path`` (latest or given checkpoint) with its calibration,
        library and member networks (all optional)."""
        cfg, model, params = load_model(path, step)
        head = cls(cfg, model, params, read_calibration(path), read_library(path, params))
        return head._replace(members=read_members(path, head.grid))

    @classmethod
    def of(cls, cfg, model, params, calibration: dict | None = None, library: dict | None = None,
           members: tuple = ()) -> "Predictor":
        return cls(cfg, model, params, calibration or dict(UNCALIBRATED), library, tuple(members))

    @property
    def temperature(self) -> float:
        return float(self.calibration["temperature"])

    @property
    def grid(self) -> Grid:
        return Grid.of(self.cfg.augment)

    def prior_applied(self, prior: str) -> str:
        """The name of the correction ``self(…, prior=prior)`` makes: ``prior``, or 'none' when this model has
        nothing to correct with (no stored training mass; 'library' without a library or its frequencies)."""
        return prior if prior_target(self.calibration, self.library, prior) is not None else "none"

    def __call__(self, profiles: np.ndarray, blend: bool = True, prior: str = "library") -> dict:
        """Probabilities for profiles float[B, n_bins] (see :func:`difcon_jax.inference.forward.predict`),
        corrected to the space-group frequencies of ``prior`` (:mod:`difcon_jax.inference.prior`: 'library' —
        the reference library's, what ``predict`` shows; 'natural' — the training split's own, the population
        of the simulated axes; 'none' — the training draw's, the heads as trained); with ``blend`` the
        reference library's votes are mixed in as ``predict``'s network lines show them."""
        probs = self.network(profiles, prior, self.library)
        if self.members:
            # the population asked about is the folder's (its library's, or its own training split's); each
            # network divides out the draw it was trained on (its own sampling mass)
            target = prior_target(self.calibration, self.library, prior)
            each = [probs] + [m.network(profiles, prior, self.library, target) for m in self.members]
            probs = {**probs, **{h: np.mean([p[h] for p in each], axis=0) for h in AVERAGED}}
        return apply_library(probs, self.library) if blend else probs

    def network(self, profiles: np.ndarray, prior: str, library: dict | None,
                target: np.ndarray | None = None) -> dict:
        """This network's own probabilities (its temperature, corrected to ``prior`` as ``__call__`` says, the
        'library' prior being ``library``'s frequencies; ``target`` float[230], a folder's population, in place of
        this network's own), no votes and no members."""
        probs = predict(self.model, self.params, profiles, max_batch=int(self.cfg.eval.batch_size),
                        temperature=self.temperature)
        own = prior_target(self.calibration, library, prior)
        target = None if own is None else (own if target is None else target)  # nothing to divide by: as trained
        if target is not None:
            probs = label_shift(probs, target, np.asarray(self.calibration["sampling_mass"], np.float64))
        return probs


def _member_names(where: str) -> list[str]:
    """The sub-folder names a ``members.json`` lists (CheckpointError with a one-line reason when broken)."""
    try:
        with open(where) as fh:
            names = json.load(fh)["members"]
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{where}: unreadable member list ({type(e).__name__}; expected "
                              '{"members": ["sub-folder", …]})') from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"{where}: 'members' must be a list of sub-folder names")
    for name in names:
        if not name or os.path.isabs(name) or os.path.normpath(name).startswith(".."):
            raise CheckpointError(f"{where}: member {name!r} is not a sub-folder of the model folder")
    return names


def read_members(path: str, grid: Grid) -> tuple:
    """The member networks ``path/members.json`` names (none without the file), each loaded from its sub-folder;
    a CheckpointError with a one-line reason for a broken list, a name that leaves the folder, a member that
    has members of its own or reads another 2θ grid than ``grid``."""
    where = os.path.join(path, MEMBERS_FILE)
    if not os.path.exists(where):
        return ()
    members = []
    for name in _member_names(where):
        sub = os.path.join(path, name)
        if not os.path.isdir(sub):
            raise CheckpointError(f"{where}: member folder {sub} is missing")
        if os.path.exists(os.path.join(sub, MEMBERS_FILE)):
            raise CheckpointError(f"{sub}: a member may not have members of its own")
        cfg, model, params = load_model(sub)
        member = Predictor(cfg, model, params, read_calibration(sub), None)
        if member.grid != grid:
            raise CheckpointError(f"{sub}: reads a 2θ grid {member.grid} unlike its folder's {grid}")
        members.append(member)
    return tuple(members)


def add_member(model_dir: str, name: str) -> str:
    """Name the model folder ``model_dir/name`` (already written) in ``model_dir/members.json`` (atomically, once)
    and check that the whole folder loads — if not, the list is put back as it was and the error raised;
    returns the list's path."""
    where = os.path.join(model_dir, MEMBERS_FILE)
    names = _member_names(where) if os.path.exists(where) else []
    if name not in names:
        atomic_write_json(where, {"members": names + [name]})
    try:
        Predictor.load(model_dir)
    except CheckpointError:
        if names:
            atomic_write_json(where, {"members": names})
        else:
            os.remove(where)
        raise
    return where
