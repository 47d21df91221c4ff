"""Threshold functions with surrogate gradients.

* :class:`SigmoidSpike` -- paper eq. 5: forward ``H(x)`` (``x >= 0`` -> 1), backward the
  derivative of the sigmoid ``sigma(k x)``: ``k sigma(k x) (1 - sigma(k x))`` (k = 5 in the paper).
* :class:`SignSTE` -- paper eqs. 1-2: forward ``sign(x)`` in {-1, +1} (``x >= 0`` -> +1),
  backward the straight-through estimator ``1{|x| <= 1}`` (the derivative of ``hardtanh``).
* any of Norse's threshold methods (``super``, ``triangle``, ``tanh``, ``circ``, ``heavi_erfc``)
  through :func:`norse.torch.functional.threshold.threshold`.

The two of this module batch under ``torch.func.vmap`` (a pack of models trained as one
computation, ``glifbench.training.pack``); Norse's ``autograd.Function``s do not.
"""

from __future__ import annotations

import torch
from norse.torch.functional.threshold import threshold as norse_threshold

NORSE_METHODS = ("super", "triangle", "tanh", "circ", "heavi_erfc")
METHODS = ("sigmoid",) + NORSE_METHODS


class SigmoidSpike(torch.autograd.Function):
    """Heaviside forward, sigmoid-derivative backward (paper eq. 5). Written with
    ``setup_context`` so that ``torch.func.vmap`` can batch it (many models in one process)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, slope: float) -> torch.Tensor:
        return (x >= 0).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, slope = inputs
        ctx.save_for_backward(x)
        ctx.slope = slope

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        sig = torch.sigmoid(ctx.slope * x)
        return grad_output * ctx.slope * sig * (1 - sig), None


class SignSTE(torch.autograd.Function):
    """``sign`` forward (eq. 1), straight-through estimator backward (eq. 2); vmap-able."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1).to(grad_output.dtype)


def spike_fn(x: torch.Tensor, method: str = "sigmoid", slope: float = 5.0) -> torch.Tensor:
    """``H(x)`` in {0, 1} with the surrogate gradient ``method`` (see the module docstring)."""
    if method == "sigmoid":
        return SigmoidSpike.apply(x, slope)
    if method in NORSE_METHODS:
        return norse_threshold(x, method, slope)
    raise ValueError(f"unknown surrogate {method!r}; valid: {', '.join(METHODS)}")


def sign_ste(x: torch.Tensor) -> torch.Tensor:
    """``sign(x)`` in {-1, +1} with the straight-through estimator (eqs. 1-2)."""
    return SignSTE.apply(x)
