# glifbench: Chapman et al. (NICE 2024), end to end. See README.md.


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/settings.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/study.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.training.input,
        rules.analysis.input,
        rules.study.input,
