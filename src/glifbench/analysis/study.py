"""The study stage: every (variant, task, unit) over seeds on validation data, and the paper's
claims checked per variant (docs/study.md).

Only ``metrics.csv`` (train and validation columns) of study runs is read: study jobs never
evaluate the test split, so no choice made from these tables has seen it (a cell whose job is
the main grid's reads that grid run's validation metrics too; its ``test.json`` is not read).

A study run in parts (over sessions, on several machines) can be summarised before it is
complete with ``partial=True``: the runs that exist are read, a missing cell shows as "-", every
title says how many of the planned runs there are, and a claim whose unit types are not all
there reads "incomplete" instead of a verdict drawn from the units that happen to be done.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from glifbench.analysis.runs import final_epochs, finished_runs, load_metrics
from glifbench.errors import DataError
from glifbench.figures.study import plot_study
from glifbench.layout import RUNS
from glifbench.study_plan import cell_run_dir, runs_of
from glifbench.tables import paper
from glifbench.tables.build import summarise, write_table
from glifbench.tables.claims import all_of, beats, learns
from glifbench.tasks import task as task_of


def planned_runs(runs_root: Path, study: Mapping[str, Any], grid_root: Path = Path(RUNS)) -> dict[str, list[str]]:
    """Every study run's folder, per variant (its seeds, or the study's); where a variant's job
    repeats an earlier variant's or the main grid's (the study file's ``repeats``,
    ``glifbench.study_plan``), that run's folder (the grid's under ``grid_root``)."""
    repeats = study.get("repeats", {})
    return {variant: [cell_run_dir(repeats, variant, t, u, s, str(runs_root), str(grid_root)) for t in study["tasks"]
                      for u in study["units"] for s in study["variants"][variant].get("seeds", study["seeds"])]
            for variant in study["variants"]}  # fmt: skip


def study_metrics(runs_root: Path, study: Mapping[str, Any], partial: bool = False,
                  grid_root: Path = Path(RUNS)) -> pd.DataFrame:  # fmt: skip
    """Every epoch of every study run, with a ``variant`` column; with ``partial`` only the runs
    that are there (``metrics.csv`` and ``config.json``), at least one."""
    frames = []
    for variant, dirs in planned_runs(runs_root, study, grid_root).items():
        if partial:
            dirs = finished_runs(dirs)
            if not dirs:
                continue
        frame = load_metrics(dirs)
        frame.insert(0, "variant", variant)
        frames.append(frame)
    if not frames:
        raise DataError(f"no study run is finished under {runs_root} (nor, for the grid's cells, {grid_root})")
    return pd.concat(frames, ignore_index=True)


def summary_table(metrics: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """Mean, sd and n over seeds of each (variant, task, unit)'s last-epoch validation metric
    (a cell without runs, in a partial study, is left out); ``runs_of``: whose runs they are
    (the variant, an earlier one or ``@grid`` where its job would repeat theirs, ``planned_runs``)."""
    final = final_epochs(metrics, by=("variant", "task", "arch", "unit", "seed"))
    repeats, rows = study.get("repeats", {}), []
    for variant in study["variants"]:
        for name in study["tasks"]:
            task = task_of(name)
            for unit in study["units"]:
                runs = final[(final.variant == variant) & (final.task == name) & (final.unit == unit)]
                if runs.empty:
                    continue
                stat = summarise(runs[f"val_{task.metric}"] * task.scale)
                rows.append({"variant": variant, "task": name, "unit": unit, "metric": f"validation {task.metric_label}",
                             "mean": stat["mean"], "sd": stat["sd"], "n": stat["n"],
                             "epochs": int(runs["epoch"].max()), "seeds": " ".join(map(str, sorted(runs.seed))),
                             "runs_of": runs_of(repeats, variant, name, unit)})  # fmt: skip
    return pd.DataFrame(rows)


def unit_groups(present: Collection[str]) -> tuple[list[str], list[str]]:
    """The paper's integrating unit types and HBA/BA (``paper.INTEGRATORS``,
    ``paper.NON_INTEGRATORS``) among ``present``, in the paper's order."""
    return [u for u in paper.INTEGRATORS if u in present], [u for u in paper.NON_INTEGRATORS if u in present]


def integrator_split(values: Mapping[str, float], higher_is_better: bool = True) -> dict[str, Any]:
    """The study's split score of one value per unit type (a mean over seeds, or one seed's run):
    with ``s`` = +1 where higher is better (else -1), the worst integrator ``w`` (lowest ``s v``),
    the best of HBA/BA ``b``, ``gap = s (v_w - v_b)`` and how many of the (integrator, HBA/BA)
    ``pairs`` the integrator is ahead in (``ahead``). Unit types absent from ``values`` are left out."""
    sign = 1 if higher_is_better else -1
    integrators, others = unit_groups(values)
    worst = min(integrators, key=lambda u: sign * values[u])
    best = max(others, key=lambda u: sign * values[u])
    ahead = sum(sign * (values[i] - values[o]) > 0 for i in integrators for o in others)
    return {"worst": worst, "best": best, "gap": sign * (values[worst] - values[best]), "ahead": ahead,
            "pairs": len(integrators) * len(others)}  # fmt: skip


def claims_table(summary: pd.DataFrame, units: Sequence[str]) -> pd.DataFrame:
    """Per (variant, task): does each of the paper's Table III claims hold on validation data?
    A (variant, task) that lacks any of the study's ``units`` (a partial study) says "incomplete"."""
    rows = []
    for (variant, name), group in summary.groupby(["variant", "task"], sort=False):
        task = task_of(name)
        stats = {r.unit: {"mean": r.mean, "sd": r.sd, "n": r.n} for r in group.itertuples()}
        missing = [u for u in units if u not in stats]
        if missing:
            rows.append({"variant": variant, "task": name,
                         "integrators learn": f"incomplete (no run yet: {' '.join(missing)})"})  # fmt: skip
            continue
        integrators, others = unit_groups(stats)
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
            split = integrator_split({u: stats[u]["mean"] for u in stats}, task.higher_is_better)
            row["worst integrator"], row["best of HBA/BA"] = split["worst"], split["best"]
            row["gap (worst integrator - best of HBA/BA)"] = split["gap"]
            row["pairs ahead (integrator, HBA/BA)"] = f"{split['ahead']}/{split['pairs']}"
        if "Real" in stats:
            row["Real learns"] = learns(task, stats["Real"])
        rows.append(row)
    return pd.DataFrame(rows)


def wide_table(summary: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """One row per (task, variant) the ``study`` plans, one column per unit, in its order:
    "mean ± sd (n)" -- the screen at a glance; "-" where a partial study has no run yet."""
    rows = []
    for name in study["tasks"]:
        digits = task_of(name).digits
        for variant in study["variants"]:
            group = summary[(summary.task == name) & (summary.variant == variant)]
            cells = {r.unit: f"{r.mean:.{digits}f} ± {r.sd:.{digits}f} ({r.n})" for r in group.itertuples()}
            rows.append({"task": name, "variant": variant} | {u: cells.get(u, "-") for u in study["units"]})
    return pd.DataFrame(rows)


def study_report(runs_root: Path, out: Path, study: Mapping[str, Any], meta: Mapping[str, Any],
                 partial: bool = False, grid_root: Path = Path(RUNS)) -> None:  # fmt: skip
    """summary.{csv,md,html}, claims.{csv,md,html} and study.png in ``out``; ``partial``: from
    the runs finished so far (the module's docstring), said in every title; ``grid_root``: the
    main grid's runs, for the cells whose jobs are the grid's."""
    metrics = study_metrics(runs_root, study, partial, grid_root)
    summary = summary_table(metrics, study)
    note = "validation data, last epoch, mean ± sd over each variant's seeds"
    if partial:  # distinct runs: a repeated job's run is planned once
        planned = {d for dirs in planned_runs(runs_root, study, grid_root).values() for d in dirs}
        note += f"; PARTIAL: {len(finished_runs(planned))} of the {len(planned)} planned runs"
    write_table(summary, out / "summary", f"Study: validation metric per variant, task and unit -- {note}")
    write_table(wide_table(summary, study), out / "summary_wide",
                f"Study: validation metric, unit types side by side -- {note}")  # fmt: skip
    write_table(claims_table(summary, study["units"]), out / "claims", f"Study: the paper's claims per variant -- {note}")
    plot_study(summary, list(study["variants"]), out / "study.png", f"Study ({note})")

