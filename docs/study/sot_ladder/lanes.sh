#!/usr/bin/env bash
# Runs the SOT ladder's jobs (docs/study.md, "The ladder") from a queue file, one job at a time per
# lane; start one lane per free core, all on the same queue, from an activated environment:
#   for i in 1 2; do nohup bash docs/study/sot_ladder/lanes.sh QUEUE > lane$i.out 2>&1 & done
# QUEUE holds lines "<spec> <unit> <seed> [arch]" (arch: CRNN by default). <spec> names the rung and
# its overlays joined by "+", as the result folders beside this script are named: each part is
# docs/study/sot_ladder/<part>.yaml, layered in that order on config.yaml, except `paper` (the
# preset's own stimulus, no overlay), e.g.
#   paper+calibrate=0.05+dt_tau_v=0.5+input=first_frame BI 0
#   contrast_mid+calibrate=0.05 LIF 2
# A job runs in ${WORK:-..}/sot-ladder/<spec> (its own data, checkpoints and runs: stopped and
# started again, a job resumes from its checkpoint) at the workstation preset, one thread, MLflow
# off; when it succeeds its small result files are copied to
# docs/study/sot_ladder/<spec>/runs/sot/<arch>/<unit>/seed<seed>/ (what table.py reads; commit
# them). A lane takes the next line under flock and stops when the queue is empty; lines can be
# added while lanes run. The lanes' log: QUEUE.log (start, end and exit status of every job).
set -u
queue=$(realpath "$1")
log=$queue.log
cd "$(dirname "$0")/../../.."
work=$(realpath -m "${WORK:-..}/sot-ladder")
take_line='l=$(head -n1 "$0"); [ -n "$l" ] && sed -i 1d "$0"; echo "$l"'
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
  if [ -n "$missing" ]; then
    echo "$(date -u +%FT%TZ) skipped '$line': no docs/study/sot_ladder/$missing.yaml" >> "$log"
    continue
  fi
  echo "$(date -u +%FT%TZ) start $spec $arch $unit $seed" >> "$log"
  mkdir -p "$work/$spec"
  run=results/runs/sot/$arch/$unit/seed$seed
  snakemake -s Snakefile --directory "$work/$spec" --configfile "${configs[@]}" --cores 1 --nolock \
    --config scale=workstation 'mlflow={enabled: false}' 'training={threads: 1}' -q -- "$run/metrics.csv" \
    > "$work/$spec/lane-$arch-$unit-$seed.out" 2>&1
  status=$?
  if [ $status = 0 ]; then
    out=docs/study/sot_ladder/$spec/runs/sot/$arch/$unit/seed$seed
    mkdir -p "$out" && cp "$work/$spec/$run/"{config.json,metrics.csv,timing.csv,test.json} "$out/"
  fi
  echo "$(date -u +%FT%TZ) done $spec $arch $unit $seed: exit $status" >> "$log"
done
