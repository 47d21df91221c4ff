"""A training job as the workflow runs it: training plus its MLflow run, robust to signals."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

from glifbench.layout import RUN_FILES, TEST_FILE
from glifbench.settings import config_hash
from glifbench.training.lock import job_lock
from glifbench.training.trainer import JobSpec, checkpoint_run_id, train

log = logging.getLogger("glifbench.train")


class Terminated(SystemExit):
    """Raised by the SIGTERM handler (SLURM time limit, scancel, Snakemake shutting down)."""


def _on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Terminated(128 + signum)


def run_tracked_job(spec: JobSpec, experiment_file: Path | None, tags: dict[str, str]) -> dict[str, Any]:
    """Train ``spec``, recording it in MLflow; a failure or SIGTERM marks the run FAILED.

    One live process per job: the job's lock file (beside its checkpoint) is held throughout, so
    a second process on the same job stops at once with a message naming the first; an MLflow run
    left RUNNING by a process that died is continued by the next one that takes the lock.
    """
    signal.signal(signal.SIGTERM, _on_sigterm)
    with job_lock(spec.checkpoint.with_name(spec.checkpoint.name + ".lock"), spec.name):
        if experiment_file is None:
            return train(spec)
        return _train_tracked(spec, experiment_file, tags)


def _train_tracked(spec: JobSpec, experiment_file: Path, tags: dict[str, str]) -> dict[str, Any]:
    from glifbench.tracking.mlflow_runs import JobRun, flatten, git_state

    experiment = json.loads(Path(experiment_file).read_text())
    run = JobRun(experiment["tracking_uri"], experiment["experiment_id"], spec.name, spec.fingerprint)
    job = {"task": spec.task, "arch": spec.arch, "unit": spec.unit, "seed": str(spec.seed)}
    if spec.variant is not None:
        job["study.variant"] = spec.variant
    params = flatten("", {**job, **spec.config, "data_sha256": spec.data_identity})
    all_tags = {**job, "config_hash": config_hash(spec.config), **git_state(), **tags}

    try:
        run.start(checkpoint_run_id(spec), all_tags, params)  # before training: a killed job keeps its run
        result = train(spec, on_epoch=lambda history, _: run.log_history(history), run_id=run.run_id)
        if result["test"] is not None:
            run.log_test(result["test"])
        files = [*RUN_FILES, TEST_FILE] if result["test"] is not None else RUN_FILES
        run.log_artifacts(spec.out_dir / name for name in files)
    except BaseException:
        run.finish("FAILED")
        raise
    run.finish("FINISHED")
    result["run_id"] = run.run_id
    return result
