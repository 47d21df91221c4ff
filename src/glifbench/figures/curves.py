"""Learning curves like the paper's Fig. 3 (Table I networks) and Fig. 5 (binary networks):
training loss dashed, validation loss solid, mean over seeds with the seeds' range shaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402


def plot_curves(metrics: pd.DataFrame, series: Sequence[tuple[str, str, str, str]], dest: str | Path, title: str) -> Path:
    """``series`` = (label, task, arch, unit); plots train (dashed) and validation (solid) loss."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    for k, (label, task, arch, unit) in enumerate(series):
        runs = metrics[(metrics.task == task) & (metrics.arch == arch) & (metrics.unit == unit)]
        if runs.empty:
            continue
        colour = f"C{k % 10}"
        for column, style in (("val_loss", "-"), ("train_loss", "--")):
            grouped = runs.groupby("epoch")[column]
            mean = grouped.mean()
            ax.plot(mean.index, mean.values, style, color=colour, label=label if style == "-" else None)
            if runs.seed.nunique() > 1:
                ax.fill_between(mean.index, grouped.min(), grouped.max(), color=colour, alpha=0.15, lw=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (x, y in [0, 1])")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, title="solid: validation, dashed: training", title_fontsize=8)
    return save_figure(fig, dest, dpi=120)


def plot_run(history: Sequence[dict], loss_label: str, metric: str | None, dest: str | Path, title: str) -> Path:
    """One run's learning curves (its MLflow artifact): training and validation loss per epoch
    and, for classification, accuracy on a second panel."""
    frame = pd.DataFrame(list(history))
    panels = [("loss", loss_label)] + ([(metric, metric)] if metric and metric != "loss" else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), constrained_layout=True, squeeze=False)
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        for split, style in (("val", "-"), ("train", "--")):
            if f"{split}_{key}" in frame:
                ax.plot(frame["epoch"], frame[f"{split}_{key}"], style, color="C0", label=split)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, dest, dpi=100)
