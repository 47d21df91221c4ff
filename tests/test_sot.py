import numpy as np
import pytest
import torch
from scipy import ndimage

from glifbench.data import sot
from glifbench.data.backgrounds import builtin_image, normalised_background
from glifbench.data.fetch import DataError
from glifbench.data.sot_store import (
    dequantise, load_shard, quantise, shard_seed, shard_sizes, write_index, write_shard,
)  # fmt: skip


@pytest.fixture(scope="module")
def stack():
    return np.stack([builtin_image(n) for n in ("grass", "brick", "camera")])


@pytest.fixture(scope="module")
def trials(stack):
    return sot.synthesize_trials(stack, 96, seed=7)


def test_shapes_types_and_range(trials):
    frames, positions = trials
    assert frames.shape == (96, 100, 30, 30) and frames.dtype == np.float32
    assert positions.shape == (96, 100, 2) and positions.dtype == np.float32
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    assert positions.min() >= 0.0 and positions.max() <= 1.0  # the target never leaves the frame


def test_same_seed_same_bytes_other_seed_differs(stack, trials):
    again = sot.synthesize_trials(stack, 96, seed=7)
    assert again[0].tobytes() == trials[0].tobytes() and again[1].tobytes() == trials[1].tobytes()
    assert not np.array_equal(sot.synthesize_trials(stack, 4, seed=8)[0], trials[0][:4])


def test_mean_target_speed_is_a_third_pixel(trials):
    step = np.linalg.norm(np.diff(trials[1], axis=1) * 29, axis=-1)
    assert step.mean() == pytest.approx(1 / 3, abs=0.02)
    assert np.median(step) < 0.5  # the target usually stays inside one pixel per frame


def test_noise_is_proportional_with_quarter_sd(stack):
    noisy, _ = sot.synthesize_trials(stack, 16, seed=3)
    clean, _ = sot.synthesize_trials(stack, 16, seed=3, noise_scale=0.0)
    mask = (clean > 0.1) & (noisy > 0) & (noisy < 1)
    ratio = (noisy[mask] - clean[mask]) / clean[mask]
    assert ratio.mean() == pytest.approx(0.0, abs=0.005)
    assert ratio.std() == pytest.approx(0.25, abs=0.01)


def test_background_max_half_and_target_adds_quarter(stack):
    plain, _ = sot.synthesize_trials(stack, 8, seed=1, noise_scale=0.0, target_intensity=0.0)
    assert plain.max() <= 0.5 + 0.03  # cubic B-spline samples of an image whose maximum is 0.5
    assert plain.max() > 0.4
    with_target, _ = sot.synthesize_trials(stack, 8, seed=1, noise_scale=0.0)
    added = (with_target - plain).sum(axis=(2, 3))
    assert np.allclose(added, 0.25, atol=1e-4)


def test_target_sits_at_labelled_subpixel_location(stack):
    plain, _ = sot.synthesize_trials(stack, 4, seed=2, noise_scale=0.0, target_intensity=0.0)
    marked, pos = sot.synthesize_trials(stack, 4, seed=2, noise_scale=0.0)
    diff = marked - plain
    rows, cols = np.mgrid[0:30, 0:30]
    centroid_x = (diff * cols).sum(axis=(2, 3)) / diff.sum(axis=(2, 3))
    centroid_y = (diff * rows).sum(axis=(2, 3)) / diff.sum(axis=(2, 3))
    assert np.allclose(centroid_x, pos[..., 0] * 29, atol=1e-3)
    assert np.allclose(centroid_y, pos[..., 1] * 29, atol=1e-3)


def test_window_drifts_slowly(stack):
    corners = sot.window_paths(np.random.default_rng(0), 256, stack.shape[1:], sot.SOTParams())
    speed = np.linalg.norm(np.diff(corners, axis=1), axis=-1)
    assert 0.08 < speed.mean() < 0.3
    assert corners.min() >= 2 and corners.max() <= 800 - 33


def test_crops_equal_scipy_cubic_spline(stack):
    p = sot.SOTParams(n_frames=6)
    image = normalised_background(stack[2])
    corners = sot.window_paths(np.random.default_rng(5), 3, image.shape, p)
    regions, origin = sot._spline_regions(stack[2:3], np.zeros(3, dtype=int), corners, p)
    crops = sot.render_crops(regions, origin, corners, p.window)
    for k in range(3):
        for t in range(6):
            rr, cc = np.mgrid[0:30, 0:30]
            ref = ndimage.map_coordinates(image, [rr + corners[k, t, 0], cc + corners[k, t, 1]], order=3, mode="mirror")
            np.testing.assert_allclose(crops[k, t], ref, atol=1e-5)


def test_fold_is_elastic():
    path = sot.fold(np.array([-0.5, 0.0, 10.0, 29.5, 58.0, 60.0]), 0.0, 29.0)
    np.testing.assert_allclose(path, [0.5, 0.0, 10.0, 28.5, 0.0, 2.0])


def test_bad_parameters_are_named(stack):
    with pytest.raises(ValueError, match="unknown SOT parameter.*'noise'"):
        sot.synthesize_trials(stack, 1, 0, noise=0.3)
    with pytest.raises(DataError, match="smaller than"):
        sot.synthesize_trials(np.ones((20, 20), np.uint8), 1, 0)


def test_shards_roundtrip_and_stream(tmp_path, stack):
    params = {"n_frames": 12}
    sizes = shard_sizes(70, 32)
    assert sizes == [32, 32, 6]
    paths = [write_shard(tmp_path / f"shard{k:05d}.npz", stack, n, shard_seed(1, "train", k), params) for k, n in enumerate(sizes)]
    frames, positions = load_shard(paths[0])
    assert frames.dtype == np.uint8 and frames.shape == (32, 12, 30, 30)
    ref, ref_pos = sot.synthesize_trials(stack, 32, shard_seed(1, "train", 0), **params)
    assert np.abs(dequantise(frames) - ref).max() <= 1 / 510 + 1e-7
    np.testing.assert_array_equal(positions, ref_pos)
    index = write_index(tmp_path / "train.json", paths, "train")
    assert index["n_trials"] == 70 and index["bytes_per_trial"] == 12 * 900 + 12 * 8
    from glifbench.data.streams import SOTStream

    stream = SOTStream(tmp_path / "train.json", mean=0.25, std=0.25, max_trials=None, frames=None)
    seen = [b.targets.transpose(0, 1).numpy() for b in stream.batches(16, np.random.default_rng(0))]
    assert sum(len(b) for b in seen) == 70  # every trial once per epoch, shard by shard
    assert sorted(map(bytes, np.concatenate(seen))) == sorted(
        map(bytes, np.concatenate([load_shard(p)[1] for p in paths]))
    )
    first = next(SOTStream(tmp_path / "train.json", 0.25, 0.25, max_trials=20, frames=5).batches(8, None))
    assert first.inputs.shape == (5, 8, 30, 30) and first.targets.shape == (5, 8, 2)
    assert sum(b.inputs.shape[1] for b in SOTStream(tmp_path / "train.json", 0, 1, 20, None).batches(8, None)) == 20
    # input_norm first_frame: each trial standardised by its own first frame (causal), not by constants
    raw = next(SOTStream(tmp_path / "train.json", 0, 1, 20, None).batches(8, None)).inputs  # [T, B, H, W]
    own = next(SOTStream(tmp_path / "train.json", 0.25, 0.25, 20, None, norm="first_frame").batches(8, None)).inputs
    m0, s0 = raw[0].mean(dim=(1, 2), keepdim=True), raw[0].std(dim=(1, 2), keepdim=True, correction=0)
    torch.testing.assert_close(own, (raw - m0) / s0)
    torch.testing.assert_close(own[0].mean(dim=(1, 2)), torch.zeros(8), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="unknown input_norm 'trial'; valid: global, first_frame"):
        SOTStream(tmp_path / "train.json", 0, 1, 20, None, norm="trial")


def test_shard_seeds_distinct():
    seeds = {shard_seed(0, s, k) for s in ("train", "val") for k in range(100)}
    assert len(seeds) == 200


def test_quantise_error_bound():
    x = np.linspace(0, 1, 10001, dtype=np.float32)
    assert np.abs(dequantise(quantise(x)) - x).max() <= 1 / 510 + 1e-7


def test_corrupt_shard_named(tmp_path):
    bad = tmp_path / "shard00000.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataError, match="corrupt SOT shard.*shard00000.npz"):
        load_shard(bad)


def test_first_frame_norm_is_for_sot_only():
    from helpers import job_config

    from glifbench.data.streams import open_stream

    settings = job_config("fsdd", {"input_norm": "first_frame"})["training"]
    with pytest.raises(DataError, match=r"training.fsdd.input_norm: 'first_frame' is for SOT only"):
        open_stream("fsdd", {"arrays": "unused.npz"}, settings, "train")
