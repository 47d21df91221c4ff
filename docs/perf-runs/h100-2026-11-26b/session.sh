#!/usr/bin/env bash
# 2026-11-26, the second H100 session (15 device minutes): the GPU checks of issue 11
# (benchmarks/gpu_check.sh: CUDA tests incl. captured packs and captured validation, float32
# step rates with the capturable Adam, captured packs, how captured jobs share a card, layout),
# then SOT screen jobs of issue 12 (docs/study/sot.yaml; .device/targets.txt) in the time left,
# with captured validation only if every CUDA test passed. Run with carry [".device"].
set -u
T0=$(date +%s)
END=${END_S:-550}
export TESTS_S=150 STEPS_S=120 BIG_PACK_S=40 COMPILE_S=40 SHARING_S=110 LAYOUT_S=60
bash benchmarks/gpu_check.sh 4 "Real LIF BLI" > "$OUT/gpu_check.log" 2>&1
echo "gpu_check: $(( $(date +%s) - T0 )) s"
grep -E "exit status" "$OUT/device.txt"
tar -xzf "$OUT/gpu_check.tar.gz" -O tests.txt > /tmp/tests.txt 2>/dev/null
grep -E "^(FAILED|ERROR)|passed|failed" /tmp/tests.txt | tail -n 20
V=false
if grep -qE "[0-9]+ passed" /tmp/tests.txt && ! grep -qE "^(FAILED|ERROR)" /tmp/tests.txt; then V=true; fi
echo "capture_validation: $V"
D=$(( END - ($(date +%s) - T0) - 40 ))
if [ $D -gt 60 ]; then
  OUT=$OUT/dag DEADLINE=$D CORES=${CORES:-8} bash tools/device_dag.sh --config scale=workstation \
    "training={threads: 1, capture_validation: $V}" --configfile docs/study/sot.yaml -- $(cat .device/targets.txt) \
    > /tmp/dag.log 2>&1
  tail -n 25 /tmp/dag.log
fi
echo "total $(( $(date +%s) - T0 )) s"
