"""A training job as the workflow runs it (or a pack of seeds): training plus one MLflow run per job,
robust to signals."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glifbench.errors import Terminated
from glifbench.layout import RUN_FILES, TEST_FILE
from glifbench.settings import config_hash
from glifbench.training.lock import job_lock
from glifbench.training.trainer import JobSpec, checkpoint_run_id, train

if TYPE_CHECKING:
    from glifbench.tracking.mlflow_runs import JobRun

log = logging.getLogger("glifbench.train")


class StopRequest:
    """SIGTERM sets the request; training stops at the next batch boundary (never inside a
    library call, where an exception raised by the handler could be caught or wrapped and
    change the exit status), the run is marked FAILED and the process exits with 128 + 15.
    A second SIGTERM stops at once."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self) -> bool:
        return self.signum is not None

    def handle(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        if self.signum is not None:
            raise Terminated(128 + signum)
        self.signum = signum
        log.warning("signal %d: stopping after this batch", signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Terminated(128 + self.signum)


def run_tracked_jobs(specs: Sequence[JobSpec], experiment_file: Path | None,
                     tags: dict[str, str]) -> list[dict[str, Any]]:  # fmt: skip
    """Train ``specs`` -- one job, or several seeds as one pack (``glifbench.training.pack``) --
    recording each in its own MLflow run; a failure or SIGTERM marks every run FAILED.

    One live process per job: each job's lock file (beside its checkpoint) is held throughout, so
    a second process on the same job stops at once with a message naming the first; an MLflow run
    left RUNNING by a process that died is continued by the next one that takes the lock.
    """
    if len(specs) > 1:  # refused before any lock is taken or run created
        from glifbench.training.pack import check_packable

        check_packable(specs)
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop.handle)
    with contextlib.ExitStack() as locks:
        for spec in specs:
            locks.enter_context(job_lock(spec.checkpoint.with_name(spec.checkpoint.name + ".lock"), spec.name))
        if experiment_file is None:
            results = _train(specs, stop)
            stop.check()
            return results
        return _train_tracked(specs, experiment_file, tags, stop)


def _train(specs: Sequence[JobSpec], stop: StopRequest, runs: Sequence[JobRun] | None = None) -> list[dict[str, Any]]:
    """One job alone, several as a pack; ``runs`` (MLflow) get each job's epochs and progress."""
    on_epoch = ([None] * len(specs) if runs is None
                else [lambda history, _, run=run: run.log_history(history) for run in runs])  # fmt: skip
    on_progress = [None] * len(specs) if runs is None else [run.log_running for run in runs]
    run_ids = [None] * len(specs) if runs is None else [run.run_id for run in runs]
    if len(specs) == 1:
        return [train(specs[0], on_epoch=on_epoch[0], run_id=run_ids[0], on_progress=on_progress[0],
                      should_stop=stop)]  # fmt: skip
    from glifbench.training.pack import train_pack

    return train_pack(specs, on_epoch=on_epoch, run_ids=run_ids, on_progress=on_progress, should_stop=stop)


def run_tags(spec: JobSpec) -> dict[str, str]:
    """MLflow's own tags (description, source) and the group of runs that differ only by seed:
    ``glifbench.group`` = ``[variant.]task-arch-unit`` (group the runs view by it to compare
    seeds, or by ``unit`` to compare unit types)."""
    from glifbench.names import UNIT_TYPES

    group = f"{spec.task}-{spec.arch}-{spec.unit}"
    note = (f"{spec.descriptor.label}, {spec.arch} network of {spec.unit} units ({UNIT_TYPES[spec.unit].description}), seed {spec.seed}"
            + (f", study variant {spec.variant}" if spec.variant else ""))  # fmt: skip
    return {"glifbench.group": group if spec.variant is None else f"{spec.variant}.{group}",
            "mlflow.note.content": note, "mlflow.source.name": "python -m glifbench train",
            "mlflow.source.type": "LOCAL"}  # fmt: skip


def _log_run_files(run, spec: JobSpec, result: dict[str, Any]) -> None:
    """The run's small files and its learning curves as MLflow artifacts. The weights stay in one
    place, ``model.pt`` in the run folder: the run records its path and sha256 (tags
    ``glifbench.model``, ``glifbench.model_sha256``); ``glifbench.models.saved.load_model(folder)``
    loads it."""
    import tempfile

    from glifbench.data.fetch import file_digest
    from glifbench.figures.curves import plot_run

    files = [name for name in RUN_FILES if name != "model.pt"] + ([TEST_FILE] if result["test"] is not None else [])
    run.log_artifacts(spec.out_dir / name for name in files)
    model = (spec.out_dir / "model.pt").resolve()
    run.set_tags({"glifbench.model": str(model), "glifbench.model_sha256": file_digest(model, "sha256")})
    with tempfile.TemporaryDirectory() as tmp:
        task = spec.descriptor
        loss = "MSE" if task.loss == "mse" else "cross-entropy"
        run.log_artifacts([plot_run(result["history"], loss, task.metric, Path(tmp) / "learning_curves.png", spec.name)])


def _new_run(spec: JobSpec, experiment: dict[str, Any]) -> JobRun:
    from glifbench.tracking.mlflow_runs import JobRun

    return JobRun(experiment["tracking_uri"], experiment["experiment_id"], spec.name, spec.fingerprint,
                  loss=spec.descriptor.loss)  # fmt: skip


def _start_run(run: JobRun, spec: JobSpec, tags: dict[str, str]) -> None:
    """Create the job's MLflow run (with params, tags and datasets) or continue its last one."""
    from glifbench.tracking.mlflow_runs import flatten, git_state

    job = {"task": spec.task, "arch": spec.arch, "unit": spec.unit, "seed": str(spec.seed)}
    if spec.variant is not None:
        job["study.variant"] = spec.variant
    params = flatten("", {**job, **spec.config, "data_sha256": spec.data_identity})
    all_tags = {**job, **run_tags(spec), "config_hash": config_hash(spec.config), **git_state(), **tags}
    run.start(checkpoint_run_id(spec), all_tags, params)  # before training: a killed job keeps its run
    if run.created:  # its inputs once
        run.log_datasets(spec.data, spec.data_identity)


def _finish_all(runs: Sequence[JobRun], status: str) -> None:
    """Finish every run, even if finishing one fails (the first error is raised after)."""
    errors = []
    for run in runs:
        try:
            run.finish(status)
        except Exception as err:  # noqa: BLE001 - the other runs must still be finished
            log.error("%s: could not mark the MLflow run %s: %s", run.name, status, err)
            errors.append(err)
    if errors:
        raise errors[0]


def _train_tracked(specs: Sequence[JobSpec], experiment_file: Path, tags: dict[str, str],
                   stop: StopRequest) -> list[dict[str, Any]]:  # fmt: skip
    experiment = json.loads(Path(experiment_file).read_text())
    pack = {"glifbench.pack": ",".join(spec.name for spec in specs)} if len(specs) > 1 else {}
    runs = [_new_run(spec, experiment) for spec in specs]  # finish() skips a run never started
    try:
        for run, spec in zip(runs, specs, strict=True):
            _start_run(run, spec, {**tags, **pack})
        runs[0].monitor_system(experiment.get("system_metrics_seconds"))  # one process: one monitor
        results = _train(specs, stop, runs)
        stop.check()
        for spec, run, result in zip(specs, runs, results, strict=True):
            if result["test"] is not None:
                run.log_test(result["test"])
            _log_run_files(run, spec, result)
    except BaseException as failure:
        try:
            _finish_all(runs, "FAILED")
        except Exception:  # noqa: BLE001 - the training's error is the one to report
            log.exception("while marking the runs FAILED after: %s", failure)
        raise
    _finish_all(runs, "FINISHED")
    for run, result in zip(runs, results, strict=True):
        result["run_id"] = run.run_id
    return results
