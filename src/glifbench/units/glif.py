"""The generalised leaky integrate-and-fire (GLIF) unit, paper eqs. 6-7, in Norse style.

One forward-Euler step with input current ``I_t = W_ff x_t + W_rec s_{t-1}`` (computed by the
layer):

* integrating units:      ``v_t = v_{t-1} + (dt/tau_v) (-g_L v_{t-1} - g_u u_{t-1} + I_t)``
* non-integrating units:  ``v_t = I_t - g_u u_{t-1}``
* output:                 ``s_t = H(v_t - theta)`` (surrogate gradient, theta = 1)
* after-hyperpolarisation:``u_t = u_{t-1} + (dt/tau_u) (-u_{t-1} + s_t)``
* explicit reset:         ``v_t <- v_t (1 - s_t)`` (``s_t`` detached if ``detach_reset``)

Parameters and state are NamedTuples; tensors are time-first ``[T, B, ...]`` at the layer level.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import torch

from glifbench.names import KIND_OPTIONS
from glifbench.units.base import Unit
from glifbench.units.surrogates import METHODS, spike_fn


class GLIFParameters(NamedTuple):
    """Switches of Table II plus the constants the paper leaves open (documented defaults)."""

    g_leak: float = 1.0
    g_ahp: float = 0.0
    reset: bool = True
    integrate: bool = True
    dt_tau_v: float = 0.2
    dt_tau_u: float = 0.1
    threshold: float = 1.0
    surrogate: str = "sigmoid"
    slope: float = 5.0
    detach_reset: bool = False


class GLIFState(NamedTuple):
    """``s``: last output (fed back by the layer), ``v``: membrane potential, ``u``: AHP."""

    s: torch.Tensor
    v: torch.Tensor
    u: torch.Tensor


def glif_initial_state(like: torch.Tensor) -> GLIFState:
    """All-zero state shaped like one time step of the input current."""
    zero = torch.zeros_like(like)
    return GLIFState(s=zero, v=zero, u=zero)


def glif_potential(current: torch.Tensor, state: GLIFState, p: GLIFParameters = GLIFParameters()) -> torch.Tensor:
    """The membrane potential ``v_t`` before the threshold and the reset (eqs. 6-7's first line)."""
    if p.integrate:
        drive = current - p.g_leak * state.v if p.g_leak else current
        if p.g_ahp:
            drive = drive - p.g_ahp * state.u
        return state.v + p.dt_tau_v * drive
    return current - p.g_ahp * state.u if p.g_ahp else current


def glif_step(
    current: torch.Tensor, state: GLIFState, p: GLIFParameters = GLIFParameters()
) -> tuple[torch.Tensor, GLIFState]:
    """One GLIF step: returns ``(s_t, new state)``; terms whose switch is off cost nothing."""
    v = glif_potential(current, state, p)
    s = spike_fn(v - p.threshold, p.surrogate, p.slope)
    u = state.u + p.dt_tau_u * (s - state.u) if p.g_ahp else state.u
    if p.reset:
        v = v * (1 - (s.detach() if p.detach_reset else s))
    return s, GLIFState(s=s, v=v, u=u)


@functools.cache
def compiled_glif_step() -> Callable[..., tuple[torch.Tensor, GLIFState]]:
    """:func:`glif_step` compiled by ``torch.compile``: its elementwise work, forward and
    backward (the surrogate included), fused by Inductor into fewer passes over the tensors
    (docs/performance.md); the same arithmetic up to float rounding (tests/test_units.py).
    One compiled graph per unit type (its parameters are constants), grad mode and shape family
    (shapes made dynamic after the first change): more than Dynamo's default 8 where one process
    runs several unit types (tests, benchmarks), so the limit is raised."""
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    return torch.compile(glif_step, fullgraph=True)


class GLIFUnit(Unit):
    """The GLIF kind: Table II's switches fixed per unit type, the open constants from config."""

    kind, binary, stateful, calibratable = "glif", True, True, True
    compiled = False  # training.compile_units: use_compiled()
    OPTIONS: ClassVar[tuple[str, ...]] = KIND_OPTIONS["glif"]

    def __init__(self, name: str, description: str = "", **switches_and_options: Any) -> None:
        super().__init__(name, description)
        surrogate = switches_and_options.get("surrogate", "sigmoid")
        if surrogate not in METHODS:
            raise ValueError(f"unknown surrogate {surrogate!r}; valid: {', '.join(METHODS)}")
        self.params = GLIFParameters(**switches_and_options)
        # one spike bit out; a float32 membrane if it integrates, a float32 AHP if g_u > 0
        self.output_bits = 1
        self.state_bits = 32 * int(self.params.integrate) + 32 * int(bool(self.params.g_ahp))

    def initial_state(self, like: torch.Tensor) -> GLIFState:
        return glif_initial_state(like)

    def use_compiled(self, enabled: bool) -> None:
        self.compiled = enabled

    def potential(self, current: torch.Tensor, state: GLIFState) -> torch.Tensor:
        return glif_potential(current, state, self.params)

    def forward(self, current: torch.Tensor, state: GLIFState) -> tuple[torch.Tensor, GLIFState]:
        step = compiled_glif_step() if self.compiled else glif_step
        return step(current, state, self.params)
