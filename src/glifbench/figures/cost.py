"""Cost per unit type: each task's reported metric against synaptic operations per trial and
against the state carried between time steps (one point per unit type, mean over seeds)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402
from glifbench.tasks import task as task_of  # noqa: E402


def plot_cost(table: pd.DataFrame, dest: str | Path) -> Path:
    """``table``: the rows of :func:`glifbench.analysis.cost.cost_table`."""
    tasks = list(dict.fromkeys(table.task))
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.6 * len(tasks), 7), constrained_layout=True, squeeze=False)
    for col, name in enumerate(tasks):
        rows = table[table.task == name]
        task = task_of(name)
        for ax, column, label in ((axes[0, col], "effective ops / trial (M)", "effective synaptic operations per trial (millions)"),
                                  (axes[1, col], "state (bits)", "state between time steps (bits)")):  # fmt: skip
            for k, (_, row) in enumerate(rows.iterrows()):
                ax.errorbar(row[column], row["metric"], yerr=row["metric sd"], fmt="s" if row.unit == "Real" else "o",
                            color=f"C{k % 10}", capsize=2)  # fmt: skip
                ax.annotate(row.unit, (row[column], row["metric"]), textcoords="offset points", xytext=(4, 3), fontsize=7)
            ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel(f"{task.test_split} {task.metric_label}")
            ax.set_title(task.label, fontsize=10)
    fig.suptitle("Cost per unit type (validation trials; mean ± sd over seeds)", fontsize=10)
    return save_figure(fig, dest)
