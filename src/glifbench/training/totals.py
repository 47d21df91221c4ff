"""The running sums of one pass over a stream (training, validation or test), for one model or a pack.

For batches ``b`` of ``n_b`` trials with mean loss ``l_b`` and ``c_b`` correct classifications::

    loss = sum_b l_b n_b / sum_b n_b            accuracy = sum_b c_b / sum_b n_b

The sums stay on the device the model runs on (float64 for the loss, so they equal the host's
``sum(float(l_b) * n_b)`` bit for bit) and add no host synchronisation of their own. Whether the
losses are finite is asked one batch late: on CUDA the answer is copied to pinned host memory
behind the batch's own work and an event recorded, so asking waits for that batch only, not for
the next one's step already queued; a job whose loss broke stops one batch after it, before any
checkpoint is written. A loss is never negative, so a sum is finite iff every term was. (The
copy of each batch to the device still waits for the GPU's queue: pinned, non-blocking input
copies are left until a GPU can measure them.)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from glifbench.errors import TrainingError
from glifbench.tasks import Task


class PassTotals:
    """Loss and correct-count sums ``[K]`` of one pass of the models ``names`` (one job: K = 1).

    ``phase`` (``training``, ``validation``, ``test``) and ``hint`` (what to do) go into the
    error a non-finite loss raises.
    """

    def __init__(self, task: Task, device: torch.device, names: Sequence[str], phase: str, hint: str = ""):
        self.task, self.names, self.phase, self.hint = task, list(names), phase, hint
        self.loss = torch.zeros(len(self.names), dtype=torch.float64, device=device)
        self.correct = torch.zeros(len(self.names), dtype=torch.int64, device=device)
        self.n = 0
        self.finite: torch.Tensor | None = None  # per model: all losses so far finite (not yet read)
        self.ready: torch.cuda.Event | None = None  # CUDA: recorded once `finite` is on the host

    def add(self, loss: torch.Tensor, out: torch.Tensor, target: torch.Tensor, n: int) -> None:
        """One batch of ``n`` trials: ``loss`` its mean loss (``[]`` alone, ``[K]`` packed);
        ``out``/``target`` the logits ``[(K,) B, classes]`` and labels ``[(K,) B]`` of a
        classification task. Raises :class:`TrainingError` if a loss before this batch broke."""
        previous = self.finite
        self.loss += loss.detach().double() * n
        if self.task.metric == "accuracy":
            self.correct += (out.detach().argmax(dim=-1) == target).sum(dim=-1)
        self.n += n
        previous_ready = self.ready
        self.finite, self.ready = self._to_host(torch.isfinite(self.loss))
        if previous is not None:
            if previous_ready is not None:
                previous_ready.synchronize()  # that batch's work only
            self._raise_if_broken(previous)

    @staticmethod
    def _to_host(flags: torch.Tensor) -> tuple[torch.Tensor, torch.cuda.Event | None]:
        """``flags`` copied to the host without waiting (CUDA: pinned memory and an event)."""
        if flags.device.type != "cuda":
            return flags, None
        host = torch.empty(flags.shape, dtype=flags.dtype, pin_memory=True)
        host.copy_(flags, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        return host, event

    def check(self) -> None:
        """Raise :class:`TrainingError` if any loss added so far is not finite (waits for the last batch)."""
        if self.finite is not None:
            if self.ready is not None:
                self.ready.synchronize()
            self._raise_if_broken(self.finite)

    def _raise_if_broken(self, finite: torch.Tensor) -> None:
        if bool(finite.all()):
            return
        values = self.loss.tolist()
        broken = [f"{name}: loss is {value}" for name, value, ok in zip(self.names, values, finite.tolist()) if not ok]
        raise TrainingError(f"{'; '.join(broken)} ({self.phase}){self.hint}")

    def result(self) -> list[dict[str, float]]:
        """Each model's means of the whole pass; raises :class:`TrainingError` if a loss broke or
        the pass had no trials."""
        self.check()
        if self.n == 0:
            raise TrainingError(f"{self.names[0]}: no {self.phase} trials")
        return self.means()

    def means(self) -> list[dict[str, float]]:
        """Each model's means so far, named as in metrics.csv (``loss``, ``accuracy``)."""
        rows = []
        for loss, right in zip(self.loss.tolist(), self.correct.tolist(), strict=True):
            row = {"loss": loss / self.n}
            if self.task.metric == "accuracy":
                row["accuracy"] = right / self.n
            rows.append(row)
        return rows
