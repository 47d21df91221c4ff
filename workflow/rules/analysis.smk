# Analysis: the paper's tables and figures, weight and autapse statistics, activity, cost.
# One rule per part, reading only the runs it shows (`snakemake table3`, `snakemake fig7`, ...).


rule table1:
    input:
        **ANALYSIS,
        runs=part_runs("table1"),
    output:
        PART_OUTPUTS["table1"],
    log:
        "results/logs/analysis/table1.log",
    benchmark:
        "results/benchmarks/analysis/table1.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        part="table1",
    shell:
        "python -m glifbench tables --part {params.part} --runs results/runs "
        "--out results/tables --figures results/figures --grid {input.grid:q} "
        "--seeds {input.seeds:q} --meta {input.meta:q} > {log} 2>&1"


use rule table1 as table3 with:
    input:
        **ANALYSIS,
        runs=part_runs("table3"),
    output:
        PART_OUTPUTS["table3"],
    log:
        "results/logs/analysis/table3.log",
    benchmark:
        "results/benchmarks/analysis/table3.tsv"
    params:
        part="table3",


use rule table1 as fig5 with:
    input:
        **ANALYSIS,
        runs=part_runs("fig5"),
    output:
        PART_OUTPUTS["fig5"],
    log:
        "results/logs/analysis/fig5.log",
    benchmark:
        "results/benchmarks/analysis/fig5.tsv"
    params:
        part="fig5",


rule autapses:
    input:
        **ANALYSIS,
        runs=part_runs("autapses"),
    output:
        PART_OUTPUTS["autapses"],
    log:
        "results/logs/analysis/autapses.log",
    benchmark:
        "results/benchmarks/analysis/autapses.tsv"
    conda:
        ENV
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        part="autapses",
    shell:
        "python -m glifbench weights --part {params.part} --runs results/runs "
        "--out results/analysis --figures results/figures --grid {input.grid:q} "
        "--seeds {input.seeds:q} --meta {input.meta:q} > {log} 2>&1"


use rule autapses as amplitude with:
    input:
        **ANALYSIS,
        runs=part_runs("amplitude"),
    output:
        PART_OUTPUTS["amplitude"],
    log:
        "results/logs/analysis/amplitude.log",
    benchmark:
        "results/benchmarks/analysis/amplitude.tsv"
    params:
        part="amplitude",


use rule autapses as activity with:
    input:
        **ANALYSIS,
        runs=part_runs("activity"),
    output:
        PART_OUTPUTS["activity"],
    log:
        "results/logs/analysis/activity.log",
    benchmark:
        "results/benchmarks/analysis/activity.tsv"
    params:
        part="activity",


rule cost:
    input:
        **ANALYSIS,
        runs=part_runs("cost"),
        data=[
            path for task in GRID["table3_tasks"] for path in TRAIN_DATA[task].values()
        ],
    output:
        cost_outputs(),
    log:
        "results/logs/analysis/cost.log",
    benchmark:
        "results/benchmarks/analysis/cost.tsv"
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


rule fig3:
    input:
        rules.table1.output,


rule fig7:
    input:
        rules.autapses.output,


rule tables:
    input:
        rules.table1.output,
        rules.table3.output,
        rules.fig5.output,


rule weights:
    input:
        rules.autapses.output,
        rules.amplitude.output,
        rules.activity.output,


rule analysis:
    input:
        rules.tables.input,
        rules.weights.input,
        rules.cost.output,
