"""Where the augmentation's time goes: the pipeline's stages (difcon_jax.augment.pipeline.make_stages) timed
as cumulative prefixes inside one jitted batch — parameters + per-peak kernels, + rendering, + per-bin kernels
(background, noise, crop, SNIP, renormalisation) — so each difference is that stage's cost as it runs fused
with its neighbours, not alone. Rounds are interleaved, so machine noise hits every variant alike.

    python benchmarks/augment_stages.py [--batch 256] [--chunk N] [--random-table]

Last line: JSON with µs per pattern for each stage.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--random-table", action="store_true")
    ap.add_argument("--table", default=None)
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    import numpy as np
    from common import default_chunk, table_from_args

    from difcon_jax.augment import device_table, gather, sample_params_batch, vmap_in_chunks
    from difcon_jax.augment.pipeline import make_stages
    from difcon_jax.config import default_config_path, load_config

    cfg = load_config(default_config_path("augment_table1"))
    chunk = default_chunk(cfg) if args.chunk is None else args.chunk
    table = table_from_args(args)
    batch = gather(device_table(table), jnp.arange(args.batch) % len(table))
    st = make_stages(cfg)
    render = vmap_in_chunks(st.render, chunk)

    def prefix(depth):
        def run(key, peaks):
            k_par, k_sim = jax.random.split(key)
            params = sample_params_batch(k_par, args.batch, cfg)
            keys = jax.random.split(k_sim, args.batch)
            tt, inten, fwhm = jax.vmap(st.sticks)(keys, peaks, params)
            if depth == 0:
                return tt.sum() + inten.sum() + fwhm.sum()
            y = render(tt, inten, fwhm, params)
            return y.sum() if depth == 1 else jax.vmap(st.finish)(keys, y, params).sum()
        return jax.jit(run)

    names = ("parameters + per-peak kernels", "rendering", "per-bin kernels")
    fns = [prefix(d) for d in range(3)]
    for f in fns:
        f(jax.random.key(0), batch).block_until_ready()
    times = [[] for _ in fns]
    for r in range(args.rounds):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            f(jax.random.key(r + 1), batch).block_until_ready()
            times[i].append(time.perf_counter() - t)
    cum = [1e6 * float(np.median(t)) / args.batch for t in times]
    stages = {n: round(c - (cum[i - 1] if i else 0.0), 1) for i, (n, c) in enumerate(zip(names, cum))}
    for n, us in stages.items():
        print(f"{n:32s} {us:8.1f} µs/pattern")
    print(json.dumps({"benchmark": "augment_stages", "device": str(jax.devices()[0].device_kind), "batch": args.batch,
                      "augment_chunk": chunk, "bins": int(cfg.n_bins), "us_per_pattern": stages,
                      "total_us_per_pattern": round(cum[-1], 1)}))


if __name__ == "__main__":
    main()
