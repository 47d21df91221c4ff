"""The first epoch of a SOT job, step by step: when and how fast do its binary layers fall silent?

    python docs/study/sot_first_epoch.py --run docs/study/sot_ladder/<spec>/runs/sot/CRNN/LIF/seed0 \
        --data '{"train": "<rung>/results/data/sot/train.json", "val": "<rung>/results/data/sot/val.json"}' \
        [--set training.lr=3e-4 ...] [--steps 250] [--every 10] [--probe-batches 2] [--full-val] [--out DIR]

The job of ``--run`` (its ``config.json``: task, unit, seed and settings; ``--set`` overrides a
setting) is started exactly as ``glifbench.training.trainer.start_job`` starts it (seed, init_gain,
activity calibration) and trained on its first epoch's batches in the job's own seeded order
(``train_one_epoch``: ``torch.manual_seed(epoch seed)``, ``default_rng([seed, 0])``), with the job's
own step (Adam, clipping). Before the first step and every ``--every`` steps it looks at a fixed set
of ``--probe-batches`` validation batches without updating anything (the torch RNG is saved and
restored around the look, so the trajectory is the job's):

* ``loss``: the validation MSE on those batches (chance on SOT is ~0.083);
* ``activity <layer>``: the fraction of the layer's units active per step, as the job's
  ``metrics.csv`` reports it after each epoch;
* ``silent <layer>``: the fraction of the layer's units (channel x position) that are active on
  no step of any probe trial;
* ``trial p10 / median / p90 <layer>``: percentiles over the probe trials of each trial's own
  activity (how evenly the trials, bright and dark backgrounds, drive the layer);
* ``grad <layer>``: the norm of the last training step's gradient of the weights feeding the
  layer, before clipping (how much the training loss still reaches the layer);
* ``train_loss``: the mean training loss over the steps since the last look.

With ``--full-val`` it also evaluates the whole validation set after the last step; after the full
first epoch (``--steps`` = the epoch's batches) that MSE equals the job's epoch-1 ``val_loss``,
the check that this probe follows the job. Writes ``first_epoch.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sot_gradients import _set, _with_defaults, per_trial_activity, watching_units  # noqa: E402

from glifbench.models.layers import UnitLayer  # noqa: E402
from glifbench.training.trainer import JobSpec, _epoch_seed, run_epoch, start_job, task_loss  # noqa: E402


def _look(model: torch.nn.Module, batches: list, task) -> dict[str, float]:
    """Loss (every frame, as validation), activity and silent fraction of every unit layer on the
    probe batches (no update)."""
    rng_state = torch.get_rng_state()
    seen: dict[str, torch.Tensor] = {}
    per_trial: dict[str, list[float]] = {}
    losses = []

    def keep(name: str, fired: torch.Tensor) -> None:
        any_step = fired.amax(dim=(0, 1))  # per unit: active at some step of some trial
        seen[name] = any_step if name not in seen else torch.maximum(seen[name], any_step)
        per_trial.setdefault(name, []).extend(per_trial_activity(fired))

    layers = [n for n, m in model.named_modules() if isinstance(m, UnitLayer)]
    was_training = model.training
    model.train(False)
    with torch.no_grad(), watching_units(model, keep):
        for batch in batches:
            out = model(batch.inputs)
            losses.append(float(task_loss(task, out, batch.targets, 0)))
    model.train(was_training)
    torch.set_rng_state(rng_state)
    row = {"loss": float(np.mean(losses))}
    for name in layers:
        if name in seen:
            row[f"activity {name}"] = float(np.mean(per_trial[name]))  # every trial has as many steps x units
            row[f"silent {name}"] = float(1 - seen[name].mean())
            row[f"trial p10 {name}"], row[f"trial median {name}"], row[f"trial p90 {name}"] = (
                float(q) for q in np.percentile(per_trial[name], [10, 50, 90]))
    return row


def _feeding_grads(model: torch.nn.Module) -> dict[str, float]:
    """The norm of the gradient (last backward) of the weights feeding each unit layer."""
    row = {}
    for name, module in model.named_modules():
        if isinstance(module, UnitLayer):
            grads = [p.grad for p in module.parameters() if p.grad is not None and p.dim() > 1]
            if grads:
                row[f"grad {name}"] = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    return row


def first_epoch(run: Path, data: dict[str, str], overrides: list[str], steps: int, every: int,
                probe_batches: int, full_val: bool) -> list[dict]:  # fmt: skip
    meta = json.loads((run / "config.json").read_text())
    if meta["task"] != "sot":
        raise SystemExit(f"{run}: a {meta['task']} run; this probe is for SOT")
    settings = _with_defaults(copy.deepcopy(meta["config"]))
    for assignment in overrides:
        _set(settings, assignment)
    settings["training"].update(device="cpu", compile_units=False, cuda_graphs=False, capture_validation=False)
    seed = meta["seed"]
    with tempfile.TemporaryDirectory() as tmp:
        spec = JobSpec("sot", meta["arch"], meta["unit"], seed, Path(tmp) / "run", Path(tmp) / "ckpt.pt", data,
                       settings, evaluate_test=False)  # fmt: skip
        state = start_job(spec)
        model, task, s = state.model, spec.descriptor, spec.settings
        look_rng = np.random.default_rng([seed, 7])
        probe = [b for _, b in zip(range(probe_batches), state.val_stream.batches(s["batch_size"], look_rng))]
        torch.manual_seed(_epoch_seed(seed, 0))  # the job's first epoch, as train_one_epoch seeds it
        rng = np.random.default_rng([seed, 0])
        model.train(True)
        model.record_activity(False)
        rows = [{"step": 0, **_look(model, probe, task)}]
        losses: list[float] = []
        batches = state.train_stream.batches(s["batch_size"], rng) if steps > 0 else []
        for step, batch in enumerate(batches, start=1):
            _, loss = state.step(batch.inputs, batch.targets)
            losses.append(float(loss.detach()))
            if step % every == 0 or step == steps:
                rows.append({"step": step, "train_loss": float(np.mean(losses)), **_look(model, probe, task),
                             **_feeding_grads(model)})  # fmt: skip
                losses = []
                print(json.dumps(rows[-1]), flush=True)
            if step == steps:
                break
        if full_val:
            metrics = run_epoch(spec, model, state.val_stream, None, state.device, None)
            rows[-1]["full_val_mse"] = metrics["loss"]
    for row in rows:
        row.update(unit=meta["unit"], seed=seed, overrides=" ".join(overrides) or "none")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, type=Path, help="a committed SOT run folder (its config.json)")
    parser.add_argument("--data", required=True, help='JSON: {"train": train.json, "val": val.json}')
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--probe-batches", type=int, default=2)
    parser.add_argument("--full-val", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("sot_first_epoch"))
    args = parser.parse_args(argv)
    rows = first_epoch(args.run, json.loads(args.data), args.set, args.steps, args.every, args.probe_batches,
                       args.full_val)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    pd.DataFrame(rows).to_csv(args.out / "first_epoch.csv", index=False, float_format="%.5g")
    return rows


if __name__ == "__main__":
    main()
