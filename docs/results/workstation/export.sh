#!/usr/bin/env bash
# Copies the small result files of a workstation run (per run: metrics.csv, timing.csv,
# config.json, test.json; no models) and its tables and figures into docs/results/workstation/<task>/
# or the folder named third (a rerun beside the table it will replace).
# Usage: bash docs/results/workstation/export.sh <task> [results folder, default results] [folder]
set -euo pipefail
task=$1
src=${2:-results}
dest=$(cd "$(dirname "$0")" && pwd)/${3:-$task}
(cd "$src/runs" && find "$task" -name test.json) | while read -r f; do
  run=$(dirname "$f")
  mkdir -p "$dest/runs/$run"
  cp "$src/runs/$run"/{metrics.csv,timing.csv,config.json,test.json} "$dest/runs/$run/"
done
for f in tables/table3.csv tables/table3.md figures/table3.png analysis/autapses.csv analysis/autapses.md \
         figures/autapses.png figures/fig7_kernels.png analysis/recurrent_amplitude.csv \
         analysis/recurrent_amplitude.md analysis/activity.csv analysis/activity.md figures/activity.png; do
  [ -f "$src/$f" ] && cp "$src/$f" "$dest/"
done
echo "exported $(find "$dest/runs" -name test.json | wc -l) runs to $dest"
