# Training: one job per (task, architecture, unit, seed); MLflow records each run.


rule mlflow_experiment:
    output:
        "results/mlflow/experiment.json",
    log:
        "results/logs/mlflow_experiment.log",
    benchmark:
        "results/benchmarks/mlflow_experiment.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        name=config["mlflow"]["experiment"],
        system=lambda w: (
            ""
            if config["mlflow"]["system_metrics_seconds"] is None
            else f"--system-metrics-seconds {config['mlflow']['system_metrics_seconds']}"
        ),
    shell:
        "python -m glifbench mlflow-init --name {params.name:q} --results results "
        "{params.system} --out {output:q} > {log} 2>&1"


rule train:
    input:
        data=lambda w: list(TRAIN_DATA[w.task].values()),
        settings=lambda w: TRAIN_SETTINGS[w.task],
        experiment=EXPERIMENT,
    output:
        **{
            name.split(".")[
                0
            ]: f"results/runs/{{task}}/{{arch}}/{{unit}}/seed{{seed}}/{name}"
            for name in MAIN_FILES
        },
    log:
        "results/logs/train/{task}/{arch}/{unit}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{task}/{arch}/{unit}/seed{seed}.tsv"
    wildcard_constraints:
        task="|".join(TASKS),
        arch="|".join(ARCHITECTURES),
        unit="|".join(UNITS),
        seed=r"\d+",
    conda:
        ENV
    threads: config["training"]["threads"]
    resources:
        mem_mb=config["resources"]["train"]["mem_mb"],
        runtime=config["resources"]["train"]["runtime"],
        gpu=config["resources"]["train"]["gpu"],
    params:
        seeds=lambda w: w.seed,
        data=lambda w: as_json(TRAIN_DATA[w.task]),
        checkpoint="results/checkpoints/{task}/{arch}/{unit}/seed{seed}.pt",
        out_dir=lambda w, output: Path(output.metrics).parent,
        tags=as_json({"scale": config["scale"]}),
        tracking=TRACKING,
        study="",
    shell:
        "python -m glifbench train --task {wildcards.task} --arch {wildcards.arch} "
        "--unit {wildcards.unit} --seed {params.seeds} --out-dir {params.out_dir:q} "
        "--checkpoint {params.checkpoint:q} --data {params.data:q} --config {input.settings:q} "
        "{params.tracking} --tags {params.tags:q} {params.study} "
        "--remove-if-corrupt > {log} 2>&1"


if PACK_ARCHS:

    # The same jobs as `train`, every seed of one (task, arch, unit) in one process: its per-seed
    # outputs, checkpoints and MLflow runs are those `train` writes (docs/performance.md).
    use rule train as train_pack with:
        output:
            [
                f"{run_dir('{task}', '{arch}', '{unit}', seed)}/{name}"
                for seed in config["seeds"]
                for name in MAIN_FILES
            ],
        log:
            "results/logs/train/{task}/{arch}/{unit}/pack.log",
        benchmark:
            "results/benchmarks/train/{task}/{arch}/{unit}/pack.tsv"
        wildcard_constraints:
            task="|".join(PACK_TASKS),
            arch="|".join(re.escape(arch) for arch in PACK_ARCHS),
            unit="|".join(UNITS),
        resources:
            **pack_resources(config["seeds"]),
        params:
            seeds=" ".join(str(seed) for seed in config["seeds"]),
            data=lambda w: as_json(TRAIN_DATA[w.task]),
            # {seed}: each seed's path, filled in by the command
            checkpoint=lambda w: f"results/checkpoints/{w.task}/{w.arch}/{w.unit}/seed{{seed}}.pt",
            out_dir=lambda w: run_dir(w.task, w.arch, w.unit, "{seed}"),

    ruleorder: train_pack > train


rule training:
    input:
        all_runs(MAIN_FILES),
