"""Analysis: statistics detect planted differences, tables are exact, missing runs are named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from glifbench.analysis.runs import final_epochs, load_metrics, load_tests
from glifbench.analysis.weights import compare, mean_squared, weight_sets
from glifbench.errors import DataError
from glifbench.figures.curves import plot_curves
from glifbench.figures.kernels import plot_kernels, tile
from glifbench.models.weights import LayerWeights, autapses
from glifbench.tables.build import table1, table3, write_table


def _layer(rng, autapse_sign, c=8):
    rec = torch.from_numpy(rng.normal(0, 0.2, (c, c, 3, 3)).astype(np.float32))
    for k in range(c):
        rec[k, k, 1, 1] = autapse_sign * (0.3 + abs(float(rng.normal(0, 0.05))))
    ff = torch.from_numpy(rng.normal(0, 0.2, (c, 4, 3, 3)).astype(np.float32))
    return LayerWeights("body.1", ff, rec, autapses(rec))


def test_planted_autapse_difference_is_detected_and_equal_sets_are_not():
    rng = np.random.default_rng(0)
    lif = weight_sets([_layer(rng, +1) for _ in range(5)])
    bli = weight_sets([_layer(rng, -1) for _ in range(5)])
    result = compare(lif, bli, ("LIF", "BLI")).set_index("set")
    assert result.loc["autapses", "significant"] and result.loc["autapses", "p_value"] < 1e-6
    assert result.loc["autapses", "positive_LIF"] == 1.0 and result.loc["autapses", "positive_BLI"] == 0.0
    assert not result.loc["feedforward", "significant"] and not result.loc["recurrent", "significant"]
    assert result.loc["autapses", "n_LIF"] == 40 and result.loc["recurrent", "n_LIF"] == 5 * (8 * 8 * 9 - 8)
    from glifbench.analysis.summary import reading

    rows = compare(lif, bli, ("LIF", "BLI")).to_dict("records")
    assert reading(rows[2]).startswith("the paper's sign split (LIF autapses all positive, BLI all negative) holds")
    assert "not significantly different, as in the paper" in reading(rows[0])
    swapped = compare(bli, lif, ("LIF", "BLI")).to_dict("records")
    assert "does not hold: 0% of LIF and 100% of BLI" in reading(swapped[2])


def test_recurrent_set_excludes_autapses():
    rng = np.random.default_rng(1)
    layer = _layer(rng, +1, c=3)
    sets = weight_sets([layer])
    assert len(sets["recurrent"]) == 3 * 3 * 9 - 3
    assert not np.isin(sets["autapses"], sets["recurrent"]).any()


def test_mean_squared():
    assert mean_squared(np.array([1.0, -3.0])) == pytest.approx(5.0)


def test_recurrent_amplitude_pools_every_recurrent_element_of_every_layer():
    from glifbench.analysis.weights import recurrent_amplitude
    from glifbench.models.weights import LayerWeights

    small = LayerWeights("a", torch.zeros(1, 1, 3), torch.full((1, 1, 3), 2.0), torch.tensor([2.0]))  # autapse included
    large = LayerWeights("b", torch.ones(2, 1, 3), torch.full((2, 2, 3), -1.0), torch.tensor([-1.0, -1.0]))
    assert recurrent_amplitude([small]) == pytest.approx(4.0)
    assert recurrent_amplitude([small, large]) == pytest.approx((3 * 4.0 + 12 * 1.0) / 15)  # pooled, not a mean of layers


def _write_run(root: Path, task, arch, unit, seed, rows):
    d = root / task / arch / unit / f"seed{seed}"
    d.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(d / "metrics.csv", index=False)
    (d / "config.json").write_text(json.dumps({"task": task, "arch": arch, "unit": unit, "seed": seed}))
    return d


def _write_test(run: Path, split, loss, accuracy=None):
    test = {"split": split, "epoch": 2, "loss": loss} | ({} if accuracy is None else {"accuracy": accuracy})
    (run / "test.json").write_text(json.dumps(test))


def test_tables_mean_sd_n_exact(tmp_path):
    dirs = []
    for seed, (lif, ba) in enumerate([(0.02, 0.10), (0.04, 0.12), (0.06, 0.14)]):
        for unit, mse, acc in (("LIF", lif, 0.9), ("BA", ba, 0.5)):
            run = _write_run(tmp_path, "sot", "CRNN", unit, seed,
                             [{"epoch": 1, "train_loss": 1, "val_loss": 1.0}, {"epoch": 2, "train_loss": mse, "val_loss": mse}])  # fmt: skip
            _write_test(run, "val", mse)
            dirs.append(run)
            run = _write_run(tmp_path, "fsdd", "CRNN", unit, seed,
                             [{"epoch": 1, "train_loss": 1, "val_loss": 1, "val_accuracy": 0.1}])  # fmt: skip
            _write_test(run, "test", 1.0, acc - 0.1 * seed)  # the table reads the test split, not val
            dirs.append(run)
    final = final_epochs(load_metrics(dirs))
    assert set(final.epoch[final.task == "sot"]) == {2}
    t3 = table3(load_tests(dirs), ["LIF", "BA"]).set_index("Unit type")
    assert t3.loc["LIF", "SOT (MSE) (ours)"] == "0.0400 ± 0.0200 (n=3)"
    assert t3.loc["BA", "FSDD (ours)"] == "40.0 ± 10.0 (n=3)"
    assert t3.loc["LIF", "SOT (MSE) (paper)"] == 0.017 and t3.loc["Real (CNN-RNN)", "MNIST (ours)"] == "-"
    # LIF beats BA by 0.08 MSE (2 SE = 0.033) and 50 points (2 SE = 16): holds with 3 seeds
    assert t3.loc["LIF", "Holds here"] == "yes" and t3.loc["BA", "Holds here"] == "yes"
    t1 = table1(final, ["CNN", "CRNN"]).set_index("Network")
    assert t1.loc["CNN", "Validation loss (ours)"] == "-" and t1.loc["CRNN", "Holds here"] == "n/a"
    paths = write_table(t3.reset_index(), tmp_path / "out" / "table3", "Table III (demo)")
    assert [p.suffix for p in paths] == [".csv", ".md", ".html"]
    assert "<table" in paths[2].read_text() and paths[1].read_text().startswith("# Table III (demo)")


def _tests(rows):
    return pd.DataFrame([{"task": t, "arch": "CRNN", "unit": u, "seed": s, "split": "test", "loss": m, "accuracy": m}
                         for t, u, values in rows for s, m in enumerate(values)])  # fmt: skip


def test_claims_use_the_seeds():
    one_seed = table3(_tests([("sot", "LIF", [0.2]), ("sot", "BA", [0.1])]), ["LIF", "BA"]).set_index("Unit type")
    assert one_seed.loc["LIF", "Holds here"] == "1 seed: not tested"
    fails = table3(_tests([("sot", "LIF", [0.20, 0.21, 0.22]), ("sot", "BA", [0.10, 0.11, 0.12])]), ["LIF", "BA"])
    assert fails.set_index("Unit type").loc["LIF", "Holds here"] == "no"
    close = table3(_tests([("sot", "LIF", [0.10, 0.20, 0.15]), ("sot", "BA", [0.12, 0.22, 0.17])]), ["LIF", "BA"])
    assert close.set_index("Unit type").loc["LIF", "Holds here"] == "not resolved"  # 0.02 apart, 2 SE = 0.08


def test_verdict_rules():
    from glifbench.tables.claims import all_of, beats, learns
    from glifbench.tasks import task

    fsdd = task("fsdd")
    a, b = {"mean": 95.0, "sd": 1.0, "n": 3}, {"mean": 40.0, "sd": 5.0, "n": 3}
    assert beats(fsdd, a, b) == "yes" and beats(fsdd, b, a) == "no" and beats(fsdd, a, None) == "n/a"
    assert learns(fsdd, a) == "yes" and learns(fsdd, b) == "no"
    assert learns(fsdd, {"mean": 91.0, "sd": 2.0, "n": 3}) == "not resolved"  # 91 - 2 x 1.15 < 90
    assert learns(task("sot"), {"mean": 0.02, "sd": 0.001, "n": 3}) == "yes"  # lower is better
    assert all_of(["yes", "n/a", "yes"]) == "yes" and all_of(["yes", "not resolved", "no"]) == "no"
    assert all_of(["n/a"]) == "n/a"


def test_missing_runs_are_named(tmp_path):
    present = _write_run(tmp_path, "sot", "CRNN", "LIF", 0, [{"epoch": 1, "val_loss": 0.1}])
    with pytest.raises(DataError, match=r"2 run file\(s\) missing.*sot/CRNN/BLI/seed0/metrics.csv"):
        load_metrics([present, tmp_path / "sot" / "CRNN" / "BLI" / "seed0"])


def test_figures_build_headless(tmp_path):
    metrics = pd.DataFrame({"task": "sot", "arch": "CRNN", "unit": "Real", "seed": [0, 0, 1, 1],
                            "epoch": [1, 2, 1, 2], "train_loss": [0.08, 0.02, 0.08, 0.03],
                            "val_loss": [0.08, 0.03, 0.08, 0.04]})  # fmt: skip
    png = plot_curves(metrics, [("CRNN", "sot", "CRNN", "Real")], tmp_path / "curves.png", "test")
    assert png.read_bytes()[:4] == b"\x89PNG"
    rng = np.random.default_rng(2)
    png = plot_kernels({"LIF": _layer(rng, 1), "BLI": _layer(rng, -1)}, tmp_path / "k.png", "test")
    assert png.stat().st_size > 1000
    image = tile(np.arange(2 * 2 * 9, dtype=float).reshape(2, 2, 3, 3))
    assert image.shape == (7, 7) and np.isnan(image[3]).all() and image[4, 4] == 27
    from glifbench.figures.kernels import autapse_pixels

    kernel = np.arange(3 * 3 * 9, dtype=float).reshape(3, 3, 3, 3)
    assert [tile(kernel)[p] for p in autapse_pixels(kernel)] == [kernel[c, c, 1, 1] for c in range(3)]
    kernel1d = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    assert [tile(kernel1d)[p] for p in autapse_pixels(kernel1d)] == [kernel1d[c, c, 1] for c in range(2)]
    from glifbench.figures.tables import plot_table1, plot_table3

    assert plot_table1(final_epochs(metrics), ["CRNN", "CNN"], tmp_path / "t1.png", "test").stat().st_size > 1000
    tests = pd.DataFrame({"task": ["fsdd"] * 3 + ["sot"], "arch": ["CRNN", "CRNN", "CNN-RNN", "CRNN"],
                          "unit": ["LIF", "LIF", "Real", "LIF"], "seed": [0, 1, 0, 0],
                          "accuracy": [0.9, 0.92, 0.8, None], "loss": [0.3, 0.2, 0.5, 0.02]})  # fmt: skip
    assert plot_table3(tests, ["LIF", "BA"], tmp_path / "t3.png", "test").stat().st_size > 1000
    from glifbench.figures.analysis import plot_activity, plot_amplitude, plot_autapses

    wilcoxon = pd.DataFrame({"task": ["fsdd"], "set": ["autapses"], "p_value": [0.01], "n_LIF": [24], "n_BLI": [24]})
    autapse_values = {"fsdd": {"LIF": rng.normal(0.3, 0.1, 24), "BLI": rng.normal(-0.3, 0.1, 24)}}
    assert plot_autapses(autapse_values, wilcoxon, tmp_path / "a.png", "test").stat().st_size > 1000
    layers = pd.DataFrame({"task": "fsdd", "unit": ["LIF", "LIF", "BLI", "BLI"], "layer": ["body.0", "body.1"] * 2,
                           "active": [0.1, 0.12, 0.2, 0.22]})  # fmt: skip
    assert plot_activity(layers, {"LIF": 0.107}, tmp_path / "act.png", "test").stat().st_size > 1000
    amplitude = pd.DataFrame({"task": "mnist", "unit": ["BLI", "BA"], "recurrent mean-squared amplitude": [0.5, 0.03],
                              "paper": [0.78, 0.04]})  # fmt: skip
    assert plot_amplitude(amplitude, tmp_path / "amp.png", "test").stat().st_size > 1000
    from glifbench.analysis.summary import step_activity
    from glifbench.figures.analysis import plot_activity_time

    records = [{"task": "sot", "unit": "LIF", "seed": s, "per_step": {"body.0": [0.0, 0.2, 0.1], "body.1": [0.2, 0.4, 0.1]}}
               for s in (0, 1)]  # fmt: skip
    steps = step_activity(records)
    assert steps[steps.seed == 0]["active"].tolist() == pytest.approx([0.1, 0.3, 0.1])  # mean over layers
    assert plot_activity_time(steps, {"LIF": 0.107}, tmp_path / "time.png", "test").stat().st_size > 1000


def test_a_long_title_is_wrapped_to_the_figures_width(tmp_path):
    import matplotlib.pyplot as plt

    from glifbench.figures.save import save_figure

    long = "Table I -- scale: workstation, seeds: [0, 1, 2], epochs: sot 4; PARTIAL: 14 of the 21 planned runs"
    fig, ax = plt.subplots(figsize=(4, 3), constrained_layout=True)
    ax.set_title(long, fontsize=10)
    fig.suptitle("short", fontsize=10)
    save_figure(fig, tmp_path / "f.png")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    assert ax.title.get_text().replace("\n", " ") == long and "\n" in ax.title.get_text()
    assert ax.title.get_window_extent(renderer).width <= fig.bbox.width
    assert fig._suptitle.get_text() == "short"  # a title that fits is left alone


def test_study_summary_and_claims_from_validation_only(tmp_path):
    from glifbench.analysis.study import study_report
    from glifbench.layout import study_run_dir

    study = {"tasks": ["fsdd"], "units": ["LIF", "BI", "BA"], "seeds": [0, 1, 2],
             "variants": {"good": {}, "one": {"seeds": [0]}}}  # fmt: skip
    accuracy = {"LIF": [0.95, 0.96, 0.97], "BI": [0.93, 0.94, 0.95], "BA": [0.30, 0.35, 0.40]}
    for variant, seeds in (("good", [0, 1, 2]), ("one", [0])):
        for unit, values in accuracy.items():
            for seed in seeds:
                run = Path(study_run_dir(variant, "fsdd", unit, seed, str(tmp_path / "runs")))
                run.mkdir(parents=True)
                pd.DataFrame([{"epoch": 1, "val_loss": 1, "val_accuracy": values[seed]}]).to_csv(run / "metrics.csv", index=False)
                (run / "config.json").write_text(json.dumps({"task": "fsdd", "arch": "CRNN", "unit": unit, "seed": seed}))
                (run / "test.json").write_text("not read")  # study analysis never opens test results
    study_report(tmp_path / "runs", tmp_path / "out", study, {})
    summary = pd.read_csv(tmp_path / "out/summary.csv").set_index(["variant", "unit"])
    assert summary.loc[("good", "LIF"), "mean"] == pytest.approx(96.0) and summary.loc[("one", "BA"), "n"] == 1
    claims = pd.read_csv(tmp_path / "out/claims.csv").set_index("variant")
    assert claims.loc["good", "integrators learn"] == "yes"
    assert claims.loc["good", "HBA, BA fail (every integrator beats them)"] == "yes"
    assert claims.loc["good", "gap (worst integrator - best of HBA/BA)"] == pytest.approx(94.0 - 35.0)
    assert claims.loc["good", "pairs ahead (integrator, HBA/BA)"] == "2/2"
    assert claims.loc["one", "integrators learn"] == "1 seed: not tested"
    wide = pd.read_csv(tmp_path / "out/summary_wide.csv").set_index("variant")
    assert wide.loc["good", "LIF"] == "96.0 ± 1.0 (3)" and wide.loc["one", "BA"] == "30.0 ± 0.0 (1)"
    assert (tmp_path / "out/study.png").read_bytes()[:4] == b"\x89PNG"

    # a study run in parts: without --partial a missing run is an error; with it, the finished
    # runs are summarised, the missing cell is "-", the claim lacking a unit is "incomplete"
    import shutil

    from glifbench.errors import DataError

    shutil.rmtree(study_run_dir("one", "fsdd", "BA", 0, str(tmp_path / "runs")))
    study = {**study, "variants": {**study["variants"], "later": {"seeds": [0]}}}  # none of its runs yet
    with pytest.raises(DataError, match="missing"):
        study_report(tmp_path / "runs", tmp_path / "out2", study, {})
    study_report(tmp_path / "runs", tmp_path / "out2", study, {}, partial=True)
    wide = pd.read_csv(tmp_path / "out2/summary_wide.csv").set_index("variant")
    assert wide.loc["one", "BA"] == "-" and wide.loc["one", "LIF"] == "95.0 ± 0.0 (1)"
    assert wide.loc["later"].tolist() == ["fsdd", "-", "-", "-"]
    claims = pd.read_csv(tmp_path / "out2/claims.csv").set_index("variant")
    assert claims.loc["one", "integrators learn"] == "incomplete (no run yet: BA)"
    assert claims.loc["good", "integrators learn"] == "yes"
    assert "PARTIAL: 11 of the 15 planned runs" in (tmp_path / "out2/summary.md").read_text()
    for run in (tmp_path / "runs").rglob("metrics.csv"):
        run.unlink()
    with pytest.raises(DataError, match="no study run is finished"):
        study_report(tmp_path / "runs", tmp_path / "out3", study, {}, partial=True)


def test_a_study_cell_whose_job_repeats_an_earlier_variants_or_the_grids_reads_its_runs(tmp_path):
    """The study file's ``repeats`` (glifbench.study_plan): BA under a surrogate-slope variant is
    the baseline's job, a variant of the grid's defaults the grid's jobs; each cell reads those
    runs, says so in ``runs_of`` and is counted once."""
    from glifbench.analysis.study import planned_runs, study_report
    from glifbench.layout import run_dir, study_run_dir

    study = {"tasks": ["fsdd"], "units": ["LIF", "BA"], "seeds": [0, 1],
             "variants": {"base": {}, "slope=1": {}, "defaults": {}},
             "repeats": {"slope=1/fsdd/BA": "base", "defaults/fsdd/LIF": "@grid", "defaults/fsdd/BA": "@grid"}}  # fmt: skip
    values = {("base", "LIF"): 0.9, ("base", "BA"): 0.4, ("slope=1", "LIF"): 0.8, ("@grid", "LIF"): 0.7, ("@grid", "BA"): 0.3}
    for (variant, unit), value in values.items():
        for seed in (0, 1):
            run = Path(run_dir("fsdd", "CRNN", unit, seed, str(tmp_path / "grid")) if variant == "@grid"
                       else study_run_dir(variant, "fsdd", unit, seed, str(tmp_path / "runs")))  # fmt: skip
            run.mkdir(parents=True)
            pd.DataFrame([{"epoch": 1, "val_loss": 1, "val_accuracy": value}]).to_csv(run / "metrics.csv", index=False)
            (run / "config.json").write_text(json.dumps({"task": "fsdd", "arch": "CRNN", "unit": unit, "seed": seed}))
    plan = planned_runs(tmp_path / "runs", study, tmp_path / "grid")
    assert plan["slope=1"][2:] == plan["base"][2:]  # BA's two seeds: the baseline's folders
    assert plan["defaults"][0] == str(tmp_path / "grid/fsdd/CRNN/LIF/seed0")
    study_report(tmp_path / "runs", tmp_path / "out", study, {}, partial=True, grid_root=tmp_path / "grid")
    summary = pd.read_csv(tmp_path / "out/summary.csv").set_index(["variant", "unit"])
    assert summary.loc[("slope=1", "BA"), "mean"] == pytest.approx(40.0) and summary.loc[("slope=1", "BA"), "runs_of"] == "base"
    assert summary.loc[("slope=1", "LIF"), "mean"] == pytest.approx(80.0) and summary.loc[("slope=1", "LIF"), "runs_of"] == "slope=1"
    assert summary.loc[("defaults", "BA"), "mean"] == pytest.approx(30.0) and summary.loc[("defaults", "BA"), "runs_of"] == "@grid"
    assert "PARTIAL: 10 of the 10 planned runs" in (tmp_path / "out/summary.md").read_text()


def test_tables_from_a_grid_run_in_parts(tmp_path):
    """``tables --partial``: the runs finished so far, each cell with its own n, a missing cell
    "-", every title counting the runs; without it a missing run stays an error."""
    from glifbench.analysis.summary import make_tables

    grid = {"table1": ["CNN", "CRNN"], "table3_tasks": ["sot"], "table3_units": ["LIF", "BA"], "fig5": False}
    meta = {"scale": "workstation", "seeds": [0, 1], "epochs": {"sot": 2}}
    for arch, unit, seeds in (("CRNN", "Real", [0, 1]), ("CNN", "Real", [0]), ("CRNN", "LIF", [0, 1]),
                              ("CNN-RNN", "Real", [0])):  # fmt: skip  (CRNN BA: no run yet)
        for seed in seeds:
            run = _write_run(tmp_path / "runs", "sot", arch, unit, seed, [{"epoch": 1, "train_loss": 0.05, "val_loss": 0.05}])
            _write_test(run, "val", 0.03 + 0.01 * seed)
    with pytest.raises(DataError, match="missing"):
        make_tables(tmp_path / "runs", tmp_path / "out", tmp_path / "fig", grid, [0, 1], meta, ["table3"])
    make_tables(tmp_path / "runs", tmp_path / "out", tmp_path / "fig", grid, [0, 1], meta, ["table1", "table3"], partial=True)
    t3 = pd.read_csv(tmp_path / "out/table3.csv").set_index("Unit type")
    assert t3.loc["LIF", "SOT (MSE) (ours)"] == "0.0350 ± 0.0071 (n=2)" and t3.loc["Real (CNN-RNN)", "SOT (MSE) (ours)"].endswith("(n=1)")
    assert t3.loc["BA", "SOT (MSE) (ours)"] == "-"
    assert "PARTIAL: 3 of the 6 planned runs" in (tmp_path / "out/table3.md").read_text()
    assert "PARTIAL: 3 of the 4 planned runs" in (tmp_path / "out/table1.md").read_text()
    assert (tmp_path / "fig/table3.png").is_file() and (tmp_path / "fig/fig3_learning_curves.png").is_file()
