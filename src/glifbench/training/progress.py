"""Progress a person can follow: a log line every few seconds inside an epoch.

A training epoch at paper scale runs for many minutes; its job log gets, at most every
``every_seconds``, one line with the trials done, the rate, the epoch's and the job's estimated
time left and the running means of the loss (and accuracy)::

    fsdd-CRNN-LIF-s0: epoch 3/15 [train] 640/2400 trials (27%) 51.2 trials/s,
        epoch ETA 34 s, job ETA 9 min 12 s; loss 1.2345 accuracy 0.5612

Reading the clock never touches the computation, so progress reporting leaves results unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("glifbench.train")


def duration(seconds: float) -> str:
    """``"42 s"``, ``"9 min 12 s"``, ``"3 h 05 min"``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Reports one pass over a stream of ``total`` trials.

    ``epoch``/``epochs`` are 1-based; the job ETA assumes every epoch left takes as long as this
    pass (training passes only). ``on_report(done, means)`` receives the trials done in this pass
    and the running means (e.g. to log batch-level metrics).
    """

    def __init__(self, job: str, phase: str, total: int, epoch: int, epochs: int, every_seconds: float | None,
                 on_report: Callable[[int, dict[str, float]], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:  # fmt: skip
        self.job, self.phase, self.total, self.epoch, self.epochs = job, phase, total, epoch, epochs
        self.every, self.on_report, self.clock = every_seconds, on_report, clock
        self.start = self.last = clock()
        self.done = 0

    def update(self, trials: int, running: Callable[[], dict[str, float]]) -> bool:
        """Count ``trials`` more; report if ``every_seconds`` have passed (only then is
        ``running()``, the means so far, computed). Returns whether it did."""
        self.done += trials
        if self.every is None:
            return False
        now = self.clock()
        if now - self.last < self.every or self.done >= self.total:
            return False
        self.last = now
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else float("inf")
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        job_left = left + (self.epochs - self.epoch) * self.total / rate if self.phase == "train" else left
        means = running()
        values = " ".join(f"{k} {v:.4f}" for k, v in means.items())
        log.info("%s: epoch %d/%d [%s] %d/%d trials (%d%%) %.1f trials/s, epoch ETA %s, job ETA %s; %s",
                 self.job, self.epoch, self.epochs, self.phase, self.done, self.total,
                 100 * self.done // max(1, self.total), rate, duration(left), duration(job_left), values)  # fmt: skip
        if self.on_report is not None:
            self.on_report(self.done, means)
        return True
