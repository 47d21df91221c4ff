"""Weights of a trained network for the autapse analysis (paper IV-C, Fig. 7)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from glifbench.models.layers import RecurrentConv


class LayerWeights(NamedTuple):
    """Feed-forward kernel ``[C_out, C_in, *k]``, recurrent kernel ``[C, C, *k]``, autapses ``[C]``."""

    name: str
    feedforward: torch.Tensor
    recurrent: torch.Tensor
    autapses: torch.Tensor


def autapses(recurrent_kernel: torch.Tensor) -> torch.Tensor:
    """Centre tap of each diagonal block: ``W_rec[c, c, centre]`` for every channel ``c``."""
    c_out, c_in, *kernel = recurrent_kernel.shape
    if c_out != c_in or any(k % 2 == 0 for k in kernel):
        raise ValueError(f"expected a [C, C, odd kernel] recurrent kernel, got {list(recurrent_kernel.shape)}")
    channels = torch.arange(c_out)
    centre = tuple(k // 2 for k in kernel)
    return recurrent_kernel[(channels, channels) + centre]


def extract_weights(model: nn.Module) -> list[LayerWeights]:
    """Feed-forward weights, recurrent weights and autapses of every recurrent convolution."""
    found = []
    for name, module in model.named_modules():
        if isinstance(module, RecurrentConv):
            rec = module.rec.weight.detach().cpu()
            found.append(LayerWeights(name, module.ff.weight.detach().cpu(), rec, autapses(rec)))
    if not found:
        raise ValueError("the model has no recurrent convolution layers")
    return found
