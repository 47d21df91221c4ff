"""Names of tasks and architectures, and Table II's unit types, importable without torch.

The workflow reads these (wildcard constraints, the job grid); ``glifbench.units`` builds unit
objects from :data:`UNIT_TYPES`, ``glifbench.models`` networks from :data:`ARCHITECTURES`. A new
unit type of an existing kind is one row here (and its name in the schema's ``unit`` enum).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glifbench.tasks import TASKS as _TASKS

TASKS = tuple(_TASKS)
ARCHITECTURES = ("CNN", "DCNN", "CNN-RNN", "CRNN", "CRNN-Shallow", "CNN-CRNN", "CRNN-CNN")


@dataclass(frozen=True)
class UnitType:
    """A named unit type: its ``kind`` (the step function family, ``glifbench.units.KINDS``), the
    kind's fixed switches for this type, and a description."""

    kind: str
    switches: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _glif(g_leak: float, g_ahp: float, reset: bool, integrate: bool, description: str) -> UnitType:
    return UnitType("glif", {"g_leak": g_leak, "g_ahp": g_ahp, "reset": reset, "integrate": integrate}, description)


# Table II of the paper (plus the real-valued baseline), ordered from most complete to simplest.
UNIT_TYPES: dict[str, UnitType] = {
    "Real": UnitType("tanh", description="real-valued tanh"),
    "HLIF": _glif(1.0, 1.0, True, True, "hyperpolarizing leaky integrate-and-fire"),
    "HIAF": _glif(0.0, 1.0, True, True, "hyperpolarizing integrate-and-fire"),
    "LIF": _glif(1.0, 0.0, True, True, "leaky integrate-and-fire"),
    "IAF": _glif(0.0, 0.0, True, True, "integrate-and-fire"),
    "BLI": _glif(1.0, 0.0, False, True, "binary activation leaky integrate"),
    "BI": _glif(0.0, 0.0, False, True, "binary activation integrate"),
    "HBA": _glif(0.0, 1.0, False, False, "hyperpolarizing binary activation"),
    "BA": UnitType("sign", description="binary activation sign(x), eq. 1, STE eq. 2"),
    # beyond the paper: a multi-bit output leaky integrator (shared/seeds/003), BLI's counterpart
    "MBLI": UnitType("multibit", {"g_leak": 1.0}, "multi-bit leaky integrate (2**bits - 1 output levels)"),
}
UNITS = tuple(UNIT_TYPES)

# The config `units` keys each kind's step reads (its class's OPTIONS in glifbench.units).
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "tanh": (),
    "sign": (),
    "glif": ("dt_tau_v", "dt_tau_u", "threshold", "surrogate", "slope", "detach_reset"),
    "multibit": ("bits", "dt_tau_v", "threshold", "surrogate", "slope"),
}


def options_used(name: str) -> tuple[str, ...]:
    """The config ``units`` keys that can change unit type ``name``'s step: its kind's, less, for
    the GLIF types, ``dt_tau_v`` without an integrator (eq. 6: ``v_t = I_t - g_u u_{t-1}``),
    ``dt_tau_u`` without the AHP (``g_u = 0``: ``u`` is never read) and ``detach_reset`` without a
    reset. Real and BA use none. Two jobs whose settings differ only in other ``units`` keys
    train the same network the same way (tests/test_study_plan.py checks it on the units)."""
    if name not in UNIT_TYPES:
        raise ValueError(f"unknown unit type {name!r}; valid: {', '.join(UNIT_TYPES)}")
    spec = UNIT_TYPES[name]
    off = {}
    if spec.kind == "glif":
        switches = spec.switches
        off = {"dt_tau_v": not switches["integrate"], "dt_tau_u": not switches["g_ahp"], "detach_reset": not switches["reset"]}
    return tuple(option for option in KIND_OPTIONS[spec.kind] if not off.get(option, False))
