"""Work: the handle of a collective started with ``async_op=True``."""
from __future__ import annotations


class Work:
    """``wait()`` blocks until the collective is done and its result is in the tensors; ``is_completed()``
    asks without blocking. ``finish`` (called once, after the MPI request completes) copies a staged
    result back to the device or divides a sum into an average."""

    __slots__ = ("_request", "_finish", "_done")

    def __init__(self, request=None, finish=None):
        self._request, self._finish, self._done = request, finish, False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        if not self._done and (self._request is None or self._request.Test()):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            if self._request is not None:
                self._request.Wait()
            self._complete()
        return True

    def __repr__(self) -> str:
        return f"<Work completed={self._done}>"
