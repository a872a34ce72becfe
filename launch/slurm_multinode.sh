#!/usr/bin/env bash
# Multi-node, multi-GPU training on SLURM: one process per node, every GPU of the node visible to it.
#   sbatch launch/slurm_multinode.sh configs/difcon.py /scratch/$USER/difcon-run [--config.batch_size=2048 ...]
# The peak table must exist beforehand (cfg.data.table), e.g.
#   difcon-jax dataset synth --count 200000 --out /scratch/$USER/synth200k --workers 32
#SBATCH --job-name=difcon-jax
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=24:00:00
set -euo pipefail
CONFIG=${1:?config file}
WORKDIR=${2:?work directory}
shift 2
# jax.distributed.initialize() reads SLURM_* (coordinator = first node, process id = SLURM_PROCID).
export DIFCON_DISTRIBUTED=1
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}
srun --kill-on-bad-exit=1 difcon-jax train --config "$CONFIG" --workdir "$WORKDIR" "$@"
