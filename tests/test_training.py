"""Training jobs: determinism, resumption, MLflow records, concurrency, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import job_config, needs_cpp_compiler, write_fsdd_like

from glifbench.data.fetch import file_digest
from glifbench.errors import DataError, TrainingError
from glifbench.layout import job_grid
from glifbench.training.trainer import JobSpec, train

MODEL = {"channels": [4, 8], "hidden": 16, "sot_readout": "softargmax", "mnist_steps": 4}


def config(epochs=2, **training):
    return job_config("fsdd", {"epochs": epochs, "batch_size": 8, "lr": 0.002, **training}, MODEL)


@pytest.fixture(scope="module")
def fsdd_file(tmp_path_factory):
    return write_fsdd_like(tmp_path_factory.mktemp("fsdd") / "spectrograms.npz")


def spec(tmp_path, task, data, unit="BLI", arch="CRNN", seed=3, **kw):
    return JobSpec(task, arch, unit, seed, tmp_path / "run", tmp_path / "ckpt.pt", data, config(**kw))


def _without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def _files(run):
    return {name: (run / name).read_bytes() for name in ("metrics.csv", "model.pt", "activity.json", "test.json")}


def test_grid_matches_the_paper_and_has_no_duplicates():
    jobs = job_grid({"table1": ["CNN", "CRNN"], "table3_tasks": ["sot", "mnist"],
                     "table3_units": ["Real", "LIF", "BA"], "fig5": True})  # fmt: skip
    assert len(jobs) == len(set(jobs))
    assert ("sot", "CRNN", "Real") in jobs and ("mnist", "CNN-RNN", "Real") in jobs
    assert ("sot", "CNN", "BA") in jobs and jobs.count(("sot", "CRNN", "LIF")) == 1
    full = job_grid({"table1": ["CNN", "DCNN", "CNN-RNN", "CRNN", "CRNN-Shallow", "CNN-CRNN", "CRNN-CNN"],
                     "table3_tasks": ["mnist", "fsdd", "sot"],
                     "table3_units": ["Real", "HLIF", "HIAF", "LIF", "IAF", "BLI", "BI", "HBA", "BA"], "fig5": True})  # fmt: skip
    assert len(full) == 36


def test_same_seed_same_metrics_and_weights(tmp_path, fsdd_file):
    data = {"arrays": str(fsdd_file)}
    a = train(spec(tmp_path / "a", "fsdd", data))
    b = train(spec(tmp_path / "b", "fsdd", data))
    assert _without_time(a["history"]) == _without_time(b["history"])
    # identical jobs write identical bytes: no wall-clock column, no temporary name inside model.pt
    assert _files(tmp_path / "a/run") == _files(tmp_path / "b/run")
    assert "seconds" not in (tmp_path / "a/run/metrics.csv").read_text()
    timing = (tmp_path / "a/run/timing.csv").read_text().splitlines()
    assert timing[0] == "epoch,seconds,pack_size,compiled_units,captured,captured_validation,device"
    assert all(line.endswith(",1,0,0,0,cpu") for line in timing[1:])  # alone, eager, nothing captured, on the CPU
    c = train(spec(tmp_path / "c", "fsdd", data, seed=4))
    assert _without_time(c["history"]) != _without_time(a["history"])


def test_resume_equals_uninterrupted(tmp_path, fsdd_file):
    data = {"arrays": str(fsdd_file)}
    whole = train(spec(tmp_path / "whole", "fsdd", data, epochs=3))
    train(spec(tmp_path / "parts", "fsdd", data, epochs=1))
    resumed = train(spec(tmp_path / "parts", "fsdd", data, epochs=3))
    assert _without_time(resumed["history"]) == _without_time(whole["history"])
    wa, wb = torch.load(tmp_path / "whole/run/model.pt"), torch.load(tmp_path / "parts/run/model.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_runs_initial_network_is_the_one_its_job_started_from(tmp_path, fsdd_file):
    from glifbench.models.saved import load_initial_model, load_model
    from glifbench.training.trainer import start_job

    settings = job_config("fsdd", {"epochs": 1, "batch_size": 8, "lr": 0.002}, {**MODEL, "calibrate_activity": None})
    job = JobSpec("fsdd", "CRNN", "LIF", 5, tmp_path / "run", tmp_path / "ckpt.pt", {"arrays": str(fsdd_file)}, settings)
    started = {k: v.clone() for k, v in start_job(job).model.state_dict().items()}
    train(job)
    torch.manual_seed(123)  # what the global generator held before does not matter
    initial, trained = load_initial_model(tmp_path / "run").state_dict(), load_model(tmp_path / "run").state_dict()
    assert initial.keys() == started.keys()
    assert all(torch.equal(initial[k], started[k]) for k in started)
    assert not all(torch.equal(trained[k], started[k]) for k in started)  # and training moved it


@needs_cpp_compiler()
def test_compiled_units_train_as_eager_ones_and_continue_their_checkpoints(tmp_path, fsdd_file):
    data = {"arrays": str(fsdd_file)}
    eager = train(spec(tmp_path / "eager", "fsdd", data, unit="LIF", epochs=2))
    compiled = train(spec(tmp_path / "compiled", "fsdd", data, unit="LIF", epochs=2, compile_units=True))
    for a, b in zip(eager["history"], compiled["history"], strict=True):  # float32: rounding, no more
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-4)
    assert [row["compiled_units"] for row in compiled["history"]] == [1, 1]  # timing.csv records it
    # a speed switch, not a setting of the result: an eager checkpoint continues compiled
    train(spec(tmp_path / "mixed", "fsdd", data, unit="LIF", epochs=1))
    mixed = train(spec(tmp_path / "mixed", "fsdd", data, unit="LIF", epochs=2, compile_units=True))
    assert _without_time(mixed["history"][:1]) == _without_time(eager["history"][:1])  # resumed, not redone
    assert [row["compiled_units"] for row in mixed["history"]] == [0, 1]
    assert mixed["history"][1]["val_loss"] == pytest.approx(eager["history"][1]["val_loss"], rel=1e-4)


def test_channels_last_trains_as_the_default_layout_and_continues_its_checkpoints(tmp_path, sot_files):
    """training.channels_last (auto: on a CPU) changes the 2-D convolutions' memory layout, not
    what they compute: a SOT LIF job alike to float rounding, and a checkpoint of either layout
    continues in the other; the saved weights read as ordinary tensors."""
    plain = train(spec(tmp_path / "plain", "sot", sot_files, unit="LIF", epochs=2, channels_last=False))
    nhwc = train(spec(tmp_path / "nhwc", "sot", sot_files, unit="LIF", epochs=2, channels_last=True))
    for a, b in zip(plain["history"], nhwc["history"], strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-4)
    weights = torch.load(tmp_path / "nhwc/run/model.pt")
    conv = max((w for w in weights.values() if w.dim() == 4), key=lambda w: w.shape[1])  # a recurrent kernel
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()  # as trained
    plain_conv = torch.load(tmp_path / "plain/run/model.pt")[next(k for k, w in weights.items() if w is conv)]
    assert plain_conv.is_contiguous()
    train(spec(tmp_path / "mixed", "sot", sot_files, unit="LIF", epochs=1, channels_last=False))
    mixed = train(spec(tmp_path / "mixed", "sot", sot_files, unit="LIF", epochs=2, channels_last=True))
    assert _without_time(mixed["history"][:1]) == _without_time(plain["history"][:1])  # resumed, not redone
    assert mixed["history"][1]["val_loss"] == pytest.approx(plain["history"][1]["val_loss"], rel=1e-4)


def test_the_multibit_unit_trains(tmp_path, fsdd_file):
    result = train(spec(tmp_path, "fsdd", {"arrays": str(fsdd_file)}, unit="MBLI", epochs=3))
    losses = [row["train_loss"] for row in result["history"]]
    assert losses[-1] < losses[0] and all(np.isfinite(losses))
    assert json.loads((tmp_path / "run/config.json").read_text())["job"] == "fsdd-CRNN-MBLI-s3"


def test_outputs_and_activity(tmp_path, sot_files):
    result = train(spec(tmp_path, "sot", sot_files, unit="LIF", epochs=1))
    row = result["history"][0]
    assert {"epoch", "train_loss", "val_loss", "activity_body.0", "activity_body.1"} <= set(row)
    metrics = (tmp_path / "run/metrics.csv").read_text().splitlines()
    assert metrics[0].startswith("epoch,") and len(metrics) == 2
    activity = json.loads((tmp_path / "run/activity.json").read_text())
    assert len(activity["per_step"]["body.0"]) == 6 and 0 <= activity["network_mean"] <= 1
    saved = json.loads((tmp_path / "run/config.json").read_text())
    assert saved["job"] == "sot-CRNN-LIF-s3" and saved["config"]["training"]["epochs"] == 1


def test_nan_loss_is_an_error(tmp_path, fsdd_file):
    with pytest.raises(TrainingError, match="fsdd-CRNN-Real-s3: loss is nan"):
        train(spec(tmp_path, "fsdd", {"arrays": str(fsdd_file)}, unit="Real", input_mean=float("nan")))
    assert not (tmp_path / "run/metrics.csv").exists()


def test_missing_data_is_named(tmp_path):
    with pytest.raises(DataError, match="training data not found: .*nope.npz"):
        train(spec(tmp_path, "fsdd", {"arrays": str(tmp_path / "nope.npz")}))


def test_changed_data_starts_afresh(tmp_path, fsdd_file, caplog):
    data_file = tmp_path / "data.npz"
    data_file.write_bytes(fsdd_file.read_bytes())
    job = spec(tmp_path, "fsdd", {"arrays": str(data_file)})
    first = train(job)
    with np.load(data_file) as arrays:
        changed = {k: arrays[k] for k in arrays.files}
    changed["x_train"] = changed["x_train"][::-1].copy()  # same path, other content
    np.savez(data_file, **changed)
    caplog.clear()
    again = train(spec(tmp_path, "fsdd", {"arrays": str(data_file)}))
    assert "other settings or data; starting afresh" in caplog.text and "resuming" not in caplog.text
    assert _without_time(again["history"]) != _without_time(first["history"])
    saved = json.loads((tmp_path / "run/config.json").read_text())
    assert saved["data_sha256"]["arrays"] == file_digest(data_file, "sha256")


def test_fewer_epochs_never_return_the_longer_run(tmp_path, fsdd_file, caplog):
    data = {"arrays": str(fsdd_file)}
    train(spec(tmp_path / "long", "fsdd", data, epochs=3))
    short = train(spec(tmp_path / "long", "fsdd", data, epochs=1))
    train(spec(tmp_path / "fresh", "fsdd", data, epochs=1))
    assert "has 3 epochs, 1 asked; starting afresh" in caplog.text
    assert len(short["history"]) == 1 and _files(tmp_path / "long/run") == _files(tmp_path / "fresh/run")


def test_study_jobs_never_read_the_test_split(tmp_path, fsdd_file):
    with np.load(fsdd_file) as arrays:
        no_test = {k: arrays[k] for k in arrays.files if not k.endswith("_test")}
    np.savez(tmp_path / "no_test.npz", **no_test)
    job = spec(tmp_path, "fsdd", {"arrays": str(tmp_path / "no_test.npz")})
    job.evaluate_test = False
    result = train(job)
    assert result["test"] is None and not (tmp_path / "run/test.json").exists()
    with pytest.raises(DataError, match="missing array 'x_test'"):
        train(spec(tmp_path / "main", "fsdd", {"arrays": str(tmp_path / "no_test.npz")}))


def test_test_split_is_evaluated_once_at_the_end(tmp_path, fsdd_file):
    result = train(spec(tmp_path, "fsdd", {"arrays": str(fsdd_file)}))
    test = json.loads((tmp_path / "run/test.json").read_text())
    assert test["split"] == "test" and test["epoch"] == 2 and test == {"split": "test", "epoch": 2, **result["test"]}
    assert 0 <= test["accuracy"] <= 1 and not any(k.startswith("test") for k in result["history"][-1])


# --- the command line with MLflow: kill, resume, terminate, concurrency -------------------------
def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "glifbench", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)  # fmt: skip


def _init(tmp_path, *extra):
    out = tmp_path / "experiment.json"
    proc = _cli("mlflow-init", "--name", "test", "--results", str(tmp_path / "results"), "--out", str(out), *extra)
    assert proc.wait(120) == 0, proc.stdout.read()
    return out


def _train_args(tmp_path, name, data, cfg, experiment, seed=0, unit="BLI"):
    args = ["train", "--task", "fsdd", "--arch", "CRNN", "--unit", unit, "--seed", str(seed),
            "--out-dir", str(tmp_path / name), "--checkpoint", str(tmp_path / f"{name}.pt"),
            "--data", json.dumps(data), "--config", json.dumps(cfg)]  # fmt: skip
    return args + (["--experiment", str(experiment)] if experiment else [])


def _metrics_without_time(path):
    import csv

    with open(path) as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def _runs(experiment_file):
    from mlflow.tracking import MlflowClient

    info = json.loads(Path(experiment_file).read_text())
    client = MlflowClient(info["tracking_uri"])
    return client, client.search_runs([info["experiment_id"]], max_results=100)


@pytest.fixture()
def slow_fsdd(tmp_path_factory):
    """Bigger FSDD-like data so an epoch lasts long enough to be interrupted."""
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("slow") / "spectrograms.npz"
    np.savez(path, x_train=rng.normal(size=(600, 64, 64)).astype(np.float32), y_train=rng.integers(0, 10, 600),
             x_val=rng.normal(size=(64, 64, 64)).astype(np.float32), y_val=rng.integers(0, 10, 64),
             x_test=rng.normal(size=(32, 64, 64)).astype(np.float32), y_test=rng.integers(0, 10, 32))  # fmt: skip
    return {"arrays": str(path)}


def _wait_for(path: Path, seconds: float = 300) -> None:
    """Wait until a job has written ``path`` (its first checkpoint)."""
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline:
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_then_rerun_resumes_one_finished_run(tmp_path, slow_fsdd):
    experiment = _init(tmp_path)
    cfg = config(epochs=3, batch_size=32)
    proc = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment))
    _wait_for(tmp_path / "job.pt")
    time.sleep(1.0)  # now inside epoch 2 (on an idle, fast machine perhaps 3: the checkpoint says)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not (tmp_path / "job/metrics.csv").exists()  # killed before it finished
    done = len(torch.load(tmp_path / "job.pt", map_location="cpu", weights_only=False)["history"])
    assert 1 <= done < 3
    rerun = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment))
    out = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0, out
    assert f"resuming after epoch {done}" in out
    uninterrupted = _cli(*_train_args(tmp_path, "again", slow_fsdd, cfg, None))  # not tracked
    assert uninterrupted.wait(600) == 0
    resumed = _metrics_without_time(tmp_path / "job/metrics.csv")
    assert len(resumed) == 3 and resumed == _metrics_without_time(tmp_path / "again/metrics.csv")
    client, runs = _runs(experiment)
    mine = [r for r in runs if r.info.run_name == "fsdd-CRNN-BLI-s0"]
    assert len(mine) == 1 and mine[0].info.status == "FINISHED"
    history = client.get_metric_history(mine[0].info.run_id, "val_cross_entropy")
    assert sorted(m.step for m in history) == [1, 2, 3]
    tags = mine[0].data.tags
    assert tags["task"] == "fsdd" and "mlflow.source.git.commit" in tags and "glifbench.fingerprint" in tags
    assert mine[0].data.params["training.lr"] == "0.002"


@pytest.mark.slow
def test_sigterm_marks_the_run_failed(tmp_path, slow_fsdd):
    experiment = _init(tmp_path)
    proc = _cli(*_train_args(tmp_path, "job", slow_fsdd, config(epochs=50, batch_size=32), experiment))
    _wait_for(tmp_path / "job.pt")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM, proc.stdout.read()
    _, runs = _runs(experiment)
    assert [r.info.status for r in runs] == ["FAILED"]


@pytest.mark.slow
def test_eight_concurrent_jobs_lose_nothing(tmp_path, fsdd_file):
    experiment = _init(tmp_path)
    data = {"arrays": str(fsdd_file)}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [_cli(*_train_args(tmp_path, f"j{s}", data, config(epochs=3), experiment, seed=s), env=env) for s in range(8)]
    for p in procs:
        assert p.wait(600) == 0, p.stdout.read()
    client, runs = _runs(experiment)
    assert sorted(r.info.run_name for r in runs) == [f"fsdd-CRNN-BLI-s{s}" for s in range(8)]
    assert all(r.info.status == "FINISHED" for r in runs)
    for run in runs:
        for key in ("train_cross_entropy", "val_cross_entropy", "val_accuracy"):
            assert sorted(m.step for m in client.get_metric_history(run.info.run_id, key)) == [1, 2, 3]
    default = client.get_experiment_by_name("Default")  # where set_experiment races file runs
    assert default is None or client.search_runs([default.experiment_id]) == []


@pytest.mark.slow
def test_one_live_process_per_job(tmp_path, slow_fsdd):
    experiment = _init(tmp_path)
    cfg = config(epochs=3, batch_size=32)
    first = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment))
    _wait_for(tmp_path / "job.pt")
    second = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment))
    out = second.communicate(timeout=120)[0]
    assert second.returncode == 1 and f"is already running (process {first.pid} holds" in out
    first.send_signal(signal.SIGKILL)  # the kernel drops the dead process's lock
    first.wait(30)
    rerun = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment))
    assert rerun.wait(600) == 0, rerun.stdout.read()
    client, runs = _runs(experiment)
    assert [r.info.status for r in runs] == ["FINISHED"]  # the dead process's RUNNING run, recovered
    assert sorted(m.step for m in client.get_metric_history(runs[0].info.run_id, "val_cross_entropy")) == [1, 2, 3]
    assert {"test_accuracy", "test_cross_entropy", "val_cross_entropy"} <= set(client.get_run(runs[0].info.run_id).data.metrics)


def test_progress_lines_leave_results_unchanged(tmp_path, fsdd_file, caplog):
    data = {"arrays": str(fsdd_file)}
    quiet = train(spec(tmp_path / "quiet", "fsdd", data, progress_seconds=None))
    seen = []
    with caplog.at_level("INFO", logger="glifbench.train"):
        chatty = train(spec(tmp_path / "chatty", "fsdd", data, progress_seconds=1e-9),
                       on_progress=lambda trials, running: seen.append((trials, running)))  # fmt: skip
    assert _without_time(quiet["history"]) == _without_time(chatty["history"])
    assert _files(tmp_path / "quiet/run") == _files(tmp_path / "chatty/run")
    lines = [r.getMessage() for r in caplog.records if "trials/s" in r.getMessage()]
    assert any("epoch 1/2 [train] 8/48 trials (16%)" in line and "job ETA" in line for line in lines)
    assert any("[val]" in line for line in lines)
    # the training reports: 5 per epoch (after batches 1-5 of 6), trials counted across epochs
    assert [t for t, _ in seen] == [8, 16, 24, 32, 40, 56, 64, 72, 80, 88]
    assert set(seen[0][1]) == {"loss", "accuracy"}


def test_mlflow_run_is_recorded_the_standard_way(tmp_path, slow_fsdd):
    experiment = _init(tmp_path, "--system-metrics-seconds", "0.5")
    cfg = config(epochs=1, batch_size=32, progress_seconds=0.5)
    proc = _cli(*_train_args(tmp_path, "job", slow_fsdd, cfg, experiment, unit="LIF"))
    assert proc.wait(600) == 0, proc.stdout.read()
    client, runs = _runs(experiment)
    run = client.get_run(runs[0].info.run_id)
    tags = run.data.tags
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert tags["mlflow.source.git.commit"] == head and tags["glifbench.group"] == "fsdd-CRNN-LIF"
    assert "leaky integrate-and-fire" in tags["mlflow.note.content"] and "git.commit" not in tags
    metrics = set(run.data.metrics)
    assert {"train_cross_entropy", "val_accuracy", "epoch_seconds", "activity/body.0"} <= metrics
    assert "train_loss" not in metrics and "seconds" not in metrics
    assert {"running/train_cross_entropy", "running/train_accuracy"} <= metrics
    assert any(m.startswith("system/cpu_utilization") for m in metrics)
    inputs = run.inputs.dataset_inputs
    assert [d.dataset.name for d in inputs] == ["arrays"]
    digest = json.loads(inputs[0].dataset.source)["sha256"]
    assert digest == json.loads((tmp_path / "job/config.json").read_text())["data_sha256"]["arrays"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.csv", "config.json", "test.json", "learning_curves.png"} <= artifacts
    assert "model.pt" not in artifacts  # the weights are stored once, in the run folder
    assert tags["glifbench.model"] == str((tmp_path / "job/model.pt").resolve())


def test_two_jobs_logging_the_same_dataset_at_once_both_link_it(monkeypatch):
    """The race CI met with eight concurrent jobs: MLflow's store misses the dataset row, another
    job inserts it, and this job's insert breaks the UNIQUE constraint (rolled back). The retry must
    link the row instead of failing the job; any other error still fails at once."""
    from glifbench.tracking import mlflow_runs

    class RacingClient:
        def __init__(self, error):
            self.calls, self.error = 0, error

        def log_inputs(self, run_id, datasets):
            self.calls += 1
            if self.calls == 1:
                raise Exception(self.error)
            self.linked = [d.dataset.name for d in datasets]

    monkeypatch.setattr(mlflow_runs.time, "sleep", lambda s: None)
    run = mlflow_runs.JobRun.__new__(mlflow_runs.JobRun)
    run.run_id = "r"
    run.client = RacingClient("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, "
                              "datasets.name, datasets.digest")  # fmt: skip
    run.log_datasets({"arrays": "a.npz"}, {"arrays": "3f3806fd1b" + "0" * 54})
    assert run.client.calls == 2 and run.client.linked == ["arrays"]

    run.client = RacingClient("INVALID_PARAMETER_VALUE: dataset name too long")
    with pytest.raises(Exception, match="too long"):
        run.log_datasets({"arrays": "a.npz"}, {"arrays": "3f3806fd1b" + "0" * 54})
    assert run.client.calls == 1


def test_weights_are_stored_once_and_survive_snakemake_deleting_the_outputs(tmp_path, fsdd_file, caplog):
    """model.pt is a hard link to the checkpoint's last weights file (one copy on disk, none
    inside the checkpoint); deleting the run's outputs, as Snakemake does before a rerun, leaves
    a checkpoint that finishes the job without training; a changed weights file starts afresh."""
    data = {"arrays": str(fsdd_file)}
    first = train(spec(tmp_path, "fsdd", data, epochs=2))
    model = tmp_path / "run/model.pt"
    weights = sorted(tmp_path.glob("ckpt-e*.weights.pt"))
    assert [w.name for w in weights] == ["ckpt-e0002.weights.pt"]  # the epoch-1 file is gone
    assert model.stat().st_ino == weights[0].stat().st_ino
    assert "model" not in torch.load(tmp_path / "ckpt.pt", weights_only=False)
    before = model.read_bytes()
    for f in (tmp_path / "run").iterdir():
        f.unlink()
    caplog.set_level("INFO", logger="glifbench.train")
    again = train(spec(tmp_path, "fsdd", data, epochs=2))
    assert "resuming after epoch 2" in caplog.text and "epoch 1 {" not in caplog.text
    assert again["history"] == first["history"] and model.read_bytes() == before
    weights[0].write_bytes(before[:-1] + b"x")  # a damaged weights file: never trusted
    caplog.clear()
    train(spec(tmp_path, "fsdd", data, epochs=2))
    assert "weights file ckpt-e0002.weights.pt is missing or changed; starting afresh" in caplog.text
