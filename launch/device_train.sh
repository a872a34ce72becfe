#!/usr/bin/env bash
# The GPU recipe in one call on a lent accelerator (one H100/H200, ≤ 9 minutes): throughput benchmarks,
# then DIFCON (configs/difcon_gpu.py, bf16) trained from a compact peak table carried with the call,
# calibrated, indexed, scored, exported (float16) — all bundled into $OUT as results.tar.partNN (≤ 15 MiB each),
# beside train.out, train.err and summary.json.
#
#   bash launch/device_train.sh TABLE [STEPS] [extra --config.* overrides]
#
# TABLE: a peak table carried with the call (≤ 48 MiB), a directory or — the whole real table — a file packed by
# `difcon-jax dataset pack runs/real_fill --max-peaks 96 --out runs/real_fill_96.npz` (148,256 structures in
# 45.3 MiB; difcon_jax/data/pack.py), unpacked here before training. Packages the accelerator image lacks
# (ml-collections, clu, gemmi, spglib) are installed from wheels in .device_wheels/ when that folder is carried
# (`bash launch/device_wheels.sh`, run here beforehand: it also prints what the call carries against 64 MiB).
# The package runs from this checkout uninstalled (PYTHONPATH=.; difcon_jax/__init__.py finds configs/ beside it).
# DIFCON_CONFIG (default configs/difcon_gpu.py, from scratch) may instead continue the shipped network K on the GPU:
#   DIFCON_CONFIG=configs/difcon_cpu.py bash launch/device_train.sh runs/real_fill_96.npz 40000 \
#     --config.init_from=difcon_jax/pretrained/difcon_cpu --config.batch_size=512 --config.optim.learning_rate=3e-4 \
#     --config.augment.augment_chunk=0
# (3e-4: K's last restart, at batch 32; the warm start checked on the CPU in the device's software, its speed and
# batch on a GPU never measured). STEPS is an upper bound: the script times the training step first
# (benchmarks/train_step.py, at the config's network and batch) and plans as many steps as fit the budget.
# DIFCON_TRAIN_SECONDS (default 270; 0 in a dry run) bounds the training loop (cfg.train_seconds): the call's other
# steps need the rest of its 600 s. DIFCON_DRY_RUN=1 runs the same steps on the CPU with a tiny network
# (tests/launch/test_device_train.py).
set -euo pipefail
TABLE=${1:?peak table directory}
STEPS=${2:-}
shift $(( $# > 1 ? 2 : 1 ))
OUT=${OUT:-$(pwd)/device_out}
WORK=${DIFCON_WORK:-/tmp/difcon_device_run}
mkdir -p "$OUT"
. launch/device_env.sh
device_env "${WORK}_site" "$OUT/wheels.out"
py() { python3 -m difcon_jax "$@"; }
extra=("$@")
if [ "${DIFCON_DRY_RUN:-0}" = 1 ]; then
  STEPS=${STEPS:-2}
  extra+=(--config.batch_size=4 --config.model.widths="(8,8,8,8)" --config.model.blocks="(1,1,1,1)"
          --config.model.stem_features=8 --config.model.projector_dims="(16,16)" --config.model.head_hidden=16
          --config.model.dtype=float32 --config.eval.num_structures=8 --config.eval.batch_size=8
          --config.log_every=1 --config.ckpt_every=1 --config.ckpt_keep_period=1 --config.eval.library_views=1
          "--config.eval.library_sources=()")
  BENCH_ARGS=(--batches 8 --repeats 1 --skip-references)
  STEP_ARGS=(--model tiny --repeats 1)
  TRAIN_SECONDS=${DIFCON_TRAIN_SECONDS:-0}
else
  STEPS=${STEPS:-12000}
  BENCH_ARGS=(--batches 8192,32768 --repeats 3 --skip-references)
  STEP_ARGS=(--model paper --repeats 5)
  # the call has 600 s and no GPU speed of this network was ever measured: training stops at this budget (at a log
  # step, with a checkpoint) so that calibration, library, evaluation and the export still come back
  TRAIN_SECONDS=${DIFCON_TRAIN_SECONDS:-270}
fi
t0=$(date +%s)
# What comes back from a lent machine is at most 8 files of 16 MiB (64 MiB together), and the paper-scale network's
# float16 params.npz alone is 26 MB: every result goes to $RES, bundled at the end into one tar split in parts of
# 15 MiB; $OUT holds the training log (there from the start, so a call stopped at its limit still brings it back),
# summary.json and the parts. Here: cat results.tar.part* | tar -xf - -C DIR
RES="${WORK}_results"
rm -rf "$RES" && mkdir -p "$RES"
if [ -f "$TABLE" ]; then  # a packed table: unpack it beside the work folder (training reads directories)
  py dataset unpack "$TABLE" --out "${WORK}_table" > "$RES/unpack.out"
  TABLE="${WORK}_table"
fi
[ -f "$OUT/wheels.out" ] && mv "$OUT/wheels.out" "$RES/"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$RES/device.txt" 2>/dev/null || echo cpu > "$RES/device.txt"
# 1. accelerator throughput of the augmentation renderer (last line JSON)
# (a benchmark that fails is written down and skipped: the model is what the call is for)
python3 benchmarks/augment_throughput.py --table "$TABLE" "${BENCH_ARGS[@]}" 2>"$RES/augment_throughput.err" \
  | tail -1 > "$RES/augment_throughput.json" || echo '{}' > "$RES/augment_throughput.json"
# 2. the training step's speed here, at this network and batch (an absolute number for the record), and the
#    schedule sized to the budget: a cosine schedule cut short by train_seconds would end at a high rate
CONFIG=${DIFCON_CONFIG:-configs/difcon_gpu.py}
read -r BATCH WARMUP < <(python3 - "$CONFIG" "${extra[@]}" <<'PY'
import sys
from difcon_jax.config import load_config
cfg = load_config(sys.argv[1], [a[len("--config."):] for a in sys.argv[2:] if a.startswith("--config.")])
print(cfg.batch_size, cfg.optim.warmup_steps)
PY
)
python3 benchmarks/train_step.py --configs "$(basename "$CONFIG" .py)" --batch "$BATCH" "${STEP_ARGS[@]}" \
  --table "$TABLE" 2>"$RES/train_step.err" | tail -1 > "$RES/train_step.json" || echo '{}' > "$RES/train_step.json"
STEPS_ASKED=$STEPS
if [ "$TRAIN_SECONDS" != 0 ]; then
  read -r STEPS WARMUP < <(python3 - "$RES/train_step.json" "$STEPS" "$TRAIN_SECONDS" "$BATCH" "$WARMUP" <<'PY'
import json, sys
steps, budget, batch, warmup = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
try:
    rate = next(iter(json.load(open(sys.argv[1]))["results"].values()))["samples_per_s"]
    # 60 s for the loop's own compilation, 15 % for what the benchmark's step leaves out (sampling, logging, saves)
    steps = max(1, min(steps, int(0.85 * max(budget - 60, 0.2 * budget) * rate / batch)))
except (KeyError, StopIteration, ValueError):
    pass  # no rate measured: the steps asked, the budget the only stop
print(steps, min(warmup, max(1, steps // 10)))  # a warm-up longer than a tenth of the run would leave no decay
PY
)
fi
# 3. train, calibrate, index, score (resumes if WORK exists), then export and the learning curve
rm -rf "$WORK"
py train --config "$CONFIG" --workdir "$WORK" --config.data.table="$TABLE" \
   --config.num_steps="$STEPS" --config.train_seconds="$TRAIN_SECONDS" "${extra[@]}" \
   --config.optim.warmup_steps="$WARMUP" 2>"$OUT/train.err" \
   | tee "$OUT/train.out"
py export --workdir "$WORK" --out "$RES/model" --float16 >/dev/null
py curve --workdir "$WORK" --out "$RES/learning_curve" >/dev/null 2>>"$OUT/train.err"
cp "$WORK/metrics.jsonl" "$WORK/eval_summary.json" "$RES/" 2>/dev/null || true
t1=$(date +%s)
python3 - "$RES" "$STEPS" $((t1 - t0)) "$STEPS_ASKED" <<'PY' | tee "$OUT/summary.json"
import json, os, sys
out, steps, secs, asked = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
metrics = [m for m in lines if "loss" in m]  # training log lines (evaluations and the budget's stop apart)
aug = json.load(open(os.path.join(out, "augment_throughput.json")))
step = next(iter(json.load(open(os.path.join(out, "train_step.json"))).get("results", {}).values()), {})
ev = json.load(open(os.path.join(out, "eval_summary.json")))
span = metrics[-1]["time"] - metrics[0]["time"]
steps_span = metrics[-1]["step"] - metrics[0]["step"]
cfg = json.load(open(os.path.join(out, "model", "config.json")))
sizes = {f: os.path.getsize(os.path.join(out, "model", f)) for f in os.listdir(os.path.join(out, "model"))}
print(json.dumps({"device": open(os.path.join(out, "device.txt")).read().strip(), "steps": metrics[-1]["step"],
                  "steps_planned": steps, "steps_asked": asked,
                  "stopped_by_train_seconds": any("stopped" in m for m in lines),
                  "train_step_samples_per_s": step.get("samples_per_s"), "augment_fraction": step.get("augment_fraction"),
                  "train_samples_per_s": round(steps_span * cfg["batch_size"] / max(span, 1e-9), 1),
                  "augment_patterns_per_s": aug.get("jax_patterns_per_s"),
                  "equivariance": {k: ev["equivariance"].get(k) for k in ("acc_cs", "acc_sg", "top5_sg")},
                  "invariance": {k: ev["invariance"].get(k) for k in ("acc_cs", "acc_sg", "top5_sg")},
                  "model_file_bytes": sizes, "wall_s": secs}))
PY
tar -cf - -C "$RES" . | split -b 15m -d -a 2 - "$OUT/results.tar.part"
parts=$(ls "$OUT"/results.tar.part* | wc -l)
if [ "$parts" -gt 5 ]; then  # 3 files beside them; more than 8 would not all come back
  echo "device_train.sh: the results need $parts parts of 15 MiB; only 5 come back beside the logs" >&2
fi
