# Sourced by the scripts that run on a lent accelerator (launch/device_train.sh, benchmarks/device_suite.sh), from
# the repository root: the image has jax but not this project, and nothing can be installed there but carried wheels.
#   device_env SITE LOG   installs .device_wheels/*.whl (launch/device_wheels.sh) into the folder SITE, put on
#                         PYTHONPATH (the image's environment is left as it is; a failed install is said and skipped,
#                         its pip output in LOG), then puts this checkout first on PYTHONPATH: the package runs
#                         uninstalled (difcon_jax/__init__.py maps configs/ beside it).
device_env() {
  local site=$1 log=$2
  if [ -d .device_wheels ] && ls .device_wheels/*.whl >/dev/null 2>&1; then
    rm -rf "$site"
    if python3 -m pip install -q --no-deps --no-index --no-compile --target "$site" .device_wheels/*.whl \
         > "$log" 2>&1; then
      export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    else
      echo "$(basename "$0"): .device_wheels did not install for $(python3 -V 2>&1) ($log); going on without" >&2
    fi
  fi
  export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
}
