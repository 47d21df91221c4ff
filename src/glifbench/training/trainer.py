"""One training job: a network of the paper trained with Adam, checkpointed every epoch.

Protocol (paper II-B, IV-A): SOT minimises the MSE of the (x, y) estimate on every frame (from
``loss_from_frame`` on); MNIST and FSDD minimise the cross-entropy of the logits at the last
time step. Validation after every epoch. Gradients are clipped to ``clip_norm``; the wide
readout layer of SOT (14,400 inputs) has its own learning rate ``readout_lr``.

Determinism and resumption: the weights are initialised from ``seed``; epoch ``e`` reseeds torch
with ``(seed, e)`` and draws its batch order from ``numpy.random.default_rng([seed, e])``, and the
checkpoint written after every epoch holds the optimiser state and names the weights file of its
epoch. A job killed at any point and started again continues from its last checkpoint and ends
with the same weights and metrics as an uninterrupted run.

The weights are stored once: each epoch's ``state_dict`` goes to ``<checkpoint>-e<epoch>.weights.pt``
beside the checkpoint, and the run's ``model.pt`` is a hard link to the last of them
(:mod:`glifbench.training.checkpoint`). Snakemake deleting a failed or rerun job's outputs leaves
the checkpoint whole.
"""

from __future__ import annotations

import csv
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from glifbench.errors import Terminated, TrainingError
from glifbench.io import atomic_path, save_json
from glifbench.layout import TEST_FILE
from glifbench.models.networks import Network
from glifbench.models.saved import initial_network
from glifbench.settings import config_hash
from glifbench.tasks import Task, task
from glifbench.data.streams import data_identity, open_stream, open_streams
from glifbench.training.checkpoint import link_weights, load_checkpoint, save_checkpoint
from glifbench.training.progress import Progress
from glifbench.training.steps import (
    CapturedForward,
    CapturedStep,
    EagerForward,
    EagerStep,
    Forward,
    Step,
    ran_captured,
    set_capturable,
    use_captured_validation,
    use_channels_last,
    use_compiled_units,
    use_cuda_graphs,
)
from glifbench.training.totals import PassTotals

log = logging.getLogger("glifbench.train")


# training settings that do not change a job's result (cuda_graphs: the same step, captured;
# compile_units: the same unit step, compiled; channels_last: the same convolutions, another
# memory layout; equal to float rounding): a checkpoint continues across them
NOT_IN_FINGERPRINT = ("epochs", "progress_seconds", "cuda_graphs", "capture_validation", "compile_units",
                      "channels_last")  # fmt: skip


@dataclass
class JobSpec:
    """Everything one training job needs; ``config`` is what the workflow passed."""

    task: str
    arch: str
    unit: str
    seed: int
    out_dir: Path
    checkpoint: Path
    data: dict[str, str]
    config: dict[str, Any] = field(default_factory=dict)
    evaluate_test: bool = True  # False for study jobs: choices never see the test split
    variant: str | None = None  # the study variant a study job belongs to

    @property
    def name(self) -> str:
        job = f"{self.task}-{self.arch}-{self.unit}-s{self.seed}"
        return job if self.variant is None else f"{self.variant}.{job}"

    @property
    def descriptor(self) -> Task:
        """What the task is (loss, metric, output timing): :data:`glifbench.tasks.TASKS`."""
        return task(self.task)

    @property
    def settings(self) -> dict[str, Any]:
        return self.config["training"]

    @cached_property
    def data_identity(self) -> dict[str, str]:
        """sha256 of every data file the job reads (a SOT index lists its shards' digests)."""
        return data_identity(self.data)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what determines the result -- the job, its settings and the content of its
        data -- except paths and the number of epochs: a checkpoint must match it, and a job
        given more epochs continues its checkpoint."""
        training = {k: v for k, v in self.config["training"].items() if k not in NOT_IN_FINGERPRINT}
        config = {**self.config, "training": training}
        return config_hash({"job": [self.task, self.arch, self.unit, self.seed], "config": config,
                            "data": self.data_identity})  # fmt: skip


def pick_device(name: str) -> torch.device:
    """``training.device``; on CUDA, cuBLAS gets the fixed workspace that deterministic
    algorithms need (set before the first CUDA call, unless the environment sets it), and
    float32 stays float32: no TF32 in convolutions (cuDNN's default) or matrix products, whose
    10-bit mantissa would make a GPU run, its captured or packed steps and a CPU run differ by
    more than float32 rounding (a flipped spike then changes the training)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError("device 'cuda' requested but CUDA is not available")
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """The device an epoch ran on, as timing.csv records it: ``cpu`` or ``cuda:<card's name>``."""
    return f"cuda:{torch.cuda.get_device_name(device)}" if device.type == "cuda" else device.type


def build_model(spec: JobSpec) -> Network:
    """The job's network at its start (:func:`glifbench.models.saved.initial_network`: seeded, then built)."""
    return initial_network(spec.task, spec.arch, spec.unit, spec.config, spec.seed)


def build_optimizer(spec: JobSpec, model: Network, capturable: bool = False) -> torch.optim.Optimizer:
    """Adam; the readout's wide hidden layer (if any: 14,400 inputs on SOT, dense or the CNN-RNN's
    GRU) gets ``readout_lr`` if set. ``capturable``: its step counters on the GPU (every job on
    CUDA, so that a captured step computes what the eager one does)."""
    s = spec.settings
    wide = []
    if s["readout_lr"] is not None and model.hidden_readout is not None:
        wide = list(model.hidden_readout.parameters())
    wide_ids = {id(p) for p in wide}
    rest = [p for p in model.parameters() if id(p) not in wide_ids]
    groups = [{"params": rest, "lr": s["lr"]}]
    if wide:
        groups.append({"params": wide, "lr": s["readout_lr"]})
    return torch.optim.Adam(groups, capturable=capturable)


def build_step(spec: JobSpec, model: Network, optimizer: torch.optim.Optimizer, graphs: bool) -> Step:
    """The job's training step: eager, or captured as a CUDA graph (:mod:`glifbench.training.steps`)."""
    s = spec.settings
    loss_fn = partial(task_loss, spec.descriptor, from_frame=s["loss_from_frame"])
    if not graphs:
        return EagerStep(model, optimizer, loss_fn, s["clip_norm"])
    return CapturedStep(model, optimizer, loss_fn, s["clip_norm"], partial(full_batch, spec))


def build_forward(spec: JobSpec, model: Network, captured: bool) -> Forward:
    """The job's evaluation forward pass: eager, or captured as a CUDA graph (``training.capture_validation``)."""
    loss_fn = partial(task_loss, spec.descriptor, from_frame=0)
    if not captured:
        return EagerForward(model, loss_fn)
    return CapturedForward(model, loss_fn, partial(full_batch, spec))


def full_batch(spec: JobSpec, targets: torch.Tensor) -> bool:
    """Whether a batch (its targets) holds the configured batch size: the shape a graph captures."""
    return spec.descriptor.trials_in(targets.shape) == spec.settings["batch_size"]


def task_loss(task: Task, out: torch.Tensor, target: torch.Tensor, from_frame: int) -> torch.Tensor:
    if task.loss == "mse":
        return nn.functional.mse_loss(out[from_frame:], target[from_frame:])
    return nn.functional.cross_entropy(out, target)


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def run_epoch(spec: JobSpec, model: Network, stream, step: Step | None, device, rng,
              progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
              phase: str = "validation", forward: Forward | None = None) -> dict[str, float]:  # fmt: skip
    """One pass over ``stream``: trains with ``step`` if given, else evaluates with ``forward``
    (default: eager; with activity; ``phase``, ``validation`` or ``test``, names the pass in errors).
    ``progress`` (optional) is told of every batch and reports the running means now and then;
    ``should_stop()`` true after a batch raises :class:`~glifbench.errors.Terminated`. The sums
    stay on the device (:class:`~glifbench.training.totals.PassTotals`)."""
    s = spec.settings
    training = step is not None
    model.train(training)
    model.record_activity(not training)
    phase = "training" if training else phase
    totals = PassTotals(spec.descriptor, device, [spec.name], phase)
    if forward is None and not training:
        forward = build_forward(spec, model, captured=False)
    activity: dict[str, torch.Tensor] = {}
    with torch.set_grad_enabled(training):
        for batch in stream.batches(s["batch_size"], rng):
            x, y = batch.inputs.to(device), batch.targets.to(device)
            if training:
                out, loss = step(x, y)
            else:
                out, loss, acts = forward(x, y)
            n = spec.descriptor.trials_in(y.shape)
            if not training:
                for name, act in acts.items():
                    activity[name] = activity.get(name, 0) + act.double() * n
            totals.add(loss, out, y, n)
            if progress is not None:
                progress.update(n, lambda: totals.means()[0])
            if should_stop is not None and should_stop():
                raise Terminated(128 + signal.SIGTERM)
    metrics = totals.result()[0]
    if activity:
        metrics["activity_per_step"] = {k: (v / totals.n).tolist() for k, v in activity.items()}
    return metrics


def calibrate(spec: JobSpec, model: Network, stream, device) -> None:
    """Data-driven initialisation of the spiking layers on one seeded training batch."""
    from glifbench.models.calibration import calibrate_activity

    torch.manual_seed(_epoch_seed(spec.seed, 1_000_000))
    batch = next(iter(stream.batches(8, np.random.default_rng([spec.seed, 1_000_000]))))  # 8 trials suffice
    options = spec.config["model"]
    report = calibrate_activity(model, batch.inputs.to(device), options["calibrate_activity"], options["calibrate_bias"])
    if report:
        log.info("%s: initial activity calibrated: %s", spec.name,
                 {k: (round(v["scale"], 3), round(v["activity"], 3)) for k, v in report.items()})  # fmt: skip


def checkpoint_run_id(spec: JobSpec) -> str | None:
    """The MLflow run id stored in the job's checkpoint, if a matching checkpoint exists."""
    state = load_checkpoint(spec)
    return state.get("run_id") if state else None


@dataclass
class JobState:
    """A job between epochs: its model and optimiser, data streams, history so far, the weights
    file of its last checkpoint (``None``: none yet, or an older checkpoint with inline weights)
    and its MLflow run id. :func:`train` drives one; ``training.pack`` drives several at once."""

    spec: JobSpec
    model: Network
    optimizer: torch.optim.Optimizer
    step: Step
    device: torch.device
    train_stream: Any
    val_stream: Any
    history: list[dict[str, Any]] = field(default_factory=list)
    activity: dict[str, list[float]] = field(default_factory=dict)  # per layer and step, last validation
    weights: Path | None = None
    run_id: str | None = None
    compiled: bool = False  # the units' step compiled (training.compile_units)
    forward: Forward | None = None  # the evaluation passes' forward (None: eager)

    @property
    def epochs_done(self) -> int:
        return len(self.history)


def start_job(spec: JobSpec, run_id: str | None = None) -> JobState:
    """The job's model and optimiser, from its checkpoint if one matches, else freshly
    initialised from ``seed`` (and calibrated when the config asks)."""
    s = spec.settings
    device = pick_device(s["device"])
    torch.set_num_threads(s["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    model = build_model(spec).to(device)
    if use_channels_last(s["channels_last"], device):
        model.to(memory_format=torch.channels_last)  # its 4-D tensors: the 2-D convolutions' weights
    compiled = use_compiled_units(s["compile_units"], device)
    if compiled:
        model.compile_units(True)
        log.info("%s: the units' step compiled by torch.compile (training.compile_units)", spec.name)
    graphs = use_cuda_graphs(s["cuda_graphs"], device)
    # on CUDA Adam is capturable in both modes, so that capturing a step changes no arithmetic
    capturable = device.type == "cuda"
    optimizer = build_optimizer(spec, model, capturable=capturable)
    train_stream, val_stream = open_streams(spec.task, spec.data, s)
    forward = build_forward(spec, model, use_captured_validation(s["capture_validation"], s["cuda_graphs"], graphs))
    state = JobState(spec, model, optimizer, build_step(spec, model, optimizer, graphs), device, train_stream,
                     val_stream, run_id=run_id, compiled=compiled, forward=forward)  # fmt: skip
    saved = load_checkpoint(spec)
    if saved is not None:
        state.weights = spec.checkpoint.parent / saved["weights"] if "weights" in saved else None
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        set_capturable(optimizer, capturable)  # the saved state may come from another device
        state.history, state.activity = saved["history"], saved.get("activity", {})
        state.run_id = run_id or saved.get("run_id")
        log.info("%s: resuming after epoch %d from %s", spec.name, state.epochs_done, spec.checkpoint)
    elif spec.config["model"]["calibrate_activity"] is not None:
        calibrate(spec, model, train_stream, device)
    return state


def train_tracker(state: JobState, epoch: int,
                  on_progress: Callable[[int, dict[str, float]], None] | None) -> Progress:  # fmt: skip
    """The progress reporter of the job's training pass in ``epoch`` (0-based)."""
    s = state.spec.settings
    seen = epoch * state.train_stream.n_trials
    report = None if on_progress is None else (lambda done, running: on_progress(seen + done, running))
    return Progress(state.spec.name, "train", state.train_stream.n_trials, epoch + 1, s["epochs"],
                    s["progress_seconds"], report)  # fmt: skip


def end_epoch(state: JobState, train_metrics: dict[str, float], seconds: float,
              should_stop: Callable[[], bool] | None = None,
              on_epoch: Callable[[list[dict], str | None], None] | None = None,
              pack_size: int = 1, captured: bool | None = None) -> None:  # fmt: skip
    """Validate after a training pass, add the epoch's row (``seconds``: the training pass's
    wall time, the validation's is added; ``pack_size``: how many models trained together in
    the pass, 1 alone; ``captured``: whether a pack's step ran as a CUDA graph, ``None`` alone:
    the job's own step says), write the checkpoint and call ``on_epoch``."""
    spec, s = state.spec, state.spec.settings
    epoch = state.epochs_done
    start = time.perf_counter()
    val_metrics = run_epoch(spec, state.model, state.val_stream, None, state.device, None,
                            Progress(spec.name, "val", state.val_stream.n_trials, epoch + 1, s["epochs"],
                                     s["progress_seconds"]), should_stop, forward=state.forward)  # fmt: skip
    state.activity = val_metrics.pop("activity_per_step", {})
    row: dict[str, Any] = {"epoch": epoch + 1}
    row.update({f"train_{k}": v for k, v in train_metrics.items()})
    row.update({f"val_{k}": v for k, v in val_metrics.items()})
    row.update({f"activity_{k}": float(np.mean(v)) for k, v in state.activity.items()})
    row["seconds"] = seconds + time.perf_counter() - start
    row["pack_size"] = pack_size
    row["compiled_units"] = int(state.compiled and pack_size == 1)  # a pack's pass runs the eager step
    row["captured"] = int(ran_captured(state.step) if captured is None else captured)  # None: alone
    row["captured_validation"] = int(ran_captured(state.forward))
    row["device"] = device_name(state.device)
    state.history.append(row)
    state.weights = save_checkpoint(spec.checkpoint, state.model, {
        "fingerprint": spec.fingerprint, "optimizer": state.optimizer.state_dict(), "history": state.history,
        "run_id": state.run_id, "activity": state.activity,
    })  # fmt: skip
    log.info("%s: epoch %d %s", spec.name, epoch + 1, {k: round(v, 4) for k, v in row.items() if isinstance(v, float)})
    if on_epoch is not None:
        on_epoch(state.history, state.run_id)


def train_one_epoch(state: JobState, should_stop: Callable[[], bool] | None = None,
                    on_epoch: Callable[[list[dict], str | None], None] | None = None,
                    on_progress: Callable[[int, dict[str, float]], None] | None = None) -> None:  # fmt: skip
    """The job's next epoch: a training pass in its own seeded order, then :func:`end_epoch`."""
    spec, epoch = state.spec, state.epochs_done
    start = time.perf_counter()
    torch.manual_seed(_epoch_seed(spec.seed, epoch))
    rng = np.random.default_rng([spec.seed, epoch])
    metrics = run_epoch(spec, state.model, state.train_stream, state.step, state.device, rng,
                        train_tracker(state, epoch, on_progress), should_stop)  # fmt: skip
    end_epoch(state, metrics, time.perf_counter() - start, should_stop, on_epoch)


def finish_job(state: JobState) -> dict[str, Any]:
    """Evaluate on the test split (unless a study job) and write the job's outputs; returns
    ``{"history", "run_id", "test"}``."""
    spec = state.spec
    test = None
    if spec.evaluate_test:
        test = run_epoch(spec, state.model, open_stream(spec.task, spec.data, spec.settings, "test"), None,
                         state.device, None, phase="test", forward=state.forward)  # fmt: skip
        test.pop("activity_per_step", None)
        log.info("%s: test %s", spec.name, {k: round(v, 4) for k, v in test.items()})
    write_outputs(spec, state.model, state.history, state.activity, test, state.weights)
    return {"history": state.history, "run_id": state.run_id, "test": test}


def train(spec: JobSpec, on_epoch: Callable[[list[dict], str | None], None] | None = None,
          run_id: str | None = None, on_progress: Callable[[int, dict[str, float]], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:  # fmt: skip
    """Train (or resume) the job, write its outputs, return ``{"history", "run_id", "test"}``.

    ``on_epoch(history, run_id)`` is called after every checkpoint (MLflow logging);
    ``on_progress(trials_seen, running)`` with the running training means whenever a progress
    line is logged (every ``progress_seconds``; ``trials_seen`` counts from the job's start);
    ``should_stop()`` is asked after every batch (a SIGTERM): true stops with
    :class:`~glifbench.errors.Terminated`, the last checkpoint kept.
    """
    state = start_job(spec, run_id)
    if on_epoch is not None and state.history:
        on_epoch(state.history, state.run_id)
    while state.epochs_done < spec.settings["epochs"]:
        train_one_epoch(state, should_stop, on_epoch, on_progress)
    return finish_job(state)


# how an epoch ran (wall clock; models trained together in one process; the units' step compiled;
# the step captured as a CUDA graph; the validation pass too, at least its full batches, by the
# epoch's end; the device: `cpu` or `cuda:<card>`):
# timing.csv, never metrics.csv
TIMING_COLUMNS = ("seconds", "pack_size", "compiled_units", "captured", "captured_validation", "device")


def _write_csv(dest: Path, rows: list[dict], columns: list[str]) -> None:
    with atomic_path(dest) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_outputs(spec: JobSpec, model: nn.Module, history: list[dict], activity: dict, test: dict | None,
                  weights: Path | None = None) -> None:  # fmt: skip
    """metrics.csv (results only: identical jobs write identical bytes), timing.csv, model.pt
    (state_dict; a hard link to ``weights``, the last checkpoint's file, when given),
    activity.json, config.json and, if evaluated, test.json; each atomically."""
    out = spec.out_dir
    columns = sorted({k for row in history for k in row} - set(TIMING_COLUMNS), key=lambda k: (k != "epoch", k))
    _write_csv(out / "metrics.csv", history, columns)
    _write_csv(out / "timing.csv", history, ["epoch", *TIMING_COLUMNS])
    link_weights(weights, model, out / "model.pt")
    if test is not None:
        save_json(out / TEST_FILE, {"split": spec.descriptor.test_split, "epoch": len(history), **test})
    per_layer = {k: float(np.mean(v)) for k, v in activity.items()}
    save_json(out / "activity.json", {"mean_active_fraction": per_layer, "per_step": activity,
                                      "network_mean": float(np.mean(list(per_layer.values()))) if per_layer else None})  # fmt: skip
    save_json(out / "config.json", {"job": spec.name, "task": spec.task, "arch": spec.arch, "unit": spec.unit,
                                    "seed": spec.seed, "data": spec.data, "data_sha256": spec.data_identity,
                                    "config": spec.config, "fingerprint": spec.fingerprint})  # fmt: skip
