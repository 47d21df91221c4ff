#!/usr/bin/env bash
# Table III on MNIST at the workstation preset: genuine MNIST digits (the t10k files cut into
# 7,000 training / 1,000 validation / 2,000 test images, `data.mnist.source: testset`, docs/data.md),
# 5 epochs, seeds 0, 1, 2, one seed after the other (a run cut off leaves whole seeds; jobs resume
# from their checkpoints), then Table III and the activity analysis.
# Usage (from the repository root): CORES=2 bash docs/results/workstation/run_mnist.sh [seeds...]
set -euo pipefail
# this checkout's code, also in a worktree whose venv has another checkout installed (pip install -e)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
cores=${CORES:-2}
mirror=${MNIST_MIRROR:-../shared/data/mnist}
seeds=("${@:-0 1 2}")
read -r -a seeds <<< "${seeds[*]}"
sm=(snakemake --cores "$cores" --config scale=workstation "data={mnist: {source: testset, mirror: $mirror}}"
    'grid={table1: [], table3_tasks: [mnist], fig5: false}')
for seed in "${seeds[@]}"; do
  echo "=== $(date -u) seed $seed"
  targets=(results/runs/mnist/CNN-RNN/Real/seed$seed/metrics.csv)
  for unit in Real HLIF HIAF LIF IAF BLI BI HBA BA; do targets+=(results/runs/mnist/CRNN/$unit/seed$seed/metrics.csv); done
  "${sm[@]}" -- "${targets[@]}"
done
echo "=== $(date -u) tables"
"${sm[@]}" -- table3 activity
echo "=== $(date -u) done"
