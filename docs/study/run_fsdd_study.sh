#!/usr/bin/env bash
# Runs the FSDD study (docs/study/fsdd.yaml) variant pair by pair, so that whole variants finish
# early, then its summary. Usage: bash docs/study/run_fsdd_study.sh "variantA variantB" ...
# (default: every variant of the file, in its order), then the summary (SUMMARY=0 skips it).
# Jobs resume from their checkpoints, so the script can be stopped and started again at any time.
# Each variant is the workflow's target `study:<variant>`: its runs, a job that repeats an earlier
# variant's or the main grid's read from that run (docs/study.md, "Jobs run once").
set -u
# this checkout's code, also in a worktree whose venv has another checkout installed (pip install -e)
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
SM=(snakemake --cores "${CORES:-2}" --config scale=workstation
    "data={fsdd: {source: download, mirror: ${FSDD_MIRROR:-../shared/data/fsdd-recordings-26eb9aa.tar.gz}}}"
    --configfile docs/study/fsdd.yaml --rerun-triggers mtime input)  # docs/training.md: `input` sees changed settings
groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
  mapfile -t groups < <(python3 -c "import yaml; print('\n'.join(yaml.safe_load(open('docs/study/fsdd.yaml'))['study']['variants']))")
fi
for group in "${groups[@]}"; do
  echo "=== $(date -u +%FT%TZ) $group"
  # shellcheck disable=SC2086
  nice -n 5 "${SM[@]}" -- $(printf "study:%s " $group)
done
if [ "${SUMMARY:-1}" = 1 ]; then  # the summary needs every run of every variant: it runs what is missing
  echo "=== $(date -u +%FT%TZ) summary"
  "${SM[@]}" -- study
fi
echo "=== $(date -u +%FT%TZ) done"
