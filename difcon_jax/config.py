"""Loading configs (``get_config()`` returning a ConfigDict) by name or path, with ``a.b=value`` overrides.

The packaged configs are the package ``difcon_jax.configs`` (``configs/`` in the repository, mapped into the
wheel by pyproject.toml). ``--config quickstart`` names one of them; ``--config path/to/file.py`` loads any
file. A packaged file is imported under its package name (so its ``from difcon_jax.configs import …``
resolves to the same modules); any other file is loaded from its path. Nothing is added to ``sys.path``.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.machinery
import importlib.util
import os

import ml_collections

#: configs/ as installed (the package ``difcon_jax.configs``, mapped by pyproject.toml): located, not imported —
#: a config module is imported only when it is loaded
CONFIG_DIR = os.path.abspath(importlib.util.find_spec("difcon_jax.configs").submodule_search_locations[0])


def config_names() -> list[str]:
    """Names of the packaged configs (``quickstart``, ``difcon_cpu`` …), sorted."""
    return sorted(f[:-3] for f in os.listdir(CONFIG_DIR) if f.endswith(".py") and not f.startswith("_"))


def default_config_path(name: str) -> str:
    """Path of the packaged config ``name`` (e.g. ``quickstart``)."""
    return os.path.join(CONFIG_DIR, f"{name}.py")


def resolve_config(spec: str) -> str:
    """A config file path for ``spec``: an existing file, or the name of a packaged config."""
    if os.path.isfile(spec):
        return spec
    name = spec[:-3] if spec.endswith(".py") else spec
    if os.sep not in spec and "/" not in spec and name in config_names():
        return default_config_path(name)
    raise FileNotFoundError(f"{spec}: no such config file (packaged configs: {', '.join(config_names())})")


def _import_config(path: str):
    folder, base = os.path.split(os.path.realpath(path))
    if folder == os.path.realpath(CONFIG_DIR) and base.endswith(".py"):
        return importlib.import_module(f"difcon_jax.configs.{base[:-3]}")
    name = f"_difcon_config_{abs(hash(os.path.realpath(path)))}"
    # an explicit source loader: a config given as e.g. `my_config` or `x.cif` is read as Python all the same
    spec = importlib.util.spec_from_loader(name, importlib.machinery.SourceFileLoader(name, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(path: str, overrides: list[str] | tuple[str, ...] = ()):
    """Import ``path`` (a file, or a packaged config's name) and call its ``get_config()``; apply
    ``key.sub=value`` overrides.

    A misspelt override key is a ValueError naming the key (ConfigDict is locked first).
    """
    path = resolve_config(path)
    try:
        module = _import_config(path)
    except Exception as e:
        raise ValueError(f"{path}: cannot load config ({type(e).__name__}: {e})") from None
    if not hasattr(module, "get_config"):
        raise ValueError(f"{path}: no get_config()")
    cfg = module.get_config()
    cfg.lock()
    for item in overrides:
        key, _, raw = item.partition("=")
        key = key.strip().removeprefix("--config.").removeprefix("config.")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        node = cfg
        parts = key.split(".")
        try:
            for part in parts[:-1]:
                node = node[part]
            if parts[-1] not in node:
                raise KeyError(parts[-1])
        except (KeyError, AttributeError, TypeError) as e:
            raise ValueError(f"{path}: no config key {key!r} ({e})") from None
        try:
            node[parts[-1]] = value
        except (TypeError, ValueError) as e:  # the key exists; the value has the wrong type
            have = type(node[parts[-1]]).__name__
            raise ValueError(f"{path}: --config.{key}={raw!r}: expected a value of type {have} ({e})") from None
    return cfg


def upgrade(saved: dict):
    """A ConfigDict for a ``config.json`` written by any version: today's fields (from ``configs/difcon.py``,
    the base every training config imports) filled in where the file predates them, the file's own values
    everywhere else. Two fields changed meaning and are translated, not defaulted:

    * no ``augment.background_removal_deg``: the model was trained before the shared background path, so
      measured patterns get the old SNIP on the points (``augment.legacy_snip_deg`` = 1.5°) and no shared removal;
    * no ``eval.invariance``: the held-out sources and ranges come from the config it names
      (``eval.invariance_config``, default ``augment_invariance``).

    Code below the command line reads fields directly (``cfg.eval.library_views``), never with defaults."""

    saved = copy.deepcopy(saved)
    aug, ev = saved.setdefault("augment", {}), saved.setdefault("eval", {})
    if "background_removal_deg" not in aug:
        aug.update(background_removal_deg=0.0, legacy_snip_deg=1.5)
    if "invariance" not in ev:
        held = load_config(default_config_path(ev.get("invariance_config", "augment_invariance")))
        ev["invariance"] = {"sources": held.sources, "ranges": held.ranges.to_dict()}
    base = load_config(default_config_path("difcon")).to_dict()
    return ml_collections.ConfigDict(_overlay(base, saved))


def _overlay(base: dict, saved: dict) -> dict:
    out = dict(base)
    for k, v in saved.items():
        out[k] = _overlay(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out
