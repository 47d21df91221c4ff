#!/usr/bin/env bash
# Table III on FSDD at the workstation preset: the full FSDD (official test split), 30 epochs,
# seeds 0, 1, 2, one seed after the other (a run cut off leaves whole seeds; jobs resume from
# their checkpoints), then Table III and the weight analysis (autapses, amplitude, activity).
# Usage (from the repository root): CORES=2 bash docs/results/workstation/run_fsdd.sh
set -euo pipefail
# this checkout's code, also in a worktree whose venv has another checkout installed (pip install -e)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
cores=${CORES:-2}
mirror=${FSDD_MIRROR:-../shared/data/fsdd-recordings-26eb9aa.tar.gz}
sm=(snakemake --cores "$cores" --config scale=workstation "data={fsdd: {source: download, mirror: $mirror}}"
    'grid={table1: [], table3_tasks: [fsdd], fig5: false}')
for seed in 0 1 2; do
  echo "=== $(date -u) seed $seed"
  targets=(results/runs/fsdd/CNN-RNN/Real/seed$seed/metrics.csv)
  for unit in Real HLIF HIAF LIF IAF BLI BI HBA BA; do targets+=(results/runs/fsdd/CRNN/$unit/seed$seed/metrics.csv); done
  "${sm[@]}" -- "${targets[@]}"
done
echo "=== $(date -u) tables"
"${sm[@]}" -- table3 weights
echo "=== $(date -u) done"
