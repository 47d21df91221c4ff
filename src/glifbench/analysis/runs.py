"""Reading the training jobs' outputs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from glifbench.errors import DataError


def run_dirs_missing(run_dirs: Iterable[str | Path], files: Iterable[str] = ("metrics.csv",)) -> list[str]:
    return [str(Path(d) / f) for d in run_dirs for f in files if not (Path(d) / f).is_file()]


def finished_runs(run_dirs: Iterable[str | Path], files: Iterable[str] = ("metrics.csv", "config.json")) -> list[str]:
    """The run folders that hold every one of ``files`` (a grid or study run in parts)."""
    files = tuple(files)
    return [str(d) for d in run_dirs if not run_dirs_missing([d], files)]


def _runs_with(run_dirs: Iterable[str | Path], name: str) -> list[tuple[Path, dict]]:
    """Each run folder with its ``config.json``; every folder must hold ``name`` and the config."""
    run_dirs = [Path(d) for d in run_dirs]
    missing = run_dirs_missing(run_dirs, (name, "config.json"))
    if missing:
        raise DataError(f"{len(missing)} run file(s) missing, e.g. {missing[:5]}")
    return [(d, json.loads((d / "config.json").read_text())) for d in run_dirs]


def load_metrics(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    """All epochs of all runs, with columns task, arch, unit, seed, epoch and the metrics."""
    frames = []
    for d, meta in _runs_with(run_dirs, "metrics.csv"):
        frame = pd.read_csv(Path(d) / "metrics.csv")
        if frame.empty:
            raise DataError(f"{Path(d) / 'metrics.csv'} has no epochs")
        frame.insert(0, "seed", meta["seed"])
        frame.insert(0, "unit", meta["unit"])
        frame.insert(0, "arch", meta["arch"])
        frame.insert(0, "task", meta["task"])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def final_epochs(metrics: pd.DataFrame, by: tuple[str, ...] = ("task", "arch", "unit", "seed")) -> pd.DataFrame:
    """The last epoch of every run (the paper reports performance at the end of training)."""
    last = metrics.groupby(list(by))["epoch"].transform("max")
    return metrics[metrics["epoch"] == last].reset_index(drop=True)


def load_tests(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    """Each run's final evaluation (``test.json``): task, arch, unit, seed, split, loss, accuracy."""
    rows = []
    for d, meta in _runs_with(run_dirs, "test.json"):
        test = json.loads((Path(d) / "test.json").read_text())
        rows.append({key: meta[key] for key in ("task", "arch", "unit", "seed")} | test)
    return pd.DataFrame(rows)
