"""Configuration helpers shared by the workflow and the tests (no Snakemake import here)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any


# the training keys shared by every task that each job's settings carry beside its task's section
JOB_TRAINING_KEYS = ("device", "threads", "cuda_graphs", "capture_validation", "compile_units", "channels_last",
                     "progress_seconds")  # fmt: skip


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


def for_task(section: Mapping[str, Any], task: str) -> dict[str, Any]:
    """A ``units`` or ``model`` section as the jobs of ``task`` see it: the section's own keys with
    the task's overrides (``section[task]``, as written) on top; no task's overrides left in it.

    ``for_task({"dt_tau_v": 0.2, "slope": 5, "sot": {"dt_tau_v": 0.5}}, "sot")``
    gives ``{"dt_tau_v": 0.5, "slope": 5}``; for ``"fsdd"``, ``{"dt_tau_v": 0.2, "slope": 5}``.
    """
    from glifbench.names import TASKS

    own = {key: value for key, value in section.items() if key not in TASKS}
    return deep_merge(own, section.get(task, {}))


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
    """``schema`` with its local ``$ref`` (and the target's own, recursively) merged in: the node's
    keys win, and ``properties`` are the union (the target's first)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        target = _resolve(target, root)
        local = {k: v for k, v in schema.items() if k != "$ref"}
        merged = {**target, **local}
        if "properties" in target and "properties" in local:  # e.g. units' constants plus its tasks
            merged["properties"] = {**target["properties"], **local["properties"]}
        return merged
    return schema


def schema_defaults(schema: Mapping[str, Any], node: Mapping[str, Any] | None = None) -> Any:
    """The value the schema's defaults give a (sub-)schema ``node`` (the whole config by default):
    as ``snakemake.utils.validate(set_default=True)`` fills a config, a property is filled only where
    its own schema names a default (an object's then property by property); one without (a task's
    ``units``/``model`` overrides, a study's) stays absent."""
    node = _resolve(schema if node is None else node, schema)
    if node.get("type") == "object" and "properties" in node:
        base = dict(node.get("default", {}))
        for key, sub in node["properties"].items():
            if "default" in sub:
                base.setdefault(key, schema_defaults(schema, sub))
        return base
    return copy.deepcopy(node["default"]) if "default" in node else _NONE


_NONE = object()  # "no default" (None is a legitimate default)


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
    if isinstance(value, str) and value not in schema.get("enum", [value]):  # e.g. [auto, true, false]
        return _coerce_scalar(value, [t for t in types if t != "string"])
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


def schema_markdown(schema: Mapping[str, Any]) -> str:
    """``docs/config.md``: every key of the config with its type, default and description."""
    lines = ["# Configuration reference", "",
             "Generated from `workflow/schemas/config.schema.yaml` by `python -m glifbench config-docs` "
             "(a test keeps it in step). Presets (`scale`) in `workflow/presets/` override some defaults; "
             "`config.yaml` and `--config` override both.", "",
             "| key | type | default | description |", "|---|---|---|---|"]  # fmt: skip

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        node = _resolve(node, schema)
        for key, raw in node.get("properties", {}).items():
            sub = _resolve(raw, schema)
            path = f"{prefix}.{key}" if prefix else key
            kind = sub.get("type", "")
            kind = " or ".join(kind) if isinstance(kind, list) else kind
            if "enum" in sub:
                kind += ": " + ", ".join(map(str, sub["enum"]))
            default = json.dumps(sub["default"]) if "default" in sub and sub.get("properties") is None else ""
            text = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
            lines.append(f"| `{path}` | {kind} | {f'`{default}`' if default else ''} | {text} |")
            if sub.get("properties") and "default" in raw and path not in ("study.common",):
                walk(sub, path)  # a node without a default (a task's overrides) keeps to its one row

    walk(schema, "")
    return "\n".join(lines) + "\n"
