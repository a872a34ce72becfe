"""The pure train step ``(state, batch, key) -> (state, metrics)`` for the four training modes.

* ``cnn_static`` (CNNstatic): one fixed augmentation per structure (its key and parameters depend only on
  the structure's index), so every epoch sees the same patterns — a precomputed dataset without the disk.
* ``cnn_aug`` (CNNaug): fresh augmentations every step, classification heads only.
* ``difcon`` (DIFCON): two views, Barlow Twins on the projector plus the classification heads; either
  joint or pretrain-then-fine-tune (``cfg.loss.schedule``).
* ``simclr``: as DIFCON with NT-Xent instead of Barlow Twins (the paper's comparison).

``batch`` = ``{"index": int32[B] (sharded over 'data'), "table": DeviceData (replicated)}``: the peak table
lives on the device and a batch is a gather, so no pattern crosses the host each step.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax

from difcon_jax.augment import Peaks, gather, make_augment_batch, make_simulate_batch, make_two_views, sample_params
from difcon_jax.errors import ConfigError
from difcon_jax.train.losses import barlow_twins_loss, classification_losses, lattice_loss, nt_xent_loss


class Mode(NamedTuple):
    """A training mode (a row of the paper's Table 2): how many views a step renders and which representation
    loss, if any, joins the classification heads (``representation_loss(cfg) -> f(z_a, z_b)``)."""

    views: str  # "static" (fixed per structure), "one" or "two" fresh augmentations
    representation_loss: Callable[[Any], Callable[[jax.Array, jax.Array], jax.Array]] | None = None


MODES = {
    "cnn_static": Mode("static"),
    "cnn_aug": Mode("one"),
    "difcon": Mode("two", lambda cfg: functools.partial(barlow_twins_loss, tau=cfg.loss.tau)),
    "simclr": Mode("two", lambda cfg: functools.partial(nt_xent_loss, temperature=cfg.loss.temperature)),
}


def mode_of(cfg) -> Mode:
    """The :class:`Mode` of ``cfg.mode``; ValueError naming the modes for an unknown one."""
    if cfg.mode not in MODES:
        raise ValueError(f"unknown training mode {cfg.mode!r} (one of {', '.join(MODES)})")
    return MODES[cfg.mode]


class DeviceData(NamedTuple):
    """The training table on the device: peaks plus labels (int32[N] each) and the reduced cells float32[N, 6]
    (Å, degrees; NaN where unknown) that the lattice head learns."""

    peaks: Peaks
    crystal_system: jax.Array
    extinction_group: jax.Array
    space_group: jax.Array
    reduced_cell: jax.Array


@flax.struct.dataclass
class TrainState:
    """Step counter, parameters and optimiser state: the whole of what a train step changes (a pytree)."""
    step: jax.Array
    params: Any
    opt_state: Any


def learning_rate_schedule(cfg) -> optax.Schedule:
    """Linear warm-up over ``optim.warmup_steps``, then cosine decay to ``final_lr_fraction`` at ``num_steps``."""
    return optax.warmup_cosine_decay_schedule(0.0, cfg.optim.learning_rate, cfg.optim.warmup_steps,
                                              max(cfg.num_steps, cfg.optim.warmup_steps + 1),
                                              end_value=cfg.optim.learning_rate * cfg.optim.final_lr_fraction)


#: The top-level parameter groups ``optim.trainable = "heads"`` freezes: the representation h and what is built on
#: it for the representation loss; the classification and lattice heads (and a ``head_residual``) train.
FROZEN_FOR_HEADS = ("encoder", "projector")
TRAINABLE = ("all", "heads")


def frozen_groups(cfg) -> tuple[str, ...]:
    """The top-level parameter groups that ``cfg.optim.trainable`` freezes (none for "all"); ConfigError naming
    the choices for an unknown value."""
    trainable = cfg.optim.get("trainable", "all")
    if trainable not in TRAINABLE:
        raise ConfigError(f"optim.trainable {trainable!r} is not one of {', '.join(TRAINABLE)}")
    return FROZEN_FOR_HEADS if trainable == "heads" else ()


def freeze(params, groups: tuple[str, ...]):
    """``params`` with the top-level ``groups`` behind ``stop_gradient``: no gradient reaches them, and since
    nothing upstream of the representation is differentiated then, the encoder's backward pass is not computed."""
    return {k: jax.lax.stop_gradient(v) if k in groups else v for k, v in params.items()} if groups else params


def make_optimizer(cfg) -> optax.GradientTransformation:
    """AdamW with :func:`learning_rate_schedule` (optax), global-norm clipping; the groups ``optim.trainable``
    freezes get no update at all (weight decay would otherwise still shrink them)."""
    sched = learning_rate_schedule(cfg)
    if cfg.optim.name == "sgd":  # used by the data-parallel equivalence tests
        tx = optax.sgd(sched)
    else:
        tx = optax.chain(optax.clip_by_global_norm(cfg.optim.grad_clip),
                         optax.adamw(sched, weight_decay=cfg.optim.weight_decay))
    groups = frozen_groups(cfg)
    if not groups:
        return tx

    def label(params):
        return {k: jax.tree_util.tree_map(lambda _: "frozen" if k in groups else "train", v) for k, v in params.items()}

    return optax.multi_transform({"train": tx, "frozen": optax.set_to_zero()}, label)


def init_state(cfg, model, tx, key) -> TrainState:
    """A fresh :class:`TrainState` at step 0: parameters initialised from ``key`` on a zero float[1, n_bins]."""

    def fresh(key):
        params = model.init(key, jnp.zeros((1, cfg.augment.n_bins), jnp.float32))["params"]
        return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params))

    # one compiled program: run eagerly, Flax's init dispatches (and on a cold cache compiles) every layer's
    # ops one by one — 15 s of a 2-core test run's 43 s of training for a tiny network
    return jax.jit(fresh)(key)


def make_views(cfg):
    """``views(key, peaks, index) -> (view_a, view_b | None)`` for the configured mode."""
    n_views = mode_of(cfg).views
    augment = make_augment_batch(cfg.augment)
    two_views = make_two_views(cfg.augment)
    simulate_batch = make_simulate_batch(cfg.augment)
    static_key = jax.random.key(cfg.data.static_seed)

    def static(key, peaks, index):  # the structure's index alone picks its augmentation: the same every epoch
        keys = jax.vmap(lambda i: jax.random.fold_in(static_key, i))(index)
        params = jax.vmap(lambda k: sample_params(jax.random.fold_in(k, 1), cfg.augment))(keys)
        return simulate_batch(keys, peaks, params), None

    def one(key, peaks, index):
        return augment(jax.random.fold_in(key, 0), peaks), None

    def two(key, peaks, index):
        return two_views(key, peaks)

    return {"static": static, "one": one, "two": two}[n_views]


def make_train_step(cfg, model, tx):
    """The pure step ``(state, batch, key) -> (state, metrics)`` of ``cfg.mode``: views rendered on the device,
    representation loss (two-view modes) plus the hierarchical heads' losses; jit it with the state donated."""
    views = make_views(cfg)
    mode = mode_of(cfg)
    representation_loss = mode.representation_loss(cfg) if mode.representation_loss else None
    w = {"cs": cfg.loss.w_cs, "eg": cfg.loss.w_eg, "sg": cfg.loss.w_sg}
    two_view = mode.views == "two"
    both_views = bool(cfg.loss.classify_both_views)
    pretrain_steps = int(cfg.loss.pretrain_steps) if cfg.loss.schedule == "pretrain_finetune" else 0
    with_cell = bool(cfg.model.get("lattice_head", False))
    frozen = frozen_groups(cfg)

    def loss_fn(params, x_a, x_b, labels, step):
        params = freeze(params, frozen)
        if two_view:
            out = model.apply({"params": params}, jnp.concatenate([x_a, x_b], 0))
            b = x_a.shape[0]
            out_a = jax.tree_util.tree_map(lambda t: t[:b], out)
            repr_loss = representation_loss(out["projection"][:b], out["projection"][b:])
        else:
            out_a = model.apply({"params": params}, x_a)
            repr_loss = jnp.zeros(())
        cls_loss, metrics = classification_losses(out_a, labels, w)
        if two_view and both_views:  # the second view is as good a labelled example as the first
            out_b = jax.tree_util.tree_map(lambda t: t[x_a.shape[0]:], out)
            cls_b, _ = classification_losses(out_b, labels, w)
            cls_loss = 0.5 * (cls_loss + cls_b)
        if with_cell:  # a supervised head: counted with the classification heads (off while pretraining)
            cell_loss, cell_metrics = lattice_loss(out_a["reduced_cell"], labels["reduced_cell"])
            cls_loss = cls_loss + cfg.loss.w_cell * cell_loss
            metrics.update(cell_metrics)
        in_pretrain = step < pretrain_steps
        w_cls = jnp.where(in_pretrain, 0.0, 1.0)
        w_repr = jnp.where(in_pretrain, 1.0, cfg.loss.w_repr) if two_view else 0.0
        loss = w_cls * cls_loss + w_repr * repr_loss
        metrics.update(loss=loss, loss_repr=repr_loss, loss_cls=cls_loss)
        return loss, metrics

    def train_step(state: TrainState, batch, key):
        table: DeviceData = batch["table"]
        index = batch["index"]
        x_a, x_b = views(key, gather(table.peaks, index), index)
        labels = {"crystal_system": jnp.take(table.crystal_system, index),
                  "extinction_group": jnp.take(table.extinction_group, index),
                  "space_group": jnp.take(table.space_group, index)}
        if with_cell:
            labels["reduced_cell"] = jnp.take(table.reduced_cell, index, axis=0)
        grads, metrics = jax.grad(loss_fn, has_aux=True)(state.params, x_a, x_b, labels, state.step)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics["grad_norm"] = optax.tree_utils.tree_norm(grads)  # (optax.global_norm is deprecated)
        return TrainState(step=state.step + 1, params=params, opt_state=opt_state), metrics

    return train_step
