"""What a network costs to run, counted as NeuroBench does: synaptic operations, state, parameters.

**Synaptic operations** of one weight layer (``Conv1d``, ``Conv2d``, ``Linear``) on an input ``x``:

* *dense*: every multiply-accumulate the layer performs, zeros included:
  ``C_out * sum_p |R(p)|`` over output positions ``p`` with receptive field ``R(p)`` (all input
  channels and kernel taps inside the padded input); ``Linear``: ``numel(x) * out_features``;
* *effective*: only the non-zero inputs: ``C_out * sum_p |{i in R(p): x_i != 0}|``. They are
  *accumulates* (ACs) when every input value is in ``{-1, 0, 1}`` (spikes, signs: a synapse adds
  or subtracts its weight) and *multiply-accumulates* (MACs) otherwise (real-valued inputs,
  multi-bit levels). NeuroBench's ``Effective_ACs``, ``Effective_MACs`` and ``Dense``.
* The CNN-RNN's GRU: ``3 H (F + H)`` MACs per step and sample, dense and effective (real-valued).

What is counted is what glifbench computes: a static input shown for several steps (MNIST) is
convolved once.

**State** held from one time step to the next, in bits: every unit layer holds, per unit, its
unit's ``state_bits`` (a float32 membrane if it integrates, a float32 AHP if ``g_u > 0``) plus
its ``output_bits`` if the layer feeds its output back (recurrent convolutions: 1 bit for a
spike or sign, 32 for tanh); the leaky-integrator readout (``dt/tau < 1``) 32 bits per output,
the GRU 32 per hidden unit. **Parameters**: ``numel * 32`` bits.
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch
from torch import nn
from torch.nn import functional as F

from glifbench.models.layers import GRUReadout, RecurrentConv, TimeLinear, UnitLayer

FLOAT_BITS = 32
_CONV = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d}


def is_ternary(x: torch.Tensor) -> bool:
    """Every value in {-1, 0, 1}: a synapse only adds or subtracts its weight (an AC)."""
    return bool(((x == 0) | (x == 1) | (x == -1)).all())


def _receptive_counts(module: nn.Conv1d | nn.Conv2d, per_position: torch.Tensor) -> float:
    """``sum_p`` over output positions of ``per_position`` (``[N, 1, ...]``, already summed over
    input channels) inside each receptive field."""
    ones = torch.ones((1, 1, *module.kernel_size), dtype=per_position.dtype, device=per_position.device)
    kw = {"stride": module.stride, "padding": module.padding, "dilation": module.dilation}
    return _CONV[type(module)](per_position, ones, **kw).sum().item()


def conv_ops(module: nn.Conv1d | nn.Conv2d, x: torch.Tensor) -> tuple[float, float]:
    """``(effective, dense)`` operations of ``module`` on ``x [N, C_in, ...]`` (see module doc)."""
    nonzero = (x != 0).sum(dim=1, keepdim=True, dtype=torch.float32)  # non-zero inputs per position
    effective = _receptive_counts(module, nonzero) * module.out_channels
    full = torch.full_like(nonzero[:1], float(x.shape[1]))
    dense = _receptive_counts(module, full) * x.shape[0] * module.out_channels
    return effective, dense


class CostMeter:
    """Counts a network's synaptic operations and unit-layer sizes while attached.

    ``with CostMeter(network) as meter: network(x)`` -- then :meth:`ops`, :meth:`sparsity`,
    :meth:`state_bits`.
    """

    def __init__(self, network: nn.Module) -> None:
        self.network = network
        self.counts: dict[str, dict[str, float]] = defaultdict(lambda: {"ac": 0.0, "mac": 0.0, "dense": 0.0})
        self.units: dict[str, int] = {}  # units per unit layer (one sample, one step)
        self.outputs: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # [zeros, all] per layer
        self._handles: list = []

    def __enter__(self) -> CostMeter:
        for name, module in self.network.named_modules():
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear, nn.GRU)):
                self._handles.append(module.register_forward_hook(self._weights_hook(name)))
            if isinstance(module, UnitLayer):
                self._handles.append(module.register_forward_hook(self._units_hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _weights_hook(self, name: str):
        def hook(module, inputs, output) -> None:
            x = inputs[0].detach()
            count = self.counts[name]
            if isinstance(module, nn.GRU):  # x [T, B, F]
                ops = x.shape[0] * x.shape[1] * 3 * module.hidden_size * (module.input_size + module.hidden_size)
                count["mac"] += ops
                count["dense"] += ops
                return
            if isinstance(module, nn.Linear):
                effective, dense = float((x != 0).sum().item() * module.out_features), float(x.numel() * module.out_features)
            else:
                effective, dense = conv_ops(module, x)
            count["ac" if is_ternary(x) else "mac"] += effective
            count["dense"] += dense

        return hook

    def _units_hook(self, name: str):
        def hook(module, inputs, output) -> None:
            if module.emit_potential:  # the layer passed its potentials on; its units still spiked
                output = module.outputs_behind
            self.units[name] = math.prod(output.shape[2:])
            self.outputs[name][0] += float((output == 0).sum().item())
            self.outputs[name][1] += float(output.numel())

        return hook

    def ops(self) -> dict[str, float]:
        """Total effective ACs, effective MACs and dense operations counted so far."""
        return {key: sum(c[key] for c in self.counts.values()) for key in ("ac", "mac", "dense")}

    def sparsity(self) -> dict[str, float]:
        """Activation sparsity, the fraction of zero outputs, per unit layer and over all of
        them (``"network"``). Sign units never output zero: their sparsity is 0."""
        out = {name: zeros / total for name, (zeros, total) in self.outputs.items() if total}
        zeros, total = (sum(v[i] for v in self.outputs.values()) for i in (0, 1))
        out["network"] = zeros / total if total else float("nan")
        return out

    def state_bits(self) -> int:
        """Bits of state the network carries between time steps (module doc), per sample."""
        bits = 0
        for name, module in self.network.named_modules():
            if isinstance(module, UnitLayer) and name in self.units:
                per_unit = module.unit.state_bits + (module.unit.output_bits if isinstance(module, RecurrentConv) else 0)
                bits += self.units[name] * per_unit
            elif isinstance(module, TimeLinear) and module.dt_tau < 1:
                bits += module.linear.out_features * FLOAT_BITS
            elif isinstance(module, GRUReadout):
                bits += module.gru.hidden_size * FLOAT_BITS
        return bits


def parameter_bits(network: nn.Module) -> int:
    """The weights' footprint in bits (float32)."""
    return sum(p.numel() for p in network.parameters()) * FLOAT_BITS

