"""The profiler's records: one ``FunctionEvent`` per op call or ``record_function`` range, and their
averages per (name, direction), with a table in the shape of torch.profiler's ``key_averages().table()``.

Times are in microseconds, as in torch. ``self`` time is an event's time minus the events nested in it
(ops inside a ``record_function`` range, for example).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FunctionEvent:
    name: str
    direction: str          # "forward", "backward", or "" for a record_function range
    start_us: float
    duration_us: float = 0.0
    thread: int = 0
    input_shapes: list = field(default_factory=list)
    flops: int = 0
    saved_bytes: int = 0
    children_us: float = 0.0  # time of the events directly nested in this one

    @property
    def key(self) -> str:
        return f"{self.name} ({self.direction})" if self.direction else self.name

    @property
    def cpu_time_total(self) -> float:
        return self.duration_us

    @property
    def self_cpu_time_total(self) -> float:
        return max(self.duration_us - self.children_us, 0.0)


@dataclass
class FunctionEventAvg:
    """Totals over every event with one key (and, when grouped so, one list of input shapes)."""

    key: str
    name: str
    direction: str
    input_shapes: list = field(default_factory=list)
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    flops: int = 0
    saved_bytes: int = 0

    def add(self, event: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.flops += event.flops
        self.saved_bytes += event.saved_bytes

    @property
    def cpu_time(self) -> float:
        """Mean time per call (microseconds)."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)


# torch's sort keys, and the few of our own columns.
SORT_KEYS = {
    "cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
    "cpu_time": "cpu_time", "self_cpu_time": "self_cpu_time", "count": "count", "flops": "flops",
    "saved_bytes": "saved_bytes", "self_cpu_memory_usage": "saved_bytes", "cpu_memory_usage": "saved_bytes",
}


class EventList(list):
    """A list of events (or of averages) with torch's ``table`` and ``key_averages``."""

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        groups = {}
        for event in self:
            group = (event.key, str(event.input_shapes)) if group_by_input_shape else event.key
            if group not in groups:
                shapes = event.input_shapes if group_by_input_shape else []
                groups[group] = FunctionEventAvg(event.key, event.name, event.direction, shapes)
            groups[group].add(event)
        return EventList(groups.values())

    def table(self, sort_by: str | None = None, row_limit: int = 100, header: str | None = None) -> str:
        """A text table, one row per entry, sorted (descending) by ``sort_by``: cpu_time_total,
        self_cpu_time_total, cpu_time, self_cpu_time, count, flops or saved_bytes."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in SORT_KEYS:
                raise ValueError(f"table: unknown sort_by {sort_by!r}; expected one of {', '.join(SORT_KEYS)}")
            rows.sort(key=lambda row: getattr(row, SORT_KEYS[sort_by]), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        return format_table(rows, sum(row.self_cpu_time_total for row in self), header)


def _time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _amount(value: float, unit: str) -> str:
    if not value:
        return "--"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


def format_table(rows, self_total_us: float, header: str | None = None) -> str:
    with_shapes = any(row.input_shapes for row in rows)
    columns = ["Name", "Direction", "Self CPU %", "Self CPU", "CPU total", "CPU time avg", "# of Calls",
               "FLOPs", "Saved for backward"] + (["Input Shapes"] if with_shapes else [])
    body = []
    for row in rows:
        share = 100.0 * row.self_cpu_time_total / self_total_us if self_total_us else 0.0
        cells = [row.name, row.direction or "range", f"{share:.2f}%", _time(row.self_cpu_time_total),
                 _time(row.cpu_time_total), _time(row.cpu_time), str(row.count), _amount(row.flops, "FLOP"),
                 _amount(row.saved_bytes, "B")]
        if with_shapes:
            cells.append(str(row.input_shapes))
        body.append(cells)
    widths = [max(len(column), *(len(cells[i]) for cells in body)) if body else len(column)
              for i, column in enumerate(columns)]
    line = "-" * (sum(widths) + 2 * (len(widths) - 1))

    def format_row(cells):
        return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths)))

    lines = ([header] if header else []) + [line, format_row(columns), line]
    lines += [format_row(cells) for cells in body] + [line, f"Self CPU time total: {_time(self_total_us)}"]
    return "\n".join(lines)
