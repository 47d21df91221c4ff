"""A pass's running sums: equal to the host's sums bit for bit, and a broken loss named one batch late."""

from __future__ import annotations

import pytest
import torch

from glifbench.errors import TrainingError
from glifbench.tasks import task
from glifbench.training.totals import PassTotals


def test_sums_equal_host_sums_bit_for_bit():
    gen = torch.Generator().manual_seed(0)
    totals = PassTotals(task("fsdd"), torch.device("cpu"), ["job"], "training")
    host_loss, host_correct, n_all = 0.0, 0, 0
    for n in (8, 8, 8, 5):
        loss = torch.rand((), generator=gen, dtype=torch.float32) * 3
        out = torch.randn(n, 10, generator=gen)
        y = torch.randint(0, 10, (n,), generator=gen)
        totals.add(loss, out, y, n)
        host_loss += loss.item() * n
        host_correct += int((out.argmax(dim=1) == y).sum())
        n_all += n
    totals.check()
    assert totals.means() == [{"loss": host_loss / n_all, "accuracy": host_correct / n_all}]


def test_pack_sums_per_model():
    totals = PassTotals(task("mnist"), torch.device("cpu"), ["a", "b"], "training")
    out = torch.zeros(2, 4, 10)
    out[0, :, 3] = 1  # model a says 3 everywhere, model b says 0
    totals.add(torch.tensor([1.0, 2.0]), out, torch.tensor([[3, 3, 0, 0], [3, 3, 0, 0]]), 4)
    totals.add(torch.tensor([3.0, 4.0]), out, torch.tensor([[3, 3, 3, 3], [0, 0, 0, 0]]), 4)
    assert totals.means() == [{"loss": 2.0, "accuracy": 6 / 8}, {"loss": 3.0, "accuracy": 6 / 8}]


def test_regression_has_no_accuracy():
    totals = PassTotals(task("sot"), torch.device("cpu"), ["job"], "validation")
    totals.add(torch.tensor(0.5), torch.zeros(3, 2, 2), torch.zeros(3, 2, 2), 2)
    assert totals.means() == [{"loss": 0.5}]


CUDA = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"))


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_broken_loss_is_named_one_batch_late(device):
    totals = PassTotals(task("fsdd"), torch.device(device), ["good", "bad"], "training", hint=": train it alone")
    out, y = torch.zeros(2, 4, 10, device=device), torch.zeros(2, 4, dtype=torch.long, device=device)
    totals.add(torch.tensor([1.0, float("nan")], device=device), out, y, 4)  # not asked yet: it may still run
    with pytest.raises(TrainingError, match=r"^bad: loss is nan \(training\): train it alone$"):
        totals.add(torch.tensor([1.0, 1.0], device=device), out, y, 4)


def test_check_sees_the_last_batch():
    totals = PassTotals(task("fsdd"), torch.device("cpu"), ["job"], "validation")
    totals.add(torch.tensor(1.0), torch.zeros(4, 10), torch.zeros(4, dtype=torch.long), 4)
    totals.check()
    totals.add(torch.tensor(float("inf")), torch.zeros(4, 10), torch.zeros(4, dtype=torch.long), 4)
    with pytest.raises(TrainingError, match=r"job: loss is inf \(validation\)"):
        totals.check()
