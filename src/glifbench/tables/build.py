"""Tables I and III from run metrics: mean +- sd over seeds with n, beside the paper's values.

Every cell is computed from the last epoch of each run. A missing run is an error naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from glifbench.io import atomic_path
from glifbench.tables import paper


def summarise(values: pd.Series) -> dict[str, float]:
    """mean, sample sd (0 for one seed) and n."""
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "n": int(len(values))}


def fmt(stat: dict[str, float] | None, digits: int) -> str:
    if stat is None:
        return "-"
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f} (n={stat['n']})"


def _cell(final: pd.DataFrame, task: str, arch: str, unit: str, column: str, scale: float = 1.0) -> dict | None:
    rows = final[(final.task == task) & (final.arch == arch) & (final.unit == unit)]
    if rows.empty or column not in rows:
        return None
    return summarise(rows[column] * scale)


def table1(final: pd.DataFrame, archs: Iterable[str]) -> pd.DataFrame:
    """Validation MSE per architecture (SOT, real units) with the paper's value."""
    rows = []
    for arch in archs:
        stat = _cell(final, "sot", arch, "Real", "val_loss")
        rows.append({
            "Network": arch, "Validation loss (ours)": fmt(stat, 4),
            "Validation loss (paper)": paper.TABLE1_VAL_LOSS.get(arch),
            "mean": stat and stat["mean"], "sd": stat and stat["sd"], "n": stat and stat["n"],
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    has_crnn = frame.Network.str.contains("CRNN")
    crnn, plain = frame[has_crnn]["mean"].dropna(), frame[~has_crnn]["mean"].dropna()
    frame["Paper's claim"] = [
        "beats every network without a CRNN layer" if c else "worse than every network with a CRNN layer"
        for c in has_crnn
    ]
    holds = []
    for mean, c in zip(frame["mean"], has_crnn, strict=True):
        others = plain if c else crnn
        holds.append(None if mean is None or pd.isna(mean) or others.empty else bool((mean < others).all() if c else (mean > others).all()))
    frame["Holds here"] = [_yes_no(h) for h in holds]
    return frame


def _yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


TABLE3_TASKS = (("mnist", "MNIST", "val_accuracy", 100.0, 1), ("fsdd", "FSDD", "val_accuracy", 100.0, 1),
                ("sot", "SOT (MSE)", "val_loss", 1.0, 4))  # fmt: skip


def table3(final: pd.DataFrame, units: Iterable[str]) -> pd.DataFrame:
    """MNIST / FSDD accuracy (%) and SOT MSE per unit type, with the paper's values and claims."""
    rows, stats = [], {}
    entries = [("Real (CNN-RNN)", "CNN-RNN", "Real")] + [(u, "CRNN", u) for u in units]
    for label, arch, unit in entries:
        row = {"Unit type": label}
        for i, (task, name, column, scale, digits) in enumerate(TABLE3_TASKS):
            stat = _cell(final, task, arch, unit, column, scale)
            stats[(label, task)] = stat
            row[f"{name} (ours)"] = fmt(stat, digits)
            row[f"{name} (paper)"] = paper.TABLE3.get(label, (None, None, None))[i]
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["Paper's claim"] = [_claim_text(r["Unit type"]) for r in rows]
    frame["Holds here"] = [_yes_no(_claim_holds(r["Unit type"], stats)) for r in rows]
    return frame


def _mean(stats, label, task):
    stat = stats.get((label, task))
    return None if stat is None else stat["mean"]


def _claim_text(label: str) -> str:
    if label in paper.INTEGRATORS:
        return "beats HBA and BA on FSDD and SOT"
    if label in paper.NON_INTEGRATORS:
        return "worse than every integrator unit on FSDD and SOT"
    return "CRNN beats CNN-RNN on SOT"


def _claim_holds(label: str, stats) -> bool | None:
    """Evaluate the row's claim on mean values; None when a needed cell is missing."""
    def better(a, b, task):  # a better than b?
        x, y = _mean(stats, a, task), _mean(stats, b, task)
        if x is None or y is None:
            return None
        return x > y if task != "sot" else x < y

    if label in paper.INTEGRATORS:
        pairs = [(label, other, task) for other in paper.NON_INTEGRATORS for task in ("fsdd", "sot")]
    elif label in paper.NON_INTEGRATORS:
        pairs = [(other, label, task) for other in paper.INTEGRATORS for task in ("fsdd", "sot")]
    else:
        pairs = [("Real", "Real (CNN-RNN)", "sot")]
    results = [better(a, b, t) for a, b, t in pairs]
    results = [r for r in results if r is not None]
    return all(results) if results else None


def write_table(frame: pd.DataFrame, stem: str | Path, title: str) -> list[Path]:
    """``stem``.csv, .md and .html (the HTML renders in the Snakemake report), atomically."""
    stem = Path(stem)
    paths = []
    for suffix, render in (
        (".csv", lambda f: f.to_csv(index=False)),
        (".md", lambda f: f"# {title}\n\n" + f.to_markdown(index=False, missingval="-") + "\n"),
        (".html", lambda f: f"<h3>{title}</h3>\n" + f.to_html(index=False, na_rep="-", border=1)),
    ):
        dest = stem.with_suffix(suffix)
        with atomic_path(dest) as tmp:
            tmp.write_text(render(frame))
        paths.append(dest)
    return paths
