"""The fast path: fused, multi-threaded value and gradient for NumPy arrays.

The reference implementation (the Array API code of each loss) stays the definition; this package
computes the same formulas with fewer passes over memory:

- elementwise losses with arithmetic-only math (mse, mae, rmse, huber, pseudo_huber, hinge,
  squared_hinge): one numba kernel per loss reads ``y_true``, ``y_pred`` (and the weight) once and
  writes the gradient, summing the value on the way, on every core (numba is optional: without it,
  every elementwise loss takes its reference formula on cache-sized tiles);
- the transcendental elementwise losses (log_cosh, msle, binary and sigmoid cross-entropy): per tile,
  NumPy's SIMD ufuncs take the exp and log into tile buffers and one numba kernel does the rest (the
  losses, the weighted sum, the gradient); a tile whose sum is not finite (NaN, inf, a clamped log) is
  recomputed with the reference formula, so NaN and inf land exactly where the reference puts them;
- every other supported loss (the probability cross-entropies, KL): the loss's own reference formula
  on cache-sized tiles, on every core, with the reduction and the gradient scale applied per tile, so
  no full-size temporary exists;
- softmax cross-entropy, dense and sparse: a row-tiled pass that needs no buffer but the gradient
  (or none, with ``out=`` the logits themselves); rows with a non-finite maximum go to the reference.

Gradients (and the losses of ``reduction="none"``) of a megabyte or more come from a small pool of
blocks that are handed out again once their array is gone (``_buffers.py``; ``release_buffers()``
frees the idle ones, ``LOSSKIT_BUFFER_POOL_MB=0`` turns it off): a fresh array of that size costs as
much in page faults as the loss itself.

Weights, reductions and ``normalizer`` follow ``_reduce.py`` exactly (a zero weight drops the
example, ``sum(w) == 0`` gives 0); only the order of summation differs.

Switch: ``set_fast_path("auto" | "always" | "never")`` or ``with fast_path("never"): ...``; the
environment variable ``LOSSKIT_FAST_PATH`` sets the default. ``"auto"`` takes the fast path for
NumPy inputs of at least ``AUTO_MIN_SIZE`` elements.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os

import array_api_compat
import numpy as np

from . import _threads
from ._buffers import release_buffers

ndarray = np.ndarray  # what the dispatch hook in _base.py tests for

MODES = ("auto", "always", "never")

_default = os.environ.get("LOSSKIT_FAST_PATH", "auto")
_MODE = contextvars.ContextVar("losskit_fast_path", default=_default if _default in MODES else "auto")

#: In "auto" mode, inputs smaller than this (elements of y_pred) take the reference path: below it,
#: the thread hand-off costs more than it saves (measured with benchmarks/run.py --threshold).
AUTO_MIN_SIZE = 1 << 15

#: Elements per tile of the elementwise tiled paths: a few tile-sized buffers stay in cache.
TILE = 1 << 16
#: Elements per tile of the row-wise path (whole rows): larger, so the per-call overhead of a tile's
#: dozen NumPy calls stays small against its work even for a 32000-class row (benchmarks/run.py).
ROW_TILE = 1 << 19
#: Elements a thread gets at least.
MIN_PER_THREAD = 1 << 15


def _check_mode(mode) -> str:
    if mode not in MODES:
        raise ValueError(f"fast path mode must be one of {MODES}; got {mode!r}.")
    return mode


def set_fast_path(mode: str) -> str:
    """Set the fast-path mode ("auto", "always" or "never") for this thread and context; return the previous one."""
    previous = _MODE.get()
    _MODE.set(_check_mode(mode))
    return previous


def get_fast_path() -> str:
    """The current fast-path mode."""
    return _MODE.get()


@contextlib.contextmanager
def fast_path(mode: str):
    """Context manager: the fast-path mode inside its block.

    >>> import numpy as np, losskit as lk
    >>> from losskit.fast import fast_path
    >>> with fast_path("always"):
    ...     float(lk.mse(np.zeros(3), np.arange(3.0)))
    1.6666666666666667
    """
    token = _MODE.set(_check_mode(mode))
    try:
        yield
    finally:
        _MODE.reset(token)


_NUMBA = None


def numba_available() -> bool:
    """True if numba can be imported (the fused elementwise kernels need it)."""
    global _NUMBA
    if _NUMBA is None:
        if os.environ.get("LOSSKIT_DISABLE_NUMBA"):
            _NUMBA = False
        else:
            try:
                import numba  # noqa: F401

                _NUMBA = True
            except ImportError:
                _NUMBA = False
    return _NUMBA


# --------------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------------


def _impls():
    from . import _impl

    return _impl.IMPLS


def supported(loss) -> bool:
    """True if the fast path has an implementation of this loss (its exact class)."""
    return type(loss).__name__ in _impls() and type(loss).__module__.startswith("losskit.losses")


def dispatch(loss, xp, y_true, y_pred, weight, reduction, normalizer, want_grad, *, out=None, force=False):
    """Called by ``Loss.__call__``/``value_and_grad`` after ``_prepare``: the fast result or None.

    Returns ``(value, grad)`` in the compute dtype (``grad`` None unless ``want_grad``), or None to
    let the reference path run.
    """
    mode = _MODE.get()
    if mode == "never" and not force:
        return None
    if not isinstance(y_pred, np.ndarray) or not array_api_compat.is_numpy_namespace(xp):
        return None
    if mode == "auto" and not force and y_pred.size < AUTO_MIN_SIZE:
        return None
    if not supported(loss):
        return None
    if normalizer is not None and not (isinstance(normalizer, (int, float)) and not isinstance(normalizer, bool)):
        return None
    if not isinstance(y_true, np.ndarray) or (weight is not None and not isinstance(weight, np.ndarray)):
        return None
    if y_pred.dtype not in (np.float32, np.float64):
        return None
    return _impls()[type(loss).__name__](loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out)


def value_and_grad(loss, y_true, y_pred, *, sample_weight=None, reduction=None, normalizer=None, out=None):
    """``loss.value_and_grad`` on the fast path, writing the gradient into ``out``.

    ``out`` is a NumPy array shaped like ``y_pred`` in its dtype (float32 or float64); it may be
    ``y_pred`` itself, so that the gradient overwrites the logits and no logits-sized buffer is
    allocated at all. Raises ValueError if the fast path cannot serve the call.

    >>> import numpy as np, losskit as lk
    >>> logits = np.array([[0.0, 0.0]])
    >>> value, grad = lk.fast.value_and_grad(lk.SparseSoftmaxCrossEntropy(), [1], logits, out=logits)
    >>> np.shares_memory(grad, logits), round(float(value), 6), logits.tolist()
    (True, 0.693147, [[0.5, -0.5]])
    """
    from ..registry import get

    loss = get(loss) if not hasattr(loss, "_prepare") else loss
    xp, y_true, y_pred_c, weight, out_dtype, reduction, normalizer = loss._prepare(
        y_true, y_pred, sample_weight, reduction, normalizer
    )
    if out is not None:
        if not isinstance(out, np.ndarray) or out.shape != tuple(np.shape(y_pred)) or out.dtype != y_pred_c.dtype:
            raise ValueError(
                f"{loss.info.name}: out must be a NumPy array of y_pred's shape {tuple(np.shape(y_pred))} and "
                f"dtype {y_pred_c.dtype}; got {getattr(out, 'shape', None)} {getattr(out, 'dtype', type(out))}."
            )
        if loss.has_class_axis:
            out = np.moveaxis(out, loss.axis, -1)
    result = dispatch(loss, xp, y_true, y_pred_c, weight, reduction, normalizer, True, out=out, force=True)
    if result is None:
        raise ValueError(f"{loss.info.name}: the fast path cannot serve this call (library, dtype or layout).")
    value, grad = result
    if loss.has_class_axis:
        grad = np.moveaxis(grad, -1, loss.axis)
    return np.asarray(value).astype(out_dtype, copy=False), grad.astype(out_dtype, copy=False)


__all__ = ["MODES", "AUTO_MIN_SIZE", "set_fast_path", "get_fast_path", "fast_path", "value_and_grad",
           "numba_available", "supported", "dispatch", "release_buffers"]  # fmt: skip
