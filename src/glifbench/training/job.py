"""A training job as the workflow runs it: training plus its MLflow run, robust to signals."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

from glifbench.settings import config_hash
from glifbench.training.trainer import METRIC_FILES, JobSpec, checkpoint_run_id, train

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
    all_tags = {
        "task": spec.task, "arch": spec.arch, "unit": spec.unit, "seed": str(spec.seed),
        "config_hash": config_hash(spec.config), **git_state(), **tags,
    }  # fmt: skip

    try:
        run.start(checkpoint_run_id(spec), all_tags, params)  # before training: a killed job keeps its run
        result = train(spec, on_epoch=lambda history, _: run.log_history(history), run_id=run.run_id)
        run.log_artifacts(spec.out_dir / name for name in METRIC_FILES)
    except BaseException:
        run.finish("FAILED")
        raise
    run.finish("FINISHED")
    result["run_id"] = run.run_id
    return result
