"""Verdicts on the paper's claims that use the seeds, not one run.

A comparison "A beats B" holds when the difference of the means exceeds two standard errors of
that difference, ``|mean_A - mean_B| > 2 sqrt(sd_A^2/n_A + sd_B^2/n_B)``, in A's favour; it is
"no" when it exceeds them in B's favour and "not resolved" otherwise. "A learns the task" holds
when ``mean - 2 SE`` clears the task's threshold (``Task.trains_at``), is "no" when
``mean + 2 SE`` misses it. With one seed there is no standard error: "1 seed: not tested".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from glifbench.tasks import Task

ONE_SEED = "1 seed: not tested"
MISSING = "n/a"
Stat = Mapping[str, float]  # mean, sd, n


def standard_error(stat: Stat) -> float:
    return stat["sd"] / math.sqrt(stat["n"])


def beats(task: Task, a: Stat | None, b: Stat | None) -> str:
    """Does A do better than B on ``task`` by more than two standard errors?"""
    if a is None or b is None:
        return MISSING
    if min(a["n"], b["n"]) < 2:
        return ONE_SEED
    margin = 2 * math.hypot(standard_error(a), standard_error(b))
    diff = a["mean"] - b["mean"] if task.higher_is_better else b["mean"] - a["mean"]
    return "yes" if diff > margin else "no" if diff < -margin else "not resolved"


def learns(task: Task, stat: Stat | None) -> str:
    """Does the unit learn ``task`` (its metric beyond ``task.trains_at`` by two standard errors)?"""
    if stat is None:
        return MISSING
    if stat["n"] < 2:
        return ONE_SEED
    se = 2 * standard_error(stat)
    low, high = stat["mean"] - se, stat["mean"] + se
    if task.higher_is_better:
        return "yes" if low >= task.trains_at else "no" if high < task.trains_at else "not resolved"
    return "yes" if high <= task.trains_at else "no" if low > task.trains_at else "not resolved"


def all_of(verdicts: list[str]) -> str:
    """One verdict for several (missing ones left out): any 'no' -> no; all 'yes' -> yes; else the
    first other verdict ('1 seed: not tested', 'not resolved')."""
    verdicts = [v for v in verdicts if v != MISSING]
    if not verdicts:
        return MISSING
    if "no" in verdicts:
        return "no"
    if all(v == "yes" for v in verdicts):
        return "yes"
    return next(v for v in verdicts if v != "yes")
