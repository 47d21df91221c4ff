#!/usr/bin/env bash
# Runs the demo DAG through a real single-node SLURM (Debian 12 packages) with the project's
# profile, checks every job went through SLURM, compares the results with a local run, and checks
# that a failing job fails the workflow and that a job cancelled with scancel leaves its MLflow run
# FAILED and resumes on re-run. Needs root; every wait is bounded. Usage: bash .ci/slurm.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE=${BASE:-/tmp/glifbench-slurm}
export SLURM_CONF=$BASE/etc/slurm.conf DEBIAN_FRONTEND=noninteractive
SNAKEMAKE=(snakemake -s "$REPO/Snakefile" --configfile "$REPO/config.yaml" "$REPO/.tests/config/slurm.yaml")
SLURM_ARGS=(--profile "$REPO/profiles/slurm" --slurm-status-command squeue
            --slurm-init-seconds-before-status-checks 3 --latency-wait 5 --jobs 4)
T0=$(date +%s)
say() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

wait_for() {  # wait_for <seconds> <what> <command...>
  local end=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || fail "timeout waiting for $what"
    sleep 0.5
  done
}

stop() {  # stop <pidfile>
  [ -s "$1" ] && kill "$(cat "$1")" 2>/dev/null || true
}
teardown() {
  stop "$BASE/run/slurmd.pid"; stop "$BASE/run/slurmctld.pid"; stop "$BASE/munge/munged.pid"
  [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$SLURM_CONF" ] && rm -f /etc/slurm/slurm.conf
  return 0
}

# 1. packages (the daemons are started by hand below, not by the packages' scripts)
rm -rf "$BASE"; mkdir -p "$BASE"/{etc,munge,spool,state,log,run}
added_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added_policy=1; fi
timeout -k 10 600 apt-get update -q -o DPkg::Lock::Timeout=300 > "$BASE/apt.log" 2>&1
timeout -k 10 900 apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
  slurmctld slurmd slurm-client munge >> "$BASE/apt.log" 2>&1 || { tail -30 "$BASE/apt.log"; fail "apt-get install"; }
[ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
trap teardown EXIT
say "SLURM packages installed"

# 2. munge, slurm.conf, daemons (no accounting database: the plugin polls squeue)
chown munge:munge "$BASE/munge"; chmod 0755 "$BASE/munge"
runuser -u munge -- mungekey --create --keyfile="$BASE/munge/munge.key"
runuser -u munge -- munged --socket="$BASE/munge/munge.socket.2" --key-file="$BASE/munge/munge.key" \
  --pid-file="$BASE/munge/munged.pid" --log-file="$BASE/munge/munged.log" --seed-file="$BASE/munge/munged.seed"
wait_for 20 munged sh -c "munge -n -S '$BASE/munge/munge.socket.2' | unmunge -S '$BASE/munge/munge.socket.2'"
cat > "$SLURM_CONF" <<CONF
ClusterName=ci
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$BASE/munge/munge.socket.2
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=20
$(slurmd -C | head -1) NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p /etc/slurm && ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf  # the in-job srun reads the default path
slurmctld
slurmd
wait_for 60 slurmctld scontrol ping
wait_for 60 "an idle node" sh -c "sinfo -h -o %t | grep -qx idle"
say "SLURM up: $(sinfo -h -o '%n %c CPUs %m MB %t')"

# 3. the DAG through SLURM, then locally with the same seeds
mkdir -p "$BASE/slurm" "$BASE/local"
timeout -k 10 1200 "${SNAKEMAKE[@]}" --directory "$BASE/slurm" "${SLURM_ARGS[@]}" > "$BASE/slurm.log" 2>&1 \
  || { tail -60 "$BASE/slurm.log"; fail "workflow under SLURM"; }
run_id=$(sed -n 's/^SLURM run ID: //p' "$BASE/slurm.log" | head -1)
submitted=$(grep -c "Job [0-9]* has been submitted with SLURM jobid" "$BASE/slurm.log" || true)
completed=$(squeue --states=all -h --name "$run_id" -o %T | grep -c COMPLETED || true)
squeue --states=all --name "$run_id" -o '%.6i %.30j %.10T %.8M' | head -40
[ "$submitted" -ge 15 ] || fail "only $submitted jobs were submitted to SLURM"
[ "$completed" = "$submitted" ] || fail "$completed of $submitted SLURM jobs COMPLETED"
say "$completed jobs ran through SLURM (run $run_id), all COMPLETED"
timeout -k 10 1200 "${SNAKEMAKE[@]}" --directory "$BASE/local" --cores 2 > "$BASE/local.log" 2>&1 \
  || { tail -40 "$BASE/local.log"; fail "local workflow"; }
for table in tables/table1.csv tables/table3.csv analysis/autapses.csv analysis/activity.csv analysis/recurrent_amplitude.csv; do
  cmp "$BASE/slurm/results/$table" "$BASE/local/results/$table" || fail "$table differs between SLURM and local runs"
done
say "tables identical to a local run with the same seeds"

# 4. a failing job fails the workflow and its rule log is shown
if timeout -k 10 300 "${SNAKEMAKE[@]}" --directory "$BASE/slurm" results/downloads/mnist/t10k-labels-idx1-ubyte.gz \
     "${SLURM_ARGS[@]}" --retries 0 \
     --config "data={mnist: {source: download, mirror: $BASE/no-such-mirror}}" > "$BASE/fail.log" 2>&1; then
  fail "a failing job did not fail the workflow"
fi
grep -q "mirror file not found" "$BASE/fail.log" || { tail -30 "$BASE/fail.log"; fail "the failed job's log was not shown"; }
say "a failing SLURM job fails the workflow and shows its log"

# 5. scancel marks the MLflow run FAILED; a re-run resumes it from its checkpoint
job=results/runs/fsdd/CRNN/BLI/seed1
long=(--config "seeds=[1]" "training={fsdd: {epochs: 40}}")
timeout -k 10 600 "${SNAKEMAKE[@]}" --directory "$BASE/slurm" "$job/metrics.csv" "${SLURM_ARGS[@]}" \
  --retries 0 "${long[@]}" > "$BASE/cancel.log" 2>&1 &
workflow=$!
wait_for 300 "the first checkpoint" test -s "$BASE/slurm/results/checkpoints/fsdd/CRNN/BLI/seed1.pt"
slurm_job=$(squeue -h -t RUNNING -o '%i %j' | awk '{print $1}' | tail -1)
scancel "$slurm_job"
say "cancelled SLURM job $slurm_job"
if wait "$workflow"; then fail "the workflow succeeded although its job was cancelled"; fi
status() {
  python - "$BASE/slurm/results/mlflow.db" <<'PY'
import sys
from mlflow.tracking import MlflowClient
client = MlflowClient(f"sqlite:///{sys.argv[1]}")
exp = client.get_experiment_by_name("glifbench")
runs = client.search_runs([exp.experiment_id], "attributes.run_name = 'fsdd-CRNN-BLI-s1'")
print(" ".join(r.info.status for r in runs))
PY
}
for _ in $(seq 1 30); do [ "$(status)" = FAILED ] && break; sleep 2; done
[ "$(status)" = FAILED ] || fail "MLflow run after scancel: '$(status)', expected FAILED"
timeout -k 10 600 "${SNAKEMAKE[@]}" --directory "$BASE/slurm" "$job/metrics.csv" "${SLURM_ARGS[@]}" \
  "${long[@]}" > "$BASE/resume.log" 2>&1 || { tail -40 "$BASE/resume.log"; fail "re-run after scancel"; }
grep -q "resuming after epoch" "$BASE/slurm/results/logs/train/fsdd/CRNN/BLI/seed1.log" || fail "the re-run did not resume"
[ "$(status)" = FINISHED ] || fail "MLflow run after the re-run: '$(status)', expected one FINISHED run"
say "scancel -> FAILED run; re-run resumed from its checkpoint and FINISHED the same run"
