#!/usr/bin/env bash
# The wheels launch/device_train.sh installs on a lent accelerator: the packages its image lacks, for its Python.
# The image (/work/.library/device/KINDS.md, nvidia-h200, read 2026-11) has Python 3.12 with jax 0.11.2, flax, optax,
# orbax-checkpoint, numpy, scipy, tqdm, matplotlib, etils, absl-py and wrapt; training from a carried table also
# imports ml-collections, clu, gemmi and spglib (pybaselines and geddes only read measured files; pyxtal only makes
# synthetic crystals). Run here, where PyPI is reachable; the device reaches nothing:
#
#   bash launch/device_wheels.sh [PYTHON_VERSION]      # default 3.12 → .device_wheels/ (git-ignored), ~4 MiB
#
# then carry it: run(command="bash launch/device_train.sh runs/real_fill_90.npz",
#                    carry=["runs/real_fill_90.npz", ".device_wheels"]).
# Checked on the CPU with the device's versions (Python 3.12, jax/jaxlib 0.11.2, flax 0.12.12, numpy 2.5.2) in a
# fresh venv holding only the image's packages plus these wheels: DIFCON_DRY_RUN=1 bash launch/device_train.sh …
# runs every step (results/network_axes/README.md). Prints what the call would carry against the 64 MiB limit.
set -euo pipefail
PY=${1:-3.12}
DEST=.device_wheels
rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp"
# the version ranges are pyproject.toml's (one place)
mapfile -t REQS < <(python3 - <<'PY'
import re  # pyproject's dependency lines ("name>=a,<b",); tomllib would need Python 3.11
for d in re.findall(r'^\s*"([^"]+)",?\s*$', open("pyproject.toml").read(), re.M):
    if re.split(r"[<>=!~ ]", d, maxsplit=1)[0] in ("ml-collections", "clu", "gemmi", "spglib"):
        print(d)
PY
)
[ "${#REQS[@]}" = 4 ] || { echo "device_wheels.sh: pyproject.toml does not pin the 4 packages (${REQS[*]})" >&2; exit 1; }
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PY" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$DEST.tmp" "${REQS[@]}"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
ls -l "$DEST"
tracked=$(git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
wheels=$(du -cb "$DEST"/*.whl | tail -1 | cut -f1)
table=$( [ -f runs/real_fill_90.npz ] && stat -c %s runs/real_fill_90.npz || echo 0)
python3 -c "import sys; t, w, p = map(int, sys.argv[1:]); s = t + w + p; \
print(f'travels: tracked {t / 2**20:.1f} MiB + wheels {w / 2**20:.1f} MiB + runs/real_fill_90.npz {p / 2**20:.1f} MiB' \
      f' = {s / 2**20:.1f} MiB of 64 MiB' + ('' if s < 64 * 2**20 else '  — TOO LARGE: pack fewer peaks'))" \
  "$tracked" "$wheels" "$table"
