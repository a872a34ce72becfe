"""Accuracy per unit of compute on this machine (issue 9 §4): variants of the CPU recipe trained for the
same wall time, then scored on the equivariance axis and on measured patterns (network alone).

Each variant is first run for a few steps to measure its training throughput (samples/s, rendering on the
device included); its schedule is then sized to the budget (num_steps = budget × steps/s, the full
warm-up + cosine inside it) and trained from scratch. Measured patterns only score the variants.

    python benchmarks/cpu_recipes.py --table runs/real_fill --experimental ../shared/data/experimental/rruff_dev \
        --budget-s 300 --variants 0,1,2,4 --out results/real_cpu/cpu_recipes
    difcon-jax dataset synth --count 5000 --out runs/synth5k --max-peaks 128
    python benchmarks/cpu_recipes.py --table runs/real_fill --pyxtal-table runs/synth5k \
        --experimental ../shared/data/experimental/rruff_dev --budget-s 300 --variants 5,6,7 \
        --out results/real_cpu/cpu_ablations

Prints one line per variant and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

VARIANTS = {
    # input length at the same 0–90° range (render cells kept at 0.4°)
    "shipped: 0-90 deg, 4500 bins (0.02 deg), widths 16-128": [],
    "input 2250 bins (0.04 deg)": ["augment.n_bins=2250", "augment.render_stride=10", "model.stem_stride=2"],
    "input 9000 bins (0.01 deg)": ["augment.n_bins=9000", "augment.render_stride=40", "model.stem_stride=8"],
    # network size at the shipped input
    "network widths 8-64": ["model.widths=(8, 16, 32, 64)", "model.stem_features=8"],
    "network widths 32-256": ["model.widths=(32, 64, 128, 256)", "model.stem_features=32"],
    # the sim-to-real changes of issue 9, each taken back alone (same budget as the shipped recipe):
    # the paper's Table 1 ranges instead of augment_real's widened ones (grid kept)
    "ablation: Table 1 augmentation ranges": ["@ranges_from=augment_table1"],
    # no background removal on either side (training patterns keep their backgrounds; measured ones too)
    "ablation: no background removal": ["augment.background_removal_deg=0.0"],
    # random pyxtal crystals (the --pyxtal-table) instead of the real structures
    "ablation: pyxtal crystals instead of real structures": ["@table=pyxtal"],
}


def _steps_per_s(cfg_name: str, overrides: list[str], workdir: str, probe: int) -> float:
    from difcon_jax.config import load_config
    from difcon_jax.train.loop import train

    cfg = load_config(cfg_name, overrides + [f"num_steps={probe}", "log_every=5", f"ckpt_every={probe}"])
    train(cfg, workdir)
    rows = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    a, b = rows[1], rows[-1]  # from the second log line on: compilation is over
    return (b["step"] - a["step"]) / max(b["time"] - a["time"], 1e-9)


def run_variant(name: str, extra: list[str], args) -> dict:
    import jax

    from difcon_jax.config import load_config
    from difcon_jax.inference.model_dir import load_model
    from difcon_jax.jobs.learning_curve import learning_curve
    from difcon_jax.train.loop import train

    special = dict(e[1:].split("=", 1) for e in extra if e.startswith("@"))
    extra = [e for e in extra if not e.startswith("@")]
    table = args.table
    if special.get("table") == "pyxtal":
        if not args.pyxtal_table:
            raise SystemExit(f"{name}: needs --pyxtal-table (difcon-jax dataset synth --count N --out T)")
        table = args.pyxtal_table
    base = [f"data.table={table!r}", f"seed={args.seed}", *args.override, *extra]
    if "ranges_from" in special:  # another config's augmentation ranges, applied as overrides
        from difcon_jax.config import load_config as _load

        ranges = _load(special["ranges_from"]).ranges.to_dict()
        base += [f"augment.ranges.{k}={tuple(tuple(r) for r in v)!r}" for k, v in ranges.items()]
    tag = "".join(c if c.isalnum() else "_" for c in name)[:40]
    probe_dir = os.path.join(args.workdir, tag + "_probe")
    shutil.rmtree(probe_dir, ignore_errors=True)
    rate = _steps_per_s(args.config, base, probe_dir, args.probe_steps)
    shutil.rmtree(probe_dir, ignore_errors=True)
    steps = max(int(args.budget_s * rate), 20)
    cfg = load_config(args.config, base + [f"num_steps={steps}", f"ckpt_every={steps}", "ckpt_keep_period=0",
                                           f"optim.warmup_steps={max(1, min(500, steps // 10))}"])
    wd = os.path.join(args.workdir, tag)
    shutil.rmtree(wd, ignore_errors=True)
    t0 = time.perf_counter()
    train(cfg, wd)
    wall = time.perf_counter() - t0
    curve = learning_curve(wd, args.experimental, n_structures=args.n_structures)
    params = sum(int(p.size) for p in jax.tree_util.tree_leaves(load_model(wd)[2]))
    row = {"variant": name, "overrides": VARIANTS[name], "steps_per_s": round(rate, 3),
           "samples_per_s": round(rate * int(cfg.batch_size), 1), "steps": steps, "train_wall_s": round(wall, 1),
           "params": int(params)}
    for key, res in curve.items():
        if isinstance(res, dict):
            row[key] = {k: res[k][-1] for k in ("acc_cs", "acc_sg", "top5_sg")}
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--table", required=True, help="peak table of training structures")
    p.add_argument("--pyxtal-table", default="", help="peak table of pyxtal crystals (the pyxtal ablation)")
    p.add_argument("--experimental", action="append", default=[], help="labelled folder(s) of measured patterns")
    p.add_argument("--config", default="difcon_cpu")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE", help="applied to every variant")
    p.add_argument("--variants", default="", help="comma-separated indices into VARIANTS (default: all)")
    p.add_argument("--budget-s", type=float, default=360.0, help="training wall time per variant")
    p.add_argument("--probe-steps", type=int, default=40)
    p.add_argument("--n-structures", type=int, default=500, help="equivariance structures scored")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default="runs/cpu_recipes")
    p.add_argument("--out", default="", help="write OUT.json and OUT.md")
    args = p.parse_args(argv)
    names = list(VARIANTS)
    if args.variants:
        names = [names[int(i)] for i in args.variants.split(",")]
    rows = []
    for name in names:
        row = run_variant(name, VARIANTS[name], args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        from difcon_jax.files import atomic_write_json, atomic_write_text

        atomic_write_json(args.out + ".json", {"budget_s": args.budget_s, "config": args.config, "rows": rows})
        sets = [k for k in rows[0] if isinstance(rows[0][k], dict)]
        head = "| variant | params | samples/s | steps | " + " | ".join(f"{s} CS / SG / top-5" for s in sets) + " |"
        lines = [head, "|" + "---|" * (4 + len(sets))]
        for r in rows:
            accs = " | ".join(f"{r[s]['acc_cs']:.3f} / {r[s]['acc_sg']:.3f} / {r[s]['top5_sg']:.3f}" for s in sets)
            lines.append(f"| {r['variant']} | {r['params']:,} | {r['samples_per_s']} | {r['steps']} | {accs} |")
        atomic_write_text(args.out + ".md", "\n".join(lines) + "\n")
    print(json.dumps({"benchmark": "cpu_recipes", "budget_s": args.budget_s, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
