#!/usr/bin/env bash
# Accelerator numbers in one call (≤ 3 minutes on a lent H100/H200), no data needed: random stick tables
# (throughput depends on shapes, not crystallography). Prints one JSON line:
#   augment_patterns_per_s   the full Table 1 pipeline at 12,000 bins, 128 peaks + Kα2 (goal ≥ 2,000,000/s)
#   train_samples_per_s      DIFCON at paper scale (configs/difcon.py network, bf16 compute), batch 256
#   augment_fraction         share of that step spent rendering the two views (goal ≤ 5 %)
# plus the two benchmarks' own JSON lines under "augment" and "train_step" (written to $OUT when set).
#
#   bash benchmarks/device_suite.sh            # on the device machine (run tool), from the repo root
#   DIFCON_DRY_RUN=1 bash benchmarks/device_suite.sh   # the same steps on a CPU, tiny shapes (a test)
set -euo pipefail
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
. launch/device_env.sh
SCRATCH=$(mktemp -d)  # not under $OUT: what is there comes back, at most 8 files
trap 'rm -rf "$SCRATCH"' EXIT
device_env "$SCRATCH/site" "$SCRATCH/wheels.out"
if [ "${DIFCON_DRY_RUN:-0}" = 1 ]; then
  AUG=(--batches 8 --repeats 1)
  STEP=(--configs quickstart --model tiny --batch 4 --repeats 1)  # 4,500 bins, tiny net: a fast compile
else
  AUG=(--batches 8192,32768,131072 --repeats 5)
  STEP=(--configs difcon --model paper --dtype bfloat16 --batch 256 --repeats 10)
fi
t0=$(date +%s)
python3 benchmarks/augment_throughput.py --random-table --skip-references "${AUG[@]}" \
  2>"$OUT/augment_throughput.err" | tee "$OUT/augment_throughput.out" | tail -1 > "$OUT/augment_throughput.json"
python3 benchmarks/train_step.py --random-table "${STEP[@]}" \
  2>"$OUT/train_step.err" | tee "$OUT/train_step.out" | tail -1 > "$OUT/train_step.json"
python3 - "$OUT" $(( $(date +%s) - t0 )) <<'PY'
import json, os, sys
out, secs = sys.argv[1], int(sys.argv[2])
aug = json.load(open(os.path.join(out, "augment_throughput.json")))
step = json.load(open(os.path.join(out, "train_step.json")))
row = next(iter(step["results"].values()))  # the one config timed (difcon on the accelerator)
summary = {"benchmark": "device_suite", "device": aug["device"], "seconds": secs,
           "augment_patterns_per_s": aug["jax_best_patterns_per_s"], "augment_goal_per_s": 2_000_000,
           "train_samples_per_s": row["samples_per_s"], "train_step_ms": row["step_ms"],
           "augment_fraction": row["augment_fraction"], "augment_fraction_goal": 0.05,
           "augment": aug, "train_step": step}
with open(os.path.join(out, "device_suite.json"), "w") as f:
    json.dump(summary, f)
print(json.dumps(summary))
PY
