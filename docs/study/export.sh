#!/usr/bin/env bash
# Copies the small per-run result files of the study (metrics.csv, timing.csv, config.json; no
# models) and its summary tables and figure from a results folder into docs/study/ for committing:
# the runs into docs/study/runs/, the summary files into docs/study/ or the folder given (one per
# study: the FSDD study's are in docs/study/, the MNIST study's in docs/study/mnist/).
# Usage: bash docs/study/export.sh [results folder, default results] [summary folder]
set -euo pipefail
src=${1:-results}
dest=$(cd "$(dirname "$0")" && pwd)
summary=${2:-$dest}
mkdir -p "$summary"
(cd "$src/study/runs" && find . -name metrics.csv) | while read -r f; do
  run=$(dirname "$f")
  mkdir -p "$dest/runs/$run"
  cp "$src/study/runs/$run"/{metrics.csv,timing.csv,config.json} "$dest/runs/$run/"
done
for f in summary.csv summary.md summary_wide.csv summary_wide.md claims.csv claims.md study.png; do
  if [ -f "$src/study/$f" ]; then cp "$src/study/$f" "$summary/$f"; fi
done
echo "exported $(cd "$src/study/runs" && find . -name metrics.csv | wc -l) runs to $dest/runs, the summary to $summary"
