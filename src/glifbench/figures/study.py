"""The study's figure: validation metric per unit type, one series per variant, a panel per task
(mean over seeds, error bars one standard deviation)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402
from glifbench.tasks import task as task_of  # noqa: E402


def _colour(k: int, n: int):
    """A colour per variant, none repeated up to 20 (a screen of many variants)."""
    return f"C{k % 10}" if n <= 10 else plt.get_cmap("tab20")(k % 20)


def _marker(k: int, n: int) -> str:
    """Markers tell apart variants beyond 20, whose colours repeat."""
    return "o" if n <= 20 else "osD^v"[(k // 20) % 5]


def plot_study(summary: pd.DataFrame, variants: Sequence[str], dest: str | Path, title: str) -> Path:
    """``summary``: rows of (variant, task, unit, mean, sd, n) as written by the study stage."""
    tasks = list(dict.fromkeys(summary.task))
    fig, axes = plt.subplots(len(tasks), 1, figsize=(8, 3.6 * len(tasks)), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[:, 0], tasks, strict=True):
        rows = summary[summary.task == name]
        units = list(dict.fromkeys(rows.unit))
        x = np.arange(len(units))
        width = 0.8 / max(len(variants), 1)
        for k, variant in enumerate(variants):
            part = rows[rows.variant == variant].set_index("unit").reindex(units)
            ax.errorbar(x - 0.4 + width * (k + 0.5), part["mean"], yerr=part["sd"], fmt=_marker(k, len(variants)),
                        ms=4, capsize=2, label=variant, color=_colour(k, len(variants)))  # fmt: skip
        task = task_of(name)
        ax.axhline(task.trains_at, color="grey", lw=0.8, ls=":")
        ax.set_xticks(x, units)
        ax.set_ylabel(f"validation {task.metric_label}")
        ax.set_title(task.label, fontsize=10)
        ax.legend(fontsize=7, ncol=min(len(variants), 4), loc="best")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, dest)
