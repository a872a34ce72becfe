"""Orbax checkpoints of the train state (params, optimiser state, step) plus the config as JSON.

Orbax writes each step to a temporary directory and renames it when complete, so ``kill -9`` mid-save
leaves the previous checkpoint intact; an unfinished one is ignored on restore.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import jax
import orbax.checkpoint as ocp

from difcon_jax.errors import CheckpointError


def manager(workdir: str, max_to_keep: int = 3, keep_period: int | None = None) -> ocp.CheckpointManager:
    """Orbax manager of WORKDIR/checkpoints: the last ``max_to_keep`` steps, plus every multiple of
    ``keep_period`` kept for good (the learning curve evaluates them)."""
    path = os.path.join(os.path.abspath(workdir), "checkpoints")
    return ocp.CheckpointManager(path, options=ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, keep_period=keep_period or None, create=True))


def save(mngr: ocp.CheckpointManager, step: int, state, config_dict: dict) -> None:
    """Start saving ``step`` and return: Orbax copies the arrays off the device before it returns (so the
    donated state may be reused at once) and writes the files in the background while training goes on.
    A save still running when the next one starts is waited for; call :func:`finish` before exiting."""
    mngr.save(int(step), args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                 config=ocp.args.JsonSave(config_dict)))


def finish(mngr: ocp.CheckpointManager) -> None:
    """Wait for the background save, so the last checkpoint is on disk (its directory renamed into place)."""
    mngr.wait_until_finished()


def restore(mngr: ocp.CheckpointManager, abstract_state, step: int | None = None):
    """(state, config dict) of ``step`` (default: latest). CheckpointError with a one-line reason."""
    return _restore(mngr, ocp.args.StandardRestore(abstract_state), step)


def restore_params(mngr: ocp.CheckpointManager, abstract_params, step: int | None = None):
    """The parameters alone of ``step`` (default: latest), without the optimiser state: what inference needs,
    so reading a training directory does not need the optimiser that wrote it."""
    one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    target = {"params": jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=one),
                                               abstract_params)}
    restore_args = ocp.checkpoint_utils.construct_restore_args(target)
    state, _ = _restore(mngr, ocp.args.PyTreeRestore(target, restore_args=restore_args, partial_restore=True), step)
    return state["params"]


def _restore(mngr: ocp.CheckpointManager, state_args, step: int | None):
    mngr.wait_until_finished()
    step = mngr.latest_step() if step is None else step
    if step is None:
        raise CheckpointError(f"{mngr.directory}: no checkpoint")
    # Orbax/tensorstore worker threads print tracebacks of their own when files are corrupt: capture the
    # process's stderr during the restore and replay it only when the restore succeeds.
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            got = mngr.restore(step, args=ocp.args.Composite(state=state_args,
                                                             config=ocp.args.JsonRestore()))
            error = None
        except Exception as e:  # corrupt or incompatible files: say which and why, not a traceback
            error = e
            time.sleep(0.5)  # let the worker threads finish printing into the capture
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        if error is None:
            capture.seek(0)
            os.write(2, capture.read())
    if error is not None:
        msg = " ".join(str(error).split())[:300]
        raise CheckpointError(f"{mngr.directory}/{step}: unreadable checkpoint ({type(error).__name__}: {msg})")
    return got.state, got.config


def read_config(workdir: str) -> dict:
    """The ``config.json`` of a training or model directory (a dict with model, augment ... sections)."""
    if not os.path.isdir(workdir):
        raise CheckpointError(f"{workdir}: not a model or training directory"
                              + (" (a file)" if os.path.exists(workdir) else " (does not exist)"))
    path = os.path.join(workdir, "config.json")
    try:
        with open(path) as fh:
            cfg = json.load(fh)
    except FileNotFoundError:
        raise CheckpointError(f"{workdir}: not a training directory (no config.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: corrupt ({e})") from None
    except OSError as e:
        raise CheckpointError(f"{path}: {e.strerror or e}") from None
    missing = [k for k in ("model", "augment", "data", "optim") if not isinstance(cfg, dict) or k not in cfg]
    if missing:
        raise CheckpointError(f"{path}: not a difcon-jax config (missing {', '.join(missing)})")
    return cfg
