"""The worker threads that ``parallel.py`` hands its shares to: each waits on a lock of its own.

Why not ``concurrent.futures.ThreadPoolExecutor``: a pass split across two threads has to hand one
share over and wait for it, and the executor does that with a queue, a Future and a Condition per
task. On a 2-vCPU virtual machine that round trip took 43 us of wall time (a pass doing nothing,
split in two: ``benchmarks/bench_threading.py``), about what one share of a batch-norm pass over
262,144 float32 takes (45 us). A worker here sleeps on one lock, ``go``, and answers on another,
``done``: the same round trip is two lock handoffs, 22 us on that machine.

One caller at a time: a split pass started while the crew is working (a share that itself splits,
or another Python thread) runs all its shares on its own thread instead of waiting for the crew.
"""
from __future__ import annotations

import threading


class Crew:
    """``size`` daemon threads, each running one call at a time for ``run``."""

    def __init__(self, size: int):
        self.size = size
        self._busy = threading.Lock()
        self._members = [_Member(index) for index in range(size)]

    def run(self, mine, theirs):
        """``mine()`` on the calling thread while worker i runs ``theirs[i]()`` (at most ``size`` of
        them); returns ``[mine's result] + theirs' results``, in that order. The first exception any
        of them raised is raised here, once all have finished."""
        if len(theirs) > self.size:
            raise ValueError(f"Crew.run: {len(theirs)} calls for a crew of {self.size} threads")
        if not self._busy.acquire(blocking=False):  # the crew is working for someone else: do it all here
            return [mine()] + [call() for call in theirs]
        started = []
        try:
            for member, call in zip(self._members, theirs):
                member.start(call)
                started.append(member)
            results = [_outcome(mine)]
            results += [member.wait() for member in started]
            started = []
        finally:
            if started:  # interrupted while members still run: they are left to finish, the crew to retire
                self._members = []
            self._busy.release()
        for result, error in results:
            if error is not None:
                raise error
        return [result for result, _ in results]

    def retire(self):
        """Let the members' threads end (the crew is not used again). A crew still working for another
        thread is only let go of: telling a member to end before it has read its call would leave that
        caller waiting forever, so its idle threads stay, asleep."""
        members, self._members = self._members, []
        if self._busy.acquire(blocking=False):
            for member in members:
                member.start(None)
            self._busy.release()

    @property
    def usable(self) -> bool:
        return len(self._members) == self.size


class _Member:
    def __init__(self, index: int):
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._call = None
        self._outcome = (None, None)
        threading.Thread(target=self._loop, name=f"minicnn-worker-{index}", daemon=True).start()

    def start(self, call):
        self._call = call
        self._go.release()

    def wait(self):
        self._done.acquire()
        return self._outcome

    def _loop(self):
        while True:
            self._go.acquire()
            call = self._call
            if call is None:  # retired
                return
            self._outcome = _outcome(call)
            self._done.release()


def _outcome(call):
    """(result, None), or (None, the exception) when ``call()`` raised."""
    try:
        return call(), None
    except BaseException as error:  # noqa: B036 - handed back to the caller, who re-raises it
        return None, error
