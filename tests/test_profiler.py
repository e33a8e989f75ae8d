"""minicnn.profiler: per-op calls, times, FLOPs and saved bytes; ranges; the Chrome trace; the CLI."""
import json

import numpy as np
import pytest

import minicnn
import minicnn.functional as F
import minicnn.nn as nn
from minicnn import autograd, profiler
from minicnn.cli import main


def _conv_linear_step(profile_memory=True, record_shapes=True):
    conv = nn.Conv2d(2, 4, 3)  # 6x6 -> 4x4
    linear = nn.Linear(4 * 4 * 4, 5)
    x = minicnn.randn(3, 2, 6, 6)
    with profiler.profile(record_shapes=record_shapes, profile_memory=profile_memory) as prof:
        with profiler.record_function("step"):
            logits = linear(minicnn.flatten(conv(x), 1))
            F.cross_entropy(logits, minicnn.tensor([0, 1, 2])).backward()
    return prof


def _row(averages, key):
    return next(row for row in averages if row.key == key)


def test_key_averages_count_calls_per_op_and_direction():
    averages = _conv_linear_step().key_averages()
    for key in ("Conv2d (forward)", "Conv2d (backward)", "Linear (forward)", "Linear (backward)"):
        assert _row(averages, key).count == 1
    assert _row(averages, "step").count == 1 and _row(averages, "step").direction == ""


def test_flops_of_conv_and_linear_follow_their_formulas():
    averages = _conv_linear_step().key_averages()
    conv_forward = 2 * (3 * 4 * 4 * 4) * (2 * 3 * 3)  # 2 * numel(y) * C_in * kh * kw
    linear_forward = 2 * (3 * 5) * 64
    assert _row(averages, "Conv2d (forward)").flops == conv_forward
    assert _row(averages, "Conv2d (backward)").flops == conv_forward  # only dW: x needs no gradient
    assert _row(averages, "Linear (forward)").flops == linear_forward
    assert _row(averages, "Linear (backward)").flops == 2 * linear_forward  # dX and dW
    assert _row(averages, "CrossEntropy (forward)").flops == 0


@pytest.mark.parametrize("profile_memory", [True, False])
def test_saved_bytes_are_counted_only_with_profile_memory(profile_memory):
    linear = _row(_conv_linear_step(profile_memory=profile_memory).key_averages(), "Linear (forward)")
    # Linear saves its input (3, 64) and weight (5, 64), float32.
    assert linear.saved_bytes == ((3 * 64 + 5 * 64) * 4 if profile_memory else 0)


def test_a_range_total_covers_its_ops_and_self_time_excludes_them():
    events = _conv_linear_step().events()
    step = next(event for event in events if event.name == "step")
    ops = sum(event.duration_us for event in events if event.direction)
    assert step.cpu_time_total >= ops
    assert step.self_cpu_time_total == pytest.approx(step.cpu_time_total - ops, abs=1e-3)
    assert all(event.self_cpu_time_total == event.cpu_time_total for event in events if event.direction)


def test_record_shapes_groups_by_input_shape():
    grouped = _conv_linear_step().key_averages(group_by_input_shape=True)
    assert _row(grouped, "Conv2d (forward)").input_shapes == [(3, 2, 6, 6), (4, 2, 3, 3), (4,)]
    assert _row(_conv_linear_step(record_shapes=False).key_averages(), "Conv2d (forward)").input_shapes == []


def test_table_sorts_and_limits_rows():
    table = _conv_linear_step().key_averages().table(sort_by="flops", row_limit=2)
    rows = [line for line in table.splitlines() if line.startswith(("Conv2d", "Linear"))]
    # Conv2d: 6912 FLOPs each way, more than Linear's 3840 backward and 1920 forward.
    assert sorted(row.split()[:2] for row in rows) == [["Conv2d", "backward"], ["Conv2d", "forward"]]
    assert "Self CPU time total" in table and "FLOPs" in table and "Saved for backward" in table
    with pytest.raises(ValueError, match="sort_by"):
        _conv_linear_step().key_averages().table(sort_by="nonsense")


def test_chrome_trace_is_valid_trace_event_json(tmp_path):
    path = tmp_path / "trace.json"
    _conv_linear_step().export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert {"Conv2d (forward)", "Conv2d (backward)", "step"} <= {event["name"] for event in events}
    for event in events:
        assert event["ph"] == "X" and event["dur"] >= 0 and event["ts"] >= 0
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
    step = next(event for event in events if event["name"] == "step")
    conv = next(event for event in events if event["name"] == "Conv2d (forward)")
    assert step["ts"] <= conv["ts"] and conv["ts"] + conv["dur"] <= step["ts"] + step["dur"] + 1e-3


def test_profiling_stops_at_the_end_of_the_block_even_on_an_error():
    with pytest.raises(ZeroDivisionError):
        with profiler.profile():
            assert autograd._profiler is not None
            1 / 0
    assert autograd._profiler is None
    with profiler.record_function("outside"):  # no profile: nothing recorded, nothing fails
        minicnn.ones(2, requires_grad=True).sum().backward()


def test_disabled_profile_records_nothing():
    with profiler.profile(enabled=False) as prof:
        (minicnn.ones(2, requires_grad=True) * 2).sum().backward()
    assert len(prof.events()) == 0


def test_profile_command_prints_the_table(capsys, tmp_path):
    trace = tmp_path / "t.json"
    assert main(["profile", "--model", "lenet5", "--batch-size", "2", "--trace", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "backward" in out and "optimizer.step" in out
    assert json.loads(trace.read_text())["traceEvents"]


def test_profile_command_rejects_a_bad_sort_key(capsys):
    assert main(["profile", "--model", "lenet5", "--sort-by", "nope"]) == 2
    assert "--sort-by" in capsys.readouterr().err
