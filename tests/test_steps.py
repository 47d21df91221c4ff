"""The training step: eager, or captured as a CUDA graph (``training.cuda_graphs``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import job_config

from glifbench.errors import TrainingError
from glifbench.training.steps import use_cuda_graphs
from glifbench.training.trainer import JobSpec, train

MODEL = {"channels": [4, 8], "hidden": 16, "mnist_steps": 4}
CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def fsdd(tmp_path_factory):
    """44 training recordings in batches of 8: 5 full batches (3 warm-up, 1 captured, 1 replayed)
    and a partial one (eager) per epoch."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("steps") / "fsdd.npz"
    arrays = {}
    for split, n in (("train", 44), ("val", 16), ("test", 16)):
        y = rng.integers(0, 10, n)
        arrays[f"x_{split}"] = rng.normal(size=(n, 12, 64)).astype(np.float32) + y[:, None, None] * 0.3
        arrays[f"y_{split}"] = y
    np.savez(path, **arrays)
    return {"arrays": str(path)}


def job(root: Path, data, device: str, graphs) -> JobSpec:
    cfg = job_config("fsdd", {"epochs": 3, "batch_size": 8, "lr": 0.01, "clip_norm": 0.05, "device": device,
                              "cuda_graphs": graphs}, MODEL)  # fmt: skip
    return JobSpec("fsdd", "CRNN", "LIF", 0, root / "run", root / "ckpt.pt", data, cfg)


def test_the_switch_resolves_per_device_and_refuses_graphs_without_cuda(tmp_path, fsdd):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert use_cuda_graphs("auto", cuda) and not use_cuda_graphs("auto", cpu)
    assert not use_cuda_graphs(False, cuda) and use_cuda_graphs(True, cuda)
    with pytest.raises(TrainingError, match="cuda_graphs: true needs a CUDA device"):
        use_cuda_graphs(True, cpu)
    with pytest.raises(TrainingError, match="cuda_graphs"):
        train(job(tmp_path, fsdd, "cpu", True))
    auto = train(job(tmp_path / "auto", fsdd, "cpu", "auto"))  # on CPU: the eager step, same numbers
    eager = train(job(tmp_path / "eager", fsdd, "cpu", False))
    assert [r["train_loss"] for r in auto["history"]] == [r["train_loss"] for r in eager["history"]]


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_a_captured_job_trains_as_the_eager_one(tmp_path, fsdd):
    eager = train(job(tmp_path / "eager", fsdd, "cuda", False))
    captured = train(job(tmp_path / "captured", fsdd, "cuda", True))
    for a, b in zip(eager["history"], captured["history"], strict=True):
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            assert b[key] == pytest.approx(a[key], abs=1e-4), key
    wa, wb = torch.load(tmp_path / "eager/run/model.pt"), torch.load(tmp_path / "captured/run/model.pt")
    for key in wa:
        torch.testing.assert_close(wb[key], wa[key], atol=1e-4, rtol=1e-3)
    resumed = train(job(tmp_path / "captured", fsdd, "cuda", True))  # a finished job: nothing to train
    assert resumed["history"] == captured["history"]
