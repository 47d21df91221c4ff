"""The FSDD study's decision scores per seed and from the three-seed means (docs/study.md, stage 3).

    python docs/study/rank_by_seed.py --study results/settings/study-<hash>.json [--runs docs/study/runs]

The study file is the one the workflow writes for `docs/study/fsdd.yaml` (docs/study.md,
"Commands"); the runs are read as `glifbench study` reads them (a cell a variant shares with an
earlier variant reads that one's runs). For every variant whose unit types all have seeds 0, 1
and 2, from each run's last-epoch validation accuracy:

* per seed: the decision rule's screen scores (``glifbench.analysis.study.integrator_split``):
  *gap* = the worst integrator (HLIF, HIAF, LIF, IAF, BLI, BI) minus the better of HBA and BA, and
  how many of the 12 (integrator, HBA/BA) pairs the integrator wins;
* from the means over the seeds: the same scores (the rule's stage-2 statistic; the gap of the
  means is not the mean of the seeds' gaps, and equals `claims.csv`'s), the worst integrator's
  mean and the mean of the four reset units (HLIF, HIAF, LIF, IAF).

Prints a markdown table, best three-seed gap first. Reads committed files only; trains nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from glifbench.analysis.runs import final_epochs
from glifbench.analysis.study import integrator_split, study_metrics
from glifbench.names import UNIT_TYPES
from glifbench.tables.paper import INTEGRATORS

RESET_UNITS = [u for u in INTEGRATORS if UNIT_TYPES[u].switches.get("reset")]  # HLIF, HIAF, LIF, IAF
SEEDS = [0, 1, 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, required=True, help="the workflow's study file of docs/study/fsdd.yaml")
    parser.add_argument("--runs", type=Path, default=Path("docs/study/runs"))
    args = parser.parse_args()
    study = json.loads(args.study.read_text())
    final = final_epochs(study_metrics(args.runs, study, partial=True), by=("variant", "task", "arch", "unit", "seed"))
    final = final[final.task == "fsdd"].assign(accuracy=lambda f: 100 * f.val_accuracy)
    rows = []
    for variant, runs in final.groupby("variant", sort=False):
        table = runs.pivot(index="seed", columns="unit", values="accuracy")
        if sorted(table.index) != SEEDS or table.isna().any().any():
            continue  # a variant without all three seeds of every unit type
        per_seed = [integrator_split(table.loc[seed].to_dict()) for seed in SEEDS]
        mean = table.mean().to_dict()
        split = integrator_split(mean)
        worst = min(mean[u] for u in INTEGRATORS)
        reset = sum(mean[u] for u in RESET_UNITS) / len(RESET_UNITS)
        rows.append((variant, per_seed, split, worst, reset))
    print("| variant | seed 0: gap / pairs | gap on seeds 0, 1, 2 | three-seed means: gap / pairs "
          "| worst integrator (mean) | the four reset units (mean) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for variant, per_seed, split, worst, reset in sorted(rows, key=lambda r: -r[2]["gap"]):
        each = ", ".join(f"{s['gap']:+.1f}" for s in per_seed)
        first = per_seed[0]
        print(f"| {variant} | {first['gap']:+.1f} / {first['ahead']} | {each} | {split['gap']:+.1f} / {split['ahead']} "
              f"| {worst:.1f} | {reset:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
