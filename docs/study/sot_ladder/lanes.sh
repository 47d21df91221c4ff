#!/usr/bin/env bash
# Runs the SOT ladder's jobs (docs/study.md, "The ladder") from a queue file, one job at a time per
# lane; start one lane per free core, all on the same queue, from an activated environment:
#   for i in 1 2; do nohup bash docs/study/sot_ladder/lanes.sh QUEUE > lane$i.out 2>&1 & done
# QUEUE holds lines "<spec> <unit> <seed> [arch]" (arch: CRNN by default; blank lines and lines
# starting with # are dropped). <spec> names the rung and its overlays joined by "+", as the
# result folders beside this script are named: each part is docs/study/sot_ladder/<part>.yaml,
# layered in that order on config.yaml, except `paper` (the preset's own stimulus, no overlay), e.g.
#   paper+calibrate=0.05+dt_tau_v=0.5+input=first_frame BI 0
#   contrast_mid+calibrate=0.05 LIF 2
# The overlays were written for the presets of 7d11396 and before, which set none of SOT's own
# keys; since 58e968a every preset carries the three SOT defaults (units.sot, model.sot,
# training.sot), which win over the overlays' section-wide keys, so a spec that leaves one of
# them out is only what its name says run from a worktree of 7d11396 (pending.txt).
# A job runs in ${WORK:-..}/sot-ladder/<spec> (its own data, checkpoints and runs: stopped and
# started again, a job resumes from its checkpoint) at the workstation preset, one thread, MLflow
# off; the spec's data and settings files are built first under a lock of the spec, so lanes
# that start two jobs of one spec together do not build them twice. When a job succeeds its small
# result files are copied to docs/study/sot_ladder/<spec>/runs/sot/<arch>/<unit>/seed<seed>/
# (what table.py reads; commit them). A lane takes the next line under QUEUE.lock and stops when
# the queue is empty. Add lines while lanes run under that lock too:
#   flock QUEUE.lock sh -c 'echo "paper+calibrate=0.05 LIF 0" >> QUEUE'
# A line whose overlay is missing is dropped and logged. The lanes' log: QUEUE.log (start, end and
# exit status of every job, skipped lines).
set -u
[ $# = 1 ] && [ -f "$1" ] || { echo "usage: $0 QUEUE (an existing file of '<spec> <unit> <seed> [arch]' lines)" >&2; exit 2; }
queue=$(realpath "$1")
log=$queue.log
work=$(realpath -m "${WORK:-..}/sot-ladder")  # relative to where the lane was started
cd "$(dirname "$0")/../../.."
# this checkout's code, also where the environment has another checkout installed (pip install -e);
# run lanes from a worktree of their own (DEVELOPERS.md) so that code changes reach no job
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
# under the lock: drop blank and comment lines, then take the first line (none: the queue is empty)
take_line='sed -i -e "s/\r$//" -e "/^[[:space:]]*\(#.*\)\?$/d" "$0"; [ -s "$0" ] || exit 0; head -n1 "$0"; sed -i 1d "$0"'
while true; do
  line=$(flock "$queue.lock" bash -c "$take_line" "$queue")
  [ -z "$line" ] && break
  read -r spec unit seed arch <<<"$line"
  arch=${arch:-CRNN}
  configs=(config.yaml)
  IFS=+ read -ra parts <<<"$spec"
  missing=
  for part in "${parts[@]}"; do
    [ "$part" = paper ] && continue
    [ -f "docs/study/sot_ladder/$part.yaml" ] || missing=$part
    configs+=("docs/study/sot_ladder/$part.yaml")
  done
  why=
  [ -n "${seed:-}" ] || why="not '<spec> <unit> <seed> [arch]'"
  [ -z "$missing" ] || why="no docs/study/sot_ladder/$missing.yaml"
  if [ -n "$why" ]; then
    echo "$(date -u +%FT%TZ) skipped '$line': $why" >> "$log"
    continue
  fi
  echo "$(date -u +%FT%TZ) start $spec $arch $unit $seed" >> "$log"
  mkdir -p "$work/$spec"
  sm=(snakemake -s Snakefile --directory "$work/$spec" --configfile "${configs[@]}" --cores 1 --nolock
      --config scale=workstation 'mlflow={enabled: false}' 'training={threads: 1}' -q)
  run=results/runs/sot/$arch/$unit/seed$seed
  out=$work/$spec/lane-$arch-$unit-$seed.out
  flock "$work/$spec.lock" "${sm[@]}" -- results/data/sot/train.json results/data/sot/val.json settings > "$out" 2>&1 \
    && "${sm[@]}" -- "$run/metrics.csv" >> "$out" 2>&1
  status=$?
  if [ $status = 0 ]; then
    dest=docs/study/sot_ladder/$spec/runs/sot/$arch/$unit/seed$seed
    mkdir -p "$dest" && cp "$work/$spec/$run/"{config.json,metrics.csv,timing.csv,test.json} "$dest/"
    status=$?
  fi
  echo "$(date -u +%FT%TZ) done $spec $arch $unit $seed: exit $status" >> "$log"
done
