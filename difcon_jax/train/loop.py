"""The training loop: data, model, sharded jitted step, Orbax resume, logging, evaluation summary."""

from __future__ import annotations

import json
import math
import os
import sys
import time
import zipfile
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.data.split import Split
from difcon_jax.files import atomic_write_json
from difcon_jax.train import checkpoint as ckpt
from difcon_jax.train import parallel


class NonFiniteLoss(RuntimeError):
    """Training stopped at a NaN/inf loss; the message names the last good checkpoint."""
    pass


def _log(msg: str) -> None:
    if jax.process_index() == 0:
        print(msg, file=sys.stderr, flush=True)


def prepare_table(cfg, workdir: str):
    """The peak table named by cfg.data.table, or synthesised once into WORKDIR/data (process 0 builds)."""
    from difcon_jax.crystal.synthetic import SynthOptions
    from difcon_jax.data import load_peak_table
    from difcon_jax.data.build import BuildOptions, build_synthetic

    path = cfg.data.table or os.path.join(workdir, "data")
    if not os.path.exists(os.path.join(path, "meta.json")):
        if cfg.data.table:
            raise FileNotFoundError(f"{path}: no peak table (build one with 'difcon-jax dataset ...')")
        if jax.process_count() > 1:
            raise RuntimeError("multi-process training needs cfg.data.table built beforehand")
        _log(f"synthesising {cfg.data.synth_count} structures into {path}")
        res = build_synthetic(cfg.data.synth_count, path, cfg.data.synth_seed, cfg.data.workers,
                              BuildOptions(max_peaks=cfg.data.max_peaks, test_fraction=cfg.data.test_fraction,
                                           validation_fraction=cfg.data.validation_fraction),
                              SynthOptions(max_atoms=cfg.data.synth_max_atoms))
        _log(res.summary)
    table = load_peak_table(path)
    if table.max_peaks > cfg.data.max_peaks:  # keep the strongest peaks the config asks for
        table = _truncate(table, cfg.data.max_peaks)
    return table


def _truncate(table, p):
    from difcon_jax.data.peak_table import PeakTable

    order = np.argsort(-np.where(table.mask, table.intensity, -1), axis=1, kind="stable")[:, :p]
    order = np.sort(order, axis=1)
    take = lambda a: np.take_along_axis(np.asarray(a), order if a.ndim == 2 else order[..., None], axis=1)  # noqa
    fields = {k: getattr(table, k) for k in ("space_group", "crystal_system", "extinction_group", "split",
                                            "dropped_fraction", "source_id", "formula")}
    return PeakTable(two_theta=take(table.two_theta), intensity=take(table.intensity), mask=take(table.mask),
                     po_cos2=take(table.po_cos2), po_weight=take(table.po_weight), meta=dict(table.meta), **fields)


def device_data(table, rows):
    """The rows ``rows`` of a peak table as :class:`DeviceData` (peaks and int32 labels) for the device."""
    from difcon_jax.augment import device_table
    from difcon_jax.train.step import DeviceData

    sub = table.subset(rows)
    return DeviceData(device_table(sub), jnp.asarray(sub.crystal_system, jnp.int32),
                      jnp.asarray(sub.extinction_group, jnp.int32), jnp.asarray(sub.space_group, jnp.int32))


def build(cfg):
    """(model, optimiser) of a config: the ResNet1D with its heads, AdamW with the warm-up + cosine schedule."""
    from difcon_jax.crystal.symmetry import num_extinction_groups
    from difcon_jax.models.resnet1d import build_model
    from difcon_jax.train.step import make_optimizer

    return build_model(cfg.model, num_extinction_groups()), make_optimizer(cfg)


def _append_jsonl(path: str, record: dict) -> None:
    with open(path, "a") as fh:  # one line per write: a crash leaves every earlier line intact
        fh.write(json.dumps(record) + "\n")


class Trained(NamedTuple):
    """What :func:`train` returns: the last logged metrics (means over the last ``log_every`` steps; empty
    when no step ran) and the final train state."""

    metrics: dict
    state: Any


def train(cfg, workdir: str) -> Trained:
    """Train (resuming from WORKDIR's latest checkpoint) to ``cfg.num_steps``; checkpoints, metrics.jsonl."""
    from clu import metrics as clu_metrics
    from tqdm import tqdm

    from difcon_jax.train.step import init_state, learning_rate_schedule, make_train_step

    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ValueError(f"{workdir}: the work directory is an existing file")
    if cfg.num_steps < 1 or cfg.batch_size < 1:
        raise ValueError(f"num_steps {cfg.num_steps} and batch_size {cfg.batch_size} must be at least 1")
    os.makedirs(workdir, exist_ok=True)
    if cfg.batch_size % jax.device_count():
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by {jax.device_count()} devices")
    table = prepare_table(cfg, workdir)
    train_rows = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    if len(train_rows) == 0:
        raise ValueError("the peak table has no training structures")
    mesh = parallel.make_mesh()
    rep, sharded = parallel.shardings(mesh)
    data = parallel.replicate(device_data(table, train_rows), mesh)
    cdf = parallel.sampling_cdf(np.asarray(table.space_group)[train_rows], cfg.data.get("sampling_power", 1.0))
    model, tx = build(cfg)
    init_key, run_key = jax.random.split(jax.random.key(cfg.seed))  # one key per run; steps fold in
    mngr = ckpt.manager(workdir, keep_period=cfg.get("ckpt_keep_period", 0))
    abstract = jax.eval_shape(lambda: init_state(cfg, model, tx, init_key))
    if mngr.latest_step() is not None:
        state, _ = ckpt.restore(mngr, abstract)
        _log(f"resumed from step {int(state.step)} ({mngr.directory})")
    else:
        state = init_state(cfg, model, tx, init_key)
    state = parallel.replicate(state, mesh)
    if jax.process_index() == 0:
        atomic_write_json(os.path.join(workdir, "config.json"), cfg.to_dict())

    step_fn = jax.jit(make_train_step(cfg, model, tx), in_shardings=(rep, {"index": sharded, "table": rep}, rep),
                      out_shardings=(rep, rep), donate_argnums=0)
    log_path = os.path.join(workdir, "metrics.jsonl")
    writer = _tensorboard(cfg, workdir)
    start = int(state.step)
    bar = tqdm(total=cfg.num_steps, initial=start, desc=f"train {cfg.mode}", unit="step", file=sys.stderr,
               disable=jax.process_index() != 0 or None, dynamic_ncols=True)
    acc, last, t0 = None, {}, time.time()
    lr_at, t_log, logged = learning_rate_schedule(cfg), time.time(), start
    for step in range(start, cfg.num_steps):
        local = parallel.batch_indices(cfg.seed, step, len(train_rows), cfg.batch_size, cdf)
        index = parallel.global_array(local, sharded, (cfg.batch_size,))
        state, m = step_fn(state, {"index": index, "table": data}, jax.random.fold_in(run_key, step))
        upd = {k: clu_metrics.Average.from_model_output(v) for k, v in m.items()}
        acc = upd if acc is None else {k: acc[k].merge(upd[k]) for k in acc}
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.num_steps:
            last = {k: float(v.compute()) for k, v in acc.items()}
            acc = None
            if not math.isfinite(last["loss"]):
                ckpt.finish(mngr)
                good = mngr.latest_step()
                raise NonFiniteLoss(f"non-finite loss at step {done}; last good checkpoint: "
                                    f"{'none' if good is None else f'step {good}'} in {mngr.directory}")
            now = time.time()  # metrics are on the host now, so the steps before this line have finished
            last["steps_per_s"], t_log, logged = (done - logged) / max(now - t_log, 1e-9), now, done
            last["lr"] = float(lr_at(done - 1))  # the rate the last step used
            record = {"step": done, "time": round(now - t0, 3), **{k: round(v, 6) for k, v in last.items()}}
            if jax.process_index() == 0:
                _append_jsonl(log_path, record)
                if writer:
                    writer.write_scalars(done, last)
            bar.set_postfix(loss=f"{last['loss']:.3f}", acc_sg=f"{last['acc_sg']:.2f}", lr=f"{last['lr']:.2e}")
        bar.update()
        if done % cfg.ckpt_every == 0 or done == cfg.num_steps:
            if last and not math.isfinite(last.get("loss", 0.0)):
                ckpt.finish(mngr)
                raise NonFiniteLoss(f"non-finite loss at step {done}; checkpoint not written")
            ckpt.save(mngr, done, state, cfg.to_dict())  # asynchronous: files written while training goes on
    ckpt.finish(mngr)
    bar.close()
    return Trained(last, state)


def _tensorboard(cfg, workdir):
    if not cfg.tensorboard:
        return None
    try:
        from clu import metric_writers  # imports TensorFlow
    except ImportError:
        _log("tensorboard logging needs the [tensorboard] extra; continuing with metrics.jsonl only")
        return None
    return metric_writers.create_default_writer(os.path.join(workdir, "tensorboard"),
                                                just_logging=jax.process_index() > 0)


def export_params(workdir: str, out_dir: str, float16: bool = False) -> str:
    """Write a training directory's latest parameters as a self-contained model directory:
    ``params.npz`` (plain arrays, keys 'a/b/c', no pickle; float16 storage if asked, loaded back as float32),
    ``config.json``, ``calibration.json`` and ``library.npz`` when present."""
    import shutil

    from flax import traverse_util

    _, _, params = load_trained(workdir)
    flat = {"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(params).items()}
    if float16:
        flat = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in flat.items()}
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "params.tmp.npz")
    np.savez(tmp, **flat)
    os.replace(tmp, os.path.join(out_dir, "params.npz"))
    for name in ("config.json", "calibration.json", "library.npz"):
        if os.path.exists(os.path.join(workdir, name)):
            shutil.copy(os.path.join(workdir, name), os.path.join(out_dir, name))
    return out_dir


def load_trained(workdir: str, step: int | None = None):
    """(cfg, model, params) of a training directory's latest (or given) checkpoint, or of an exported
    model directory (params.npz)."""
    import ml_collections

    from difcon_jax.train.step import init_state

    cfg = ml_collections.ConfigDict(ckpt.read_config(workdir))
    try:
        model, tx = build(cfg)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise ckpt.CheckpointError(f"{os.path.join(workdir, 'config.json')}: cannot build the model "
                                   f"({type(e).__name__}: {e})") from None
    npz = os.path.join(workdir, "params.npz")
    if os.path.exists(npz):
        from flax import traverse_util

        try:
            with np.load(npz, allow_pickle=False) as z:
                flat = {tuple(k.split("/")): jnp.asarray(z[k], jnp.float32) for k in z.files}
        except ValueError as e:
            if "allow_pickle" in str(e):  # never load pickles from a model folder: say what it is, not how
                raise ckpt.CheckpointError(f"{npz}: holds Python objects (pickled data), not plain parameter arrays; "
                                           "refused") from None
            raise ckpt.CheckpointError(f"{npz}: unreadable ({type(e).__name__}: {e})") from None
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise ckpt.CheckpointError(f"{npz}: unreadable ({type(e).__name__}: {e})") from None
        params = traverse_util.unflatten_dict(flat)
        expected = jax.eval_shape(lambda: init_state(cfg, model, tx, jax.random.key(0))).params
        if jax.tree_util.tree_structure(expected) != jax.tree_util.tree_structure(params):
            raise ckpt.CheckpointError(f"{npz}: parameters do not match the model in config.json")
        wrong = [("/".join(str(getattr(k, "key", k)) for k in path), a.shape, b.shape)
                 for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(expected), jax.tree_util.tree_leaves(params))
                 if a.shape != b.shape]
        if wrong:
            name, want, got = wrong[0]
            raise ckpt.CheckpointError(f"{npz}: parameter {name} has shape {got}, the model in config.json needs {want}")
        return cfg, model, params
    abstract = jax.eval_shape(lambda: init_state(cfg, model, tx, jax.random.key(0)))
    mngr = ckpt.manager(workdir)
    state, _ = ckpt.restore(mngr, abstract, step)
    return cfg, model, state.params
