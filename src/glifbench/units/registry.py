"""The unit types of the paper (Table II plus the real-valued baseline): one registry.

| name | output | g_L | g_u | reset | integrator |
|------|--------|-----|-----|-------|------------|
| Real | tanh   |  -  |  -  |   -   |     -      |
| HLIF | {0,1}  |  1  |  1  |  yes  |    yes     |
| HIAF | {0,1}  |  0  |  1  |  yes  |    yes     |
| LIF  | {0,1}  |  1  |  0  |  yes  |    yes     |
| IAF  | {0,1}  |  0  |  0  |  yes  |    yes     |
| BLI  | {0,1}  |  1  |  0  |  no   |    yes     |
| BI   | {0,1}  |  0  |  0  |  no   |    yes     |
| HBA  | {0,1}  |  0  |  1  |  no   |    no      |
| BA   | {-1,1} |  0  |  0  |  no   |    no (eq. 1, STE eq. 2, stateless) |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from glifbench.units.glif import GLIFParameters, glif_initial_state, glif_step
from glifbench.units.surrogates import METHODS, sign_ste


@dataclass(frozen=True)
class UnitType:
    kind: Literal["real", "glif", "sign"]
    g_leak: float = 0.0
    g_ahp: float = 0.0
    reset: bool = False
    integrate: bool = False
    description: str = ""

    @property
    def binary(self) -> bool:
        return self.kind != "real"


UNIT_TYPES: dict[str, UnitType] = {
    "Real": UnitType("real", description="real-valued tanh"),
    "HLIF": UnitType("glif", 1.0, 1.0, True, True, "hyperpolarizing leaky integrate-and-fire"),
    "HIAF": UnitType("glif", 0.0, 1.0, True, True, "hyperpolarizing integrate-and-fire"),
    "LIF": UnitType("glif", 1.0, 0.0, True, True, "leaky integrate-and-fire"),
    "IAF": UnitType("glif", 0.0, 0.0, True, True, "integrate-and-fire"),
    "BLI": UnitType("glif", 1.0, 0.0, False, True, "binary activation leaky integrate"),
    "BI": UnitType("glif", 0.0, 0.0, False, True, "binary activation integrate"),
    "HBA": UnitType("glif", 0.0, 1.0, False, False, "hyperpolarizing binary activation"),
    "BA": UnitType("sign", description="binary activation sign(x), eq. 1, STE eq. 2"),
}

UNIT_OPTIONS = ("dt_tau_v", "dt_tau_u", "threshold", "surrogate", "slope", "detach_reset")


class OutputState(NamedTuple):
    """State of a stateless unit: only its last output, which the layer feeds back."""

    s: torch.Tensor


def unit_type(name: str) -> UnitType:
    """Look a unit type up by name; unknown names raise an error listing the valid ones."""
    try:
        return UNIT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown unit type {name!r}; valid: {', '.join(UNIT_TYPES)}") from None


class Unit(nn.Module):
    """A unit of type ``name`` applied element-wise, one time step per call (no parameters)."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__()
        self.name = name
        self.type = unit_type(name)
        unknown = sorted(set(options) - set(UNIT_OPTIONS))
        if unknown:
            raise ValueError(f"unknown unit option(s) {unknown}; valid: {', '.join(UNIT_OPTIONS)}")
        if options.get("surrogate", "sigmoid") not in METHODS:
            raise ValueError(f"unknown surrogate {options['surrogate']!r}; valid: {', '.join(METHODS)}")
        t = self.type
        self.params = GLIFParameters(
            g_leak=t.g_leak, g_ahp=t.g_ahp, reset=t.reset, integrate=t.integrate, **options
        )

    @property
    def binary(self) -> bool:
        return self.type.binary

    def initial_state(self, like: torch.Tensor) -> NamedTuple:
        if self.type.kind == "glif":
            return glif_initial_state(like)
        return OutputState(torch.zeros_like(like))

    def forward(self, current: torch.Tensor, state: NamedTuple) -> tuple[torch.Tensor, NamedTuple]:
        kind = self.type.kind
        if kind == "glif":
            return glif_step(current, state, self.params)
        out = torch.tanh(current) if kind == "real" else sign_ste(current)
        return out, OutputState(out)

    def extra_repr(self) -> str:
        return f"{self.name}: {self.type.description}"
