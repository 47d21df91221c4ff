"""Networks from a job's settings, and trained networks back from a run folder.

The training jobs and the analysis both build networks here, so a run's ``config.json`` always
rebuilds the network that wrote its ``model.pt``, and its seed the network its training started from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from glifbench.errors import DataError
from glifbench.models.networks import Network, build_network


def network_from_config(task: str, arch: str, unit: str, config: Mapping[str, Any]) -> Network:
    """The network of one job from its settings (the ``model`` and ``units`` config sections, and
    the task's ``training`` section for its readout's time constant)."""
    model = config["model"]
    return build_network(
        task, arch, unit,
        channels=tuple(model["channels"]), hidden=model["hidden"],
        readout=model["sot_readout"] if task == "sot" else "dense",
        softargmax_gain=model["softargmax_gain"], n_steps=model["mnist_steps"],
        init_gain=model["init_gain"], readout_dt_tau=config["training"]["readout_dt_tau"],
        readout_input=model.get("readout_input", "output"),  # runs written before the key existed read outputs
        hidden_unit=model.get("hidden_unit", "same"),  # likewise: before it, the network's unit
        unit_options=config["units"],
    )  # fmt: skip


def initial_network(task: str, arch: str, unit: str, config: Mapping[str, Any], seed: int) -> Network:
    """The network a job with ``seed`` starts from: torch's global generator seeded with ``seed``,
    then the network built, so that its initial weights are the generator's first draws. Every
    training job starts here (before its activity calibration, if any, rescales the weights); an
    analysis that compares a trained network with its start rebuilds the start here too."""
    torch.manual_seed(seed)
    return network_from_config(task, arch, unit, config)


def _run_meta(run_dir: Path, *names: str) -> dict[str, Any]:
    """The run's ``config.json``, once it and the files ``names`` are there (else a clear error)."""
    for name in ("config.json", *names):
        if not (run_dir / name).is_file():
            raise DataError(f"run file missing: {run_dir / name}")
    return json.loads((run_dir / "config.json").read_text())


def load_initial_model(run_dir: str | Path) -> Network:
    """A run's network as its job started it, before training (and before any calibration),
    from its ``config.json``: settings and seed (eval mode)."""
    meta = _run_meta(Path(run_dir))
    return initial_network(meta["task"], meta["arch"], meta["unit"], meta["config"], meta["seed"]).eval()


def load_model(run_dir: str | Path) -> Network:
    """Rebuild a run's network from its ``config.json`` and load ``model.pt`` (eval mode)."""
    run_dir = Path(run_dir)
    meta = _run_meta(run_dir, "model.pt")
    model = network_from_config(meta["task"], meta["arch"], meta["unit"], meta["config"])
    model.load_state_dict(torch.load(run_dir / "model.pt", map_location="cpu"))
    return model.eval()
