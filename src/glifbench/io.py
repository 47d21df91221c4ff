"""Atomic file output: write to a temporary name beside the target, rename when complete."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in ``dest``'s folder; rename it to ``dest`` on success.

    On any exception the temporary file is removed and ``dest`` is left untouched, so a
    re-run never mistakes a half-written file for a complete one. ``suffix`` keeps an
    extension that a writer insists on (``np.savez`` appends ``.npz`` otherwise).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix + ".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_npz(dest: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """``np.savez`` (uncompressed) written atomically."""
    with atomic_path(dest, suffix=".npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return Path(dest)


def save_json(dest: str | os.PathLike, obj: Any) -> Path:
    """Pretty JSON written atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    return Path(dest)
