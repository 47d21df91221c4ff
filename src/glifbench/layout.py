"""Where everything lies: the grid of training jobs, run folders and the files of a run.

A neutral room (no torch, no Snakemake): the workflow, the training jobs and the analysis all read
it, so a run's path or file list is defined once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fig. 5 of the paper: label, task, architecture, unit
FIG5 = (("BCNN (CNN, BA)", "sot", "CNN", "BA"), ("BCRNN (CRNN, BA)", "sot", "CRNN", "BA"),
        ("SCRNN (CRNN, LIF)", "sot", "CRNN", "LIF"))  # fmt: skip

# The analysis in parts, each a rule of its own that reads only the runs it shows
TABLE_PARTS = ("table1", "table3", "fig5")  # `glifbench tables --part`: Table I + Fig. 3, Table III, Fig. 5
WEIGHT_PARTS = ("autapses", "amplitude", "activity")  # `glifbench weights --part`: + Fig. 7, amplitude, activity

RUN_FILES = ("metrics.csv", "timing.csv", "model.pt", "activity.json", "config.json")  # every run
TEST_FILE = "test.json"  # runs of the main grid also evaluate the test split once, at the end
RUNS = "results/runs"
STUDY_RUNS = "results/study/runs"
STUDY_ARCH = "CRNN"  # the study varies constants of the Table III networks


def job_grid(grid: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(task, arch, unit)`` of every job, without duplicates, in table order.

    Table I: SOT x ``table1`` architectures with real units. Table III: ``table3_tasks`` x CRNN x
    ``table3_units`` plus the real CNN-RNN baseline per task. Fig. 5: BCNN, BCRNN, SCRNN on SOT.
    """
    jobs = [("sot", arch, "Real") for arch in grid["table1"]]
    for task in grid["table3_tasks"]:
        jobs += [(task, "CRNN", unit) for unit in grid["table3_units"]]
        jobs.append((task, "CNN-RNN", "Real"))
    if grid["fig5"]:
        jobs += [tuple(job) for _, *job in FIG5]
    return list(dict.fromkeys(jobs))


def part_jobs(part: str, grid: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(task, arch, unit)`` of the runs an analysis part shows (none where the grid leaves the
    part out): ``table1``, ``table3`` (with the CNN-RNN baselines), ``fig5``; ``autapses`` (the
    LIF and BLI CRNNs), ``amplitude``, ``activity`` and ``cost`` (every Table III CRNN)."""
    tasks, units = grid["table3_tasks"], grid["table3_units"]
    if part == "table1":
        return job_grid({**grid, "table3_tasks": [], "fig5": False})
    if part == "fig5":
        return job_grid({**grid, "table1": [], "table3_tasks": []})
    if not (tasks and units):
        return []
    if part == "table3":
        return job_grid({**grid, "table1": [], "fig5": False})
    if part == "autapses":
        return [(t, "CRNN", u) for t in tasks for u in ("LIF", "BLI")] if {"LIF", "BLI"} <= set(units) else []
    if part in ("amplitude", "activity", "cost"):
        return [(t, "CRNN", u) for t in tasks for u in units]
    raise ValueError(f"unknown analysis part {part!r}")


def run_dir(task: str, arch: str, unit: str, seed: int | str, root: str = RUNS) -> str:
    """The folder of one run of the main grid."""
    return f"{root}/{task}/{arch}/{unit}/seed{seed}"


def study_run_dir(variant: str, task: str, unit: str, seed: int | str, root: str = STUDY_RUNS) -> str:
    """The folder of one run of a study variant."""
    return run_dir(task, STUDY_ARCH, unit, seed, f"{root}/{variant}")
