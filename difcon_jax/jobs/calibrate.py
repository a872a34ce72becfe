"""``difcon-jax calibrate``: a model folder's calibration fitted again on simulated validation patterns of the
peak table its network was trained on — what a folder needs after its network changed outside a training run that
calibrates (parameters brought back from an accelerator call whose evaluation was cut; a grown head, by
``difcon-jax flat-head``, which calls this too).
"""

from __future__ import annotations

from difcon_jax.data.prepare import prepare_table
from difcon_jax.evaluate.calibration import fit_calibration, refit_uncertain, write_calibration
from difcon_jax.inference.calibration import read_calibration
from difcon_jax.inference.model_dir import load_model
from difcon_jax.inference.predictor import Predictor


def calibrate_folder(model_dir: str, table, library_frequency=None) -> dict:
    """Fit and write ``model_dir``'s ``calibration.json`` on ``cfg.eval.num_structures`` simulated validation
    patterns of ``table`` (a prepared :class:`~difcon_jax.data.peak_table.PeakTable`): the temperature and the
    natural prior's strength on the network's own answers, then the 'uncertain' threshold on what ``predict``
    shows with the folder's reference library, when it has one. ``library_frequency`` (float[230], the population
    'library' answers are for) defaults to the folder's own, as ``library build`` recorded it. The patterns are
    the rows' and seed's alone (:func:`~difcon_jax.augment.render.render_set`), so the fit is the same on any
    machine. Returns the calibration."""
    cfg, model, params = load_model(model_dir)
    if library_frequency is None:
        library_frequency = read_calibration(model_dir).get("library_frequency")  # a broken file: refused first
    n = int(cfg.eval.num_structures)
    calib = fit_calibration(cfg, model, params, table, n=n)
    if library_frequency is not None:  # the population the folder's 'library' answers are for: unchanged
        calib["library_frequency"] = library_frequency
    write_calibration(model_dir, calib)
    calib = refit_uncertain(Predictor.load(model_dir), table, n=n)
    write_calibration(model_dir, calib)
    return calib


def calibrate_model(model_dir: str, table_path: str) -> dict:
    """:func:`calibrate_folder` with the peak table at ``table_path`` (prepared as the folder's config asks)."""
    cfg, _, _ = load_model(model_dir)
    cfg.data.table = table_path
    return calibrate_folder(model_dir, prepare_table(cfg, model_dir))
