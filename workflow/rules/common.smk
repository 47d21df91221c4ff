import hashlib
import json
import re
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from glifbench.names import ARCHITECTURES, TASKS, UNITS
from glifbench.settings import (
    JOB_TRAINING_KEYS,
    ConfigError,
    check_config,
    coerce_to_schema,
    deep_merge,
    for_task,
)
from glifbench.layout import (
    RUN_FILES,
    RUNS,
    STUDY_ARCH,
    STUDY_RUNS,
    TEST_FILE,
    job_grid,
    part_jobs,
    run_dir,
    study_run_dir,
)
from glifbench.data.sot_store import shard_sizes
from glifbench.io import atomic_path
from glifbench.training.packable import pack_problem
from glifbench.study_plan import GRID as GRID_RUNS, cell_run_dir, runs_of, study_repeats

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
#    Study overrides (always, {} where absent) and a task's own units / model keys (where set)
#    hold only what they change: keep them as written, not filled with defaults.
_as_written = {
    (section, key): json.loads(json.dumps(_resolved.get(section, {}).get(key, {})))
    for section, key in [
        ("study", "common"),
        ("study", "variants"),
        *[
            (s, t)
            for s in ("units", "model")
            for t in TASKS
            if t in _resolved.get(s, {})
        ],
    ]
}
check_config(_resolved, _schema)
validate(_resolved, SCHEMA, set_default=True)  # fills the schema's defaults
for (_section, _key), _written in _as_written.items():
    _resolved[_section][_key] = _written
config.clear()
config.update(_resolved)

SPLITS = ["train", "val"]


def as_json(value):
    """A short value (a few keys) as one JSON argument for `python -m glifbench`."""
    return json.dumps(value, sort_keys=True)


# Settings longer than a few keys reach the package as files, not as JSON on the command line
# (printed commands stay readable). A file's name holds the hash of its content, so a job never
# reads settings older than its config, and changed settings are a new input file: Snakemake's
# `input` rerun trigger (on by default) reruns a finished job then. `--rerun-triggers mtime` alone
# does not (a missing input is not a newer one): resume with `--rerun-triggers mtime input`
# (docs/training.md). Rule `settings_file` writes them; SETTINGS maps path -> text.
SETTINGS = {}


def settings_file(kind, value):
    """The path of the settings file holding ``value`` (registered for rule `settings_file`)."""
    text = json.dumps(value, sort_keys=True, indent=1) + "\n"
    path = (
        f"results/settings/{kind}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    )
    SETTINGS[path] = text
    return path


def write_settings(path, text, log):
    """Write one settings file (whole or not at all) and say so in its log."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    Path(log).write_text(f"wrote {path}\n")


def settings_text(wildcards, output):
    try:
        return SETTINGS[output[0]]
    except KeyError:
        raise WorkflowError(
            f"{output[0]}: no settings of this config have this content hash "
            "(settings files are made by the jobs that read them)"
        ) from None


DATA_SETTINGS = {  # the data commands' settings files
    "backgrounds": settings_file("backgrounds", config["data"]),
    "stimulus": settings_file("sot-stimulus", config["sot"]["stimulus"]),
    "spectrogram": settings_file("fsdd-spectrogram", config["fsdd_spectrogram"]),
    "mnist": settings_file("mnist", config["data"]["mnist"]),
}


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
# MLflow on (mlflow.enabled): every training job's input and flag
EXPERIMENT = ["results/mlflow/experiment.json"] if config["mlflow"]["enabled"] else []
TRACKING = " ".join(f"--experiment {path}" for path in EXPERIMENT)
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


def job_settings(task, variant=None):
    """The settings of one training job: its task's training section, model and units (each with
    the task's own keys on top: glifbench.settings.for_task), with a study variant's overrides on
    top of those (study jobs): the study's common keys, then the variant's own."""
    layers = [] if variant is None else [STUDY["common"], STUDY["variants"][variant]]
    training = config["training"]
    model, units = (for_task(config[k], task) for k in ("model", "units"))
    for layer in layers:
        training = deep_merge(training, layer.get("training", {}))
        model = deep_merge(model, for_task(layer.get("model", {}), task))
        units = deep_merge(units, for_task(layer.get("units", {}), task))
    settings = dict(training[task])
    settings.update({k: training[k] for k in JOB_TRAINING_KEYS})
    return {"training": settings, "model": model, "units": units}


TRAIN_SETTINGS = {
    task: settings_file(f"train-{task}", job_settings(task)) for task in TASKS
}


# --- study ----------------------------------------------------------------------------------
STUDY = config["study"]
VARIANTS = list(STUDY["variants"])


STUDY_SETTINGS = {
    (variant, task): settings_file(
        f"study-{variant}-{task}", job_settings(task, variant)
    )
    for variant in VARIANTS
    for task in STUDY["tasks"]
}


def variant_seeds(variant):
    return STUDY["variants"][variant].get("seeds", STUDY["seeds"])


# a variant's job that would train a unit exactly as an earlier variant does (it changes only
# `units` keys the unit does not use), or as the main grid does: run once, read from those runs
STUDY_REPEATS = study_repeats(
    VARIANTS,
    STUDY["tasks"],
    STUDY["units"],
    lambda variant, task: job_settings(task, variant),
    variant_seeds,
    grid_settings=lambda task, unit: (
        job_settings(task) if (task, STUDY_ARCH, unit) in JOBS else None
    ),
    grid_seeds=config["seeds"],
)


# `training.group: seeds`: the seeds of a (task, arch, unit) train as one pack (rules train_pack,
# study_train_pack) where the architecture and surrogate allow it (glifbench.training.packable).
def packable(arch, units, seeds):
    return (
        config["training"]["group"] == "seeds"
        and len(seeds) > 1
        and pack_problem(arch, units) is None
    )


PACK_ARCHS = [  # the units of every task the grid trains allow it (a task's own surrogate)
    a
    for a in ARCHITECTURES
    if all(
        packable(a, job_settings(t)["units"], config["seeds"])
        for t in {task for task, _, _ in JOBS}
    )
]
# a pack stacks its seeds' batches: SOT's (cut within shuffled shards) match only when every
# training shard holds as many trials
PACK_TASKS = [
    t for t in TASKS if t != "sot" or len(set(split_shard_sizes("train"))) == 1
]


def pack_resources(seeds):
    """A pack's resources: each seed's memory, and its time in the worst case (CPU: in turn)."""
    train = config["resources"]["train"]
    return {
        "mem_mb": train["mem_mb"] * len(seeds),
        "runtime": train["runtime"] * len(seeds),
        "gpu": train["gpu"],
    }


PACK_VARIANTS = [  # a variant with seeds of its own (`seeds:`) trains them alone
    v
    for v in VARIANTS
    if variant_seeds(v) == STUDY["seeds"]
    and all(
        packable(STUDY_ARCH, job_settings(t, v)["units"], STUDY["seeds"])
        for t in STUDY["tasks"]
    )
]


def study_job_settings(wildcards):
    """The settings file of a study job; a job that repeats an earlier variant's or the main
    grid's (STUDY_REPEATS) is refused with the folder that holds its run, so that no target
    trains it twice."""
    w = wildcards
    holder = runs_of(STUDY_REPEATS, w.variant, w.task, w.unit)
    if holder != w.variant:
        seed = getattr(w, "seed", "{seed}")
        raise WorkflowError(
            f"study variant {w.variant!r} trains {w.unit} on {w.task} as "
            f"{'the main grid' if holder == GRID_RUNS else f'variant {holder!r}'} does (docs/study.md, "
            f"'Jobs run once'): its run is {cell_run_dir(STUDY_REPEATS, w.variant, w.task, w.unit, seed)}; "
            f"target that, 'study:{w.variant}' or 'study' instead"
        )
    return STUDY_SETTINGS[(w.variant, w.task)]


def study_runs(files, variants=None):
    """Files of every run of the study's variants (all by default); a job that repeats an
    earlier variant's or the grid's (STUDY_REPEATS) is that run."""
    runs = [
        f"{cell_run_dir(STUDY_REPEATS, variant, task, unit, seed)}/{name}"
        for variant in (VARIANTS if variants is None else variants)
        for task in STUDY["tasks"]
        for unit in STUDY["units"]
        for seed in variant_seeds(variant)
        for name in files
    ]
    return list(dict.fromkeys(runs))


# --- analysis -------------------------------------------------------------------------------
GRID = config["grid"]
ANALYSIS = {  # the analysis commands' settings files
    "grid": settings_file("grid", GRID),
    "seeds": settings_file("seeds", {"seeds": config["seeds"]}),
    "meta": settings_file(
        "meta",
        {
            "scale": config["scale"],
            "seeds": config["seeds"],
            "epochs": {t: config["training"][t]["epochs"] for t in TASKS},
        },
    ),
}
STUDY_FILE = settings_file("study", {**config["study"], "repeats": STUDY_REPEATS})


def reported(path, caption, category):
    return report(path, caption=f"../report/{caption}.rst", category=category)


def part_outputs():
    """The outputs of each analysis part (empty where the grid leaves the part out)."""
    out = {
        k: [] for k in ("table1", "table3", "fig5", "autapses", "amplitude", "activity")
    }
    if GRID["table1"]:
        out["table1"] = [
            reported("results/tables/table1.html", "table1", "Tables"),
            reported("results/figures/fig3_learning_curves.png", "fig3", "Figures"),
            reported("results/figures/table1.png", "table1_figure", "Tables"),
            "results/tables/table1.csv",
            "results/tables/table1.md",
        ]
    if part_jobs("table3", GRID):
        out["table3"] = [
            reported("results/tables/table3.html", "table3", "Tables"),
            "results/tables/table3.csv",
            "results/tables/table3.md",
            reported("results/figures/table3.png", "table3_figure", "Tables"),
        ]
        for part, name in (
            ("amplitude", "recurrent_amplitude"),
            ("activity", "activity"),
        ):
            out[part] = [
                reported(f"results/analysis/{name}.html", name, "Analysis"),
                f"results/analysis/{name}.csv",
                f"results/analysis/{name}.md",
                reported(f"results/figures/{name}.png", f"{name}_figure", "Analysis"),
            ]
        out["activity"].append(
            reported("results/figures/activity_time.png", "activity_time", "Analysis")
        )
    if GRID["fig5"]:
        out["fig5"] = [
            reported("results/figures/fig5_binary_networks.png", "fig5", "Figures")
        ]
    if part_jobs("autapses", GRID):
        out["autapses"] = [
            reported("results/analysis/autapses.html", "autapses", "Analysis"),
            "results/analysis/autapses.csv",
            "results/analysis/autapses.md",
            reported("results/figures/fig7_kernels.png", "fig7", "Figures"),
            reported("results/figures/autapses.png", "autapses_figure", "Analysis"),
        ]
    return out


PART_OUTPUTS = part_outputs()


PART_FILES = {  # the run files each analysis part reads
    "table1": ["metrics.csv", "config.json"],
    "table3": ["config.json", TEST_FILE],
    "fig5": ["metrics.csv", "config.json"],
    "autapses": ["model.pt", "config.json"],
    "amplitude": ["model.pt", "config.json"],
    "activity": ["activity.json"],
    "cost": ["model.pt", "config.json", TEST_FILE],
}


def part_runs(part):
    """The run files each analysis part reads: only the runs it shows."""
    return [
        f"{run_dir(*job, seed)}/{name}"
        for job in part_jobs(part, GRID)
        for seed in config["seeds"]
        for name in PART_FILES[part]
    ]


def cost_outputs():
    if not part_jobs("cost", GRID):
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
