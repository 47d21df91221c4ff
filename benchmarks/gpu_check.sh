#!/usr/bin/env bash
# The GPU checks of docs/performance.md in one run, on a device machine (DEVELOPERS.md):
#   1. the CUDA tests: a step captured as a CUDA graph trains as the eager one; a pack of seeds
#      trains as its jobs would alone (tests/test_steps.py, tests/test_pack.py; on CPU they skip);
#   2. eager, packed and captured training steps, trials/s per model and in aggregate
#      (benchmarks/training_step.py --pack K --device cuda);
#   3. a SOT LIF/HLIF step with the units compiled (Triton) against eager (--compile --device cuda).
# Results go to $OUT (the device tool's folder that comes back) or benchmarks/out/gpu.
# Usage (repository root; the git-ignored .device/ folder carried, see DEVELOPERS.md):
#   bash benchmarks/gpu_check.sh [K, default 4] [units, default "Real LIF BLI BA"]
set -uo pipefail
K=${1:-4}
units=${2:-Real LIF BLI BA}
out=${OUT:-benchmarks/out/gpu}
mkdir -p "$out"
if [ -d .device/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .device/wheels/*.whl
fi
export PYTHONPATH=/tmp/site:$PWD/.device/norse-src:$PWD/src${PYTHONPATH:+:$PYTHONPATH}
{ date -u; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader;
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } | tee "$out/device.txt"
export CUBLAS_WORKSPACE_CONFIG=${CUBLAS_WORKSPACE_CONFIG:-:4096:8}
status=0
python3 -m pytest -q -p no:cacheprovider tests/test_steps.py tests/test_pack.py -k "cuda or captured" \
  > "$out/tests.txt" 2>&1 || status=1
tail -n 20 "$out/tests.txt"
# shellcheck disable=SC2086
python3 benchmarks/training_step.py --pack "$K" --device cuda --threads 1 --repeats 5 --units $units \
  --tasks sot fsdd mnist > "$out/steps.jsonl" 2> "$out/steps.err" || status=1
cat "$out/steps.jsonl"
python3 benchmarks/training_step.py --compile --device cuda --threads 1 --repeats 5 --units LIF HLIF \
  --tasks sot > "$out/compile.jsonl" 2> "$out/compile.err" || status=1
cat "$out/compile.jsonl"
echo "results in $out; exit status $status (1: a test or the benchmark failed, see $out)"
exit $status
