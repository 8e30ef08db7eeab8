"""The NumPy engine's settings: tile sizes and whether numba may be used."""

from __future__ import annotations

import os

#: Elements per tile of the elementwise tiled paths: a few tile-sized buffers stay in cache.
TILE = 1 << 16
#: Elements per tile of the row-wise path (whole rows): larger, so the per-call overhead of a tile's
#: dozen NumPy calls stays small against its work even for a 32000-class row (benchmarks/run.py).
ROW_TILE = 1 << 19
#: Elements a thread gets at least.
MIN_PER_THREAD = 1 << 15

#: Values of an environment variable that mean "yes".
TRUE = ("1", "true", "yes", "on")

_NUMBA = None


def numba_available() -> bool:
    """True if numba can be imported and ``LOSSKIT_DISABLE_NUMBA`` does not say to leave it off."""
    global _NUMBA
    if _NUMBA is None:
        if os.environ.get("LOSSKIT_DISABLE_NUMBA", "").strip().lower() in TRUE:
            _NUMBA = False
        else:
            try:
                import numba  # noqa: F401

                _NUMBA = True
            except ImportError:
                _NUMBA = False
    return _NUMBA
