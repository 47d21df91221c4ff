#!/usr/bin/env bash
# Copies the small per-run result files of the study (metrics.csv, timing.csv, config.json; no
# models) and its summary tables and figure from a results folder into docs/study/ for committing.
# Usage: bash docs/study/export.sh [results folder, default results]
set -euo pipefail
src=${1:-results}
dest=$(cd "$(dirname "$0")" && pwd)
(cd "$src/study/runs" && find . -name metrics.csv) | while read -r f; do
  run=$(dirname "$f")
  mkdir -p "$dest/runs/$run"
  cp "$src/study/runs/$run"/{metrics.csv,timing.csv,config.json} "$dest/runs/$run/"
done
for f in summary.csv summary.md summary_wide.csv summary_wide.md claims.csv claims.md study.png; do
  [ -f "$src/study/$f" ] && cp "$src/study/$f" "$dest/$f"
done
echo "exported $(find "$dest/runs" -name metrics.csv | wc -l) runs to $dest"
