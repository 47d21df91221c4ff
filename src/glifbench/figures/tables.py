"""Tables I and III as figures: ours (every seed, and mean ± sd) beside the paper's value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from glifbench.figures.save import save_figure  # noqa: E402
from glifbench.tables import paper  # noqa: E402
from glifbench.tasks import TASKS  # noqa: E402


def _panel(ax, labels: Sequence[str], values: Sequence[np.ndarray], reference: Sequence[float | None],
           ylabel: str, title: str) -> None:  # fmt: skip
    """One panel: each label's seeds (dots), mean ± sd (bar and whisker) and the paper (red bar)."""
    x = np.arange(len(labels))
    for k, v in enumerate(values):
        if len(v):
            ax.bar(k, v.mean(), width=0.6, color="C0", alpha=0.35)
            ax.errorbar(k, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, color="C0", capsize=3)
            ax.scatter(np.full(len(v), k) + np.linspace(-0.12, 0.12, len(v)), v, s=10, color="C0", zorder=3)
        if reference[k] is not None:
            ax.hlines(reference[k], k - 0.35, k + 0.35, color="C3", lw=2, zorder=4)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)


def plot_table3(tests: pd.DataFrame, units: Sequence[str], dest: str | Path, title: str) -> Path:
    """Table III: one panel per task present in ``tests`` (``test.json`` rows), the CNN-RNN
    baseline then the CRNN per unit type; the paper's values as red bars."""
    entries = [("Real (CNN-RNN)", "CNN-RNN", "Real")] + [(u, "CRNN", u) for u in units]
    tasks = [t for t in paper.TABLE3_TASKS if t in set(tests.task)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.8), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[0], tasks, strict=True):
        spec = TASKS[name]
        column = paper.TABLE3_TASKS.index(name)
        values = [tests[(tests.task == name) & (tests.arch == a) & (tests.unit == u)][spec.metric].to_numpy() * spec.scale
                  for _, a, u in entries]  # fmt: skip
        reference = [paper.TABLE3.get(label, (None,) * 3)[column] for label, _, _ in entries]
        _panel(ax, [label for label, _, _ in entries], values, reference,
               f"{spec.test_split} {spec.metric_label}", spec.label)  # fmt: skip
        if name == "sot":
            ax.set_yscale("log")
    fig.suptitle(title + "\nblue: ours (dots: seeds; bar and whisker: mean ± sd); red: the paper", fontsize=9)
    return save_figure(fig, dest)


def plot_table1(final: pd.DataFrame, archs: Sequence[str], dest: str | Path, title: str) -> Path:
    """Table I: SOT validation MSE of the real-valued networks per architecture (last epoch)."""
    fig, ax = plt.subplots(figsize=(6, 3.8), constrained_layout=True)
    values = [final[(final.task == "sot") & (final.arch == a) & (final.unit == "Real")]["val_loss"].to_numpy()
              for a in archs]  # fmt: skip
    _panel(ax, list(archs), values, [paper.TABLE1_VAL_LOSS.get(a) for a in archs], "validation MSE", "SOT")
    ax.set_yscale("log")
    fig.suptitle(title + "\nblue: ours (dots: seeds; mean ± sd); red: the paper", fontsize=9)
    return save_figure(fig, dest)
