import json
import re
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from glifbench.names import ARCHITECTURES, TASKS, UNITS
from glifbench.settings import ConfigError, check_config, coerce_to_schema, deep_merge
from glifbench.layout import (
    RUN_FILES,
    STUDY_ARCH,
    STUDY_RUNS,
    TEST_FILE,
    job_grid,
    run_dir,
    study_run_dir,
)
from glifbench.data.sot_store import shard_sizes

min_version("9.0")

SCHEMA = "../schemas/config.schema.yaml"
ENV = "../../envs/glifbench.yaml"

# 1. What the user wrote (config.yaml + --config): fail at once on a typo or a wrong type.
#    Nested --config values arrive as strings (YAML BaseLoader): restore the schema's types first.
with open(workflow.source_path(SCHEMA)) as _fh:
    _schema = yaml.safe_load(_fh)
_coerced = coerce_to_schema(dict(config), _schema)
config.clear()
config.update(_coerced)
try:
    check_config(config, _schema)  # one line naming the key, not the whole schema
except ConfigError as err:
    raise WorkflowError(str(err)) from None
# 2. The preset named by `scale` fills what the user did not set; 3. schema defaults the rest.
_scale = config.get("scale", "demo")
with open(workflow.source_path(f"../presets/{_scale}.yaml")) as _fh:
    _resolved = deep_merge(yaml.safe_load(_fh) or {}, config)
#    Study overrides hold only what they change: keep them as written, not filled with defaults.
_overrides = {
    k: json.loads(json.dumps(_resolved.get("study", {}).get(k, {})))
    for k in ("common", "variants")
}
check_config(_resolved, _schema)
validate(_resolved, SCHEMA, set_default=True)  # fills the schema's defaults
_resolved["study"].update(_overrides)
config.clear()
config.update(_resolved)

SPLITS = ["train", "val"]


def as_json(value):
    """A config section as one JSON argument for `python -m glifbench`."""
    return json.dumps(value, sort_keys=True)


def split_shard_sizes(split):
    """Trials in each shard of one SOT split, as sized by config."""
    n = config["sot"]["n_train" if split == "train" else "n_val"]
    return shard_sizes(n, config["sot"]["shard_size"])


def sot_shards(split):
    """The shard files of one SOT split."""
    count = len(split_shard_sizes(split))
    return [f"results/data/sot/{split}/shard{k:05d}.npz" for k in range(count)]


def mnist_files():
    """The IDX files the configured MNIST source needs (none for the builtin stand-in)."""
    source = config["data"]["mnist"]["source"]
    if source == "builtin":
        return []
    names = config["data"]["mnist"]["md5"]
    return [n for n in names if source == "download" or n.startswith("t10k")]


def shard_trials(wildcards):
    return split_shard_sizes(wildcards.split)[int(wildcards.shard)]


# --- training -------------------------------------------------------------------------------

JOBS = job_grid(config["grid"])
MAIN_FILES = [*RUN_FILES, TEST_FILE]
TRAIN_DATA = {
    "sot": {"train": "results/data/sot/train.json", "val": "results/data/sot/val.json"},
    "mnist": {"arrays": "results/data/mnist/mnist.npz"},
    "fsdd": {"arrays": "results/data/fsdd/spectrograms.npz"},
}


def all_runs(files=("metrics.csv",)):
    """Files of every run of the main grid."""
    return [
        f"{run_dir(task, arch, unit, seed)}/{name}"
        for task, arch, unit in JOBS
        for seed in config["seeds"]
        for name in files
    ]


def job_config(wildcards):
    """The settings of one training job: its task's training section, model and units, with
    a study variant's overrides on top (study jobs)."""
    variant = getattr(wildcards, "variant", None)
    sections = {k: config[k] for k in ("training", "model", "units")}
    if variant is not None:
        overrides = deep_merge(STUDY["common"], STUDY["variants"][variant])
        overrides.pop("seeds", None)
        sections = deep_merge(sections, overrides)
    training = sections["training"]
    settings = dict(training[wildcards.task])
    settings.update({k: training[k] for k in ("device", "threads", "progress_seconds")})
    return as_json(
        {"training": settings, "model": sections["model"], "units": sections["units"]}
    )


# --- study ----------------------------------------------------------------------------------
STUDY = config["study"]
VARIANTS = list(STUDY["variants"])


def variant_seeds(variant):
    return STUDY["variants"][variant].get("seeds", STUDY["seeds"])


def study_runs(files, variants=None):
    """Files of every run of the study's variants (all by default)."""
    return [
        f"{study_run_dir(variant, task, unit, seed)}/{name}"
        for variant in (VARIANTS if variants is None else variants)
        for task in STUDY["tasks"]
        for unit in STUDY["units"]
        for seed in variant_seeds(variant)
        for name in files
    ]


# --- analysis -------------------------------------------------------------------------------
GRID = config["grid"]
CRNN_UNITS = [
    (task, unit) for task in GRID["table3_tasks"] for unit in GRID["table3_units"]
]
ANALYSIS_META = as_json(
    {
        "scale": config["scale"],
        "seeds": config["seeds"],
        "epochs": {t: config["training"][t]["epochs"] for t in TASKS},
    }
)


def reported(path, caption, category):
    return report(path, caption=f"../report/{caption}.rst", category=category)


def table_outputs():
    out = []
    if GRID["table1"]:
        out += [
            reported("results/tables/table1.html", "table1", "Tables"),
            reported("results/figures/fig3_learning_curves.png", "fig3", "Figures"),
            reported("results/figures/table1.png", "table1_figure", "Tables"),
            "results/tables/table1.csv",
            "results/tables/table1.md",
        ]
    if GRID["table3_tasks"] and GRID["table3_units"]:
        out += [
            reported("results/tables/table3.html", "table3", "Tables"),
            "results/tables/table3.csv",
            "results/tables/table3.md",
            reported("results/figures/table3.png", "table3_figure", "Tables"),
        ]
    if GRID["fig5"]:
        out.append(
            reported("results/figures/fig5_binary_networks.png", "fig5", "Figures")
        )
    return out


def cost_outputs():
    if not CRNN_UNITS:
        return []
    return [
        reported("results/analysis/cost.html", "cost", "Analysis"),
        "results/analysis/cost.csv",
        "results/analysis/cost.md",
        "results/analysis/cost_runs.csv",
        "results/analysis/cost_runs.md",
        "results/analysis/cost_runs.html",
        reported("results/figures/cost.png", "cost_figure", "Figures"),
    ]


def weight_outputs():
    if not CRNN_UNITS:
        return []
    out = []
    for name in ("recurrent_amplitude", "activity"):
        out += [
            reported(f"results/analysis/{name}.html", name, "Analysis"),
            f"results/analysis/{name}.csv",
            f"results/analysis/{name}.md",
            reported(f"results/figures/{name}.png", f"{name}_figure", "Analysis"),
        ]
    if {"LIF", "BLI"} <= set(GRID["table3_units"]):
        out += [
            reported("results/analysis/autapses.html", "autapses", "Analysis"),
            "results/analysis/autapses.csv",
            "results/analysis/autapses.md",
            reported("results/figures/fig7_kernels.png", "fig7", "Figures"),
            reported("results/figures/autapses.png", "autapses_figure", "Analysis"),
        ]
    return out
