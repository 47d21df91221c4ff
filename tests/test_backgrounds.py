import hashlib
import zipfile

import cv2
import numpy as np
import pytest

from glifbench.data import backgrounds as bg
from glifbench.data.fetch import DataError, fetch


def _dior_like_zip(path, n, size=800, bad=None):
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(n):
            name = f"JPEGImages-trainval/{i:05d}.jpg"
            if i == bad:
                archive.writestr(name, b"this is not a jpeg")
                continue
            colour = rng.integers(0, 200, size=(size, size, 3), dtype=np.uint8)
            ok, jpeg = cv2.imencode(".jpg", colour)
            archive.writestr(name, jpeg.tobytes())
        archive.writestr("JPEGImages-trainval/readme.txt", "not an image")
    return path


def test_builtin_stack_is_800_grey_and_normalisable(tmp_path):
    bg.build_builtin(tmp_path / "train.npy", tmp_path / "val.npy", ["grass", "astronaut"], ["coins"])
    train = bg.load_stack(tmp_path / "train.npy")
    assert train.shape == (2, 800, 800) and train.dtype == np.uint8
    assert bg.load_stack(tmp_path / "val.npy").shape == (1, 800, 800)
    norm = bg.normalised_background(train[1])
    assert norm.dtype == np.float32 and norm.max() == pytest.approx(0.5) and norm.min() >= 0


def test_builtin_rejects_overlap_and_unknown_names(tmp_path):
    with pytest.raises(DataError, match="both train and validation.*grass"):
        bg.build_builtin(tmp_path / "t.npy", tmp_path / "v.npy", ["grass"], ["grass"])
    with pytest.raises(DataError, match="unknown builtin background 'lena'.*grass"):
        bg.build_builtin(tmp_path / "t.npy", tmp_path / "v.npy", ["lena"], ["grass"])
    assert not (tmp_path / "t.npy").exists()


def test_dior_download_extract_split(http_root, tmp_path):
    root, url = http_root
    _dior_like_zip(root / "Images_trainval.zip", n=10)
    md5 = hashlib.md5((root / "Images_trainval.zip").read_bytes()).hexdigest()
    zip_path = fetch(f"{url}/Images_trainval.zip", tmp_path / "dl" / "Images_trainval.zip", md5)
    bg.build_dior(zip_path, tmp_path / "train.npy", tmp_path / "val.npy", 0.2, seed=3, expected_count=10)
    train_names = bg.load_stack(tmp_path / "train.npy"), (tmp_path / "train.json").read_text()
    train, val = bg.load_stack(tmp_path / "train.npy"), bg.load_stack(tmp_path / "val.npy")
    assert (len(train), len(val)) == (8, 2)
    import json

    names_t = set(json.loads((tmp_path / "train.json").read_text())["names"])
    names_v = set(json.loads((tmp_path / "val.json").read_text())["names"])
    assert not names_t & names_v and len(names_t | names_v) == 10
    assert train_names[0].shape[1:] == (800, 800)


def test_dior_split_is_deterministic():
    names = [f"{i:05d}.jpg" for i in range(100)]
    assert bg.split_names(names, 0.2, 0) == bg.split_names(list(reversed(names)), 0.2, 0)
    assert bg.split_names(names, 0.2, 0) != bg.split_names(names, 0.2, 1)


def test_dior_unreadable_image_named_and_nothing_left(tmp_path):
    zip_path = _dior_like_zip(tmp_path / "Images_trainval.zip", n=4, size=64, bad=2)
    with pytest.raises(DataError, match="unreadable image.*00002.jpg"):
        bg.build_dior(zip_path, tmp_path / "train.npy", tmp_path / "val.npy", 0.25, 0, None)
    assert not list(tmp_path.glob("*.npy")) and not list(tmp_path.glob("*.part"))


def test_dior_wrong_count_empty_and_corrupt_archives(tmp_path):
    zip_path = _dior_like_zip(tmp_path / "Images_trainval.zip", n=3, size=32)
    with pytest.raises(DataError, match="expected 11725 images, found 3"):
        bg.build_dior(zip_path, tmp_path / "t.npy", tmp_path / "v.npy", 0.2, 0, 11725)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.txt", "nothing")
    with pytest.raises(DataError, match="no JPEG/PNG images found in .*empty.zip"):
        bg.build_dior(empty, tmp_path / "t.npy", tmp_path / "v.npy", 0.2, 0, None)
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(zip_path.read_bytes()[:100])
    with pytest.raises(DataError, match="not a readable zip archive.*corrupt.zip"):
        bg.build_dior(corrupt, tmp_path / "t.npy", tmp_path / "v.npy", 0.2, 0, None)


def test_missing_stack_named(tmp_path):
    with pytest.raises(DataError, match="background stack not found.*nope.npy"):
        bg.load_stack(tmp_path / "nope.npy")
