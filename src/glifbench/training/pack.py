"""Many models in one process: K jobs that differ only by seed trained as one batched computation.

The K networks share a task, architecture, unit type and settings; their weights are stacked
along a new leading dimension (``torch.func.stack_module_state``) and one forward pass of the
architecture runs all of them with ``torch.func.vmap`` over ``functional_call``: every
convolution becomes one grouped convolution, every dense layer one batched matrix product, and
the time loop launches one kernel per step for the whole pack instead of K. Each model still
sees its own data order (``numpy.random.default_rng([seed, epoch])``), so for model ``k``::

    L = sum_k L_k(theta_k)            dL/dtheta_k = dL_k/dtheta_k

and since Adam is element-wise and gradient clipping is applied per model
(``g_k <- g_k * min(1, c / (||g_k|| + 1e-6))``, PyTorch's ``clip_grad_norm_`` on model ``k``'s
gradients alone), the pack follows the same trajectories as K separate jobs up to
floating-point rounding (tested). Everything else is per job and unchanged: validation (with
activity), checkpoints, outputs and MLflow runs; a job's checkpoint continues alone or in a pack.

What vmap cannot batch is refused with a reason (:func:`glifbench.training.packable.pack_problem`:
the CNN-RNN's ``nn.GRU``, Norse's surrogates).

On a GPU the pack's whole step is captured as one CUDA graph as a job's own step is
(``training.cuda_graphs``, :mod:`glifbench.training.steps`), anew after each epoch's
:meth:`ModelPack.load` (a graph is of the stacked tensors it was recorded with): the vmapped
step is still thousands of small kernels per step, each launched once per replay instead of
once per model.

Where it pays: on a GPU, where a single small model leaves the device idle (issue 11). On CPU
one thread per job is as fast or faster (``benchmarks/training_step.py --pack``).
"""

from __future__ import annotations

import copy
import logging
import signal
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from glifbench.errors import Terminated, TrainingError
from glifbench.training.packable import pack_problem
from glifbench.training.progress import Progress
from glifbench.training.steps import CapturedStep, Step, ran_captured, set_capturable, use_cuda_graphs
from glifbench.training.totals import PassTotals
from glifbench.training.trainer import (
    JobSpec, end_epoch, finish_job, full_batch, start_job, task_loss, train_one_epoch, train_tracker,
)  # fmt: skip

log = logging.getLogger("glifbench.train")


def check_packable(specs: Sequence[JobSpec]) -> None:
    """The specs must be one (task, arch, unit, settings, data, variant) with distinct seeds, of
    an architecture and surrogate vmap can batch."""
    if len(specs) < 2:
        raise TrainingError("a pack needs at least two jobs")
    first = specs[0]
    for spec in specs[1:]:
        fields = ("task", "arch", "unit", "variant", "config", "data", "evaluate_test")
        same = all(getattr(spec, name) == getattr(first, name) for name in fields)
        if not same:
            raise TrainingError(f"{spec.name} and {first.name} differ in more than the seed: they cannot be packed")
    seeds = [spec.seed for spec in specs]
    if len(set(seeds)) != len(seeds):
        raise TrainingError(f"a pack needs distinct seeds, got {seeds}")
    problem = pack_problem(first.arch, first.config.get("units", {}))
    if problem is not None:
        raise TrainingError(f"{first.name}: cannot pack {problem}")


class PackMember(Protocol):
    """What a pack needs of each job: its model and its optimiser (a :class:`JobState` has both)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer


class ModelPack:
    """K networks of one architecture as stacked weights ``[K, ...]`` and one vmapped forward.

    :meth:`load` stacks the models' weights and their Adam states (an optimiser over the stacked
    weights, grouped as each job's own); :meth:`store` writes them back, so between epochs each
    job's model and optimiser hold exactly its own state.
    """

    def __init__(self, states: Sequence[PackMember]):
        self.states = list(states)
        self.base = copy.deepcopy(self.states[0].model).to("meta")
        self.base.train(True).record_activity(False).compile_units(False)  # vmap runs the eager unit step
        self.params: dict[str, torch.Tensor] = {}
        self.buffers: dict[str, torch.Tensor] = {}
        self.optimizer: torch.optim.Optimizer | None = None
        self.capturable: list[bool] = []  # each job's Adam mode, restored by store()

    @property
    def size(self) -> int:
        """K, the number of models."""
        return len(self.states)

    def load(self) -> None:
        """Stack the models' weights and optimiser states (Adam's moments per parameter, ``step``
        shared: the jobs are at the same epoch)."""
        for state in self.states:  # (a job's last validation left it in eval mode)
            state.model.train(True).record_activity(False)
        self.params, self.buffers = stack_module_state([state.model for state in self.states])
        names = {id(p): n for n, p in self.states[0].model.named_parameters()}
        template = self.states[0].optimizer
        groups = [{**{k: v for k, v in group.items() if k != "params"},
                   "params": [self.params[names[id(p)]] for p in group["params"]]}
                  for group in template.param_groups]  # fmt: skip
        self.optimizer = type(template)(groups)
        saved = [state.optimizer.state_dict() for state in self.states]
        stacked: dict[int, dict[str, Any]] = {}
        for index, first in saved[0]["state"].items():
            entry = {}
            for key, value in first.items():
                values = [s["state"][index][key] for s in saved]
                if key == "step":  # a copy: load_state_dict keeps the tensor, Adam increments it in place
                    if any(not torch.equal(v, value) for v in values):
                        steps = [float(v) for v in values]
                        raise TrainingError(f"the packed jobs are at different optimiser steps: {steps}")
                    entry[key] = value.clone()
                else:
                    entry[key] = torch.stack(values)
            stacked[index] = entry
        self.optimizer.load_state_dict({"state": stacked, "param_groups": saved[0]["param_groups"]})
        self.capturable = [any(g.get("capturable", False) for g in st.optimizer.param_groups) for st in self.states]
        # Adam as its jobs run it alone (capturable on CUDA, docs/performance.md): what a captured pack step needs
        set_capturable(self.optimizer, all(self.capturable))

    def store(self) -> None:
        """Write the stacked weights and optimiser states back into each job's model and optimiser."""
        packed = self.optimizer.state_dict()
        for k, state in enumerate(self.states):
            with torch.no_grad():
                for name, param in state.model.named_parameters():
                    param.copy_(self.params[name][k])
                for name, buffer in state.model.named_buffers():
                    buffer.copy_(self.buffers[name][k])
            own = {index: {key: value.clone() if key == "step" else value[k].clone() for key, value in entry.items()}
                   for index, entry in packed["state"].items()}  # fmt: skip
            state.optimizer.load_state_dict({"state": own, "param_groups": packed["param_groups"]})
            set_capturable(state.optimizer, self.capturable[k])
            if isinstance(getattr(state, "step", None), CapturedStep):
                state.step.reset()  # its graph points at the optimiser state just replaced

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x [K, ...]`` (each model's batch) -> ``[K, ...]`` (each model's output)."""

        def forward(params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], inputs: torch.Tensor):
            return functional_call(self.base, (params, buffers), (inputs,))

        return vmap(forward)(self.params, self.buffers, x)

    def clip_(self, max_norm: float) -> None:
        """Per model: scale its gradients to total 2-norm ``max_norm`` if above it (as
        ``torch.nn.utils.clip_grad_norm_`` on that model's parameters alone)."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads]).norm(dim=0)  # [K]
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))


def _full_pack_batch(spec: JobSpec, targets: torch.Tensor) -> bool:
    """Whether a pack's batch (its stacked targets ``[K, ...]``) holds every model's configured batch size."""
    return full_batch(spec, targets[0])


class PackStep:
    """``out, losses = step(x, y)``: one training step of every model of ``pack`` on its own
    batch (``x [K, ...]``, ``y [K, ...]``): the outputs ``[K, ...]`` and losses ``[K]``, the
    backward pass of their sum (model ``k``'s gradient is its own loss's), per-model clipping to
    ``clip_norm`` (``None``: off) and the stacked Adam's step."""

    def __init__(self, pack: ModelPack, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 clip_norm: float | None, set_to_none: bool = True):  # fmt: skip
        self.pack, self.loss_fn, self.clip_norm, self.set_to_none = pack, loss_fn, clip_norm, set_to_none

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.pack(x)
        losses = self.loss_fn(out, y)
        self.pack.optimizer.zero_grad(set_to_none=self.set_to_none)
        losses.sum().backward()
        if self.clip_norm is not None:
            self.pack.clip_(self.clip_norm)
        self.pack.optimizer.step()
        return out, losses


def build_pack_step(pack: ModelPack, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    clip_norm: float | None, graphs: bool,
                    full: Callable[[torch.Tensor], bool] = lambda y: True) -> Step:  # fmt: skip
    """The pack's training step for its current stacked weights (after :meth:`ModelPack.load`;
    ``loss_fn`` vmapped over the models): eager, or with ``graphs`` captured as a CUDA graph as
    a job's own step is (:class:`glifbench.training.steps.CapturedStep`: warm-up steps, then one
    graph of the whole pack's step; a batch whose stacked targets ``full`` refuses runs eagerly)."""
    if not graphs:
        return PackStep(pack, loss_fn, clip_norm)
    return CapturedStep.around(PackStep(pack, loss_fn, clip_norm, set_to_none=False), pack.optimizer, full)


def run_pack_epoch(pack: ModelPack, epoch: int, trackers: Sequence[Progress], step: Step,
                   should_stop: Callable[[], bool] | None = None) -> list[dict[str, float]]:  # fmt: skip
    """One training pass of every model of the pack over its own seeded batch order with
    ``step`` (:func:`build_pack_step`); returns each job's means (as
    :func:`glifbench.training.trainer.run_epoch`). The seeds' batches have the same shapes
    (:func:`train_pack` checked the stream)."""
    states = pack.states
    spec = states[0].spec
    s, task, device = spec.settings, spec.descriptor, states[0].device
    streams = [st.train_stream.batches(s["batch_size"], np.random.default_rng([st.spec.seed, epoch])) for st in states]
    totals = PassTotals(task, device, [st.spec.name for st in states], "training",
                        hint=": it stops its whole pack; train it alone (training.group: none) to let the "
                             "other seeds finish")  # fmt: skip
    for batches in zip(*streams, strict=True):
        x = torch.stack([b.inputs for b in batches]).to(device)
        y = torch.stack([b.targets for b in batches]).to(device)
        out, losses = step(x, y)
        n = task.trials_in(y.shape[1:])
        totals.add(losses, out, y, n)
        for k, tracker in enumerate(trackers):
            tracker.update(n, lambda k=k: totals.means()[k])
        if should_stop is not None and should_stop():
            raise Terminated(128 + signal.SIGTERM)
    return totals.result()


def train_pack(specs: Sequence[JobSpec], on_epoch: Sequence[Callable | None] | None = None,
               run_ids: Sequence[str | None] | None = None, on_progress: Sequence[Callable | None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Train (or resume) the jobs ``specs`` as one pack; the per-job callbacks are those of
    :func:`glifbench.training.trainer.train`. Jobs resumed from checkpoints of different epochs
    first catch up one by one, then train together. Returns each job's result."""
    check_packable(specs)
    K = len(specs)
    on_epoch = list(on_epoch or [None] * K)
    on_progress = list(on_progress or [None] * K)
    states = [start_job(spec, run_id) for spec, run_id in zip(specs, run_ids or [None] * K, strict=True)]
    if not states[0].train_stream.same_shapes_in_any_order:
        raise TrainingError(f"{specs[0].name}: its training shards differ in size, so the seeds' batches "
                            "differ in shape and cannot be stacked (make sot.n_train a multiple of "
                            "sot.shard_size, or train alone)")  # fmt: skip
    for state, callback in zip(states, on_epoch):
        if callback is not None and state.history:
            callback(state.history, state.run_id)
    s = specs[0].settings
    epochs = s["epochs"]
    ahead = max(state.epochs_done for state in states)
    for state, callback, progress in zip(states, on_epoch, on_progress):
        while state.epochs_done < min(ahead, epochs):  # a checkpoint behind the others: alone first
            log.info("%s: epoch %d alone, to catch up with its pack", state.spec.name, state.epochs_done + 1)
            train_one_epoch(state, should_stop, callback, progress)
    if ahead < epochs:
        log.info("training %d jobs as one pack: %s", K, ", ".join(spec.name for spec in specs))
    pack = ModelPack(states)
    graphs = use_cuda_graphs(s["cuda_graphs"], states[0].device)
    loss_fn = vmap(partial(task_loss, specs[0].descriptor, from_frame=s["loss_from_frame"]))
    full = partial(_full_pack_batch, specs[0])
    for epoch in range(ahead, epochs):
        start = time.perf_counter()
        step = None  # the last epoch's graph and its memory pool go before the new stacked tensors come
        pack.load()
        step = build_pack_step(pack, loss_fn, s["clip_norm"], graphs, full)  # a graph is of one load()'s tensors
        trackers = [train_tracker(state, epoch, progress) for state, progress in zip(states, on_progress)]
        metrics = run_pack_epoch(pack, epoch, trackers, step, should_stop)
        pack.store()
        seconds = (time.perf_counter() - start) / K  # each job's share of the pass
        for state, row, callback in zip(states, metrics, on_epoch, strict=True):
            end_epoch(state, row, seconds, should_stop, callback, pack_size=K, captured=ran_captured(step))
    return [finish_job(state) for state in states]

