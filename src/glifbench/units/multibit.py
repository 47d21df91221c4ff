"""Multi-bit output units, after "Spiking Neural Networks with Improved Inherent Recurrence
Dynamics for Sequential Learning" (shared/seeds/003): a leaky integrator whose output is a
staircase of ``L = 2**bits - 1`` levels above zero instead of one spike.

Not in the paper we reproduce: glifbench's first unit kind beyond Table II (``MBLI``, the
multi-bit counterpart of BLI). One forward-Euler step, no reset, no AHP:

* membrane: ``v_t = v_{t-1} + (dt/tau_v) (-g_L v_{t-1} + I_t)``
* output:   ``s_t = (1/L) sum_{k=0}^{L-1} H(v_t - theta (1 + k/L))`` in ``{0, 1/L, ..., 1}``;
  each step of the staircase carries the surrogate gradient of ``H`` (paper eq. 5 by default),
  so the backward pass is the derivative of a sum of ``L`` sigmoids, scaled by ``1/L``.

With ``bits = 1`` the output is ``H(v_t - theta)``: exactly BLI.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch

from glifbench.names import KIND_OPTIONS
from glifbench.units.base import Unit
from glifbench.units.surrogates import METHODS, spike_fn


class MultiBitParameters(NamedTuple):
    g_leak: float = 1.0
    bits: int = 2
    dt_tau_v: float = 0.2
    threshold: float = 1.0
    surrogate: str = "sigmoid"
    slope: float = 5.0


class MultiBitState(NamedTuple):
    """``s``: last output (fed back by the layer), ``v``: membrane potential."""

    s: torch.Tensor
    v: torch.Tensor


def multibit_potential(current: torch.Tensor, state: MultiBitState, p: MultiBitParameters = MultiBitParameters()):
    """The membrane potential ``v_t`` the staircase reads."""
    return state.v + p.dt_tau_v * (current - p.g_leak * state.v)


def multibit_step(
    current: torch.Tensor, state: MultiBitState, p: MultiBitParameters = MultiBitParameters()
) -> tuple[torch.Tensor, MultiBitState]:
    """One step: leaky integration, then the ``2**bits - 1``-level staircase output."""
    v = multibit_potential(current, state, p)
    levels = 2**p.bits - 1
    s = spike_fn(v - p.threshold, p.surrogate, p.slope)
    for k in range(1, levels):
        s = s + spike_fn(v - p.threshold * (1 + k / levels), p.surrogate, p.slope)
    s = s / levels
    return s, MultiBitState(s=s, v=v)


class MultiBitUnit(Unit):
    """The multi-bit kind: discrete outputs, a membrane carried over time, calibrated like GLIF."""

    kind, binary, stateful, calibratable = "multibit", True, True, True
    OPTIONS: ClassVar[tuple[str, ...]] = KIND_OPTIONS["multibit"]

    def __init__(self, name: str, description: str = "", **switches_and_options: Any) -> None:
        super().__init__(name, description)
        surrogate = switches_and_options.get("surrogate", "sigmoid")
        if surrogate not in METHODS:
            raise ValueError(f"unknown surrogate {surrogate!r}; valid: {', '.join(METHODS)}")
        self.params = MultiBitParameters(**switches_and_options)
        self.output_bits, self.state_bits = self.params.bits, 32  # the level index out; a float32 membrane

    def initial_state(self, like: torch.Tensor) -> MultiBitState:
        zero = torch.zeros_like(like)
        return MultiBitState(s=zero, v=zero)

    def potential(self, current: torch.Tensor, state: MultiBitState) -> torch.Tensor:
        return multibit_potential(current, state, self.params)

    def forward(self, current: torch.Tensor, state: MultiBitState) -> tuple[torch.Tensor, MultiBitState]:
        return multibit_step(current, state, self.params)
