"""The ladder's runs as one table: validation MSE per epoch of every (unit type, seed) run committed
under a rung's folder, its activity after the first epoch, and the verdict of the rule fixed
before the runs (docs/study.md, "The ladder"): a run has *left chance* if its validation MSE is
below ``--line`` (0.07) by its last epoch; a unit type *learns* the rung if at least ``--needed``
(2) of its ``--seeds`` (3) seeds did. With fewer seeds run the verdict is given once the seeds
still to run can no longer change it (2 of 2 below: yes; 0 of 2: no), else "no verdict".

    python docs/study/sot_ladder/table.py docs/study/sot_ladder/contrast_mid+calibrate=0.05

prints a Markdown table (one row per unit type, in the registry's order) to stdout. With
``--against OTHER`` (another folder of runs) a last column compares each unit type's last-epoch
mean with OTHER's by the project's rule (glifbench.tables.claims): "lower" / "higher" when the
difference exceeds two standard errors of it, else "not resolved" (one seed on either side: not
tested).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glifbench.analysis.runs import load_metrics
from glifbench.names import UNIT_TYPES
from glifbench.tables.claims import MISSING, beats
from glifbench.tasks import task


def verdicts(root: Path, line: float = 0.07, seeds: int = 3, needed: int = 2) -> dict[str, dict]:
    """Per unit type under ``root`` (``<unit>/seed<k>/``, read by the analysis's ``load_metrics``;
    the registry's order): its ``runs`` by seed (validation MSE per epoch, the first epoch's
    activity in % per layer), how many ``left`` chance (last epoch's validation MSE below ``line``),
    the ``verdict`` ("yes" / "no" once the seeds still to run, ``seeds`` minus those run, cannot
    change it, else "no verdict") and ``last``, the last epoch's validation MSE over the seeds as
    ``(mean, sd, n)`` (sample sd; 0 for one run), the form of Table III's SOT column."""
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
        to_run = max(seeds - len(runs), 0)
        verdict = "yes" if left >= needed else "no" if left + to_run < needed else "no verdict"
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
    parser.add_argument("--against", type=Path, help="another folder of runs to compare the last epochs with")
    args = parser.parse_args()
    root = args.rung / "runs" / "sot" / args.arch
    table = verdicts(root, args.line, args.seeds, args.needed)
    if not table:
        raise SystemExit(f"no runs under {root}")
    other = None
    if args.against:
        other = verdicts(args.against / "runs" / "sot" / args.arch, args.line, args.seeds, args.needed)
    extra = f" against {args.against.name}: mean ± sd (n), last epoch |" if other is not None else ""
    print(f"| {args.arch} unit | seed: validation MSE per epoch (activity after epoch 1, layers %) | "
          f"seeds below {args.line} / run | learns (>= {args.needed} of {args.seeds}) | last epoch, mean ± sd (n) |{extra}")  # fmt: skip
    print("|---|---|---|---|---|" + ("---|" if extra else ""))
    for unit, row in table.items():
        cells = [f"{seed}: {' / '.join(f'{v:.4f}' for v in run['val'])} ({' / '.join(f'{a:.0f}' for a in run['activity'])})"
                 for seed, run in row["runs"].items()]  # fmt: skip
        mean, sd, n = row["last"]
        line = (f"| {unit} | {'<br>'.join(cells)} | {row['left']} / {len(row['runs'])} | {row['verdict']} | "
                f"{mean:.4f} ± {sd:.4f} ({n}) |")  # fmt: skip
        if other is not None:
            line += f" {against(row, other.get(unit))} |"
        print(line)


def against(row: dict, reference: dict | None) -> str:
    """``row``'s last-epoch mean against ``reference``'s: "lower" / "higher" beyond two standard
    errors of the difference (the project's rule, validation MSE: lower is better), "not resolved"
    within them, the rule's own words with one seed on either side or no reference."""
    if reference is None:
        return MISSING
    stat = [dict(zip(("mean", "sd", "n"), r["last"])) for r in (row, reference)]
    verdict = beats(task("sot"), *stat)
    word = {"yes": "lower", "no": "higher"}.get(verdict, verdict)
    mean, sd, n = reference["last"]
    return f"{mean:.4f} ± {sd:.4f} ({n}): {word}"


if __name__ == "__main__":
    main()
