"""A per-epoch progress bar (tqdm) that stays quiet when output goes to a file or a pipe."""
from __future__ import annotations

import sys


class _Silent:
    """Stands in for a tqdm bar when none is shown: iterates, and ignores the bar's methods."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(iterable, total: int | None, description: str, enabled: bool = True):
    """A tqdm bar over ``iterable`` when ``enabled`` and stderr is a terminal, else a silent stand-in.

    A bar written to a log file becomes thousands of carriage-return fragments, so it is shown only
    on a terminal; the trainer prints one summary line per epoch either way.
    """
    if not enabled or not sys.stderr.isatty():
        return _Silent(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    return tqdm(iterable, total=total, desc=description, leave=False, dynamic_ncols=True, unit="batch")
