"""Which study jobs would repeat another's (torch-free: the workflow asks while it plans the
DAG): a variant that changes only ``units`` keys a unit type does not use
(``glifbench.names.options_used``: the surrogate's slope for Real and BA, the
membrane's ``dt_tau_v`` for HBA, ``detach_reset`` for units without a reset) trains that unit's
network exactly as an earlier variant does (the study measured it: HBA under ``detach_reset`` and
under ``dt_tau_v=0.05``, bit-identical histories, docs/study.md). The workflow schedules such a
job once and the study's summary reads the earlier variant's runs for it.

The main grid counts as the earliest variant (:data:`GRID`): a study cell whose job equals a
job the grid plans with the study's architecture (same settings as the unit sees them, its seeds
among the grid's) reads the grid's runs, e.g. a SOT ``baseline`` on the grid's defaults, or the MNIST
variant that the grid's defaults adopted. Only their validation metrics are read: a grid run
also evaluates the test split at its end, which no study table uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from glifbench.layout import RUNS, STUDY_ARCH, STUDY_RUNS, run_dir, study_run_dir
from glifbench.names import options_used

GRID = "@grid"
"""The main grid as a study's earliest variant (no variant name can start with ``@``)."""


def unit_view(settings: Mapping[str, Any], unit: str) -> dict[str, Any]:
    """A job's settings (``training``, ``model``, ``units``) as unit type ``unit`` sees them: the
    ``units`` keys its step does not use left out."""
    used = options_used(unit)
    return {**settings, "units": {key: value for key, value in settings["units"].items() if key in used}}


def _cell(variant: str, task: str, unit: str) -> str:
    return f"{variant}/{task}/{unit}"


def runs_of(repeats: Mapping[str, str], variant: str, task: str, unit: str) -> str:
    """Whose runs hold ``variant``'s (task, unit) cell: the earlier variant, or :data:`GRID`,
    whose job it repeats (``repeats``, from :func:`study_repeats`), or itself."""
    return repeats.get(_cell(variant, task, unit), variant)


def cell_run_dir(repeats: Mapping[str, str], variant: str, task: str, unit: str, seed: int | str,
                 study_root: str = STUDY_RUNS, grid_root: str = RUNS) -> str:  # fmt: skip
    """The folder of the run that holds one seed of ``variant``'s (task, unit) cell: its own, an
    earlier variant's, or the grid's (``run_dir`` of the study's architecture)."""
    holder = runs_of(repeats, variant, task, unit)
    if holder == GRID:
        return run_dir(task, STUDY_ARCH, unit, seed, grid_root)
    return study_run_dir(holder, task, unit, seed, study_root)


def study_repeats(variants: Iterable[str], tasks: Iterable[str], units: Iterable[str],
                  settings_of: Callable[[str, str], Mapping[str, Any]], seeds_of: Callable[[str], Iterable[int]],
                  grid_settings: Callable[[str, str], Mapping[str, Any] | None] | None = None,
                  grid_seeds: Iterable[int] = ()) -> dict[str, str]:  # fmt: skip
    """``{"variant/task/unit": the first earlier holder whose job it repeats}``: the same
    ``unit_view`` of ``settings_of(variant, task)``, and its seeds among the holder's. A holder is
    a variant whose job repeats none before it (a variant with more seeds than an identical
    earlier one trains its own, all its seeds). With ``grid_settings`` (the main grid's job
    settings for ``(task, unit)`` with the study's architecture, None where the grid plans no such
    job; its seeds ``grid_seeds``) the grid comes first, as :data:`GRID`."""
    variants, grid_seeds = list(variants), set(grid_seeds)
    repeats: dict[str, str] = {}
    for task in tasks:
        for unit in units:
            holders: dict[str, list[tuple[str, set[int]]]] = {}  # a view -> the holders with it
            grid = grid_settings(task, unit) if grid_settings is not None else None
            jobs = [(GRID, grid, grid_seeds)] if grid is not None else []
            jobs += [(variant, settings_of(variant, task), set(seeds_of(variant))) for variant in variants]
            for variant, settings, seeds in jobs:
                view = json.dumps(unit_view(settings, unit), sort_keys=True)
                earlier = [holder for holder, held in holders.get(view, []) if seeds <= held]
                if earlier:
                    repeats[_cell(variant, task, unit)] = earlier[0]
                else:
                    holders.setdefault(view, []).append((variant, seeds))
    return repeats
