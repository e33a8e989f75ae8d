"""Where the time of one minicnn training step goes: forward and backward milliseconds per Function.

    python benchmarks/profile_step.py                          # ResNet-18 CIFAR, batch 32
    python benchmarks/profile_step.py --model lenet5 --batch 64 --steps 20
    python benchmarks/profile_step.py --model resnet50 --batch 8 --inference

The script wraps ``Function.apply`` and every ``backward`` with a timer (here, not in the library), runs
one untimed step, then averages ``--steps`` steps of forward, cross-entropy, backward and SGD with
momentum. "share" is that op's forward+backward time over the whole step; "other" is the Python between
the ops (module calls, argument checks, the backward walk). The step times include the timers' own
overhead (a few microseconds per op).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from common import machine_description, set_thread_environment, threads_from_argv  # noqa: E402

THREADS = threads_from_argv()
set_thread_environment(THREADS)  # before numpy and numba start their thread pools

import numpy as np  # noqa: E402

import minicnn  # noqa: E402
import minicnn.functional as F  # noqa: E402

minicnn.cpu.keep_freed_memory()  # as a training process does (minicnn/cpu/host_memory.py)
from minicnn import autograd  # noqa: E402

MODELS = {  # name: (builder kwargs, input shape without batch, classes)
    "resnet18": ({"cifar": True, "num_classes": 10}, (3, 32, 32), 10),
    "resnet50": ({"num_classes": 1000}, (3, 224, 224), 1000),
    "lenet5": ({"input_size": 28}, (1, 28, 28), 10),
    "mobilenet_v3_large": ({"num_classes": 1000}, (3, 224, 224), 1000),
}


class OpTimer:
    """Seconds and calls per Function class, forward and backward, while installed."""

    def __init__(self):
        self.forward = collections.defaultdict(float)
        self.backward = collections.defaultdict(float)
        self.calls = collections.Counter()

    def install(self):
        timer = self
        plain_apply = autograd.Function.apply.__func__

        def timed_apply(cls, *inputs, **params):
            start = time.perf_counter()
            result = plain_apply(cls, *inputs, **params)
            timer.forward[cls.__name__] += time.perf_counter() - start
            timer.calls[cls.__name__] += 1
            return result

        autograd.Function.apply = classmethod(timed_apply)
        for cls in _subclasses(autograd.Function):
            if "backward" in cls.__dict__:
                cls.backward = _timed_backward(cls.__dict__["backward"], cls.__name__, timer)

    def clear(self):
        self.forward.clear()
        self.backward.clear()
        self.calls.clear()


def _timed_backward(backward, name, timer):
    def timed(self, grad_output):
        start = time.perf_counter()
        result = backward(self, grad_output)
        timer.backward[name] += time.perf_counter() - start
        return result

    return timed


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet18", choices=sorted(MODELS))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--inference", action="store_true", help="profile eval-mode forward passes instead")
    args = parser.parse_args(argv)

    kwargs, shape, classes = MODELS[args.model]
    minicnn.manual_seed(0)
    model = minicnn.models.get_model(args.model, **kwargs)
    rng = np.random.default_rng(0)
    images = minicnn.tensor(rng.standard_normal((args.batch,) + shape).astype(np.float32))
    labels = minicnn.tensor(rng.integers(0, classes, args.batch))
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    timer = OpTimer()
    timer.install()

    def train_step():
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        forward_done = time.perf_counter()
        loss.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        return forward_done - start, backward_done - forward_done, time.perf_counter() - backward_done

    def inference_step():
        start = time.perf_counter()
        with minicnn.no_grad():
            model(images)
        return time.perf_counter() - start, 0.0, 0.0

    if args.inference:
        model.eval()
    step = inference_step if args.inference else train_step
    step()  # warm-up: numba compilation, scratch buffers, optimizer state
    timer.clear()
    phases = np.array([step() for _ in range(args.steps)]).mean(axis=0) * 1e3
    total = phases.sum()
    per_step = 1e3 / args.steps
    names = sorted(set(timer.forward) | set(timer.backward),
                   key=lambda name: -(timer.forward[name] + timer.backward[name]))
    what = "inference" if args.inference else "training step"
    print(f"{args.model}, batch {args.batch}, {what}: {total:.1f} ms (forward {phases[0]:.1f}, backward "
          f"{phases[1]:.1f}, optimizer {phases[2]:.1f}), mean of {args.steps} steps")
    print(f"Machine: {machine_description(args.threads)}")
    print()
    print("| op | calls/step | forward ms | backward ms | share |")
    print("|---|---:|---:|---:|---:|")
    accounted = 0.0
    for name in names:
        forward, backward = timer.forward[name] * per_step, timer.backward[name] * per_step
        accounted += forward + backward
        print(f"| {name} | {timer.calls[name] // args.steps} | {forward:.1f} | {backward:.1f} | "
              f"{100 * (forward + backward) / total:.1f}% |")
    if not args.inference:
        accounted += phases[2]
        print(f"| SGD step (optimizer) | 1 | - | - | {100 * phases[2] / total:.1f}% |")
    print(f"| other (Python between ops) | - | - | - | {100 * (total - accounted) / total:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
