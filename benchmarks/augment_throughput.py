"""Augmentation throughput: the full training-time pipeline at 12,000 bins, JAX vs NumPy vs PyTorch.

Same peak table (shared CIFs when ../shared/data is present, else pyxtal crystals), same config
(configs/augment_table1.py), same machine, one run. JAX runs jitted on its default device (rendering in
groups of ``augment_chunk`` patterns on a CPU); NumPy and PyTorch (all CPU threads) are vectorised over the
batch and timed both on the whole batch and in groups of the same size, the better counted. The references
skip the SNIP background removal the JAX pipeline runs, so the ratios favour them. Last line: JSON with
jax/numpy/torch patterns_per_s at the common batch size, the batch, bins and device.

    python benchmarks/augment_throughput.py [--batches 64,256,1024] [--max-peaks 128] [--repeats 3]
        [--cpu-devices 2]  # the CPU as 2 XLA devices, the batch sharded over them (1 by default)
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def rate(fn, batch, repeats):
    fn()  # warm-up / compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return batch / float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--max-peaks", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-references", action="store_true")
    ap.add_argument("--table", default=None, help="use this peak table (default: the shared COD CIFs)")
    ap.add_argument("--random-table", action="store_true", help="random sticks (no data needed: accelerators)")
    ap.add_argument("--chunk", type=int, default=None,
                    help="render group per device (default: the config's on a CPU, 0 = one vmap elsewhere)")
    ap.add_argument("--cpu-devices", type=int, default=1,
                    help="split the host CPU into this many XLA devices and shard the batch over a ('data',) "
                         "mesh, as data-parallel training does (XLA:CPU runs each device's loops on its own thread)")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    from common import use_cpu_devices

    use_cpu_devices(args.cpu_devices)  # before JAX starts
    import jax
    import jax.numpy as jnp

    from difcon_jax.augment import device_table, gather, make_augment_batch
    from difcon_jax.config import default_config_path, load_config

    cfg = load_config(default_config_path("augment_table1"))
    from common import default_chunk, shard_batch, table_from_args

    cfg.augment_chunk = default_chunk(cfg) if args.chunk is None else args.chunk
    table = table_from_args(args, args.max_peaks)
    dev = device_table(table)
    augment = jax.jit(make_augment_batch(cfg))
    n = len(table)
    results = {"jax": {}, "numpy": {}, "torch": {}}
    for b in batches:
        batch = shard_batch(gather(dev, jnp.arange(b) % n))
        key = [0]

        def run_jax():
            key[0] += 1
            augment(jax.random.key(key[0]), batch).block_until_ready()

        results["jax"][b] = rate(run_jax, b, args.repeats)
        print(f"jax    batch {b:5d}: {results['jax'][b]:10.1f} patterns/s", flush=True)

    if not args.skip_references:
        from reference_pipeline import Backend, ReferencePipeline

        inten = np.where(table.mask, table.intensity, 0).astype(np.float32)
        arrays = (table.two_theta.astype(np.float32), inten, table.po_cos2.astype(np.float32),
                  table.po_weight.astype(np.float32))
        ref_batches = [b for b in batches if b <= 256]
        np_pipe = ReferencePipeline(cfg, Backend("numpy"))
        group = max(1, int(cfg.augment_chunk) or 8)

        def best_of(pipe, x, b, wrap=lambda f: f()):
            """The reference's better rate: the whole batch at once, or in groups of `group` rows (the
            cache-friendly grouping the JAX side uses), so neither side gets a trick the other lacks."""
            whole = rate(lambda: wrap(lambda: pipe(*x)), b, args.repeats)
            grouped = rate(lambda: wrap(lambda: [pipe(*(a[i:i + group] for a in x)) for i in range(0, b, group)]),
                           b, args.repeats)
            return max(whole, grouped), ("whole" if whole >= grouped else f"groups of {group}")

        for b in ref_batches:
            idx = np.arange(b) % n
            x = [a[idx] for a in arrays]
            results["numpy"][b], how = best_of(np_pipe, x, b)
            print(f"numpy  batch {b:5d}: {results['numpy'][b]:10.1f} patterns/s ({how})", flush=True)
        try:
            import torch

            torch.set_num_threads(os.cpu_count() or 1)
            t_pipe = ReferencePipeline(cfg, Backend("torch"))
            for b in ref_batches:
                idx = np.arange(b) % n
                x = [torch.as_tensor(a[idx]) for a in arrays]

                def no_grad(f):
                    with torch.no_grad():
                        return f()

                results["torch"][b], how = best_of(t_pipe, x, b, no_grad)
                print(f"torch  batch {b:5d}: {results['torch'][b]:10.1f} patterns/s ({how})", flush=True)
        except ImportError:
            print("torch not installed (pip install '.[bench]'): skipped")
    common = max(b for b in batches if b in results["numpy"]) if results["numpy"] else max(batches)
    out = {
        "benchmark": "augment_throughput", "batch": common, "bins": int(cfg.n_bins), "max_peaks": args.max_peaks,
        "ka2": bool(cfg.ka2), "device": str(jax.devices()[0].device_kind), "devices": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "augment_chunk": int(cfg.augment_chunk), "table": "random" if args.random_table else (args.table or "shared COD"),
        "jax_patterns_per_s": round(results["jax"][common], 1),
        "numpy_patterns_per_s": round(results["numpy"].get(common, float("nan")), 1),
        "torch_patterns_per_s": round(results["torch"].get(common, float("nan")), 1),
        "jax_best_patterns_per_s": round(max(results["jax"].values()), 1),
        "jax_by_batch": {str(k): round(v, 1) for k, v in results["jax"].items()},
    }
    if results["numpy"].get(common):
        out["ratio_vs_numpy"] = round(out["jax_patterns_per_s"] / out["numpy_patterns_per_s"], 2)
    if results["torch"].get(common):
        out["ratio_vs_torch"] = round(out["jax_patterns_per_s"] / out["torch_patterns_per_s"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
