"""Tables I and III from run results: mean +- sd over seeds with n, beside the paper's values.

Table I reports each SOT network's last-epoch validation MSE (as the paper's Table I); Table III
reports what every run's ``test.json`` holds: MNIST and FSDD accuracy on their test splits, SOT MSE
on its validation set (SOT has no test split). The "Holds here" verdicts use the seeds
(:mod:`glifbench.analysis.claims`): a difference counts only beyond two standard errors, and one
seed reads "1 seed: not tested". A missing run is an error naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from glifbench.tables.claims import all_of, beats
from glifbench.io import atomic_path
from glifbench.tables import paper
from glifbench.tasks import TASKS, task


def summarise(values: pd.Series) -> dict[str, float]:
    """mean, sample sd (0 for one seed) and n."""
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "n": int(len(values))}


def fmt(stat: dict[str, float] | None, digits: int) -> str:
    if stat is None:
        return "-"
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f} (n={stat['n']})"


def _cell(results: pd.DataFrame, name: str, arch: str, unit: str, column: str) -> dict | None:
    rows = results[(results.task == name) & (results.arch == arch) & (results.unit == unit)]
    if rows.empty or column not in rows:
        return None
    return summarise(rows[column] * task(name).scale)


def table1(final: pd.DataFrame, archs: Iterable[str]) -> pd.DataFrame:
    """Validation MSE per architecture (SOT, real units, last epoch) with the paper's value."""
    archs = list(archs)
    stats = {arch: _cell(final, "sot", arch, "Real", "val_loss") for arch in archs}
    sot = task("sot")
    rows = []
    for arch, stat in stats.items():
        crnn = "CRNN" in arch
        others = [a for a in archs if ("CRNN" in a) != crnn]
        pairs = [(stat, stats[o]) if crnn else (stats[o], stat) for o in others]
        rows.append({
            "Network": arch, "Validation loss (ours)": fmt(stat, 4),
            "Validation loss (paper)": paper.TABLE1_VAL_LOSS.get(arch),
            "Paper's claim": "beats every network without a CRNN layer" if crnn else "worse than every network with a CRNN layer",
            "Holds here": all_of([beats(sot, a, b) for a, b in pairs]),
            "mean": stat and stat["mean"], "sd": stat and stat["sd"], "n": stat and stat["n"],
        })  # fmt: skip
    return pd.DataFrame(rows)


TEMPORAL = [name for name, t in TASKS.items() if t.temporal]
TASKS_IN_PAPER_ORDER = [(name, TASKS[name]) for name in paper.TABLE3_TASKS]  # the paper's column order


def table3(results: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """Per unit type: each task's reported metric (``test.json``) and the paper's claim for the row."""
    rows, stats = [], {}
    entries = [("Real (CNN-RNN)", "CNN-RNN", "Real")] + [(u, "CRNN", u) for u in units]
    for label, arch, unit in entries:
        row = {"Unit type": label}
        for i, (name, spec) in enumerate(TASKS_IN_PAPER_ORDER):
            stat = _cell(results, name, arch, unit, spec.metric)
            stats[(label, name)] = stat
            row[f"{spec.label} (ours)"] = fmt(stat, spec.digits)
            row[f"{spec.label} (paper)"] = paper.TABLE3.get(label, (None, None, None))[i]
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["Paper's claim"] = [_claim_text(r["Unit type"]) for r in rows]
    frame["Holds here"] = [_claim_holds(r["Unit type"], stats) for r in rows]
    return frame



def _claim_text(label: str) -> str:
    if label in paper.INTEGRATORS:
        return "beats HBA and BA on FSDD and SOT"
    if label in paper.NON_INTEGRATORS:
        return "worse than every integrator unit on FSDD and SOT"
    if label in ("Real", "Real (CNN-RNN)"):
        return "CRNN beats CNN-RNN on SOT"
    return "-"  # a unit type glifbench added: the paper claims nothing of it


def _claim_holds(label: str, stats) -> str:
    """The row's claim over the tasks and units present, with the seeds' standard errors."""
    if label in paper.INTEGRATORS:
        pairs = [(label, other, t) for other in paper.NON_INTEGRATORS for t in TEMPORAL]
    elif label in paper.NON_INTEGRATORS:
        pairs = [(other, label, t) for other in paper.INTEGRATORS for t in TEMPORAL]
    elif label in ("Real", "Real (CNN-RNN)"):
        pairs = [("Real", "Real (CNN-RNN)", "sot")]
    else:
        return "n/a"
    return all_of([beats(task(t), stats.get((a, t)), stats.get((b, t))) for a, b, t in pairs])


def write_table(frame: pd.DataFrame, stem: str | Path, title: str) -> list[Path]:
    """``stem``.csv, .md and .html (the HTML renders in the Snakemake report), atomically."""
    stem = Path(stem)
    shown = frame.astype(object).where(frame.notna(), None)  # NaN reads as "-" in md and html
    paths = []
    for suffix, render in (
        (".csv", lambda f: f.to_csv(index=False)),
        (".md", lambda f: f"# {title}\n\n" + f.to_markdown(index=False, missingval="-") + "\n"),
        (".html", lambda f: f"<h3>{title}</h3>\n" + f.to_html(index=False, na_rep="-", border=1)),
    ):
        dest = stem.with_suffix(suffix)
        with atomic_path(dest) as tmp:
            tmp.write_text(render(frame if suffix == ".csv" else shown))
        paths.append(dest)
    return paths
