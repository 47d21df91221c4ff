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
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from norse.torch import LIFBoxCell
from norse.torch.functional.lif_box import LIFBoxParameters
from torch import nn

from glifbench.models import build_network
from glifbench.models.layers import RecurrentConv
from glifbench.units import sign_ste

SETUPS = {"fsdd": {"batch": 32, "steps": 64}, "sot": {"batch": 16, "steps": 100}}


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
        return out if self.net.spec["every_step"] else out[-1]


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
        return out if self.net.spec["every_step"] else out[-1]


def _loss(task: str, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(y, target) if task == "sot" else nn.functional.cross_entropy(y, target)


def time_step(model: nn.Module, task: str, batch: int, steps: int, repeats: int) -> float:
    """Median seconds of one forward + backward + Adam step."""
    gen = torch.Generator().manual_seed(0)
    if task == "sot":
        x, target = torch.rand(steps, batch, 30, 30, generator=gen), torch.rand(steps, batch, 2, generator=gen)
    else:
        x, target = torch.randn(steps, batch, 64, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        _loss(task, model(x), target).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--units", nargs="+", default=["Real", "LIF", "BLI", "BA"])
    parser.add_argument("--tasks", nargs="+", default=list(SETUPS))
    args = parser.parse_args(argv)
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for task in args.tasks:
            batch, steps = SETUPS[task]["batch"], SETUPS[task]["steps"]
            for unit in args.units:
                torch.manual_seed(0)
                net = build_network(task, "CRNN", unit, init_gain=1.0 if unit == "Real" else 4.0)
                net.record_activity(False)
                dt_tau_v = net.body[0].unit.params.dt_tau_v
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
