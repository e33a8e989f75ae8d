"""SGD, Adam and AdamW follow torch.optim's trajectories; param groups, frozen params, state dicts."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from helpers import host, import_torch, rel_error

SHAPES = [(4, 3), (5,), (2, 3, 3, 3)]
STEPS = 20


def gradient_sequence(steps=STEPS, seed=0):
    """The same gradients for both libraries: one list of arrays per step."""
    generator = np.random.default_rng(seed)
    return [[generator.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]


def run_trajectories(torch, make_ours, make_theirs, device, gradients):
    """Apply the same gradient sequence with both optimizers; return the worst relative error per step."""
    start = np.random.default_rng(1)
    initial = [start.standard_normal(shape) for shape in SHAPES]
    ours = [nn.Parameter(minicnn.tensor(a, device=device)) for a in initial]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in initial]
    ours_opt, theirs_opt = make_ours(ours), make_theirs(theirs)
    worst = 0.0
    for step_grads in gradients:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad = minicnn.tensor(g, device=device)
            q.grad = torch.tensor(g)
        ours_opt.step()
        theirs_opt.step()
        for p, q in zip(ours, theirs):
            worst = max(worst, rel_error(host(p), q.detach().numpy()))
    return worst


SGD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.1, "weight_decay": 0.1, "nesterov": False},
    {"lr": 0.1, "momentum": 0.5, "maximize": True},
    {"lr": 0.03, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3, "maximize": True},
]
ADAM_OPTIONS = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True},
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=[str(o) for o in SGD_OPTIONS])
def test_sgd_follows_torch(device, options):
    torch = import_torch()
    worst = run_trajectories(torch, lambda p: minicnn.optim.SGD(p, **options),
                             lambda p: torch.optim.SGD(p, **options), device, gradient_sequence())
    assert worst < 1e-10


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=[str(o) for o in ADAM_OPTIONS])
def test_adam_family_follows_torch(device, name, options):
    torch = import_torch()
    worst = run_trajectories(torch, lambda p: getattr(minicnn.optim, name)(p, **options),
                             lambda p: getattr(torch.optim, name)(p, **options), device, gradient_sequence())
    assert worst < 1e-10


def test_param_groups_use_their_own_options(device):
    torch = import_torch()

    def groups(params, lib):
        return [{"params": params[:2], "lr": 0.5}, {"params": params[2:], "momentum": 0.9}]

    worst = run_trajectories(
        torch, lambda p: minicnn.optim.SGD(groups(p, minicnn), lr=0.01),
        lambda p: torch.optim.SGD(groups(p, torch), lr=0.01), device, gradient_sequence())
    assert worst < 1e-10
    optimizer = minicnn.optim.SGD(groups([nn.Parameter(minicnn.zeros(1)) for _ in SHAPES], minicnn), lr=0.01)
    assert [g["lr"] for g in optimizer.param_groups] == [0.5, 0.01]
    assert [g["momentum"] for g in optimizer.param_groups] == [0, 0.9]


def test_add_param_group_and_its_checks():
    first, second = nn.Parameter(minicnn.zeros(2)), nn.Parameter(minicnn.zeros(3))
    optimizer = minicnn.optim.Adam([first], lr=0.1)
    optimizer.add_param_group({"params": second, "lr": 0.2})
    assert optimizer.param_groups[1]["betas"] == (0.9, 0.999) and optimizer.param_groups[1]["lr"] == 0.2
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [first]})
    with pytest.raises(ValueError, match="empty parameter list"):
        minicnn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        minicnn.optim.SGD(first, lr=0.1)


@pytest.mark.parametrize("options,message", [
    ({"lr": 0.1, "nesterov": True}, "Nesterov"),
    ({"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov"),
    ({"lr": -1}, "learning rate"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum"),
])
def test_sgd_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        minicnn.optim.SGD([nn.Parameter(minicnn.zeros(1))], **options)


def test_adam_rejects_bad_betas():
    with pytest.raises(ValueError, match="beta"):
        minicnn.optim.Adam([nn.Parameter(minicnn.zeros(1))], betas=(1.0, 0.9))


@pytest.mark.parametrize("make", [
    lambda p: minicnn.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: minicnn.optim.Adam(p, lr=0.1, weight_decay=0.1),
    lambda p: minicnn.optim.AdamW(p, lr=0.1),
], ids=["sgd", "adam", "adamw"])
def test_frozen_and_gradless_parameters_stay_bit_identical(device, make):
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)).to(device)
    model[0].requires_grad_(False)
    frozen_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("0.")}
    optimizer = make(model.parameters())
    for _ in range(3):
        optimizer.zero_grad()
        model(minicnn.randn(5, 4, device=device)).sum().backward()
        optimizer.step()
    for key, value in frozen_before.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)
    assert not np.array_equal(host(model.state_dict()["1.weight"]), host(frozen_before["0.weight"][:2, :3]))
    # A parameter that requires grad but got none this step is skipped too.
    lonely = nn.Parameter(minicnn.ones(3, device=device))
    optimizer = make([lonely])
    optimizer.step()
    np.testing.assert_array_equal(host(lonely), np.ones(3))


def test_zero_grad_sets_to_none_by_default(device):
    param = nn.Parameter(minicnn.ones(3, device=device))
    param.grad = minicnn.ones(3, device=device)
    optimizer = minicnn.optim.SGD([param], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(host(param.grad), np.zeros(3))
    optimizer.zero_grad()
    assert param.grad is None


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True})])
def test_updates_happen_in_place_on_the_parameter_device(device, name, options):
    param = nn.Parameter(minicnn.ones(3, device=device, dtype=minicnn.float32))
    data = param.array
    # A numpy float64 option must not turn the float32 update into a float64 one.
    optimizer = getattr(minicnn.optim, name)([param], lr=np.float64(0.1), weight_decay=np.float64(0.01), **options)
    param.grad = minicnn.ones(3, device=device)
    optimizer.step()
    assert param.array is data and param.dtype == np.float32 and param.device == device
    arrays = [v for v in optimizer.state[param].values() if hasattr(v, "dtype")]
    assert arrays and all(v.dtype == np.float32 and minicnn.backend.device_of(v) == device for v in arrays)


@pytest.mark.parametrize("name,options", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
])
def test_state_dict_round_trip_continues_the_same_trajectory(device, tmp_path, name, options):
    gradients = gradient_sequence(10)
    initial = [np.random.default_rng(3).standard_normal(shape) for shape in SHAPES]

    def fresh():
        params = [nn.Parameter(minicnn.tensor(a, device=device)) for a in initial]
        return params, getattr(minicnn.optim, name)(params, **options)

    def apply(params, optimizer, grads_per_step):
        for step_grads in grads_per_step:
            for p, g in zip(params, step_grads):
                p.grad = minicnn.tensor(g, device=device)
            optimizer.step()

    straight_params, straight = fresh()
    apply(straight_params, straight, gradients)

    first_params, first = fresh()
    apply(first_params, first, gradients[:4])
    minicnn.save({"params": [p.array for p in first_params], "optimizer": first.state_dict()}, tmp_path / "opt.ckpt")
    saved = minicnn.load(tmp_path / "opt.ckpt")
    resumed_params, resumed = fresh()
    with minicnn.no_grad():
        for p, values in zip(resumed_params, saved["params"]):
            p.copy_(values)
    resumed.load_state_dict(saved["optimizer"])
    assert resumed.state_dict()["param_groups"] == first.state_dict()["param_groups"]
    apply(resumed_params, resumed, gradients[4:])
    for p, q in zip(resumed_params, straight_params):
        np.testing.assert_array_equal(host(p), host(q))


def test_state_dict_uses_torch_layout():
    torch = import_torch()
    values = [np.ones((2, 2)), np.ones(3)]
    ours = [nn.Parameter(minicnn.tensor(v)) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    ours_opt = minicnn.optim.SGD([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5}], lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p, q in zip(ours, theirs):
        p.grad, q.grad = minicnn.ones_like(p), torch.ones_like(q)
    ours_opt.step()
    theirs_opt.step()
    mine, reference = ours_opt.state_dict(), theirs_opt.state_dict()
    assert sorted(mine["state"]) == sorted(reference["state"]) == [0, 1]
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in reference["param_groups"]]
    for group, reference_group in zip(mine["param_groups"], reference["param_groups"]):
        assert set(group) <= set(reference_group)
        assert all(group[k] == reference_group[k] for k in group)
    for index in (0, 1):
        buffer = mine["state"][index]["momentum_buffer"]
        assert isinstance(buffer, minicnn.Tensor) and isinstance(reference["state"][index]["momentum_buffer"], torch.Tensor)
        np.testing.assert_array_equal(buffer.numpy(), reference["state"][index]["momentum_buffer"].numpy())


def test_load_state_dict_checks_group_sizes():
    optimizer = minicnn.optim.SGD([nn.Parameter(minicnn.zeros(1))], lr=0.1)
    other = minicnn.optim.SGD([nn.Parameter(minicnn.zeros(1)), nn.Parameter(minicnn.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters"):
        optimizer.load_state_dict(other.state_dict())
