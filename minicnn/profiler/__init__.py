"""A per-op profiler in torch.profiler's shape: ``profile``, ``record_function``, ``key_averages().table()``
and ``export_chrome_trace``. See profile.py."""
from .events import EventList, FunctionEvent, FunctionEventAvg
from .profile import ProfilerActivity, profile, record_function

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList", "FunctionEvent", "FunctionEventAvg"]
