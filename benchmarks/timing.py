"""Timing helper shared by the benchmarks."""

from __future__ import annotations

import time


def rate(function, copies: int, min_seconds: float = 1.0) -> float:
    """Copies per second of ``function(copies)``, repeated for at least ``min_seconds`` after one warm-up call."""
    function(copies)  # warm up
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        function(copies)
        calls += 1
    return calls * copies / (time.perf_counter() - start)
