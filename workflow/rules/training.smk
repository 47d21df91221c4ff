# Training: one job per (task, architecture, unit, seed); MLflow records each run.

from glifbench.names import ARCHITECTURES, TASKS, UNITS
from glifbench.settings import config_hash
from glifbench.training.grid import job_grid, run_dir

JOBS = job_grid(config["grid"])
RUN_FILES = ["metrics.csv", "model.pt", "activity.json", "config.json"]
TRAIN_DATA = {
    "sot": {"train": "results/data/sot/train.json", "val": "results/data/sot/val.json"},
    "mnist": {"arrays": "results/data/mnist/mnist.npz"},
    "fsdd": {"arrays": "results/data/fsdd/spectrograms.npz"},
}


def all_runs(files=("metrics.csv",)):
    return [
        f"{run_dir(task, arch, unit, seed)}/{name}"
        for task, arch, unit in JOBS
        for seed in config["seeds"]
        for name in files
    ]


def job_config(wildcards):
    training = config["training"]
    settings = dict(training[wildcards.task])
    settings.update(device=training["device"], threads=training["threads"])
    return as_json({"training": settings, "model": config["model"], "units": config["units"]})


rule mlflow_experiment:
    output:
        "results/mlflow/experiment.json",
    params:
        name=config["mlflow"]["experiment"],
    log:
        "results/logs/mlflow_experiment.log",
    benchmark:
        "results/benchmarks/mlflow_experiment.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m glifbench mlflow-init --name {params.name:q} --results results "
        "--out {output:q} > {log} 2>&1"


rule train:
    input:
        data=lambda w: list(TRAIN_DATA[w.task].values()),
        experiment="results/mlflow/experiment.json",
    output:
        **{
            name.split(".")[0]: f"results/runs/{{task}}/{{arch}}/{{unit}}/seed{{seed}}/{name}"
            for name in RUN_FILES
        },
    wildcard_constraints:
        task="|".join(TASKS),
        arch="|".join(ARCHITECTURES),
        unit="|".join(UNITS),
        seed=r"\d+",
    params:
        data=lambda w: as_json(TRAIN_DATA[w.task]),
        settings=job_config,
        checkpoint="results/checkpoints/{task}/{arch}/{unit}/seed{seed}.pt",
        out_dir=lambda w, output: Path(output.metrics).parent,
        tags=as_json({"scale": config["scale"], "config_hash": config_hash(config)}),
    threads: config["training"]["threads"]
    log:
        "results/logs/train/{task}/{arch}/{unit}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{task}/{arch}/{unit}/seed{seed}.tsv"
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    shell:
        "python -m glifbench train --task {wildcards.task} --arch {wildcards.arch} "
        "--unit {wildcards.unit} --seed {wildcards.seed} --out-dir {params.out_dir:q} "
        "--checkpoint {params.checkpoint:q} --data {params.data:q} --config {params.settings:q} "
        "--experiment {input.experiment:q} --tags {params.tags:q} > {log} 2>&1"


rule training:
    input:
        all_runs(RUN_FILES),
