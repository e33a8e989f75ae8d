"""RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam and the added schedulers follow torch's trajectories."""
import warnings

import numpy as np
import pytest

import minicnn

from helpers import import_torch, rel_error


def trajectories(make_ours, make_theirs, steps=20):
    """Both optimizers over 20 steps of the same gradients g = sin(3p) + 0.03 k p; the worst relative error."""
    torch = import_torch()
    start = [np.random.default_rng(0).standard_normal((3, 4)), np.random.default_rng(1).standard_normal(5)]
    ours = [minicnn.nn.Parameter(minicnn.tensor(s.copy())) for s in start]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in start]
    optimizer, reference = make_ours(ours), make_theirs(theirs)
    worst = 0.0
    for k in range(steps):
        for a, b in zip(ours, theirs):
            grad = np.sin(3 * a.array) + 0.03 * k * a.array
            a.grad, b.grad = minicnn.tensor(grad.copy()), torch.tensor(grad.copy())
        optimizer.step()
        reference.step()
        worst = max([worst] + [rel_error(a.array, b.detach().numpy()) for a, b in zip(ours, theirs)])
    return worst


OPTIMIZERS = [
    ("RMSprop", {}), ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(momentum=0.5, maximize=True)),
    ("Adagrad", {}), ("Adagrad", dict(lr_decay=0.1, initial_accumulator_value=0.2, weight_decay=0.1)),
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", {}), ("Adamax", dict(weight_decay=0.1)),
    ("NAdam", {}), ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("RAdam", {}), ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=[f"{n}-{sorted(o)}" for n, o in OPTIMIZERS])
def test_optimizer_follows_torchs_trajectory_in_float64(name, options):
    torch = import_torch()
    worst = trajectories(lambda p: getattr(minicnn.optim, name)(p, **options),
                         lambda p: getattr(torch.optim, name)(p, **options))
    assert worst < 1e-10


def test_add_param_group_gives_the_new_group_the_defaults_and_steps_it():
    torch = import_torch()

    def build(library, params):
        optimizer = library.optim.RMSprop([params[0]], lr=0.05, momentum=0.5)
        optimizer.add_param_group({"params": [params[1]], "lr": 0.2})
        return optimizer

    assert trajectories(lambda p: build(minicnn, p), lambda p: build(torch, p)) < 1e-10
    optimizer = build(minicnn, [minicnn.nn.Parameter(minicnn.zeros(1)), minicnn.nn.Parameter(minicnn.zeros(1))])
    assert optimizer.param_groups[1]["momentum"] == 0.5 and optimizer.param_groups[1]["lr"] == 0.2


def test_optimizer_state_dict_round_trip_continues_the_trajectory():
    params = [minicnn.nn.Parameter(minicnn.tensor(np.linspace(-1, 1, 6)))]
    optimizer = minicnn.optim.NAdam(params, lr=0.1)
    for _ in range(3):
        params[0].grad = minicnn.tensor(np.sin(params[0].array))
        optimizer.step()
    copy = [minicnn.nn.Parameter(minicnn.tensor(params[0].array.copy()))]
    resumed = minicnn.optim.NAdam(copy, lr=0.1)
    resumed.load_state_dict(optimizer.state_dict())
    for p, o in ((params, optimizer), (copy, resumed)):
        p[0].grad = minicnn.tensor(np.sin(p[0].array))
        o.step()
    assert np.array_equal(params[0].array, copy[0].array)


@pytest.mark.parametrize("name, kwargs", [("RMSprop", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)),
                                          ("Adadelta", dict(rho=1.5)), ("Adamax", dict(betas=(1.0, 0.9))),
                                          ("NAdam", dict(momentum_decay=-1)), ("RAdam", dict(eps=-1))])
def test_bad_options_raise_value_error_like_torch(name, kwargs):
    torch = import_torch()
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError):
        getattr(minicnn.optim, name)([minicnn.nn.Parameter(minicnn.zeros(1))], **kwargs)


def schedule(library, make, steps=25, metrics=None, optimizer="SGD"):
    params = [library.nn.Parameter(library.zeros(2)), library.nn.Parameter(library.zeros(3))]
    if optimizer == "SGD":
        opt = library.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1, momentum=0.9)
    else:
        opt = library.optim.Adam(params, lr=0.1)
    scheduler = make(library.optim.lr_scheduler, opt)
    rows = []
    for k in range(steps):
        opt.step()
        scheduler.step(metrics[k]) if metrics else scheduler.step()
        rows.append([g["lr"] for g in opt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                          for g in opt.param_groups])
    return np.asarray(rows, dtype=float), scheduler, opt


PLATEAU_METRICS = [5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
SCHEDULES = {
    "LambdaLR": (lambda L, o: L.LambdaLR(o, lambda e: 0.9 ** e), "SGD"),
    "MultiplicativeLR": (lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.95, lambda e: 0.9]), "SGD"),
    "LinearLR": (lambda L, o: L.LinearLR(o, 0.2, 1.0, 7), "SGD"),
    "ConstantLR": (lambda L, o: L.ConstantLR(o, 0.3, 6), "SGD"),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o, 10, 2.0), "SGD"),
    "CosineAnnealingWarmRestarts": (lambda L, o: L.CosineAnnealingWarmRestarts(o, 4, 2, 0.001), "SGD"),
    "CyclicLR_triangular2": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, 3, 5, mode="triangular2"), "SGD"),
    "CyclicLR_exp_range_betas": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, 3, mode="exp_range", gamma=0.9), "Adam"),
    "OneCycleLR": (lambda L, o: L.OneCycleLR(o, [1.0, 2.0], total_steps=25), "SGD"),
    "OneCycleLR_three_phase_linear": (lambda L, o: L.OneCycleLR(o, 1.0, epochs=5, steps_per_epoch=5,
                                                                three_phase=True, anneal_strategy="linear"), "Adam"),
    "SequentialLR": (lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=4), L.ExponentialLR(o, 0.9),
                                                     L.StepLR(o, 3)], milestones=[5, 12]), "SGD"),
    "ChainedScheduler": (lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, 4), L.ExponentialLR(o, 0.9)]), "SGD"),
    "ReduceLROnPlateau": (lambda L, o: L.ReduceLROnPlateau(o, patience=2, cooldown=1, factor=0.5), "SGD"),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_scheduler_follows_torchs_learning_rates_and_momenta(name):
    torch = import_torch()
    make, optimizer = SCHEDULES[name]
    metrics = PLATEAU_METRICS if name == "ReduceLROnPlateau" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, scheduler, _ = schedule(minicnn, make, metrics=metrics, optimizer=optimizer)
        theirs, reference, _ = schedule(torch, make, metrics=metrics, optimizer=optimizer)
    assert rel_error(ours, theirs) < 1e-12
    assert scheduler.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_scheduler_state_dict_resumes_the_schedule(name, tmp_path):
    make, optimizer = SCHEDULES[name]
    metrics = PLATEAU_METRICS if name == "ReduceLROnPlateau" else None
    full, _, _ = schedule(minicnn, make, steps=12, metrics=metrics, optimizer=optimizer)
    _, scheduler, opt = schedule(minicnn, make, steps=6, metrics=metrics, optimizer=optimizer)
    minicnn.save(scheduler.state_dict(), tmp_path / "scheduler.pt")  # only plain values: it must serialize
    state = minicnn.load(tmp_path / "scheduler.pt")
    _, fresh, fresh_opt = schedule(minicnn, make, steps=0, metrics=metrics, optimizer=optimizer)
    fresh_opt.load_state_dict(opt.state_dict())
    fresh.load_state_dict(state)
    rows = []
    for k in range(6, 12):
        fresh_opt.step()
        fresh.step(metrics[k]) if metrics else fresh.step()
        rows.append([g["lr"] for g in fresh_opt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                                for g in fresh_opt.param_groups])
    assert np.allclose(np.asarray(rows), full[6:], rtol=1e-12, atol=0)


def test_step_with_an_epoch_warns_and_uses_the_closed_form_as_torch():
    torch = import_torch()
    values = {}
    for library in (minicnn, torch):
        opt = library.optim.SGD([library.nn.Parameter(library.zeros(1))], lr=1.0)
        scheduler = library.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(5)
        values[library.__name__] = (opt.param_groups[0]["lr"], scheduler.last_epoch)
    assert values["minicnn"] == values["torch"] == (0.25, 5)
    opt = minicnn.optim.SGD([minicnn.nn.Parameter(minicnn.zeros(1))], lr=1.0)
    warm = minicnn.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warm.step(1.5)  # fractional epochs are this schedule's own interface: no warning
    assert opt.param_groups[0]["lr"] == pytest.approx((1 + np.cos(np.pi * 1.5 / 4)) / 2)


def test_reduce_lr_on_plateau_takes_a_tensor_loss_and_checks_its_factor():
    opt = minicnn.optim.SGD([minicnn.nn.Parameter(minicnn.zeros(1))], lr=1.0)
    plateau = minicnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    plateau.step(minicnn.tensor(1.0))
    plateau.step(minicnn.tensor(2.0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1) and plateau.get_last_lr() == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match="Factor"):
        minicnn.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
