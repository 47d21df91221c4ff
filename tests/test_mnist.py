import gzip

import numpy as np
import pytest

from glifbench.data import mnist
from glifbench.data.fetch import DataError, fetch, file_digest


def test_genuine_test_set_parses(mnist_folder):
    assert file_digest(mnist_folder / "t10k-images-idx3-ubyte.gz", "md5") == "9fb629c4189551a2d022fa330f9573f3"
    images = mnist.read_idx(mnist_folder / "t10k-images-idx3-ubyte.gz")
    labels = mnist.read_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(labels) == set(range(10))
    assert np.bincount(labels)[1] == 1135  # the test set's well-known class count for "1"
    assert images[:, :2, :].mean() < 1 < images[:, 10:18, 10:18].mean()  # digits are centred


def test_fetch_with_md5_from_loopback(mnist_folder, http_root, tmp_path):
    root, url = http_root
    name = "t10k-labels-idx1-ubyte.gz"
    (root / name).write_bytes((mnist_folder / name).read_bytes())
    dest = fetch(f"{url}/{name}", tmp_path / name, "ec29112dd5afa0611ce80d1b7f02629c")
    assert len(mnist.read_idx(dest)) == 10000


def test_build_from_idx_with_all_four_files(mnist_folder, tmp_path):
    # The training files are not available offline: stand them in with the genuine test files.
    for name in mnist.FILES.values():
        source = name.replace("train", "t10k")
        (tmp_path / name).write_bytes((mnist_folder / source).read_bytes())
    sizes = mnist.build_from_idx(tmp_path, tmp_path / "mnist.npz", val_size=1000)
    assert sizes == {"n_train": 9000, "n_val": 1000, "n_test": 10000}
    with np.load(tmp_path / "mnist.npz") as data:  # validation = the last training images
        stand_in = mnist.read_idx(tmp_path / mnist.FILES["train_images"])
        np.testing.assert_array_equal(data["x_val"], stand_in[9000:])


def test_testset_source_is_a_disjoint_genuine_split(mnist_folder, tmp_path):
    sizes = mnist.build_from_testset(mnist_folder, tmp_path / "m.npz", {"train": 7000, "val": 1000, "test": 2000}, 0)
    assert sizes == {"n_train": 7000, "n_val": 1000, "n_test": 2000}
    images = mnist.read_idx(mnist_folder / "t10k-images-idx3-ubyte.gz")
    with np.load(tmp_path / "m.npz") as data:
        assert str(data["source"]) == "mnist-t10k-split"
        keys = {split: {img.tobytes() for img in data[f"x_{split}"]} for split in ("train", "val", "test")}
        assert set(np.bincount(data["y_test"], minlength=10) > 100) == {True}
    # no image of the test or validation part reaches training (MNIST t10k has a few duplicates)
    assert not (keys["train"] & keys["test"]) and not (keys["train"] & keys["val"])
    assert len(keys["train"] | keys["val"] | keys["test"]) <= len({img.tobytes() for img in images})
    again = mnist.build_from_testset(mnist_folder, tmp_path / "m2.npz", {"train": 7000, "val": 1000, "test": 2000}, 0)
    assert again == sizes and (tmp_path / "m.npz").read_bytes() == (tmp_path / "m2.npz").read_bytes()
    with pytest.raises(DataError, match="testset_split asks for 12000"):
        mnist.build_from_testset(mnist_folder, tmp_path / "m3.npz", {"train": 9000, "val": 1000, "test": 2000}, 0)


def test_truncated_and_wrong_files(tmp_path, mnist_folder):
    raw = gzip.decompress((mnist_folder / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:5000]))
    with pytest.raises(DataError, match="short.gz: header says"):
        mnist.read_idx(tmp_path / "short.gz")
    (tmp_path / "junk.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="junk.gz"):
        mnist.read_idx(tmp_path / "junk.gz")
    with pytest.raises(DataError, match="missing-images"):
        mnist.read_idx(tmp_path / "missing-images.gz")


def test_standin_is_28x28_and_labelled(tmp_path):
    sizes = mnist.build_standin(tmp_path / "m.npz", 0.1, 0.2, 0)
    assert sizes == {"n_train": 1258, "n_val": 180, "n_test": 359}
    with np.load(tmp_path / "m.npz") as data:
        assert data["x_train"].shape[1:] == (28, 28) and data["x_train"].dtype == np.uint8
        assert str(data["source"]) == "sklearn-digits-standin"
        assert data["x_train"][:, :4].max() == 0 and data["x_train"].max() == 255
