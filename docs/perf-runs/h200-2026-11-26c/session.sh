#!/usr/bin/env bash
# 2026-11-26, the fourth GPU session (15 device minutes), run with carry [".device"]:
# 1. issue 11's open question, whether captured jobs share a card better under CUDA MPS: 8 captured
#    SOT CRNN LIF models as 8 processes, time-sliced and as clients of an MPS server, in one run
#    of benchmarks/gpu_sharing.py (sharing.jsonl);
# 2. issue 12's declared trial-budget variant `epochs=30` (docs/study/sot.yaml, 30 x 4,000 training
#    trials, seed 0) through tools/device_dag.sh until the deadline: under MPS with six jobs
#    (LIF BLI BI HBA BA Real) if MPS ran at least 2x the time-sliced aggregate, else LIF BLI BI
#    only (MPS still on where it was faster at all). decision.txt says which.
# A second call on the warm machine resumes the jobs from their checkpoints (call2.sh).
set -u
T0=$(date +%s)
END=${END_S:-540}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .device/wheels/*.whl
export PYTHONPATH=/tmp/site:$PWD/.device/norse-src:$PWD/src CUBLAS_WORKSPACE_CONFIG=:4096:8 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_mode --format=csv,noheader | tee "$OUT/card.txt"
timeout -k 10 "${SHARING_S:-130}" python3 benchmarks/gpu_sharing.py --device cuda --task sot --unit LIF \
  --ways 8 --modes processes mps --seconds 8 --startup 25 > "$OUT/sharing.jsonl" 2> "$OUT/sharing.err"
echo "sharing: exit status $? after $(( $(date +%s) - T0 )) s"
pkill -f nvidia-cuda-mps 2> /dev/null  # a daemon left by a benchmark stopped at its limit
cat "$OUT/sharing.jsonl"
ratio=$(python3 - "$OUT/sharing.jsonl" <<'PY'
import json, sys
rows = {r["mode"]: r for r in map(json.loads, open(sys.argv[1])) if "trials_per_s_aggregate" in r}
print(round(rows["mps"]["trials_per_s_aggregate"] / rows["processes"]["trials_per_s_aggregate"], 2)
      if {"mps", "processes"} <= rows.keys() else 0)
PY
)
units="LIF BLI BI" mps=0
if python3 -c "import sys; sys.exit(not float('$ratio') > 1.1)"; then mps=1; fi
if python3 -c "import sys; sys.exit(not float('$ratio') >= 2)"; then units="LIF BLI BI HBA BA Real"; fi
targets=$(for u in $units; do echo "results/study/runs/epochs=30/sot/CRNN/$u/seed0/metrics.csv"; done)
echo "mps/processes at 8 ways: $ratio; MPS=$mps; units: $units" | tee "$OUT/decision.txt"
echo "$targets" > "$OUT/targets.txt"
D=$(( END - ($(date +%s) - T0) - 40 ))
OUT=$OUT/dag DEADLINE=$D CORES=6 MPS=$mps bash tools/device_dag.sh --config scale=workstation \
  "training={threads: 1}" --configfile docs/study/sot.yaml -- $targets > /tmp/dag.log 2>&1
tail -n 25 /tmp/dag.log
echo "total $(( $(date +%s) - T0 )) s"
