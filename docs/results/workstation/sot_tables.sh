#!/usr/bin/env bash
# Tables I and III and Fig. 3/5 of the workstation SOT grid under the SOT defaults, from the
# committed per-run files of the ladder folder whose settings are the presets' since 58e968a
# (docs/study.md, "The SOT defaults set"), into docs/results/workstation/sot/. Pass --partial
# while runs are missing (each cell then says its n, titles count the runs).
# Usage: bash docs/results/workstation/sot_tables.sh [--partial]
set -euo pipefail
cd "$(dirname "$0")/../../.."
runs="docs/study/sot_ladder/paper+calibrate=0.05+dt_tau_v=0.5+input=first_frame/runs"
out=docs/results/workstation/sot
grid='{"table1": ["CNN", "DCNN", "CNN-RNN", "CRNN", "CRNN-Shallow", "CNN-CRNN", "CRNN-CNN"], "table3_tasks": ["sot"],
       "table3_units": ["Real", "HLIF", "HIAF", "LIF", "IAF", "BLI", "BI", "HBA", "BA"], "fig5": true}'
meta='{"scale": "workstation", "seeds": [0, 1, 2], "epochs": {"mnist": 5, "fsdd": 30, "sot": 4}}'
mkdir -p "$out"
python -m glifbench tables --part table1 table3 fig5 --runs "$runs" --out "$out" --figures "$out" \
  --grid "$grid" --seeds '{"seeds": [0, 1, 2]}' --meta "$meta" "$@"
rm -f "$out"/*.html
