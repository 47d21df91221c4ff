"""docs/study/sot_ladder/table.py: the ladder's verdict rule, fixed before its runs (docs/study.md):
a run has left chance if its *last* epoch is below the line; a unit type learns a rung with at
least ``needed`` of ``seeds`` runs that did, and gets no verdict with fewer runs."""

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
        _run(tmp_path, "BLI", seed, val)  # two seeds only
    result = table.verdicts(tmp_path)
    assert list(result) == ["LIF", "BLI", "HBA"]  # the registry's order
    assert (result["HBA"]["left"], result["HBA"]["verdict"]) == (2, "yes")
    assert (result["LIF"]["left"], result["LIF"]["verdict"]) == (1, "no")
    assert (result["BLI"]["left"], result["BLI"]["verdict"]) == (2, "no verdict")
    assert result["HBA"]["runs"][0]["activity"] == [5.0, 4.0]
    assert result["HBA"]["last"] == (pytest.approx(0.05), pytest.approx(0.0360555, rel=1e-5), 3)  # 0.01, 0.06, 0.08
    assert result["BLI"]["last"] == (0.01, 0.0, 2)
