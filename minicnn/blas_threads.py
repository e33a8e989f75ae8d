"""How many threads numpy's BLAS may use for one matrix product on the CPU.

Waking BLAS worker threads costs tens of microseconds on an idle machine and, on a machine whose cores
are busy with other work, up to tens of milliseconds (each worker waits for a time slice): a
64x400x120 product measured 0.07 ms on one thread and 90 ms on two under load
(``benchmarks/bench_gemm.py``). So a product below ``SMALL_PRODUCT_FLOPS`` runs on the calling thread
alone, and a larger one on every thread BLAS started with (``OPENBLAS_NUM_THREADS``, default all cores).
The switch is made only when the wanted count changes, so a model whose products are all small (LeNet)
or all large (ResNet) pays it once.

The thread count is changed through threadpoolctl (installed with scikit-learn); without it, or with a
BLAS it cannot control, BLAS keeps its own setting.
"""
from __future__ import annotations

import threading

# 2*M*K*N below this runs single-threaded: ~1 ms of one core at idle, where a thread start is noise.
SMALL_PRODUCT_FLOPS = 1 << 25

_lock = threading.Lock()
_state = {"controller": None, "ready": False, "maximum": 1, "current": None}


def _controller():
    """The threadpoolctl controller of numpy's BLAS, found once (None when there is none)."""
    if not _state["ready"]:
        with _lock:
            if not _state["ready"]:
                try:
                    from threadpoolctl import ThreadpoolController

                    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
                except Exception:  # threadpoolctl missing, or a BLAS it does not know
                    libraries = []
                if libraries:
                    _state["controller"] = libraries[0]
                    _state["maximum"] = max(1, int(libraries[0].num_threads))
                    _state["current"] = _state["maximum"]
                _state["ready"] = True
    return _state["controller"]


def use_threads_for(flops: float) -> None:
    """Let BLAS use one thread for a product of ``flops`` (2*M*K*N) below the threshold, else all."""
    controller = _controller()
    if controller is None:
        return
    wanted = 1 if flops < SMALL_PRODUCT_FLOPS else _state["maximum"]
    if wanted != _state["current"]:
        controller.set_num_threads(wanted)
        _state["current"] = wanted


def maximum_threads() -> int:
    """The thread count BLAS started with (what large products use)."""
    _controller()
    return _state["maximum"]
