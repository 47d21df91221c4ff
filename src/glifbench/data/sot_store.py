"""Compact, chunked storage of SOT trials and streaming reads for training.

A split is a folder of shards ``shard{k:05d}.npz``, each holding ``frames`` as uint8
``(n, T, W, W)`` (``round(255 x)``: 900 bytes per 30x30 frame, 90,000 per 100-frame trial;
quantisation error at most 1/510, standard deviation 1/(255 sqrt 12) ~ 0.0011, against a
sensor-noise standard deviation of 0.0625 at intensity 0.25) and ``positions`` float32
``(n, T, 2)`` (800 bytes per trial). Shards are generated independently (one Snakemake job each)
so paper scale (2 x 50,000 trials, ~9 GB) never needs more memory than one chunk of trials;
training streams one shard at a time (:class:`glifbench.data.streams.SOTStream`).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glifbench.data.fetch import file_digest
from glifbench.errors import CorruptFile, DataError
from glifbench.data.sot import SOTParams, iter_trials
from glifbench.io import save_json, save_npz

SPLIT_CODES = {"train": 0, "val": 1}


def shard_seed(base_seed: int, split: str, shard: int) -> int:
    """Independent 63-bit seed for one shard of one split."""
    if split not in SPLIT_CODES:
        raise ValueError(f"unknown split {split!r}; valid: {sorted(SPLIT_CODES)}")
    state = np.random.SeedSequence([base_seed, SPLIT_CODES[split], shard]).generate_state(2)
    return int((int(state[0]) << 32 | int(state[1])) >> 1)


def shard_sizes(n_trials: int, shard_size: int) -> list[int]:
    """Number of trials in each shard (all ``shard_size`` but possibly the last)."""
    if n_trials <= 0 or shard_size <= 0:
        raise ValueError(f"n_trials and shard_size must be positive, got {n_trials}, {shard_size}")
    full, rest = divmod(n_trials, shard_size)
    return [shard_size] * full + ([rest] if rest else [])


def quantise(frames: np.ndarray) -> np.ndarray:
    """float in [0, 1] -> uint8 ``round(255 x)``."""
    return np.rint(frames * 255.0).astype(np.uint8)


def dequantise(frames_u8: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]."""
    return frames_u8.astype(np.float32) * np.float32(1.0 / 255.0)


def write_shard(
    dest: str | Path, backgrounds: np.ndarray, n_trials: int, seed: int, params: dict[str, Any]
) -> Path:
    """Synthesise ``n_trials`` trials chunk by chunk into one shard file (written atomically)."""
    p = SOTParams.from_dict(params)
    frames = np.empty((n_trials, p.n_frames, p.window, p.window), dtype=np.uint8)
    positions = np.empty((n_trials, p.n_frames, 2), dtype=np.float32)
    at = 0
    for f, pos in iter_trials(backgrounds, n_trials, seed, **params):
        frames[at : at + len(f)] = quantise(f)
        positions[at : at + len(f)] = pos
        at += len(f)
    meta = json.dumps({"seed": seed, "params": p.as_dict(), "n_trials": n_trials})
    return save_npz(dest, frames=frames, positions=positions, meta=np.array(meta))


def load_shard(path: str | Path, with_meta: bool = False):
    """Frames (uint8) and positions of one shard, checked for shape consistency; with
    ``with_meta`` also the shard's metadata (seed, stimulus parameters, size)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"SOT shard not found: {path}")
    try:
        with np.load(path) as data:
            frames, positions = data["frames"], data["positions"]
            meta = json.loads(str(data["meta"])) if with_meta else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise CorruptFile(path, f"corrupt SOT shard {path}: {err}") from err
    if frames.ndim != 4 or positions.shape != frames.shape[:2] + (2,):
        raise CorruptFile(path, f"{path}: inconsistent shapes {frames.shape} and {positions.shape}")
    return (frames, positions, meta) if with_meta else (frames, positions)


def write_index(dest: str | Path, shards: Sequence[str | Path], split: str) -> dict[str, Any]:
    """Check every shard of a split and write the split's JSON index (with each shard's sha256,
    so the index's own digest identifies the data a training job reads)."""
    entries, total, meta = [], 0, None
    for path in shards:
        frames, _, meta = load_shard(path, with_meta=True)
        entries.append({"path": str(path), "n_trials": int(frames.shape[0]), "seed": meta["seed"],
                        "sha256": file_digest(path, "sha256")})  # fmt: skip
        total += int(frames.shape[0])
    index = {
        "split": split,
        "n_trials": total,
        "bytes_per_trial": int(np.prod(frames.shape[1:])) + 4 * 2 * int(frames.shape[1]),
        "params": meta["params"] if meta else {},
        "shards": entries,
    }
    save_json(dest, index)
    return index
