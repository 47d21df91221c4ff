# Settings files: the config sections a command reads, one file per content (common.smk).


rule settings_file:
    output:
        "results/settings/{name}.json",
    log:
        "results/logs/settings/{name}.log",
    wildcard_constraints:
        name=r"[A-Za-z0-9][A-Za-z0-9_.+=-]*-[0-9a-f]{12}",
    localrule: True
    params:
        text=settings_text,
    run:
        write_settings(output[0], params.text, log[0])


rule settings:
    input:
        sorted(SETTINGS),
