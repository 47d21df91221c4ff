"""MNIST: IDX parsing with checksums, and the offline stand-in.

The four canonical files are ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``. The stand-in
(``source: builtin``) is scikit-learn's bundled 8x8 digits (1,797 images, 0-16 levels),
resized to 20x20 and centred in 28x28 like MNIST's digits; it is a stand-in, not MNIST.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import cv2
import numpy as np

from glifbench.data.fetch import DataError
from glifbench.io import save_npz

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MAGIC = {3: 2051, 1: 2049}


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes: images ``(n, 28, 28)`` or labels ``(n,)``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"cannot read IDX file {path}: {err}") from err
    if len(raw) < 8:
        raise DataError(f"{path}: too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in MAGIC:
        raise DataError(f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims} but holds {body.size} values (truncated?)")
    return body.reshape(dims)


def build_from_idx(folder: str | Path, dest: str | Path) -> dict:
    """Parse the four IDX files in ``folder`` into ``dest`` (.npz with uint8 images)."""
    folder = Path(folder)
    arrays = {key: read_idx(folder / name) for key, name in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} differ")
    save_npz(
        dest,
        x_train=arrays["train_images"], y_train=arrays["train_labels"].astype(np.int64),
        x_test=arrays["test_images"], y_test=arrays["test_labels"].astype(np.int64),
        source=np.array("mnist"),
    )  # fmt: skip
    return {"n_train": len(arrays["train_images"]), "n_test": len(arrays["test_images"])}


def standin_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits as uint8 ``(1797, 28, 28)`` images (20x20 digit, 4 px border)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.zeros((len(digits.images), 28, 28), dtype=np.uint8)
    for i, small in enumerate(digits.images.astype(np.float32) / 16.0):
        big = cv2.resize(small, (20, 20), interpolation=cv2.INTER_LINEAR)
        images[i, 4:24, 4:24] = np.rint(np.clip(big, 0, 1) * 255)
    return images, digits.target.astype(np.int64)


def build_standin(dest: str | Path, test_fraction: float, seed: int) -> dict:
    """Write the stand-in with a seeded, stratification-free train / test split."""
    images, labels = standin_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    test, train = order[:n_test], order[n_test:]
    save_npz(
        dest,
        x_train=images[train], y_train=labels[train], x_test=images[test], y_test=labels[test],
        source=np.array("sklearn-digits-standin"),
    )  # fmt: skip
    return {"n_train": len(train), "n_test": len(test)}
