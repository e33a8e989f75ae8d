"""DistributedDataParallel over N ranks trains exactly as one process on the combined batch."""
import pytest

from mpi_launch import json_lines, run_workers


@pytest.fixture(scope="module", params=[2, 3], ids=["2ranks", "3ranks"])
def equivalence(request):
    import os

    device = os.environ.get("MINICNN_TEST_DEVICE", "cpu")
    if device.startswith("cuda"):
        pytest.skip("the equivalence workers run on cpu or sim")
    lines = json_lines(run_workers(request.param, "ddp_equivalence.py", device).stdout)
    return lines[:-1], lines[-1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ranks_on_shards_match_one_process_on_the_whole_batch(equivalence, optimizer):
    runs = [run for run in equivalence[0] if run["optimizer"] == optimizer]
    assert {(run["bucket_cap_mb"], run["overlap"]) for run in runs} == {(25, True), (25, False), (0.0005, True),
                                                                         (0.0005, False)}
    for run in runs:
        assert run["moved"] > 1e-3, run  # training changed the parameters
        assert run["max_rel_error"] < 1e-12, run
        assert run["rank_spread"] == 0.0, run  # every rank holds the same parameters


def test_small_buckets_split_the_gradients(equivalence):
    buckets = {run["bucket_cap_mb"]: run["buckets"] for run in equivalence[0]}
    assert buckets[25] == 1 and buckets[0.0005] > 1


def test_overlap_starts_reductions_before_backward_ends(equivalence):
    for run in equivalence[0]:
        buckets = run["buckets"]
        if run["overlap"]:
            # with several buckets, the last layers' reductions start while the first layers' gradients
            # are still being computed (the buckets of the first layer's weight and bias go last)
            assert run["launched_early"] == (2 if buckets == 4 else 0), run
        else:
            assert run["launched_early"] == 0, run


def test_no_sync_accumulation_matches_the_combined_batch(equivalence):
    assert equivalence[1]["no_sync_accumulation"] < 1e-12


def test_shards_trained_without_averaging_do_not_match(equivalence):
    assert equivalence[1]["unaveraged_shards"] > 1e-3


def test_find_unused_parameters_reduces_the_used_and_leaves_unused_grads_none(equivalence):
    assert equivalence[1]["find_unused_parameters"] < 1e-12
    assert equivalence[1]["unused_grad_is_none"] is True


def test_a_dropped_wrapper_no_longer_reduces(equivalence):
    assert equivalence[1]["dropped_wrapper_grads_differ"] is True


def test_unused_parameters_without_the_flag_raise_naming_them(equivalence):
    message = equivalence[1]["unused_without_flag"]
    assert "find_unused_parameters=True" in message and "unused.weight" in message
