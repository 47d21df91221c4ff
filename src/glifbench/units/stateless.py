"""Stateless unit kinds: the real-valued ``tanh`` and the binary ``sign`` (paper eqs. 1-2)."""

from __future__ import annotations

from typing import NamedTuple

import torch

from glifbench.units.base import OutputState, Unit
from glifbench.units.surrogates import sign_ste


class TanhUnit(Unit):
    """``tanh(I_t)``: the real-valued baseline of Tables I and III."""

    kind, binary, stateful = "tanh", False, False

    def forward(self, current: torch.Tensor, state: NamedTuple) -> tuple[torch.Tensor, OutputState]:
        out = torch.tanh(current)
        return out, OutputState(out)


class SignUnit(Unit):
    """``sign(I_t)`` in {-1, +1} with the straight-through estimator (eqs. 1-2); ``+1`` is active."""

    kind, binary, stateful = "sign", True, False
    output_bits = 1

    def forward(self, current: torch.Tensor, state: NamedTuple) -> tuple[torch.Tensor, OutputState]:
        out = sign_ste(current)
        return out, OutputState(out)
