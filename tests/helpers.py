"""Helpers the tests import (``from helpers import ...``): the schema as the one source of defaults."""

from __future__ import annotations

import functools
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@functools.cache
def schema() -> dict:
    import yaml

    return yaml.safe_load(SCHEMA.read_text())


def config_defaults() -> dict:
    """The whole config as the schema's defaults make it (the single source of every default)."""
    from glifbench.settings import schema_defaults

    return schema_defaults(schema())


def job_config(task: str, training: dict | None = None, model: dict | None = None, units: dict | None = None) -> dict:
    """A training job's settings as the workflow passes them: schema defaults, then the changes."""
    from glifbench.settings import JOB_TRAINING_KEYS

    defaults = config_defaults()
    common = {k: defaults["training"][k] for k in JOB_TRAINING_KEYS}
    settings = {**defaults["training"][task], **common, "device": "cpu", "threads": 1, **(training or {})}
    return {"training": settings, "model": {**defaults["model"], **(model or {})},
            "units": {**defaults["units"], **(units or {})}}  # fmt: skip


def write_fsdd_like(path: Path, n_train: int = 48, steps: int = 12, seed: int = 0) -> Path:
    """A small FSDD-like ``.npz`` (train, val and test spectrograms ``[n, steps, 64]``) whose
    labels shift the inputs, so that a few epochs learn something."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("val", 16), ("test", 16)):
        y = rng.integers(0, 10, n)
        arrays[f"x_{split}"] = rng.normal(size=(n, steps, 64)).astype(np.float32) + y[:, None, None] * 0.3
        arrays[f"y_{split}"] = y
    np.savez(path, **arrays)
    return path


def assert_weights_close(a: dict, b: dict, skip: tuple[str, ...] = ()) -> None:
    """Two trainings' final weights that should agree to float rounding: a spike that flips on a
    rounding difference changes a few gradient entries, so nearly all weights agree to 1e-4 and
    none is far off (an error in the computation would move them all)."""
    import torch

    assert a.keys() == b.keys()
    for key in set(a) - set(skip):
        close = torch.isclose(b[key], a[key], atol=1e-4, rtol=1e-3)
        assert close.float().mean() >= 0.999, (key, close.float().mean())
        assert (b[key] - a[key]).abs().max() < 5e-3, key


def needs_cpp_compiler():
    """Skip a test where ``torch.compile`` finds no C++ compiler to build CPU kernels with."""
    import pytest

    from glifbench.training.steps import cpp_compiler_found

    return pytest.mark.skipif(not cpp_compiler_found(), reason="torch.compile on a CPU needs a C++ compiler")
