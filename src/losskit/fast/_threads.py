"""Split work into contiguous ranges run on all cores (numba kernels and NumPy ufuncs release the GIL)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_THREADS: int | None = None


def num_threads() -> int:
    """Threads used by the fast path: the cores this process may run on (``LOSSKIT_NUM_THREADS`` overrides)."""
    global _THREADS
    if _THREADS is None:
        env = os.environ.get("LOSSKIT_NUM_THREADS")
        if env:
            _THREADS = max(1, int(env))
        else:
            try:
                _THREADS = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover - not Linux
                _THREADS = os.cpu_count() or 1
    return _THREADS


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max(1, num_threads() - 1), thread_name_prefix="losskit-fast")
    return _POOL


def split(n: int, min_items: int, align: int = 1) -> list[tuple[int, int]]:
    """Up to ``num_threads()`` contiguous ranges covering ``[0, n)``, each at least ``min_items`` long
    (but one), with inner boundaries at multiples of ``align``."""
    parts = max(1, min(num_threads(), n // max(min_items, 1)))
    if parts == 1:
        return [(0, n)]
    bounds = [0]
    for k in range(1, parts):
        b = (n * k // parts) // align * align
        bounds.append(max(b, bounds[-1]))
    bounds.append(n)
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def run(fn, ranges) -> float:
    """``sum(fn(lo, hi) for lo, hi in ranges)``, the ranges run concurrently; summed in order."""
    if len(ranges) == 1:
        return fn(*ranges[0])
    pool = _pool()
    futures = [pool.submit(fn, lo, hi) for lo, hi in ranges[1:]]
    first = fn(*ranges[0])
    return first + sum(f.result() for f in futures)
