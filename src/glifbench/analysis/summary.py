"""The analysis stage: the paper's tables, learning curves, weight/autapse statistics, activity."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from glifbench.analysis.runs import final_epochs, finished_runs, load_metrics, load_tests
from glifbench.analysis.weights import compare, recurrent_amplitude, weight_sets
from glifbench.errors import DataError
from glifbench.figures.analysis import plot_activity, plot_activity_time, plot_amplitude, plot_autapses
from glifbench.figures.curves import plot_curves
from glifbench.figures.kernels import plot_kernels
from glifbench.figures.tables import plot_table1, plot_table3
from glifbench.models.saved import load_model
from glifbench.models.weights import extract_weights
from glifbench.tables import paper
from glifbench.tables.build import summarise, table1, table3, write_table
from glifbench.layout import FIG5, TABLE_PARTS, WEIGHT_PARTS, part_jobs, run_dir
from glifbench.tasks import task as task_of


def caption(meta: dict[str, Any], sep: str = " ") -> str:
    """What a table or figure was made from; demo-scale results say so."""
    epochs = meta["epochs"]
    epochs = ", ".join(f"{k} {v}" for k, v in epochs.items()) if isinstance(epochs, dict) else epochs
    text = f"scale: {meta['scale']}, seeds: {meta['seeds']}, epochs: {epochs}"
    if meta["scale"] == "demo":
        text += f"{sep}(DEMO SCALE: tiny data, a few epochs, not comparable with the paper)"
    return text


def _dirs(runs_root: Path, jobs: Sequence[tuple[str, str, str]], seeds: Sequence[int]) -> list[str]:
    return sorted({run_dir(t, a, u, s, str(runs_root)) for t, a, u in jobs for s in seeds})


def _finished(dirs: list[str], files: tuple[str, ...], partial: bool) -> tuple[list[str], str]:
    """``(dirs, "")``; with ``partial`` only the runs holding ``files`` and the titles' note on
    how many of the planned runs they are (none finished is an error)."""
    if not partial:
        return dirs, ""
    done = finished_runs(dirs, files)
    if not done:
        raise DataError(f"none of the {len(dirs)} planned runs is finished, e.g. {dirs[:3]}")
    return done, f"; PARTIAL: {len(done)} of the {len(dirs)} planned runs"


def make_tables(runs_root: Path, out: Path, figures: Path, grid: dict, seeds: Sequence[int], meta: dict,
                parts: Sequence[str] = TABLE_PARTS, partial: bool = False) -> None:  # fmt: skip
    """Tables I and III (csv, md, html) and Figs. 3 and 5, each ``part`` from its own runs only:
    ``table1`` (Table I and Fig. 3: SOT, ``grid.table1`` architectures), ``table3`` (the Table III
    grid's test results), ``fig5`` (BCNN, BCRNN, SCRNN learning curves). ``partial``: from the
    runs finished so far (each cell states its n, every title how many runs it rests on); a
    missing run is otherwise an error."""
    curves = ("metrics.csv", "config.json")
    if "table1" in parts and grid["table1"]:
        dirs, more = _finished(_dirs(runs_root, part_jobs("table1", grid), seeds), curves, partial)
        note = caption(meta) + more
        metrics = load_metrics(dirs)
        write_table(table1(final_epochs(metrics), grid["table1"]), out / "table1",
                    f"Table I: SOT validation loss per architecture -- {note}")  # fmt: skip
        plot_table1(final_epochs(metrics), grid["table1"], figures / "table1.png", f"Table I -- {note}")
        plot_curves(metrics, [(a, "sot", a, "Real") for a in grid["table1"]], figures / "fig3_learning_curves.png",
                    f"Fig. 3: real-valued networks on SOT\n{caption(meta, chr(10))}{more}")  # fmt: skip
    if "table3" in parts and grid["table3_tasks"] and grid["table3_units"]:
        dirs, more = _finished(_dirs(runs_root, part_jobs("table3", grid), seeds), ("test.json", "config.json"), partial)
        note = caption(meta) + more
        title = f"Table III: test accuracy (MNIST, FSDD) and validation MSE (SOT) per unit type -- {note}"
        tests = load_tests(dirs)
        write_table(table3(tests, grid["table3_units"]), out / "table3", title)
        plot_table3(tests, grid["table3_units"], figures / "table3.png", f"Table III -- {note}")
    if "fig5" in parts and grid["fig5"]:
        dirs, more = _finished(_dirs(runs_root, part_jobs("fig5", grid), seeds), curves, partial)
        metrics = load_metrics(dirs)
        plot_curves(metrics, list(FIG5), figures / "fig5_binary_networks.png",
                    f"Fig. 5: binary-activation networks on SOT\n{caption(meta, chr(10))}{more}")  # fmt: skip


def reading(row: dict[str, Any]) -> str:
    """One plain sentence on whether a Wilcoxon row agrees with the paper (IV-C)."""
    p, n = f"p = {row['p_value']:.2g}", f"n = {row['n_LIF']} / {row['n_BLI']}"
    if row["set"] != "autapses":
        same = "not significantly different, as in the paper" if not row["significant"] else "significantly different, unlike the paper"
        return f"LIF and BLI {row['set']} weights {same} ({p}, {n})"
    lif, bli = row["positive_LIF"], row["positive_BLI"]
    split = "holds" if lif == 1.0 and bli == 0.0 else "does not hold"
    return (f"the paper's sign split (LIF autapses all positive, BLI all negative) {split}: "
            f"{lif:.0%} of LIF and {bli:.0%} of BLI autapses are positive, medians {row['median_LIF']:.3g} "
            f"and {row['median_BLI']:.3g}, {'a significant' if row['significant'] else 'no significant'} "
            f"difference ({p}, {n})")  # fmt: skip


def _paper_amplitude(task: str, unit: str) -> float | None:
    """The paper's MNIST value (IV-B): HBA/BA 0.04, BLI 0.78; nothing else was reported."""
    if task != "mnist":
        return None
    key = "HBA/BA" if unit in paper.NON_INTEGRATORS else unit
    return paper.MNIST_RECURRENT_MS.get(key)


def _activity_records(runs_root: Path, tasks: Sequence[str], units: Sequence[str], seeds: Sequence[int]) -> list[dict]:
    """Every CRNN run's ``activity.json`` with its task, unit and seed (read once for both tables)."""
    records = []
    for task in tasks:
        for unit in units:
            for seed in seeds:
                path = Path(run_dir(task, "CRNN", unit, seed, str(runs_root))) / "activity.json"
                if not path.is_file():
                    raise DataError(f"run file missing: {path}")
                records.append({"task": task, "unit": unit, "seed": seed, **json.loads(path.read_text())})
    return records


def activity_table(records: Sequence[dict]) -> pd.DataFrame:
    """Mean fraction of active units per time step (network mean), per task and unit type."""
    rows = []
    frame = pd.DataFrame(records)
    for (task, unit), group in frame.groupby(["task", "unit"], sort=False):
        stat = summarise(group["network_mean"].astype(float))
        rows.append({"task": task, "unit": unit, "mean active fraction": stat["mean"], "sd": stat["sd"],
                     "n": stat["n"], "paper": paper.ACTIVITY.get(unit) if task == "sot" else None})  # fmt: skip
    return pd.DataFrame(rows)


def layer_activity(records: Sequence[dict]) -> pd.DataFrame:
    """Mean fraction of active units per (task, unit, layer), averaged over seeds."""
    frame = pd.DataFrame([{"task": r["task"], "unit": r["unit"], "layer": layer, "active": value}
                          for r in records for layer, value in r["mean_active_fraction"].items()])  # fmt: skip
    return frame.groupby(["task", "unit", "layer"], sort=False, as_index=False)["active"].mean()


def step_activity(records: Sequence[dict]) -> pd.DataFrame:
    """The fraction of active units at each time step per (task, unit, seed), mean over layers."""
    rows = []
    for r in records:
        steps = np.mean([np.asarray(v, dtype=float) for v in r["per_step"].values()], axis=0)
        rows += [{"task": r["task"], "unit": r["unit"], "seed": r["seed"], "step": t, "active": a}
                 for t, a in enumerate(steps)]  # fmt: skip
    return pd.DataFrame(rows)


def weight_report(runs_root: Path, out: Path, figures: Path, tasks: Sequence[str], units: Sequence[str],
                  seeds: Sequence[int], meta: dict, parts: Sequence[str] = WEIGHT_PARTS) -> None:  # fmt: skip
    """Each ``part`` from the CRNN runs it shows: ``autapses`` (Wilcoxon tests LIF vs BLI, the
    autapse strip plot and Fig. 7; LIF and BLI models only), ``amplitude`` (recurrent weight
    amplitude; every unit's models), ``activity`` (the runs' activity.json)."""
    note = caption(meta)
    lif_bli = "autapses" in parts and {"LIF", "BLI"} <= set(units)
    needed = list(units) if "amplitude" in parts else ["LIF", "BLI"] if lif_bli else []
    layers = {
        (task, unit): [l for s in seeds for l in extract_weights(load_model(run_dir(task, "CRNN", unit, s, str(runs_root))))]
        for task in tasks for unit in needed
    }  # fmt: skip
    if lif_bli:
        _autapse_report(layers, out, figures, tasks, seeds, meta)
    if "amplitude" in parts:
        amplitude = []
        for task in tasks:
            for unit in units:
                amplitude.append({"task": task, "unit": unit,
                                  "recurrent mean-squared amplitude": recurrent_amplitude(layers[(task, unit)]),
                                  "paper": _paper_amplitude(task, unit)})  # fmt: skip
        write_table(pd.DataFrame(amplitude), out / "recurrent_amplitude", f"Recurrent weight amplitude per unit type -- {note}")
        plot_amplitude(pd.DataFrame(amplitude), figures / "recurrent_amplitude.png", f"Recurrent weight amplitude -- {note}")
    if "activity" in parts:
        records = _activity_records(runs_root, tasks, units, seeds)
        write_table(activity_table(records), out / "activity", f"Activity per unit type -- {note}")
        plot_activity(layer_activity(records), paper.ACTIVITY, figures / "activity.png",
                      f"Activity per unit type and layer (validation, last epoch, mean over seeds)\n{caption(meta, chr(10))}")  # fmt: skip
        plot_activity_time(step_activity(records), paper.ACTIVITY, figures / "activity_time.png",
                           f"Activity over time (validation, last epoch, mean over layers and seeds)\n{caption(meta, chr(10))}")  # fmt: skip


def _autapse_report(layers: dict, out: Path, figures: Path, tasks: Sequence[str], seeds: Sequence[int], meta: dict) -> None:
    """Wilcoxon rank-sum tests LIF vs BLI per task (with a plain reading), Fig. 7 and the strip plot."""
    note = caption(meta)
    rows = []
    for task in tasks:
        table = compare(weight_sets(layers[(task, "LIF")]), weight_sets(layers[(task, "BLI")]), ("LIF", "BLI"))
        table.insert(0, "task", task)
        rows.append(table)
    autapses = pd.concat(rows, ignore_index=True)
    autapses["paper"] = autapses["set"].map({
        "feedforward": "not significantly different", "recurrent": "not significantly different",
        "autapses": "significantly different: LIF all positive, BLI all negative",
    })  # fmt: skip
    autapses["here"] = [reading(row) for row in autapses.to_dict("records")]
    write_table(autapses, out / "autapses", f"Wilcoxon rank-sum tests, LIF vs BLI weights -- {note}")
    shown = "sot" if "sot" in tasks else tasks[0]
    per_seed = {u: len(layers[(shown, u)]) // len(seeds) for u in ("LIF", "BLI")}  # layers of one network
    last = {u: layers[(shown, u)][per_seed[u] - 1] for u in ("LIF", "BLI")}  # the first seed's last layer
    plot_kernels(last, figures / "fig7_kernels.png",
                 f"Fig. 7: learned kernels, LIF vs BLI, {task_of(shown).label}, seed {seeds[0]}\n{caption(meta, chr(10))}")  # fmt: skip
    autapse_values = {t: {u: weight_sets(layers[(t, u)])["autapses"] for u in ("LIF", "BLI")} for t in tasks}
    plot_autapses(autapse_values, autapses[autapses.set == "autapses"], figures / "autapses.png",
                  f"Autapses, LIF vs BLI -- {note}")  # fmt: skip
