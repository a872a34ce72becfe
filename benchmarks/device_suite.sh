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
export PYTHONUNBUFFERED=1  # a stage cut at its limit keeps what it printed (a pipe is block-buffered)
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
# each benchmark bounded, its start/end in $OUT/progress.log as it happens (launch/device_env.sh): a stalled one must
# not take the call and everything with it (what happened to launch/device_train.sh's first call, 2026-12-04)
DEVICE_T0=$t0 DEVICE_LOG="$OUT/progress.log" DEVICE_CALL_SECONDS=${DEVICE_CALL_SECONDS:-540}
: > "$DEVICE_LOG"
device_stage augment_throughput 240 "$OUT" python3 benchmarks/augment_throughput.py --random-table --skip-references \
  "${AUG[@]}" || true
device_last_json "$OUT/augment_throughput.out" > "$OUT/augment_throughput.json"
device_stage train_step "$(device_limit 240)" "$OUT" python3 benchmarks/train_step.py --random-table \
  "${STEP[@]}" || true
device_last_json "$OUT/train_step.out" > "$OUT/train_step.json"
python3 - "$OUT" $(( $(date +%s) - t0 )) <<'PY'
import json, os, sys
out, secs = sys.argv[1], int(sys.argv[2])
aug = json.load(open(os.path.join(out, "augment_throughput.json")))  # {} where the benchmark failed or was cut
step = json.load(open(os.path.join(out, "train_step.json")))
row = next(iter(step.get("results", {}).values()), {})  # the one config timed (difcon on the accelerator)
summary = {"benchmark": "device_suite", "device": aug.get("device"), "seconds": secs,
           "augment_patterns_per_s": aug.get("jax_best_patterns_per_s"), "augment_goal_per_s": 2_000_000,
           "train_samples_per_s": row.get("samples_per_s"), "train_step_ms": row.get("step_ms"),
           "augment_fraction": row.get("augment_fraction"), "augment_fraction_goal": 0.05,
           "augment": aug, "train_step": step}
with open(os.path.join(out, "device_suite.json"), "w") as f:
    json.dump(summary, f)
print(json.dumps(summary))
PY
