"""Cost per unit type: synaptic operations, sparsity and state counted exactly on small cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import job_config
from torch import nn

from glifbench.models import build_network
from glifbench.models.cost import CostMeter, conv_ops, is_ternary, parameter_bits

MODEL = {"channels": [4, 8], "hidden": 16}


def test_conv_ops_count_receptive_fields_and_skip_zeros():
    conv = nn.Conv1d(1, 2, 3, padding=1, bias=False)
    x = torch.tensor([[[0.0, 1.0, 0.0, 0.0]]])
    effective, dense = conv_ops(conv, x)
    assert effective == 3 * 2  # the one non-zero input reaches 3 output positions, 2 channels each
    assert dense == (2 + 3 + 3 + 2) * 2  # border positions see 2 taps inside the padding
    conv2 = nn.Conv2d(3, 5, 3, padding=1)
    x2 = torch.zeros(1, 3, 6, 6)
    x2[0, 1, 2, 2] = -1.0  # interior: 9 output positions
    # dense: each output position sees 2 or 3 valid rows and columns: (2+3+3+3+3+2)^2 taps, x 3 in, x 5 out
    assert conv_ops(conv2, x2) == (9 * 5, 16 * 16 * 3 * 5)


def test_accumulates_for_spikes_and_signs_multiplies_otherwise():
    assert is_ternary(torch.tensor([0.0, 1.0, -1.0])) and not is_ternary(torch.tensor([0.0, 0.5]))
    net = nn.Sequential(nn.Linear(4, 3))
    with CostMeter(net) as meter:
        net(torch.tensor([[0.0, 1.0, 1.0, 0.0]]))
        net(torch.tensor([[0.5, 0.0, 0.0, 0.0]]))
    assert meter.ops() == {"ac": 2 * 3, "mac": 1 * 3, "dense": 2 * 4 * 3}


def _fsdd_batch(n=5, steps=12):
    return torch.randn(steps, n, 64)


@pytest.mark.parametrize(("unit", "per_conv_unit", "per_hidden_unit"), [
    ("LIF", 32 + 1, 32), ("HLIF", 32 + 32 + 1, 64), ("HBA", 32 + 1, 32), ("BA", 1, 0), ("Real", 32, 0),
])  # fmt: skip
def test_state_bits_per_unit_type(unit, per_conv_unit, per_hidden_unit):
    net = build_network("fsdd", "CRNN", unit, channels=(4, 8), hidden=16, init_gain=4.0).eval()
    with torch.no_grad(), CostMeter(net) as meter:
        net(_fsdd_batch())
    conv_units = (4 + 8) * 64  # channels x frequency bins of the two recurrent convolutions
    assert meter.state_bits() == conv_units * per_conv_unit + 16 * per_hidden_unit
    assert parameter_bits(net) == 32 * sum(p.numel() for p in net.parameters())


def test_binary_networks_accumulate_and_skip_their_zeros():
    x = _fsdd_batch()
    costs = {}
    for unit in ("LIF", "BA", "Real"):
        net = build_network("fsdd", "CRNN", unit, channels=(4, 8), hidden=16, init_gain=4.0).eval()
        with torch.no_grad(), CostMeter(net) as meter:
            net(x)
        costs[unit] = (meter.ops(), meter.sparsity())
    lif, ba, real = (costs[u][0] for u in ("LIF", "BA", "Real"))
    assert lif["ac"] > 0 and lif["ac"] + lif["mac"] < lif["dense"]  # spikes: zeros skipped
    assert ba["ac"] > 0 and costs["BA"][1]["network"] == 0.0  # signs are never zero
    assert real["ac"] == 0  # real-valued: multiply-accumulates only
    assert lif["dense"] == ba["dense"] == real["dense"]  # the same layers
    assert 0 < costs["LIF"][1]["network"] < 1


def test_cost_report_from_trained_runs(tmp_path):
    from glifbench.analysis.cost import cost_report
    from glifbench.training.trainer import JobSpec, train

    rng = np.random.default_rng(0)
    data = tmp_path / "fsdd.npz"
    arrays = {}
    for split, n in (("train", 16), ("val", 12), ("test", 8)):
        arrays[f"x_{split}"] = rng.normal(size=(n, 10, 64)).astype(np.float32)
        arrays[f"y_{split}"] = rng.integers(0, 10, n)
    np.savez(data, **arrays)
    for unit in ("LIF", "BA"):
        for seed in (0, 1):
            run = tmp_path / "runs" / "fsdd" / "CRNN" / unit / f"seed{seed}"
            cfg = job_config("fsdd", {"epochs": 1, "batch_size": 8}, MODEL)
            train(JobSpec("fsdd", "CRNN", unit, seed, run, tmp_path / f"{unit}{seed}.pt", {"arrays": str(data)}, cfg))
    table = cost_report(tmp_path / "runs", tmp_path / "out", tmp_path / "cost.png", ["fsdd"], ["LIF", "BA"], [0, 1], 10)
    assert list(table.unit) == ["LIF", "BA"] and set(table.n) == {2}
    per_run = pd.read_csv(tmp_path / "out/cost_runs.csv")
    assert set(per_run.trials) == {10}  # max_trials validation trials, never the test split
    lif = table.set_index("unit").loc["LIF"]
    test = [json.loads((tmp_path / f"runs/fsdd/CRNN/LIF/seed{s}/test.json").read_text())["accuracy"] for s in (0, 1)]
    assert lif["metric"] == pytest.approx(100 * np.mean(test))
    assert lif["state (bits)"] == (4 + 8) * 64 * 33 + 16 * 32
    assert (tmp_path / "cost.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "out/cost.md").is_file()


@pytest.mark.parametrize(("args", "named"), [
    (["--max-trials", "0"], "argument --max-trials: expected a positive integer or null, got '0'"),
    (["--max-trials", "null", "--grid", "[1]"], "argument --grid: must be a JSON object"),
])  # fmt: skip
def test_command_line_errors_name_the_option(args, named):
    import subprocess
    import sys

    base = ["--out", "o", "--figures", "f", "--grid", "{}", "--seeds", "{}", "--meta", "{}"]
    proc = subprocess.run([sys.executable, "-m", "glifbench", "cost", *base, *args], capture_output=True, text=True)
    assert proc.returncode == 2 and named in proc.stderr
