"""The measuring parts of benchmarks/bench_train.py: the step timer, the pair ratios, the burnt core."""
import importlib.util
import pathlib
import time

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    import sys

    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_step_timings_report_the_median_the_first_steps_and_how_busy_the_cores_were():
    common = _load("common")
    calls = []

    def step():  # the first call is slow (a warm-up), the others sleep without using the CPU
        time.sleep(0.05 if not calls else 0.005)
        calls.append(1)

    result = common.step_timings(step, steps=6, warmup=2, min_seconds=0.0)
    assert len(calls) == 8 and len(result["first"]) == 5 and len(result["first_cpu"]) == 5
    assert 0.004 < result["seconds"] < 0.05
    assert result["first"][0] > 5 * result["seconds"]
    assert result["cores_busy"] < 0.5  # sleeping keeps no core busy


def test_ratios_are_taken_within_each_pair_and_failed_pairs_are_left_out():
    bench = _load("bench_train")
    pairs = [({"t": 2.0}, {"t": 1.0}), ({"t": 3.0}, None), ({"t": 1.0}, {"t": 2.0}), ({"t": 1.0}, {"t": 1.0})]
    ratios = bench.pair_ratios(pairs, "t")
    assert ratios == [2.0, 0.5, 1.0]
    assert bench.format_ratios(ratios) == ("1.00", "0.50-2.00")
    assert bench.format_ratios([]) == ("-", "-")


def test_the_burnt_core_is_released_even_when_the_measurement_fails(monkeypatch):
    bench = _load("bench_train")
    started = []
    real_popen = bench.subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(bench.subprocess, "Popen", recording_popen)
    with pytest.raises(RuntimeError, match="measurement failed"):
        with bench.one_core_burnt(True):
            assert started[0].poll() is None  # spinning
            raise RuntimeError("measurement failed")
    assert started[0].poll() is not None
    with bench.one_core_burnt(False):
        assert len(started) == 1  # no burner without --noisy
