#!/usr/bin/env bash
# Table III of one task at the workstation preset, seed after seed (a run cut off leaves whole
# seeds; jobs resume from their checkpoints), then the table and the weight analysis.
#   fsdd:  the full FSDD (official test split), 30 epochs; then table3 and weights (autapses,
#          amplitude, activity)
#   mnist: genuine MNIST digits (the t10k files cut into 7,000 training / 1,000 validation / 2,000
#          test images, `data.mnist.source: testset`, docs/data.md), 5 epochs; then table3 and activity
# Usage (from the repository root): CORES=2 bash docs/results/workstation/run_table3.sh TASK [seeds, default 0 1 2]
set -euo pipefail
# this checkout's code, also in a worktree whose venv has another checkout installed (pip install -e)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
task=$1
shift
if [ $# -gt 0 ]; then seeds=("$@"); else seeds=(0 1 2); fi
case $task in
  fsdd) data="data={fsdd: {source: download, mirror: ${FSDD_MIRROR:-../shared/data/fsdd-recordings-26eb9aa.tar.gz}}}"
        analysis=(table3 weights) ;;
  mnist) data="data={mnist: {source: testset, mirror: ${MNIST_MIRROR:-../shared/data/mnist}}}"
         analysis=(table3 activity) ;;
  *) echo "task must be fsdd or mnist, got $task" >&2; exit 2 ;;
esac
sm=(snakemake --cores "${CORES:-2}" --config scale=workstation "$data" "grid={table1: [], table3_tasks: [$task], fig5: false}")
for seed in "${seeds[@]}"; do
  echo "=== $(date -u) $task seed $seed"
  targets=("results/runs/$task/CNN-RNN/Real/seed$seed/metrics.csv")
  for unit in Real HLIF HIAF LIF IAF BLI BI HBA BA; do targets+=("results/runs/$task/CRNN/$unit/seed$seed/metrics.csv"); done
  "${sm[@]}" -- "${targets[@]}"
done
echo "=== $(date -u) ${analysis[*]}"
"${sm[@]}" -- "${analysis[@]}"
echo "=== $(date -u) done"
