#!/usr/bin/env bash
# 2026-11-26 device call: the CUDA tests first; the captured step for the DAG only if the
# captured-job test passes; then the MNIST Table III (3 seeds) and the SOT first_frame stage 2.
set -u
T0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .device/wheels/*.whl
export PYTHONPATH=/tmp/site:$PWD/.device/norse-src:$PWD/src CUBLAS_WORKSPACE_CONFIG=:4096:8 PYTHONUNBUFFERED=1
mkdir -p "$OUT/t"
timeout -k 5 "${TESTS_S:-130}" python3 -m pytest -q -rfE --tb=short -p no:cacheprovider tests/test_steps.py tests/test_pack.py \
  tests/test_totals.py tests/test_units.py -k "cuda or captured" > "$OUT/t/tests.txt" 2>&1
echo "tests: exit status $? after $(( $(date +%s) - T0 )) s"
grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/t/tests.txt" | tail -n 20
G=false
if grep -qE "[0-9]+ passed" "$OUT/t/tests.txt" && ! grep -E "^(FAILED|ERROR)" "$OUT/t/tests.txt" | grep -q captured_job; then G=true; fi
echo "cuda_graphs: $G"
left=$(( ${END_S:-510} - ($(date +%s) - T0) ))
OUT=$OUT/dag DEADLINE=$left CORES=16 bash tools/device_dag.sh --config scale=workstation \
  "data={mnist: {source: testset, mirror: .device/mnist}}" "grid={table1: [], table3_tasks: [mnist], fig5: false}" \
  "training={threads: 1, cuda_graphs: $G}" --configfile docs/study/sot.yaml -- $(cat .device/targets.txt)
echo "total $(( $(date +%s) - T0 )) s"
