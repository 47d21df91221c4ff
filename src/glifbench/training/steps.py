"""One optimisation step of a network -- forward, loss, backward, clipping, Adam -- run eagerly or
captured once as a CUDA graph and replayed (``training.cuda_graphs``).

A training step of the paper's networks is thousands of tiny kernels (the time loop runs every
layer's unit step T times); on a GPU their launches, not their arithmetic, take the time. A CUDA
graph records the whole step once and replays it with one launch (PyTorch's "whole network
capture": ``torch.cuda.graphs``). The graph is a function of fixed tensors, so:

* the first ``WARMUP`` steps run eagerly on a side stream (as PyTorch's capture recipe asks);
  they are ordinary training steps on the epoch's real batches, not extra ones;
* the next step is captured: its batch is copied into static input tensors, the step recorded
  with the gradients unset (so backward *writes* them, no zeroing needed on replay), then
  replayed to run it; every later batch of the same shapes is copied in and replayed;
* a batch of other shapes (the last, partial batch of an epoch) runs eagerly, zeroing the
  gradients in place so that the graph's gradient buffers stay its own;
* Adam is built with ``capturable=True`` (its step counter lives on the GPU), on CUDA in the
  eager mode too, so that a job's arithmetic does not depend on whether its step is captured;
  clipping is ``clip_grad_norm_``, which needs no host synchronisation.

Only full batches count towards the warm-up and the capture (a short batch in between runs
eagerly), so the graph always has the epoch's common shape. A checkpoint carries Adam's state
between devices: :func:`set_capturable` puts its step counters where the current one needs them.
Neither step asks whether the loss is finite (a question that would make the host wait for the
step to end): both update even from a broken loss, and the job stops with an error one batch
later, before any checkpoint is written (:mod:`glifbench.training.totals`).

The arithmetic is the eager step's: the two agree to float tolerance (checked on an H100:
``tests/test_steps.py`` has the CUDA tests, skipped without one).

Evaluation passes (validation after every epoch, the test split at the end) run a forward pass
per batch, eager (:class:`EagerForward`) or, with ``training.capture_validation``, captured the
same way (:class:`CapturedForward`: its outputs, loss and each unit layer's activity are static
tensors, overwritten by the next replay). One class holds the warm-up, capture and replay logic
for all of them (:class:`CapturedCall`; a pack of models' step uses it too,
:func:`glifbench.training.pack.build_pack_step`). At the paper's scale validation is as many trials as
training, and an eager forward pass costs about as much as a captured training step.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from glifbench.errors import TrainingError

# On CUDA every job's Adam is capturable, eager steps too (the same arithmetic as a captured
# step, docs/performance.md): torch's advice to turn that off for uncaptured steps is known here.
warnings.filterwarnings("ignore", message="This instance was constructed with capturable=True", category=UserWarning)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Step = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # (x, y) -> out, loss
Forward = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]]


def set_capturable(optimizer: torch.optim.Optimizer, capturable: bool) -> None:
    """Adam on CUDA (``capturable``: its step counters as float32 on the parameters' device, as
    a CUDA graph needs) or on a CPU (counters on the CPU), whichever device wrote the state it
    holds (a checkpoint from a GPU run continued on a CPU, or the other way round)."""
    for group in optimizer.param_groups:
        group["capturable"] = capturable
        for param in group["params"]:
            state = optimizer.state.get(param)
            if state and "step" in state:
                device = param.device if capturable else torch.device("cpu")
                state["step"] = state["step"].to(dtype=torch.float32, device=device)


def use_cuda_graphs(setting: bool | str, device: torch.device) -> bool:
    """``training.cuda_graphs``: ``auto`` = on a CUDA device; ``true`` needs one."""
    if setting == "auto":
        return device.type == "cuda"
    if setting is True:
        if device.type != "cuda":
            raise TrainingError(f"training.cuda_graphs: true needs a CUDA device, the job runs on {device}")
        return True
    return False


def use_captured_validation(setting: bool | str, cuda_graphs: bool | str, graphs: bool) -> bool:
    """``training.capture_validation``: capture the evaluation passes too where the training
    steps are captured (``graphs``, :func:`use_cuda_graphs` of the ``cuda_graphs`` setting).
    ``auto`` follows the steps' capture (on CUDA by default, eager on a CPU); ``true`` with
    ``cuda_graphs: false`` is an error; ``false`` keeps them eager."""
    if setting is True and cuda_graphs is False:
        raise TrainingError("training.capture_validation: true needs training.cuda_graphs auto or true, it is false")
    return setting in ("auto", True) and graphs


def use_channels_last(setting: bool | str, device: torch.device) -> bool:
    """``training.channels_last``: store the 2-D convolutions' weights channels-last (NHWC), so
    that oneDNN convolves the per-step ``[B, C, H, W]`` maps without reordering them to its
    blocked layout and back on every call: a SOT CRNN training step ~1.6x faster on one CPU
    thread, MNIST's unchanged (docs/performance.md). ``auto`` = on a CPU (off on CUDA,
    where captured steps ran 0.61-0.69x as fast with it on an H100; ``true`` asks for it there)."""
    if setting == "auto":
        return device.type == "cpu"
    return setting is True


def cpp_compiler_found() -> bool:
    """Whether ``torch.compile`` finds the C++ compiler it builds CPU kernels with (Inductor's
    own search: ``$CXX``, else its configured ``g++``)."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        get_cpp_compiler()
    except Exception:  # noqa: BLE001 - InvalidCxxCompiler, or an Inductor without this function
        return False
    return True


def use_compiled_units(setting: bool | str, device: torch.device) -> bool:
    """``training.compile_units``: ``auto`` = on a CPU where ``torch.compile`` finds its C++
    compiler (on CUDA, not yet checked, only ``true`` turns it on); ``true`` needs that compiler
    on a CPU."""
    if setting == "auto":
        return device.type == "cpu" and cpp_compiler_found()
    if setting is True and device.type == "cpu" and not cpp_compiler_found():
        raise TrainingError("training.compile_units: true needs the C++ compiler torch.compile uses on a CPU "
                            "($CXX, else g++; none found): install one, or set it to auto or false")  # fmt: skip
    return setting is True


def on_side_stream(call: Callable, *args: torch.Tensor):
    """``call(*args)`` on a side stream, the current one waiting for it: how PyTorch's capture
    recipe runs the eager warm-up steps before a capture."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        result = call(*args)
    torch.cuda.current_stream().wait_stream(side)
    return result


class EagerStep:
    """``out, loss = step(x, y)``: forward, loss, backward, clipping to ``clip_norm`` (``None``:
    off) and the optimiser's step."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn,
                 clip_norm: float | None, set_to_none: bool = True):  # fmt: skip
        self.model, self.optimizer, self.loss_fn, self.clip_norm = model, optimizer, loss_fn, clip_norm
        self.set_to_none = set_to_none

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(x)
        loss = self.loss_fn(out, y)
        self.optimizer.zero_grad(set_to_none=self.set_to_none)
        loss.backward()
        if self.clip_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        return out, loss


class EagerForward:
    """``out, loss, activity = forward(x, y)``: one batch of an evaluation pass (call it without
    gradients): the outputs, the loss and ``model.activity()`` (each recording unit layer's
    active fraction per step)."""

    def __init__(self, model: nn.Module, loss_fn: LossFn):
        self.model, self.loss_fn = model, loss_fn

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        out = self.model(x)
        return out, self.loss_fn(out, y), self.model.activity()


class CapturedCall:
    """``outputs = call(x, y)``: the call ``eager(x, y)`` captured as a CUDA graph, the state
    machine every captured call shares (module docstring). A batch whose targets ``full`` does
    not accept, or of other shapes than the captured one, runs ``eager``; the first ``warmup``
    full batches run ``eager`` on a side stream; the next is captured over static copies of
    ``x`` and ``y`` (``before_capture()`` first, ``keep(outputs)`` turns the recorded outputs
    into what every replay returns) and run; every later batch of those shapes is copied in and
    replayed. The returned tensors of a replay are the graph's static outputs: read them before
    the next call (work queued on the same stream does)."""

    def __init__(self, eager: Callable, warmup: int, full: Callable[[torch.Tensor], bool] = lambda y: True,
                 before_capture: Callable[[], None] = lambda: None,
                 keep: Callable = lambda outputs: outputs):  # fmt: skip
        self.eager, self.warmup, self.full = eager, warmup, full
        self.before_capture, self.keep = before_capture, keep
        self.reset()

    def reset(self) -> None:
        """Forget the graph (e.g. after the optimiser's state tensors were replaced): warm up and capture anew."""
        self.graph: torch.cuda.CUDAGraph | None = None
        self.warm = 0
        self.static: tuple[torch.Tensor, torch.Tensor] | None = None
        self.outputs = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor):
        if self.graph is not None:
            static_x, static_y = self.static
            if x.shape != static_x.shape or y.shape != static_y.shape:
                return self.eager(x, y)
            static_x.copy_(x)
            static_y.copy_(y)
            self.graph.replay()
            return self.outputs
        if not self.full(y):
            return self.eager(x, y)
        if self.warm < self.warmup:
            self.warm += 1
            return on_side_stream(self.eager, x, y)
        self.static = (x.clone(), y.clone())
        self.before_capture()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs = self.keep(self.eager(*self.static))
        self.graph, self.outputs = graph, outputs
        graph.replay()  # capturing records the call without running it: run it now
        return outputs


class CapturedStep(CapturedCall):
    """The training step (:class:`EagerStep`), captured after ``WARMUP`` eager steps. The
    gradients are unset before the capture, so the recorded backward *writes* them (the eager
    step's in-place zeroing finds nothing to zero there) and their buffers are the graph's; an
    eager step on a short batch zeroes them in place, keeping them the graph's."""

    WARMUP = 3

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn, clip_norm: float | None,
                 full: Callable[[torch.Tensor], bool] = lambda y: True):  # fmt: skip
        self._around(EagerStep(model, optimizer, loss_fn, clip_norm, set_to_none=False), optimizer, full)

    @classmethod
    def around(cls, step: Step, optimizer: torch.optim.Optimizer,
               full: Callable[[torch.Tensor], bool] = lambda y: True) -> CapturedStep:  # fmt: skip
        """Any training step that updates with ``optimizer`` and zeroes its gradients in place
        (``set_to_none=False``), captured the same way: a pack's step
        (:func:`glifbench.training.pack.build_pack_step`)."""
        captured = cls.__new__(cls)
        captured._around(step, optimizer, full)
        return captured

    def _around(self, step: Step, optimizer: torch.optim.Optimizer, full: Callable[[torch.Tensor], bool]) -> None:
        super().__init__(step, self.WARMUP, full, before_capture=lambda: optimizer.zero_grad(set_to_none=True))


def ran_captured(call: object) -> bool:
    """Whether ``call`` (a step or forward pass) has run as a CUDA graph: what ``timing.csv`` records."""
    return isinstance(call, CapturedCall) and call.graph is not None


class CapturedForward(CapturedCall):
    """The evaluation forward pass (:class:`EagerForward`), captured after ``WARMUP`` eager
    batches: outputs, loss and each layer's activity are static tensors. The model's parameters
    are read in place, so the graph sees every update the training steps make."""

    WARMUP = 2

    def __init__(self, model: nn.Module, loss_fn: LossFn, full: Callable[[torch.Tensor], bool] = lambda y: True):
        # the activity dict is copied: the layers' attributes are reset between passes
        super().__init__(EagerForward(model, loss_fn), self.WARMUP, full,
                         keep=lambda outputs: (outputs[0], outputs[1], dict(outputs[2])))  # fmt: skip
