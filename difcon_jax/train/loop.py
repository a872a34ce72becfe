"""The training loop: data on the device, model, sharded jitted step, Orbax resume, warm start, logging, and
a hook that runs the evaluators every ``cfg.eval.every_steps`` steps (the caller passes it: training does not
import evaluation)."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from clu import metrics as clu_metrics
from flax import traverse_util
from jax.experimental import multihost_utils
from tqdm import tqdm

import difcon_jax.checkpoint as ckpt
from difcon_jax.augment import device_table
from difcon_jax.data.draw import parse_source_weights, source_row_weights
from difcon_jax.data.prepare import prepare_table
from difcon_jax.data.split import Split
from difcon_jax.errors import ConfigError, InputError, NonFiniteLoss
from difcon_jax.files import atomic_write_json
from difcon_jax.inference.model_dir import load_model, model_of
from difcon_jax.train import parallel
from difcon_jax.train.step import (
    DeviceData,
    frozen_groups,
    init_state,
    learning_rate_schedule,
    make_optimizer,
    make_train_step,
)

log = logging.getLogger(__name__)


def device_data(table, rows):
    """The rows ``rows`` of a peak table as :class:`DeviceData` (peaks, int32 labels, reduced cells — NaN
    when the table has none) for the device."""
    sub = table.subset(rows)
    cells = sub.reduced_cell if sub.reduced_cell is not None else np.full((len(sub), 6), np.nan, np.float32)
    return DeviceData(device_table(sub), jnp.asarray(sub.crystal_system, jnp.int32),
                      jnp.asarray(sub.extinction_group, jnp.int32), jnp.asarray(sub.space_group, jnp.int32),
                      jnp.asarray(cells, jnp.float32))


def build(cfg):
    """(model, optimiser) of a config: the ResNet1D with its heads, AdamW with the warm-up + cosine schedule."""
    return model_of(cfg), make_optimizer(cfg)


class Trained(NamedTuple):
    """What :func:`train` returns: the last logged metrics (means over the last ``log_every`` steps; empty
    when no step ran) and the final train state."""

    metrics: dict
    state: Any


def check_run_settings(cfg, workdir: str) -> None:
    """ConfigError / InputError naming exactly the settings (or the path) at fault, before any work."""
    bad = [f"{name} {value} must be at least 1" for name, value in (("num_steps", cfg.num_steps),
                                                                     ("batch_size", cfg.batch_size)) if value < 1]
    if bad:
        raise ConfigError("; ".join(bad))
    if cfg.batch_size % jax.device_count():
        raise ConfigError(f"batch_size {cfg.batch_size} is not divisible by {jax.device_count()} devices")
    parse_source_weights(cfg.data.get("source_weights", ()))  # a malformed item: one line, before the table loads
    frozen_groups(cfg)  # an unknown optim.trainable: likewise
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise InputError(workdir, "the work directory is an existing file")
    head = os.path.dirname(os.path.abspath(workdir))
    while head and not os.path.exists(head):
        head = os.path.dirname(head)
    if head and not os.path.isdir(head):
        raise InputError(workdir, f"cannot be created: {head} is a file")


def initial_state(cfg, model, tx, mngr, key):
    """The state to start from: the latest checkpoint (resume), else a fresh state whose parameters come from
    ``cfg.init_from`` when set (a warm start: the model folder's or training directory's parameters, a
    fresh optimiser and schedule), else random."""
    abstract = jax.eval_shape(lambda: init_state(cfg, model, tx, key))
    if mngr.latest_step() is not None:
        state, _ = ckpt.restore(mngr, abstract)
        log.info("resumed from step %d (%s)", int(state.step), mngr.directory)
        return state
    state = init_state(cfg, model, tx, key)
    if cfg.init_from:
        _, _, params = load_model(cfg.init_from)
        params, added = warm_start_params(state.params, params, cfg.init_from)
        state = state.replace(params=params, opt_state=tx.init(params))
        log.info("warm start from the parameters of %s%s", cfg.init_from,
                 f"; new, freshly initialised: {', '.join(added)}" if added else "")
    return state


def warm_start_params(fresh, loaded, source: str):
    """(parameters, names of the new modules): ``fresh`` with every array that ``loaded`` has put in its place.

    A module ``loaded`` lacks (say an attention block added to a trained encoder) keeps its fresh
    initialisation; an array whose shape differs, or one the new model has no place for, is a ConfigError
    naming it — a warm start grows a model, it never silently drops or reshapes what was learned.
    """
    new_flat, old_flat = traverse_util.flatten_dict(fresh, sep="/"), traverse_util.flatten_dict(loaded, sep="/")
    dropped = sorted(set(old_flat) - set(new_flat))
    reshaped = [k for k in old_flat if k in new_flat and old_flat[k].shape != new_flat[k].shape]
    if dropped or reshaped:
        what = [f"{k} {old_flat[k].shape} → {new_flat[k].shape}" for k in reshaped[:3]] + \
               [f"{k} has no place in cfg.model" for k in dropped[:3]]
        raise ConfigError(f"init_from {source}: its model differs from cfg.model ({'; '.join(what)}); a warm start "
                          "keeps every trained array and may only add modules")
    added = sorted({k.rsplit("/", 1)[0] for k in new_flat if k not in old_flat})
    merged = {k: jnp.asarray(old_flat.get(k, v), v.dtype) for k, v in new_flat.items()}
    return traverse_util.unflatten_dict(merged, sep="/"), added


@jax.jit
def accumulate_metrics(acc: dict | None, metrics: dict) -> dict:
    """The running averages (clu ``Average``) of the steps' scalar ``metrics`` since the last log line, ``metrics``
    merged in as one program: merged op by op on the host, 17 metrics cost ~6 ms a step on a 2-core CPU (0.07 ms as
    one program) — the likeliest part of the 23 ms a step that the loop spent beyond its benchmarked step on an H100
    (K's network at batch 1,024: 40 ms against 17 ms; results/network_axes/README.md)."""
    upd = {k: clu_metrics.Average.from_model_output(v) for k, v in metrics.items()}
    return upd if acc is None else {k: acc[k].merge(upd[k]) for k in acc}


def _check_finite(metrics: dict, done: int, mngr) -> None:
    if not math.isfinite(metrics.get("loss", 0.0)):
        ckpt.finish(mngr)
        good = mngr.latest_step()
        raise NonFiniteLoss(f"non-finite loss at step {done}; last good checkpoint: "
                            f"{'none' if good is None else f'step {good}'} in {mngr.directory}")


class _Log:
    """metrics.jsonl (one line per write: a crash leaves every earlier line intact), optional TensorBoard."""

    def __init__(self, cfg, workdir: str):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self.writer = _tensorboard(cfg, workdir)
        self.t0 = time.time()

    def write(self, step: int, values: dict) -> None:
        if jax.process_index() != 0:
            return
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"step": step, "time": round(time.time() - self.t0, 3),
                                 **{k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}}) + "\n")
        if self.writer:
            self.writer.write_scalars(step, {k: v for k, v in values.items() if isinstance(v, (int, float))})


def train(cfg, workdir: str, on_eval: Callable[[int, Any], dict] | None = None) -> Trained:
    """Train (resuming from WORKDIR's latest checkpoint) to ``cfg.num_steps``; checkpoints, metrics.jsonl.
    ``on_eval(step, params) -> {name: value}``, when given, runs every ``cfg.eval.every_steps`` steps
    (process 0) and its values join metrics.jsonl."""
    check_run_settings(cfg, workdir)
    os.makedirs(workdir, exist_ok=True)
    table = prepare_table(cfg, workdir)
    train_rows = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    if len(train_rows) == 0:
        raise InputError(cfg.data.table or workdir, "the peak table has no training structures")
    if cfg.model.get("lattice_head", False) and table.reduced_cell is None:
        raise InputError(cfg.data.table or workdir, "the peak table has no reduced cells for the lattice head "
                         "(built before they were stored: rebuild it, or set --config.model.lattice_head=False)")
    mesh = parallel.make_mesh()
    rep, sharded = parallel.shardings(mesh)
    data = parallel.replicate(device_data(table, train_rows), mesh)
    cdf = parallel.sampling_cdf(np.asarray(table.space_group)[train_rows], cfg.data.sampling_power,
                                source_row_weights(np.asarray(table.source_id)[train_rows],
                                                   cfg.data.get("source_weights", ())))
    model, tx = build(cfg)
    init_key, run_key = jax.random.split(jax.random.key(cfg.seed))  # one key per run; steps fold in
    mngr = ckpt.manager(workdir, keep_period=cfg.ckpt_keep_period)
    state = parallel.replicate(initial_state(cfg, model, tx, mngr, init_key), mesh)
    if jax.process_index() == 0:
        atomic_write_json(os.path.join(workdir, "config.json"), cfg.to_dict())
    step_fn = jax.jit(make_train_step(cfg, model, tx), in_shardings=(rep, {"index": sharded, "table": rep}, rep),
                      out_shardings=(rep, rep), donate_argnums=0)
    logger, lr_at = _Log(cfg, workdir), learning_rate_schedule(cfg)
    start = int(state.step)
    bar = tqdm(total=cfg.num_steps, initial=start, desc=f"train {cfg.mode}", unit="step", file=sys.stderr,
               disable=jax.process_index() != 0 or None, dynamic_ncols=True)
    acc, last, t_log, logged = None, {}, time.time(), start
    every = int(cfg.eval.every_steps)
    budget, t_start = float(cfg.train_seconds), time.time()
    for step in range(start, cfg.num_steps):
        local = parallel.batch_indices(cfg.seed, step, len(train_rows), cfg.batch_size, cdf)
        index = parallel.global_array(local, sharded, (cfg.batch_size,))
        state, m = step_fn(state, {"index": index, "table": data}, jax.random.fold_in(run_key, step))
        acc = accumulate_metrics(acc, m)
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.num_steps:
            last, acc = {k: float(v.compute()) for k, v in acc.items()}, None
            _check_finite(last, done, mngr)
            now = time.time()  # metrics are on the host now, so the steps before this line have finished
            last["steps_per_s"], t_log, logged = (done - logged) / max(now - t_log, 1e-9), now, done
            last["lr"] = float(lr_at(done - 1))  # the rate the last step used
            logger.write(done, last)
            bar.set_postfix(loss=f"{last['loss']:.3f}", acc_sg=f"{last['acc_sg']:.2f}", lr=f"{last['lr']:.2e}")
        bar.update()
        spent = budget > 0 and done % cfg.log_every == 0 and done < cfg.num_steps and \
            _all_agree(time.time() - t_start > budget)
        if done % cfg.ckpt_every == 0 or done == cfg.num_steps or spent:
            _check_finite(last, done, mngr)
            ckpt.save(mngr, done, state, cfg.to_dict())  # asynchronous: files written while training goes on
        if spent:
            log.warning("train_seconds (%g s) spent at step %d of %d: training stops here, its learning-rate "
                        "schedule cut short (lr %.2e)", budget, done, cfg.num_steps, last.get("lr", float("nan")))
            logger.write(done, {"stopped": "train_seconds", "num_steps": int(cfg.num_steps)})
            break
        if on_eval is not None and every > 0 and done % every == 0 and done < cfg.num_steps and jax.process_index() == 0:
            logger.write(done, {"eval": on_eval(done, state.params)})
    ckpt.finish(mngr)
    bar.close()
    return Trained(last, state)


def _all_agree(flag: bool) -> bool:
    """``flag`` as process 0 sees it, on every process (a time budget must stop every host at the same step, or the
    others wait in the next step's collectives forever)."""
    if jax.process_count() == 1:
        return bool(flag)
    return bool(multihost_utils.broadcast_one_to_all(np.asarray(flag, np.int32)))


def _tensorboard(cfg, workdir):
    if not cfg.tensorboard:
        return None
    try:
        from clu import metric_writers  # imports TensorFlow: an optional extra
    except ImportError:
        log.warning("tensorboard logging needs the [tensorboard] extra; continuing with metrics.jsonl only")
        return None
    return metric_writers.create_default_writer(os.path.join(workdir, "tensorboard"),
                                                just_logging=jax.process_index() > 0)
