"""The analysis as figures: autapse weights of LIF vs BLI, activity per unit type and layer,
recurrent weight amplitude; the paper's values marked where it reports them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402
from glifbench.tasks import task as task_of  # noqa: E402


def plot_autapses(values: Mapping[str, Mapping[str, np.ndarray]], tests: pd.DataFrame, dest: str | Path,
                  title: str) -> Path:  # fmt: skip
    """Strip plot per task: every autapse weight of the LIF and the BLI networks (all channels,
    layers and seeds), the median as a bar; the rank-sum p and n in the panel title.

    ``values[task][unit]``: the autapse weights; ``tests``: the autapses rows of the Wilcoxon table.
    """
    tasks = list(values)
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.6 * len(tasks), 3.8), constrained_layout=True, squeeze=False)
    rng = np.random.default_rng(0)  # jitter only
    for ax, name in zip(axes[0], tasks, strict=True):
        for k, unit in enumerate(("LIF", "BLI")):
            w = np.asarray(values[name][unit])
            ax.scatter(k + rng.uniform(-0.15, 0.15, len(w)), w, s=8, alpha=0.6, color=f"C{k}")
            if len(w):
                ax.hlines(np.median(w), k - 0.3, k + 0.3, color="black", lw=2)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks([0, 1], ["LIF", "BLI"])
        row = tests[tests.task == name]
        stats = f"p = {row.p_value.iloc[0]:.2g}, n = {row.n_LIF.iloc[0]} / {row.n_BLI.iloc[0]}" if len(row) else ""
        ax.set_title(f"{task_of(name).label}: autapses\n{stats}", fontsize=9)
        ax.set_ylabel("autapse weight")
    fig.suptitle(title + "\npaper: LIF all positive, BLI all negative; bars: medians", fontsize=9)
    return save_figure(fig, dest)


def plot_activity(per_layer: pd.DataFrame, paper: Mapping[str, float], dest: str | Path, title: str) -> Path:
    """Heatmap of the mean fraction of active units per (unit type, task and layer), the value
    written in each cell; the paper's SOT network means (LIF, BLI) in the row labels."""
    table = per_layer.pivot_table(index="unit", columns=["task", "layer"], values="active", sort=False)
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.45 * table.shape[0] + 1.8), constrained_layout=True)
    image = ax.imshow(table.to_numpy(), cmap="viridis", vmin=0, vmax=max(0.3, float(np.nanmax(table.to_numpy()))),
                      aspect="auto")  # fmt: skip
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.15 else "black")
    ax.set_xticks(range(table.shape[1]), [f"{t}\n{layer}" for t, layer in table.columns], fontsize=7)
    ax.set_yticks(range(table.shape[0]), [f"{u} (paper SOT {paper[u]:.3f})" if u in paper else u for u in table.index],
                  fontsize=8)  # fmt: skip
    fig.colorbar(image, ax=ax, label="fraction of units active per step")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, dest)


def plot_amplitude(amplitude: pd.DataFrame, dest: str | Path, title: str) -> Path:
    """Bars of the recurrent weights' mean square per unit type, a panel per task, the paper's
    MNIST values (HBA/BA 0.04, BLI 0.78) as red bars."""
    tasks = list(dict.fromkeys(amplitude.task))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.4 * len(tasks), 3.4), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[0], tasks, strict=True):
        rows = amplitude[amplitude.task == name].reset_index(drop=True)
        ax.bar(range(len(rows)), rows["recurrent mean-squared amplitude"], color="C0", alpha=0.6)
        for k, value in enumerate(rows["paper"]):
            if value is not None and not pd.isna(value):
                ax.hlines(value, k - 0.4, k + 0.4, color="C3", lw=2)
        ax.set_xticks(range(len(rows)), rows.unit, rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("mean square of recurrent weights")
        ax.set_title(task_of(name).label, fontsize=10)
    fig.suptitle(title + "\nred: the paper (MNIST)", fontsize=9)
    return save_figure(fig, dest)


def plot_activity_time(per_step: pd.DataFrame, paper: Mapping[str, float], dest: str | Path, title: str) -> Path:
    """The network's fraction of active units at each time step, one line per unit type (mean
    over layers and seeds), a panel per task; the paper's SOT means (LIF, BLI) dashed."""
    tasks = list(dict.fromkeys(per_step.task))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.4), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[0], tasks, strict=True):
        rows = per_step[per_step.task == name]
        for k, (unit, group) in enumerate(rows.groupby("unit", sort=False)):
            mean = group.groupby("step")["active"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=f"C{k % 10}", lw=1.2, label=unit)
            if name == "sot" and unit in paper:
                ax.axhline(paper[unit], color=f"C{k % 10}", ls="--", lw=0.8)
        ax.set_xlabel("time step")
        ax.set_ylabel("fraction of units active")
        ax.set_title(task_of(name).label, fontsize=9)
        ax.set_ylim(bottom=0)
    axes[0][-1].legend(fontsize=7, ncol=2, loc="best")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, dest)
