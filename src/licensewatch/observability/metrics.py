"""Counters, gauges and histograms with labels, rendered in the Prometheus text format."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Labels = tuple[tuple[str, str], ...]

M = TypeVar("M", "Counter", "Gauge", "Histogram")

DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


def _labels(values: dict[str, str]) -> Labels:
    return tuple(sorted(values.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _render_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class _Metric:
    name: str
    help: str
    kind: str
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class Counter(_Metric):
    kind: str = "counter"
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = _labels(labels)
        with self.lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def samples(self) -> list[str]:
        with self.lock:
            items = sorted(self.values.items())
        return [f"{self.name}{_render_labels(k)} {_number(v)}" for k, v in items]


@dataclass
class Gauge(_Metric):
    kind: str = "gauge"
    values: dict[Labels, float] = field(default_factory=dict)

    def set(self, value: float, **labels: str) -> None:
        with self.lock:
            self.values[_labels(labels)] = value

    def remove(self, **labels: str) -> None:
        with self.lock:
            self.values.pop(_labels(labels), None)

    def samples(self) -> list[str]:
        with self.lock:
            items = sorted(self.values.items())
        return [f"{self.name}{_render_labels(k)} {_number(v)}" for k, v in items]


@dataclass
class Histogram(_Metric):
    kind: str = "histogram"
    buckets: Sequence[float] = DURATION_BUCKETS
    counts: dict[Labels, list[int]] = field(default_factory=dict)
    sums: dict[Labels, float] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = _labels(labels)
        with self.lock:
            counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.sums[key] = self.sums.get(key, 0.0) + value

    def samples(self) -> list[str]:
        lines: list[str] = []
        with self.lock:
            items = sorted((k, list(v), self.sums[k]) for k, v in self.counts.items())
        for key, counts, total in items:
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                le = (("le", _number(bound)),)
                lines.append(f"{self.name}_bucket{_render_labels(key, le)} {count}")
            lines.append(f"{self.name}_sum{_render_labels(key)} {_number(total)}")
            lines.append(f"{self.name}_count{_render_labels(key)} {counts[-1]}")
        return lines


class Registry:
    """A set of metrics rendered together; the daemon and the web app each expose one."""

    def __init__(self) -> None:
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}

    def counter(self, name: str, help: str) -> Counter:
        return self._register(Counter(name, help))

    def gauge(self, name: str, help: str) -> Gauge:
        return self._register(Gauge(name, help))

    def histogram(
        self, name: str, help: str, buckets: Sequence[float] = DURATION_BUCKETS
    ) -> Histogram:
        return self._register(Histogram(name, help, buckets=buckets))

    def _register(self, metric: M) -> M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
