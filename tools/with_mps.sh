#!/usr/bin/env bash
# Runs a command with every CUDA process it starts as a client of a CUDA MPS server of its own, so
# that the kernels of different training jobs run at once on one GPU instead of one process's at a
# time. Measured (docs/performance.md): 8 captured SOT CRNN processes on one H200 stepped 3.28x as
# many trials per second under MPS as time-sliced (1,680 against 512).
#   bash tools/with_mps.sh snakemake --cores 16 --config scale=gpu
# What it does: starts `nvidia-cuda-mps-control -d` with pipe and log folders in a fresh temporary
# folder (CUDA_MPS_PIPE_DIRECTORY, CUDA_MPS_LOG_DIRECTORY: nothing shared with other users' MPS,
# no setting of the card changed), checks that the server takes a client (one CUDA operation in
# python3 with torch), runs the command, and quits the daemon when the command ends, however it
# ends. Where the control program is missing, the daemon does not start or refuses clients (a
# container without the rights, no GPU), it says so and runs the command as it is (time-sliced).
# The first line on stderr is `mps: on (...)` or `mps: could not start (...)`; the exit status is
# the command's.
set -uo pipefail
if [ $# = 0 ]; then
  echo "usage: bash tools/with_mps.sh COMMAND [ARGUMENTS...]" >&2
  exit 2
fi
control=$(command -v nvidia-cuda-mps-control || ls /usr/local/nvidia/bin/nvidia-cuda-mps-control 2> /dev/null)
folder=$(mktemp -d "${TMPDIR:-/tmp}/mps.XXXXXX")
export CUDA_MPS_PIPE_DIRECTORY=$folder/pipe CUDA_MPS_LOG_DIRECTORY=$folder/log
mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
started=0
stop() {  # the daemon, once
  [ $started = 0 ] || echo quit | "$control" > /dev/null 2>&1
  started=0
}
trap 'stop; rm -rf "$folder"' EXIT
if [ -z "$control" ]; then
  why="nvidia-cuda-mps-control not found"
elif ! "$control" -d; then
  why="$control -d failed"
else
  started=1
  if timeout 90 python3 -c "import torch; torch.ones(1, device='cuda').add_(1).item()" > /dev/null 2>&1; then
    why=""
  else
    why="the server took no client: no GPU, or no rights to run one"
    stop
  fi
fi
if [ -n "$why" ]; then
  echo "mps: could not start ($why); the command runs time-sliced" >&2
  unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
else  # the server the client check started, by its process id (a record that MPS is in use)
  server=$(echo get_server_list | "$control" 2> /dev/null | tr '\n' ' ')
  echo "mps: on ($control, pipe $CUDA_MPS_PIPE_DIRECTORY, server: ${server:-none listed})" >&2
fi
"$@"
