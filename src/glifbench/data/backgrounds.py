"""Background images for the small-object-tracking task (paper II-A).

Backgrounds are stored as a ``(n, 800, 800)`` uint8 grey-scale ``.npy`` stack (memory-mapped
by the video synthesis) plus a JSON index of their names. The paper's intensity normalisation,
``b = grey / max(grey) * 0.5``, is applied when a background is read
(:func:`normalised_background`), so the stack stays lossless with respect to the source JPEGs.

Two sources:

* ``dior``: the DIOR ``Images_trainval.zip`` (11,725 JPEGs of 800x800), split into disjoint
  train / validation sets by a seeded shuffle of the sorted file names.
* ``builtin``: grey-scale images that ship inside scikit-image's wheel, mirror-tiled to 800x800.
  A documented offline stand-in for DIOR (``scale: demo``), never used as a silent fall-back.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from glifbench.data.fetch import DataError
from glifbench.io import atomic_path

SIZE = 800
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
BUILTIN_NAMES = (
    "grass", "gravel", "brick", "camera", "moon", "astronaut", "rocket", "coffee",
    "chelsea", "coins", "clock", "cell", "retina", "hubble_deep_field", "text", "page",
)  # fmt: skip


def to_grey_u8(image: np.ndarray, name: str) -> np.ndarray:
    """Grey-scale uint8 version of an image (OpenCV's luma weights for colour)."""
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype != np.uint8:
        raise DataError(f"{name}: expected an 8-bit image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    elif image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.ndim != 2:
        raise DataError(f"{name}: cannot convert an image of shape {image.shape} to grey-scale")
    return image


def fit_to_size(grey: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Bring a grey image to ``size x size``: mirror-tile if smaller, centre-crop if larger.

    Tiling (not up-sampling) keeps the pixel-scale texture that the target must be found in.
    """
    h, w = grey.shape
    if h < size or w < size:
        reps_h, reps_w = -(-size // h), -(-size // w)
        grey = np.pad(grey, ((0, (reps_h - 1) * h), (0, (reps_w - 1) * w)), mode="symmetric")
        h, w = grey.shape
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(grey[top : top + size, left : left + size])


def builtin_image(name: str) -> np.ndarray:
    """One of scikit-image's bundled images, grey-scale and 800x800."""
    import skimage.data

    if name not in BUILTIN_NAMES:
        raise DataError(
            f"unknown builtin background {name!r}; valid names: {', '.join(BUILTIN_NAMES)}"
        )
    return fit_to_size(to_grey_u8(np.asarray(getattr(skimage.data, name)()), name))


def _fill_stack(tmp: Path, images: Iterable[tuple[str, np.ndarray]], count: int, dest: Path) -> list[str]:
    names: list[str] = []
    stack = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(count, SIZE, SIZE))
    for i, (name, image) in enumerate(images):
        if image.shape != (SIZE, SIZE):
            raise DataError(f"{name}: expected {SIZE}x{SIZE} pixels, got {image.shape}")
        if int(image.max()) == 0:
            raise DataError(f"{name}: image is black, cannot normalise its maximum to 0.5")
        stack[i] = image
        names.append(name)
    if len(names) != count:
        raise DataError(f"{dest}: expected {count} images, got {len(names)}")
    stack.flush()
    del stack
    return names


def write_stacks(jobs: Sequence[tuple[Path, Iterable[tuple[str, np.ndarray]], int]]) -> None:
    """Write each ``(dest .npy, named 800x800 uint8 images, count)`` stack and its ``.json`` index.

    All or nothing: every file is renamed into place only after all stacks were written.
    """
    with contextlib.ExitStack() as pending:
        for dest, images, count in jobs:
            dest = Path(dest)
            npy = pending.enter_context(atomic_path(dest, suffix=".npy"))
            index = pending.enter_context(atomic_path(dest.with_suffix(".json")))
            names = _fill_stack(npy, images, count, dest)
            index.write_text(json.dumps({"names": names, "size": SIZE, "dtype": "uint8"}, indent=2))


def build_builtin(dest_train: Path, dest_val: Path, train: Sequence[str], val: Sequence[str]) -> None:
    """Write the scikit-image stand-in background stacks (disjoint name lists)."""
    overlap = set(train) & set(val)
    if overlap:
        raise DataError(f"builtin backgrounds used for both train and validation: {sorted(overlap)}")
    for dest, names in ((dest_train, train), (dest_val, val)):
        if not names:
            raise DataError(f"no builtin backgrounds listed for {dest}")
    write_stacks(
        [(d, ((n, builtin_image(n)) for n in names), len(names)) for d, names in ((dest_train, train), (dest_val, val))]
    )


def split_names(names: Sequence[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Disjoint train / validation lists from a seeded shuffle of the sorted names."""
    ordered = sorted(names)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ordered))
    n_val = int(round(val_fraction * len(ordered)))
    if len(ordered) >= 2:
        n_val = min(max(n_val, 1), len(ordered) - 1)
    val = sorted(ordered[i] for i in order[:n_val])
    train = sorted(ordered[i] for i in order[n_val:])
    return train, val


def _decode_member(archive: zipfile.ZipFile, member: str, zip_path: Path) -> np.ndarray:
    raw = np.frombuffer(archive.read(member), dtype=np.uint8)
    grey = cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise DataError(f"unreadable image {member!r} in {zip_path}")
    if grey.shape != (SIZE, SIZE):
        grey = cv2.resize(grey, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return grey


def build_dior(
    zip_path: str | Path,
    dest_train: Path,
    dest_val: Path,
    val_fraction: float,
    seed: int,
    expected_count: int | None,
) -> None:
    """Extract, grey-scale and split the DIOR images of ``zip_path`` into the two stacks."""
    zip_path = Path(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(f"not a readable zip archive: {zip_path}: {err}") from err
    with archive:
        members = {
            Path(m).name: m
            for m in archive.namelist()
            if m.lower().endswith(IMAGE_SUFFIXES) and not Path(m).name.startswith(".")
        }
        if not members:
            raise DataError(f"no JPEG/PNG images found in {zip_path}")
        if expected_count is not None and len(members) != expected_count:
            raise DataError(
                f"{zip_path}: expected {expected_count} images, found {len(members)}"
            )
        train, val = split_names(list(members), val_fraction, seed)

        def decoded(names: list[str]) -> Iterable[tuple[str, np.ndarray]]:
            return ((n, _decode_member(archive, members[n], zip_path)) for n in names)

        write_stacks([(dest_train, decoded(train), len(train)), (dest_val, decoded(val), len(val))])


def load_stack(path: str | Path) -> np.ndarray:
    """Memory-map a background stack written by :func:`write_stacks`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"background stack not found: {path}")
    stack = np.load(path, mmap_mode="r")
    if stack.ndim != 3 or stack.dtype != np.uint8:
        raise DataError(f"{path}: expected a (n, H, W) uint8 stack, got {stack.shape} {stack.dtype}")
    return stack


def normalised_background(image_u8: np.ndarray, max_intensity: float = 0.5) -> np.ndarray:
    """``b = grey / max(grey) * max_intensity`` as float32 (paper II-A: maximum 0.5)."""
    image = np.asarray(image_u8, dtype=np.float32)
    return image * np.float32(max_intensity / float(image.max()))
