"""Gradient flow at initialisation on SOT: does the loss reach back in time, and do batches agree?

    python docs/study/sot_gradients.py --settings results/settings/<a SOT job's settings>.json \
        --data '{"train": "results/data/sot/train.json", "val": "results/data/sot/val.json"}' \
        [--units Real LIF BLI BI HBA BA] [--batches 4] [--set model.readout_input=output ...] [--out DIR]

Each unit type's SOT CRNN is built exactly as a training job builds it before its first step
(``glifbench.training.trainer.start_job``: the job's seed, init_gain, activity calibration), and
driven by ``--batches`` validation batches of the job's batch size, without any update. For each:

* **lag profile** -- with the loss of the last frame alone, ``L_T = MSE(out_T, y_T)``, the norm of
  ``dL_T / dx_t`` (the gradient reaching the input frame ``t``) relative to the newest frame's,
  at lags ``T - t`` of 0, 1, 2, 5, 10, 20, 50 and 99 frames: how far back-propagation through time
  carries the error (for BPTT the paper credits the integrator with this);
* **layer gradients** of the training loss (MSE over all frames from ``loss_from_frame``): the
  norm per weight tensor, and the mean cosine similarity of the gradients of different batches,
  a signal-to-noise proxy (1: every batch asks for the same change; ~0: the gradient is noise);
* **activity**: the fraction of active units per step of each layer, its 10th and 90th
  percentiles over the trials (how much the starting activity depends on the trial's
  background), and the loss itself.

Writes ``sot_gradients.csv`` (one row per unit type) and ``sot_gradients.md`` to ``--out``.
Nothing here trains; it describes the starting point a training job has.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import tempfile
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path

import numpy as np
import torch

from glifbench.models.layers import UnitLayer
from glifbench.training.trainer import JobSpec, start_job

LAGS = (0, 1, 2, 5, 10, 20, 50, 99)


def _set(config: dict, assignment: str) -> None:
    """``section.key=value`` (value parsed as JSON where it can be) into ``config``."""
    path, _, raw = assignment.partition("=")
    *sections, key = path.split(".")
    node = config
    for name in sections:
        node = node[name]
    if key not in node:
        raise SystemExit(f"--set {assignment}: no key {path!r} in the settings")
    try:
        node[key] = json.loads(raw)
    except json.JSONDecodeError:
        node[key] = raw


def _with_defaults(settings: dict) -> dict:
    """The job's settings with any key it predates filled in from the schema's defaults."""
    import yaml

    from glifbench.settings import schema_defaults

    schema = yaml.safe_load((Path(__file__).resolve().parents[2] / "workflow/schemas/config.schema.yaml").read_text())
    defaults = schema_defaults(schema)
    sections = {"model": defaults["model"], "units": defaults["units"], "training": defaults["training"]["sot"]}
    return {name: {**sections.get(name, {}), **values} for name, values in settings.items()}


def _lag_profile(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """``||dL_T / dx_t||`` for every t, divided by the newest frame's (lag 0)."""
    x = x.clone().requires_grad_(True)
    out = model(x)
    loss = torch.nn.functional.mse_loss(out[-1], y[-1])
    (grad,) = torch.autograd.grad(loss, x)
    norms = grad.flatten(1).norm(dim=1).double().numpy()[::-1]  # index = lag
    return norms / norms[0] if norms[0] > 0 else np.full_like(norms, np.nan)


@contextlib.contextmanager
def watching_units(model: torch.nn.Module, on_fired: Callable[[str, torch.Tensor], None]) -> Iterator[None]:
    """While inside, every forward of a unit layer calls ``on_fired(name, fired)`` with
    ``fired[t, b, ...] = 1`` where the layer's unit is active (its outputs, also where the layer
    passes on potentials; detached, float)."""

    def keep(name: str):
        def hook(layer, args, out):
            sent = (layer.outputs_behind if layer.emit_potential else out).detach()
            on_fired(name, layer.unit.active(sent).float())

        return hook

    hooks = [m.register_forward_hook(keep(n)) for n, m in model.named_modules() if isinstance(m, UnitLayer)]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def per_trial_activity(fired: torch.Tensor) -> list[float]:
    """``[T, B, ...]`` active indicators -> each trial's fraction of active units over its steps."""
    return fired.transpose(0, 1).flatten(1).mean(1).tolist()


def _training_pass(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, start: int):
    """One forward and backward of the training loss: ``(loss, gradients of the weight tensors,
    {layer: fraction of active units per trial})``."""
    active: dict[str, list[float]] = {}
    model.zero_grad(set_to_none=True)
    with watching_units(model, lambda name, fired: active.__setitem__(name, per_trial_activity(fired))):
        out = model(x)
    loss = torch.nn.functional.mse_loss(out[start:], y[start:])
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None and p.dim() > 1}
    return float(loss.detach()), grads, active


def describe(unit: str, settings: dict, data: dict[str, str], n_batches: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec = JobSpec("sot", "CRNN", unit, seed, Path(tmp) / "run", Path(tmp) / "ckpt.pt", data,
                       copy.deepcopy(settings), evaluate_test=False)  # fmt: skip
        state = start_job(spec)
    model = state.model.cpu().train(True)
    rng = np.random.default_rng([seed, 7])
    batches = [b for _, b in zip(range(n_batches), state.val_stream.batches(settings["training"]["batch_size"], rng))]
    lags, grads, losses, activity = [], [], [], {}
    start = settings["training"]["loss_from_frame"]
    for batch in batches:
        lags.append(_lag_profile(model, batch.inputs, batch.targets))
        loss, batch_grads, active = _training_pass(model, batch.inputs, batch.targets, start)
        losses.append(loss)
        grads.append(batch_grads)
        for name, per_trial in active.items():  # [T, B, ...] -> the fraction active per trial
            activity.setdefault(name, []).extend(per_trial)
    profile = np.nanmean(np.stack(lags), axis=0)
    row: dict = {"unit": unit, "loss": float(np.mean(losses))}
    row.update({f"lag{lag}": float(profile[lag]) for lag in LAGS if lag < len(profile)})
    for name in grads[0]:
        norms = [float(g[name].norm()) for g in grads]
        cosines = [float(torch.nn.functional.cosine_similarity(a[name].flatten(), b[name].flatten(), dim=0))
                   for a, b in combinations(grads, 2)]  # fmt: skip
        short = name.replace(".weight", "")
        row[f"grad_norm {short}"] = float(np.mean(norms))
        row[f"batch_cosine {short}"] = float(np.mean(cosines)) if cosines else float("nan")
    for name, per_trial in activity.items():
        row[f"activity {name}"] = float(np.mean(per_trial))
        row[f"activity {name} p10"], row[f"activity {name} p90"] = (float(q) for q in np.percentile(per_trial, [10, 90]))
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True, type=Path, help="a SOT training job's settings JSON")
    parser.add_argument("--data", required=True, help='JSON: {"train": train.json, "val": val.json}')
    parser.add_argument("--units", nargs="+", default=["Real", "LIF", "BLI", "BI", "HBA", "BA"])
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--out", type=Path, default=Path("sot_gradients"))
    args = parser.parse_args(argv)
    settings = _with_defaults(json.loads(args.settings.read_text()))
    for assignment in args.set:
        _set(settings, assignment)
    settings["training"].update(device="cpu", compile_units=False, cuda_graphs=False)
    torch.set_num_threads(settings["training"]["threads"])
    rows = []
    for unit in args.units:
        rows.append(describe(unit, settings, json.loads(args.data), args.batches, args.seed))
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    table = pd.DataFrame(rows)
    table.to_csv(args.out / "sot_gradients.csv", index=False, float_format="%.4g")
    header = (f"# SOT gradients at initialisation\n\nsettings: `{args.settings.name}`, overrides: {args.set or 'none'}, "
              f"{args.batches} validation batches, seed {args.seed}\n\n")  # fmt: skip
    (args.out / "sot_gradients.md").write_text(header + table.to_markdown(index=False, floatfmt=".3g") + "\n")
    return rows


if __name__ == "__main__":
    main()
