"""One live process per training job: an ``flock``'d lock file beside the job's checkpoint.

The kernel releases an ``flock`` when its process dies (SIGKILL included), so a stale lock file
never blocks a rerun; a live holder makes a second process stop at once with a message naming
the holder's PID instead of training (and logging to MLflow) beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from glifbench.errors import TrainingError


@contextlib.contextmanager
def job_lock(path: str | os.PathLike, job: str) -> Iterator[None]:
    """Hold the exclusive lock ``path`` for the block; raise if another process holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise TrainingError(f"{job} is already running (process {holder} holds {path}); "
                                "wait for it or stop it before starting the job again") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
