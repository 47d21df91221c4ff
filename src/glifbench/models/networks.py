"""The networks of Tables I and III, for the three tasks.

Every network is ``body`` (temporal layers on ``[T, B, C, *S]``) then ``readout``:

* Table I (SOT, real-valued): ``CNN``, ``DCNN``, ``CNN-RNN``, ``CRNN``, ``CRNN-Shallow``,
  ``CNN-CRNN``, ``CRNN-CNN`` -- convolutions of 8 then 16 channels (3x3), ReLU for plain
  convolutions and tanh for recurrent ones; readout 100 ReLU units (a GRU for CNN-RNN) then a
  linear layer.
* Table III: ``CRNN`` with a binary unit type: both recurrent convolutions and the 100-unit dense
  layer use the unit; a linear readout. ``CNN`` with ``BA`` is the paper's BCNN (Fig. 5).
* Tasks: ``sot`` (2-D, frames ``[T, B, 30, 30]`` -> positions ``[T, B, 2]``), ``mnist`` (2-D,
  images ``[B, 28, 28]`` shown for ``n_steps`` steps -> logits ``[B, 10]`` at the last step),
  ``fsdd`` (1-D over the 64 bands, spectrograms ``[T, B, 64]`` -> logits ``[B, 10]`` at the last step).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from glifbench.models.layers import (
    DenseUnit, FeedForwardConv, Flatten, GRUReadout, RecurrentConv, SoftArgmax, TemporalDifference, TimeLinear,
    UnitLayer,
)  # fmt: skip
from glifbench.names import ARCHITECTURES as ARCHITECTURE_NAMES
from glifbench.tasks import TASKS, Task
from glifbench.units import Unit, make_unit

ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "CNN": ("conv", "conv"),
    "DCNN": ("diff", "conv", "conv"),
    "CNN-RNN": ("conv", "conv"),
    "CRNN": ("rconv", "rconv"),
    "CRNN-Shallow": ("rconv",),
    "CNN-CRNN": ("conv", "rconv"),
    "CRNN-CNN": ("rconv", "conv"),
}
assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES
READOUTS = ("dense", "softargmax")
HIDDEN_UNITS = ("same", "Real")  # the dense readout's hidden layer: the network's unit, or real-valued
READOUT_INPUTS = ("output", "potential")


class Network(nn.Module):
    """``body`` then ``readout``; classification tasks read the last time step.

    ``readout`` is named: ``flatten``, ``hidden`` (the 100-unit dense layer of the unit type,
    or the CNN-RNN's GRU) and ``out`` (linear), or ``softargmax`` alone.
    """

    def __init__(self, task: str, body: nn.Sequential, readout: nn.Sequential, n_steps: int):
        super().__init__()
        self.task, self.body, self.readout, self.n_steps = task, body, readout, n_steps
        self.spec: Task = TASKS[task]

    @property
    def hidden_readout(self) -> nn.Module | None:
        """The readout's wide dense layer (SOT: 14,400 -> 100), if the network has one."""
        return getattr(self.readout, "hidden", None)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Check the input's shape and bring it to ``[T, B, 1, *S]``."""
        size = self.spec.size
        if self.spec.static:  # one input per trial, shown for n_steps steps (never copied)
            if x.dim() == 2 + len(size) and x.shape[1] == 1:
                x = x[:, 0]
            if x.dim() != 1 + len(size) or tuple(x.shape[1:]) != size:
                shape = ", ".join(map(str, size))
                raise ValueError(f"{self.task} input must be [B, {shape}], got {list(x.shape)}")
            return x.unsqueeze(1).unsqueeze(0).expand(self.n_steps, *([-1] * (len(size) + 2)))
        if x.dim() == 3 + len(size) and x.shape[2] == 1:
            x = x[:, :, 0]
        if x.dim() != 2 + len(size) or tuple(x.shape[2:]) != size:
            shape = ", ".join(map(str, size))
            raise ValueError(f"{self.task} input must be [T, B, {shape}], got {list(x.shape)}")
        return x.unsqueeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.readout(self.body(self.prepare(x)))
        return out if self.spec.every_step else out[-1]

    def record_activity(self, enabled: bool = True) -> Network:
        """Switch activity recording of every unit layer on or off."""
        for module in self.modules():
            if isinstance(module, UnitLayer):
                module.recording = enabled
                module.activity = None
        return self

    def compile_units(self, enabled: bool = True) -> Network:
        """Run every unit's step compiled by ``torch.compile`` (``training.compile_units``) or eagerly."""
        for module in self.modules():
            if isinstance(module, Unit):
                module.use_compiled(enabled)
        return self

    def activity(self) -> dict[str, torch.Tensor]:
        """Fraction of active units per time step ``[T]`` of each unit layer (last forward)."""
        return {
            name: m.activity
            for name, m in self.named_modules()
            if isinstance(m, UnitLayer) and m.activity is not None
        }


def build_network(
    task: str,
    arch: str,
    unit: str,
    *,
    channels: tuple[int, ...] = (8, 16),
    hidden: int = 100,
    readout: str = "dense",
    softargmax_gain: float = 10.0,
    n_steps: int = 20,
    init_gain: float = 1.0,
    readout_dt_tau: float = 1.0,
    readout_input: str = "output",
    hidden_unit: str = "same",
    unit_options: dict[str, Any] | None = None,
) -> Network:
    """Build the network ``arch`` with units ``unit`` for ``task`` (names checked, listed on error).

    ``init_gain`` multiplies PyTorch's default initial weights of every layer that feeds a
    binary unit (keeps spiking layers active, docs/models.md). ``readout`` ``softargmax`` (SOT
    only) replaces the dense readout by :class:`~glifbench.models.layers.SoftArgmax`; the
    CNN-RNN keeps its GRU readout. ``readout_dt_tau`` < 1 makes the output layer a leaky integrator
    (:class:`~glifbench.models.layers.TimeLinear`). ``readout_input`` ``potential``: the layer the
    readout reads (the dense readout's hidden layer; the last convolution before a soft-argmax)
    passes on its units' potentials (GLIF: the membrane before threshold and reset; ReLU, tanh,
    sign: the input current) instead of their outputs; its units still send their outputs along
    their recurrent connections. The CNN-RNN's GRU reads its features as they are.
    ``hidden_unit``: the dense readout's hidden layer uses the network's unit (``same``: the
    paper's "same architecture") or is real-valued (``Real``: ReLU, as in the real-valued
    networks) in every network; without a dense readout (soft-argmax, the CNN-RNN's GRU) there is
    no such layer.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")
    if readout not in READOUTS:
        raise ValueError(f"unknown readout {readout!r}; valid: {', '.join(READOUTS)}")
    if readout == "softargmax" and task != "sot":
        raise ValueError("readout 'softargmax' exists only for task 'sot'")
    if readout_input not in READOUT_INPUTS:
        raise ValueError(f"unknown readout input {readout_input!r}; valid: {', '.join(READOUT_INPUTS)}")
    if hidden_unit not in HIDDEN_UNITS:
        raise ValueError(f"unknown hidden unit {hidden_unit!r}; valid: {', '.join(HIDDEN_UNITS)}")
    options = unit_options or {}
    new_unit = lambda: make_unit(unit, **options)  # noqa: E731 - one fresh unit per layer
    spec = TASKS[task]
    layers = ARCHITECTURES[arch]
    widths = list(channels[:1] if arch == "CRNN-Shallow" else channels)
    if len(widths) < sum(kind != "diff" for kind in layers):
        raise ValueError(f"{arch} needs {sum(k != 'diff' for k in layers)} channel widths, got {channels}")
    body: list[nn.Module] = []
    in_ch = 1
    for kind in layers:
        if kind == "diff":
            body.append(TemporalDifference())
            continue
        out_ch = widths.pop(0)
        layer_type = RecurrentConv if kind == "rconv" else FeedForwardConv
        body.append(layer_type(in_ch, out_ch, spec.dims, new_unit()))
        in_ch = out_ch
    features = in_ch * int(torch.tensor(spec.size).prod())
    if arch == "CNN-RNN":  # its GRU readout is what the architecture is about: kept for any readout
        head = {"flatten": Flatten(), "hidden": GRUReadout(features, hidden),
                "out": TimeLinear(hidden, spec.outputs, readout_dt_tau)}  # fmt: skip
    elif readout == "softargmax":
        head = {"softargmax": SoftArgmax(in_ch, softargmax_gain)}
    else:
        dense_unit = make_unit("Real") if hidden_unit == "Real" else new_unit()
        head = {"flatten": Flatten(), "hidden": DenseUnit(features, hidden, dense_unit),
                "out": TimeLinear(hidden, spec.outputs, readout_dt_tau)}  # fmt: skip
    network = Network(task, nn.Sequential(*body), nn.Sequential(OrderedDict(head)), n_steps)
    if readout_input == "potential" and arch != "CNN-RNN":
        read = body[-1] if readout == "softargmax" else head["hidden"]  # the layer the readout reads
        read.emit_potential = True
    if init_gain != 1.0:
        with torch.no_grad():
            for module in network.modules():
                if isinstance(module, UnitLayer) and module.unit.binary:  # not a real-valued hidden layer
                    for weight in module.feeding_weights():
                        weight.mul_(init_gain)
    return network
