"""Output buffers of the fast path: large blocks handed out again once their array is gone.

A fresh array of many megabytes is paid for in page faults on its first write: on the machines of
``benchmarks/RESULTS.md`` about as much time as the loss kernel itself. A gradient is usually dropped
before the next call of the same size (a training loop), so its memory can serve that call instead of
going back to the operating system and being faulted in again (a caching allocator, as PyTorch's is on
the GPU).

Each array handed out is an ordinary NumPy array whose ``base`` is a small lease on a block of memory;
when the last view of the array is gone, the lease puts the block back in the pool. The pool keeps at
most ``max_free_bytes()`` of free blocks, the most recently returned first (``LOSSKIT_BUFFER_POOL_MB``
sets it, default 1024; 0 turns the pool off); ``release_buffers()`` empties it.
"""

from __future__ import annotations

import os
import threading

import numpy as np

#: Arrays smaller than this come from ``np.empty``: the allocator serves them without page faults.
MIN_BYTES = 1 << 20

_LOCK = threading.RLock()  # reentrant: a lease may be collected while this thread holds the lock
_FREE: list = []  # free blocks (uint8 arrays), the most recently returned last
_MAX_FREE: int | None = None


def max_free_bytes() -> int:
    """The most memory the pool keeps in free blocks (``LOSSKIT_BUFFER_POOL_MB``, default 1024 MiB)."""
    global _MAX_FREE
    if _MAX_FREE is None:
        _MAX_FREE = int(float(os.environ.get("LOSSKIT_BUFFER_POOL_MB", "1024")) * (1 << 20))
    return _MAX_FREE


class _Lease:
    """The ``base`` of an array handed out: exposes its block's memory; returns the block when collected."""

    def __init__(self, block, shape, dtype):
        self.block = block
        self.__array_interface__ = {
            "shape": shape,
            "typestr": dtype.str,
            "data": (block.ctypes.data, False),
            "version": 3,
        }

    def __del__(self):
        if _give_back is not None:  # None once the interpreter is shutting down
            _give_back(self.block)


def _give_back(block):
    limit = max_free_bytes()
    with _LOCK:
        _FREE.append(block)
        total = sum(b.nbytes for b in _FREE)
        while _FREE and total > limit:
            total -= _FREE.pop(0).nbytes


def empty(shape, dtype) -> np.ndarray:
    """``np.empty(shape, dtype)``, from a free block of the same size where the pool has one."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < MIN_BYTES or max_free_bytes() <= 0:
        return np.empty(shape, dtype=dtype)
    block = None
    with _LOCK:
        for i in range(len(_FREE) - 1, -1, -1):
            if _FREE[i].nbytes == nbytes:
                block = _FREE.pop(i)
                break
    if block is None:
        block = np.empty(nbytes, dtype=np.uint8)
    return np.asarray(_Lease(block, tuple(shape), dtype))


def release_buffers() -> int:
    """Free the pool's idle blocks; returns how many bytes were released."""
    with _LOCK:
        total = sum(b.nbytes for b in _FREE)
        _FREE.clear()
    return total
