"""Mini-batch streams for the three tasks, time-first ``[T, B, ...]`` tensors.

Every stream is a pure function of ``(seed, epoch)``, so a resumed job sees the same batches
as an uninterrupted one. Inputs are standardised ``(x - mean) / std`` with config values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from glifbench.data.fetch import DataError
from glifbench.data.sot_store import dequantise, load_shard


@dataclass(frozen=True)
class Batch:
    inputs: torch.Tensor  # [T, B, ...] (MNIST: [B, 28, 28], static)
    targets: torch.Tensor  # SOT: [T, B, 2] positions; classification: [B] labels


def _require(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"training data not found: {path}")
    return path


class SOTStream:
    """Streams SOT shards listed in a split index (``results/data/sot/{split}.json``)."""

    def __init__(self, index: str | Path, mean: float, std: float, max_trials: int | None, frames: int | None):
        meta = json.loads(_require(index).read_text())
        self.shards = [Path(s["path"]) for s in meta["shards"]]
        self.n_trials = meta["n_trials"] if max_trials is None else min(max_trials, meta["n_trials"])
        self.mean, self.std, self.frames = mean, std, frames
        for shard in self.shards:
            _require(shard)

    def batches(self, batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
        order = rng.permutation(len(self.shards)) if rng is not None else range(len(self.shards))
        left = self.n_trials
        for s in order:
            if left <= 0:
                return
            frames, positions = load_shard(self.shards[s])
            idx = rng.permutation(len(frames)) if rng is not None else np.arange(len(frames))
            idx = idx[:left]
            left -= len(idx)
            for start in range(0, len(idx), batch_size):
                sel = np.sort(idx[start : start + batch_size])
                x = (dequantise(frames[sel, : self.frames]) - self.mean) / self.std
                y = positions[sel, : self.frames]
                yield Batch(torch.from_numpy(x).transpose(0, 1).contiguous(), torch.from_numpy(y).transpose(0, 1).contiguous())


class ArrayStream:
    """MNIST (static images) or FSDD (spectrograms ``[N, T, F]``) from a prepared ``.npz``."""

    def __init__(self, path: str | Path, split: str, mean: float, std: float, max_samples: int | None, time_major: bool):
        key = "train" if split == "train" else "test"
        with np.load(_require(path)) as data:
            try:
                x, y = data[f"x_{key}"], data[f"y_{key}"]
            except KeyError as err:
                raise DataError(f"{path}: missing array {err}") from err
        if max_samples is not None:
            x, y = x[:max_samples], y[:max_samples]
        scale = 1 / 255.0 if x.dtype == np.uint8 else 1.0
        self.x = ((x.astype(np.float32) * scale - mean) / std).astype(np.float32)
        self.y = y.astype(np.int64)
        self.time_major = time_major
        self.n_trials = len(self.x)

    def batches(self, batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
        idx = rng.permutation(self.n_trials) if rng is not None else np.arange(self.n_trials)
        for start in range(0, len(idx), batch_size):
            sel = np.sort(idx[start : start + batch_size])
            x = torch.from_numpy(self.x[sel])
            if self.time_major:
                x = x.transpose(0, 1).contiguous()
            yield Batch(x, torch.from_numpy(self.y[sel]))


def open_streams(task: str, data: dict[str, str], settings: dict) -> tuple:
    """``(train, validation)`` streams of ``task`` from its data files and training settings."""
    mean, std = settings["input_mean"], settings["input_std"]
    if task == "sot":
        frames = settings.get("frames")
        train = SOTStream(data["train"], mean, std, settings.get("max_train_trials"), frames)
        val = SOTStream(data["val"], mean, std, settings.get("max_val_trials"), frames)
        return train, val
    if task in ("mnist", "fsdd"):
        time_major = task == "fsdd"
        train = ArrayStream(data["arrays"], "train", mean, std, settings.get("max_train_trials"), time_major)
        val = ArrayStream(data["arrays"], "test", mean, std, settings.get("max_val_trials"), time_major)
        return train, val
    raise ValueError(f"unknown task {task!r}; valid: sot, mnist, fsdd")
