"""Subprocess entry for the parallel tests: train with overrides, print a parameter fingerprint (JSON)."""

import json
import sys

if __name__ == "__main__":
    workdir, table, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    extra = sys.argv[4:]  # further overrides (a.b=value), e.g. a time budget for one process only
    from difcon_jax.train import parallel

    parallel.initialize_distributed()
    import jax
    import numpy as np

    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.train.loop import train
    from tests.helpers.train import tiny_overrides

    cfg = load_config(default_config_path("quickstart"),
                      tiny_overrides(table, steps, mode="cnn_aug") + ["optim.name='sgd'", "optim.learning_rate=0.05",
                                                                       "ckpt_every=1000"] + extra)
    state = train(cfg, workdir).state
    # replicated parameters: every process holds a full copy on its own device(s)
    leaves = [np.asarray(x.addressable_data(0), np.float64) for x in jax.tree_util.tree_leaves(state.params)]
    if jax.process_index() == 0:
        print(json.dumps({"devices": jax.device_count(), "processes": jax.process_count(), "step": int(state.step),
                          "sum": float(sum(x.sum() for x in leaves)),
                          "first": [float(x.ravel()[0]) for x in leaves]}))
