"""Which study jobs repeat an earlier variant's (glifbench.study_plan), and the unit facts it
rests on: a ``units`` key that a unit type does not use leaves its computation bit for bit."""

from __future__ import annotations

import pytest
import torch

from glifbench.names import UNIT_TYPES, options_used
from glifbench.study_plan import GRID, cell_run_dir, study_repeats, unit_view
from glifbench.units import UNIT_OPTIONS, make_unit

CHANGED = {"dt_tau_v": 0.05, "dt_tau_u": 0.3, "threshold": 0.5, "surrogate": "super", "slope": 1.0,
           "detach_reset": True, "bits": 3}  # fmt: skip


def _trajectory(unit_name: str, options: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs of 30 steps of one unit on a fixed input, and the input's gradient through them."""
    unit = make_unit(unit_name, **options)
    x = (1.5 * torch.randn(30, 4, 8, generator=torch.Generator().manual_seed(0))).requires_grad_(True)
    state, outs = unit.initial_state(x[0]), []
    for t in range(len(x)):
        out, state = unit(x[t] + 0.5 * state.s, state)  # fed back, as a recurrent layer does
        outs.append(out)
    outs = torch.stack(outs)
    (grad,) = torch.autograd.grad((outs * torch.linspace(-1, 1, outs.numel()).view_as(outs)).sum(), x)
    return outs.detach(), grad


@pytest.mark.parametrize("name", list(UNIT_TYPES))
def test_a_unit_key_a_unit_type_does_not_use_changes_nothing_and_one_it_uses_changes_it(name):
    assert set(CHANGED) == set(UNIT_OPTIONS)
    base = _trajectory(name, {})
    for option, value in CHANGED.items():
        changed = _trajectory(name, {option: value})
        same = all(a.equal(b) for a, b in zip(base, changed))
        assert same == (option not in options_used(name)), f"{name}: {option}"


def test_the_unit_types_use_what_their_equations_say():
    assert options_used("Real") == options_used("BA") == ()
    assert "dt_tau_v" not in options_used("HBA") and "dt_tau_u" in options_used("HBA")
    assert "dt_tau_u" not in options_used("LIF") and "detach_reset" in options_used("LIF")
    assert "detach_reset" not in options_used("BLI") and "dt_tau_v" in options_used("BLI")


def test_study_repeats_finds_the_jobs_an_earlier_variant_already_runs():
    base = {"training": {"lr": 1e-3}, "model": {"init_gain": 4.0}, "units": {"slope": 5.0, "dt_tau_v": 0.2}}
    variants = {
        "baseline": base,
        "slope=1": {**base, "units": {"slope": 1.0, "dt_tau_v": 0.2}},
        "dt_tau_v=0.05": {**base, "units": {"slope": 5.0, "dt_tau_v": 0.05}},
        "lr=3e-3": {**base, "training": {"lr": 3e-3}},
        "seeds": base,  # the baseline's settings, seeds the baseline does not run
    }
    seeds = {"seeds": [0, 5]}
    repeats = study_repeats(variants, ["sot"], ["Real", "HBA", "LIF"], lambda v, t: variants[v],
                            lambda v: seeds.get(v, [0, 1, 2]))  # fmt: skip
    assert repeats == {"slope=1/sot/Real": "baseline", "dt_tau_v=0.05/sot/Real": "baseline",
                       "dt_tau_v=0.05/sot/HBA": "baseline"}  # fmt: skip
    assert unit_view(variants["slope=1"], "HBA")["units"] == {"slope": 1.0}


def test_the_grid_comes_first_and_a_repeat_finds_the_earlier_job_that_has_its_seeds():
    grid = {"training": {"lr": 1e-3}, "model": {}, "units": {"slope": 5.0}}
    variants = {
        "screen": {**grid, "units": {"slope": 1.0}},  # seed 0 only
        "wide": {**grid, "units": {"slope": 1.0}},  # seeds 0-2: not the screen's job, its own
        "wider": {**grid, "units": {"slope": 1.0}},  # seeds 0-2 again: wide's
        "baseline": grid,  # the grid's defaults, seeds 0-2: the grid's runs
        "more": grid,  # seeds 0-5: more than the grid has
    }
    seeds = {"screen": [0], "more": range(6)}
    repeats = study_repeats(variants, ["sot"], ["LIF", "Real"], lambda v, t: variants[v],
                            lambda v: seeds.get(v, [0, 1, 2]), grid_settings=lambda t, u: grid, grid_seeds=[0, 1, 2])  # fmt: skip
    assert repeats == {"wider/sot/LIF": "wide", "baseline/sot/LIF": GRID, "screen/sot/Real": GRID,
                       "wide/sot/Real": GRID, "wider/sot/Real": GRID, "baseline/sot/Real": GRID}  # fmt: skip
    assert cell_run_dir(repeats, "baseline", "sot", "LIF", 2) == "results/runs/sot/CRNN/LIF/seed2"
    assert cell_run_dir(repeats, "wider", "sot", "LIF", 1, "docs/study/runs") == "docs/study/runs/wide/sot/CRNN/LIF/seed1"
    assert cell_run_dir(repeats, "more", "sot", "LIF", 5) == "results/study/runs/more/sot/CRNN/LIF/seed5"
    assert study_repeats(variants, ["sot"], ["Real"], lambda v, t: variants[v], lambda v: [0]) == {
        f"{v}/sot/Real": "screen" for v in ("wide", "wider", "baseline", "more")}  # without the grid
    only_lif = study_repeats(variants, ["sot"], ["LIF", "Real"], lambda v, t: variants[v], lambda v: [0],
                             grid_settings=lambda t, u: grid if u == "LIF" else None, grid_seeds=[0])  # fmt: skip
    assert only_lif["baseline/sot/LIF"] == GRID and only_lif["baseline/sot/Real"] == "screen"  # no grid job for Real
