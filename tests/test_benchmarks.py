"""The benchmark scripts run with the arguments benchmarks/gpu_check.sh gives them (not timed:
their figures are for docs/performance.md; here only that each mode runs and reports its keys)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def training_step():
    return load("training_step")


def test_the_layout_mode_builds_each_task_with_its_own_readout(training_step):
    """gpu_check.sh's layout part asks for the soft-argmax readout with MNIST among its tasks: it
    applies to SOT only (an H100 run stopped on this, 2026-11-26)."""
    rows = training_step.main(["--layout", "--tasks", "mnist", "--sot-readout", "softargmax", "--units", "BA",
                               "--threads", "1", "--repeats", "1"])  # fmt: skip
    assert [(row["task"], row["sot_readout"]) for row in rows] == [("mnist", None)]
    assert rows[0]["contiguous_trials_per_s"] > 0 and rows[0]["channels_last_trials_per_s"] > 0


def test_the_sharing_benchmark_reports_where_mps_is_unavailable_and_measures_the_rest():
    """gpu_sharing.py's MPS mode needs a CUDA device and the MPS control program: without them
    its row names the reason and the other modes still run (here: the threads mode on a CPU)."""
    rows = load("gpu_sharing").main(["--device", "cpu", "--task", "mnist", "--unit", "BA", "--ways", "1", "2",
                                     "--modes", "mps", "streams", "--seconds", "0.3"])  # fmt: skip
    assert [(row["mode"], row["models"]) for row in rows] == [("mps", 1), ("streams", 1), ("streams", 2)]
    assert "--device cuda" in rows[0]["error"] and "trials_per_s_aggregate" not in rows[0]
    assert all(row["trials_per_s_aggregate"] > 0 for row in rows[1:])


def test_the_sharing_benchmark_steps_packs_of_models_per_way():
    """--pack K: each way (a process, or a thread on its own stream) trains K models as one pack,
    and the rates count all of them."""
    sharing = load("gpu_sharing")
    rows = sharing.main(["--device", "cpu", "--task", "fsdd", "--unit", "LIF", "--ways", "1", "2", "--pack", "2",
                         "--modes", "streams", "--seconds", "0.3"])  # fmt: skip
    # a worker process builds its pack from the options it is given (one way; a generous start:
    # a late worker is an error)
    rows += sharing.main(["--device", "cpu", "--task", "fsdd", "--unit", "LIF", "--ways", "1", "--pack", "2",
                          "--modes", "processes", "--seconds", "0.3", "--startup", "45"])  # fmt: skip
    assert [(row["mode"], row["ways"], row["models"]) for row in rows] == [
        ("streams", 1, 2), ("streams", 2, 4), ("processes", 1, 2)]
    assert all(row["pack"] == 2 and row["trials_per_s_aggregate"] > 0 for row in rows)
    assert all(row["trials_per_s_per_model"] * row["models"] == pytest.approx(row["trials_per_s_aggregate"], rel=0.01)
               for row in rows)  # fmt: skip
    with pytest.raises(SystemExit):
        sharing.main(["--device", "cpu", "--pack", "0"])


def test_the_pack_mode_times_k_models_each_built_as_its_own_job_would_be(training_step):
    """--pack K: K models of one network (seeds 0..K-1, each with its own batch) stepped one after
    the other against the same K as one pack; gpu_sharing.py's packs come from the same helper."""
    rows = training_step.main(["--pack", "2", "--tasks", "mnist", "--units", "BA", "--threads", "1", "--repeats", "1"])
    assert [(row["task"], row["unit"], row["models"]) for row in rows] == [("mnist", "BA", 2)]
    assert rows[0]["separate_trials_per_s_per_model"] > 0 and rows[0]["packed_over_separate"] > 0
    _, nets, _, batches = training_step.ready_pack("mnist", "BA", [3, 4], "cpu")
    alone = training_step.bench_network("mnist", "BA", 4, n_steps=20)
    for name, value in alone.state_dict().items():
        assert nets[1].state_dict()[name].equal(value), name
    assert any(not a.equal(b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))  # two seeds, two models
    assert batches[1][0].equal(training_step._batch("mnist", 64, 20, seed=4)[0])
    assert not batches[0][0].equal(batches[1][0])
