"""Data-driven initialisation: scale each spiking layer's weights to a target firing rate.

Not in the paper. With default initialisation the deeper GLIF layers of an untrained network are
nearly silent (docs/models.md), and a silent layer passes no surrogate gradient. For every layer
of GLIF units, in forward order, the weights feeding it (feed-forward and recurrent kernels or the
dense matrix) are multiplied by the factor ``s`` that brings the layer's mean fraction of active
units per time step on a calibration batch to ``target``; ``s`` is found by bisection on
``log s`` (activity grows with ``s``), 8 steps within ``[1/8, 64]``.

The biases are left alone by default. A unit without leak (BI, IAF, HIAF) integrates its bias over
the whole trial, ``v_t = sum_k dt/tau_v (W x_k + b)``, so that no scale of ``W`` brings a layer
with positive biases below the activity the biases drive on their own (on SOT's 100 frames a BI
layer stayed at ~50 % at the lowest scale, docs/study.md). With ``scale_bias`` the calibration
scales the whole input current, ``s (W x + b)``, over the wider range ``[1/1024, 64]`` in 12
steps (the same bracket width per step as the default).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from glifbench.models.layers import UnitLayer


def calibratable_layers(network: nn.Module) -> list[tuple[str, UnitLayer]]:
    """The unit layers whose unit kind takes the calibration (GLIF units), in forward order."""
    return [(name, m) for name, m in network.named_modules() if isinstance(m, UnitLayer) and m.unit.calibratable]


@torch.no_grad()
def calibrate_activity(
    network: nn.Module, inputs: torch.Tensor, target: float, scale_bias: bool = False,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Scale the weights (with ``scale_bias``, and the biases) feeding each GLIF layer so its
    activity on ``inputs`` is ``target``.

    Returns ``{layer: {"scale": s, "activity": a}}``; networks without calibratable units are unchanged.
    """
    if not 0 < target < 1:
        raise ValueError(f"target activity must be in (0, 1), got {target}")
    (low, high), iterations = ((2.0**-10, 64.0), 12) if scale_bias else ((0.125, 64.0), 8)
    was_training = network.training
    network.eval()
    network.record_activity(True)
    report = {}
    for name, layer in calibratable_layers(network):
        scaled = layer.feeding_weights() + (layer.feeding_biases() if scale_bias else [])
        base = [w.clone() for w in scaled]

        def activity(scale: float) -> float:
            for w, b in zip(scaled, base, strict=True):
                w.copy_(b * scale)
            network(inputs)
            return float(layer.activity.mean())

        lo, hi = math.log(low), math.log(high)
        for _ in range(iterations):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if activity(math.exp(mid)) < target else (lo, mid)
        scale = math.exp((lo + hi) / 2)
        report[name] = {"scale": scale, "activity": activity(scale)}
    network.train(was_training)
    return report
