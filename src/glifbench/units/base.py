"""The one interface every unit kind implements (Norse's cell style: explicit state passing).

A unit is applied element-wise, one time step per call: ``out, state = unit(current, state)``
with ``state = unit.initial_state(like)`` at the first step. Its kind says what layers and the
initialisation need to know, so none of them compares names:

* ``binary`` -- outputs are discrete (real-valued networks use ReLU in plain layers instead);
* ``stateful`` -- the step depends on the previous state beyond the last output (needs the time
  loop even without recurrent weights);
* ``calibratable`` -- the data-driven activity calibration applies (``models.calibration``);
* ``active(out)`` -- which outputs count as active for the activity statistics;
* ``output_bits`` / ``state_bits`` -- bits of one unit's output, and of the state it carries to
  the next step besides its output (membrane, AHP): the paper's "amount of state that must be
  retained" (``models.cost``);
* ``potential(current, state)`` -- the graded value the step thresholds (a readout may read it
  instead of the output: ``model.readout_input``).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn


class OutputState(NamedTuple):
    """State of a stateless unit: only its last output, which a recurrent layer feeds back."""

    s: torch.Tensor


class Unit(nn.Module):
    """Base class of the unit kinds; subclasses set the class attributes and ``forward``."""

    kind: ClassVar[str]
    binary: ClassVar[bool]
    stateful: ClassVar[bool]
    calibratable: ClassVar[bool] = False
    output_bits: int = 32  # float32 outputs unless the kind says otherwise
    state_bits: int = 0  # bits held between steps besides the output (float32 per variable)
    OPTIONS: ClassVar[tuple[str, ...]] = ()  # config ``units`` keys this kind uses

    def __init__(self, name: str, description: str = "", **switches: Any) -> None:
        super().__init__()
        if switches:
            raise ValueError(f"unit kind {self.kind!r} has no switches, got {sorted(switches)}")
        self.name, self.description = name, description

    def initial_state(self, like: torch.Tensor) -> NamedTuple:
        return OutputState(torch.zeros_like(like))

    def forward(self, current: torch.Tensor, state: NamedTuple) -> tuple[torch.Tensor, NamedTuple]:
        raise NotImplementedError

    def active(self, out: torch.Tensor) -> torch.Tensor:
        return out > 0

    def potential(self, current: torch.Tensor, state: NamedTuple) -> torch.Tensor:
        """What the step at ``current`` from ``state`` thresholds or squashes: for the stateless
        kinds the input current itself (``model.readout_input: potential``)."""
        return current

    def use_compiled(self, enabled: bool) -> None:
        """Run the step compiled by ``torch.compile`` (``training.compile_units``); only the GLIF
        kind does (the stateless kinds are one elementwise op; the multi-bit kind is not a unit
        type of the paper and stays eager)."""

    def extra_repr(self) -> str:
        return f"{self.name}: {self.description}"
