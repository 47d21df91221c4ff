# The second call, made at once on the warm machine (its results/ and checkpoints still there):
# the SOT screen jobs of call 1 continued from their checkpoints until a deadline.
OUT=$OUT/dag DEADLINE=235 CORES=8 bash tools/device_dag.sh --config scale=workstation "training={threads: 1, capture_validation: true}" \
  --configfile docs/study/sot.yaml -- $(cat .device/targets.txt)
