"""The optimizers update in place through reused scratch arrays: gradients stay as backward made them,
and parameters of different shapes and dtypes can share one optimizer."""
import numpy as np
import pytest

import minicnn
from minicnn import backend

UPDATES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"lr": 0.01, "maximize": True, "amsgrad": True}),
]


@pytest.mark.parametrize("name,options", UPDATES, ids=[f"{n}-{o}" for n, o in UPDATES])
def test_step_leaves_gradients_untouched_and_matches_fresh_temporaries(device, name, options):
    rng = np.random.default_rng(3)
    shapes = [(5, 3), (7,), (2, 3, 4)]  # the largest first and last: the scratch is grown and sliced
    params, twins = [], []
    for shape in shapes:
        values = rng.standard_normal(shape)
        params.append(minicnn.nn.Parameter(minicnn.tensor(values, device=device)))
        twins.append(minicnn.nn.Parameter(minicnn.tensor(values, device=device)))
    shared = getattr(minicnn.optim, name)(params, **options)
    # one optimizer per parameter: its scratch arrays are never shared, so they cannot leak between them
    alone = [getattr(minicnn.optim, name)([twin], **options) for twin in twins]
    for _ in range(3):
        grads = [rng.standard_normal(shape) for shape in shapes]
        for param, twin, grad in zip(params, twins, grads):
            param.grad = minicnn.tensor(grad, device=device)
            twin.grad = minicnn.tensor(grad, device=device)
        shared.step()
        for optimizer in alone:
            optimizer.step()
        for param, twin, grad in zip(params, twins, grads):
            np.testing.assert_array_equal(backend.to_host(param.grad.array), grad)
            np.testing.assert_array_equal(backend.to_host(param.array), backend.to_host(twin.array))
