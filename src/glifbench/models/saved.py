"""Networks from a job's settings, and trained networks back from a run folder.

The training jobs and the analysis both build networks here, so a run's ``config.json`` always
rebuilds the network that wrote its ``model.pt``.
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


def load_model(run_dir: str | Path) -> Network:
    """Rebuild a run's network from its ``config.json`` and load ``model.pt`` (eval mode)."""
    run_dir = Path(run_dir)
    for name in ("config.json", "model.pt"):
        if not (run_dir / name).is_file():
            raise DataError(f"run file missing: {run_dir / name}")
    meta = json.loads((run_dir / "config.json").read_text())
    model = network_from_config(meta["task"], meta["arch"], meta["unit"], meta["config"])
    model.load_state_dict(torch.load(run_dir / "model.pt", map_location="cpu"))
    return model.eval()
