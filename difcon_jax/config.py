"""Loading ``configs/*.py`` files (``get_config()`` returning a ConfigDict) with ``a.b=value`` overrides."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def default_config_path(name: str) -> str:
    return os.path.join(CONFIG_DIR, f"{name}.py")


def load_config(path: str, overrides: list[str] | tuple[str, ...] = ()):
    """Import ``path`` and call its ``get_config()``; apply ``key.sub=value`` overrides.

    A misspelt override key is a ValueError naming the key (ConfigDict is locked first).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such config file")
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    if root not in sys.path:  # so configs can `from configs import augment_table1`
        sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(f"_difcon_config_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
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
