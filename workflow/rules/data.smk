# Data half of the DAG: DIOR / builtin backgrounds -> SOT shards; FSDD spectrograms; MNIST.


rule download_dior:
    output:
        "results/downloads/dior/Images_trainval.zip",
    log:
        "results/logs/download_dior.log",
    benchmark:
        "results/benchmarks/download_dior.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=240,
    params:
        url=config["data"]["dior"]["url"],
        md5=config["data"]["dior"]["md5"],
        mirror=config["data"]["dior"]["mirror"] or "",
    shell:
        "python -m glifbench fetch --url {params.url:q} --dest {output:q} "
        "--checksum {params.md5} --algorithm md5 --mirror={params.mirror:q} > {log} 2>&1"


rule backgrounds:
    input:
        settings=DATA_SETTINGS["backgrounds"],
        dior=lambda w: (
            "results/downloads/dior/Images_trainval.zip"
            if config["data"]["backgrounds"] == "dior"
            else []
        ),
    output:
        train="results/data/backgrounds/train.npy",
        val="results/data/backgrounds/val.npy",
        train_index="results/data/backgrounds/train.json",
        val_index="results/data/backgrounds/val.json",
    log:
        "results/logs/backgrounds.log",
    benchmark:
        "results/benchmarks/backgrounds.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        source=config["data"]["backgrounds"],
        zip_arg=lambda w, input: f"--zip {input.dior}" if input.dior else "",
    shell:
        "python -m glifbench backgrounds --source {params.source} {params.zip_arg} "
        "--train-out {output.train:q} --val-out {output.val:q} "
        "--params {input.settings:q} > {log} 2>&1"


rule sot_shard:
    input:
        backgrounds="results/data/backgrounds/{split}.npy",
        settings=DATA_SETTINGS["stimulus"],
    output:
        "results/data/sot/{split}/shard{shard}.npz",
    log:
        "results/logs/sot_shard/{split}_{shard}.log",
    benchmark:
        "results/benchmarks/sot_shard/{split}_{shard}.tsv"
    wildcard_constraints:
        split="train|val",
        shard=r"\d{5}",
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        n_trials=shard_trials,
        seed=config["sot"]["seed"],
    shell:
        "python -m glifbench sot-shard --backgrounds {input.backgrounds:q} --out {output:q} "
        "--split {wildcards.split} --shard {wildcards.shard} --n-trials {params.n_trials} "
        "--seed {params.seed} --params {input.settings:q} > {log} 2>&1"


rule sot_index:
    input:
        lambda w: sot_shards(w.split),
    output:
        "results/data/sot/{split}.json",
    log:
        "results/logs/sot_index_{split}.log",
    benchmark:
        "results/benchmarks/sot_index_{split}.tsv"
    wildcard_constraints:
        split="train|val",
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "python -m glifbench sot-index --split {wildcards.split} --out {output:q} "
        "--remove-if-corrupt {input:q} > {log} 2>&1"


rule sot_figure:
    input:
        backgrounds="results/data/backgrounds/val.npy",
        settings=DATA_SETTINGS["stimulus"],
    output:
        report(
            "results/figures/fig1_sot_example.png",
            caption="../report/fig1_sot_example.rst",
            category="Data",
        ),
    log:
        "results/logs/sot_figure.log",
    benchmark:
        "results/benchmarks/sot_figure.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=config["sot"]["seed"],
    shell:
        "python -m glifbench sot-figure --backgrounds {input.backgrounds:q} --out {output:q} "
        "--seed {params.seed} --params {input.settings:q} > {log} 2>&1"


rule download_fsdd:
    output:
        "results/downloads/fsdd/recordings.tar.gz",
    log:
        "results/logs/download_fsdd.log",
    benchmark:
        "results/benchmarks/download_fsdd.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=30,
    params:
        url=config["data"]["fsdd"]["url"],
        sha256=config["data"]["fsdd"]["sha256"] or "",
        mirror=config["data"]["fsdd"]["mirror"] or "",
    shell:
        "python -m glifbench fetch --url {params.url:q} --dest {output:q} "
        "--checksum={params.sha256:q} --algorithm sha256 --mirror={params.mirror:q} "
        "--verify fsdd-recordings > {log} 2>&1"


rule fsdd_spectrograms:
    input:
        settings=DATA_SETTINGS["spectrogram"],
        archive=lambda w: (
            "results/downloads/fsdd/recordings.tar.gz"
            if config["data"]["fsdd"]["source"] == "download"
            else []
        ),
    output:
        "results/data/fsdd/spectrograms.npz",
    log:
        "results/logs/fsdd_spectrograms.log",
    benchmark:
        "results/benchmarks/fsdd_spectrograms.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        archive=lambda w, input: input.archive or "builtin",
    shell:
        "python -m glifbench fsdd --archive {params.archive:q} --out {output:q} "
        "--params {input.settings:q} --remove-if-corrupt > {log} 2>&1"


rule download_mnist:
    output:
        "results/downloads/mnist/{idxfile}",
    log:
        "results/logs/download_mnist_{idxfile}.log",
    benchmark:
        "results/benchmarks/download_mnist_{idxfile}.tsv"
    wildcard_constraints:
        idxfile="(train|t10k)-(images-idx3|labels-idx1)-ubyte.gz",
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=30,
    params:
        url=lambda w: f"{config['data']['mnist']['base_url']}/{w.idxfile}",
        md5=lambda w: config["data"]["mnist"]["md5"][w.idxfile],
        mirror=config["data"]["mnist"]["mirror"] or "",
    shell:
        "python -m glifbench fetch --url {params.url:q} --dest {output:q} "
        "--checksum {params.md5} --algorithm md5 --mirror={params.mirror:q} > {log} 2>&1"


rule mnist:
    input:
        settings=DATA_SETTINGS["mnist"],
        idx=lambda w: expand("results/downloads/mnist/{idxfile}", idxfile=mnist_files()),
    output:
        "results/data/mnist/mnist.npz",
    log:
        "results/logs/mnist.log",
    benchmark:
        "results/benchmarks/mnist.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        source=config["data"]["mnist"]["source"],
        folder_arg=lambda w, input: (
            f"--folder {Path(input.idx[0]).parent}" if input.idx else ""
        ),
    shell:
        "python -m glifbench mnist --source {params.source} {params.folder_arg} "
        "--out {output:q} --params {input.settings:q} --remove-if-corrupt > {log} 2>&1"


rule data:
    input:
        expand("results/data/sot/{split}.json", split=SPLITS),
        "results/figures/fig1_sot_example.png",
        "results/data/fsdd/spectrograms.npz",
        "results/data/mnist/mnist.npz",
