#!/usr/bin/env bash
# TPU-VM pod: the same command on every worker (JAX discovers the pod topology by itself).
#   bash launch/tpu_pod.sh my-tpu us-central2-b configs/difcon.py gs://bucket/difcon-run [--config.x=y ...]
# Requires: the repository checked out at ~/difcon-jax on every worker, the peak table on shared storage
# (cfg.data.table), and a Python venv with `pip install -e '.'` plus jax[tpu].
set -euo pipefail
TPU=${1:?TPU name}
ZONE=${2:?zone}
CONFIG=${3:?config file}
WORKDIR=${4:?work directory (GCS or shared filesystem)}
shift 4
EXTRA="$*"
gcloud compute tpus tpu-vm ssh "$TPU" --zone "$ZONE" --worker=all --command \
  "cd ~/difcon-jax && . .venv/bin/activate && DIFCON_DISTRIBUTED=1 difcon-jax train --config $CONFIG --workdir $WORKDIR $EXTRA"
