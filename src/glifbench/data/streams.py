"""Mini-batch streams for the three tasks, time-first ``[T, B, ...]`` tensors.

Every stream is a pure function of ``(seed, epoch)``, so a resumed job sees the same batches
as an uninterrupted one. Inputs are standardised ``(x - mean) / std`` with config values.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from glifbench.data.fetch import file_digest
from glifbench.data.sot_store import dequantise, load_shard
from glifbench.errors import CorruptFile, DataError
from glifbench.tasks import task as task_of


@dataclass(frozen=True)
class Batch:
    inputs: torch.Tensor  # [T, B, ...] (MNIST: [B, 28, 28], static)
    targets: torch.Tensor  # SOT: [T, B, 2] positions; classification: [B] labels


def _require(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"training data not found: {path}")
    return path


def data_identity(data: dict[str, str]) -> dict[str, str]:
    """``{role: sha256}`` of a job's data files: what the data *is*, not where it lies."""
    return {role: file_digest(_require(path), "sha256") for role, path in sorted(data.items())}


class SOTStream:
    """Streams SOT shards listed in a split index (``results/data/sot/{split}.json``)."""

    def __init__(self, index: str | Path, mean: float, std: float, max_trials: int | None, frames: int | None,
                 norm: str = "global"):  # fmt: skip
        try:
            meta = json.loads(_require(index).read_text())
        except json.JSONDecodeError as err:
            raise CorruptFile(index, f"unreadable SOT index {index}: {err}") from err
        self.shards = [Path(s["path"]) for s in meta["shards"]]
        self.shard_trials = [int(s["n_trials"]) for s in meta["shards"]]
        self.n_trials = meta["n_trials"] if max_trials is None else min(max_trials, meta["n_trials"])
        self.mean, self.std, self.frames = mean, std, frames
        if norm not in ("global", "first_frame"):
            raise ValueError(f"unknown input_norm {norm!r}; valid: global, first_frame")
        self.norm = norm
        for shard in self.shards:
            _require(shard)

    @property
    def same_shapes_in_any_order(self) -> bool:
        """Whether every shuffle yields the same sequence of batch shapes (batches are cut within
        shards: only when all shards hold as many trials)."""
        return len(set(self.shard_trials)) <= 1

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        """Trials ``[B, T, H, W]``: ``(x - input_mean) / input_std``, or each trial by its first
        frame's mean ``m_0`` and sd ``s_0`` (``input_norm: first_frame``; a flat frame: ``s_0 = 1``)."""
        if self.norm == "global":
            return (x - self.mean) / self.std
        first = x[:, :1]
        sd = first.std(axis=(1, 2, 3), keepdims=True)
        return ((x - first.mean(axis=(1, 2, 3), keepdims=True)) / np.where(sd > 0, sd, 1)).astype(np.float32)

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
                x = self._standardise(dequantise(frames[sel, : self.frames]))
                y = positions[sel, : self.frames]
                yield Batch(torch.from_numpy(x).transpose(0, 1).contiguous(), torch.from_numpy(y).transpose(0, 1).contiguous())


class ArrayStream:
    """MNIST (static images) or FSDD (spectrograms ``[N, T, F]``) from a prepared ``.npz``."""

    def __init__(self, path: str | Path, split: str, mean: float, std: float, max_samples: int | None, time_major: bool):
        try:
            with np.load(_require(path)) as data:
                missing = [key for key in (f"x_{split}", f"y_{split}") if key not in data.files]
                if missing:
                    raise CorruptFile(path, f"{path}: missing array {missing[0]!r} (the {split} split; data files "
                                      "hold train, val and test since the validation split was added)")  # fmt: skip
                x, y = data[f"x_{split}"], data[f"y_{split}"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise CorruptFile(path, f"unreadable data file {path}: {err}") from err
        if max_samples is not None:
            x, y = x[:max_samples], y[:max_samples]
        scale = 1 / 255.0 if x.dtype == np.uint8 else 1.0
        self.x = ((x.astype(np.float32) * scale - mean) / std).astype(np.float32)
        self.y = y.astype(np.int64)
        self.time_major = time_major
        self.n_trials = len(self.x)

    same_shapes_in_any_order = True  # batches of batch_size, the last one partial, whatever the order

    def batches(self, batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
        idx = rng.permutation(self.n_trials) if rng is not None else np.arange(self.n_trials)
        for start in range(0, len(idx), batch_size):
            sel = np.sort(idx[start : start + batch_size])
            x = torch.from_numpy(self.x[sel])
            if self.time_major:
                x = x.transpose(0, 1).contiguous()
            yield Batch(x, torch.from_numpy(self.y[sel]))


def open_stream(task: str, data: dict[str, str], settings: dict, split: str):
    """The ``split`` (train, val or test) stream of ``task`` from its data files and settings.

    MNIST and FSDD hold three splits; SOT has a training and a validation set only, and its
    ``test`` is its validation set (the paper reports SOT validation loss).
    """
    spec = task_of(task)
    mean, std = settings["input_mean"], settings["input_std"]
    limit = {"train": settings["max_train_trials"], "val": settings["max_val_trials"]}.get(split)
    norm = settings.get("input_norm", "global")  # settings written before the key existed: global
    if spec.data == "sot":
        return SOTStream(data["train" if split == "train" else "val"], mean, std, limit, settings["frames"], norm)
    if norm != "global":
        raise DataError(f"training.{task}.input_norm: {norm!r} is for SOT only; {task} takes 'global'")
    return ArrayStream(data["arrays"], split, mean, std, limit, time_major=not spec.static)


def open_streams(task: str, data: dict[str, str], settings: dict) -> tuple:
    """``(train, validation)`` streams of ``task``."""
    return open_stream(task, data, settings, "train"), open_stream(task, data, settings, "val")
