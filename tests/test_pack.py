"""Many models in one process: a pack of seeds trains as its jobs would alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import assert_weights_close, job_config, write_fsdd_like
from torch.func import vmap

from glifbench.data.backgrounds import builtin_image
from glifbench.data.sot_store import shard_seed, write_index, write_shard
from glifbench.errors import TrainingError
from glifbench.training.pack import train_pack
from glifbench.training.packable import PACKABLE_SURROGATES, pack_problem
from glifbench.training.trainer import TIMING_COLUMNS, JobSpec, train
from glifbench.units.surrogates import METHODS, sign_ste, spike_fn

MODEL = {"channels": [4, 8], "hidden": 16, "sot_readout": "softargmax", "mnist_steps": 4}
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Tiny FSDD-like arrays (44 training recordings: the last batch of 8 is partial) and SOT shards."""
    root = tmp_path_factory.mktemp("pack")
    write_fsdd_like(root / "fsdd.npz", n_train=44)
    rng = np.random.default_rng(0)
    images = {}
    for split, n in (("train", 36), ("val", 12), ("test", 12)):
        y = rng.integers(0, 10, n)
        images[f"x_{split}"] = (rng.random((n, 28, 28)) * 120 + y[:, None, None] * 12).astype(np.uint8)
        images[f"y_{split}"] = y
    np.savez(root / "mnist.npz", **images)
    stack = builtin_image("grass")[None]
    sot, uneven = {}, {}
    for split in ("train", "val"):
        shards = [write_shard(root / f"{split}{k}.npz", stack, 6, shard_seed(0, split, k), {"n_frames": 5})
                  for k in range(2)]  # fmt: skip
        write_index(root / f"{split}.json", shards, split)
        sot[split] = str(root / f"{split}.json")
        small = write_shard(root / f"{split}-small.npz", stack, 4, shard_seed(0, split, 9), {"n_frames": 5})
        write_index(root / f"{split}-uneven.json", [shards[0], small], split)
        uneven[split] = str(root / f"{split}-uneven.json")
    return {"fsdd": {"arrays": str(root / "fsdd.npz")}, "mnist": {"arrays": str(root / "mnist.npz")}, "sot": sot,
            "uneven": uneven}  # fmt: skip


def specs(root: Path, task, data, unit, seeds=SEEDS, epochs=3, arch="CRNN", device="cpu", **settings):
    # clip_norm small enough to clip every step: per-model clipping is part of what is compared
    cfg = job_config(task, {"epochs": epochs, "batch_size": 8, "lr": 0.01, "clip_norm": 0.05, "device": device,
                            **settings}, MODEL)  # fmt: skip
    return [JobSpec(task, arch, unit, seed, root / f"run{seed}", root / f"seed{seed}.pt", data[task], cfg)
            for seed in seeds]  # fmt: skip


def assert_same_training(alone: list[dict], packed: list[dict], root_alone: Path, root_packed: Path, seeds=SEEDS):
    """Histories (losses, accuracies) and final weights equal to float tolerance; activity (a
    threshold count) may flip by a unit at a boundary, and with it a few weights' updates."""
    for a, b in zip(alone, packed, strict=True):
        assert len(a["history"]) == len(b["history"])
        for row_a, row_b in zip(a["history"], b["history"]):
            for key, value in row_a.items():
                if key in TIMING_COLUMNS:  # how the epoch ran, not what it computed
                    continue
                tolerance = 0.02 if key.startswith("activity") else 1e-4
                assert row_b[key] == pytest.approx(value, abs=tolerance), key
        if a["test"] is not None:
            assert b["test"]["loss"] == pytest.approx(a["test"]["loss"], abs=1e-4)
    for seed in seeds:
        wa = torch.load(root_alone / f"run{seed}/model.pt")
        wb = torch.load(root_packed / f"run{seed}/model.pt")
        # the soft-argmax's bias shifts every logit alike: softmax ignores it, its gradient is
        # rounding noise (1e-8) that Adam scales to steps of lr either way -- in both runs alike
        assert_weights_close(wa, wb, skip=("readout.softargmax.score.bias",))


@pytest.mark.parametrize(("task", "unit"), [("fsdd", "LIF"), ("fsdd", "BA"), ("fsdd", "Real"), ("sot", "BLI"),
                                            ("mnist", "LIF")])  # fmt: skip
def test_a_pack_trains_as_its_jobs_would_alone(tmp_path, data, task, unit):
    epochs = 3 if task == "fsdd" else 2
    alone = [train(spec) for spec in specs(tmp_path / "alone", task, data, unit, epochs=epochs)]
    packed = train_pack(specs(tmp_path / "packed", task, data, unit, epochs=epochs))
    assert_same_training(alone, packed, tmp_path / "alone", tmp_path / "packed")
    assert [r["history"][-1] for r in packed] != [packed[0]["history"][-1]] * 3  # the seeds differ
    for seed in SEEDS:  # every job's own outputs and checkpoint
        assert (tmp_path / f"packed/run{seed}/metrics.csv").is_file()
        assert (tmp_path / f"packed/seed{seed}.pt").is_file()
        saved = json.loads((tmp_path / f"packed/run{seed}/config.json").read_text())
        assert saved["seed"] == seed and saved["job"] == f"{task}-CRNN-{unit}-s{seed}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("task", "unit"), [("fsdd", "LIF"), ("sot", "BLI")])
@pytest.mark.parametrize("graphs", [False, True])
def test_a_pack_on_cuda_trains_as_its_jobs_would_alone(tmp_path, data, task, unit, graphs):
    """Eager, and captured (the pack's whole step one CUDA graph, recaptured every epoch) against
    its jobs alone, captured or not alike. FSDD: 5 full batches and a short one per epoch (3
    warm-up steps, the capture, a replay, the short one eager); SOT: one full batch (never
    captured) and a short one."""
    settings = {"epochs": 2, "device": "cuda", "cuda_graphs": graphs}
    alone = [train(spec) for spec in specs(tmp_path / "alone", task, data, unit, **settings)]
    packed = train_pack(specs(tmp_path / "packed", task, data, unit, **settings))
    assert_same_training(alone, packed, tmp_path / "alone", tmp_path / "packed")
    captured = int(graphs and task == "fsdd")
    assert [row["captured"] for result in packed for row in result["history"]] == [captured] * 2 * len(SEEDS)


def test_a_pack_continues_checkpoints_of_any_epoch_and_leaves_ones_a_job_continues_alone(tmp_path, data):
    alone = [train(spec) for spec in specs(tmp_path / "alone", "fsdd", data, "LIF", seeds=(0, 1), epochs=3)]
    root = tmp_path / "mixed"
    train(specs(root, "fsdd", data, "LIF", seeds=(0,), epochs=1)[0])  # seed 0 one epoch ahead
    train_pack(specs(root, "fsdd", data, "LIF", seeds=(0, 1), epochs=2))  # seed 1 catches up, then the pack
    last = [train(spec) for spec in specs(root, "fsdd", data, "LIF", seeds=(0, 1), epochs=3)]  # alone again
    assert_same_training(alone, last, tmp_path / "alone", root, seeds=(0, 1))


def test_a_broken_loss_stops_its_pack_before_any_checkpoint(tmp_path, data):
    jobs = specs(tmp_path, "fsdd", data, "LIF", seeds=(0, 1), epochs=1, input_mean=float("nan"))
    with pytest.raises(TrainingError, match=r"fsdd-CRNN-LIF-s0: loss is nan; fsdd-CRNN-LIF-s1: loss is nan "
                                            r"\(training\): it stops its whole pack"):  # fmt: skip
        train_pack(jobs)
    assert not any(tmp_path.glob("seed*.pt")) and not any(tmp_path.glob("run*/metrics.csv"))


def test_what_cannot_be_packed_is_refused_with_the_reason(tmp_path, data):
    assert "GRU" in pack_problem("CNN-RNN", {})
    assert "vmap" in pack_problem("CRNN", {"surrogate": "super"})
    assert pack_problem("CRNN", {"surrogate": "sigmoid"}) is None
    one = specs(tmp_path, "fsdd", data, "LIF", seeds=(0,))
    with pytest.raises(TrainingError, match="CNN-RNN"):
        train_pack(specs(tmp_path, "fsdd", data, "Real", seeds=(0, 1), arch="CNN-RNN"))
    with pytest.raises(TrainingError, match="differ in more than the seed"):
        train_pack(one + specs(tmp_path, "fsdd", data, "BLI", seeds=(1,)))
    with pytest.raises(TrainingError, match="distinct seeds"):
        train_pack(one + one)
    with pytest.raises(TrainingError, match="at least two"):
        train_pack(one)
    uneven = [JobSpec("sot", "CRNN", "BLI", seed, tmp_path / f"u{seed}", tmp_path / f"u{seed}.pt", data["uneven"],
                      specs(tmp_path, "sot", data, "BLI")[0].config) for seed in (0, 1)]  # fmt: skip
    with pytest.raises(TrainingError, match="shards differ in size"):
        train_pack(uneven)


@pytest.mark.parametrize("method", METHODS)
def test_packable_surrogates_are_exactly_those_vmap_batches(method):
    """The torch-free list the workflow reads agrees with the Functions; under vmap their
    surrogate gradients equal the eager ones."""
    x = torch.linspace(-2, 2, 24).view(3, 8).requires_grad_()
    try:
        batched = vmap(lambda row: spike_fn(row, method, 5.0))(x)
    except RuntimeError:
        assert method not in PACKABLE_SURROGATES
        return
    assert method in PACKABLE_SURROGATES
    (grad_batched,) = torch.autograd.grad(batched.sum(), x)
    (grad_eager,) = torch.autograd.grad(spike_fn(x, method, 5.0).sum(), x)
    torch.testing.assert_close(grad_batched, grad_eager, rtol=0, atol=0)
    (ste_batched,) = torch.autograd.grad(vmap(sign_ste)(x).sum(), x)
    (ste_eager,) = torch.autograd.grad(sign_ste(x).sum(), x)
    torch.testing.assert_close(ste_batched, ste_eager, rtol=0, atol=0)


def test_the_command_trains_a_pack_with_one_mlflow_run_per_job(tmp_path, data):
    cfg = job_config("fsdd", {"epochs": 1, "batch_size": 8}, MODEL)
    init = subprocess.run([sys.executable, "-m", "glifbench", "mlflow-init", "--name", "test", "--results",
                           str(tmp_path / "results"), "--out", str(tmp_path / "experiment.json")],
                          capture_output=True, text=True)  # fmt: skip
    assert init.returncode == 0, init.stderr
    args = [sys.executable, "-m", "glifbench", "train", "--task", "fsdd", "--arch", "CRNN", "--unit", "BLI",
            "--seed", "0", "1", "--data", json.dumps(data["fsdd"]), "--config", json.dumps(cfg),
            "--experiment", str(tmp_path / "experiment.json")]  # fmt: skip
    bad = subprocess.run([*args, "--out-dir", str(tmp_path / "run"), "--checkpoint", str(tmp_path / "c{seed}.pt")],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and "--out-dir" in bad.stderr and "{seed}" in bad.stderr
    gru = [a if a != "CRNN" else "CNN-RNN" for a in args]
    refused = subprocess.run([*gru, "--out-dir", str(tmp_path / "g{seed}"), "--checkpoint", str(tmp_path / "g{seed}.pt")],
                             capture_output=True, text=True)  # fmt: skip
    assert refused.returncode == 1 and "GRU" in refused.stderr
    done = subprocess.run([*args, "--out-dir", str(tmp_path / "run{seed}"), "--checkpoint", str(tmp_path / "c{seed}.pt")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    from mlflow.tracking import MlflowClient

    info = json.loads((tmp_path / "experiment.json").read_text())
    client = MlflowClient(info["tracking_uri"])
    runs = client.search_runs([info["experiment_id"]])  # none of the refused pack's
    assert sorted(r.info.run_name for r in runs) == ["fsdd-CRNN-BLI-s0", "fsdd-CRNN-BLI-s1"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.tags["glifbench.pack"] for r in runs} == {"fsdd-CRNN-BLI-s0,fsdd-CRNN-BLI-s1"}
    for seed in (0, 1):
        assert (tmp_path / f"run{seed}/test.json").is_file() and (tmp_path / f"c{seed}.pt").is_file()
        timing = (tmp_path / f"run{seed}/timing.csv").read_text().splitlines()
        assert dict(zip(timing[0].split(","), timing[1].split(",")))["pack_size"] == "2"
