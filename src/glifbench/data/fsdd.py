"""Free Spoken Digit Dataset: verified reading of the recordings and 64x64 spectrograms.

Recordings are read straight out of the archive (upstream tarball, local mirror, or the subset
embedded in the package), each checked against the sha256 manifest of the 3,000 files of
release v1.0.10. The official split puts recording indices 0-4 in the test set, 5-49 in training;
glifbench holds indices 5-9 of every speaker and digit out of training as the validation set on
which every choice is made (300 recordings), so training uses indices 10-49 (2,400) and the test set
is only ever used for the reported numbers.

Spectrogram recipe (paper IV-A: 64 time bins x 64 bands over 0-4 kHz; details are ours, see
``docs/data.md``): Hann-windowed STFT (``n_fft`` 256 = 32 ms, hop 64 = 8 ms at 8 kHz), power
``|X|^2``; the 128 bins below 4 kHz are averaged in pairs into 64 equal-width bands of 62.5 Hz;
the STFT frames are resampled to 64 time bins by area averaging (``cv2.INTER_AREA``, linear
when a recording is shorter than 64 frames); ``log(power + eps)``; per-band standardisation with
mean and standard deviation of the training split only (indices 10-49).
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import soundfile

from glifbench.errors import CorruptFile, DataError
from glifbench.io import save_npz

SAMPLE_RATE = 8000
NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
TEST_INDICES = range(0, 5)  # the official test split
VAL_INDICES = range(5, 10)  # carved out of the official training split
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Recording:
    name: str
    digit: int
    speaker: str
    index: int
    audio: np.ndarray

    @property
    def split(self) -> str:
        if self.index in TEST_INDICES:
            return "test"
        return "val" if self.index in VAL_INDICES else "train"


def builtin_archive() -> Path:
    """The embedded subset of genuine recordings shipped with the package."""
    return Path(str(resources.files("glifbench.resources") / "fsdd_subset.tar.gz"))


def load_manifest(path: str | Path | None = None) -> dict[str, str]:
    """``{file name: sha256}`` of the 3,000 recordings (the packaged manifest by default)."""
    if path is None:
        path = Path(str(resources.files("glifbench.resources") / "fsdd_recordings.sha256"))
    manifest = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            manifest[name] = digest
    return manifest


def read_recordings(archive: str | Path, expect_complete: bool) -> list[Recording]:
    """Read and verify every recording inside a ``.tar.gz`` archive.

    Each ``*/recordings/{digit}_{speaker}_{index}.wav`` member must match the manifest's sha256
    and be 8 kHz mono. With ``expect_complete`` all 3,000 recordings must be present.
    """
    archive = Path(archive)
    manifest = load_manifest()
    found: list[Recording] = []
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError) as err:
        raise CorruptFile(archive, f"not a readable tar archive: {archive}: {err}") from err
    with tar:
        try:
            for member in tar:
                name = Path(member.name).name
                match = NAME.match(name)
                if not member.isfile() or not match or Path(member.name).parent.name != "recordings":
                    continue
                data = tar.extractfile(member).read()
                if manifest.get(name) != hashlib.sha256(data).hexdigest():
                    why = "unknown file" if name not in manifest else "sha256 mismatch"
                    raise CorruptFile(archive, f"{archive}: {member.name}: {why} (not an FSDD v1.0.10 recording)")
                audio, rate = soundfile.read(io.BytesIO(data), dtype="float32")
                if rate != SAMPLE_RATE or audio.ndim != 1:
                    raise CorruptFile(archive, f"{archive}: {member.name}: expected 8 kHz mono, got {rate} Hz")
                digit, speaker, index = int(match[1]), match[2], int(match[3])
                found.append(Recording(name, digit, speaker, index, audio))
        except (tarfile.TarError, EOFError, OSError) as err:
            raise CorruptFile(archive, f"truncated or corrupt archive {archive}: {err}") from err
    if not found:
        raise CorruptFile(archive, f"{archive}: no recordings/*.wav files found")
    names = {r.name for r in found}
    if len(names) != len(found):
        raise CorruptFile(archive, f"{archive}: duplicate recordings")
    if expect_complete and names != set(manifest):
        missing = sorted(set(manifest) - names)
        raise CorruptFile(
            archive,
            f"{archive}: {len(missing)} of {len(manifest)} recordings missing, e.g. {missing[:3]}"
        )
    return sorted(found, key=lambda r: r.name)


def spectrogram(
    audio: np.ndarray, n_time: int = 64, n_bands: int = 64, n_fft: int = 256, hop: int = 64,
    eps: float = 1e-6,
) -> np.ndarray:  # fmt: skip
    """Log band-power spectrogram ``(n_time, n_bands)`` of an 8 kHz waveform (recipe above)."""
    n_bins = n_fft // 2  # bins 0 .. 4 kHz - 31.25 Hz; the Nyquist bin is dropped
    if n_bins % n_bands:
        raise ValueError(f"n_fft/2 = {n_bins} must be a multiple of n_bands = {n_bands}")
    if len(audio) < n_fft:
        audio = np.pad(audio, (0, n_fft - len(audio)))
    n_frames = 1 + (len(audio) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = audio[idx] * np.hanning(n_fft).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)[:, :n_bins]) ** 2  # (frames, bins)
    bands = power.reshape(n_frames, n_bands, n_bins // n_bands).mean(axis=2).astype(np.float32)
    method = cv2.INTER_AREA if n_frames >= n_time else cv2.INTER_LINEAR
    resized = cv2.resize(bands, (n_bands, n_time), interpolation=method)  # (n_time, n_bands)
    return np.log(np.maximum(resized, 0.0) + eps).astype(np.float32)


def build_spectrograms(archive: str | Path, dest: str | Path, expect_complete: bool, **recipe) -> dict:
    """Spectrograms of every recording, split (train / val / test) and standardised, saved to ``dest``."""
    recordings = read_recordings(archive, expect_complete)
    specs = np.stack([spectrogram(r.audio, **recipe) for r in recordings])
    digits = np.array([r.digit for r in recordings], dtype=np.int64)
    speakers = np.array([r.speaker for r in recordings])
    split = np.array([r.split for r in recordings])
    indices = np.array([r.index for r in recordings], dtype=np.int64)
    empty = [name for name in SPLITS if not (split == name).any()]
    if empty:
        raise DataError(f"{archive}: no recordings in the {', '.join(empty)} split(s) (indices: test "
                        f"{TEST_INDICES.start}-{TEST_INDICES.stop - 1}, val {VAL_INDICES.start}-{VAL_INDICES.stop - 1})")  # fmt: skip
    train = split == "train"
    mean = specs[train].mean(axis=(0, 1))
    std = specs[train].std(axis=(0, 1)) + 1e-6
    specs = (specs - mean) / std
    arrays = {}
    for name in SPLITS:
        chosen = split == name
        arrays.update({f"x_{name}": specs[chosen], f"y_{name}": digits[chosen], f"speaker_{name}": speakers[chosen],
                       f"index_{name}": indices[chosen]})  # fmt: skip
    save_npz(dest, band_mean=mean, band_std=std, **arrays)
    return {f"n_{name}": int((split == name).sum()) for name in SPLITS}
