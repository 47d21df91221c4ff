"""MLflow: one experiment created once, one run per training job, safe under concurrency.

Measured facts this is built for (``../shared/notes/platform-facts.md``): a fresh sqlite database
used by several processes at once breaks during schema migration, so :func:`create_experiment`
runs once, serially, before any job; ``set_experiment`` racing in parallel jobs silently files
runs under "Default", so jobs receive the experiment id; a lock held > 20 s raises "database is
locked", so every call retries with backoff; a killed job leaves its run RUNNING, so SIGTERM is
turned into a FAILED status and a resumed job continues its own run.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

log = logging.getLogger("glifbench.tracking")
T = TypeVar("T")
JOB_TAG = "glifbench.job"
FINGERPRINT_TAG = "glifbench.fingerprint"


def tracking_uri(results_dir: str | Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set (a server on a cluster), else ``results/mlflow.db``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{Path(results_dir).resolve() / 'mlflow.db'}"


TRANSIENT = ("locked", "busy", "timed out", "connection", "503", "502")


def with_retry(call: Callable[[], T], what: str, attempts: int = 8, also: tuple[str, ...] = ()) -> T:
    """Retry ``call`` with exponential backoff and jitter on a locked or busy backend, or on an
    error whose text holds one of ``also`` (lower case) that a second try resolves."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as err:  # noqa: BLE001 - MLflow wraps sqlalchemy and HTTP errors
            text = str(err).lower()
            transient = any(w in text for w in TRANSIENT + also)
            if not transient or attempt == attempts - 1:
                raise
            delay = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            log.warning("MLflow %s failed (%s); retrying in %.1f s", what, err, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def create_experiment(uri: str, name: str, artifact_root: str | Path | None) -> str:
    """Create (or find) the experiment once, serially; return its id."""
    client = _client(uri)
    existing = with_retry(lambda: client.get_experiment_by_name(name), "get_experiment")
    if existing is not None:
        return existing.experiment_id
    location = Path(artifact_root).resolve().as_uri() if artifact_root else None
    return with_retry(lambda: client.create_experiment(name, artifact_location=location), "create_experiment")


def git_state(repo: str | Path = ".") -> dict[str, str]:
    """MLflow's own commit tag and glifbench's dirty flag of the working tree, if it is a git
    checkout (the UI links ``mlflow.source.git.commit`` to the source)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return {"mlflow.source.git.commit": "unknown", "glifbench.git.dirty": "unknown"}
    return {"mlflow.source.git.commit": commit, "glifbench.git.dirty": str(bool(dirty)).lower()}


def metric_name(key: str, loss: str) -> str:
    """A metrics.csv column as MLflow shows it: the loss by its name, timings and activity apart.

    ``train_loss`` -> ``train_mse`` (SOT) or ``train_cross_entropy`` (classification);
    ``seconds`` -> ``epoch_seconds``; ``activity_body.0`` -> ``activity/body.0``; accuracies
    keep their names.
    """
    if key == "seconds":
        return "epoch_seconds"
    if key.startswith("activity_"):
        return "activity/" + key.removeprefix("activity_")
    split, _, what = key.partition("_")
    return f"{split}_{loss}" if what == "loss" else key


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """Nested mappings as dotted MLflow params (values as strings, lists as JSON-ish text)."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, sub in value.items():
            out.update(flatten(f"{prefix}.{key}" if prefix else str(key), sub))
        return out
    return {prefix: str(value)[:6000]}


class JobRun:
    """The MLflow run of one training job: created, or found again and continued on resume."""

    def __init__(self, uri: str, experiment_id: str, name: str, fingerprint: str, loss: str = "loss"):
        self.client = _client(uri)
        self.uri, self.experiment_id, self.name, self.fingerprint, self.loss = uri, experiment_id, name, fingerprint, loss
        self.run_id: str | None = None
        self.created = False  # whether start() made a new run (else it continues one)
        self._logged_steps: set[int] | None = None
        self._monitor = None

    def _find(self) -> str | None:
        query = f"tags.`{JOB_TAG}` = '{self.name}' and tags.`{FINGERPRINT_TAG}` = '{self.fingerprint}'"
        runs = with_retry(
            lambda: self.client.search_runs([self.experiment_id], query, order_by=["attributes.start_time DESC"], max_results=5),
            "search_runs",
        )
        live = [r for r in runs if r.info.status != "FINISHED"]
        return live[0].info.run_id if live else None

    def start(self, run_id: str | None, tags: Mapping[str, str], params: Mapping[str, str]) -> str:
        """Continue ``run_id`` (from the checkpoint) or an unfinished run of this job, else create one."""
        from mlflow.entities import Param, RunTag

        run_id = run_id or self._find()
        if run_id is not None:
            with_retry(lambda: self.client.update_run(run_id, status="RUNNING"), "update_run")
            self.run_id = run_id
            log.info("continuing MLflow run %s (%s)", run_id, self.name)
            return run_id
        all_tags = {JOB_TAG: self.name, FINGERPRINT_TAG: self.fingerprint, **tags}
        run = with_retry(lambda: self.client.create_run(self.experiment_id, tags=all_tags, run_name=self.name), "create_run")
        self.run_id, self.created = run.info.run_id, True
        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), 100):
            chunk = items[start : start + 100]
            with_retry(lambda: self.client.log_batch(self.run_id, params=chunk), "log_batch(params)")
        with_retry(lambda: self.client.log_batch(self.run_id, tags=[RunTag("mlflow.runName", self.name)]), "log_batch(tags)")
        log.info("created MLflow run %s (%s)", self.run_id, self.name)
        return self.run_id

    def log_history(self, history: Iterable[Mapping[str, Any]]) -> int:
        """Log every epoch not yet in the run (``step`` = epoch), in one batch; returns how many."""
        from mlflow.entities import Metric

        if self._logged_steps is None:
            key = metric_name("val_loss", self.loss)
            logged = with_retry(lambda: self.client.get_metric_history(self.run_id, key), "get_metric_history")
            self._logged_steps = {m.step for m in logged}
        now = int(time.time() * 1000)
        metrics = []
        new_steps = []
        for row in history:
            step = int(row["epoch"])
            if step in self._logged_steps:
                continue
            new_steps.append(step)
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    metrics.append(Metric(metric_name(key, self.loss), float(value), now, step))
        for start in range(0, len(metrics), 500):
            chunk = metrics[start : start + 500]
            with_retry(lambda: self.client.log_batch(self.run_id, metrics=chunk), "log_batch(metrics)")
        self._logged_steps.update(new_steps)
        return len(new_steps)

    def log_test(self, test: Mapping[str, float]) -> None:
        """The final test-split metrics as ``test_<name>`` (step 0: evaluated once, after training)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(metric_name(f"test_{k}", self.loss), float(v), now, 0) for k, v in test.items()
                   if isinstance(v, (int, float))]  # fmt: skip
        with_retry(lambda: self.client.log_batch(self.run_id, metrics=metrics), "log_batch(test)")

    def log_running(self, trials: int, running: Mapping[str, float]) -> None:
        """Running means inside an epoch as ``running/train_<name>`` at ``step`` = trials seen."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric("running/" + metric_name(f"train_{k}", self.loss), float(v), now, trials)
                   for k, v in running.items()]  # fmt: skip
        try:  # progress is a courtesy: a busy database must not stop training
            with_retry(lambda: self.client.log_batch(self.run_id, metrics=metrics), "log_batch(running)", attempts=3)
        except Exception as err:  # noqa: BLE001
            log.warning("MLflow: running metrics not logged (%s)", err)

    def log_datasets(self, data: Mapping[str, str], digests: Mapping[str, str], context: str = "training") -> None:
        """Record each data file the job reads as an MLflow dataset input (name = its role,
        digest = the start of its sha256, source = its path): the UI's "Datasets" column.

        MLflow's store looks a dataset up by (experiment, name, digest) and inserts it when missing;
        two jobs starting together on the same data both miss it and the second insert breaks the
        UNIQUE constraint (seen in CI with eight concurrent jobs). Its transaction is rolled back,
        so a retry finds the first job's row and links it."""
        from mlflow.entities import Dataset, DatasetInput, InputTag

        inputs = [DatasetInput(Dataset(name=role, digest=digests[role][:10], source_type="local",
                                       source=json.dumps({"uri": str(Path(path).resolve()), "sha256": digests[role]})),
                               tags=[InputTag("mlflow.data.context", context)])
                  for role, path in sorted(data.items())]  # fmt: skip
        with_retry(lambda: self.client.log_inputs(self.run_id, datasets=inputs), "log_inputs",
                   also=("unique constraint",))

    def monitor_system(self, seconds: float | None) -> None:
        """Log CPU, memory, disk, network (and GPU) use as ``system/*`` every ``seconds``
        (MLflow's own monitor; needs psutil) until :meth:`finish`."""
        if seconds is None:
            return
        try:
            from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

            self._monitor = SystemMetricsMonitor(self.run_id, sampling_interval=seconds, resume_logging=True,
                                                 tracking_uri=self.uri)  # fmt: skip
            self._monitor.start()
        except Exception as err:  # noqa: BLE001 - a missing psutil or a busy database: train anyway
            log.warning("MLflow system metrics off (%s)", err)
            self._monitor = None

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, v) for k, v in tags.items()]
        with_retry(lambda: self.client.log_batch(self.run_id, tags=items), "log_batch(tags)")

    def log_artifacts(self, paths: Iterable[Path]) -> None:
        for path in paths:
            with_retry(lambda: self.client.log_artifact(self.run_id, str(path)), "log_artifact")

    def finish(self, status: str) -> None:
        if self._monitor is not None:
            self._monitor.finish()
            self._monitor = None
        if self.run_id is not None:
            with_retry(lambda: self.client.set_terminated(self.run_id, status=status), "set_terminated")
