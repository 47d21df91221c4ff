"""Which study jobs would repeat another's (torch-free: the workflow asks while it plans the
DAG): a variant that changes only ``units`` keys a unit type does not use
(``glifbench.names.options_used``: the surrogate's slope for Real and BA, the
membrane's ``dt_tau_v`` for HBA, ``detach_reset`` for units without a reset) trains that unit's
network exactly as an earlier variant does (the study measured it: HBA under ``detach_reset`` and
under ``dt_tau_v=0.05``, bit-identical histories, docs/study.md). The workflow schedules such a
job once and the study's summary reads the earlier variant's runs for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from glifbench.names import options_used


def unit_view(settings: Mapping[str, Any], unit: str) -> dict[str, Any]:
    """A job's settings (``training``, ``model``, ``units``) as unit type ``unit`` sees them: the
    ``units`` keys its step does not use left out."""
    used = options_used(unit)
    return {**settings, "units": {key: value for key, value in settings["units"].items() if key in used}}


def _cell(variant: str, task: str, unit: str) -> str:
    return f"{variant}/{task}/{unit}"


def runs_of(repeats: Mapping[str, str], variant: str, task: str, unit: str) -> str:
    """The variant whose runs hold ``variant``'s (task, unit) cell: the earlier one its job
    repeats (``repeats``, from :func:`study_repeats`), or itself."""
    return repeats.get(_cell(variant, task, unit), variant)


def study_repeats(variants: Iterable[str], tasks: Iterable[str], units: Iterable[str],
                  settings_of: Callable[[str, str], Mapping[str, Any]],
                  seeds_of: Callable[[str], Iterable[int]]) -> dict[str, str]:  # fmt: skip
    """``{"variant/task/unit": the first variant (in study order) whose job it repeats}``: same
    ``unit_view`` of ``settings_of(variant, task)``, and its seeds among the first's."""
    variants, repeats = list(variants), {}
    for task in tasks:
        for unit in units:
            first: dict[str, str] = {}
            for variant in variants:
                view = json.dumps(unit_view(settings_of(variant, task), unit), sort_keys=True)
                earlier = first.setdefault(view, variant)
                if earlier != variant and set(seeds_of(variant)) <= set(seeds_of(earlier)):
                    repeats[_cell(variant, task, unit)] = earlier
    return repeats
