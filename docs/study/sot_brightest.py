"""How far does a tracker with no learning get on a SOT stimulus? Four fixed detectors per frame.

    python docs/study/sot_brightest.py --data NAME=results/data/sot [...] [--split val] [--out DIR]

A diagnostic for the SOT ladder (docs/study.md): the binary CRNNs learn the easier stimuli and stay
at chance on the ones with the paper's weak contrast. Is that where the object stops being the
brightest thing in the frame? For every frame ``t`` of every trial of a split, with ``x_t`` the
frame (30 x 30 intensities in [0, 1]) and ``p_t`` the object's true position ((x, y) in [0, 1],
what the networks are trained to output):

* **brightest pixel**: ``q_t = argmax_ij x_t[i, j]`` (the first of ties), as ``(j, i) / (W - 1)``;
* **brightest pixel of the last 4 frames' mean** ``(x_{t-3} + ... + x_t) / 4`` (fewer at the
  start): averages independent pixel noise over time; the object moves ~1/3 px per frame;
* **brightest 2 x 2 patch**: the centre of the 2 x 2 block with the largest sum (the object's
  splat spreads its intensity over such a block; the sum averages pixel noise, not texture);
* **brightest change from the first frame**: ``q_t = argmax_ij (x_t - x_0)[i, j]``: where the
  window does not move, the object is the only thing that changes.

Reported per stimulus and detector: the position MSE ``mean_t,trial,coord (q_t - p_t)^2`` over
all frames (as the networks' validation MSE, which starts at frame 0), against the MSE of always
answering the split's mean position (chance, ~0.083); and the fraction of frames whose answer
lies within 1.5 px of the object (its bilinear splat covers the 2 x 2 pixels around it). Nothing
is trained; only the split named is read (SOT has training and validation splits only).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from glifbench.data.sot_store import load_shard


def brightest(image: np.ndarray, offset: float, width: int) -> np.ndarray:
    """(x, y) in [0, 1] of the largest value of each (n, T, h, w) map; a map's pixel (i, j) sits at
    ``(j + offset, i + offset)`` pixels of a frame ``width`` pixels wide."""
    n, T, h, w = image.shape
    flat = image.reshape(n, T, h * w).argmax(axis=-1)
    return (np.stack([flat % w, flat // w], axis=-1) + offset).astype(np.float32) / (width - 1)


def detector_answers(frames: np.ndarray) -> dict[str, np.ndarray]:
    """``{detector: (n, T, 2) positions}`` for ``frames`` of shape (n, T, H, W), (x, y) in [0, 1]."""
    T, W = frames.shape[1], frames.shape[-1]
    x = frames.astype(np.float32)
    cum = np.cumsum(x, axis=1)
    recent = cum - np.concatenate([np.zeros_like(cum[:, :4]), cum[:, :-4]], axis=1)  # frames t-3..t
    recent /= np.minimum(np.arange(1, T + 1), 4).astype(np.float32)[None, :, None, None]
    patch = x[..., :-1, :-1] + x[..., 1:, :-1] + x[..., :-1, 1:] + x[..., 1:, 1:]
    return {
        "brightest pixel": brightest(x, 0.0, W),
        "brightest change from frame 0": brightest(x - x[:, :1], 0.0, W),
        "brightest pixel of the last 4 frames' mean": brightest(recent, 0.0, W),
        "brightest 2x2 patch": brightest(patch, 0.5, W),  # a patch's centre: half a pixel in
    }


def evaluate(index: Path) -> list[dict[str, float | str]]:
    """Sums over the shards of one split's index file (``<split>.json``), then the statistics."""
    meta = json.loads(index.read_text())
    root = index.parent.parent.parent.parent  # results/data/sot/<split>.json -> the workflow's folder
    sums: dict[str, list[float]] = {}
    positions = []
    for shard in meta["shards"]:
        frames, target = load_shard(root / shard["path"])
        positions.append(target.reshape(-1, 2))
        for name, answer in detector_answers(frames).items():
            err = answer - target
            near = np.sqrt((err**2).sum(-1)) * (frames.shape[-1] - 1) <= 1.5
            s = sums.setdefault(name, [0.0, 0.0, 0.0])
            s[0] += float((err**2).sum())
            s[1] += float(near.sum())
            s[2] += err.shape[0] * err.shape[1]
    pos = np.concatenate(positions)
    chance = float(((pos - pos.mean(0)) ** 2).mean())
    params = meta["params"]
    rows = []
    for name, (sq, near, frames_n) in sums.items():
        rows.append({
            "detector": name, "target_intensity": params["target_intensity"],
            "noise_scale": params["noise_scale"], "ou_sigma": params["ou_sigma"],
            "mse": sq / (2 * frames_n), "chance_mse": chance, "frames_within_1.5px": near / frames_n,
            "trials": int(meta["n_trials"]),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", required=True, metavar="NAME=DIR",
                        help="a stimulus's name and the results/data/sot folder holding its splits")  # fmt: skip
    parser.add_argument("--split", default="val", choices=["train", "val"])
    parser.add_argument("--out", type=Path, help="folder for sot_brightest.csv and .md")
    args = parser.parse_args()
    rows = []
    for item in args.data:
        name, sep, folder = item.partition("=")
        index = Path(folder) / f"{args.split}.json"
        if not sep or not index.is_file():
            raise SystemExit(f"--data {item}: expected NAME=DIR with DIR/{args.split}.json")
        rows += [{"stimulus": name, **row} for row in evaluate(index)]
    head = "| stimulus | object | noise | drift (OU sigma) | detector | MSE | chance | frames within 1.5 px |"
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append(
            f"| {r['stimulus']} | +{r['target_intensity']} | {r['noise_scale']} | {r['ou_sigma']} | {r['detector']} "
            f"| {r['mse']:.4f} | {r['chance_mse']:.4f} | {100 * r['frames_within_1.5px']:.1f} % |"
        )
    print("\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "sot_brightest.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (args.out / "sot_brightest.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
