"""The training step: eager, or captured as a CUDA graph (``training.cuda_graphs``)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from helpers import assert_weights_close, job_config, write_fsdd_like

from glifbench.errors import TrainingError
from glifbench.models import build_network
from glifbench.training import steps as steps_module
from glifbench.training.steps import (
    CapturedCall,
    CapturedForward,
    CapturedStep,
    EagerForward,
    EagerStep,
    use_captured_validation,
    use_compiled_units,
    use_cuda_graphs,
)
from glifbench.training.trainer import JobSpec, train

MODEL = {"channels": [4, 8], "hidden": 16, "mnist_steps": 4}
CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def fsdd(tmp_path_factory):
    """44 training recordings in batches of 8: 5 full batches (3 warm-up, 1 captured, 1 replayed)
    and a partial one (eager) per epoch."""
    return {"arrays": str(write_fsdd_like(tmp_path_factory.mktemp("steps") / "fsdd.npz", n_train=44))}


def job(root: Path, data, device: str, graphs, epochs: int = 3, capture_validation: bool = False) -> JobSpec:
    cfg = job_config("fsdd", {"epochs": epochs, "batch_size": 8, "lr": 0.01, "clip_norm": 0.05, "device": device,
                              "cuda_graphs": graphs, "capture_validation": capture_validation}, MODEL)  # fmt: skip
    return JobSpec("fsdd", "CRNN", "LIF", 0, root / "run", root / "ckpt.pt", data, cfg)


def test_compiled_units_resolve_per_device_and_compiler(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not use_compiled_units("auto", cuda) and use_compiled_units(True, cuda)  # CUDA: only when asked
    assert not use_compiled_units(False, cpu) and not use_compiled_units(False, cuda)
    monkeypatch.setattr("glifbench.training.steps.cpp_compiler_found", lambda: True)
    assert use_compiled_units("auto", cpu) and use_compiled_units(True, cpu)
    monkeypatch.setattr("glifbench.training.steps.cpp_compiler_found", lambda: False)
    assert not use_compiled_units("auto", cpu)
    with pytest.raises(TrainingError, match="compile_units: true needs the C\\+\\+ compiler"):
        use_compiled_units(True, cpu)


def test_the_switch_resolves_per_device_and_refuses_graphs_without_cuda(tmp_path, fsdd):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert use_cuda_graphs("auto", cuda) and not use_cuda_graphs("auto", cpu)
    assert not use_cuda_graphs(False, cuda) and use_cuda_graphs(True, cuda)
    with pytest.raises(TrainingError, match="cuda_graphs: true needs a CUDA device"):
        use_cuda_graphs(True, cpu)
    with pytest.raises(TrainingError, match="cuda_graphs"):
        train(job(tmp_path, fsdd, "cpu", True))
    auto = train(job(tmp_path / "auto", fsdd, "cpu", "auto"))  # on CPU: the eager step, same numbers
    eager = train(job(tmp_path / "eager", fsdd, "cpu", False))
    assert [r["train_loss"] for r in auto["history"]] == [r["train_loss"] for r in eager["history"]]


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_a_captured_job_trains_as_the_eager_one(tmp_path, fsdd):
    eager = train(job(tmp_path / "eager", fsdd, "cuda", False))
    captured = train(job(tmp_path / "captured", fsdd, "cuda", True))
    for a, b in zip(eager["history"], captured["history"], strict=True):
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            assert b[key] == pytest.approx(a[key], abs=1e-4), key
    assert_weights_close(torch.load(tmp_path / "eager/run/model.pt"), torch.load(tmp_path / "captured/run/model.pt"))
    assert {(r["captured"], r["device"]) for r in captured["history"]} == {(1, f"cuda:{torch.cuda.get_device_name()}")}
    assert {r["captured"] for r in eager["history"]} == {0}
    resumed = train(job(tmp_path / "captured", fsdd, "cuda", True))  # a finished job: nothing to train
    assert resumed["history"] == captured["history"]


def test_a_checkpoint_of_a_captured_run_continues_on_a_cpu(tmp_path, fsdd):
    """A GPU run's checkpoint holds a capturable Adam; continued on a CPU, Adam is made eager
    again (else its first step fails: capturable state must live on a GPU)."""
    whole = train(job(tmp_path / "whole", fsdd, "cpu", False, epochs=2))
    root = tmp_path / "parts"
    train(job(root, fsdd, "cpu", False, epochs=1))
    state = torch.load(root / "ckpt.pt", weights_only=False)
    for group in state["optimizer"]["param_groups"]:
        group["capturable"] = True  # as a captured run on a GPU writes it
    torch.save(state, root / "ckpt.pt")
    resumed = train(job(root, fsdd, "cpu", False, epochs=2))
    assert [r["train_loss"] for r in resumed["history"]] == [r["train_loss"] for r in whole["history"]]


class FakeGraph:
    """Stands in for ``torch.cuda.CUDAGraph`` on a CPU: counts its replays."""

    def __init__(self):
        self.replays = 0

    def replay(self):
        self.replays += 1


def test_a_captured_call_warms_up_on_full_batches_captures_once_and_replays_into_its_static_tensors(monkeypatch):
    """The state machine every captured call shares (steps, forward passes, packs), with the CUDA
    calls replaced: which batches run eagerly, on the side stream or into the graph, and what a
    replay returns. Whether a real graph computes what the eager call does is for the CUDA tests."""
    mode = {"now": "eager"}
    calls: list[tuple[str, int, int]] = []

    def run_as(name):
        def run(call, *args):
            mode["now"] = name
            try:
                return call(*args)
            finally:
                mode["now"] = "eager"

        return run

    @contextmanager
    def capturing(graph):
        mode["now"] = "capture"
        yield
        mode["now"] = "eager"

    monkeypatch.setattr(steps_module, "on_side_stream", run_as("side"))
    monkeypatch.setattr(torch.cuda, "CUDAGraph", FakeGraph)
    monkeypatch.setattr(torch.cuda, "graph", capturing)

    def eager(x, y):
        calls.append((mode["now"], len(y), x.shape[-1]))
        if mode["now"] == "capture":  # the graph records the call on its static inputs
            assert call.static is not None and x is call.static[0] and y is call.static[1]
        return x * 2, {"sum": y.sum()}

    prepared = []
    call = CapturedCall(eager, warmup=2, full=lambda y: len(y) == 8,
                        before_capture=lambda: prepared.append(mode["now"]),
                        keep=lambda outputs: (outputs[0], dict(outputs[1])))  # fmt: skip
    batches = [(8, 3), (5, 3), (8, 3), (8, 3), (8, 3), (5, 3), (8, 3), (8, 4)]
    results = []
    for k, (size, width) in enumerate(batches):
        x, y = torch.full((size, width), float(k)), torch.arange(size)
        results.append(call(x, y))
        if call.graph is not None and size == 8 and width == 3:
            assert torch.equal(call.static[0], x) and torch.equal(call.static[1], y)  # copied in
    assert calls == [("side", 8, 3), ("eager", 5, 3), ("side", 8, 3), ("capture", 8, 3), ("eager", 5, 3),
                     ("eager", 8, 4)]  # fmt: skip
    assert prepared == ["eager"]  # once, before the capture, outside it
    assert call.graph.replays == 3  # the captured batch run once, then batches 4 and 6 (0-based)
    captured = results[3]
    assert results[4] is captured and results[6] is captured  # replays return the graph's static outputs
    assert torch.equal(results[7][0], torch.full((8, 4), 14.0))  # another shape: eager, its own result
    call.reset()  # e.g. after a pack replaced the optimiser's state: warm up and capture anew
    call(torch.zeros(8, 3), torch.arange(8))
    assert call.graph is None and calls[-1] == ("side", 8, 3)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
@pytest.mark.parametrize("unit", ["LIF", "BA", "Real"])
def test_a_captured_step_equals_the_eager_step_with_the_same_adam(unit):
    """Step by step against the eager step with a capturable Adam too (the same arithmetic):
    4 full batches (3 warm-up, then the capture), a short one (eager), 3 replays."""
    nets, steps = [], []
    for kind in (EagerStep, CapturedStep):
        torch.manual_seed(0)
        net = build_network("fsdd", "CRNN", unit, channels=(4, 8), hidden=16, init_gain=4.0).cuda()
        net.record_activity(False)
        adam = torch.optim.Adam(net.parameters(), lr=0.01, capturable=True)
        loss = lambda out, y: torch.nn.functional.cross_entropy(out, y)  # noqa: E731
        nets.append(net)
        steps.append(kind(net, adam, loss, 0.05, *(() if kind is EagerStep else (lambda y: len(y) == 8,))))
    gen = torch.Generator().manual_seed(1)
    for size in (8, 8, 8, 8, 5, 8, 8, 8):
        x, y = torch.randn(12, size, 64, generator=gen).cuda(), torch.randint(0, 10, (size,), generator=gen).cuda()
        losses = [float(step(x, y)[1]) for step in steps]
        assert losses[1] == pytest.approx(losses[0], abs=1e-5)
    for (name, a), b in zip(nets[0].state_dict().items(), nets[1].state_dict().values()):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4, msg=name)
    assert steps[1].graph is not None


def test_captured_validation_follows_the_steps_capture_and_refuses_it_without(tmp_path, fsdd):
    assert use_captured_validation(True, "auto", True) and use_captured_validation(True, True, True)
    assert not use_captured_validation(True, "auto", False)  # auto on a CPU: off, as the steps' capture
    assert not use_captured_validation(False, True, True)
    # auto (the default): wherever the steps are captured, and never an error
    assert use_captured_validation("auto", "auto", True) and use_captured_validation("auto", True, True)
    assert not use_captured_validation("auto", "auto", False) and not use_captured_validation("auto", False, False)
    with pytest.raises(TrainingError, match="capture_validation: true needs training.cuda_graphs"):
        use_captured_validation(True, False, False)
    with pytest.raises(TrainingError, match="capture_validation"):
        train(job(tmp_path / "off", fsdd, "cpu", False, capture_validation=True))
    auto = train(job(tmp_path / "auto", fsdd, "cpu", "auto", capture_validation=True))  # on CPU: eager
    assert {r["captured_validation"] for r in auto["history"]} == {0}


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
@pytest.mark.parametrize("unit", ["LIF", "BLI", "Real"])
def test_a_captured_validation_pass_equals_the_eager_one(unit):
    """Batch by batch, eval mode with activity recorded: 3 full batches (2 warm-up, then the
    capture), a short one (eager), 3 replays; a parameter changed in place between two replays
    (as a training step changes it) is seen by the graph."""
    torch.manual_seed(0)
    net = build_network("fsdd", "CRNN", unit, channels=(4, 8), hidden=16, init_gain=4.0).cuda().eval()
    net.record_activity(True)
    loss = lambda out, y: torch.nn.functional.cross_entropy(out, y)  # noqa: E731
    eager, captured = EagerForward(net, loss), CapturedForward(net, loss, lambda y: len(y) == 8)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for k, size in enumerate((8, 8, 8, 5, 8, 8, 8)):
            if k == 5:
                next(net.parameters()).mul_(1.5)
            x, y = torch.randn(12, size, 64, generator=gen).cuda(), torch.randint(0, 10, (size,), generator=gen).cuda()
            out_c, loss_c, act_c = (t.clone() if torch.is_tensor(t) else {n: a.clone() for n, a in t.items()}
                                    for t in captured(x, y))  # fmt: skip
            out_e, loss_e, act_e = eager(x, y)
            torch.testing.assert_close(out_c, out_e, atol=1e-5, rtol=1e-4)
            assert float(loss_c) == pytest.approx(float(loss_e), abs=1e-5)
            assert act_c.keys() == act_e.keys() and act_e
            for name in act_e:
                torch.testing.assert_close(act_c[name], act_e[name], atol=1e-6, rtol=0, msg=name)
    assert captured.graph is not None


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_a_job_with_captured_validation_reports_as_the_eager_one(tmp_path, fsdd):
    eager = train(job(tmp_path / "eager", fsdd, "cuda", True))
    captured = train(job(tmp_path / "captured", fsdd, "cuda", True, capture_validation=True))
    for a, b in zip(eager["history"], captured["history"], strict=True):
        for key in ("train_loss", "val_loss", "val_accuracy"):
            assert b[key] == pytest.approx(a[key], abs=1e-5), key
    assert captured["test"]["accuracy"] == pytest.approx(eager["test"]["accuracy"], abs=1e-6)
    # 16 validation recordings, batches of 8: epoch 1's two batches warm up, epoch 2 captures
    assert [r["captured_validation"] for r in captured["history"]] == [0, 1, 1]
    assert {r["captured_validation"] for r in eager["history"]} == {0}
