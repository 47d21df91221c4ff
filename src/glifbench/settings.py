"""Configuration helpers shared by the workflow and the tests (no Snakemake import here)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated recursively by ``override`` (mappings merge, everything else replaces)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def config_hash(config: Mapping[str, Any]) -> str:
    """Short, order-independent hash of a (JSON-serialisable) configuration."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class ConfigError(ValueError):
    """The configuration breaks the schema; the message names the key and says why, in one line."""


def check_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Validate ``config`` against the JSON ``schema``; raise :class:`ConfigError` for the most
    relevant error, naming its key (``sot.n_trian``) instead of dumping the schema."""
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "the top level"
        raise ConfigError(f"invalid config at {where}: {error.message}")


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        local = {k: v for k, v in schema.items() if k != "$ref"}
        merged = {**target, **local}
        if "properties" in target and "properties" in local:  # e.g. overrides plus a variant's seeds
            merged["properties"] = {**target["properties"], **local["properties"]}
        return merged
    return schema


def _coerce_scalar(value: str, types: list[str]) -> Any:
    text = value.strip()
    if "null" in types and text.lower() in ("null", "none", "~"):
        return None
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    return value


def coerce_to_schema(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """Convert strings to the numbers, booleans or nulls the JSON schema asks for.

    Snakemake parses nested ``--config`` values with YAML's BaseLoader, which makes every scalar a
    string (``--config 'seeds=[0, 1]'`` gives ``['0', '1']``); this restores the intended types
    before validation. Strings the schema does not type otherwise are left alone.
    """
    root = schema if root is None else root
    schema = _resolve(schema, root)
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if isinstance(value, str) and "string" not in types:
        return _coerce_scalar(value, types)
    if isinstance(value, Mapping):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        return {
            k: coerce_to_schema(v, props[k], root) if k in props
            else coerce_to_schema(v, extra, root) if isinstance(extra, Mapping) else v
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [coerce_to_schema(v, schema["items"], root) for v in value]
    return value
