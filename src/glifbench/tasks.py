"""What each task is, in one place (no torch): input, outputs, loss, metric, claims' thresholds.

Networks, training, tables and the study all read :data:`TASKS`; a new task is one entry here
plus its data stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Task:
    """A task of the paper.

    ``size``: one input frame (after the channel axis); ``every_step``: the network's output at
    every time step is scored (SOT) rather than only the last one (classification). ``metric`` is
    the column of ``metrics.csv`` the tables report (``scale`` x value, ``higher_is_better``);
    ``trains_at`` is glifbench's operational threshold for "the network learns the task" (in
    reported units), used by the study's claim checks (docs/study.md).
    """

    name: str
    label: str
    dims: int
    size: tuple[int, ...]
    outputs: int
    every_step: bool
    loss: Literal["mse", "cross_entropy"]
    metric: str
    metric_label: str
    scale: float
    digits: int
    higher_is_better: bool
    temporal: bool  # the paper's "temporal" tasks, on which HBA and BA are claimed to fail
    trains_at: float

    def better(self, a: float, b: float) -> bool:
        """Is value ``a`` better than ``b``?"""
        return a > b if self.higher_is_better else a < b


TASKS: dict[str, Task] = {
    "mnist": Task("mnist", "MNIST", 2, (28, 28), 10, False, "cross_entropy", "accuracy", "accuracy (%)",
                  100.0, 1, True, False, 95.0),
    "fsdd": Task("fsdd", "FSDD", 1, (64,), 10, False, "cross_entropy", "accuracy", "accuracy (%)",
                 100.0, 1, True, True, 90.0),
    "sot": Task("sot", "SOT (MSE)", 2, (30, 30), 2, True, "mse", "loss", "MSE", 1.0, 4, False, True, 0.04),
}  # fmt: skip


def task(name: str) -> Task:
    """Look a task up by name; unknown names raise an error listing the valid ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; valid: {', '.join(TASKS)}") from None
