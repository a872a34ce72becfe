"""Inference latency (batch 1) and batched throughput against the paper's 0.07 s per forward pass.

    python benchmarks/inference_latency.py [--workdir TRAINED_DIR] [--model quickstart|paper]

With ``--workdir`` the trained network of that directory is timed; otherwise a freshly initialised network
of the quickstart (default) or paper-scale architecture. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os

PAPER_SECONDS_PER_PATTERN = 0.07


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="")
    ap.add_argument("--model", choices=("quickstart", "paper"), default="quickstart")
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()

    import jax
    import numpy as np
    from common import median_time

    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.inference.forward import _forward
    from difcon_jax.inference.model_dir import load_model
    from difcon_jax.train.loop import build

    if args.workdir:
        cfg, model, params = load_model(args.workdir)
        label = args.workdir
    else:
        cfg = load_config(default_config_path("quickstart" if args.model == "quickstart" else "difcon"))
        model, _ = build(cfg)
        params = model.init(jax.random.key(0), np.zeros((1, cfg.augment.n_bins), np.float32))["params"]
        label = args.model
    n = int(cfg.augment.n_bins)
    one = np.random.default_rng(0).random((1, n)).astype(np.float32)
    many = np.random.default_rng(1).random((args.batch, n)).astype(np.float32)
    t1 = median_time(lambda: jax.block_until_ready(_forward(model, params, one)), repeats=50, warmup=3)
    tb = median_time(lambda: jax.block_until_ready(_forward(model, params, many)), repeats=5, warmup=1)
    n_params = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(params))
    print(f"{label}: {n_params / 1e6:.2f} M parameters; batch-1 latency {1e3 * t1:.2f} ms "
          f"(paper {1e3 * PAPER_SECONDS_PER_PATTERN:.0f} ms, {PAPER_SECONDS_PER_PATTERN / t1:.0f}x faster); "
          f"batch {args.batch}: {args.batch / tb:.0f} patterns/s")
    print(json.dumps({"benchmark": "inference_latency", "model": label, "params_million": round(n_params / 1e6, 3),
                      "batch1_latency_ms": round(1e3 * t1, 3), "batched_patterns_per_s": round(args.batch / tb, 1),
                      "batch": args.batch, "paper_latency_ms": 1e3 * PAPER_SECONDS_PER_PATTERN,
                      "speedup_vs_paper": round(PAPER_SECONDS_PER_PATTERN / t1, 1),
                      "device": str(jax.devices()[0].device_kind), "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
    main()
