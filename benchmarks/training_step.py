"""Benchmark one training step (forward + backward + Adam) of the Table III networks.

    python benchmarks/training_step.py [--repeats 3] [--threads 1 2] [--units Real LIF BLI BA]

For FSDD (batch 32, 64 steps) and SOT (batch 16, 100 frames) it times glifbench's network against
two references built in the same process from the same layers and weights, written as plain
per-step loops over Norse's ``LIFBoxCell`` (LIF; BLI as a ``LIFBoxCell`` with a no-op reset),
``tanh`` (Real) or the sign/STE (BA):

* ``norse_loop``: layer by layer, ``for ts in range(T): cell(x[ts], state)`` then ``stack``, the
  pattern of Norse's own sequence modules;
* ``step_major``: one loop over time that drives every layer per step.

Reports trials/s and the ratios, plus the cost of T=200 relative to T=100 for SOT (linear: 2).

    python benchmarks/training_step.py --pack 4 [--device cuda] [--tasks fsdd sot mnist] [--units LIF]

times instead K = 4 models of one network trained one after the other (``separate``: K eager
steps, each model with its own batch) against the same K models as one pack
(``glifbench.training.pack.ModelPack``: one vmapped step with per-model clipping), and reports
trials/s per model and in aggregate, and the pack's ratio against separate steps in the same run;
on CUDA also one model's step captured as a CUDA graph (``glifbench.training.steps.CapturedStep``)
and the pack's whole step captured as one (``glifbench.training.pack.build_pack_step``).

    python benchmarks/training_step.py --compile [--device cuda] [--tasks fsdd sot mnist]

times one model's step eager against the same model with its units' step compiled
(``training.compile_units``), alternating in the same process, and the first (compiling) step.

    python benchmarks/training_step.py --layout [--compile] [--sot-readout softargmax] [--tasks sot mnist]

times one model's step with its 2-D convolutions' weights in PyTorch's default (NCHW) layout
against the same model with them channels-last (``training.channels_last``), alternating in
the same process.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial

import torch
from norse.torch import LIFBoxCell
from norse.torch.functional.lif_box import LIFBoxParameters
from torch import nn
from torch.func import vmap

from glifbench.models import build_network
from glifbench.models.layers import RecurrentConv
from glifbench.units import sign_ste

SETUPS = {"fsdd": {"batch": 32, "steps": 64}, "sot": {"batch": 16, "steps": 100}, "mnist": {"batch": 64, "steps": 20}}


class _NorseUnits(nn.Module):
    """One step of the reference's unit: Norse's LIFBoxCell (LIF, BLI), tanh (Real) or sign/STE (BA)."""

    def __init__(self, unit: str, dt_tau_v: float):
        super().__init__()
        self.unit = unit
        kwargs = {"reset_method": lambda z, v, r, th: v} if unit == "BLI" else {}
        p = LIFBoxParameters(tau_mem_inv=torch.as_tensor(dt_tau_v / 0.001), method="super", **kwargs)
        self.cell = LIFBoxCell(p, dt=0.001)

    def forward(self, current, state):
        if self.unit in ("LIF", "BLI"):
            return self.cell(current, state)
        return (torch.tanh(current) if self.unit == "Real" else sign_ste(current)), None


class NorseLoopReference(nn.Module):
    """Layer by layer, each a loop ``for ts in range(T): cell(x[ts], state)`` then ``stack``:
    the pattern of Norse's own sequence modules (``norse.torch.module.snn.SNN.forward``)."""

    def __init__(self, net: nn.Module, unit: str, dt_tau_v: float):
        super().__init__()
        self.net, self.units = net, _NorseUnits(unit, dt_tau_v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net.prepare(x)
        for layer in [m for m in self.net.body if isinstance(m, RecurrentConv)]:
            outputs, state, prev = [], None, None
            for ts in range(h.shape[0]):
                current = layer.ff(h[ts])
                if prev is not None:
                    current = current + layer.rec(prev)
                prev, state = self.units(current, state)
                outputs.append(prev)
            h = torch.stack(outputs)
        dense, linear = self.net.readout.hidden, self.net.readout.out
        outputs, state = [], None
        for ts in range(h.shape[0]):
            out, state = self.units(dense.linear(h[ts].flatten(1)), state)
            outputs.append(linear.linear(out))
        out = torch.stack(outputs)
        return out if self.net.spec.every_step else out[-1]


class StepMajorReference(NorseLoopReference):
    """A stronger baseline: one loop over time driving every layer per step (no x[ts] of
    intermediate results), as one would write a cell-based RNN by hand."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = [m for m in self.net.body if isinstance(m, RecurrentConv)]
        dense, linear = self.net.readout.hidden, self.net.readout.out
        states = [None] * (len(layers) + 1)
        prev = [None] * len(layers)
        outs = []
        for h in self.net.prepare(x).unbind(0):
            for i, layer in enumerate(layers):
                current = layer.ff(h)
                if prev[i] is not None:
                    current = current + layer.rec(prev[i])
                h, states[i] = self.units(current, states[i])
                prev[i] = h
            h, states[-1] = self.units(dense.linear(h.flatten(1)), states[-1])
            outs.append(linear.linear(h))
        out = torch.stack(outs)
        return out if self.net.spec.every_step else out[-1]


def _loss(task: str, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(y, target) if task == "sot" else nn.functional.cross_entropy(y, target)


def _batch(task: str, batch: int, steps: int, seed: int = 0, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    if task == "sot":
        x, target = torch.rand(steps, batch, 30, 30, generator=gen), torch.rand(steps, batch, 2, generator=gen)
    elif task == "mnist":  # one image per trial, shown for `steps` steps by the network
        x, target = torch.rand(batch, 28, 28, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    else:
        x, target = torch.randn(steps, batch, 64, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    return x.to(device), target.to(device)


def _grid(args: argparse.Namespace):
    """``(threads, task, batch, steps, unit)`` for every configuration asked, torch's thread
    count set to ``threads`` before each is yielded."""
    for threads in args.threads:
        torch.set_num_threads(threads)
        for task in args.tasks:
            for unit in args.units:
                yield threads, task, SETUPS[task]["batch"], SETUPS[task]["steps"], unit


def _median_seconds(step, repeats: int, device: str = "cpu") -> float:
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def bench_network(task: str, unit: str, seed: int = 0, device: str = "cpu", **kwargs) -> nn.Module:
    """The task's Table III CRNN with ``unit`` as the benchmarks time it: built after
    ``torch.manual_seed(seed)`` with the presets' initial gain (1 for Real, 4 for the binary units),
    activity recording off, on ``device``; ``kwargs`` go to ``build_network`` (``n_steps``, ``readout``)."""
    torch.manual_seed(seed)
    net = build_network(task, "CRNN", unit, init_gain=1.0 if unit == "Real" else 4.0, **kwargs)
    return net.to(device).record_activity(False)


def job_adam(net: nn.Module, device: str) -> torch.optim.Adam:
    """Adam as a training job builds it: capturable on CUDA (``glifbench.training.trainer.start_job``)."""
    return torch.optim.Adam(net.parameters(), lr=1e-4, capturable=device == "cuda")


def ready_pack(task: str, unit: str, seeds: list[int], device: str):
    """One model per seed (``bench_network``), each with its Adam and its own batch (drawn with
    its seed), and the same models loaded as one ``glifbench.training.pack.ModelPack``: returns
    ``(pack, nets, optimizers, batches)``."""
    from types import SimpleNamespace

    from glifbench.training.pack import ModelPack

    setup = SETUPS[task]
    nets = [bench_network(task, unit, k, device, n_steps=setup["steps"]) for k in seeds]
    opts = [job_adam(net, device) for net in nets]
    batches = [_batch(task, setup["batch"], setup["steps"], seed=k, device=device) for k in seeds]
    pack = ModelPack([SimpleNamespace(model=net, optimizer=opt) for net, opt in zip(nets, opts)])
    pack.load()
    return pack, nets, opts, batches


def ready_pack_step(pack, task: str, batches: list[tuple[torch.Tensor, torch.Tensor]], captured: bool):
    """The pack's training step (one vmapped step, per-model clipping at 1; captured as one CUDA
    graph if ``captured``) on the models' stacked ``batches``, warmed up (and captured), as
    ``ready_step`` readies one model's: a call without arguments."""
    from glifbench.training.pack import build_pack_step
    from glifbench.training.steps import CapturedStep

    xs, targets = torch.stack([x for x, _ in batches]), torch.stack([t for _, t in batches])
    step = build_pack_step(pack, vmap(partial(_loss, task)), 1.0, graphs=captured)
    for _ in range(CapturedStep.WARMUP + 1 if captured else 1):  # warm-up steps (and the capture)
        step(xs, targets)
    return partial(step, xs, targets)


def time_step(model: nn.Module, task: str, batch: int, steps: int, repeats: int) -> float:
    """Median seconds of one forward + backward + Adam step."""
    x, target = _batch(task, batch, steps)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        _loss(task, model(x), target).backward()
        opt.step()

    return _median_seconds(step, repeats)


def ready_step(net: nn.Module, task: str, batch: tuple[torch.Tensor, torch.Tensor], device: str, captured: bool,
               clip_norm: float | None = 1.0):  # fmt: skip
    """``net``'s training step on ``batch`` as a job runs it (Adam, capturable on CUDA; the step
    captured as a CUDA graph if ``captured``), warmed up (and captured): a call without arguments."""
    from glifbench.training.steps import CapturedStep, EagerStep

    adam = job_adam(net, device)
    loss = partial(_loss, task)
    step = CapturedStep(net, adam, loss, clip_norm) if captured else EagerStep(net, adam, loss, clip_norm)
    for _ in range(CapturedStep.WARMUP + 1 if captured else 1):  # warm-up steps (the compile), the capture
        step(*batch)
    return partial(step, *batch)


def _captured_seconds(task: str, unit: str, steps: int, batch: tuple[torch.Tensor, torch.Tensor], repeats: int) -> float:
    """Median seconds of one model's step captured as a CUDA graph (after its warm-up and capture)."""
    step = ready_step(bench_network(task, unit, 0, "cuda", n_steps=steps), task, batch, "cuda", captured=True)
    return _median_seconds(step, repeats, "cuda")


def pack_rows(args: argparse.Namespace) -> list[dict]:
    """K separate eager steps against one packed step of the same K models (see the docstring)."""
    device, K, rows = args.device, args.pack, []
    for threads, task, batch, steps, unit in _grid(args):
        pack, nets, opts, batches = ready_pack(task, unit, list(range(K)), device)

        def separate():
            for net, opt, (x, target) in zip(nets, opts, batches):
                opt.zero_grad(set_to_none=True)
                _loss(task, net(x), target).backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()

        alone = _median_seconds(separate, args.repeats, device)
        together = _median_seconds(ready_pack_step(pack, task, batches, captured=False), args.repeats, device)
        captured = _captured_seconds(task, unit, steps, batches[0], args.repeats) if device == "cuda" else None
        packed_captured = None
        if device == "cuda":  # the same pack's step as one CUDA graph (training.cuda_graphs on a pack)
            packed_captured = _median_seconds(ready_pack_step(pack, task, batches, captured=True), args.repeats, device)
        row = {
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "threads": threads,
            "task": task, "unit": unit, "batch": batch, "steps": steps, "models": K,
            "separate_trials_per_s_per_model": round(batch / alone, 1),
            "packed_trials_per_s_per_model": round(batch / together, 1),
            "packed_trials_per_s_aggregate": round(K * batch / together, 1),
            "packed_over_separate": round(alone / together, 2),
        }  # fmt: skip
        if captured is not None:  # one model, its step captured as a CUDA graph
            row["captured_trials_per_s_per_model"] = round(batch / captured, 1)
            row["captured_over_separate"] = round(alone / K / captured, 2)
        if packed_captured is not None:  # the pack's step captured as one CUDA graph
            row["packed_captured_trials_per_s_aggregate"] = round(K * batch / packed_captured, 1)
            row["packed_captured_over_separate"] = round(alone / packed_captured, 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def compile_rows(args: argparse.Namespace) -> list[dict]:
    """One model's eager step against the same model with its units' step compiled
    (``training.compile_units``), alternating, in the same process; the compile is warm-up."""
    device, rows = args.device, []
    for threads, task, batch, steps, unit in _grid(args):
        net = bench_network(task, unit, 0, device, n_steps=steps)
        x, target = _batch(task, batch, steps, device=device)
        opt = job_adam(net, device)

        def step():
            opt.zero_grad(set_to_none=True)
            _loss(task, net(x), target).backward()
            opt.step()

        net.compile_units(True)
        start = time.perf_counter()
        step()  # compiles forward and backward
        compile_seconds = time.perf_counter() - start
        eager, compiled = [], []
        for _ in range(args.repeats):  # alternating: both see the same machine load
            for enabled, times in ((False, eager), (True, compiled)):
                net.compile_units(enabled)
                times.append(_median_seconds(step, 1, device))
        e, c = sorted(eager)[len(eager) // 2], sorted(compiled)[len(compiled) // 2]
        row = {
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "threads": threads,
            "task": task, "unit": unit, "batch": batch, "steps": steps,
            "eager_trials_per_s": round(batch / e, 1), "compiled_trials_per_s": round(batch / c, 1),
            "compiled_over_eager": round(e / c, 2), "first_step_s": round(compile_seconds, 1),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def layout_rows(args: argparse.Namespace) -> list[dict]:
    """One model's step with its 2-D convolutions' weights in the default layout against the same
    model (same seed) with them channels-last (``training.channels_last``), alternating, in the
    same process; the units' step compiled where ``--compile`` is given; on CUDA each step
    captured as a CUDA graph."""
    device, rows = args.device, []
    for threads, task, batch, steps, unit in _grid(args):
        x, target = _batch(task, batch, steps, device=device)
        runs = {}
        for layout in ("contiguous", "channels_last"):
            net = bench_network(task, unit, 0, device, n_steps=steps,
                                readout=args.sot_readout if task == "sot" else "dense")  # fmt: skip
            net.compile_units(args.compile)
            if layout == "channels_last":
                net.to(memory_format=torch.channels_last)
            # on CUDA captured, as a job's step is there (training.cuda_graphs: auto)
            runs[layout] = (ready_step(net, task, (x, target), device, device == "cuda", clip_norm=None), [])
        for _ in range(args.repeats):  # alternating: both see the same machine load
            for step, times in runs.values():
                times.append(_median_seconds(step, 1, device))
        plain, nhwc = (sorted(t)[len(t) // 2] for _, t in runs.values())
        row = {
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "threads": threads,
            "task": task, "unit": unit, "batch": batch, "steps": steps, "compiled_units": args.compile,
            "sot_readout": args.sot_readout if task == "sot" else None,
            "contiguous_trials_per_s": round(batch / plain, 1), "channels_last_trials_per_s": round(batch / nhwc, 1),
            "channels_last_over_contiguous": round(plain / nhwc, 2),
        }  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--units", nargs="+", default=["Real", "LIF", "BLI", "BA"])
    parser.add_argument("--tasks", nargs="+", default=["fsdd", "sot"], choices=list(SETUPS))
    parser.add_argument("--pack", type=int, default=None, metavar="K", help="time K separate models against one pack of K")
    parser.add_argument("--compile", action="store_true", help="time each model eager against its units compiled "
                        "(with --layout: compile the units' step in both)")  # fmt: skip
    parser.add_argument("--layout", action="store_true", help="time each model's convolution weights in the default "
                        "layout against channels-last (training.channels_last)")  # fmt: skip
    parser.add_argument("--sot-readout", default="dense", choices=["dense", "softargmax"],
                        help="with --layout: SOT's readout (the paper's dense one, or the workstation's soft-argmax)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="for --pack, --compile and --layout")
    args = parser.parse_args(argv)
    if args.device == "cuda":  # the precision training jobs run with (float32, no TF32)
        from glifbench.training.trainer import pick_device

        pick_device("cuda")
    if args.pack is not None:
        return pack_rows(args)
    if args.layout:
        return layout_rows(args)
    if args.compile:
        return compile_rows(args)
    rows = []
    for threads, task, batch, steps, unit in _grid(args):
        net = bench_network(task, unit)
        unit_params = getattr(net.body[0].unit, "params", None)  # GLIF units; BA and Real have none
        dt_tau_v = unit_params.dt_tau_v if unit_params is not None else 0.2
        ours = time_step(net, task, batch, steps, args.repeats)
        norse_loop = time_step(NorseLoopReference(net, unit, dt_tau_v), task, batch, steps, args.repeats)
        step_major = time_step(StepMajorReference(net, unit, dt_tau_v), task, batch, steps, args.repeats)
        row = {
            "threads": threads, "task": task, "unit": unit, "batch": batch, "steps": steps,
            "trials_per_s": round(batch / ours, 1),
            "norse_loop_trials_per_s": round(batch / norse_loop, 1),
            "speedup_vs_norse_loop": round(norse_loop / ours, 2),
            "step_major_trials_per_s": round(batch / step_major, 1),
            "speedup_vs_step_major": round(step_major / ours, 2),
        }  # fmt: skip
        if task == "sot":
            row["cost_T200_over_T100"] = round(time_step(net, task, batch, 2 * steps, args.repeats) / ours, 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
