"""A job's checkpoint on disk: the optimiser state and history after every epoch, naming the
epoch's weights file beside it (stored once; ``model.pt`` links to the last one).

Order of writing: the epoch's weights file, then the checkpoint naming it (with its sha256), then
the older weights files go -- a crash at any point leaves a checkpoint whose weights file exists.
A checkpoint continues a job only when its fingerprint (settings and data) matches and it has no
more epochs than asked; a damaged or missing weights file is never trusted.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from glifbench.data.fetch import file_digest
from glifbench.io import atomic_path

if TYPE_CHECKING:
    from glifbench.training.trainer import JobSpec

log = logging.getLogger("glifbench.train")


def save_weights(dest: Path, model: nn.Module) -> None:
    with atomic_path(dest, suffix=".pt") as tmp, open(tmp, "wb") as handle:
        # a file object, not a path: torch names the archive's root after a path's file name,
        # which would put the temporary name into the bytes
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, handle)


def save_checkpoint(path: Path, model: nn.Module, state: dict[str, Any]) -> Path:
    """The epoch's weights file, then the checkpoint naming it (with its sha256), then the older
    weights files go: a crash at any point leaves a checkpoint whose weights file exists.
    Returns the weights file."""
    weights = path.parent / f"{path.stem}-e{len(state['history']):04d}.weights.pt"
    save_weights(weights, model)
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save({**state, "weights": weights.name, "weights_sha256": file_digest(weights, "sha256")}, tmp)
    for old in path.parent.glob(f"{path.stem}-e*.weights.pt"):
        if old != weights:
            old.unlink(missing_ok=True)
    return weights


def _checkpoint_weights(spec: JobSpec, state: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    """The weights a checkpoint names, if that file is there and unchanged."""
    path = spec.checkpoint.parent / state["weights"]
    if not path.is_file() or file_digest(path, "sha256") != state["weights_sha256"]:
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(spec: JobSpec) -> dict[str, Any] | None:
    """The job's checkpoint if it can continue to ``epochs``: same fingerprint (settings and
    data) and no more epochs than asked; anything else starts afresh (a longer run is never
    reported as a shorter one)."""
    if not spec.checkpoint.is_file():
        return None
    try:
        state = torch.load(spec.checkpoint, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a damaged file
        log.warning("%s: checkpoint %s is unreadable (%s); starting afresh", spec.name, spec.checkpoint, err)
        return None
    if state.get("fingerprint") != spec.fingerprint:
        log.warning("%s: checkpoint %s is from other settings or data; starting afresh", spec.name, spec.checkpoint)
        return None
    if len(state["history"]) > spec.settings["epochs"]:
        log.warning("%s: checkpoint %s has %d epochs, %d asked; starting afresh", spec.name, spec.checkpoint,
                    len(state["history"]), spec.settings["epochs"])  # fmt: skip
        return None
    if "model" not in state:  # weights in a file of their own (older checkpoints hold them inline)
        weights = _checkpoint_weights(spec, state)
        if weights is None:
            log.warning("%s: checkpoint %s: its weights file %s is missing or changed; starting afresh",
                        spec.name, spec.checkpoint, state.get("weights"))  # fmt: skip
            return None
        state["model"] = weights
    return state


def link_weights(weights: Path | None, model: nn.Module, dest: Path) -> None:
    """``model.pt``: a hard link to the last checkpoint's weights file, which holds exactly the
    final weights (one stored copy; a copy of the file where there are no hard links), or the
    weights written anew after an older checkpoint that held them inline."""
    if weights is None:
        save_weights(dest, model)
        return
    with atomic_path(dest, suffix=".pt") as tmp:
        tmp.unlink()
        try:
            os.link(weights, tmp)
        except OSError:
            shutil.copyfile(weights, tmp)
