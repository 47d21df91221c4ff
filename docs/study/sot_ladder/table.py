"""The ladder's runs as one table: validation MSE per epoch of every (unit type, seed) run committed
under a rung's folder, its activity after the first epoch, and the verdict of the rule fixed
before the runs (docs/study.md, "The ladder"): a run has *left chance* if its validation MSE is
below ``--line`` (0.07) by its last epoch; a unit type *learns* the rung if at least ``--needed``
(2) of its seeds did, with ``--seeds`` (3) run; with fewer seeds it gets no verdict.

    python docs/study/sot_ladder/table.py docs/study/sot_ladder/contrast_mid+calibrate=0.05

prints a Markdown table (one row per unit type, in the registry's order) to stdout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glifbench.analysis.runs import load_metrics
from glifbench.names import UNIT_TYPES


def verdicts(root: Path, line: float = 0.07, seeds: int = 3, needed: int = 2) -> dict[str, dict]:
    """Per unit type under ``root`` (``<unit>/seed<k>/``, read by the analysis's ``load_metrics``;
    the registry's order): its ``runs`` by seed (validation MSE per epoch, the first epoch's
    activity in % per layer), how many ``left`` chance (last epoch's validation MSE below ``line``)
    the ``verdict`` ("yes" / "no" with at least ``seeds`` runs, else "no verdict") and ``last``, the
    last epoch's validation MSE over the seeds as ``(mean, sd, n)`` (sample sd; 0 for one run), the
    form of Table III's SOT column."""
    folders = sorted(p.parent for p in root.glob("*/seed*/metrics.csv"))
    if not folders:
        return {}
    metrics = load_metrics(folders).sort_values("epoch")
    layers = sorted(c for c in metrics.columns if c.startswith("activity_"))
    table = {}
    for unit in [u for u in UNIT_TYPES if u in set(metrics.unit)]:
        runs = {int(seed): {"val": run["val_loss"].tolist(), "activity": [100 * run[k].iloc[0] for k in layers]}
                for seed, run in metrics[metrics.unit == unit].groupby("seed")}  # fmt: skip
        left = sum(run["val"][-1] < line for run in runs.values())
        verdict = ("yes" if left >= needed else "no") if len(runs) >= seeds else "no verdict"
        last = np.array([run["val"][-1] for run in runs.values()])
        table[unit] = {"runs": runs, "left": left, "verdict": verdict,
                       "last": (float(last.mean()), float(last.std(ddof=1)) if len(last) > 1 else 0.0, len(last))}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rung", type=Path, help="a folder holding runs/sot/<arch>/<unit>/seed<k>/metrics.csv")
    parser.add_argument("--arch", default="CRNN")
    parser.add_argument("--line", type=float, default=0.07)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--needed", type=int, default=2)
    args = parser.parse_args()
    root = args.rung / "runs" / "sot" / args.arch
    table = verdicts(root, args.line, args.seeds, args.needed)
    if not table:
        raise SystemExit(f"no runs under {root}")
    print(f"| {args.arch} unit | seed: validation MSE per epoch (activity after epoch 1, layers %) | "
          f"seeds below {args.line} / run | learns (>= {args.needed} of {args.seeds}) | last epoch, mean ± sd (n) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for unit, row in table.items():
        cells = [f"{seed}: {' / '.join(f'{v:.4f}' for v in run['val'])} ({' / '.join(f'{a:.0f}' for a in run['activity'])})"
                 for seed, run in row["runs"].items()]  # fmt: skip
        mean, sd, n = row["last"]
        print(f"| {unit} | {'<br>'.join(cells)} | {row['left']} / {len(row['runs'])} | {row['verdict']} | "
              f"{mean:.4f} ± {sd:.4f} ({n}) |")  # fmt: skip


if __name__ == "__main__":
    main()
