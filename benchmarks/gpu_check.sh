#!/usr/bin/env bash
# The GPU checks of docs/performance.md in one run, on a device machine (DEVELOPERS.md):
#   1. the CUDA tests: a step captured as a CUDA graph trains as the eager one; a pack of seeds
#      trains as its jobs would alone; a broken loss is named one batch late (pinned memory and a
#      CUDA event); the units' compiled (Triton) step equals the eager one (tests/test_steps.py, test_pack.py, test_totals.py, test_units.py; on a CPU
#      they skip);
#   2. eager, packed, captured and captured-packed training steps, trials/s per model and in
#      aggregate (benchmarks/training_step.py --pack K --device cuda), then packs of 4K SOT LIF models;
#   3. a SOT LIF step with the units compiled (Triton) against eager (--compile --device cuda);
#   4. how N captured SOT LIF models share the card: N processes time-sliced and under a CUDA MPS
#      server at 1, 8 and 16 ways (benchmarks/gpu_sharing.py; at 8 ways MPS ran 3.28x time-sliced on
#      an H200, 2026-11-26), then 4 processes each training a captured pack of 4 (MPS with packs:
#      mps_pack.jsonl); N streams of one process are left out (add `streams` to --modes);
#   5. captured steps with the convolutions' weights channels-last against the default layout
#      (--layout --device cuda: whether training.channels_last should be on for CUDA too).
# Each part has its own time limit (TESTS_S, STEPS_S, BIG_PACK_S, COMPILE_S, SHARING_S, MPS_PACK_S, LAYOUT_S seconds), so a part
# that hangs leaves the others their time; the JSON lines written before a limit stay.
# Results go to $OUT (the device tool's folder that comes back) or benchmarks/out/gpu, in two files
# (the device tool brings back at most 8 from a call): device.txt (the machine, each part's exit
# status and time) and gpu_check.tar.gz (tests.txt, steps.jsonl, big_pack.jsonl, compile.jsonl,
# sharing.jsonl, mps_pack.jsonl, layout.jsonl, errors.txt); stdout repeats the failures' lines and every JSON line.
# Usage (repository root; the git-ignored .device/ folder carried, see DEVELOPERS.md):
#   bash benchmarks/gpu_check.sh [K, default 4] [units, default "Real LIF BLI BA"]
set -uo pipefail
K=${1:-4}
units=${2:-Real LIF BLI BA}
out=${OUT:-benchmarks/out/gpu}
mkdir -p "$out"
if [ -d .device/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .device/wheels/*.whl
fi
export PYTHONPATH=/tmp/site:$PWD/.device/norse-src:$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } | tee "$out/device.txt"
export CUBLAS_WORKSPACE_CONFIG=${CUBLAS_WORKSPACE_CONFIG:-:4096:8}
status=0
rm -f "$out/errors.txt"
part() {  # part NAME LIMIT_S OUT ERR COMMAND...: COMMAND under its limit, its stdout to OUT and stderr
  local name=$1 limit=$2 stdout=$3 stderr=$4 start rc  # to ERR (appended); notes its time and status
  shift 4
  start=$(date +%s)
  if [ "$stdout" = "$stderr" ]; then
    timeout -k 10 "$limit" "$@" > "$stdout" 2>&1
  else
    timeout -k 10 "$limit" "$@" > "$stdout" 2>> "$stderr"
  fi
  rc=$?
  echo "$name: exit status $rc after $(( $(date +%s) - start )) s (124: stopped at its ${limit} s limit)" | tee -a "$out/device.txt"
  [ $rc = 0 ] || status=1
}
part tests "${TESTS_S:-240}" "$out/tests.txt" "$out/tests.txt" python3 -m pytest -q -rfE --tb=short \
  -p no:cacheprovider tests/test_steps.py tests/test_pack.py tests/test_totals.py tests/test_units.py -k "cuda or captured"
grep -E "^(FAILED|ERROR)|^E  |passed|failed" "$out/tests.txt" | tail -n 60
# shellcheck disable=SC2086
part steps "${STEPS_S:-600}" "$out/steps.jsonl" "$out/errors.txt" python3 benchmarks/training_step.py --pack "$K" \
  --device cuda --threads 1 --repeats 5 --units $units --tasks sot fsdd mnist
cat "$out/steps.jsonl"
part big_pack "${BIG_PACK_S:-300}" "$out/big_pack.jsonl" "$out/errors.txt" python3 benchmarks/training_step.py \
  --pack $(( 4 * K )) --device cuda --threads 1 --repeats 3 --units LIF --tasks sot
cat "$out/big_pack.jsonl"
part compile "${COMPILE_S:-300}" "$out/compile.jsonl" "$out/errors.txt" python3 benchmarks/training_step.py --compile \
  --device cuda --threads 1 --repeats 5 --units LIF --tasks sot fsdd
cat "$out/compile.jsonl"
part sharing "${SHARING_S:-300}" "$out/sharing.jsonl" "$out/errors.txt" python3 benchmarks/gpu_sharing.py \
  --device cuda --task sot --unit LIF --ways 1 8 16 --modes processes mps --seconds 8 --startup 25
cat "$out/sharing.jsonl"
part mps_pack "${MPS_PACK_S:-150}" "$out/mps_pack.jsonl" "$out/errors.txt" python3 benchmarks/gpu_sharing.py \
  --device cuda --task sot --unit LIF --ways 4 --pack 4 --modes processes mps --seconds 8 --startup 40
cat "$out/mps_pack.jsonl"
part layout "${LAYOUT_S:-120}" "$out/layout.jsonl" "$out/errors.txt" python3 benchmarks/training_step.py --layout \
  --device cuda --sot-readout softargmax --threads 1 --repeats 5 --units LIF BLI Real --tasks sot mnist
cat "$out/layout.jsonl"
touch "$out/errors.txt"
files="tests.txt steps.jsonl big_pack.jsonl compile.jsonl sharing.jsonl mps_pack.jsonl layout.jsonl errors.txt"
# shellcheck disable=SC2086
(cd "$out" && tar -czf gpu_check.tar.gz $files && rm -f $files)
echo "results in $out; exit status $status (1: a test or a benchmark failed or ran out of time, see $out)"
exit $status
