#!/usr/bin/env bash
# The GPU recipe in one call on a lent accelerator (one H100/H200, ≤ 9 minutes): throughput benchmarks,
# then DIFCON (configs/difcon_gpu.py, bf16) trained from a compact peak table carried with the call,
# calibrated, indexed, scored, exported (float16) — all bundled into $OUT as results.tar.partNN (≤ 15 MiB each),
# beside progress.log (each stage's start, end and status as it happens), train.out, train.err and summary.json.
# Every stage is bounded (launch/device_env.sh's device_stage) and cut to one deadline, DEVICE_CALL_SECONDS (570)
# after the start, so the call ends inside the tool's 600 s with its bundle: the first real call (2026-12-04) spent
# its 600 s before training, in stages nothing bounded, and brought nothing back.
#
#   bash launch/device_train.sh TABLE [STEPS] [extra --config.* overrides]
#
# TABLE: a peak table carried with the call (≤ 44 MiB), a directory or — the whole real table — a file packed by
# `difcon-jax dataset pack runs/real_fill --max-peaks 90 --out runs/real_fill_90.npz` (148,256 structures in
# 43.2 MiB; difcon_jax/data/pack.py), unpacked here before training (96 peaks, 45.3 MiB, no longer fit beside the
# tracked 15.9 MiB and the wheels; G was trained on this pack: each structure's 6 weakest of 96 peaks left out). The
# packages the accelerator image lacks (ml-collections, clu, gemmi, spglib) are installed from wheels in
# .device_wheels/ when that folder is carried (`bash launch/device_wheels.sh`, run here beforehand: it also prints
# what the call carries against 64 MiB). The package runs from this checkout uninstalled (PYTHONPATH=.;
# difcon_jax/__init__.py finds configs/ beside it). DIFCON_CONFIG (default configs/difcon_gpu.py, from scratch) may
# instead continue the shipped network on the GPU — the call that made it (an H100, 2026-12-05;
# results/network_axes/README.md):
#   DEVICE_CALL_SECONDS=585 DIFCON_TRAIN_SECONDS=480 DIFCON_EVAL_RESERVE=80 \
#     DIFCON_CONFIG=configs/difcon_gpu_continue.py bash launch/device_train.sh runs/real_fill_90.npz
# (run(..., carry=["runs/real_fill_90.npz", ".device_wheels"], timeout_s=600); the evaluation then is cut and
# redone on a CPU from the parameters). STEPS is an upper bound: the script times the training step first
# (benchmarks/train_step.py, at the config's network and batch) and plans as many steps as fit the budget.
# DIFCON_TRAIN_SECONDS (default 270; 0 in a dry run) bounds the training loop (cfg.train_seconds), cut further to
# what the deadline leaves after 210 s for the loop's compilation and the evaluation (DIFCON_EVAL_RESERVE: less when
# the call is for the parameters alone — the evaluation, cut at the deadline, is redone on a CPU from them, since
# checkpoints are written when the budget stops the loop); the benchmark of the renderer
# runs last, on what is left. DIFCON_DRY_RUN=1 runs the same steps on the CPU with a tiny network
# (tests/launch/test_device_train.py).
set -euo pipefail
TABLE=${1:?peak table directory}
STEPS=${2:-}
shift $(( $# > 1 ? 2 : 1 ))
OUT=${OUT:-$(pwd)/device_out}
WORK=${DIFCON_WORK:-/tmp/difcon_device_run}
mkdir -p "$OUT"
. launch/device_env.sh
export PYTHONUNBUFFERED=1  # a stage cut at its limit keeps what it printed (a pipe is block-buffered)
# $OUT/progress.log: every stage's start, end, status and a failed one's last lines, written as it happens, so a
# call cut at its limit still says where its time went; DEVICE_CALL_SECONDS (default 570 of the tool's 600) is the
# deadline every stage's limit and the training budget are cut to, keeping 45 s for the export and the bundle.
DEVICE_T0=$(date +%s)
DEVICE_LOG="$OUT/progress.log"
: > "$DEVICE_LOG"
device_progress "device_train.sh $TABLE ${STEPS:-} $*"
RES="${WORK}_results"
rm -rf "$RES" && mkdir -p "$RES"
device_env "${WORK}_site" "$RES/wheels.out"
# a persistent compilation cache: what the step benchmark compiled, training finds there when the programs agree
export JAX_COMPILATION_CACHE_DIR="${WORK}_jax_cache"
limit() { device_limit "$1" "${2:-45}"; }  # a stage's limit: 45 s kept for the export and the bundle
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
  # the most the loop may train; cut further to what the deadline leaves after the evaluation's reserve
  TRAIN_SECONDS=${DIFCON_TRAIN_SECONDS:-270}
fi
t0=$(date +%s)
# What comes back from a lent machine is at most 8 files of 16 MiB (64 MiB together), and the paper-scale network's
# float16 params.npz alone is 26 MB: every result goes to $RES, bundled at the end (or at any exit) into one tar
# split in parts of 15 MiB; $OUT holds progress.log, the training's log (train.out, train.err), summary.json and the
# parts. Here: cat results.tar.part* | tar -xf - -C DIR
bundle() {
  trap - EXIT
  cp "$DEVICE_LOG" "$RES/" 2>/dev/null || true
  rm -f "$OUT"/results.tar.part*
  tar -cf - -C "$RES" . | split -b 15m -d -a 2 - "$OUT/results.tar.part"
  local parts
  parts=$(ls "$OUT"/results.tar.part* | wc -l)
  if [ "$parts" -gt 4 ]; then  # 4 files beside them; more than 8 would not all come back
    echo "device_train.sh: the results need $parts parts of 15 MiB; only 4 come back beside the logs" >&2
  fi
  device_progress "bundled $parts part(s)"
}
trap bundle EXIT  # a failed step still brings back what the others wrote
# 0. what the call runs on (a JAX that does not see the accelerator would train on 16 CPU cores: said first)
timeout 20 nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$RES/device.txt" 2>/dev/null \
  || echo cpu > "$RES/device.txt"
device_stage jax_devices "$(limit 90)" "$RES" python3 -c "import jax; print(jax.default_backend(), jax.devices())" \
  || true
device_progress "device: $(head -1 "$RES/device.txt"); jax: $(head -1 "$RES/jax_devices.out" 2>/dev/null)"
if [ -f "$TABLE" ]; then  # a packed table: unpack it beside the work folder (training reads directories)
  device_stage unpack "$(limit 120)" "$RES" python3 -m difcon_jax dataset unpack "$TABLE" --out "${WORK}_table"
  TABLE="${WORK}_table"
fi
# 1. the training step's speed here, at this network and batch (an absolute number for the record), and the
#    schedule sized to the budget: a cosine schedule cut short by train_seconds would end at a high rate
CONFIG=${DIFCON_CONFIG:-configs/difcon_gpu.py}
read -r BATCH WARMUP < <(python3 - "$CONFIG" "${extra[@]}" <<'PY'
import sys
from difcon_jax.config import load_config
cfg = load_config(sys.argv[1], [a[len("--config."):] for a in sys.argv[2:] if a.startswith("--config.")])
print(cfg.batch_size, cfg.optim.warmup_steps)
PY
)
# (a benchmark that fails or stalls is written down and skipped: the model is what the call is for)
device_stage train_step "$(limit 150 300)" "$RES" python3 benchmarks/train_step.py \
  --configs "$(basename "$CONFIG" .py)" --batch "$BATCH" "${STEP_ARGS[@]}" --table "$TABLE" || true
device_last_json "$RES/train_step.out" > "$RES/train_step.json"
STEPS_ASKED=$STEPS
if [ "$TRAIN_SECONDS" != 0 ]; then
  # 60 s of the loop's own compilation and 150 s for calibration, library, evaluation, besides the 45 s kept
  room=$(( $(device_left) - 45 - ${DIFCON_EVAL_RESERVE:-210} ))
  TRAIN_SECONDS=$(( TRAIN_SECONDS < room ? TRAIN_SECONDS : room ))
  TRAIN_SECONDS=$(( TRAIN_SECONDS < 30 ? 30 : TRAIN_SECONDS ))
  read -r STEPS WARMUP < <(python3 - "$RES/train_step.json" "$STEPS" "$TRAIN_SECONDS" "$BATCH" "$WARMUP" <<'PY'
import json, sys
steps, budget, batch, warmup = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
try:
    rate = next(iter(json.load(open(sys.argv[1]))["results"].values()))["samples_per_s"]
    # 60 s for the loop's own compilation; per step the benchmark's time, 10 % for what it leaves out (saves), and
    # the loop's own cost per step on the host (sampling the rows, placing them, metrics, the bar): 23 ms on the
    # H100 (2026-12-05: K's network at batch 1024, 17.4 ms benchmarked, 40 ms a step in the loop, so a plan of
    # 0.85 × the benchmark's rate was cut by the budget at 9,600 of 17,410 steps, lr still 4.5e-4) — measured before
    # the loop merged its metrics in one program, so now an over-estimate: a plan that ends early, not one cut short
    per_step = batch / rate / 0.9 + 0.023
    steps = max(1, min(steps, int(max(budget - 60, 0.2 * budget) / per_step)))
    share = 10  # a warm-up longer than a tenth of the run would leave no decay
except (KeyError, StopIteration, ValueError):
    share = 100  # no rate measured: the steps asked, the budget the only stop, a warm-up short enough to finish
print(steps, min(warmup, max(1, steps // share)))
PY
)
fi
device_progress "plan: $STEPS steps (asked $STEPS_ASKED), batch $BATCH, warm-up $WARMUP, train_seconds $TRAIN_SECONDS"
# 2. train, calibrate, index, score, cut so that the export and the bundle keep their 45 s: checkpoints are written
#    during training, so the parameters come back even when the evaluation is cut
rm -rf "$WORK"
device_stage train "$(limit 100000)" "$OUT" python3 -m difcon_jax train --config "$CONFIG" --workdir "$WORK" \
  --config.data.table="$TABLE" --config.num_steps="$STEPS" --config.train_seconds="$TRAIN_SECONDS" "${extra[@]}" \
  --config.optim.warmup_steps="$WARMUP" || true
device_stage export "$(limit 60 15)" "$RES" python3 -m difcon_jax export --workdir "$WORK" --out "$RES/model" \
  --float16 || true
cp "$WORK/metrics.jsonl" "$WORK/eval_summary.json" "$RES/" 2>/dev/null || true
# 3. what the call has left: the learning curve, then the renderer's throughput (last line JSON)
device_stage curve "$(limit 90)" "$RES" python3 -m difcon_jax curve --workdir "$WORK" --out "$RES/learning_curve" \
  || true
device_stage augment_throughput "$(limit 90)" "$RES" python3 benchmarks/augment_throughput.py --table "$TABLE" \
  "${BENCH_ARGS[@]}" || true
device_last_json "$RES/augment_throughput.out" > "$RES/augment_throughput.json"
t1=$(date +%s)
python3 - "$RES" "$STEPS" $((t1 - t0)) "$STEPS_ASKED" <<'PY' | tee "$OUT/summary.json"
import json, os, sys
out, steps, secs, asked = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def load(name, default):  # a stage cut at its limit leaves its file missing or unfinished: the summary says so
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


try:
    lines = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
except (OSError, ValueError):
    lines = []
metrics = [m for m in lines if "loss" in m] or [{"step": 0, "time": 0.0}]  # the training log's lines
aug = load("augment_throughput.json", {})
step = next(iter(load("train_step.json", {}).get("results", {}).values()), {})
ev = load("eval_summary.json", {})
span = metrics[-1]["time"] - metrics[0]["time"]
steps_span = metrics[-1]["step"] - metrics[0]["step"]
cfg = load(os.path.join("model", "config.json"), {})
model = os.path.join(out, "model")
sizes = {f: os.path.getsize(os.path.join(model, f)) for f in os.listdir(model)} if os.path.isdir(model) else {}
print(json.dumps({"device": open(os.path.join(out, "device.txt")).read().strip(), "steps": metrics[-1]["step"],
                  "steps_planned": steps, "steps_asked": asked,
                  "stopped_by_train_seconds": any("stopped" in m for m in lines),
                  "train_step_samples_per_s": step.get("samples_per_s"),
                  "augment_fraction": step.get("augment_fraction"),
                  "train_samples_per_s": round(steps_span * cfg.get("batch_size", 0) / max(span, 1e-9), 1),
                  "augment_patterns_per_s": aug.get("jax_patterns_per_s"),
                  **{axis: {k: ev.get(axis, {}).get(k) for k in ("acc_cs", "acc_sg", "top5_sg")}
                     for axis in ("equivariance", "invariance")},
                  "model_file_bytes": sizes, "wall_s": secs}))
PY
bundle
