"""The benchmark scripts run with the arguments benchmarks/gpu_check.sh gives them (not timed:
their figures are for docs/performance.md; here only that each mode runs and reports its keys)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "training_step.py"


@pytest.fixture(scope="module")
def training_step():
    spec = importlib.util.spec_from_file_location("training_step_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layout_mode_builds_each_task_with_its_own_readout(training_step):
    """gpu_check.sh's layout part asks for the soft-argmax readout with MNIST among its tasks: it
    applies to SOT only (an H100 run stopped on this, 2026-11-26)."""
    rows = training_step.main(["--layout", "--tasks", "mnist", "--sot-readout", "softargmax", "--units", "BA",
                               "--threads", "1", "--repeats", "1"])  # fmt: skip
    assert [(row["task"], row["sot_readout"]) for row in rows] == [("mnist", None)]
    assert rows[0]["contiguous_trials_per_s"] > 0 and rows[0]["channels_last_trials_per_s"] > 0
