"""Command-line entry points called by the Snakemake rules: ``python -m glifbench <command>``.

Each command is a thin wrapper: it parses arguments (structured settings arrive as one JSON
object, exactly the config section the rule passes through ``params:``), calls the package,
and turns a :class:`~glifbench.data.fetch.DataError` into a one-line error and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from glifbench.errors import CorruptFile, DataError, TrainingError
from glifbench.layout import TABLE_PARTS, WEIGHT_PARTS

log = logging.getLogger("glifbench")
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], None], Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register ``func`` as sub-command ``name`` whose arguments ``arguments`` declares."""

    def register(func: Callable[[argparse.Namespace], None]):
        COMMANDS[name] = (func, arguments)
        return func

    return register


def _json(text: str) -> dict:
    """A JSON object, written inline (``'{"lr": 0.001}'``) or as the path of a JSON file (the
    workflow's settings files); argparse names the option in its error message."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        path = Path(text)
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"neither JSON ({err}) nor a file: {text[:200]!r}") from err
        try:
            value = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise argparse.ArgumentTypeError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text[:60]!r}")
    return value


def _count_or_null(text: str) -> int | None:
    """A positive integer, or ``null``/``none`` for "no limit"."""
    if text.lower() in ("null", "none"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or null, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or null, got {text!r}")
    return value


def _remove_if_corrupt_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remove-if-corrupt", action="store_true",
                   help="delete an input file that proves corrupt, so that the workflow rebuilds it on the next run "
                        "(the rules pass it for files the workflow made; never give it for your own files)")  # fmt: skip


# --- fetch -------------------------------------------------------------------------------------
def _fetch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True)
    p.add_argument("--dest", required=True, type=Path)
    p.add_argument("--checksum", default=None, help="expected digest; omit to skip")
    p.add_argument("--algorithm", default="md5")
    p.add_argument("--mirror", default=None, help="local file or folder used instead of the URL")
    p.add_argument("--verify", choices=sorted(VERIFIERS), help="content check before the file is final")


def _verify_fsdd(path: Path) -> None:
    from glifbench.data.fsdd import read_recordings

    read_recordings(path, expect_complete=True)


VERIFIERS = {"fsdd-recordings": _verify_fsdd}  # every one of the 3,000 recordings against the manifest


@command("fetch", _fetch_args)
def fetch_command(args: argparse.Namespace) -> None:
    from glifbench.data.fetch import fetch

    mirror = args.mirror or None
    verify = VERIFIERS[args.verify] if args.verify else None
    fetch(args.url, args.dest, args.checksum or None, args.algorithm, mirror, verify=verify)
    log.info("fetched %s -> %s", mirror or args.url, args.dest)


# --- backgrounds -------------------------------------------------------------------------------
def _background_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=["builtin", "dior"], required=True)
    p.add_argument("--zip", type=Path, help="DIOR Images_trainval.zip (source dior)")
    p.add_argument("--train-out", type=Path, required=True)
    p.add_argument("--val-out", type=Path, required=True)
    p.add_argument("--params", type=_json, default={})


@command("backgrounds", _background_args)
def backgrounds_command(args: argparse.Namespace) -> None:
    from glifbench.data import backgrounds

    if args.source == "builtin":
        names = args.params["builtin_backgrounds"]
        backgrounds.build_builtin(args.train_out, args.val_out, names["train"], names["val"])
    else:
        if args.zip is None:
            raise DataError("--zip is required for source dior")
        dior = args.params["dior"]
        backgrounds.build_dior(
            args.zip, args.train_out, args.val_out, dior["val_fraction"], dior["split_seed"], dior["n_images"]
        )
    log.info("wrote %s and %s", args.train_out, args.val_out)


# --- SOT ---------------------------------------------------------------------------------------
def _shard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backgrounds", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--split", choices=["train", "val"], required=True)
    p.add_argument("--shard", type=int, required=True)
    p.add_argument("--n-trials", type=int, required=True)
    p.add_argument("--seed", type=int, required=True, help="base seed of the dataset")
    p.add_argument("--params", type=_json, default={}, help="stimulus parameters (JSON)")


@command("sot-shard", _shard_args)
def sot_shard_command(args: argparse.Namespace) -> None:
    from glifbench.data.backgrounds import load_stack
    from glifbench.data.sot_store import shard_seed, write_shard

    seed = shard_seed(args.seed, args.split, args.shard)
    write_shard(args.out, load_stack(args.backgrounds), args.n_trials, seed, args.params)
    log.info("wrote %d trials to %s (seed %d)", args.n_trials, args.out, seed)


def _index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--split", choices=["train", "val"], required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("shards", nargs="+", type=Path)
    _remove_if_corrupt_arg(p)


@command("sot-index", _index_args)
def sot_index_command(args: argparse.Namespace) -> None:
    from glifbench.data.sot_store import write_index

    index = write_index(args.out, args.shards, args.split)
    log.info("%s: %d trials in %d shards", args.split, index["n_trials"], len(index["shards"]))


def _figure_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backgrounds", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params", type=_json, default={})


@command("sot-figure", _figure_args)
def sot_figure_command(args: argparse.Namespace) -> None:
    from glifbench.data.backgrounds import load_stack
    from glifbench.figures.sot_example import plot_sot_example

    plot_sot_example(load_stack(args.backgrounds), args.out, args.seed, args.params)
    log.info("wrote %s", args.out)


# --- FSDD and MNIST ----------------------------------------------------------------------------
def _fsdd_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--archive", default="builtin", help="recordings .tar.gz, or 'builtin'")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--params", type=_json, default={}, help="spectrogram recipe (JSON)")
    _remove_if_corrupt_arg(p)


@command("fsdd", _fsdd_args)
def fsdd_command(args: argparse.Namespace) -> None:
    from glifbench.data import fsdd

    builtin = args.archive == "builtin"
    args.remove_if_corrupt &= not builtin  # never the package's own file
    archive = fsdd.builtin_archive() if builtin else Path(args.archive)
    sizes = fsdd.build_spectrograms(archive, args.out, expect_complete=not builtin, **args.params)
    log.info("FSDD spectrograms from %s: %s", archive, sizes)


def _mnist_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=["builtin", "download", "testset"], required=True)
    p.add_argument("--folder", type=Path, help="folder with the IDX .gz files (download, testset)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--params", type=_json, default={}, help="the data.mnist config section (JSON)")
    _remove_if_corrupt_arg(p)


@command("mnist", _mnist_args)
def mnist_command(args: argparse.Namespace) -> None:
    from glifbench.data import mnist

    params = args.params
    if args.source == "builtin":
        sizes = mnist.build_standin(args.out, params["standin_val_fraction"], params["standin_test_fraction"],
                                    params["standin_seed"])  # fmt: skip
    elif args.folder is None:
        raise DataError(f"--folder is required for source {args.source}")
    elif args.source == "download":
        sizes = mnist.build_from_idx(args.folder, args.out, params["val_size"])
    else:
        split = params["testset_split"]
        sizes = mnist.build_from_testset(args.folder, args.out, split, split["seed"])
    log.info("MNIST (%s): %s", args.source, sizes)


# --- training and tracking ---------------------------------------------------------------------
def _experiment_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="MLflow experiment name")
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder (mlflow.db, mlruns/)")
    p.add_argument("--out", type=Path, required=True, help="JSON file recording the tracking URI and experiment id")
    p.add_argument("--system-metrics-seconds", type=float, default=None,
                   help="jobs log CPU/memory/GPU use to MLflow this often (omit: off)")  # fmt: skip


@command("mlflow-init", _experiment_args)
def mlflow_init_command(args: argparse.Namespace) -> None:
    """Create the MLflow database and experiment once, before any training job."""
    from glifbench.io import save_json
    from glifbench.tracking.mlflow_runs import create_experiment, tracking_uri

    uri = tracking_uri(args.results)
    artifacts = None if "MLFLOW_TRACKING_URI" in os.environ else args.results / "mlruns"
    experiment_id = create_experiment(uri, args.name, artifacts)
    save_json(args.out, {"tracking_uri": uri, "experiment_id": experiment_id, "experiment": args.name,
                         "system_metrics_seconds": args.system_metrics_seconds})  # fmt: skip
    log.info("MLflow experiment %s (%s) at %s", args.name, experiment_id, uri)


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True)
    p.add_argument("--arch", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--seed", type=int, nargs="+", required=True,
                   help="one seed, or several trained as one pack (the paths then contain {seed})")
    p.add_argument("--out-dir", required=True, help="the run's folder ({seed} in it: each seed's)")
    p.add_argument("--checkpoint", required=True, help="the checkpoint file ({seed} in it: each seed's)")
    p.add_argument("--data", type=_json, required=True, help="data files (JSON)")
    p.add_argument("--config", type=_json, required=True, help="training, model and units settings (JSON or a JSON file)")
    p.add_argument("--experiment", type=Path, help="mlflow-init's JSON; omit to train without MLflow")
    p.add_argument("--tags", type=_json, default={}, help="extra MLflow tags (JSON)")
    p.add_argument("--no-test", action="store_true", help="skip the final test-split evaluation (study jobs)")
    p.add_argument("--variant", default=None, help="the study variant this job belongs to (study jobs)")
    _remove_if_corrupt_arg(p)


def _per_seed(template: str, seed: int, several: bool, option: str) -> Path:
    """``template`` for one seed; several seeds need ``{seed}`` in it (else they would share files)."""
    if several and "{seed}" not in template:
        raise ValueError(f"{option} {template!r}: several seeds need {{seed}} in the path")
    return Path(template.replace("{seed}", str(seed)))


@command("train", _train_args)
def train_command(args: argparse.Namespace) -> None:
    """Train one (task, architecture, unit, seed) job, or several seeds as one pack, resuming from checkpoints."""
    from glifbench.training.job import run_tracked_jobs
    from glifbench.training.trainer import JobSpec

    several = len(args.seed) > 1
    specs = [JobSpec(args.task, args.arch, args.unit, seed, _per_seed(args.out_dir, seed, several, "--out-dir"),
                     _per_seed(args.checkpoint, seed, several, "--checkpoint"), args.data, args.config,
                     evaluate_test=not args.no_test, variant=args.variant)
             for seed in args.seed]  # fmt: skip
    results = run_tracked_jobs(specs, args.experiment, {k: str(v) for k, v in args.tags.items()})
    for spec, result in zip(specs, results):
        last = result["history"][-1] if result["history"] else {}
        log.info("%s finished: %s", spec.name, {k: v for k, v in last.items() if not k.startswith("activity")})


# --- analysis ----------------------------------------------------------------------------------
def _analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=Path, default=Path("results/runs"))
    p.add_argument("--out", type=Path, required=True, help="folder for the tables")
    p.add_argument("--figures", type=Path, required=True, help="folder for the figures")
    p.add_argument("--grid", type=_json, required=True)
    p.add_argument("--seeds", type=_json, required=True, help="JSON object {\"seeds\": [...]}")
    p.add_argument("--meta", type=_json, required=True, help="scale, seeds, epochs for captions")


def _parts_args(parts: tuple[str, ...]) -> Callable[[argparse.ArgumentParser], None]:
    def arguments(p: argparse.ArgumentParser) -> None:
        _analysis_args(p)
        p.add_argument("--part", nargs="+", choices=parts, default=list(parts), help="what to build (default: all)")

    return arguments


def _tables_args(p: argparse.ArgumentParser) -> None:
    _parts_args(TABLE_PARTS)(p)
    p.add_argument("--partial", action="store_true",
                   help="from the runs finished so far (a grid run in parts; each cell says its n, titles how many)")


@command("tables", _tables_args)
def tables_command(args: argparse.Namespace) -> None:
    """Tables I and III and the learning curves (Figs. 3, 5) from the runs' metrics."""
    from glifbench.analysis.summary import make_tables

    make_tables(args.runs, args.out, args.figures, args.grid, args.seeds["seeds"], args.meta, args.part, args.partial)


def _cost_args(p: argparse.ArgumentParser) -> None:
    _analysis_args(p)
    p.add_argument("--max-trials", type=_count_or_null, default=None, help="validation trials per run (null = all)")


@command("cost", _cost_args)
def cost_command(args: argparse.Namespace) -> None:
    """Cost per unit type: synaptic operations, sparsity, state and parameters of the Table III runs."""
    from glifbench.analysis.cost import cost_report

    cost_report(args.runs, args.out, args.figures / "cost.png", args.grid["table3_tasks"], args.grid["table3_units"],
                args.seeds["seeds"], args.max_trials)  # fmt: skip


@command("weights", _parts_args(WEIGHT_PARTS))
def weights_command(args: argparse.Namespace) -> None:
    """Autapse statistics, recurrent amplitudes, activity and Fig. 7 from the trained models."""
    from glifbench.analysis.summary import weight_report

    weight_report(args.runs, args.out, args.figures, args.grid["table3_tasks"], args.grid["table3_units"],
                  args.seeds["seeds"], args.meta, args.part)  # fmt: skip


def _study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=Path, default=Path("results/study/runs"))
    p.add_argument("--grid-runs", type=Path, default=Path("results/runs"),
                   help="the main grid's runs, for the cells whose jobs are the grid's (the study file's repeats)")
    p.add_argument("--out", type=Path, required=True, help="folder for the study's tables and figure")
    p.add_argument("--study", type=_json, required=True, help="the study config section (JSON)")
    p.add_argument("--meta", type=_json, default={}, help="scale, seeds, epochs for captions")
    p.add_argument("--partial", action="store_true",
                   help="summarise the runs finished so far (a study run in parts; titles say how many)")


@command("study", _study_args)
def study_command(args: argparse.Namespace) -> None:
    """The study's summary, claims per variant and figure, from validation metrics only."""
    from glifbench.analysis.study import study_report

    study_report(args.runs, args.out, args.study, args.meta, args.partial, args.grid_runs)


def _config_docs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schema", type=Path, default=Path("workflow/schemas/config.schema.yaml"))
    p.add_argument("--out", type=Path, default=Path("docs/config.md"))


@command("config-docs", _config_docs_args)
def config_docs_command(args: argparse.Namespace) -> None:
    """Write the configuration reference (docs/config.md) from the schema."""
    import yaml

    from glifbench.io import atomic_path
    from glifbench.settings import schema_markdown

    with atomic_path(args.out) as tmp:
        tmp.write_text(schema_markdown(yaml.safe_load(args.schema.read_text())))
    log.info("wrote %s", args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glifbench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, arguments) in COMMANDS.items():
        p = sub.add_parser(name, help=(func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else None)
        arguments(p)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CorruptFile as err:
        if getattr(args, "remove_if_corrupt", False) and Path(err.path).is_file():
            Path(err.path).unlink()
            err = CorruptFile(err.path, f"{err}; removed {err.path}: the next run rebuilds it")
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (DataError, TrainingError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyError as err:  # settings arrive complete from the workflow; the schema holds every default
        print(f"error: missing setting {err} (pass the complete config section, as the workflow's rules do; "
              "defaults: workflow/schemas/config.schema.yaml, docs/config.md)", file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
