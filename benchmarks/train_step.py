"""Train-step throughput per config (samples/s) and the share of step time spent in augmentation.

    python benchmarks/train_step.py [--configs quickstart,cnn_static,cnn_aug,difcon,simclr] [--batch 32]
        [--model quickstart|paper]

``--model quickstart`` (default on CPU) uses the quickstart network for every mode so the modes compare
like with like; ``paper`` keeps each config's own (paper-scale) network — meant for a GPU; ``tiny`` (8
channels, one block per stage) only checks the plumbing (the device suite's CPU dry run: compile time
dominates there). Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="cnn_static,cnn_aug,difcon,simclr")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--model", choices=("quickstart", "paper", "tiny"), default="quickstart")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--table", default=None, help="use this peak table (default: the shared COD CIFs)")
    ap.add_argument("--random-table", action="store_true", help="random sticks (no data needed: accelerators)")
    ap.add_argument("--dtype", default=None, help="compute dtype of the encoder (e.g. bfloat16 on an accelerator)")
    ap.add_argument("--chunk", type=int, default=None,
                    help="render group per device (default: the config's on a CPU, 0 = one vmap elsewhere)")
    args = ap.parse_args()

    import jax
    import numpy as np
    from common import default_chunk, median_time, table_from_args

    from difcon_jax.augment import gather
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.train import parallel
    from difcon_jax.train.loop import build, device_data
    from difcon_jax.train.step import init_state, make_train_step, make_views

    table = table_from_args(args)
    rows = np.arange(len(table))
    quick = load_config(default_config_path("quickstart"))
    results = {}
    for name in args.configs.split(","):
        cfg = load_config(default_config_path(name))
        cfg.unlock()
        cfg.batch_size = args.batch
        if args.model in ("quickstart", "tiny"):
            cfg.model = quick.model
        if args.model == "tiny":
            cfg.model.update(dict(widths=(8, 8, 8, 8), blocks=(1, 1, 1, 1), stem_features=8,
                                  projector_dims=(16, 16), head_hidden=16))
        if args.dtype:
            cfg.model.dtype = args.dtype
        cfg.augment.augment_chunk = default_chunk(cfg.augment) if args.chunk is None else args.chunk
        model, tx = build(cfg)
        mesh = parallel.make_mesh()
        rep, sharded = parallel.shardings(mesh)
        data = parallel.replicate(device_data(table, rows), mesh)
        state = parallel.replicate(init_state(cfg, model, tx, jax.random.key(0)), mesh)
        step = jax.jit(make_train_step(cfg, model, tx), in_shardings=(rep, {"index": sharded, "table": rep}, rep),
                       out_shardings=(rep, rep), donate_argnums=0)
        views = jax.jit(make_views(cfg))
        index = parallel.global_array(np.arange(args.batch, dtype=np.int32) % len(rows), sharded, (args.batch,))
        holder = {"state": state, "k": 0}

        def run_step():
            holder["k"] += 1
            holder["state"], m = step(holder["state"], {"index": index, "table": data}, jax.random.key(holder["k"]))
            jax.block_until_ready(m)

        def run_views():
            jax.block_until_ready(views(jax.random.key(1), gather(data.peaks, index), index))

        t_step = median_time(run_step, args.repeats)
        # the step's rate at once, as a JSON line of its own: a run cut while timing the views (launch/device_train.sh
        # bounds it) still leaves the rate its schedule is planned from as its last line
        print(json.dumps({"benchmark": "train_step", "partial": True, "batch": args.batch,
                          "results": {name: {"samples_per_s": round(args.batch / t_step, 1),
                                             "step_ms": round(1e3 * t_step, 1)}}}), flush=True)
        t_aug = median_time(run_views, args.repeats)
        results[name] = {"samples_per_s": round(args.batch / t_step, 1), "step_ms": round(1e3 * t_step, 1),
                         "augment_fraction": round(min(1.0, t_aug / t_step), 3)}
        print(f"{name:11s} {results[name]['samples_per_s']:8.1f} samples/s  step {results[name]['step_ms']:7.1f} ms"
              f"  augmentation {100 * results[name]['augment_fraction']:.0f} %", flush=True)
    print(json.dumps({"benchmark": "train_step", "batch": args.batch, "model": args.model,
                      "dtype": args.dtype or "config", "augment_chunk": int(cfg.augment.augment_chunk),
                      "device": str(jax.devices()[0].device_kind), "devices": jax.device_count(),
                      "cpu_count": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
