"""Learning-rate schedulers give exactly torch's lr sequences and resume from their state_dict."""
import pytest

import minicnn
from minicnn import nn
from minicnn.optim import lr_scheduler
from helpers import import_torch

STEPS = 30
SCHEDULERS = [
    ("StepLR", {"step_size": 4}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20]}),
    ("MultiStepLR", {"milestones": [5, 12], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
]


def lr_sequence(lib, name, options, steps=STEPS):
    """[get_last_lr() after construction, after step 1, ...] for a two-group SGD."""
    params = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))]
    optimizer = lib.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.03}], lr=0.1, momentum=0.9)
    scheduler = getattr(lib.optim.lr_scheduler, name)(optimizer, **options)
    sequence = [list(scheduler.get_last_lr())]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        sequence.append(list(scheduler.get_last_lr()))
        assert [g["lr"] for g in optimizer.param_groups] == sequence[-1]
    return sequence


@pytest.mark.parametrize("name,options", SCHEDULERS, ids=[f"{n}-{o}" for n, o in SCHEDULERS])
def test_lr_sequence_equals_torch(name, options):
    torch = import_torch()
    assert lr_sequence(minicnn, name, options) == lr_sequence(torch, name, options)


def test_construction_records_initial_lr_and_takes_step_zero():
    param = nn.Parameter(minicnn.zeros(1))
    optimizer = minicnn.optim.SGD([param], lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == [0.1]
    assert optimizer.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(minicnn.optim.SGD([param], lr=0.1), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR("sgd", step_size=2)


@pytest.mark.parametrize("name,options", SCHEDULERS, ids=[f"{n}-{o}" for n, o in SCHEDULERS])
def test_state_dict_resumes_the_same_sequence(tmp_path, name, options):
    expected = lr_sequence(minicnn, name, options, steps=16)

    def build():
        optimizer = minicnn.optim.SGD([nn.Parameter(minicnn.zeros(2))], lr=0.1)
        return optimizer, getattr(lr_scheduler, name)(optimizer, **options)

    optimizer, scheduler = build()
    for _ in range(7):
        scheduler.step()
    minicnn.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "s.ckpt")
    saved = minicnn.load(tmp_path / "s.ckpt")
    optimizer, scheduler = build()
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    resumed = [scheduler.get_last_lr()]
    for _ in range(9):
        scheduler.step()
        resumed.append(scheduler.get_last_lr())
    assert [lrs[0] for lrs in expected[7:]] == [lrs[0] for lrs in resumed]
