import pytest
import torch

from glifbench.models import ARCHITECTURES, autapses, build_network, extract_weights
from glifbench.models.layers import RecurrentConv, SoftArgmax, UnitLayer
from glifbench.units import UNIT_TYPES, make_unit

INPUTS = {
    "sot": lambda: torch.rand(6, 2, 30, 30),
    "mnist": lambda: torch.rand(2, 28, 28),
    "fsdd": lambda: torch.randn(7, 2, 64),
}
OUT_SHAPES = {"sot": (6, 2, 2), "mnist": (2, 10), "fsdd": (2, 10)}


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_table_i_architectures_forward_backward(arch):
    net = build_network("sot", arch, "Real")
    y = net(INPUTS["sot"]())
    assert y.shape == (6, 2, 2)
    y.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize("unit", list(UNIT_TYPES))
@pytest.mark.parametrize("task", list(INPUTS))
def test_table_iii_networks_forward_backward(task, unit):
    torch.manual_seed(0)
    net = build_network(task, "CRNN", unit, n_steps=5, init_gain=4.0)
    y = net(INPUTS[task]())
    assert y.shape == OUT_SHAPES[task]
    y.sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    activity = net.activity()
    assert set(activity) == {"body.0", "body.1", "readout.hidden"}
    steps = 5 if task == "mnist" else INPUTS[task]().shape[0]
    assert all(a.shape == (steps,) and 0 <= a.min() and a.max() <= 1 for a in activity.values())


def test_paper_sizes():
    net = build_network("sot", "CRNN", "LIF")
    assert net.readout.hidden.linear.in_features == 14_400 and net.readout.hidden.linear.out_features == 100
    assert [m.ff.out_channels for m in net.body] == [8, 16]
    shallow = build_network("sot", "CRNN-Shallow", "Real")
    assert len(shallow.body) == 1 and shallow.readout.hidden.linear.in_features == 7_200
    fsdd = build_network("fsdd", "CRNN", "BLI")
    assert isinstance(fsdd.body[0].rec, torch.nn.Conv1d) and fsdd.readout.hidden.linear.in_features == 1_024


def test_static_mnist_input_equals_materialised_sequence():
    torch.manual_seed(3)
    net = build_network("mnist", "CRNN", "BLI", n_steps=6, init_gain=4.0)
    image = torch.rand(3, 28, 28)
    fast = net(image)
    seq = image.unsqueeze(1).unsqueeze(0).repeat(6, 1, 1, 1, 1)
    slow = net.readout(net.body(seq))[-1]
    torch.testing.assert_close(fast, slow)


def test_init_gain_wakes_up_spiking_layers():
    x = torch.rand(40, 4, 30, 30, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(4)
    quiet = build_network("sot", "CRNN", "BLI", init_gain=1.0)
    quiet(x)
    torch.manual_seed(4)
    loud = build_network("sot", "CRNN", "BLI", init_gain=4.0)
    loud(x)
    assert loud.activity()["readout.hidden"].mean() > quiet.activity()["readout.hidden"].mean()
    ratio = loud.body[0].ff.weight.abs().mean() / quiet.body[0].ff.weight.abs().mean()
    assert ratio.item() == pytest.approx(4.0, rel=1e-5)


def test_softargmax_readout():
    head = SoftArgmax(3, gain=10.0)
    with torch.no_grad():
        head.score.weight.zero_()
        head.score.bias.zero_()
        head.score.weight[0, 0] = 10.0
    feats = torch.zeros(1, 1, 3, 30, 30)
    feats[0, 0, 0, 20, 5] = 1.0  # a single hot pixel at row 20, column 5
    xy = head(feats)[0, 0]
    torch.testing.assert_close(xy, torch.tensor([5 / 29, 20 / 29]), atol=1e-3, rtol=0)
    net = build_network("sot", "CRNN", "Real", readout="softargmax")
    y = net(INPUTS["sot"]())
    assert y.shape == (6, 2, 2) and 0 <= y.min() and y.max() <= 1
    gru = build_network("sot", "CNN-RNN", "Real", readout="softargmax")
    assert type(gru.readout.hidden).__name__ == "GRUReadout"  # the CNN-RNN keeps its temporal stage


def test_autapses_are_centre_taps_of_diagonal_blocks():
    kernel = torch.arange(4 * 4 * 9, dtype=torch.float32).view(4, 4, 3, 3)
    torch.testing.assert_close(autapses(kernel), torch.stack([kernel[c, c, 1, 1] for c in range(4)]))
    kernel_1d = torch.randn(3, 3, 3)
    torch.testing.assert_close(autapses(kernel_1d), kernel_1d[[0, 1, 2], [0, 1, 2], 1])
    with pytest.raises(ValueError, match="recurrent kernel"):
        autapses(torch.randn(4, 3, 3, 3))


def test_extract_weights_of_a_model():
    net = build_network("sot", "CRNN", "LIF")
    with torch.no_grad():
        net.body[1].rec.weight[5, 5, 1, 1] = 0.75
    layers = extract_weights(net)
    assert [l.name for l in layers] == ["body.0", "body.1"]
    assert layers[1].feedforward.shape == (16, 8, 3, 3) and layers[1].recurrent.shape == (16, 16, 3, 3)
    assert layers[1].autapses[5] == 0.75 and layers[0].autapses.shape == (8,)
    with pytest.raises(ValueError, match="no recurrent convolution"):
        extract_weights(build_network("sot", "CNN", "Real"))


def test_bad_names_and_shapes_are_explained():
    with pytest.raises(ValueError, match="unknown architecture 'RNN'.*CRNN-Shallow"):
        build_network("sot", "RNN", "Real")
    with pytest.raises(ValueError, match="unknown task 'cifar'.*sot, mnist, fsdd"):
        build_network("cifar", "CRNN", "Real")
    with pytest.raises(ValueError, match="unknown unit type 'GLIF'"):
        build_network("sot", "CRNN", "GLIF")
    with pytest.raises(ValueError, match=r"sot input must be \[T, B, 30, 30\], got \[4, 2, 28, 28\]"):
        build_network("sot", "CRNN", "Real")(torch.rand(4, 2, 28, 28))
    with pytest.raises(ValueError, match=r"mnist input must be \[B, 28, 28\]"):
        build_network("mnist", "CRNN", "Real")(torch.rand(4, 2, 28, 28))
    with pytest.raises(ValueError, match="softargmax.*only for task 'sot'"):
        build_network("mnist", "CRNN", "Real", readout="softargmax")


def test_recurrent_layer_uses_previous_output():
    torch.manual_seed(5)
    layer = RecurrentConv(1, 2, 2, make_unit("Real"))
    x = torch.rand(3, 1, 1, 5, 5)
    out = layer(x)
    ff = layer.ff(x.flatten(0, 1)).unflatten(0, (3, 1))
    torch.testing.assert_close(out[0], torch.tanh(ff[0]))
    torch.testing.assert_close(out[1], torch.tanh(ff[1] + layer.rec(out[0])))


def test_light_name_lists_match_the_registries():
    from glifbench import names
    from glifbench.models import TASKS
    from glifbench.units import UNIT_TYPES

    assert names.ARCHITECTURES == tuple(ARCHITECTURES)
    assert names.UNITS == tuple(UNIT_TYPES)
    assert names.TASKS == tuple(TASKS)


@pytest.mark.parametrize("unit", ["LIF", "BLI", "HBA"])
def test_calibration_reaches_the_target_activity_in_every_spiking_layer(unit):
    from glifbench.models.calibration import calibrate_activity

    torch.manual_seed(6)
    net = build_network("sot", "CRNN", unit, init_gain=1.0)
    x = (torch.rand(12, 2, 30, 30, generator=torch.Generator().manual_seed(1)) - 0.25) * 4
    report = calibrate_activity(net, x, target=0.15)
    assert set(report) == {"body.0", "body.1", "readout.hidden"}
    net(x)
    for name, act in net.activity().items():
        assert act.mean().item() == pytest.approx(0.15, abs=0.05), name
    assert all(r["scale"] > 1 for r in report.values())  # default init is too quiet


def test_calibrating_the_bias_too_brings_a_leakless_integrator_to_its_target():
    """A BI layer integrates its bias over the trial: with positive biases no scale of the weights
    alone brings it down to the target; scaling the whole input current does, and leaves the
    weights' ratio to the biases as it was."""
    from glifbench.models.calibration import calibrate_activity

    x = torch.randn(30, 2, 1, 30, 30, generator=torch.Generator().manual_seed(1))  # standardised frames
    reached = {}
    for scale_bias in (False, True):
        torch.manual_seed(6)
        net = build_network("sot", "CRNN", "BI", init_gain=1.0, channels=(4, 4), readout="softargmax")
        with torch.no_grad():
            for layer in (net.body[0], net.body[1]):
                layer.ff.bias.fill_(0.5)
        before = net.body[0].ff.weight.clone()
        report = calibrate_activity(net, x, target=0.05, scale_bias=scale_bias)
        reached[scale_bias] = report["body.0"]["activity"]
        scale = report["body.0"]["scale"]
        assert torch.allclose(net.body[0].ff.weight, before * scale)
        assert net.body[0].ff.bias[0].item() == pytest.approx(0.5 * scale if scale_bias else 0.5)
    assert reached[False] > 0.5  # stuck at the lowest scale, 1/8
    assert reached[True] == pytest.approx(0.05, abs=0.02)


def test_calibration_leaves_real_and_sign_networks_alone():
    from glifbench.models.calibration import calibrate_activity

    net = build_network("sot", "CRNN", "BA")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert calibrate_activity(net, torch.rand(5, 2, 30, 30), 0.15) == {}
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="target activity"):
        calibrate_activity(net, torch.rand(5, 2, 30, 30), 1.5)


def test_leaky_integrator_readout():
    from glifbench.models.layers import TimeLinear

    torch.manual_seed(7)
    x = torch.randn(9, 3, 5)
    plain, leaky = TimeLinear(5, 2), TimeLinear(5, 2, dt_tau=0.25)
    leaky.load_state_dict(plain.state_dict())
    z = plain(x)
    torch.testing.assert_close(z, torch.nn.functional.linear(x, plain.linear.weight, plain.linear.bias))
    y, expected = torch.zeros(3, 2), []
    for z_t in z:
        y = 0.75 * y + 0.25 * z_t
        expected.append(y)
    torch.testing.assert_close(leaky(x), torch.stack(expected))
    net = build_network("fsdd", "CRNN", "LIF", readout_dt_tau=0.1)
    assert net.readout.out.dt_tau == 0.1 and net(INPUTS["fsdd"]()).shape == (2, 10)
    with pytest.raises(ValueError, match="readout dt/tau"):
        TimeLinear(5, 2, dt_tau=0.0)


@pytest.mark.parametrize("unit", ["LIF", "BLI", "HBA", "BA", "Real"])
def test_a_readout_reading_potentials_gets_the_thresholded_values(unit):
    """model.readout_input: potential -- the layer the readout reads passes on what its units
    threshold (GLIF: the membrane before threshold and reset), while its units' outputs still
    feed its recurrence, its activity and the cost meter's sparsity."""
    from glifbench.models.cost import CostMeter
    from glifbench.models.layers import UnitLayer

    torch.manual_seed(0)
    x = INPUTS["sot"]()
    spikes = build_network("sot", "CRNN", unit, readout="softargmax", init_gain=4.0)
    potentials = build_network("sot", "CRNN", unit, readout="softargmax", init_gain=4.0, readout_input="potential")
    potentials.load_state_dict(spikes.state_dict())
    assert [isinstance(m, UnitLayer) and m.emit_potential for m in potentials.body] == [False, True]
    captured = {}
    for name, net in (("spikes", spikes), ("potentials", potentials)):
        net.body[-1].register_forward_hook(lambda m, i, out, name=name: captured.__setitem__(name, out))
        with CostMeter(net) as meter:
            y = net(x)
        captured[name + "_sparsity"] = meter.sparsity()
        y.square().mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    layer, sent = potentials.body[-1], captured["spikes"]
    assert torch.equal(layer.outputs_behind, sent)  # the same outputs ran the network
    assert torch.equal(spikes.activity()["body.1"], potentials.activity()["body.1"])
    assert captured["spikes_sparsity"] == captured["potentials_sparsity"]
    potential = captured["potentials"]
    if unit in ("LIF", "BLI", "HBA"):  # a spike exactly where the potential reached the threshold
        assert torch.equal(sent, (potential >= layer.unit.params.threshold).to(sent.dtype))
    elif unit == "BA":
        assert torch.equal(sent, torch.where(potential >= 0, 1.0, -1.0))
    else:
        assert torch.allclose(sent, torch.tanh(potential))
    if unit == "BLI":  # no reset: the potential is the membrane the state carries on
        assert not torch.equal(potential, sent)


def test_a_dense_readout_reads_its_hidden_layers_potentials():
    torch.manual_seed(0)
    net = build_network("fsdd", "CRNN", "LIF", init_gain=4.0, readout_input="potential")
    assert net.readout.hidden.emit_potential and not any(m.emit_potential for m in net.body)
    net(INPUTS["fsdd"]()).sum().backward()
    assert net.readout.hidden.linear.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown readout input 'spikes'; valid: output, potential"):
        build_network("fsdd", "CRNN", "LIF", readout_input="spikes")


@pytest.mark.parametrize("task", ["fsdd", "sot"])
def test_a_real_valued_hidden_layer_in_a_binary_network(task):
    """model.hidden_unit: Real -- the dense readout's hidden layer is ReLU in a LIF network, with
    PyTorch's initial weights (init_gain scales only layers of binary units); the body keeps LIF."""
    torch.manual_seed(0)
    same = build_network(task, "CRNN", "LIF", init_gain=4.0)
    torch.manual_seed(0)
    real = build_network(task, "CRNN", "LIF", init_gain=4.0, hidden_unit="Real")
    assert same.readout.hidden.unit.binary and not real.readout.hidden.unit.binary
    assert all(m.unit.binary for m in real.body if isinstance(m, UnitLayer))
    torch.testing.assert_close(real.readout.hidden.linear.weight * 4.0, same.readout.hidden.linear.weight)
    torch.testing.assert_close(real.body[0].ff.weight, same.body[0].ff.weight)  # the body scaled alike
    hidden = []
    real.readout.hidden.register_forward_hook(lambda module, args, out: hidden.append(out))
    real(INPUTS[task]()).sum().backward()
    assert hidden[0].min() >= 0 and len(torch.unique(hidden[0])) > 2  # ReLU: graded, not spikes
    assert real.readout.hidden.linear.bias.grad.abs().sum() > 0  # (the few random input steps may leave no spikes)
    with pytest.raises(ValueError, match="unknown hidden unit 'tanh'; valid: same, Real"):
        build_network(task, "CRNN", "LIF", hidden_unit="tanh")


def test_the_hidden_unit_setting_reaches_a_jobs_network():
    from helpers import job_config

    from glifbench.models.saved import network_from_config

    assert network_from_config("mnist", "CRNN", "BLI", job_config("mnist")).readout.hidden.unit.binary
    net = network_from_config("mnist", "CRNN", "BLI", job_config("mnist", model={"hidden_unit": "Real"}))
    assert not net.readout.hidden.unit.binary and net.body[0].unit.binary
