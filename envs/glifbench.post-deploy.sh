#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda environment (`--sdm conda`): install the
# glifbench package itself (the rules call `python -m glifbench`). Snakemake runs in the
# repository root, as the README shows.
set -euo pipefail
pip install --no-deps -e .
