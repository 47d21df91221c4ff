"""The grid of training jobs the paper's tables and figures need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIG5 = (("sot", "CNN", "BA"), ("sot", "CRNN", "BA"), ("sot", "CRNN", "LIF"))  # BCNN, BCRNN, SCRNN


def job_grid(grid: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(task, arch, unit)`` of every job, without duplicates, in table order.

    Table I: SOT x ``table1`` architectures with real units. Table III: ``table3_tasks`` x CRNN x
    ``table3_units`` plus the real CNN-RNN baseline per task. Fig. 5: BCNN, BCRNN, SCRNN on SOT.
    """
    jobs = [("sot", arch, "Real") for arch in grid.get("table1", [])]
    for task in grid.get("table3_tasks", []):
        jobs += [(task, "CRNN", unit) for unit in grid.get("table3_units", [])]
        jobs.append((task, "CNN-RNN", "Real"))
    if grid.get("fig5"):
        jobs += list(FIG5)
    return list(dict.fromkeys(jobs))


def run_dir(task: str, arch: str, unit: str, seed: int, root: str = "results/runs") -> str:
    return f"{root}/{task}/{arch}/{unit}/seed{seed}"
