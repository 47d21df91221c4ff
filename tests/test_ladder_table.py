"""docs/study/sot_ladder/table.py: the ladder's verdict rule, fixed before its runs (docs/study.md):
a run has left chance if its *last* epoch is below the line; a unit type learns a rung with at
least ``needed`` of ``seeds`` runs that did; with fewer runs, a verdict only once the seeds still
to run cannot change it. ``--against`` compares last epochs by the project's two-SE rule."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "study" / "sot_ladder" / "table.py"


def _load():
    spec = importlib.util.spec_from_file_location("ladder_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(root: Path, unit: str, seed: int, val: list[float]) -> None:
    folder = root / unit / f"seed{seed}"
    folder.mkdir(parents=True)
    rows = [f"{e},0.05,0.04,0.08,{v}" for e, v in enumerate(val, 1)]
    (folder / "config.json").write_text(json.dumps({"task": "sot", "arch": "CRNN", "unit": unit, "seed": seed}))
    (folder / "metrics.csv").write_text("\n".join(["epoch,activity_body.0,activity_body.1,train_loss,val_loss", *rows]) + "\n")


def test_the_rule_reads_the_last_epoch_and_counts_seeds(tmp_path):
    table = _load()
    for seed, val in enumerate([[0.08, 0.01], [0.08, 0.06], [0.08, 0.08]]):
        _run(tmp_path, "HBA", seed, val)  # 2 of 3 below 0.07: learns
    for seed, val in enumerate([[0.05, 0.08], [0.08, 0.06], [0.08, 0.08]]):
        _run(tmp_path, "LIF", seed, val)  # seed 0 dipped, then came back: 1 of 3
    for seed, val in enumerate([[0.01], [0.01]]):
        _run(tmp_path, "BLI", seed, val)  # two seeds only, both below: a third cannot undo it
    for seed, val in enumerate([[0.08], [0.09]]):
        _run(tmp_path, "BA", seed, val)  # two seeds only, both above: a third cannot make 2 of 3
    for seed, val in enumerate([[0.01], [0.09]]):
        _run(tmp_path, "BI", seed, val)  # split: the third decides
    _run(tmp_path, "IAF", 0, [0.01])  # one seed below: open
    result = table.verdicts(tmp_path)
    assert list(result) == ["LIF", "IAF", "BLI", "BI", "HBA", "BA"]  # the registry's order
    assert (result["HBA"]["left"], result["HBA"]["verdict"]) == (2, "yes")
    assert (result["LIF"]["left"], result["LIF"]["verdict"]) == (1, "no")
    assert (result["BLI"]["left"], result["BLI"]["verdict"]) == (2, "yes")
    assert (result["BA"]["left"], result["BA"]["verdict"]) == (0, "no")
    assert (result["BI"]["left"], result["BI"]["verdict"]) == (1, "no verdict")
    assert (result["IAF"]["left"], result["IAF"]["verdict"]) == (1, "no verdict")
    assert result["HBA"]["runs"][0]["activity"] == [5.0, 4.0]
    assert result["HBA"]["last"] == (pytest.approx(0.05), pytest.approx(0.0360555, rel=1e-5), 3)  # 0.01, 0.06, 0.08
    assert result["BLI"]["last"] == (0.01, 0.0, 2)


def test_against_compares_last_epochs_beyond_two_standard_errors(tmp_path):
    table = _load()
    ours, ref = tmp_path / "ours", tmp_path / "ref"
    for seed, last in enumerate([0.050, 0.052, 0.048]):
        _run(ours, "LIF", seed, [0.08, last])
        _run(ref, "LIF", seed, [0.08, last + 0.02])  # 0.02 higher, sd 0.002: far beyond 2 SE
        _run(ours, "BLI", seed, [0.08, last])
        _run(ref, "BLI", seed, [0.08, last + 0.001])  # within 2 SE
        _run(ref, "HBA", seed, [0.08, 0.05])
    _run(ours, "HBA", 0, [0.08, 0.03])
    mine, theirs = table.verdicts(ours), table.verdicts(ref)
    assert table.against(mine["LIF"], theirs["LIF"]).endswith(": lower")
    assert table.against(theirs["LIF"], mine["LIF"]).endswith(": higher")
    assert table.against(mine["BLI"], theirs["BLI"]).endswith(": not resolved")
    assert table.against(mine["HBA"], theirs["HBA"]).endswith(": 1 seed: not tested")
    assert table.against(mine["LIF"], None) == "n/a"
