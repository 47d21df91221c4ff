# Analysis: the paper's tables and figures, weight and autapse statistics, activity.


rule tables:
    input:
        **ANALYSIS_INPUTS,
        runs=all_runs(["metrics.csv", "config.json", TEST_FILE]),
    output:
        table_outputs(),
    log:
        "results/logs/tables.log",
    benchmark:
        "results/benchmarks/tables.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "python -m glifbench tables --runs results/runs --out results/tables "
        "--figures results/figures --grid {input.grid:q} --seeds {input.seeds:q} "
        "--meta {input.meta:q} > {log} 2>&1"


rule weights:
    input:
        **ANALYSIS_INPUTS,
        runs=[
            f"{run_dir(task, 'CRNN', unit, seed)}/{name}"
            for task, unit in CRNN_UNITS
            for seed in config["seeds"]
            for name in ("model.pt", "config.json", "activity.json")
        ],
    output:
        weight_outputs(),
    log:
        "results/logs/weights.log",
    benchmark:
        "results/benchmarks/weights.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=60,
    shell:
        "python -m glifbench weights --runs results/runs --out results/analysis "
        "--figures results/figures --grid {input.grid:q} --seeds {input.seeds:q} "
        "--meta {input.meta:q} > {log} 2>&1"


rule cost:
    input:
        **ANALYSIS_INPUTS,
        runs=[
            f"{run_dir(task, 'CRNN', unit, seed)}/{name}"
            for task, unit in CRNN_UNITS
            for seed in config["seeds"]
            for name in ("model.pt", "config.json", TEST_FILE)
        ],
        data=[
            path for task in GRID["table3_tasks"] for path in TRAIN_DATA[task].values()
        ],
    output:
        cost_outputs(),
    log:
        "results/logs/cost.log",
    benchmark:
        "results/benchmarks/cost.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        trials=config["analysis"]["cost_trials"] or "null",
    shell:
        "python -m glifbench cost --runs results/runs --out results/analysis "
        "--figures results/figures --grid {input.grid:q} --seeds {input.seeds:q} "
        "--meta {input.meta:q} --max-trials {params.trials} > {log} 2>&1"


rule analysis:
    input:
        rules.tables.output,
        rules.weights.output,
        rules.cost.output,
