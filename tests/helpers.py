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
    defaults = config_defaults()
    settings = {**defaults["training"][task], "device": "cpu", "threads": 1, "cuda_graphs": defaults["training"]["cuda_graphs"],
                "progress_seconds": defaults["training"]["progress_seconds"], **(training or {})}
    return {"training": settings, "model": {**defaults["model"], **(model or {})},
            "units": {**defaults["units"], **(units or {})}}  # fmt: skip
