"""Roofline of the augmentation pipeline on this machine: XLA's own count of FLOPs and bytes per pattern
(compiled cost analysis) against the measured time, beside the machine's practical peaks measured in the same
run (a large float32 matmul for FLOP/s, a streaming add for bytes/s).

    python benchmarks/roofline.py [--batch 256] [--chunk N]

Last line: JSON (achieved GFLOP/s and GB/s, the peaks, their ratios). XLA counts a transcendental as one
FLOP, so the FLOP figure is a lower bound on the arithmetic done; "bytes" are the operands and results of
every fused kernel (cache or memory), so above the streaming peak they mean the caches carry the traffic.
"""

from __future__ import annotations

import argparse
import json
import os


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--random-table", action="store_true")
    ap.add_argument("--table", default=None)
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    from common import default_chunk, median_time, table_from_args

    from difcon_jax.augment import device_table, gather, make_augment_batch
    from difcon_jax.config import default_config_path, load_config

    n = 2048
    a = jnp.ones((n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    peak_flops = 2 * n**3 / median_time(lambda: mm(a).block_until_ready(), 5)
    big = jnp.ones((32 * 2**20,), jnp.float32)  # 128 MiB: far beyond the caches
    add = jax.jit(lambda x: x + 1)
    peak_bytes = 2 * big.nbytes / median_time(lambda: add(big).block_until_ready(), 5)

    cfg = load_config(default_config_path("augment_table1"))
    cfg.augment_chunk = default_chunk(cfg) if args.chunk is None else args.chunk
    table = table_from_args(args)
    batch = gather(device_table(table), jnp.arange(args.batch) % len(table))
    augment = jax.jit(make_augment_batch(cfg))
    # XLA counts a loop body once, so the work is counted on the one-vmap form of the same computation
    # (the grouped form does the same arithmetic; its bytes mostly come from cache instead of memory)
    whole = cfg.copy_and_resolve_references()
    whole.augment_chunk = 0
    cost = jax.jit(make_augment_batch(whole)).lower(jax.random.key(0), batch).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops, nbytes = float(cost.get("flops", 0.0)), float(cost.get("bytes accessed", 0.0))
    t = median_time(lambda: augment(jax.random.key(1), batch).block_until_ready(), 5)
    out = {"benchmark": "roofline", "device": str(jax.devices()[0].device_kind), "cpu_count": os.cpu_count(),
           "batch": args.batch, "augment_chunk": int(cfg.augment_chunk), "patterns_per_s": round(args.batch / t, 1),
           "flops_per_pattern": round(flops / args.batch), "bytes_per_pattern": round(nbytes / args.batch),
           "achieved_gflops": round(flops / t / 1e9, 2), "achieved_gbytes_per_s": round(nbytes / t / 1e9, 2),
           "peak_matmul_gflops": round(peak_flops / 1e9, 1), "peak_stream_gbytes_per_s": round(peak_bytes / 1e9, 2)}
    out["fraction_of_peak_flops"] = round(out["achieved_gflops"] / out["peak_matmul_gflops"], 4)
    out["fraction_of_peak_bytes"] = round(out["achieved_gbytes_per_s"] / out["peak_stream_gbytes_per_s"], 4)
    out["arithmetic_intensity_flop_per_byte"] = round(flops / max(nbytes, 1), 2)
    print(f"{out['patterns_per_s']:.0f} patterns/s; {out['flops_per_pattern'] / 1e6:.2f} MFLOP and "
          f"{out['bytes_per_pattern'] / 1e6:.2f} MB per pattern (XLA's count); {out['achieved_gflops']} GFLOP/s of "
          f"{out['peak_matmul_gflops']} (matmul), {out['achieved_gbytes_per_s']} GB/s of {out['peak_stream_gbytes_per_s']} (stream)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
