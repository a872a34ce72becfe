"""difcon-jax: self-supervised powder-XRD representations and symmetry classification in JAX.

Reimplements DIFCON (Das, Vorholt, Houben, Dronskowski, Crystals 2025, 15, 393): stick patterns from
crystal structures (host, NumPy/gemmi), on-device augmentation (JAX), a 1D ResNet with Barlow Twins and
hierarchical crystal-system / extinction-group / space-group heads.
"""

import importlib.util as _util
import os as _os
import sys as _sys

__version__ = "0.1.0"


def _configs_from_source_tree() -> None:
    """Make ``difcon_jax.configs`` the checkout's ``configs/`` when the package runs from a source tree that was
    never installed (``PYTHONPATH=.``, as ``launch/device_train.sh`` runs on a lent accelerator, where nothing can
    be installed): pyproject.toml maps ``configs/`` into the package only in a wheel or an editable install."""
    if _util.find_spec(__name__ + ".configs") is not None:
        return
    folder = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "configs")
    init = _os.path.join(folder, "__init__.py")
    if not _os.path.isfile(init):
        return  # an installed package without its configs: config.py says so where they are needed
    spec = _util.spec_from_file_location(__name__ + ".configs", init, submodule_search_locations=[folder])
    module = _util.module_from_spec(spec)
    _sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_configs_from_source_tree()


def identify(files, **kwargs):
    """Named phases of measured patterns with refined cells and fits: see :func:`difcon_jax.match.identify.identify`
    (the command ``difcon-jax identify``). Returns (results, errors)."""
    from difcon_jax.match.identify import identify as _identify

    return _identify(files, **kwargs)


def export_identifications(results, folder, cif_dirs=()):
    """``identify --export``: each result's fit (CSV), its phases' reflection lists and refined CIFs in ``folder``:
    see :func:`difcon_jax.match.export.export_identifications`. Returns (paths written, notes)."""
    from difcon_jax.match.export import export_identifications as _export

    return _export(results, folder, cif_dirs)
