"""Data parallelism: a ('data',) mesh over every device of every process, jit + NamedSharding.

Batch axis sharded over 'data', parameters and the peak table replicated; XLA inserts the gradient
all-reduce. Multi-host: ``jax.distributed.initialize()`` (SLURM/TPU environments are detected by JAX;
``DIFCON_COORDINATOR``/``DIFCON_NUM_PROCESSES``/``DIFCON_PROCESS_ID`` set it explicitly, e.g. for two
local CPU processes with gloo collectives).
"""

from __future__ import annotations

import os

import jax
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P


def initialize_distributed() -> None:
    """Join a multi-process run when the environment describes one; a no-op otherwise."""
    coord = os.environ.get("DIFCON_COORDINATOR")
    if coord:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU collectives across processes
        jax.distributed.initialize(coordinator_address=coord, num_processes=int(os.environ["DIFCON_NUM_PROCESSES"]),
                                   process_id=int(os.environ["DIFCON_PROCESS_ID"]))
    elif os.environ.get("DIFCON_DISTRIBUTED") == "1":  # SLURM / TPU pod: JAX reads the cluster environment
        jax.distributed.initialize()


def make_mesh():
    """A one-axis mesh ``('data',)`` over every device of every process."""
    return jax.make_mesh((jax.device_count(),), ("data",), axis_types=(AxisType.Auto,))


def shardings(mesh):
    """(replicated, batch-sharded over 'data') NamedShardings of ``mesh``."""
    return NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))


def global_array(local: np.ndarray, sharding, global_shape) -> jax.Array:
    """Assemble a global array from this process's rows (replicated sharding: the full array)."""
    return jax.make_array_from_process_local_data(sharding, np.asarray(local), global_shape)


def replicate(tree, mesh):
    """Every leaf of ``tree`` as a global array replicated on every device of ``mesh``."""
    rep = NamedSharding(mesh, P())
    return jax.tree_util.tree_map(lambda a: global_array(np.asarray(a), rep, np.shape(a)), tree)


def batch_indices(seed: int, step: int, n: int, global_batch: int, cdf: np.ndarray | None = None) -> np.ndarray:
    """This process's share of the step's global batch of structure indices (same on every process).

    ``cdf``: float64[n] cumulative sampling probabilities (see :func:`sampling_cdf`); None = uniform."""
    rng = np.random.default_rng([int(seed), int(step)])
    idx = rng.integers(0, n, global_batch) if cdf is None else draw_from_cdf(rng, cdf, global_batch)
    per = global_batch // jax.process_count()
    return idx[jax.process_index() * per:(jax.process_index() + 1) * per].astype(np.int32)


def draw_from_cdf(rng: np.random.Generator, cdf: np.ndarray, k: int) -> np.ndarray:
    """int[k] indices into ``cdf`` (float64[n] cumulative weights, :func:`sampling_cdf`), drawn with replacement
    with probability ∝ each row's weight, by ``k`` of ``rng``'s uniform numbers (the training loop's batches and the
    flat head's frozen-feature draws share it)."""
    return np.minimum(np.searchsorted(cdf, rng.random(k) * cdf[-1], side="right"), len(cdf) - 1)


def sampling_cdf(labels: np.ndarray, power: float, row_weights: np.ndarray | None = None) -> np.ndarray | None:
    """Cumulative probabilities for drawing rows with P(row) ∝ w(row)·count(label)^(power − 1): power 1 is the
    natural distribution (None: plain uniform rows, when no row weights are given either), 0 makes every label
    equally likely, 0.5 tempers; ``row_weights`` float[n] (:func:`difcon_jax.data.draw.source_row_weights`)."""
    if float(power) == 1.0 and row_weights is None:
        return None
    labels = np.asarray(labels)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    w = counts[inverse].astype(np.float64) ** (float(power) - 1.0)
    if row_weights is not None:
        w = w * np.asarray(row_weights, np.float64)
    return np.cumsum(w)
