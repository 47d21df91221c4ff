#!/usr/bin/env bash
# Runs targets of this workflow on the device machine (DEVELOPERS.md: one GPU, 16 cores, no
# package index, no MLflow) within a deadline, and hands back what finished as small files.
#   1. installs the carried kit (.device/wheels: glifbench's extra packages, and Snakemake with
#      the dependencies the machine lacks) into /tmp/site; `python` is python3 there;
#   2. runs `snakemake --cores $CORES` with the arguments given, plus `mlflow={enabled: false}`
#      and `training={threads: 1}` (unless the arguments set them: one CPU thread per job; with
#      training.device auto, every job trains on the GPU, up to $CORES of them at once);
#      at $DEADLINE seconds Snakemake is stopped (its running jobs end, their outputs removed);
#   3. packs into $OUT: results.tar.gz = every finished run's small files (metrics.csv,
#      timing.csv, config.json, test.json, activity.json), the study's summary files, the tables,
#      the logs, benchmarks and settings files, results/partial.jsonl = the epochs in every
#      checkpoint (what a job cut off at the deadline had done); models.tar.gz = the runs' model.pt files if they
#      fit in 15 MiB (FSDD's do; MNIST's and SOT's dense readouts do not); checkpoints.tar.gz = the
#      checkpoints of the jobs left unfinished, if they fit in 15 MiB (to continue them here or on
#      the next device: DEVELOPERS.md); snakemake.log, device.txt.
# MPS=1 runs the jobs as clients of a CUDA MPS server (tools/with_mps.sh; 3.28x the time-sliced
# aggregate for 8 captured SOT processes on an H200, docs/performance.md).
# Usage, from the repository root (the device tool's `run` with carry [".device"] and a
# timeout_s at least DEADLINE + 120 for the install and the packing):
#   DEADLINE=420 bash tools/device_dag.sh --config scale=workstation \
#     "data={mnist: {source: testset, mirror: .device/mnist}}" --configfile docs/study/mnist.yaml -- study
# Back here: tar -xzf <files_at>/results.tar.gz -C <a worktree> (DEVELOPERS.md says what then).
set -uo pipefail
out=${OUT:-device-out}
deadline=${DEADLINE:-420}
cores=${CORES:-$(nproc)}
mkdir -p "$out" /tmp/bin
start=$(date +%s)
if [ -d .device/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .device/wheels/*.whl || { echo "installing the kit failed" >&2; exit 1; }
fi
if ! command -v python > /dev/null; then  # the rules call `python`; a wrapper, not a link, keeps
  printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v python3)" > /tmp/bin/python  # python3's venv
  chmod +x /tmp/bin/python
fi
export PATH=/tmp/bin:$PATH PYTHONPATH=/tmp/site:$PWD/.device/norse-src:$PWD/src${PYTHONPATH:+:$PYTHONPATH}
export CUBLAS_WORKSPACE_CONFIG=${CUBLAS_WORKSPACE_CONFIG:-:4096:8} PYTHONUNBUFFERED=1
{ date -u; nproc; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null;
  python3 -c "import torch, snakemake; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'snakemake', snakemake.__version__)"
} | tee "$out/device.txt"
echo "install: $(( $(date +%s) - start )) s" | tee -a "$out/device.txt"

# ours join the user's --config/-C (one list: a second --config would replace it), first, so the
# user's keys win; without one, ours come before the targets
args=()
ours=("mlflow={enabled: false}" "training={threads: 1}")
placed=0
for arg in "$@"; do
  case $arg in
    --config=*|-C?*) echo "write '--config KEY=VALUE ...' (a separate word), not '$arg'" >&2; exit 2 ;;
  esac
  if [ $placed = 0 ] && [ "$arg" = "--" ]; then args+=(--config "${ours[@]}"); placed=1; fi
  args+=("$arg")
  if [ $placed = 0 ] && { [ "$arg" = "--config" ] || [ "$arg" = "-C" ]; }; then args+=("${ours[@]}"); placed=1; fi
done
[ $placed = 1 ] || args+=(--config "${ours[@]}")
{ printf 'snakemake --cores %s' "$cores"; printf ' %q' "${args[@]}"; echo; } | tee -a "$out/device.txt"
# MPS=1: the jobs as clients of a CUDA MPS server of this run's own (tools/with_mps.sh: the kernels
# of different processes then run at once; without it the card runs one process's work at a time,
# docs/performance.md), quit after Snakemake; where none starts, the jobs time-slice
wrap=()
[ "${MPS:-0}" = 1 ] && wrap=(bash tools/with_mps.sh)
run_start=$(date +%s)
# the deadline stops Snakemake only (timeout signals its own process group): the MPS wrapper
# outside it always lives to quit its daemon
"${wrap[@]}" timeout -s INT -k 60 "$deadline" python3 -m snakemake --cores "$cores" --keep-going \
  --rerun-triggers mtime input "${args[@]}" > "$out/snakemake.log" 2>&1
status=$?
grep -m 1 '^mps: ' "$out/snakemake.log" | tee -a "$out/device.txt"
echo "snakemake: exit status $status after $(( $(date +%s) - run_start )) s (124: stopped at the deadline)" \
  | tee -a "$out/device.txt"
tail -n 15 "$out/snakemake.log"

# jobs cut off at the deadline: the epochs their checkpoints hold (history rows), one JSON line
# each; and the files of those checkpoints (the checkpoint and the weights file it names) for
# checkpoints.tar.gz: results/checkpoints/<job>.pt belongs to results/runs/<job>/ (the study's
# likewise), a job whose run has no metrics.csv yet is unfinished
unfinished=$(mktemp)
python3 - > results/partial.jsonl 3> "$unfinished" <<'PY' || echo "reading the checkpoints failed" >&2
import json, os, pathlib, torch
unfinished = os.fdopen(3, "w")
for path in sorted(pathlib.Path("results").rglob("checkpoints/**/*.pt")):
    if path.name.endswith(".weights.pt"):  # a checkpoint's weights file: no history in it
        continue
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - a checkpoint being written at the deadline
        print(json.dumps({"checkpoint": str(path), "error": str(err)}))
        continue
    if isinstance(saved, dict) and "history" in saved:
        print(json.dumps({"checkpoint": str(path), "history": saved["history"]}, default=str))
        run = pathlib.Path(str(path.with_suffix("")).replace("/checkpoints/", "/runs/", 1))
        if not (run / "metrics.csv").is_file():
            files = [path] + ([path.parent / saved["weights"]] if "weights" in saved else [])
            print("\n".join(str(f) for f in files if f.is_file()), file=unfinished)
PY
small=$(mktemp)
{
  echo results/partial.jsonl
  find results -path '*runs/*' \( -name metrics.csv -o -name timing.csv -o -name config.json \
    -o -name test.json -o -name activity.json \) 2>/dev/null
  find results/study results/tables results/analysis results/figures -maxdepth 1 -type f 2>/dev/null
  find results/logs results/benchmarks results/settings -type f 2>/dev/null
} | sort > "$small"
tar -czf "$out/results.tar.gz" -T "$small"
# $out/NAME = the files listed in LIST (links followed), if there are any and they fit in 15 MiB
pack_small() {
  [ -s "$2" ] || return 0
  tar -czhf "$out/$1" -T "$2"
  if [ "$(stat -c %s "$out/$1")" -gt $(( 15 * 1024 * 1024 )) ]; then
    echo "$1 left behind: $(stat -c %s "$out/$1") bytes" | tee -a "$out/device.txt"
    rm "$out/$1"
  fi
}
find results -path '*runs/*' -name model.pt 2>/dev/null | sort > "$small"
pack_small models.tar.gz "$small"
pack_small checkpoints.tar.gz "$unfinished"  # to continue them elsewhere (DEVELOPERS.md)
rm -f "$small" "$unfinished"
echo "runs finished: $(tar -tzf "$out/results.tar.gz" | grep -c 'metrics.csv$'); total $(( $(date +%s) - start )) s" \
  | tee -a "$out/device.txt"
exit $status
