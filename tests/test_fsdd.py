import io
import tarfile

import numpy as np
import pytest

from glifbench.data import fsdd
from glifbench.data.fetch import DataError, fetch, file_digest


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _builtin_members(n):
    with tarfile.open(fsdd.builtin_archive()) as tar:
        out = []
        for member in tar:
            if member.isfile():
                out.append((member.name, tar.extractfile(member).read()))
            if len(out) == n:
                return out


def test_builtin_subset_split_and_shape(tmp_path):
    sizes = fsdd.build_spectrograms(fsdd.builtin_archive(), tmp_path / "s.npz", expect_complete=False)
    assert sizes == {"n_train": 180, "n_val": 60, "n_test": 60}
    with np.load(tmp_path / "s.npz") as data:
        assert data["x_train"].shape == (180, 64, 64) and data["x_test"].shape == (60, 64, 64)
        assert set(data["y_train"]) == set(range(10)) and len(set(data["speaker_test"])) == 6
        # validation and test recordings never reach training
        assert set(data["index_train"]) == {10, 11, 12}
        assert set(data["index_val"]) == {5} and set(data["index_test"]) == {0}
        # standardised with training statistics only: train is zero-mean unit-sd per band
        np.testing.assert_allclose(data["x_train"].mean(axis=(0, 1)), 0, atol=1e-4)
        np.testing.assert_allclose(data["x_train"].std(axis=(0, 1)), 1, atol=1e-3)
        assert abs(float(data["x_test"].mean())) < 0.5


def test_genuine_archive_3000_files_official_split(fsdd_tarball, http_root, tmp_path):
    root, url = http_root
    (root / "v1.0.10.tar.gz").write_bytes(fsdd_tarball.read_bytes())
    sha = file_digest(fsdd_tarball, "sha256")
    assert sha == "f19814a642af455d727161c83a4178f271707ee978e3dd1cf2cf40209f6deb84"
    archive = fetch(f"{url}/v1.0.10.tar.gz", tmp_path / "rec.tar.gz", sha, "sha256")
    recordings = fsdd.read_recordings(archive, expect_complete=True)
    assert len(recordings) == 3000
    counts = {split: sum(r.split == split for r in recordings) for split in fsdd.SPLITS}
    assert counts == {"train": 2400, "val": 300, "test": 300}
    # the official test split (indices 0-4) is untouched; validation is carved out of training
    assert {r.index for r in recordings if r.split == "test"} == set(range(5))
    assert {r.index for r in recordings if r.split == "val"} == set(range(5, 10))
    assert {r.speaker for r in recordings} == {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}


def test_spectrogram_band_of_a_pure_tone():
    t = np.arange(8000) / 8000.0
    spec = fsdd.spectrogram(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert spec.shape == (64, 64)
    assert np.all(spec.argmax(axis=1) == 16)  # band k covers [62.5 k, 62.5 (k+1)) Hz
    short = fsdd.spectrogram(np.sin(2 * np.pi * 3000 * t[:1200]).astype(np.float32))
    assert short.shape == (64, 64) and np.all(short.argmax(axis=1) == 48)


def test_modified_recording_is_rejected(tmp_path):
    members = _builtin_members(3)
    name, data = members[1]
    members[1] = (name, data[:-2] + b"\x00\x01")
    bad = _tar(tmp_path / "bad.tar.gz", members)
    with pytest.raises(DataError, match=f"sha256 mismatch.*{name.split('/')[-1]}|{name}: sha256 mismatch"):
        fsdd.read_recordings(bad, expect_complete=False)


def test_incomplete_truncated_and_empty_archives(tmp_path):
    partial = _tar(tmp_path / "partial.tar.gz", _builtin_members(5))
    with pytest.raises(DataError, match="2995 of 3000 recordings missing"):
        fsdd.read_recordings(partial, expect_complete=True)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(fsdd.builtin_archive().read_bytes()[:200_000])
    with pytest.raises(DataError, match="truncated.tar.gz"):
        fsdd.read_recordings(truncated, expect_complete=False)
    empty = _tar(tmp_path / "empty.tar.gz", [("README.md", b"hello")])
    with pytest.raises(DataError, match="no recordings"):
        fsdd.read_recordings(empty, expect_complete=False)


def test_an_archive_without_a_split_is_refused(tmp_path):
    only_test = [m for m in _builtin_members(300) if m[0].endswith("_0.wav")][:20]
    with pytest.raises(DataError, match="no recordings in the train, val split"):
        fsdd.build_spectrograms(_tar(tmp_path / "t.tar.gz", only_test), tmp_path / "s.npz", expect_complete=False)


def test_a_bad_archive_never_becomes_a_finished_download(tmp_path):
    from glifbench.cli import main

    bad = tmp_path / "mirror.tar.gz"
    bad.write_bytes(fsdd.builtin_archive().read_bytes())  # genuine recordings, but not all 3,000
    dest = tmp_path / "downloads/recordings.tar.gz"
    args = ["fetch", "--url", "https://example.invalid/v1.0.10.tar.gz", "--dest", str(dest), "--algorithm", "sha256",
            "--mirror", str(bad), "--verify", "fsdd-recordings"]  # fmt: skip
    assert main(args) == 1 and not dest.exists() and not list(dest.parent.glob("*"))


def test_a_corrupt_cached_archive_is_removed_only_when_asked(tmp_path, capsys):
    from glifbench.cli import main

    cached = tmp_path / "recordings.tar.gz"
    cached.write_bytes(fsdd.builtin_archive().read_bytes()[:100_000])
    args = ["fsdd", "--archive", str(cached), "--out", str(tmp_path / "s.npz")]
    assert main(args) == 1 and cached.exists()  # not a file the workflow made: left alone
    assert main([*args, "--remove-if-corrupt"]) == 1 and not cached.exists()
    assert "removed" in capsys.readouterr().err and not (tmp_path / "s.npz").exists()
    assert main(["fsdd", "--archive", "builtin", "--out", str(tmp_path / "b.npz"), "--remove-if-corrupt"]) == 0
