"""The fast path's pool of output buffers (losskit/fast/_buffers.py)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import losskit as lk
from losskit import fast
from losskit.fast import _buffers

N = _buffers.MIN_BYTES // 4  # float32 elements of the smallest pooled array


def _address(a):
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def empty_pool(monkeypatch):
    monkeypatch.setattr(_buffers, "_MAX_FREE", 1 << 30)
    fast.release_buffers()
    yield
    fast.release_buffers()


def test_a_block_serves_again_once_its_array_is_gone():
    a = _buffers.empty((N,), np.float32)
    assert a.shape == (N,) and a.dtype == np.float32 and a.flags.writeable and a.flags.c_contiguous
    a[:] = 1.5
    first = _address(a)
    del a
    gc.collect()
    b = _buffers.empty((N // 2, 2), np.float32)  # same size in bytes, another shape
    assert _address(b) == first and b.shape == (N // 2, 2)
    c = _buffers.empty((N,), np.float64)  # another size: a new block
    assert not np.shares_memory(b, c)


def test_a_block_is_not_handed_out_while_a_view_lives():
    a = _buffers.empty((N,), np.float32)
    view = a[10:20]
    del a
    b = _buffers.empty((N,), np.float32)
    assert not np.shares_memory(view, b)
    b[:] = 0.0
    view[:] = 7.0
    assert float(b.sum()) == 0.0


def test_small_arrays_and_a_zero_budget_bypass_the_pool(monkeypatch):
    small = _buffers.empty((10,), np.float64)
    assert small.base is None
    monkeypatch.setattr(_buffers, "_MAX_FREE", 0)
    assert _buffers.empty((N,), np.float32).base is None


def test_the_pool_keeps_at_most_its_budget_and_releases_on_request(monkeypatch):
    monkeypatch.setattr(_buffers, "_MAX_FREE", 2 * _buffers.MIN_BYTES)
    arrays = [_buffers.empty((N,), np.float32) for _ in range(3)]
    del arrays
    gc.collect()
    assert len(_buffers._FREE) == 2  # the third block went back to the system
    assert fast.release_buffers() == 2 * _buffers.MIN_BYTES and not _buffers._FREE


def test_gradients_from_reused_blocks_are_right():
    # Two calls in a row: the second writes into the first one's block; both equal the reference.
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(size=N).astype(np.float32), rng.normal(size=N).astype(np.float32)
    with fast.fast_path("never"):
        expected = lk.Huber().grad(y_true, y_pred)
    with fast.fast_path("always"):
        first = lk.Huber().grad(y_true, y_pred)
        address = _address(first)
        np.testing.assert_allclose(first, expected, rtol=1e-6)
        del first
        gc.collect()
        second = lk.Huber().grad(y_true, 2 * y_pred)
    assert _address(second) == address
    with fast.fast_path("never"):
        np.testing.assert_allclose(second, lk.Huber().grad(y_true, 2 * y_pred), rtol=1e-6)
