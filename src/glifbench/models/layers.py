"""Time-first layers: every ``forward`` maps ``[T, B, ...]`` to ``[T, B, ...]``.

Feed-forward work (convolutions, linear maps) runs on all time steps at once; only what truly
depends on the previous step -- the recurrent convolution of the layer's own last output and the
unit's state -- runs in the time loop, over tensors unbound once (indexing ``x[t]`` inside the
loop makes the backward pass quadratic in T).
"""

from __future__ import annotations

import torch
from torch import nn

from glifbench.units import Unit

CONV = {1: nn.Conv1d, 2: nn.Conv2d}


def _over_time(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a per-sample module to ``[T, B, ...]``; an input constant in time is computed once."""
    T, B = x.shape[:2]
    if T > 1 and x.stride(0) == 0:  # expanded along time (e.g. MNIST shown for 20 steps)
        return module(x[0]).unsqueeze(0).expand(T, *([-1] * (x.dim() - 1)))
    return module(x.flatten(0, 1)).unflatten(0, (T, B))


def _unroll(unit: Unit, inputs, project: nn.Module | None = None, rec: nn.Module | None = None,
            potentials: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:  # fmt: skip
    """The time loop: ``s_t = unit(project(x_t) + rec(s_{t-1}))`` (either map may be absent);
    returns the outputs and, if asked, the potentials the unit thresholded (``unit.potential``)."""
    state = None
    outs, pots = [], []
    for x_t in inputs:
        current = project(x_t) if project is not None else x_t
        if state is None:
            state = unit.initial_state(current)
        elif rec is not None:
            current = current + rec(state.s)
        if potentials:
            pots.append(unit.potential(current, state))
        out, state = unit(current, state)
        outs.append(out)
    return torch.stack(outs), torch.stack(pots) if potentials else None


def run_unit(unit: Unit, currents: torch.Tensor, potentials: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Drive ``unit`` with ``currents [T, B, ...]`` (stateless units: all steps at once); the
    outputs and, if asked, the potentials."""
    if not unit.stateful:
        initial = unit.initial_state(currents[:1])
        out, _ = unit(currents, initial)
        return out, unit.potential(currents, initial) if potentials else None
    return _unroll(unit, currents.unbind(0), potentials=potentials)


def run_recurrent(unit: Unit, ff: nn.Module, rec: nn.Module, x: torch.Tensor,
                  potentials: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:  # fmt: skip
    """``s_t = unit(ff(x_t) + rec(s_{t-1}))`` over ``x [T, B, ...]``; the outputs and, if asked,
    the potentials.

    The feed-forward map runs once on all steps when the input needs no gradient (the network's
    input) and per step otherwise: on CPUs the per-step convolution's backward pass is faster
    than one over the whole ``[T*B]`` batch (measured, ``docs/models.md``). Under
    ``torch.func.vmap`` (a pack of models, ``glifbench.training.pack``) tensors report no gradient,
    so every layer takes the whole-sequence path there (the same result).
    """
    static = x.shape[0] > 1 and x.stride(0) == 0
    if not x.requires_grad or static:
        return _unroll(unit, _over_time(ff, x).unbind(0), rec=rec, potentials=potentials)
    return _unroll(unit, x.unbind(0), project=ff, rec=rec, potentials=potentials)


class UnitLayer(nn.Module):
    """A layer whose outputs are units (or ReLUs in real-valued plain layers).

    It keeps the fraction of active units per time step of the last forward pass (``activity``,
    ``[T]``; recording costs a pass over the output: switched off for training steps by
    :meth:`glifbench.models.Network.record_activity`) and names the weight tensors that feed its
    units (:meth:`feeding_weights`: scaled by ``init_gain`` and by the activity calibration) and the
    biases of that current (:meth:`feeding_biases`).
    """

    activity: torch.Tensor | None = None
    recording: bool = True
    emit_potential: bool = False  # pass on the potentials, not the outputs (model.readout_input)
    unit: Unit

    def feeding_weights(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def feeding_biases(self) -> list[nn.Parameter]:
        """The biases added to the units' input current (scaled by the calibration only with
        ``model.calibrate_bias``)."""
        raise NotImplementedError

    def _emit(self, out: torch.Tensor, potential: torch.Tensor | None) -> torch.Tensor:
        """Record the outputs' activity; return the outputs, or the potentials if the layer emits them."""
        if self.recording:
            with torch.no_grad():
                self.activity = self.unit.active(out).flatten(1).float().mean(dim=1)
        if not self.emit_potential:
            return out
        self.outputs_behind = out.detach()  # what the units sent on (the cost meter counts its zeros)
        return potential


def _unit_or_relu(unit: Unit, current: torch.Tensor, potentials: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A plain layer's outputs: ReLU in real-valued networks (its potential: the current), else the unit's."""
    if not unit.binary:
        return torch.relu(current), current if potentials else None
    return run_unit(unit, current, potentials)


class RecurrentConv(UnitLayer):
    """``s_t = unit(conv_ff(x_t) + conv_rec(s_{t-1}))``; ``conv_rec`` is 3 (1-D) or 3x3 (2-D).

    The autapse of channel ``c`` is ``conv_rec.weight[c, c, centre]``.
    """

    def __init__(self, in_channels: int, out_channels: int, dims: int, unit: Unit, kernel: int = 3):
        super().__init__()
        conv = CONV[dims]
        self.ff = conv(in_channels, out_channels, kernel, padding=kernel // 2)
        self.rec = conv(out_channels, out_channels, kernel, padding=kernel // 2, bias=False)
        self.unit = unit

    def feeding_weights(self) -> list[nn.Parameter]:
        return [self.ff.weight, self.rec.weight]

    def feeding_biases(self) -> list[nn.Parameter]:
        return [self.ff.bias]  # conv_rec has none

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._emit(*run_recurrent(self.unit, self.ff, self.rec, x, self.emit_potential))


class FeedForwardConv(UnitLayer):
    """A convolution without recurrence: ReLU for real-valued networks, else the unit."""

    def __init__(self, in_channels: int, out_channels: int, dims: int, unit: Unit, kernel: int = 3):
        super().__init__()
        self.ff = CONV[dims](in_channels, out_channels, kernel, padding=kernel // 2)
        self.unit = unit

    def feeding_weights(self) -> list[nn.Parameter]:
        return [self.ff.weight]

    def feeding_biases(self) -> list[nn.Parameter]:
        return [self.ff.bias]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._emit(*_unit_or_relu(self.unit, _over_time(self.ff, x), self.emit_potential))


class DenseUnit(UnitLayer):
    """``unit(W x_t + b)``: ReLU for real-valued networks, else the unit (stateful if GLIF)."""

    def __init__(self, in_features: int, out_features: int, unit: Unit):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.unit = unit

    def feeding_weights(self) -> list[nn.Parameter]:
        return [self.linear.weight]

    def feeding_biases(self) -> list[nn.Parameter]:
        return [self.linear.bias]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._emit(*_unit_or_relu(self.unit, _over_time(self.linear, x), self.emit_potential))


class TemporalDifference(nn.Module):
    """``x_t - x_{t-1}`` with ``x_{-1} = x_0`` (the DCNN's input)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.zeros_like(x[:1]), x[1:] - x[:-1]])


class Flatten(nn.Module):
    """``[T, B, C, ...] -> [T, B, C * ...]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2)


class TimeLinear(nn.Module):
    """The output layer: ``z_t = W x_t + b`` at every step, read through a leaky integrator.

    ``y_t = y_{t-1} + k (z_t - y_{t-1})``, ``y_{-1} = 0``, with ``k = dt/tau`` (``dt_tau``): Norse's
    leaky-integrator readout (``LICell``) without synaptic current. ``k = 1`` is the plain linear
    readout ``y_t = z_t`` (computed as such).
    """

    def __init__(self, in_features: int, out_features: int, dt_tau: float = 1.0):
        super().__init__()
        if not 0 < dt_tau <= 1:
            raise ValueError(f"readout dt/tau must be in (0, 1], got {dt_tau}")
        self.linear = nn.Linear(in_features, out_features)
        self.dt_tau = dt_tau

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = _over_time(self.linear, x)
        if self.dt_tau == 1.0:
            return z
        y, out = torch.zeros_like(z[0]), []
        for z_t in z.unbind(0):
            y = y + self.dt_tau * (z_t - y)
            out.append(y)
        return torch.stack(out)

    def extra_repr(self) -> str:
        return f"dt_tau={self.dt_tau}"


class GRUReadout(nn.Module):
    """A gated recurrent unit over the flattened features (the CNN-RNN's temporal stage)."""

    def __init__(self, in_features: int, hidden: int):
        super().__init__()
        self.gru = nn.GRU(in_features, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class SoftArgmax(nn.Module):
    """Expected (x, y) in [0, 1] under ``softmax(gain * conv1x1(features))`` over the frame.

    Not in the paper: a readout that learns the SOT task within a CPU budget (docs/models.md).
    """

    def __init__(self, in_channels: int, gain: float = 10.0):
        super().__init__()
        self.score = nn.Conv2d(in_channels, 1, 1)
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = _over_time(self.score, x).squeeze(2)  # [T, B, H, W]
        T, B, H, W = logits.shape
        prob = torch.softmax(self.gain * logits.flatten(2), dim=-1).view(T, B, H, W)
        xs = torch.linspace(0, 1, W, device=x.device, dtype=prob.dtype)
        ys = torch.linspace(0, 1, H, device=x.device, dtype=prob.dtype)
        return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], dim=-1)

