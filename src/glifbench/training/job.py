"""A training job as the workflow runs it: training plus its MLflow run, robust to signals."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

from glifbench.training.trainer import METRIC_FILES, JobSpec, train

log = logging.getLogger("glifbench.train")


class Terminated(SystemExit):
    """Raised by the SIGTERM handler (SLURM time limit, scancel, Snakemake shutting down)."""


def _on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Terminated(128 + signum)


def run_tracked_job(spec: JobSpec, experiment_file: Path | None, tags: dict[str, str]) -> dict[str, Any]:
    """Train ``spec``, recording it in MLflow; a failure or SIGTERM marks the run FAILED."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if experiment_file is None:
        return train(spec)
    from glifbench.tracking.mlflow_runs import JobRun, flatten, git_state

    experiment = json.loads(Path(experiment_file).read_text())
    run = JobRun(experiment["tracking_uri"], experiment["experiment_id"], spec.name, spec.fingerprint)
    params = flatten("", {"task": spec.task, "arch": spec.arch, "unit": spec.unit, "seed": spec.seed, **spec.config})
    all_tags = {"task": spec.task, "arch": spec.arch, "unit": spec.unit, "seed": str(spec.seed), **git_state(), **tags}

    def on_epoch(history, run_id):
        if run.run_id is None:
            run.start(run_id, all_tags, params)
        run.log_history(history)

    try:
        result = train(spec, on_epoch=on_epoch)
        if run.run_id is None:  # nothing was trained (0 epochs): still record the job
            run.start(None, all_tags, params)
        run.log_artifacts(spec.out_dir / name for name in METRIC_FILES)
    except BaseException:
        run.finish("FAILED")
        raise
    run.finish("FINISHED")
    result["run_id"] = run.run_id
    return result
