"""Training jobs: data streams, the epoch loop with checkpoints, one live process per job."""
