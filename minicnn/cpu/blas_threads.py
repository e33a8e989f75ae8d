"""How many threads numpy's BLAS may use for one matrix product on the CPU.

Waking BLAS worker threads costs tens of microseconds on an idle machine and, on a machine whose cores
are busy with other work, up to tens of milliseconds (each worker waits for a time slice): a
64x400x120 product measured 0.07 ms on one thread and 90 ms on two under load
(``benchmarks/bench_gemm.py``). So a product below ``SMALL_PRODUCT_FLOPS`` runs on the calling thread
alone, and a larger one on every thread BLAS started with (``OPENBLAS_NUM_THREADS``, default all cores).
Switching costs about a microsecond each way.

The thread count is changed through threadpoolctl (installed with scikit-learn); without it, or with a
BLAS it cannot control, BLAS keeps its own setting.
"""
from __future__ import annotations

import contextlib
import os
import threading

# 2*M*K*N below this runs single-threaded: ~1 ms of one core at idle, where a thread start is noise.
SMALL_PRODUCT_FLOPS = 1 << 25

_lock = threading.Lock()
# "restore": a count to give BLAS back at the next product (see ``forking_single_threaded``)
_state = {"controller": None, "ready": False, "maximum": 1, "get": None, "set": None, "restore": None}


def _import_threadpoolctl():
    """threadpoolctl's controller class, leaving ``os.environ`` as it was: on import threadpoolctl sets
    KMP_DUPLICATE_LIB_OK for the process, a choice that belongs to the program, not to a library."""
    unset = "KMP_DUPLICATE_LIB_OK" not in os.environ
    try:
        from threadpoolctl import ThreadpoolController
    finally:
        if unset:
            os.environ.pop("KMP_DUPLICATE_LIB_OK", None)
    return ThreadpoolController


def _controller():
    """The threadpoolctl controller of numpy's BLAS, found once (None when there is none)."""
    if not _state["ready"]:
        with _lock:
            if not _state["ready"]:
                try:
                    ThreadpoolController = _import_threadpoolctl()

                    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
                except Exception:  # threadpoolctl missing, or a BLAS it does not know
                    libraries = []
                # numpy's own BLAS when several are loaded (scipy and torch may bring theirs)
                numpy_blas = [library for library in libraries if "numpy" in str(library.filepath)]
                libraries = numpy_blas or libraries
                if libraries:
                    _state["controller"] = libraries[0]
                    _state["maximum"] = max(1, int(libraries[0].num_threads))
                    _state["get"], _state["set"] = _switches(libraries[0])
                _state["ready"] = True
    return _state["controller"]


def _switches(library):
    """The library's (get, set) thread-count calls. For OpenBLAS on its own threads, the C functions
    themselves: through threadpoolctl's methods a switch costs about 4 us of Python, and a LeNet-5
    step makes 46 of them. Other libraries (and OpenBLAS built on OpenMP) keep threadpoolctl's calls.

    Only a thread that finds BLAS on more than one thread switches it (``threads_for``), and the
    worker threads always run inside a switch to one, so they never call ``set``."""
    if getattr(library, "internal_api", None) == "openblas" and getattr(library, "threading_layer", None) != "openmp":
        try:
            get = library._get_symbol("openblas_get_num_threads")
            set_ = library._get_symbol("openblas_set_num_threads")
        except Exception:  # a threadpoolctl without this helper
            get = set_ = None
        if get is not None and set_ is not None:
            return get, set_
    return library.get_num_threads, library.set_num_threads


class threads_for:
    """``with threads_for(flops):`` runs a product of ``flops`` (2*M*K*N) on one BLAS thread when it is
    below the threshold, and gives BLAS back the count it had on exit, so every other product (another
    library's, a direct ``xp.matmul``, one under the caller's own threadpoolctl limit) is unaffected."""

    __slots__ = ("limited", "previous")

    def __init__(self, flops: float):
        self.limited = flops < SMALL_PRODUCT_FLOPS and _controller() is not None
        self.previous = 1

    def __enter__(self):
        if self.limited:  # (after a fork, the count may already be 1 until a large product gives it back)
            self.previous = _state["get"]()
            self.limited = self.previous > 1
            if self.limited:
                _state["set"](1)
        elif _state["restore"] is not None:
            _restore()
        return self

    def __exit__(self, *exc_info):
        if self.limited:
            _state["set"](self.previous)
        return False


def maximum_threads() -> int:
    """The thread count BLAS started with, 1 when it cannot be controlled."""
    _controller()
    return _state["maximum"]


def set_maximum_threads(count: int) -> None:
    """Make ``count`` the thread count BLAS runs its large products on (and the thread pool's size)."""
    # Only when it changes: in a forked process, setting OpenBLAS's count at all restarts its worker
    # threads, and a fresh worker spins (about 0.1 s of a core) before it sleeps.
    if _controller() is not None and _state["get"]() != count:
        _state["set"](count)
    _state["maximum"] = count
    _state["restore"] = None


@contextlib.contextmanager
def forking_single_threaded():
    """``with forking_single_threaded():`` processes forked inside start with BLAS on one thread, and
    this process gets its own count back at its next product (or ``restore_after_fork()``).

    OpenBLAS stops its worker threads before a fork and starts them again at the next call that needs
    them, and also at any change of the count: a new worker thread spins (about 0.1 s of a core, 130
    ms of CPU measured) before it sleeps. So setting the count in a freshly forked process, or giving
    it back in this one right after the fork, starts spinning threads just as the children start their
    work (it made a DataLoader worker's first batch 2x slower). Set before the fork, the count is
    inherited; given back lazily, it costs nothing until a product wants the threads again."""
    previous = _state["get"]() if _controller() is not None else 1
    if previous > 1:
        _state["set"](1)
    try:
        yield
    finally:
        if previous > 1:
            _state["restore"] = previous


def restore_after_fork() -> None:
    """Give BLAS back the count ``forking_single_threaded`` took, if no product has done it yet."""
    if _state["restore"] is not None:
        _restore()


def _restore() -> None:
    with _lock:
        count, _state["restore"] = _state["restore"], None
        if count is not None:
            _state["set"](count)
