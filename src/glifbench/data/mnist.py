"""MNIST: IDX parsing with checksums, three labelled sources, each split train / val / test.

The four canonical files are ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``. Sources
(config ``data.mnist.source``):

* ``download`` -- genuine MNIST: the last ``val_size`` training images are the validation set,
  the first 60,000 - ``val_size`` train, and the t10k set is the test set.
* ``testset`` -- only the genuine t10k files (what these machines can reach offline): one seeded
  permutation of its 10,000 images is cut into ``train`` / ``val`` / ``test`` parts. Genuine
  digits, a smaller training set than the paper's.
* ``builtin`` -- scikit-learn's bundled 8x8 digits (1,797 images, 0-16 levels) resized to 20x20
  and centred in 28x28 like MNIST's digits: a stand-in for the demo, not MNIST.

Every ``.npz`` holds ``x_{train,val,test}`` (uint8) and ``y_{...}``, and ``source``.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import cv2
import numpy as np

from glifbench.errors import CorruptFile, DataError
from glifbench.io import save_npz

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MAGIC = {3: 2051, 1: 2049}
SPLITS = ("train", "val", "test")


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes: images ``(n, 28, 28)`` or labels ``(n,)``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise CorruptFile(path, f"cannot read IDX file {path}: {err}") from err
    if len(raw) < 8:
        raise CorruptFile(path, f"{path}: too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in MAGIC:
        raise CorruptFile(path, f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise CorruptFile(path, f"{path}: header says {dims} but holds {body.size} values (truncated?)")
    return body.reshape(dims)


def _read_pair(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(folder / FILES[f"{split}_images"]), read_idx(folder / FILES[f"{split}_labels"])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} differ")
    return images, labels.astype(np.int64)


def _save(dest: str | Path, source: str, images: np.ndarray, labels: np.ndarray, parts: dict[str, np.ndarray]) -> dict:
    """Write ``x_/y_{train,val,test}`` selected by the index arrays in ``parts``."""
    arrays = {}
    for split, index in parts.items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images[index], labels[index]
    save_npz(dest, source=np.array(source), **arrays)
    return {f"n_{split}": len(index) for split, index in parts.items()}


def build_from_idx(folder: str | Path, dest: str | Path, val_size: int) -> dict:
    """Genuine MNIST from the four IDX files: train / last ``val_size`` training images / t10k."""
    folder = Path(folder)
    train_x, train_y = _read_pair(folder, "train")
    test_x, test_y = _read_pair(folder, "test")
    if not 0 < val_size < len(train_x):
        raise DataError(f"data.mnist.val_size must be in (0, {len(train_x)}), got {val_size}")
    images, labels = np.concatenate([train_x, test_x]), np.concatenate([train_y, test_y])
    n, cut = len(train_x), len(train_x) - val_size
    parts = {"train": np.arange(cut), "val": np.arange(cut, n), "test": np.arange(n, len(images))}
    return _save(dest, "mnist", images, labels, parts)


def build_from_testset(folder: str | Path, dest: str | Path, sizes: dict[str, int], seed: int) -> dict:
    """Genuine digits from the t10k files only, cut by one seeded permutation into ``sizes``."""
    images, labels = _read_pair(Path(folder), "test")
    counts = [sizes[split] for split in SPLITS]
    if sum(counts) > len(images):
        raise DataError(f"data.mnist.testset_split asks for {sum(counts)} images; the t10k set has {len(images)}")
    order = np.random.default_rng(seed).permutation(len(images))
    ends = np.cumsum(counts)
    parts = {split: np.sort(order[end - count : end]) for split, count, end in zip(SPLITS, counts, ends, strict=True)}
    return _save(dest, "mnist-t10k-split", images, labels, parts)


def standin_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits as uint8 ``(1797, 28, 28)`` images (20x20 digit, 4 px border)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.zeros((len(digits.images), 28, 28), dtype=np.uint8)
    for i, small in enumerate(digits.images.astype(np.float32) / 16.0):
        big = cv2.resize(small, (20, 20), interpolation=cv2.INTER_LINEAR)
        images[i, 4:24, 4:24] = np.rint(np.clip(big, 0, 1) * 255)
    return images, digits.target.astype(np.int64)


def build_standin(dest: str | Path, val_fraction: float, test_fraction: float, seed: int) -> dict:
    """Write the stand-in with a seeded (not stratified) train / val / test split."""
    images, labels = standin_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    n_val, n_test = (int(round(f * len(images))) for f in (val_fraction, test_fraction))
    if n_val < 1 or n_test < 1 or n_val + n_test >= len(images):
        raise DataError(f"data.mnist standin fractions leave no data: val {val_fraction}, test {test_fraction}")
    parts = {"train": order[n_val + n_test :], "val": order[n_test : n_test + n_val], "test": order[:n_test]}
    return _save(dest, "sklearn-digits-standin", images, labels, parts)
