"""``minicnn gradcheck``: check the backward pass of every layer op against finite differences.

Each row runs ``minicnn.gradcheck`` (every input element, float64, central differences) on small inputs
and shows the largest |analytic - numeric| gradient difference found, so one sees how far inside the
tolerance each op is. Exit code 1 when any row fails.
"""
from __future__ import annotations

import time

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..gradcheck import GradcheckError, gradcheck


def add_parser(commands) -> None:
    parser = commands.add_parser("gradcheck", help="check every op's gradient numerically (float64)",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or sim (default cpu)")
    parser.add_argument("--filter", default=None, metavar="TEXT", help="only the ops whose name contains TEXT")
    parser.set_defaults(run=run)


def _labels(n, classes):
    return np.arange(n) % classes


# (op name, {input name: shape, or ("labels", n, classes)}, function of those inputs)
CASES = [
    ("conv2d", {"x": (2, 3, 7, 6), "w": (4, 3, 3, 3), "b": (4,)}, lambda x, w, b: F.conv2d(x, w, b)),
    ("conv2d stride 2 pad 1", {"x": (2, 2, 7, 7), "w": (3, 2, 3, 3), "b": (3,)},
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    ("conv2d dilation 2", {"x": (1, 2, 7, 8), "w": (2, 2, 3, 3)}, lambda x, w: F.conv2d(x, w, None, dilation=2)),
    ("conv2d groups 2", {"x": (2, 4, 5, 5), "w": (6, 2, 3, 3), "b": (6,)},
     lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2)),
    ("conv2d 1x1", {"x": (2, 3, 4, 5), "w": (2, 3, 1, 1), "b": (2,)}, lambda x, w, b: F.conv2d(x, w, b)),
    ("max_pool2d 2", {"x": (2, 3, 6, 6)}, lambda x: F.max_pool2d(x, 2)),
    ("max_pool2d 3 stride 2 pad 1", {"x": (1, 2, 7, 7)}, lambda x: F.max_pool2d(x, 3, stride=2, padding=1)),
    ("avg_pool2d 2", {"x": (2, 3, 6, 6)}, lambda x: F.avg_pool2d(x, 2)),
    ("avg_pool2d 3 stride 2 pad 1", {"x": (1, 2, 7, 7)}, lambda x: F.avg_pool2d(x, 3, stride=2, padding=1)),
    ("adaptive_avg_pool2d 1", {"x": (2, 3, 5, 4)}, lambda x: F.adaptive_avg_pool2d(x, 1)),
    ("batch_norm train", {"x": (4, 3, 3, 2), "g": (3,), "b": (3,)},
     lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True)),
    ("batch_norm eval", {"x": (2, 3, 3, 2), "g": (3,), "b": (3,)},
     lambda x, g, b: F.batch_norm(x, _constant(np.full(3, 0.1), x), _constant(np.full(3, 1.5), x), g, b,
                                  training=False)),
    ("relu", {"x": (3, 7)}, lambda x: F.relu(x)),
    ("leaky_relu", {"x": (3, 7)}, lambda x: F.leaky_relu(x, 0.1)),
    ("sigmoid", {"x": (3, 7)}, lambda x: F.sigmoid(x)),
    ("tanh", {"x": (3, 7)}, lambda x: F.tanh(x)),
    ("linear", {"x": (3, 5), "w": (4, 5), "b": (4,)}, lambda x, w, b: F.linear(x, w, b)),
    ("log_softmax", {"x": (4, 5)}, lambda x: F.log_softmax(x, dim=1)),
    ("softmax", {"x": (4, 5)}, lambda x: F.softmax(x, dim=1)),
    ("cross_entropy", {"x": (4, 5), "t": ("labels", 4, 5)}, lambda x, t: F.cross_entropy(x, t)),
    ("nll_loss", {"x": (4, 5), "t": ("labels", 4, 5)}, lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t)),
    ("mse_loss", {"x": (3, 4), "y": (3, 4)}, lambda x, y: F.mse_loss(x, y)),
]


def _constant(values, like: Tensor) -> Tensor:
    return Tensor(values.astype(np.float64), device=like.device)


def _make_inputs(specification: dict, device: str, seed: int) -> list:
    generator = np.random.default_rng(seed)
    inputs = []
    for shape in specification.values():
        if shape[0] == "labels":
            inputs.append(Tensor(_labels(shape[1], shape[2]).astype(np.int64), device=device))
        else:
            inputs.append(Tensor(generator.standard_normal(shape), requires_grad=True, device=device))
    return inputs


def max_abs_error(function, inputs, eps: float = 1e-6, seed: int = 1) -> float:
    """max |analytic - numeric| over every input element, for the gradient of sum(v * f(x)), random v.

    The same central differences as ``minicnn.gradcheck``, kept here to report the size of the error,
    which gradcheck only compares with its tolerance.
    """
    generator = np.random.default_rng(seed)
    checked = [t for t in inputs if t.requires_grad]
    output = function(*inputs)
    weights = backend.to_device(generator.standard_normal(output.shape), output.device)
    for tensor in checked:
        tensor.grad = None
    output.backward(weights)
    worst = 0.0
    with no_grad():
        for tensor in checked:
            analytic = backend.to_host(tensor.grad.array).reshape(-1)
            host_values = backend.to_host(tensor.array).copy().reshape(-1)
            for k in range(host_values.size):
                projections = []
                for step in (eps, -eps):
                    moved = host_values.copy()
                    moved[k] += step
                    tensor.array = backend.to_device(moved.reshape(tensor.shape), tensor.device)
                    projections.append(float(backend.to_host((function(*inputs).array * weights).sum())))
                numeric = (projections[0] - projections[1]) / (2 * eps)
                worst = max(worst, abs(float(analytic[k]) - numeric))
            tensor.array = backend.to_device(host_values.reshape(tensor.shape), tensor.device)
    return worst


def run(args) -> int:
    from .errors import UsageError

    try:
        device = backend.normalize_device(args.device)
        backend.array_module_for(device)
    except (ValueError, RuntimeError, ImportError) as error:
        raise UsageError(str(error)) from None
    cases = [case for case in CASES if args.filter is None or args.filter in case[0]]
    if not cases:
        raise UsageError(f"no op matches --filter {args.filter!r}; ops: {', '.join(name for name, _, _ in CASES)}")
    print(f"{'op':<30} {'input shapes':<34} {'max abs error':>13} {'time':>7}  result")
    failures, started = 0, time.perf_counter()
    for index, (name, specification, function) in enumerate(cases):
        shapes = " ".join("x".join(map(str, s)) for s in specification.values() if s[0] != "labels")
        case_started = time.perf_counter()
        try:
            error = max_abs_error(function, _make_inputs(specification, device, seed=index))
            gradcheck(function, _make_inputs(specification, device, seed=index))
            result = "pass"
        except GradcheckError as failure:
            result, failures = "FAIL " + str(failure).split(": ", 1)[-1], failures + 1
        except Exception as failure:  # an op that raises is a failed check too, reported in its row
            error, result, failures = float("nan"), f"ERROR {type(failure).__name__}: {failure}", failures + 1
        seconds = time.perf_counter() - case_started
        print(f"{name:<30} {shapes:<34} {error:>13.2e} {seconds:>6.2f}s  {result}")
    print(f"{len(cases) - failures} passed, {failures} failed in {time.perf_counter() - started:.1f}s "
          f"(float64, device {device})")
    return 1 if failures else 0
