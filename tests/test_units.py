import pytest
import torch
import torch._dynamo.utils
from helpers import needs_cpp_compiler
from norse.torch.functional.lif_box import LIFBoxFeedForwardState, LIFBoxParameters, lif_box_feed_forward_step

from glifbench.units import UNIT_TYPES, GLIFParameters, Unit, glif_initial_state, glif_step, make_unit, sign_ste, spike_fn

TABLE_II = {  # name: (g_L, g_u, reset)
    "HLIF": (1, 1, True), "HIAF": (0, 1, True), "LIF": (1, 0, True), "IAF": (0, 0, True),
    "BLI": (1, 0, False), "BI": (0, 0, False), "HBA": (0, 1, False), "BA": (0, 0, False),
}  # fmt: skip


def test_registry_matches_table_ii():
    assert list(UNIT_TYPES)[: len(TABLE_II) + 1] == ["Real", *TABLE_II]
    for name, (g_l, g_u, reset) in TABLE_II.items():
        unit = make_unit(name)
        if name == "BA":
            assert unit.kind == "sign" and unit.binary and not unit.stateful
            continue
        p = unit.params
        assert (p.g_leak, p.g_ahp, p.reset) == (g_l, g_u, reset), name
        assert unit.kind == "glif" and unit.stateful and unit.calibratable and unit.binary
    assert not make_unit("HBA").params.integrate
    assert all(make_unit(n).params.integrate for n in ("HLIF", "HIAF", "LIF", "IAF", "BLI", "BI"))
    real = make_unit("Real")
    assert real.kind == "tanh" and not (real.binary or real.stateful or real.calibratable)


def _drive(unit: Unit, currents: torch.Tensor):
    state = unit.initial_state(currents[0])
    outs, states = [], []
    for c in currents:
        out, state = unit(c, state)
        outs.append(out)
        states.append(state)
    return torch.stack(outs), states


def test_lif_equals_norse_box_lif_golden_trajectory():
    torch.manual_seed(0)
    currents = 2.5 * torch.rand(200, 8, 16)
    unit = make_unit("LIF", dt_tau_v=0.1, surrogate="super", slope=100.0)
    ours, states = _drive(unit, currents)
    p = LIFBoxParameters(tau_mem_inv=torch.as_tensor(100.0), v_leak=torch.as_tensor(0.0),
                         v_th=torch.as_tensor(1.0), v_reset=torch.as_tensor(0.0))  # fmt: skip
    state = LIFBoxFeedForwardState(v=torch.zeros(8, 16))
    for t in range(200):
        z, state = lif_box_feed_forward_step(currents[t], state, p, dt=0.001)
        assert torch.equal(z, ours[t]), t
        torch.testing.assert_close(state.v, states[t].v, rtol=0, atol=1e-6)
    assert 0.05 < ours.mean() < 0.6  # the comparison saw plenty of spikes and resets


def test_outputs_are_binary_and_reset_zeroes_membrane():
    currents = 3 * torch.rand(50, 4, 10)
    for name in TABLE_II:
        out, states = _drive(make_unit(name), currents)
        values = {-1.0, 1.0} if name == "BA" else {0.0, 1.0}
        assert set(out.unique().tolist()) <= values, name
        if name != "BA" and make_unit(name).params.reset:
            spiked = out == 1
            v = torch.stack([s.v for s in states])
            assert torch.all(v[spiked] == 0), name
    real, _ = _drive(make_unit("Real"), currents)
    torch.testing.assert_close(real, torch.tanh(currents))


def test_non_reset_units_keep_potential_above_threshold():
    out, states = _drive(make_unit("BI"), torch.full((5, 1), 1.0))  # v = 0.2, 0.4, ..., 1.0
    v = torch.stack([s.v for s in states]).flatten()
    torch.testing.assert_close(v, torch.tensor([0.2, 0.4, 0.6, 0.8, 1.0]))
    assert out.flatten().tolist() == [0, 0, 0, 0, 1]
    out, states = _drive(make_unit("BI"), torch.full((7, 1), 1.0))
    assert out.flatten().tolist()[-3:] == [1, 1, 1]  # no reset: stays active


def test_ahp_decays_exponentially_after_a_spike():
    p = GLIFParameters(g_leak=0.0, g_ahp=1.0, reset=False, integrate=False, dt_tau_u=0.1)
    state = glif_initial_state(torch.zeros(1))
    s, state = glif_step(torch.tensor([5.0]), state, p)
    assert s.item() == 1 and state.u.item() == pytest.approx(0.1)
    us = []
    for _ in range(10):
        s, state = glif_step(torch.tensor([0.0]), state, p)
        us.append(state.u.item())
        assert s.item() == 0
    assert us == pytest.approx([0.1 * 0.9 ** (k + 1) for k in range(10)])
    # the AHP is subtracted from the input: 1.05 fires from rest but not right after a spike
    rest = glif_initial_state(torch.zeros(1))
    fires_at_rest, _ = glif_step(torch.tensor([1.05]), rest, p)
    _, after_spike = glif_step(torch.tensor([5.0]), rest, p)
    blocked, _ = glif_step(torch.tensor([1.05]), after_spike, p)
    assert fires_at_rest.item() == 1 and blocked.item() == 0


def test_hba_has_no_integrator():
    out, states = _drive(make_unit("HBA"), torch.tensor([[0.6], [0.6], [0.6], [1.2], [0.0]]))
    assert out.flatten().tolist() == [0, 0, 0, 1, 0]  # 0.6 never accumulates


def _surrogate_grad(fn, x):
    x = x.clone().requires_grad_(True)
    fn(x).sum().backward()
    return x.grad


def test_sigmoid_surrogate_backward_is_sigmoid_derivative():
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    ours = _surrogate_grad(lambda v: spike_fn(v, "sigmoid", 5.0), x)
    smooth = _surrogate_grad(lambda v: torch.sigmoid(5.0 * v), x)
    torch.testing.assert_close(ours, smooth)
    assert spike_fn(torch.tensor([-1e-6, 0.0, 1e-6]), "sigmoid").tolist() == [0, 1, 1]


def test_ste_backward_is_hardtanh_derivative():
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    x = x[(x.abs() - 1).abs() > 1e-9]  # hardtanh's kinks
    torch.testing.assert_close(_surrogate_grad(sign_ste, x), _surrogate_grad(torch.nn.functional.hardtanh, x))
    assert sign_ste(torch.tensor([-0.5, 0.0, 2.0])).tolist() == [-1, 1, 1]


def test_norse_superspike_backward_is_fast_sigmoid_derivative():
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    ours = _surrogate_grad(lambda v: spike_fn(v, "super", 100.0), x)
    torch.testing.assert_close(ours, _surrogate_grad(lambda v: v / (1 + v.abs()), x))


@pytest.mark.parametrize("name", list(UNIT_TYPES))
def test_bptt_gradients_finite_over_200_steps(name):
    torch.manual_seed(1)
    w_in = torch.randn(16, 16, requires_grad=True)
    w_rec = (0.3 * torch.randn(16, 16)).requires_grad_(True)
    unit = make_unit(name)
    x = torch.rand(200, 8, 16)
    state = unit.initial_state(x[0])
    total = 0
    for x_t in x.unbind(0):
        out, state = unit(x_t @ w_in + state.s @ w_rec, state)
        total = total + out.sum()
    total.backward()
    assert torch.isfinite(w_in.grad).all() and torch.isfinite(w_rec.grad).all()
    assert w_in.grad.abs().sum() > 0


def test_detach_reset_changes_only_the_gradient():
    torch.manual_seed(2)
    x = (2 * torch.rand(30, 4, 5)).requires_grad_(True)
    grads, outs = [], []
    for detach in (False, True):
        out, _ = _drive(make_unit("LIF", detach_reset=detach), x)
        (g,) = torch.autograd.grad(out.sum(), x)
        grads.append(g)
        outs.append(out)
    assert torch.equal(outs[0], outs[1]) and not torch.allclose(grads[0], grads[1])


def test_bad_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown unit type 'LIFF'.*HLIF.*BA"):
        make_unit("LIFF")
    with pytest.raises(ValueError, match="unknown unit option.*tau.*valid: dt_tau_v"):
        make_unit("LIF", tau=3)
    with pytest.raises(ValueError, match="unknown surrogate 'relu'.*sigmoid.*super"):
        make_unit("LIF", surrogate="relu")


def test_multibit_unit_with_one_bit_is_bli():
    torch.manual_seed(4)
    currents = 2 * torch.rand(60, 4, 7)
    bli, bli_states = _drive(make_unit("BLI"), currents)
    one_bit, states = _drive(make_unit("MBLI", bits=1), currents)
    assert torch.equal(bli, one_bit)
    torch.testing.assert_close(torch.stack([s.v for s in states]), torch.stack([s.v for s in bli_states]))


def test_multibit_levels_and_surrogate():
    unit = make_unit("MBLI", bits=2, dt_tau_v=1.0)  # dt/tau_v = 1: v_t = I_t, the staircase itself
    assert unit.stateful and unit.calibratable and unit.binary and unit.kind == "multibit"
    v = torch.tensor([0.5, 1.0, 1.34, 1.67, 3.0])
    out, _ = unit(v, unit.initial_state(v))
    torch.testing.assert_close(out, torch.tensor([0.0, 1 / 3, 2 / 3, 1.0, 1.0]))
    x = torch.linspace(0, 3, 301, dtype=torch.float64)
    ours = _surrogate_grad(lambda c: unit(c, unit.initial_state(c))[0], x)
    smooth = _surrogate_grad(lambda c: sum(torch.sigmoid(5.0 * (c - 1 - k / 3)) for k in range(3)) / 3, x)
    torch.testing.assert_close(ours, smooth)
    with pytest.raises(ValueError, match="unknown surrogate"):
        make_unit("MBLI", surrogate="relu")


def _assert_compiled_equals_eager(name: str, surrogate: str, device: str) -> None:
    """The same trajectory and the same surrogate gradients, compiled and eager (float64, where
    rounding differences cannot flip a spike)."""
    torch.manual_seed(0)
    currents = (torch.randn(12, 4, 3, 5, dtype=torch.float64) * 1.5 + 0.5).to(device).requires_grad_()
    weights = torch.randn(3, 4, 3, 5, dtype=torch.float64).to(device)
    results = []
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    for compiled in (False, True):
        unit = make_unit(name, surrogate=surrogate).to(device)
        unit.use_compiled(compiled)
        outs, states = _drive(unit, currents)
        loss = (outs * weights[0]).sum() + sum((s.v * weights[1] + s.u * weights[2]).sum() for s in states)
        (grad,) = torch.autograd.grad(loss, currents)
        results.append((outs, torch.stack([s.v for s in states]), grad))
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > graphs  # compiled, not eager again
    (s_eager, v_eager, g_eager), (s_comp, v_comp, g_comp) = results
    assert 0 < s_eager.mean() < 1  # spikes and silence: both paths of the threshold exercised
    assert torch.equal(s_eager, s_comp)
    torch.testing.assert_close(v_comp, v_eager, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_comp, g_eager, rtol=1e-10, atol=1e-10)


@needs_cpp_compiler()
@pytest.mark.parametrize("name, surrogate", [("HLIF", "sigmoid"), ("HIAF", "sigmoid"), ("LIF", "sigmoid"),
                                             ("IAF", "sigmoid"), ("BLI", "sigmoid"), ("BI", "sigmoid"),
                                             ("HBA", "sigmoid"), ("LIF", "super")])  # fmt: skip
def test_compiled_step_equals_the_eager_step(name, surrogate):
    """training.compile_units on a CPU (Inductor's C++ kernels)."""
    _assert_compiled_equals_eager(name, surrogate, "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name, surrogate", [("HLIF", "sigmoid"), ("LIF", "super")])
def test_compiled_step_equals_the_eager_step_on_cuda(name, surrogate):
    """training.compile_units on CUDA (Triton kernels): HLIF has every term of the GLIF step."""
    _assert_compiled_equals_eager(name, surrogate, "cuda")
