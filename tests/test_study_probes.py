"""The SOT probes of docs/study/: sot_decode.py's traces are causal, and its read-out finds a
position in a layer that carries one and none in a layer of noise; sot_brightest.py's fixed
detectors answer in the networks' (x, y) order (their figures are in docs/study.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "study" / "sot_decode.py"


def _script(path: Path):
    """A docs/study/ script, imported as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def decode():
    return _script(SCRIPT)


def test_traces_are_causal_and_kept_at_the_decoded_frames(decode):
    s = torch.rand(30, 2, 3, 6, 6)
    later = s.clone()
    later[20:] = 0  # what a frame sees must not depend on later frames
    a, b = decode.traces(s), decode.traces(later)
    kept = list(range(decode.FIRST_FRAME, 30, decode.EVERY))
    before = sum(t < 20 for t in kept)
    assert a.shape == (len(kept), 2, 3 * len(decode.TAUS), 6, 6)
    assert a[:before].equal(b[:before]) and not a.equal(b)
    assert a[0, :, :3].equal(s[decode.FIRST_FRAME])  # tau = 1: the frame itself


def _frames(n: int, marked: bool, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` frames of 2 channels (12 x 12) of noise and their object positions in [0, 1]; with
    ``marked`` the first channel carries a bright pixel where the object is."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.rand(n, 2, 12, 12, generator=gen)
    cells = torch.randint(0, 12, (n, 2), generator=gen)
    if marked:
        z[torch.arange(n), 0, cells[:, 1], cells[:, 0]] += 3.0
    return z, cells.float() / 11


def test_the_read_out_finds_a_marked_position_and_nothing_in_noise(decode):
    for marked in (True, False):
        z, y = _frames(512, marked, seed=1)
        scale = decode.standardiser(z)
        readout = decode.fit_readout(scale(z), y, steps=200, seed=0)
        z_val, y_val = _frames(256, marked, seed=2)
        chance = float(((y_val - y_val.mean(0)) ** 2).mean())  # the MSE of the mean position
        with torch.no_grad():
            mse = float(torch.nn.functional.mse_loss(readout(scale(z_val)), y_val))
        assert mse < 0.1 * chance if marked else mse > 0.5 * chance


def test_the_probe_fits_on_training_trials_and_judges_on_validation_trials(decode, monkeypatch):
    """probe(): every layer of a (tiny) SOT CRNN and its input, fitted on the training split
    only, judged on the validation split, each with the number of trials asked for."""
    from glifbench.data.streams import Batch
    from glifbench.models import build_network

    asked: list[tuple[str, int]] = []

    class Stream:
        def __init__(self, split):
            self.split = split

        def batches(self, size, rng):
            gen = torch.Generator().manual_seed(len(self.split))
            for _ in range(3):
                asked.append((self.split, size))
                yield Batch(torch.rand(16, size, 30, 30, generator=gen), torch.rand(16, size, 2, generator=gen))

    monkeypatch.setattr(decode, "open_stream", lambda task, data, settings, split: Stream(split))
    torch.manual_seed(0)
    net = build_network("sot", "CRNN", "LIF", channels=(2, 3), readout="softargmax", init_gain=4.0).record_activity(False)
    seen = []
    fit = decode.fit_readout
    monkeypatch.setattr(decode, "fit_readout", lambda z, y, steps, seed: seen.append(len(z)) or fit(z, y, steps, seed))
    rows = decode.probe(net, {}, {}, fit_trials=12, eval_trials=5, steps=3, seed=0)
    assert [row["layer"] for row in rows] == ["input", "body.0", "body.1"]
    assert [split for split, _ in asked] == ["train", "train", "val"]  # 12 fit trials: 8 + 4; 5 to judge
    kept = len(range(decode.FIRST_FRAME, 16, decode.EVERY))
    assert seen == [12 * kept] * 3
    assert all(0 < row["decode_mse"] < 1 and row["network_mse"] > 0 for row in rows)


BRIGHTEST = Path(__file__).resolve().parents[1] / "docs" / "study" / "sot_brightest.py"


def test_the_fixed_detectors_find_a_moving_bright_pixel_in_x_y_order():
    """docs/study/sot_brightest.py: each detector answers (x, y) = (column, row) / (W - 1); the
    change detector ignores a static bright background pixel that the plain one falls for."""
    import numpy as np

    module = _script(BRIGHTEST)
    frames = np.zeros((1, 6, 10, 10), dtype=np.uint8)
    for t in range(6):
        frames[0, t, 2, 1 + t] = 200  # the object: row 2, column 1 + t
    answers = module.detector_answers(frames)
    expected = np.array([[(1 + t) / 9, 2 / 9] for t in range(6)], dtype=np.float32)
    assert np.allclose(answers["brightest pixel"][0], expected)
    assert np.allclose(answers["brightest 2x2 patch"][0], expected, atol=0.5 / 9 + 1e-6)
    assert np.allclose(answers["brightest pixel of the last 4 frames' mean"][0, 0], expected[0])
    frames[0, :, 7, 8] = 255  # a static bright background pixel at row 7, column 8
    answers = module.detector_answers(frames)
    assert np.allclose(answers["brightest pixel"][0], [8 / 9, 7 / 9])
    assert np.allclose(answers["brightest change from frame 0"][0, 1:], expected[1:])


FIRST_EPOCH = Path(__file__).resolve().parents[1] / "docs" / "study" / "sot_first_epoch.py"


def test_the_first_epoch_probe_follows_the_job_it_replays(tmp_path, sot_files):
    """docs/study/sot_first_epoch.py retrains a committed run's first epoch step by step and looks
    at its layers in between without changing its course: after the whole epoch its validation
    MSE is the job's own epoch-1 ``val_loss``; an override (``--set``) changes the course."""
    from helpers import job_config

    from glifbench.training.trainer import JobSpec, train

    module = _script(FIRST_EPOCH)
    settings = job_config("sot", {"epochs": 1, "batch_size": 4, "lr": 0.01},
                          {"channels": [2, 3], "hidden": 8, "calibrate_activity": 0.1})  # fmt: skip
    job = JobSpec("sot", "CRNN", "LIF", 2, tmp_path / "run", tmp_path / "ckpt.pt", sot_files, settings,
                  evaluate_test=False)  # fmt: skip
    history = train(job)["history"]
    steps = 4  # 16 training trials in batches of 4: the whole first epoch
    rows = module.first_epoch(tmp_path / "run", sot_files, [], steps, every=2, probe_batches=1, full_val=True)
    assert [row["step"] for row in rows] == [0, 2, 4]
    assert rows[-1]["full_val_mse"] == pytest.approx(history[0]["val_loss"], rel=1e-6)
    for row in rows:
        for layer in ("body.0", "body.1"):
            assert 0 <= row[f"activity {layer}"] <= 1 and 0 <= row[f"silent {layer}"] <= 1
            assert row[f"trial p10 {layer}"] <= row[f"trial median {layer}"] <= row[f"trial p90 {layer}"]
    assert rows[0]["loss"] != rows[-1]["loss"] and rows[-1]["grad body.0"] > 0
    whole = module.first_epoch(tmp_path / "run", sot_files, [], steps, every=4, probe_batches=4, full_val=False)
    assert whole[-1]["loss"] == pytest.approx(rows[-1]["full_val_mse"], rel=1e-6)  # 4 x 4 = every val trial
    for layer in ("body.0", "body.1"):  # the probe's hooks count activity as the job's recording does
        assert whole[-1][f"activity {layer}"] == pytest.approx(history[0][f"activity_{layer}"], rel=1e-6)
    other = module.first_epoch(tmp_path / "run", sot_files, ["training.lr=0.0001"], steps, 2, 1, True)
    assert other[0]["loss"] == rows[0]["loss"] and other[-1]["full_val_mse"] != rows[-1]["full_val_mse"]
    assert other[-1]["overrides"] == "training.lr=0.0001"
