"""The study stage: every (variant, task, unit) over seeds on validation data, and the paper's
claims checked per variant (docs/study.md).

Only ``metrics.csv`` (train and validation columns) of study runs is read: study jobs never
evaluate the test split, so no choice made from these tables has seen it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from glifbench.analysis.runs import final_epochs, load_metrics
from glifbench.figures.study import plot_study
from glifbench.layout import study_run_dir
from glifbench.tables import paper
from glifbench.tables.build import summarise, write_table
from glifbench.tables.claims import all_of, beats, learns
from glifbench.tasks import task as task_of


def study_metrics(runs_root: Path, study: Mapping[str, Any]) -> pd.DataFrame:
    """Every epoch of every study run, with a ``variant`` column."""
    frames = []
    for variant in study["variants"]:
        seeds = study["variants"][variant].get("seeds", study["seeds"])
        dirs = [study_run_dir(variant, t, u, s, str(runs_root)) for t in study["tasks"] for u in study["units"]
                for s in seeds]  # fmt: skip
        frame = load_metrics(dirs)
        frame.insert(0, "variant", variant)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summary_table(metrics: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """Mean, sd and n over seeds of each (variant, task, unit)'s last-epoch validation metric."""
    final = final_epochs(metrics, by=("variant", "task", "arch", "unit", "seed"))
    rows = []
    for variant in study["variants"]:
        for name in study["tasks"]:
            task = task_of(name)
            for unit in study["units"]:
                runs = final[(final.variant == variant) & (final.task == name) & (final.unit == unit)]
                stat = summarise(runs[f"val_{task.metric}"] * task.scale)
                rows.append({"variant": variant, "task": name, "unit": unit, "metric": f"validation {task.metric_label}",
                             "mean": stat["mean"], "sd": stat["sd"], "n": stat["n"],
                             "epochs": int(runs["epoch"].max()), "seeds": " ".join(map(str, sorted(runs.seed)))})  # fmt: skip
    return pd.DataFrame(rows)


def claims_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, task): does each of the paper's Table III claims hold on validation data?"""
    rows = []
    for (variant, name), group in summary.groupby(["variant", "task"], sort=False):
        task = task_of(name)
        stats = {r.unit: {"mean": r.mean, "sd": r.sd, "n": r.n} for r in group.itertuples()}
        integrators = [u for u in paper.INTEGRATORS if u in stats]
        others = [u for u in paper.NON_INTEGRATORS if u in stats]
        row = {"variant": variant, "task": name}
        row["integrators learn"] = all_of([learns(task, stats[u]) for u in integrators])
        row["integrators failing"] = " ".join(u for u in integrators if learns(task, stats[u]) == "no") or "-"
        if task.temporal:
            row["HBA, BA fail (every integrator beats them)"] = all_of(
                [beats(task, stats[i], stats[o]) for i in integrators for o in others])
        else:
            row["HBA, BA fail (every integrator beats them)"] = "n/a (not temporal)"
            row["HBA, BA learn (non-temporal task)"] = all_of([learns(task, stats[o]) for o in others])
        if integrators and others:
            sign = 1 if task.higher_is_better else -1
            worst = min(integrators, key=lambda u: sign * stats[u]["mean"])
            best = max(others, key=lambda u: sign * stats[u]["mean"])
            row["worst integrator"], row["best of HBA/BA"] = worst, best
            row["gap (worst integrator - best of HBA/BA)"] = sign * (stats[worst]["mean"] - stats[best]["mean"])
            ahead = sum(sign * (stats[i]["mean"] - stats[o]["mean"]) > 0 for i in integrators for o in others)
            row["pairs ahead (integrator, HBA/BA)"] = f"{ahead}/{len(integrators) * len(others)}"
        if "Real" in stats:
            row["Real learns"] = learns(task, stats["Real"])
        rows.append(row)
    return pd.DataFrame(rows)


def wide_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, variant), one column per unit: "mean ± sd (n)" -- the screen at a glance."""
    rows = []
    for (name, variant), group in summary.groupby(["task", "variant"], sort=False):
        digits = task_of(name).digits
        row = {"task": name, "variant": variant}
        row.update({r.unit: f"{r.mean:.{digits}f} ± {r.sd:.{digits}f} ({r.n})" for r in group.itertuples()})
        rows.append(row)
    return pd.DataFrame(rows)


def study_report(runs_root: Path, out: Path, study: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """summary.{csv,md,html}, claims.{csv,md,html} and study.png in ``out``."""
    metrics = study_metrics(runs_root, study)
    summary = summary_table(metrics, study)
    note = "validation data, last epoch, mean ± sd over each variant's seeds"
    write_table(summary, out / "summary", f"Study: validation metric per variant, task and unit -- {note}")
    write_table(wide_table(summary), out / "summary_wide", f"Study: validation metric, unit types side by side -- {note}")
    write_table(claims_table(summary), out / "claims", f"Study: the paper's claims per variant -- {note}")
    plot_study(summary, list(study["variants"]), out / "study.png", f"Study ({note})")

