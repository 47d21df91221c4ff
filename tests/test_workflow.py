"""The Snakemake workflow itself: config validation, lint, and the data half of the DAG."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glifbench.settings import deep_merge
from helpers import schema

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
MAIN_CONFIG = REPO / "config.yaml"
TEST_CONFIG = REPO / ".tests" / "config" / "config.yaml"


def snakemake(*args: str, cwd: Path = REPO, tiny: bool = False) -> subprocess.CompletedProcess:
    """Run the repository's workflow in ``cwd`` on config.yaml (+ the tiny test config)."""
    configs = [str(MAIN_CONFIG)] + ([str(TEST_CONFIG)] if tiny else [])
    return subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(cwd), "--configfile", *configs, *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_deep_merge_overrides_leaves_only():
    preset = {"sot": {"n_train": 5, "n_val": 5}, "seeds": [0]}
    merged = deep_merge(preset, {"sot": {"n_train": 9}, "seeds": [1, 2]})
    assert merged == {"sot": {"n_train": 9, "n_val": 5}, "seeds": [1, 2]}
    assert preset["sot"]["n_train"] == 5


def test_a_tasks_own_keys_override_its_section_for_its_jobs_only():
    from glifbench.settings import for_task

    units = {"dt_tau_v": 0.2, "slope": 5.0, "sot": {"dt_tau_v": 0.5}, "fsdd": {"slope": 1.0}}
    assert for_task(units, "sot") == {"dt_tau_v": 0.5, "slope": 5.0}
    assert for_task(units, "fsdd") == {"dt_tau_v": 0.2, "slope": 1.0}
    assert for_task(units, "mnist") == {"dt_tau_v": 0.2, "slope": 5.0}
    assert units["sot"] == {"dt_tau_v": 0.5}


def test_defaults_fill_what_snakemake_fills():
    """glifbench.settings.schema_defaults fills a config as Snakemake's validate(set_default=True)
    does: a task's own units / model keys and a study's common overrides are not invented."""
    from helpers import config_defaults
    from snakemake.utils import validate

    filled: dict = {}
    validate(filled, str(REPO / "workflow" / "schemas" / "config.schema.yaml"), set_default=True)
    defaults = config_defaults()
    assert json.loads(json.dumps(defaults)) == json.loads(json.dumps(filled))
    assert not {"sot", "mnist", "fsdd"} & (set(defaults["units"]) | set(defaults["model"]))
    assert defaults["study"]["common"] == {} and defaults["units"]["dt_tau_v"] == 0.2


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("sot={n_trian: 3}", "'n_trian' was unexpected"),
        ("seeds=zero", "seeds"),
        ("scale=huge", "scale"),
        ("grid={table3_units: [LIF, GLIF]}", "'GLIF' is not one of"),
        ("grid={table3_tasks: [cifar]}", "'cifar' is not one of"),
        ("grid={table1: [RNN]}", "'RNN' is not one of"),
        ("training={sot: {lr: -1}}", "training.sot.lr"),
        ("training={fsdd: {epochs: 0}}", "training.fsdd.epochs: 0 is less than the minimum of 1"),
        ("sott=1", "invalid config at the top level: Additional properties are not allowed ('sott' was unexpected)"),
        ("study={variants: {a: {unitz: {}}}}", "'unitz' was unexpected"),
        ("study={variants: {a: {units: {slope: -1}}}}", "study.variants.a.units.slope"),
        ("units={sot: {slope: -1}}", "units.sot.slope"),
        ("units={dt_tau_x: 1}", "'dt_tau_x' was unexpected"),
        ("model={fsdd: {sot: {hidden: 3}}}", "model.fsdd: Unevaluated properties are not allowed ('sot' was unexpected)"),
    ],
)
def test_config_errors_name_the_key(override, named, tmp_path):
    result = snakemake("-n", "--config", override, cwd=tmp_path)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert len((result.stdout + result.stderr).splitlines()) < 40  # the key and why, not the schema


def test_paper_preset_plans_downloads_100_shards_and_180_jobs(tmp_path):
    result = snakemake("-n", "--quiet", "rules", "--config", "scale=paper", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout + result.stderr, flags=re.M))
    assert counts["download_dior"] == "1" and counts["download_fsdd"] == "1" and counts["download_mnist"] == "4"
    assert counts["sot_shard"] == "100"  # 2 x 50 shards of 1,000 trials
    assert counts["train"] == "180"  # 36 jobs x 5 seeds


def test_gpu_preset_plans_dior_55_shards_and_108_jobs_on_one_thread_each(tmp_path):
    result = snakemake("-n", "-p", "--config", "scale=gpu", cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert counts["download_dior"] == "1" and counts["sot_shard"] == "55"  # 50 + 5 shards of 1,000 trials
    assert counts["train"] == "108"  # 36 jobs x 3 seeds
    written = snakemake("--cores", "1", "--config", "scale=gpu", "--", "settings", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    jobs = re.findall(r"python -m glifbench train .*", out)
    settings = [json.loads((tmp_path / re.search(r"--config (\S+)", j)[1]).read_text())["training"] for j in jobs]
    assert all(s["threads"] == 1 and s["cuda_graphs"] == "auto" for s in settings)


def test_lint_is_clean():
    result = snakemake("--lint", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


@pytest.mark.slow
def test_data_targets_build_on_tiny_config(tmp_path):
    result = snakemake("--cores", "2", "data", cwd=tmp_path, tiny=True)
    assert result.returncode == 0, result.stdout + result.stderr
    index = json.loads((tmp_path / "results/data/sot/train.json").read_text())
    assert index["n_trials"] == 10 and len(index["shards"]) == 3
    with np.load(tmp_path / "results/data/sot/val/shard00001.npz") as shard:
        assert shard["frames"].shape == (2, 20, 30, 30)
    for path in ("results/data/fsdd/spectrograms.npz", "results/data/mnist/mnist.npz",
                 "results/figures/fig1_sot_example.png", "results/logs/backgrounds.log"):  # fmt: skip
        assert (tmp_path / path).stat().st_size > 0
    # A re-run has nothing to do; a corrupt shard is detected by the index step.
    again = snakemake("-n", "data", cwd=tmp_path, tiny=True)
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_fsdd_from_mirror_through_the_dag(fsdd_tarball, tmp_path):
    result = snakemake(
        "--cores", "2", "results/data/fsdd/spectrograms.npz",
        "--config", f"data={{fsdd: {{source: download, mirror: {fsdd_tarball}}}}}", cwd=tmp_path, tiny=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with np.load(tmp_path / "results/data/fsdd/spectrograms.npz") as data:
        assert data["x_train"].shape == (2400, 64, 64) and data["x_test"].shape == (300, 64, 64)


@pytest.mark.slow
def test_failed_download_leaves_no_output(tmp_path):
    result = snakemake(
        "--cores", "1", "results/data/mnist/mnist.npz",
        "--config", f"data={{mnist: {{source: download, mirror: {tmp_path / 'empty'}}}}}", cwd=tmp_path, tiny=True,
    )  # fmt: skip
    assert result.returncode != 0
    log = (tmp_path / "results/logs").glob("download_mnist_*.log")
    assert any("mirror file not found" in p.read_text() for p in log)
    assert not list((tmp_path / "results/downloads/mnist").glob("*ubyte.gz"))


@pytest.mark.parametrize("path", sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").rglob("*.yaml")))
def test_committed_config_files_are_valid(path):
    """Every config file the docs tell users to pass (studies, diagnostics) validates against the
    schema on top of config.yaml, so none rots unnoticed when a key moves or is renamed."""
    import yaml

    from glifbench.settings import check_config

    extra = yaml.safe_load((REPO / path).read_text())
    assert isinstance(extra, dict) and extra, f"{path} sets no config key"
    check_config(deep_merge(yaml.safe_load(MAIN_CONFIG.read_text()), extra), schema())


def test_nested_config_strings_get_the_schema_types():
    import yaml

    from glifbench.settings import coerce_to_schema

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    parsed = {"seeds": ["0", "1"], "training": {"fsdd": {"epochs": "40", "readout_lr": "null", "lr": "2e-3"}},
              "data": {"fsdd": {"source": "download", "mirror": "/x/1.tar.gz"}}, "units": {"detach_reset": "true"}}  # fmt: skip
    fixed = coerce_to_schema(parsed, schema)
    assert fixed["seeds"] == [0, 1] and fixed["training"]["fsdd"] == {"epochs": 40, "readout_lr": None, "lr": 0.002}
    assert fixed["data"]["fsdd"]["mirror"] == "/x/1.tar.gz" and fixed["units"]["detach_reset"] is True
    assert coerce_to_schema({"seeds": ["a"]}, schema) == {"seeds": ["a"]}  # left for validation to reject
    graphs = [coerce_to_schema({"training": {"cuda_graphs": v}}, schema)["training"]["cuda_graphs"]
              for v in ("true", "auto", "false", "maybe")]  # an enum of a string and booleans  # fmt: skip
    assert graphs == [True, "auto", False, "maybe"]


def test_seeds_on_the_command_line(tmp_path):
    result = snakemake("-n", "--config", "seeds=[3, 4]", "grid={table1: [CNN], table3_tasks: [], fig5: false}", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "seed3" in result.stdout + result.stderr and "seed4" in result.stdout + result.stderr


@pytest.mark.parametrize("scale", ["demo", "workstation", "gpu"])
def test_the_report_landing_page_renders_the_run(scale):
    """workflow/report/workflow.rst is rendered by Snakemake with Jinja2 (snakemake.config) and
    docutils; an undefined key would fail the report only after a whole run."""
    import warnings

    import jinja2
    import yaml
    from docutils.core import publish_parts
    from helpers import config_defaults

    preset = yaml.safe_load((REPO / f"workflow/presets/{scale}.yaml").read_text())
    config = deep_merge(config_defaults(), {**preset, "scale": scale})

    class Snakemake:
        pass

    Snakemake.config = config
    text = (REPO / "workflow/report/workflow.rst").read_text()
    rst = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(snakemake=Snakemake)
    with warnings.catch_warnings():  # as Snakemake calls it (writer_name: deprecated in docutils 0.22)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        html = publish_parts(rst, writer_name="html", settings_overrides={"halt_level": 2})["html_body"]
    assert f'Scale <tt class="docutils literal">{scale}</tt>' in html
    assert ("Demo scale" in html) == (scale == "demo")
    assert f"FSDD\n{config['training']['fsdd']['epochs']}" in rst


def test_a_new_unit_kind_joins_the_grid_by_config_alone(tmp_path):
    result = snakemake("-n", "-p", "--config", "grid={table1: [], table3_tasks: [fsdd], table3_units: [BLI, MBLI], fig5: false}", cwd=tmp_path)  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "results/runs/fsdd/CRNN/MBLI/seed0" in out and "--unit MBLI" in out


def test_study_variants_become_jobs_with_their_overrides(tmp_path):
    study = ("study={tasks: [fsdd], units: [LIF, BA], seeds: [0, 1], common: {training: {fsdd: {epochs: 3}}}, "
             "variants: {base: {seeds: [0]}, lr=5e-4: {training: {fsdd: {lr: 0.0005}}}}}")  # fmt: skip
    result = snakemake("-n", "-p", "--config", study, "--", "study", cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = re.findall(r"python -m glifbench train .*", out)
    assert len(jobs) == 2 * 1 + 2 * 2  # base: 2 units x seed 0; lr=5e-4: 2 units x 2 seeds
    written = snakemake("--cores", "1", "--config", study, "--", "settings", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    settings = {j: json.loads((tmp_path / re.search(r"--config (\S+)", j)[1]).read_text())["training"] for j in jobs}
    assert all("--no-test" in j and s["epochs"] == 3 for j, s in settings.items())
    assert sum(s["lr"] == 0.0005 and "--variant lr=5e-4" in j for j, s in settings.items()) == 4
    assert sum(s["lr"] == 0.002 and "--variant base" in j for j, s in settings.items()) == 2  # the demo preset's lr
    assert "results/study/runs/lr=5e-4/fsdd/CRNN/BA/seed1" in out
    default = snakemake("-n", "--quiet", "rules", cwd=tmp_path)
    assert "study_train" not in default.stdout + default.stderr  # the default config runs no study


def test_a_study_job_that_repeats_an_earlier_variants_or_the_grids_is_not_scheduled(tmp_path):
    """The surrogate's slope does not reach Real's tanh: its `slope=1` job would be its `base`
    job (glifbench.study_plan); `defaults` changes nothing: its jobs are the main grid's. Each
    runs once; the summary reads them where they are."""
    study = ("study={tasks: [fsdd], units: [Real, LIF], seeds: [0], variants: {base: {training: {fsdd: {lr: 0.001}}}, "
             "slope=1: {training: {fsdd: {lr: 0.001}}, units: {slope: 1.0}}, defaults: {}}}")  # fmt: skip
    result = snakemake("-n", "-p", "--config", study, "--", "study", cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert sorted(re.findall(r"--out-dir (\S+)", out)) == [
        "results/runs/fsdd/CRNN/LIF/seed0", "results/runs/fsdd/CRNN/Real/seed0",  # the grid's jobs
        "results/study/runs/base/fsdd/CRNN/LIF/seed0", "results/study/runs/base/fsdd/CRNN/Real/seed0",
        "results/study/runs/slope=1/fsdd/CRNN/LIF/seed0"]
    assert "--grid-runs results/runs" in out
    written = snakemake("--cores", "1", "--config", study, "--", "settings", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    study_file = re.search(r"--study (\S+)", out)[1]
    assert json.loads((tmp_path / study_file).read_text())["repeats"] == {
        "slope=1/fsdd/Real": "base", "defaults/fsdd/Real": "@grid", "defaults/fsdd/LIF": "@grid"}
    one = snakemake("-n", "-p", "--config", study, "--", "study:slope=1", cwd=tmp_path)  # one variant's runs
    assert one.returncode == 0, one.stdout + one.stderr
    assert sorted(re.findall(r"--out-dir (\S+)", one.stdout + one.stderr)) == [
        "results/study/runs/base/fsdd/CRNN/Real/seed0", "results/study/runs/slope=1/fsdd/CRNN/LIF/seed0"]
    for variant, holder, who in (("slope=1", "results/study/runs/base/", "variant 'base'"),
                                 ("defaults", "results/runs/", "the main grid")):  # fmt: skip
        twice = snakemake("-n", "--config", study, "--", f"results/study/runs/{variant}/fsdd/CRNN/Real/seed0/metrics.csv",
                          cwd=tmp_path)  # fmt: skip
        assert twice.returncode != 0  # naming a repeated job's folder: refused, with the folder that holds it
        assert f"as {who} does" in twice.stdout + twice.stderr
        assert f"its run is {holder}fsdd/CRNN/Real/seed0" in twice.stdout + twice.stderr
    outside = snakemake("-n", "-p", "--config", study, "grid={table1: [], table3_tasks: [], fig5: false}", "--", "study",
                        cwd=tmp_path)  # fmt: skip
    assert outside.returncode == 0, outside.stdout + outside.stderr  # the grid plans no FSDD job: the study trains its own
    assert "results/runs/" not in " ".join(re.findall(r"--out-dir (\S+)", outside.stdout + outside.stderr))


def test_grouped_seeds_train_as_one_pack_job_where_they_can(tmp_path):
    grid = "grid={table1: [], table3_tasks: [fsdd], table3_units: [Real, LIF], fig5: false}"
    result = snakemake("-n", "-p", "--config", "seeds=[0, 1, 2]", "training={group: seeds}", grid, "--", "table3",
                       cwd=tmp_path)  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = re.findall(r"python -m glifbench train .*", out)
    packs = [j for j in jobs if "--seed 0 1 2 " in j]
    assert len(packs) == 2 and all("seed{seed}" in j for j in packs)  # CRNN Real and LIF: a pack each
    assert sorted(re.search(r"--arch (\S+) --unit (\S+)", j).groups() for j in packs) == [("CRNN", "LIF"), ("CRNN", "Real")]
    alone = [j for j in jobs if j not in packs]
    assert len(alone) == 3 and all("--arch CNN-RNN" in j for j in alone)  # its GRU cannot be vmapped
    assert "results/logs/train/fsdd/CRNN/LIF/pack.log" in out
    sot = snakemake("-n", "-p", "--config", "seeds=[0, 1]", "training={group: seeds}", "sot={n_train: 100, shard_size: 32}",
                    "grid={table1: [CRNN], table3_tasks: [], fig5: false}", "--", "table1", cwd=tmp_path)  # fmt: skip
    assert sot.returncode == 0 and "pack.log" not in sot.stdout + sot.stderr  # uneven shards: batches differ
    norse = snakemake("-n", "-p", "--config", "seeds=[0, 1]", "training={group: seeds}", "units={surrogate: super}", grid,
                      "--", "table3", cwd=tmp_path)  # fmt: skip
    assert norse.returncode == 0 and "pack.log" not in norse.stdout + norse.stderr  # Norse's surrogates: alone
    default = snakemake("-n", "--quiet", "rules", "--config", "seeds=[0, 1]", cwd=tmp_path)
    assert "train_pack" not in default.stdout + default.stderr  # the default trains every seed alone
    study = ("study={tasks: [fsdd], units: [LIF], seeds: [0, 1], variants: {base: {}, "
             "one: {seeds: [0], training: {fsdd: {lr: 0.001}}}, super: {units: {surrogate: super}}}}")  # fmt: skip
    result = snakemake("-n", "-p", "--config", "training={group: seeds}", study, "--", "study", cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = re.findall(r"python -m glifbench train .*", out)
    assert len(jobs) == 1 + 1 + 2  # base: one pack; one: its own seed alone; super: Norse's surrogate, alone
    assert sum("--seed 0 1 " in j and "--variant base" in j and "seed{seed}" in j for j in jobs) == 1


@pytest.mark.slow
def test_mlflow_off_trains_every_kind_of_job_without_an_experiment(tmp_path):
    grid = "grid={table1: [], table3_tasks: [fsdd], table3_units: [Real, LIF], fig5: false}"
    study = ("study={tasks: [fsdd], units: [LIF], seeds: [0, 1], variants: {base: {training: {fsdd: {lr: 0.003}}}, "
             "one: {seeds: [0], training: {fsdd: {lr: 0.001}}}}}")  # not the grid's jobs (those run once)  # fmt: skip
    for mlflow in ("{enabled: true}", "{enabled: false}"):
        result = snakemake("-n", "-p", "--config", "seeds=[0, 1]", "training={group: seeds}", grid, study,
                           f"mlflow={mlflow}", "--", "table3", "study", cwd=tmp_path)  # fmt: skip
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        jobs = re.findall(r"python -m glifbench train .*", out)
        kinds = {("pack" if "--seed 0 1 " in j else "alone", "study" if "--variant" in j else "main") for j in jobs}
        assert kinds == {("pack", "main"), ("alone", "main"), ("pack", "study"), ("alone", "study")}
        on = mlflow == "{enabled: true}"
        assert all(("--experiment results/mlflow/experiment.json " in j) == on for j in jobs), jobs
        assert ("mlflow-init" in out) == on


def test_the_device_script_adds_its_settings_to_the_users_config(tmp_path):
    """tools/device_dag.sh (run on the GPU machine, DEVELOPERS.md), here as a dry run: the user's
    -C list keeps its keys and gains MLflow off and one thread per job; other spellings are refused.
    MPS=1 where a control daemon starts (here a stand-in that logs its calls) but refuses clients
    (here: no GPU) says so, quits the daemon and runs the jobs as usual."""
    import shutil

    import torch

    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("workflow", "envs", "tools"):
        shutil.copytree(REPO / name, tmp_path / name)
    control = tmp_path / "bin/nvidia-cuda-mps-control"
    control.parent.mkdir()
    control.write_text(f'#!/bin/sh\nif [ $# = 0 ]; then read -r c; else c="$*"; fi\necho "$c" >> {tmp_path}/mps-calls.txt\n')
    control.chmod(0o755)
    env = {**os.environ, "OUT": str(tmp_path / "out"), "DEADLINE": "120", "CORES": "1", "MPS": "1",
           "PATH": f"{control.parent}:{os.environ['PATH']}"}  # fmt: skip
    # an unfinished study job's checkpoint (and the weights file it names), a finished job's
    unfinished = tmp_path / "results/study/checkpoints/v/fsdd/CRNN/LIF/seed0.pt"
    finished = tmp_path / "results/checkpoints/fsdd/CRNN/BA/seed0.pt"
    for checkpoint in (unfinished, finished):
        checkpoint.parent.mkdir(parents=True)
        torch.save({"history": [{"epoch": 1}], "weights": "seed0-e0001.weights.pt"}, checkpoint)
        torch.save({}, checkpoint.parent / "seed0-e0001.weights.pt")
    (tmp_path / "results/runs/fsdd/CRNN/BA/seed0").mkdir(parents=True)
    (tmp_path / "results/runs/fsdd/CRNN/BA/seed0/metrics.csv").write_text("epoch\n1\n")
    grid = "grid={table1: [], table3_tasks: [fsdd], table3_units: [LIF], fig5: false}"
    run = subprocess.run(["bash", "tools/device_dag.sh", "-n", "-p", "-C", "seeds=[3]", grid, "--", "table3"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    log = (tmp_path / "out/snakemake.log").read_text()
    jobs = re.findall(r"python -m glifbench train .*", log)
    assert jobs and all("seed3" in j and "--experiment" not in j for j in jobs)
    assert "mlflow-init" not in log
    assert re.search(r"-C mlflow=.*training=.*seeds=\\\[3\\\]", (tmp_path / "out/device.txt").read_text())
    partial = [json.loads(line) for line in (tmp_path / "results/partial.jsonl").read_text().splitlines()]
    assert sorted(p["checkpoint"] for p in partial) == [str(finished.relative_to(tmp_path)),
                                                         str(unfinished.relative_to(tmp_path))]  # fmt: skip
    import tarfile

    with tarfile.open(tmp_path / "out/checkpoints.tar.gz") as archive:  # the unfinished job's files only
        assert sorted(archive.getnames()) == ["results/study/checkpoints/v/fsdd/CRNN/LIF/seed0-e0001.weights.pt",
                                              "results/study/checkpoints/v/fsdd/CRNN/LIF/seed0.pt"]  # fmt: skip
    if not torch.cuda.is_available():
        assert re.search(r"^mps: could not start", (tmp_path / "out/device.txt").read_text(), re.M)
        assert (tmp_path / "mps-calls.txt").read_text().split() == ["-d", "quit"]
    refused = subprocess.run(["bash", "tools/device_dag.sh", "--config=seeds=[3]"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and "a separate word" in refused.stderr


def _mps_stand_ins(folder: Path, client_ok: bool) -> dict[str, str]:
    """A stand-in nvidia-cuda-mps-control that logs its calls (arguments, or the command it reads),
    and where ``client_ok`` a stand-in python3 whose client check passes; the environment with them."""
    folder.mkdir()
    control = folder / "nvidia-cuda-mps-control"
    control.write_text(f'#!/bin/sh\nif [ $# = 0 ]; then read -r c; else c="$*"; fi\necho "$c" >> {folder}/calls.txt\n')
    control.chmod(0o755)
    if client_ok:
        (folder / "python3").write_text("#!/bin/sh\nexit 0\n")
        (folder / "python3").chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}", "TMPDIR": str(folder)}


def test_with_mps_runs_the_command_under_its_own_server_and_quits_it_however_the_command_ends(tmp_path):
    """tools/with_mps.sh: the command sees the server's pipe folder, its exit status comes back,
    the daemon is quit and the temporary folder removed, also when the command is interrupted;
    where no daemon starts or none takes a client, the command runs without MPS and the first line says so."""
    import shutil

    script = str(REPO / "tools/with_mps.sh")
    env = _mps_stand_ins(tmp_path / "ok", client_ok=True)
    run = subprocess.run(["bash", script, "bash", "-c", "echo pipe=$CUDA_MPS_PIPE_DIRECTORY; exit 3"],
                         env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 3 and run.stderr.startswith("mps: on")
    pipe = run.stdout.strip().removeprefix("pipe=")
    assert pipe.startswith(str(tmp_path / "ok")) and not Path(pipe).parent.exists()
    assert (tmp_path / "ok/calls.txt").read_text().split() == ["-d", "get_server_list", "quit"]
    (tmp_path / "ok/calls.txt").unlink()
    run = subprocess.run(["timeout", "-s", "INT", "2", "bash", script, "sleep", "30"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode != 0 and (tmp_path / "ok/calls.txt").read_text().split() == ["-d", "get_server_list", "quit"]
    assert [p.name for p in (tmp_path / "ok").glob("mps.*")] == []

    refused = _mps_stand_ins(tmp_path / "refused", client_ok=False)  # here: no GPU for the client check
    run = subprocess.run(["bash", script, "bash", "-c", 'echo "pipe=${CUDA_MPS_PIPE_DIRECTORY:-}"'], env=refused,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    if not __import__("torch").cuda.is_available():
        assert run.returncode == 0 and run.stdout.strip() == "pipe=", run.stderr
        assert run.stderr.startswith("mps: could not start (the server took no client")
        assert (tmp_path / "refused/calls.txt").read_text().split() == ["-d", "quit"]
    missing = {**os.environ, "PATH": "/usr/bin:/bin"}  # no control program: a plain run
    run = subprocess.run(["bash", script, "true"], env=missing, capture_output=True, text=True, timeout=60)
    if shutil.which("nvidia-cuda-mps-control", path="/usr/bin:/bin:/usr/local/nvidia/bin") is None:
        assert run.returncode == 0 and "nvidia-cuda-mps-control not found" in run.stderr


def test_a_bad_mirror_heals_after_it_is_fixed(fsdd_tarball, tmp_path):
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(fsdd_tarball.read_bytes()[:1_000_000])  # a truncated archive
    target = "results/data/fsdd/spectrograms.npz"
    bad = snakemake("--cores", "1", target, "--config", f"data={{fsdd: {{source: download, mirror: {garbage}}}}}",
                    cwd=tmp_path, tiny=True)  # fmt: skip
    assert bad.returncode != 0 and not (tmp_path / "results/downloads/fsdd/recordings.tar.gz").exists()
    good = snakemake("--cores", "1", target, "--config", f"data={{fsdd: {{source: download, mirror: {fsdd_tarball}}}}}",
                     cwd=tmp_path, tiny=True)  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    with np.load(tmp_path / target) as data:
        assert data["x_train"].shape == (2400, 64, 64) and data["x_val"].shape == (300, 64, 64)


def planned_trainings(*args: str, cwd: Path) -> int:
    """How many training jobs a dry run of ``args`` plans (0 when nothing is to be done)."""
    plan = snakemake("-n", *args, cwd=cwd, tiny=True)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    found = re.search(r"^train\s+(\d+)$", plan.stdout + plan.stderr, re.MULTILINE)
    return int(found[1]) if found else 0


@pytest.mark.slow
def test_changed_sot_data_retrains(tmp_path):
    grid = "grid={table1: [CRNN], table3_tasks: [], fig5: false}"
    one = ("training={sot: {epochs: 1, batch_size: 4}}", grid)
    first = snakemake("--cores", "2", "training", "--config", *one, cwd=tmp_path, tiny=True)
    assert first.returncode == 0, first.stdout + first.stderr

    # a changed setting is a new settings file: Snakemake's `input` trigger reruns the finished job
    # (what docs/training.md tells a resuming user: `--rerun-triggers mtime input`); mtimes alone
    # do not see it (a missing input is not a newer one), as docs/training.md warns
    changed = ("training={sot: {epochs: 1, batch_size: 4, lr: 0.002}}", grid)
    mtime_input = ("--rerun-triggers", "mtime", "input")
    assert planned_trainings(*mtime_input, "--config", *one, "--", "training", cwd=tmp_path) == 0
    assert planned_trainings(*mtime_input, "--config", *changed, "--", "training", cwd=tmp_path) == 1
    assert planned_trainings("--config", *changed, "--", "training", cwd=tmp_path) == 1
    assert planned_trainings("--rerun-triggers", "mtime", "--config", *changed, "--", "training", cwd=tmp_path) == 0
    run = tmp_path / "results/runs/sot/CRNN/Real/seed0"
    before = {name: (run / name).read_bytes() for name in ("metrics.csv", "config.json")}
    second = snakemake("--cores", "2", "training", "--config", *one, "sot={n_train: 12}", cwd=tmp_path, tiny=True)
    assert second.returncode == 0, second.stdout + second.stderr
    log = (tmp_path / "results/logs/train/sot/CRNN/Real/seed0.log").read_text()
    assert "resuming" not in log and "starting afresh" in log
    assert (run / "metrics.csv").read_bytes() != before["metrics.csv"]
    saved = json.loads((run / "config.json").read_text())
    assert saved["data_sha256"] != json.loads(before["config.json"])["data_sha256"]


def test_one_source_for_every_default():
    """Dataclass defaults equal the schema's; config.yaml sets nothing the schema already says;
    docs/config.md is the schema's reference as generated."""
    import dataclasses

    import yaml
    from helpers import config_defaults, schema

    from glifbench.data.sot import SOTParams
    from glifbench.settings import schema_markdown
    from glifbench.units import UNIT_OPTIONS, GLIFParameters, GLIFUnit
    from glifbench.units.multibit import MultiBitParameters, MultiBitUnit

    defaults = config_defaults()
    assert set(UNIT_OPTIONS) == set(defaults["units"])
    for params, kind in ((GLIFParameters(), GLIFUnit), (MultiBitParameters(), MultiBitUnit)):
        assert {k: getattr(params, k) for k in kind.OPTIONS} == {k: defaults["units"][k] for k in kind.OPTIONS}
    assert dataclasses.asdict(SOTParams()) == defaults["sot"]["stimulus"]
    assert yaml.safe_load(MAIN_CONFIG.read_text()) == {}
    assert (REPO / "docs/config.md").read_text() == schema_markdown(schema())


def test_names_in_the_schema_are_the_registries():
    from helpers import schema

    from glifbench.names import TASKS, UNITS

    assert schema()["definitions"]["unit"]["enum"] == list(UNITS)
    assert schema()["definitions"]["task"]["enum"] == list(TASKS)


def test_the_conda_environment_pins_what_pyproject_does():
    """envs/glifbench.yaml (`--sdm conda`) lists pyproject's runtime dependencies with the same pins
    (the tools only a developer runs, pytest and snakefmt, may be left out)."""
    import yaml

    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((REPO / "envs" / "glifbench.yaml").read_text())["dependencies"]
    pip = next(item["pip"] for item in env if isinstance(item, dict))
    runtime = {d for d in declared if re.split(r"[<>=]", d)[0] not in {"pytest", "snakefmt"}}
    assert runtime - set(pip) == set(), "missing from envs/glifbench.yaml"
    assert set(pip) - set(declared) == set(), "in envs/glifbench.yaml, not in pyproject.toml"


def test_dependencies_flow_one_way():
    """rules -> commands -> training / analysis -> models -> units; data, tracking, tables apart."""
    import ast

    forbidden = {
        "analysis": {"training", "tracking"}, "tables": {"training", "analysis", "models"},
        "figures": {"training", "analysis"}, "models": {"training", "analysis", "tables", "data", "tracking"},
        "units": {"models", "training", "analysis", "tables", "data", "tracking"},
        "data": {"training", "analysis", "models", "units", "tables", "tracking"}, "tracking": {"training", "analysis"},
    }  # fmt: skip
    package = REPO / "src" / "glifbench"
    for path in package.rglob("*.py"):
        room = path.relative_to(package).parts[0] if len(path.relative_to(package).parts) > 1 else None
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])  # fmt: skip
            for name in names:
                assert not name.startswith("snakemake"), f"{path} imports snakemake"
                parts = name.split(".")
                if room and parts[0] == "glifbench" and len(parts) > 1:
                    assert parts[1] not in forbidden.get(room, set()), f"{path} imports {name}"


@pytest.mark.slow
def test_one_command_recovers_from_a_killed_snakemake(tmp_path):
    import os
    import signal
    import time

    config = ("grid={table1: [], table3_tasks: [fsdd], table3_units: [BLI], fig5: false}",
              "training={fsdd: {epochs: 6, batch_size: 4}}")  # fmt: skip
    base = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile", str(MAIN_CONFIG)]
    crash = subprocess.Popen([*base, "--cores", "1", "training", "--config", *config], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    checkpoint = tmp_path / "results/checkpoints/fsdd/CRNN/BLI/seed0.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(crash.pid, signal.SIGKILL)  # a power cut: snakemake and its jobs die at once
    crash.wait(30)
    assert checkpoint.exists() and (tmp_path / ".snakemake/locks").exists()
    # README, "Recover a crashed run": one command line
    recover = subprocess.run(
        f"{' '.join(base)} --unlock && {' '.join(base)} --profile {REPO / 'profiles/local'} training "
        f"--config '{config[0]}' '{config[1]}'",
        shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert recover.returncode == 0, recover.stdout + recover.stderr
    log = (tmp_path / "results/logs/train/fsdd/CRNN/BLI/seed0.log").read_text()
    assert "resuming after epoch" in log
    assert len((tmp_path / "results/runs/fsdd/CRNN/BLI/seed0/metrics.csv").read_text().splitlines()) == 7


@pytest.mark.slow
def test_a_corrupt_shard_is_removed_and_rebuilt(tmp_path):
    target = "results/data/sot/train.json"
    assert snakemake("--cores", "2", target, cwd=tmp_path, tiny=True).returncode == 0
    shard = tmp_path / "results/data/sot/train/shard00001.npz"
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 2])  # damaged on disk: newer than the index, so it is re-read
    broken = snakemake("--cores", "2", target, cwd=tmp_path, tiny=True)
    assert broken.returncode != 0 and not shard.exists()
    assert "removed" in (tmp_path / "results/logs/sot_index_train.log").read_text()
    healed = snakemake("--cores", "2", target, cwd=tmp_path, tiny=True)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert shard.read_bytes() == good  # rebuilt, byte for byte (seeded)


def test_a_tasks_own_units_and_model_keys_reach_its_jobs_only(tmp_path):
    """`units.<task>` / `model.<task>` change that task's jobs alone, stay as written (a global key
    the user set is not reset to its default for the task), and a study variant's keys win, over
    the study's common keys too, a task's among them."""
    config = ["--config", "units={dt_tau_u: 0.3, sot: {dt_tau_v: 0.5}}", "model={sot: {calibrate_activity: 0.05}}",
              "study={tasks: [sot, fsdd], units: [LIF], common: {units: {sot: {dt_tau_v: 0.45}, fsdd: {slope: 3}}}, "
              "variants: {v: {units: {dt_tau_v: 0.4, fsdd: {slope: 2}}}}}"]  # fmt: skip
    written = snakemake("--cores", "1", *config, "--", "settings", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    seen = {}
    for path in (tmp_path / "results" / "settings").glob("*.json"):
        match = re.fullmatch(r"(train|study-v)-(sot|mnist|fsdd)-\w+\.json", path.name)
        if match:
            settings = json.loads(path.read_text())
            seen[match[1], match[2]] = (settings["units"], settings["model"]["calibrate_activity"])
    assert {key: (u["dt_tau_v"], u["dt_tau_u"], u["slope"], c) for key, (u, c) in seen.items()} == {
        ("train", "sot"): (0.5, 0.3, 5.0, 0.05),
        ("train", "mnist"): (0.2, 0.3, 5.0, 0.15),
        ("train", "fsdd"): (0.2, 0.3, 5.0, 0.15),
        ("study-v", "sot"): (0.4, 0.3, 5.0, 0.05),
        ("study-v", "fsdd"): (0.4, 0.3, 2.0, 0.15),
    }
    assert not {"sot", "mnist", "fsdd"} & {key for units, _ in seen.values() for key in units}


@pytest.mark.parametrize("scale", ["demo", "workstation", "gpu", "paper"])
def test_every_preset_gives_sot_the_settings_its_study_chose(tmp_path, scale):
    """The SOT study (docs/study.md, (14)) chose three settings together, for SOT alone: its binary
    layers calibrated to 5 % active, dt/tau_v 0.5, each trial standardised by its first frame.
    Every preset's SOT jobs carry them; MNIST's and FSDD's keep the section's values."""
    written = snakemake("--cores", "1", "--config", f"scale={scale}", "--", "settings", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    seen = {}
    for path in (tmp_path / "results" / "settings").glob("train-*.json"):
        task = re.fullmatch(r"train-(sot|mnist|fsdd)-\w+\.json", path.name)[1]
        settings = json.loads(path.read_text())
        seen[task] = (settings["units"]["dt_tau_v"], settings["model"]["calibrate_activity"],
                      settings["training"]["input_norm"])  # fmt: skip
    assert seen == {"sot": (0.5, 0.05, "first_frame"), "mnist": (0.2, 0.15, "global"), "fsdd": (0.2, 0.15, "global")}


def test_settings_reach_commands_as_files_named_by_their_content(tmp_path):
    """Printed commands stay short, and a changed setting is a new file: a job never reads settings
    older than its config, even where Snakemake is told to look at mtimes only (whether a finished
    job reruns: test_changed_sot_data_retrains)."""
    plan = snakemake("-n", "-p", cwd=tmp_path)
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0, out
    commands = re.findall(r"Shell command: (.*)", out)
    assert len(commands) > 30 and max(len(c) for c in commands) < 600
    assert all(len(arg) < 120 for c in commands for arg in re.findall(r"'(\{.*?\})'", c))

    target = "results/runs/fsdd/CRNN/BLI/seed0/metrics.csv"
    files = {}
    for lr in (0.002, 0.0005):
        config = ["--config", f"training={{fsdd: {{lr: {lr}}}}}"]
        assert snakemake("--cores", "1", *config, "--", "settings", cwd=tmp_path).returncode == 0
        job = snakemake("-n", "-p", "--rerun-triggers", "mtime", *config, "--", target, cwd=tmp_path)
        files[lr] = re.search(r"glifbench train .*--config (\S+)", job.stdout + job.stderr)[1]
        assert json.loads((tmp_path / files[lr]).read_text())["training"]["lr"] == lr
    assert files[0.002] != files[0.0005]


def test_json_arguments_are_inline_or_files(tmp_path):
    import argparse

    from glifbench.cli import _json

    path = tmp_path / "s.json"
    path.write_text('{"lr": 0.001}')
    assert _json(str(path)) == _json('{"lr": 0.001}') == {"lr": 0.001}
    with pytest.raises(argparse.ArgumentTypeError, match="neither JSON .* nor a file: '.*missing.json'"):
        _json(str(tmp_path / "missing.json"))
    path.write_text("[1, 2]")
    with pytest.raises(argparse.ArgumentTypeError, match="must be a JSON object"):
        _json(str(path))
    path.write_text("{lr: 1}")
    with pytest.raises(argparse.ArgumentTypeError, match="s.json: not valid JSON"):
        _json(str(path))
    with pytest.raises(argparse.ArgumentTypeError, match="must be a JSON object"):
        _json("[1]")


@pytest.mark.parametrize(("target", "trained"), [
    ("fig7", {(t, "CRNN", u) for t in ("mnist", "fsdd", "sot") for u in ("LIF", "BLI")}),
    ("table1", {("sot", a, "Real") for a in ("CNN", "DCNN", "CNN-RNN", "CRNN", "CRNN-Shallow", "CNN-CRNN", "CRNN-CNN")}),
    ("fig5", {("sot", "CNN", "BA"), ("sot", "CRNN", "BA"), ("sot", "CRNN", "LIF")}),
])  # fmt: skip
def test_each_figure_is_a_target_that_trains_only_the_runs_it_shows(tmp_path, target, trained):
    result = snakemake("-n", "-p", target, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    jobs = re.findall(r"glifbench train --task (\S+) --arch (\S+) --unit (\S+) --seed 0", out)
    assert set(jobs) == trained and len(jobs) == len(trained)
