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

    ``size``: one input frame (after the channel axis); ``static``: one input per trial, shown for
    ``model.mnist_steps`` steps, else ``[T, B, *size]`` sequences; ``every_step``: the network's output at
    every time step is scored (SOT) rather than only the last one (classification). ``metric`` is
    the column of ``metrics.csv`` the tables report (``scale`` x value, ``higher_is_better``);
    ``trains_at`` is glifbench's operational threshold for "the network learns the task" (in
    reported units), used by the study's claim checks (docs/study.md).
    """

    name: str
    label: str
    data: Literal["sot", "arrays"]  # SOT shards with an index per split, or one .npz of arrays
    static: bool  # one input per trial, shown for model.mnist_steps steps (MNIST)
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
    test_split: str = "test"  # what test.json evaluates; SOT has no test split: its validation set

    def trials_in(self, targets_shape: tuple[int, ...]) -> int:
        """Trials in a batch of targets: ``[T, B, 2]`` positions (every step) or ``[B]`` labels."""
        return targets_shape[1] if self.every_step else targets_shape[0]

    def better(self, a: float, b: float) -> bool:
        """Is value ``a`` better than ``b``?"""
        return a > b if self.higher_is_better else a < b


TASKS: dict[str, Task] = {
    "sot": Task(
        name="sot", label="SOT (MSE)", data="sot", static=False, dims=2, size=(30, 30), outputs=2, every_step=True,
        loss="mse", metric="loss", metric_label="MSE", scale=1.0, digits=4, higher_is_better=False, temporal=True,
        trains_at=0.04, test_split="val",
    ),
    "mnist": Task(
        name="mnist", label="MNIST", data="arrays", static=True, dims=2, size=(28, 28), outputs=10, every_step=False,
        loss="cross_entropy", metric="accuracy", metric_label="accuracy (%)", scale=100.0, digits=1,
        higher_is_better=True, temporal=False, trains_at=95.0,
    ),
    "fsdd": Task(
        name="fsdd", label="FSDD", data="arrays", static=False, dims=1, size=(64,), outputs=10, every_step=False,
        loss="cross_entropy", metric="accuracy", metric_label="accuracy (%)", scale=100.0, digits=1,
        higher_is_better=True, temporal=True, trains_at=90.0,
    ),
}  # fmt: skip


def task(name: str) -> Task:
    """Look a task up by name; unknown names raise an error listing the valid ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; valid: {', '.join(TASKS)}") from None
