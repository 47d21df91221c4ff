"""Cost per unit type (the paper's motivation): what each trained Table III network spends on
validation data, beside what it achieves on the test split.

For every run: synaptic operations per trial (effective ACs and MACs, dense; NeuroBench's
definitions, :mod:`glifbench.models.cost`), activation sparsity, the state carried between time
steps and the parameter footprint; then mean ± sd over seeds per (task, unit) with the run's
reported metric (``test.json``), and a figure of metric against operations and against state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from glifbench.analysis.runs import load_tests
from glifbench.data.streams import open_stream
from glifbench.figures.cost import plot_cost
from glifbench.layout import run_dir
from glifbench.models.cost import CostMeter, parameter_bits
from glifbench.models.saved import load_model
from glifbench.tables.build import summarise, write_table
from glifbench.tasks import task as task_of


def run_cost(run: str | Path, max_trials: int | None) -> dict[str, Any]:
    """Operations, sparsity and state of one trained run on (up to ``max_trials``) validation trials."""
    meta = json.loads((Path(run) / "config.json").read_text())
    task = task_of(meta["task"])
    settings = {**meta["config"]["training"], "max_val_trials": max_trials}
    model = load_model(run).record_activity(False)
    trials = 0
    with torch.no_grad(), CostMeter(model) as meter:
        for batch in open_stream(meta["task"], meta["data"], settings, "val").batches(settings["batch_size"], None):
            model(batch.inputs)
            trials += task.trials_in(batch.targets.shape)
    ops = meter.ops()
    return {"task": meta["task"], "arch": meta["arch"], "unit": meta["unit"], "seed": meta["seed"],
            "trials": trials, "ACs": ops["ac"] / trials, "MACs": ops["mac"] / trials, "dense": ops["dense"] / trials,
            "sparsity": meter.sparsity()["network"], "state_bits": meter.state_bits(),
            "parameter_bits": parameter_bits(model)}  # fmt: skip


def cost_table(per_run: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Per (task, arch, unit): the reported metric and the costs, mean ± sd over seeds."""
    merged = per_run.merge(tests, on=["task", "arch", "unit", "seed"], how="left")
    rows = []
    for (name, arch, unit), group in merged.groupby(["task", "arch", "unit"], sort=False):
        task = task_of(name)
        metric = summarise(group[task.metric] * task.scale)
        ops = group["ACs"] + group["MACs"]
        rows.append({
            "task": name, "arch": arch, "unit": unit, "n": metric["n"],
            "metric": metric["mean"], "metric sd": metric["sd"],
            "metric name": f"{task.test_split} {task.metric_label}",
            "effective ops / trial (M)": ops.mean() / 1e6, "ACs / trial (M)": group["ACs"].mean() / 1e6,
            "MACs / trial (M)": group["MACs"].mean() / 1e6,
            "effective / dense": (ops / group["dense"]).mean(), "activation sparsity": group["sparsity"].mean(),
            "activation sparsity sd": group["sparsity"].std(ddof=1) if len(group) > 1 else 0.0,
            "state (bits)": int(group["state_bits"].iloc[0]), "parameters (kbit)": group["parameter_bits"].iloc[0] / 1000,
        })  # fmt: skip
    return pd.DataFrame(rows)


def cost_report(runs_root: Path, out: Path, figure: Path, tasks: Sequence[str], units: Sequence[str],
                seeds: Sequence[int], max_trials: int | None) -> pd.DataFrame:  # fmt: skip
    """cost.{csv,md,html} in ``out`` and the figure, from the Table III (CRNN) runs."""
    runs = [run_dir(t, "CRNN", u, s, str(runs_root)) for t in tasks for u in units for s in seeds]
    per_run = pd.DataFrame([run_cost(r, max_trials) for r in runs])
    table = cost_table(per_run, load_tests(runs))
    write_table(per_run, out / "cost_runs", "Cost per run (validation trials)")
    shown = table.round({"metric": 3, "metric sd": 3, "effective ops / trial (M)": 3, "ACs / trial (M)": 3,
                         "MACs / trial (M)": 3, "effective / dense": 3, "activation sparsity": 3,
                         "activation sparsity sd": 3, "parameters (kbit)": 1})  # fmt: skip
    write_table(shown, out / "cost", "Cost per unit type: synaptic operations and activation sparsity on "
                "validation data, state between steps, parameters; beside the reported metric (mean over seeds)")  # fmt: skip
    plot_cost(table, figure)
    return table
