# The second call, at once on the warm machine (its results/ and checkpoints still there): the same
# jobs resumed from their checkpoints until a deadline; MPS and targets as call 1 decided
# (decision.txt, targets.txt; here passed as MPS=... and the target list).
OUT=$OUT/dag DEADLINE=${DEADLINE:-200} CORES=6 MPS=${MPS:-1} bash tools/device_dag.sh --config scale=workstation \
  "training={threads: 1}" --configfile docs/study/sot.yaml -- $TARGETS
