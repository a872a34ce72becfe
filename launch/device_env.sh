# Sourced by the scripts that run on a lent accelerator (launch/device_train.sh, benchmarks/device_suite.sh), from
# the repository root: the image has jax but not this project, and nothing can be installed there but carried wheels.
#   device_env SITE LOG   installs .device_wheels/*.whl (launch/device_wheels.sh) into the folder SITE, put on
#                         PYTHONPATH (the image's environment is left as it is; a failed install, or one past 120 s, is
#                         said and skipped, its pip output in LOG), then puts this checkout first on PYTHONPATH: the
#                         package runs uninstalled (difcon_jax/__init__.py maps configs/ beside it).
device_env() {
  local site=$1 log=$2
  if [ -d .device_wheels ] && ls .device_wheels/*.whl >/dev/null 2>&1; then
    rm -rf "$site"
    if timeout -k 5 120 python3 -m pip install -q --no-deps --no-index --no-compile --target "$site" \
         .device_wheels/*.whl > "$log" 2>&1; then
      export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    else
      echo "$(basename "$0"): .device_wheels did not install for $(python3 -V 2>&1) ($log); going on without" >&2
    fi
  fi
  export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
}

# The lent machine's call has 600 s and returns only what is under $OUT when it ends: a stage that stalls must not
# take the call with it (2026-12-04: the first real call spent its 600 s before training and returned nothing, with
# no log of where). Sourced helpers, after DEVICE_T0=$(date +%s) and DEVICE_LOG=$OUT/progress.log are set:
#   device_progress MSG...            appends "[+Ns] MSG" to $DEVICE_LOG at once (it comes back whatever happens)
#   device_left                       seconds left before DEVICE_T0 + DEVICE_CALL_SECONDS (default 570)
#   device_limit LIMIT [KEEP]         LIMIT seconds, or what is left less KEEP if that is less (a stage's limit)
#   device_stage NAME LIMIT DIR CMD…  runs CMD bounded by LIMIT seconds (timeout, then KILL 5 s later), stdout and
#                                     stderr to DIR/NAME.out|.err, start/end/rc and a failed stage's last stderr
#                                     lines to the log; returns CMD's status (124: cut at its limit)
#   device_last_json FILE             FILE's last line that is a JSON object, or {} (a benchmark's result line; a run
#                                     cut at its limit may have printed a partial one, or none)
device_progress() { echo "[+$(( $(date +%s) - DEVICE_T0 ))s] $*" >> "$DEVICE_LOG"; }
device_left() { echo $(( DEVICE_T0 + ${DEVICE_CALL_SECONDS:-570} - $(date +%s) )); }
device_limit() { local l; l=$(( $(device_left) - ${2:-0} )); echo $(( l < $1 ? l : $1 )); }
device_stage() {
  local name=$1 limit=$2 dir=$3 rc=0
  shift 3
  [ "$limit" -ge 1 ] || { device_progress "skip $name (no time left)"; return 124; }
  device_progress "start $name (limit ${limit}s)"
  timeout -k 5 "$limit" "$@" > "$dir/$name.out" 2> "$dir/$name.err" || rc=$?
  device_progress "end $name rc=$rc"
  if [ "$rc" != 0 ]; then tail -n 4 "$dir/$name.err" | cut -c1-300 | sed 's/^/    /' >> "$DEVICE_LOG"; fi
  return "$rc"
}
device_last_json() { grep '^{' "$1" 2>/dev/null | tail -1 | grep . || echo '{}'; }
