"""How far the SOT CRNN autapses of LIF and BLI moved from where training started.

A job seeds torch with its seed and then builds its network (glifbench.models.saved.initial_network,
where every training job starts), so LIF and BLI of one seed start from the same autapses. This
rebuilds each run's network at that point (before the activity calibration, which scales weights
by a positive factor and so keeps their signs) and compares its autapses with the trained model's:
median and fraction positive at the start and the end, the fraction that kept its sign, and the
correlation of start and end.
Usage: python docs/results/workstation/sot_autapses_from_start.py RUNS_ROOT > sot/autapses_from_start.md
"""

from __future__ import annotations

import sys

import numpy as np

from glifbench.analysis.weights import weight_sets
from glifbench.layout import run_dir
from glifbench.models.saved import load_initial_model, load_model
from glifbench.models.weights import extract_weights


def autapses(model) -> np.ndarray:
    """The autapses of every recurrent layer of ``model``, in layer order."""
    return np.asarray(weight_sets(extract_weights(model))["autapses"])


def main(root: str) -> None:
    print("| unit | seed | start: median (positive) | trained: median (positive) | sign kept | correlation |")
    print("|---|---|---|---|---|---|")
    for unit in ("LIF", "BLI"):
        for seed in (0, 1, 2):
            folder = run_dir("sot", "CRNN", unit, seed, root)
            start = autapses(load_initial_model(folder))
            end = autapses(load_model(folder))
            print(f"| {unit} | {seed} | {np.median(start):.3f} ({np.mean(start > 0):.0%}) | "
                  f"{np.median(end):.3f} ({np.mean(end > 0):.0%}) | {np.mean(np.sign(start) == np.sign(end)):.0%} | "
                  f"{np.corrcoef(start, end)[0, 1]:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
