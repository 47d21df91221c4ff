"""The FSDD study's decision scores per seed and from the three-seed means (docs/study.md, stage 3).

    python docs/study/rank_by_seed.py [--summary docs/study/fsdd_stage3/summary.csv] \
        [--claims docs/study/fsdd_stage3/claims.csv] [--runs docs/study/runs]

For every variant whose nine cells have seeds 0, 1 and 2, from each run's last-epoch validation
accuracy (``metrics.csv``; a cell a variant shares with an earlier variant reads that one's runs,
the ``runs_of`` column of ``summary.csv``):

* per seed ``s``: *gap* = min over the integrators (HLIF, HIAF, LIF, IAF, BLI, BI) of the accuracy
  minus max over HBA and BA; *pairs* = how many of the 12 (integrator, HBA/BA) pairs the
  integrator wins (the decision rule's screen scores, docs/study.md);
* from the means over the seeds: the same gap (the rule's stage-2 statistic; not the mean of the
  seeds' gaps), the pairs of ``claims.csv``, the worst integrator's mean and the mean of the four
  reset units (HLIF, HIAF, LIF, IAF).

Prints a markdown table, best three-seed gap first. Reads committed files only; trains nothing.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from glifbench.tables.paper import INTEGRATORS, NON_INTEGRATORS

RESET_UNITS = ["HLIF", "HIAF", "LIF", "IAF"]
SEEDS = (0, 1, 2)


def last_accuracy(runs: Path, variant: str, unit: str, seed: int) -> float | None:
    """Last-epoch validation accuracy (%) of one FSDD CRNN run, or None where it has not run."""
    path = runs / variant / "fsdd" / "CRNN" / unit / f"seed{seed}" / "metrics.csv"
    if not path.is_file():
        return None
    rows = list(csv.DictReader(path.open()))
    return 100 * float(rows[-1]["val_accuracy"])


def scores(acc: dict[str, float]) -> tuple[float, int]:
    """(gap, pairs) of one set of accuracies per unit type."""
    gap = min(acc[u] for u in INTEGRATORS) - max(acc[u] for u in NON_INTEGRATORS)
    pairs = sum(acc[i] > acc[n] for i in INTEGRATORS for n in NON_INTEGRATORS)
    return gap, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--summary", type=Path, default=Path("docs/study/fsdd_stage3/summary.csv"))
    parser.add_argument("--claims", type=Path, default=Path("docs/study/fsdd_stage3/claims.csv"))
    parser.add_argument("--runs", type=Path, default=Path("docs/study/runs"))
    args = parser.parse_args()
    summary = [r for r in csv.DictReader(args.summary.open()) if r["task"] == "fsdd"]
    claims = {r["variant"]: r for r in csv.DictReader(args.claims.open()) if r["task"] == "fsdd"}
    rows = []
    for variant in dict.fromkeys(r["variant"] for r in summary):
        cells = {r["unit"]: r for r in summary if r["variant"] == variant}
        per_seed = []
        for seed in SEEDS:
            acc = {u: last_accuracy(args.runs, cells[u]["runs_of"], u, seed) for u in cells}
            if any(acc.get(u) is None for u in INTEGRATORS + NON_INTEGRATORS):
                break
            per_seed.append(scores(acc))
        if len(per_seed) < len(SEEDS):
            continue  # a variant without all three seeds of every unit type
        mean = {u: float(cells[u]["mean"]) for u in cells}
        gap, _ = scores(mean)
        worst = min(mean[u] for u in INTEGRATORS)
        reset = sum(mean[u] for u in RESET_UNITS) / len(RESET_UNITS)
        pairs = claims[variant]["pairs ahead (integrator, HBA/BA)"].split("/")[0]
        rows.append((variant, per_seed, gap, pairs, worst, reset))
    print("| variant | seed 0: gap / pairs | gap on seeds 0, 1, 2 | three-seed means: gap / pairs "
          "| worst integrator (mean) | the four reset units (mean) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for variant, per_seed, gap, pairs, worst, reset in sorted(rows, key=lambda r: -r[2]):
        each = ", ".join(f"{g:+.1f}" for g, _ in per_seed)
        g0, p0 = per_seed[0]
        print(f"| {variant} | {g0:+.1f} / {p0} | {each} | {gap:+.1f} / {pairs} | {worst:.1f} | {reset:.1f} |")


if __name__ == "__main__":
    main()
