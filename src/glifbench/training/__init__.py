"""Training jobs: data streams, the epoch loop with checkpoints, and the job grid."""
