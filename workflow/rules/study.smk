# Study: named variants of the open constants, every unit type alike, judged on validation data.


use rule train as study_train with:
    input:
        data=lambda w: list(TRAIN_DATA[w.task].values()),
        settings=study_job_settings,
        experiment=EXPERIMENT,
    output:
        **{
            name.split(".")[
                0
            ]: f"{STUDY_RUNS}/{{variant}}/{{task}}/{{arch}}/{{unit}}/seed{{seed}}/{name}"
            for name in RUN_FILES
        },
    log:
        "results/logs/study/{variant}/{task}/{arch}/{unit}/seed{seed}.log",
    benchmark:
        "results/benchmarks/study/{variant}/{task}/{arch}/{unit}/seed{seed}.tsv"
    wildcard_constraints:
        variant="|".join(re.escape(v) for v in VARIANTS) or "(?!)",
        task="|".join(TASKS),
        arch=STUDY_ARCH,
        unit="|".join(UNITS),
        seed=r"\d+",
    params:
        seeds=lambda w: w.seed,
        data=lambda w: as_json(TRAIN_DATA[w.task]),
        checkpoint="results/study/checkpoints/{variant}/{task}/{arch}/{unit}/seed{seed}.pt",
        out_dir=lambda w, output: Path(output.metrics).parent,
        study=lambda w: f"--variant {w.variant} --no-test",


if PACK_VARIANTS:

    # The seeds of a study job as one pack (`training.group: seeds`; docs/performance.md).
    use rule study_train as study_train_pack with:
        output:
            [
                f"{run_dir('{task}', '{arch}', '{unit}', seed, f'{STUDY_RUNS}/{{variant}}')}/{name}"
                for seed in STUDY["seeds"]
                for name in RUN_FILES
            ],
        log:
            "results/logs/study/{variant}/{task}/{arch}/{unit}/pack.log",
        benchmark:
            "results/benchmarks/study/{variant}/{task}/{arch}/{unit}/pack.tsv"
        wildcard_constraints:
            variant="|".join(re.escape(v) for v in PACK_VARIANTS),
            task="|".join(PACK_TASKS),
            arch=STUDY_ARCH,
            unit="|".join(UNITS),
        resources:
            **pack_resources(STUDY["seeds"]),
        params:
            seeds=" ".join(str(seed) for seed in STUDY["seeds"]),
            data=lambda w: as_json(TRAIN_DATA[w.task]),
            checkpoint=lambda w: f"results/study/checkpoints/{w.variant}/{w.task}/{w.arch}/{w.unit}/seed{{seed}}.pt",
            out_dir=lambda w: study_run_dir(w.variant, w.task, w.unit, "{seed}"),

    ruleorder: study_train_pack > study_train


rule study_summary:
    input:
        runs=study_runs(["metrics.csv", "config.json"]),
        study=STUDY_FILE,
        meta=ANALYSIS["meta"],
    output:
        reported("results/study/summary.html", "study_summary", "Study"),
        reported("results/study/claims.html", "study_claims", "Study"),
        reported("results/study/study.png", "study_figure", "Study"),
        "results/study/summary.csv",
        "results/study/summary.md",
        "results/study/summary_wide.csv",
        "results/study/summary_wide.md",
        "results/study/summary_wide.html",
        "results/study/claims.csv",
        "results/study/claims.md",
    log:
        "results/logs/study_summary.log",
    benchmark:
        "results/benchmarks/study_summary.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        runs=lambda w, input: STUDY_RUNS,  # the runs' roots (their files are the inputs)
        grid_runs=lambda w, input: RUNS,
    shell:
        "python -m glifbench study --runs {params.runs} --grid-runs {params.grid_runs} --out results/study "
        "--study {input.study:q} --meta {input.meta:q} > {log} 2>&1"


rule study:
    input:
        rules.study_summary.output if VARIANTS else [],


# One variant's runs, e.g. `snakemake ... -- study:batch=64` (a repeated job: the earlier
# variant's run), for studies run variant by variant (docs/study/run_fsdd_study.sh).
for _variant in VARIANTS:

    rule:
        name:
            f"study:{_variant}"
        input:
            study_runs(["metrics.csv"], [_variant]),
        localrule: True
