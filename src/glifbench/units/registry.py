"""Unit objects from Table II (:data:`glifbench.names.UNIT_TYPES`) and the unit kinds.

| name | kind   | output  | g_L | g_u | reset | integrator |
|------|--------|---------|-----|-----|-------|------------|
| Real | tanh   | (-1, 1) |  -  |  -  |   -   |     -      |
| HLIF | glif   | {0,1}   |  1  |  1  |  yes  |    yes     |
| HIAF | glif   | {0,1}   |  0  |  1  |  yes  |    yes     |
| LIF  | glif   | {0,1}   |  1  |  0  |  yes  |    yes     |
| IAF  | glif   | {0,1}   |  0  |  0  |  yes  |    yes     |
| BLI  | glif   | {0,1}   |  1  |  0  |  no   |    yes     |
| BI   | glif   | {0,1}   |  0  |  0  |  no   |    yes     |
| HBA  | glif   | {0,1}   |  0  |  1  |  no   |    no      |
| BA   | sign   | {-1,1}  |  -  |  -  |  no   |    no (eq. 1, STE eq. 2, stateless) |
| MBLI | multibit | {0, 1/L, ..., 1} | 1 | - | no | yes (not in the paper: multi-bit BLI) |

A new kind is a :class:`~glifbench.units.base.Unit` subclass added to :data:`KINDS`.
"""

from __future__ import annotations

from typing import Any

from glifbench.names import UNIT_TYPES, UnitType
from glifbench.units.base import Unit
from glifbench.units.glif import GLIFUnit
from glifbench.units.multibit import MultiBitUnit
from glifbench.units.stateless import SignUnit, TanhUnit

KINDS: dict[str, type[Unit]] = {cls.kind: cls for cls in (TanhUnit, GLIFUnit, SignUnit, MultiBitUnit)}
UNIT_OPTIONS = tuple(dict.fromkeys(option for cls in KINDS.values() for option in cls.OPTIONS))


def unit_type(name: str) -> UnitType:
    """Look a unit type up by name; unknown names raise an error listing the valid ones."""
    try:
        return UNIT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown unit type {name!r}; valid: {', '.join(UNIT_TYPES)}") from None


def make_unit(name: str, **options: Any) -> Unit:
    """A unit of type ``name``; ``options`` are config ``units`` keys, each kind takes its own."""
    spec = unit_type(name)
    unknown = sorted(set(options) - set(UNIT_OPTIONS))
    if unknown:
        raise ValueError(f"unknown unit option(s) {unknown}; valid: {', '.join(UNIT_OPTIONS)}")
    cls = KINDS[spec.kind]
    own = {k: v for k, v in options.items() if k in cls.OPTIONS}
    return cls(name, spec.description, **spec.switches, **own)
