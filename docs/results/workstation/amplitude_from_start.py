"""Recurrent weight amplitude of trained CRNNs against where their training started.

The paper (IV-C) reads the recurrent weights' mean-squared amplitude after training (on MNIST:
HBA and BA 0.04, BLI 0.78) as a sign that units which cannot use recurrence minimise it. An
amplitude after training says that only against its start, which this script rebuilds for every
run: the job's network as the trainer builds it (``start_job``: seeded, built and, where the
settings ask, its activity calibrated on the job's first seeded training batch), without
training it. For every unit it prints the mean-squared amplitude of the recurrent kernels
(autapses included, both layers, pooled over seeds, as ``glifbench weights --part amplitude``
computes it) at the start and after training, and their ratio per seed.

Run from the folder the runs' data paths are relative to (the workflow's working directory):
    python amplitude_from_start.py TASK RUNS_ROOT SEEDS UNITS... > amplitude_from_start.md
e.g.  cd /work/sot-ladder/<spec> && python .../amplitude_from_start.py sot results/runs 0,1,2 Real HLIF ...
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from glifbench.analysis.weights import recurrent_amplitude
from glifbench.layout import run_dir
from glifbench.models.saved import load_model
from glifbench.models.weights import extract_weights
from glifbench.training.trainer import JobSpec, start_job


def start_of(folder: Path, scratch: Path):
    """The network the run's job started training from (no checkpoint: a fresh start)."""
    meta = json.loads((folder / "config.json").read_text())
    meta["config"]["model"].setdefault("calibrate_bias", False)  # runs written before the key: no bias calibration
    spec = JobSpec(meta["task"], meta["arch"], meta["unit"], meta["seed"], scratch / "run", scratch / "none.pt",
                   meta["data"], meta["config"], evaluate_test=False)  # fmt: skip
    return start_job(spec).model.cpu()


def main(task: str, root: str, seeds: list[int], units: list[str]) -> None:
    print("| unit | start | trained | trained / start, per seed |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for unit in units:
            start, end, ratios = [], [], []
            for seed in seeds:
                folder = Path(run_dir(task, "CRNN", unit, seed, root))
                a, b = extract_weights(start_of(folder, Path(scratch))), extract_weights(load_model(folder))
                start += a
                end += b
                ratios.append(recurrent_amplitude(b) / recurrent_amplitude(a))
            s, e = recurrent_amplitude(start), recurrent_amplitude(end)
            print(f"| {unit} | {s:.4g} | {e:.4g} | {' / '.join(f'{r:.2f}' for r in ratios)} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")], sys.argv[4:])
