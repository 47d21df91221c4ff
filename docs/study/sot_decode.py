"""Is the object in the spikes? A small trained read-out of every layer of SOT CRNNs.

    python docs/study/sot_decode.py --runs results/runs/sot/CRNN/LIF/seed0 [...] [--init] \
        [--fit-trials 192] [--eval-trials 96] [--steps 600] [--out DIR]

A SOT network at chance can fail in two places: its layers do not carry where the object is,
or they do and training does not find the read-out of it. This probe asks the first question of
each layer of a trained run (``model.pt``; with ``--init`` also of the same network at its
starting point, built as its training job built it before the first step: seed, init_gain and
activity calibration), and of the network's input as a reference. Per layer, with the network
frozen:

* features per pixel and frame: the layer's outputs ``s_c(t)`` (spikes, or the real units'
  values) of every channel through causal exponential traces
  ``e_tau(t) = (1 - 1/tau) e_tau(t-1) + s(t) / tau`` with ``tau`` = 1, 4 and 16 frames (now,
  recent, slow: the read-out can take their differences, a temporal high-pass);
* a read-out of its own, the network's SOT read-out with one hidden layer added:
  ``3x3 conv (3C -> 16) -> ReLU -> 1x1 conv (16 -> 1) -> soft-argmax (gain 10)``, trained with
  Adam on the position MSE of the frames from 10 on (every 3rd) of ``--fit-trials`` trials of
  the *training* split, the traces fixed;
* its position MSE on ``--eval-trials`` *validation* trials (same frames); chance (the mean
  position) is ~0.083.

So ``decode_mse`` is what a small local read of that layer can get, ``network_mse`` the run's own
output on the same frames. A layer decoded no better than the input adds nothing such a read can
use; one decoded far better than the network's own output carries the object, and training has
not learnt to read it. Writes ``sot_decode.csv`` and ``.md`` to ``--out``. Nothing here trains the
network or touches any split but training and validation (SOT has no other).
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from glifbench.data.streams import open_stream
from glifbench.models.layers import SoftArgmax, UnitLayer
from glifbench.models.saved import load_model
from glifbench.training.trainer import JobSpec, start_job

TAUS = (1.0, 4.0, 16.0)
FIRST_FRAME, EVERY = 10, 3
HIDDEN, GAIN = 16, 10.0
BATCH = 8  # trials per forward pass of the network


def layer_outputs(model: nn.Module, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``({"input": x, layer: its outputs [T, B, C, H, W]}, the network's output [T, B, 2])``."""
    sent: dict[str, torch.Tensor] = {"input": x.unsqueeze(2) if x.dim() == 4 else x}

    def keep(name: str):
        def hook(layer, args, out):
            sent[name] = (layer.outputs_behind if layer.emit_potential else out).detach()

        return hook

    hooks = [m.register_forward_hook(keep(n)) for n, m in model.named_modules() if isinstance(m, UnitLayer)]
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return {name: s for name, s in sent.items() if s.dim() == 5}, out


def traces(s: torch.Tensor) -> torch.Tensor:
    """``[frames kept, B, 3C, H, W]``: every channel's exponential traces at ``TAUS``, causal
    (frame t sees frames <= t only), at the frames decoded (from ``FIRST_FRAME``, every ``EVERY``)."""
    out = []
    for tau in TAUS:
        e, kept = torch.zeros_like(s[0]), []
        for t in range(s.shape[0]):
            e = (1 - 1 / tau) * e + s[t] / tau
            if t >= FIRST_FRAME and (t - FIRST_FRAME) % EVERY == 0:
                kept.append(e)
        out.append(torch.stack(kept))
    return torch.cat(out, dim=2)


class ReadOut(nn.Module):
    """``3x3 conv -> ReLU -> 1x1 conv -> soft-argmax``: positions ``[N, 2]`` from traces ``[N, F, H, W]``."""

    def __init__(self, features: int):
        super().__init__()
        self.hidden = nn.Conv2d(features, HIDDEN, 3, padding=1)
        self.position = SoftArgmax(HIDDEN, GAIN)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # one frame per row: SoftArgmax takes [T, B, ...]
        return self.position(F.relu(self.hidden(z)).unsqueeze(0))[0]


def fit_readout(z: torch.Tensor, y: torch.Tensor, steps: int, seed: int) -> ReadOut:
    """A ``ReadOut`` trained by Adam (lr 3e-3, batches of 64 frames) on traces ``z [N, F, H, W]``
    (standardised by the caller: ``standardiser``) and positions ``y [N, 2]``."""
    torch.manual_seed(seed)
    readout = ReadOut(z.shape[1])
    opt = torch.optim.Adam(readout.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        pick = torch.randint(0, len(z), (64,), generator=gen)
        opt.zero_grad(set_to_none=True)
        F.mse_loss(readout(z[pick]), y[pick]).backward()
        opt.step()
    return readout.eval()


def standardiser(z: torch.Tensor):
    """``z -> (z - mean) / sd`` per feature, with the statistics of ``z`` (constant features: sd 1)."""
    mean = z.mean(dim=(0, 2, 3), keepdim=True)
    sd = z.std(dim=(0, 2, 3), keepdim=True)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    return lambda x: (x - mean) / sd


def drive(model: nn.Module, stream, n_trials: int, seed: int):
    """``(traces per layer [N, 3C, H, W], the network's positions [N, 2], targets [N, 2])`` of
    ``n_trials`` trials, N = frames kept x trials (all layers at once: ~4 GB at the defaults)."""
    rng, seen, per_layer, own, kept = np.random.default_rng([seed, 11]), 0, {}, [], []
    for b in stream.batches(BATCH, rng):
        if seen + b.targets.shape[1] > n_trials:  # the last batch: only the trials asked for
            b = type(b)(b.inputs[:, : n_trials - seen], b.targets[:, : n_trials - seen])
        sent, out = layer_outputs(model, b.inputs)
        seen += b.targets.shape[1]
        for name, s in sent.items():
            per_layer.setdefault(name, []).append(traces(s.float()).flatten(0, 1))
        own.append(out[FIRST_FRAME::EVERY].flatten(0, 1))
        kept.append(b.targets[FIRST_FRAME::EVERY].flatten(0, 1))
        if seen >= n_trials:
            break
    return {name: torch.cat(z) for name, z in per_layer.items()}, torch.cat(own), torch.cat(kept)


def probe(model: nn.Module, settings: dict, data: dict, fit_trials: int, eval_trials: int, steps: int,
          seed: int) -> list[dict]:  # fmt: skip
    """One row per layer: a read-out trained on training trials, judged on validation trials."""
    fit, _, y_fit = drive(model, open_stream("sot", data, settings, "train"), fit_trials, seed)
    val, own, y_val = drive(model, open_stream("sot", data, settings, "val"), eval_trials, seed + 1)
    rows = []
    for name, z in fit.items():
        scale = standardiser(z)
        readout = fit_readout(scale(z), y_fit, steps, seed)
        rows.append({"layer": name, "decode_mse": mse(readout, scale, val[name], y_val),
                     "fit_mse": mse(readout, scale, z, y_fit), "network_mse": float(F.mse_loss(own, y_val))})  # fmt: skip
    return rows


def mse(readout: ReadOut, scale, z: torch.Tensor, y: torch.Tensor, chunk: int = 256) -> float:
    """The read-out's position MSE on traces ``z`` (standardised by ``scale``), ``chunk`` frames at a time."""
    with torch.no_grad():
        errors = [F.mse_loss(readout(scale(z[i : i + chunk])), y[i : i + chunk], reduction="sum") for i in range(0, len(z), chunk)]
    return float(sum(errors) / y.numel())


def at_start(meta: dict) -> nn.Module:
    """The run's network as its training job built it before the first step (no update)."""
    settings = copy.deepcopy(meta["config"])
    settings["training"].update(device="cpu", compile_units=False, cuda_graphs=False)
    with tempfile.TemporaryDirectory() as tmp:
        spec = JobSpec("sot", meta["arch"], meta["unit"], meta["seed"], Path(tmp) / "run", Path(tmp) / "ckpt.pt",
                       meta["data"], settings, evaluate_test=False)  # fmt: skip
        state = start_job(spec)
    return state.model.cpu().eval()


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, type=Path, help="SOT run folders (config.json, model.pt)")
    parser.add_argument("--init", action="store_true", help="also each network at its starting point")
    parser.add_argument("--fit-trials", type=int, default=192)
    parser.add_argument("--eval-trials", type=int, default=96)
    parser.add_argument("--steps", type=int, default=600, help="Adam steps of each read-out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("sot_decode"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for run in args.runs:
        meta = json.loads((run / "config.json").read_text())
        if meta["task"] != "sot":
            raise SystemExit(f"{run}: a {meta['task']} run; this probe is for SOT")
        settings = {**meta["config"]["training"], "max_train_trials": None, "max_val_trials": None}
        models = [("trained", load_model(run).record_activity(False))]
        if args.init:
            models.insert(0, ("start", at_start(meta).record_activity(False)))
            torch.set_num_threads(args.threads)  # start_job set the job's own
        for state, model in models:
            for row in probe(model, settings, meta["data"], args.fit_trials, args.eval_trials, args.steps, args.seed):
                rows.append({"unit": meta["unit"], "arch": meta["arch"], "seed": meta["seed"], "state": state, **row})
                print(json.dumps(rows[-1]), flush=True)
    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "sot_decode.csv", index=False, float_format="%.4g")
    header = (f"# SOT: the object's position read from each layer by a small trained read-out\n\n"
              f"{args.fit_trials} training trials to fit ({args.steps} Adam steps), {args.eval_trials} validation "
              f"trials to judge, frames from {FIRST_FRAME} every {EVERY}; traces tau {TAUS} frames; read-out 3x3 conv "
              f"-> {HIDDEN} ReLU -> 1x1 -> soft-argmax (gain {GAIN}); chance ~0.083\n\n")  # fmt: skip
    (args.out / "sot_decode.md").write_text(header + table.to_markdown(index=False, floatfmt=".4f") + "\n")
    return rows


if __name__ == "__main__":
    main()
