"""The worker threads of ``minicnn/cpu/crew.py``, which ``parallel.py`` hands the split passes to."""
import threading
import time

import pytest

from minicnn.cpu import parallel
from minicnn.cpu.crew import Crew


def _within(seconds, function):
    """function()'s result, or a failure when it has not returned after ``seconds`` (a hang)."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome["result"]


def test_each_call_runs_on_its_own_thread_and_the_results_come_back_in_order():
    crew = Crew(3)
    caller = threading.get_ident()
    barrier = threading.Barrier(4, timeout=10)  # passes only if all four calls run at once

    def call(index):
        barrier.wait()
        return index, threading.get_ident()

    results = crew.run(lambda: call(0), [lambda i=i: call(i) for i in (1, 2, 3)])
    assert [index for index, _ in results] == [0, 1, 2, 3]
    threads = [ident for _, ident in results]
    assert threads[0] == caller and len(set(threads)) == 4
    crew.retire()


def test_fewer_calls_than_members_use_the_first_members():
    crew = Crew(2)
    assert crew.run(lambda: "mine", [lambda: "theirs"]) == ["mine", "theirs"]
    assert crew.run(lambda: "alone", []) == ["alone"]
    crew.retire()


def test_a_worker_error_is_raised_in_the_caller_once_every_call_has_finished():
    crew = Crew(1)
    finished = []

    def slow_mine():
        time.sleep(0.05)
        finished.append("mine")

    def failing():
        raise ValueError("share 1 failed")

    with pytest.raises(ValueError, match="share 1 failed"):
        crew.run(slow_mine, [failing])
    assert finished == ["mine"]
    assert crew.run(lambda: 1, [lambda: 2]) == [1, 2]  # still working
    crew.retire()


def test_an_error_of_the_caller_waits_for_the_workers_before_it_is_raised():
    crew = Crew(1)
    finished = []

    def slow_theirs():
        time.sleep(0.05)
        finished.append("theirs")
        return "theirs"

    def failing():
        raise KeyError("mine")

    with pytest.raises(KeyError):
        crew.run(failing, [slow_theirs])
    assert finished == ["theirs"]  # the member was not abandoned mid-call
    assert crew.run(lambda: 1, [lambda: 2]) == [1, 2]
    crew.retire()


def test_a_call_that_splits_again_runs_its_shares_on_its_own_thread_without_waiting():
    crew = Crew(1)

    def nested(tag):
        inner = crew.run(lambda: (tag, threading.get_ident()), [lambda: (tag, threading.get_ident())])
        return [tag for tag, _ in inner], len({ident for _, ident in inner})

    results = _within(10, lambda: crew.run(lambda: nested("a"), [lambda: nested("b")]))
    assert results == [(["a", "a"], 1), (["b", "b"], 1)]  # each inner split stayed on one thread
    crew.retire()


def test_retired_members_end_their_threads():
    before = set(threading.enumerate())
    crew = Crew(2)
    crew.run(lambda: None, [lambda: None, lambda: None])
    members = [thread for thread in threading.enumerate()
               if thread not in before and thread.name.startswith("minicnn-worker")]
    assert len(members) == 2
    crew.retire()
    for thread in members:
        thread.join(5)
    assert not any(thread.is_alive() for thread in members)
    assert not crew.usable


def test_parallel_builds_a_crew_for_the_thread_count_it_is_asked_for(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    assert len({ident for ident in parallel.per_thread(lambda start, stop: threading.get_ident(), 3)}) == 3
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    assert parallel.per_thread(lambda start, stop: (start, stop), 4) == [(0, 2), (2, 4)]
    assert parallel._crew_of(2).size == 1


def test_more_calls_than_members_is_an_error_not_a_dropped_share():
    crew = Crew(1)
    with pytest.raises(ValueError, match="2 calls for a crew of 1"):
        crew.run(lambda: None, [lambda: None, lambda: None])
    crew.retire()


def test_a_crew_retired_while_it_works_for_another_thread_still_finishes_that_work():
    crew = Crew(1)
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.1)
        return "theirs"

    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=crew.run(lambda: "mine", [slow])))
    runner.start()
    assert started.wait(5)
    crew.retire()  # from this thread, while the run goes on
    runner.join(5)
    assert not runner.is_alive() and outcome["result"] == ["mine", "theirs"]
    assert not crew.usable
