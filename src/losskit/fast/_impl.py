"""Implementations of the NumPy engine, one entry per loss (by registry name) in ``IMPLS``.

Each entry takes a prepared call (``losskit.inputs.Batch``: compute dtype, class axis last, its
``Reduction``) and returns ``(value, grad)`` or None; see the package docstring for the techniques.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from typing import NamedTuple

import numpy as np

from ._config import MIN_PER_THREAD, ROW_TILE, TILE, numba_available
from ._buffers import empty
from ._threads import num_threads, run, split

# --------------------------------------------------------------------------------------------------
# The call's Reduction, as a denominator: scale = w / den, value = sum(w l) / den
# --------------------------------------------------------------------------------------------------


def _denominator(red) -> float:
    """``den`` such that the value is ``sum(w l) / den`` and each example's scale is ``w / den``."""
    return float(red.denominator)


def _finish(total, den, kind, losses, dtype):
    if kind == "none":
        return losses
    return np.asarray(total / den if den != 1.0 else total, dtype=np.float64).astype(dtype)


def _contiguous(*arrays):
    return all(a is None or a.flags.c_contiguous for a in arrays)


def _grad_buffer(y_pred, out, want_grad):
    if not want_grad:
        return None
    if out is not None:
        return out
    return empty(y_pred.shape, y_pred.dtype)


# --------------------------------------------------------------------------------------------------
# Elementwise losses: numba kernels
# --------------------------------------------------------------------------------------------------


def _weight_layout(weight, shape, dtype):
    """``(w, full, repeat)``: the weight as a flat array; ``full`` if there is one weight per loss, else
    each entry covers ``repeat`` consecutive losses (no weight: one entry 1.0 covering all). A weight
    whose broadcast is not a run of repeats (an axis of size 1 before a full one) is expanded."""
    n = math.prod(shape)
    if weight is None:
        return np.ones(1, dtype=dtype), False, max(n, 1)
    w = np.ascontiguousarray(weight, dtype=dtype)
    if w.size == n:
        return w.reshape(-1), True, 1
    lead = max((i + 1 for i, size in enumerate(w.shape) if size != 1), default=0)
    if tuple(w.shape[:lead]) == tuple(shape[:lead]) and w.size:
        return w.reshape(-1), False, max(n // w.size, 1)
    return np.ascontiguousarray(np.broadcast_to(w, shape)).reshape(-1), True, 1


class _Flat(NamedTuple):
    """An elementwise call laid out flat: inputs, weight layout, denominator and output buffers."""

    dtype: np.dtype
    n: int
    yt: np.ndarray
    yp: np.ndarray
    w: np.ndarray
    full: bool
    repeat: int
    den: float
    grad: np.ndarray | None
    losses: np.ndarray | None  # reduction="none" only
    out_l: np.ndarray | None  # flat views of losses and grad
    out_g: np.ndarray | None


def _flat(y_true, y_pred, red, want_grad, out) -> _Flat:
    dtype, n = y_pred.dtype, y_pred.size
    w, full, repeat = _weight_layout(red.weight, y_pred.shape, dtype)
    den = _denominator(red)
    grad = _grad_buffer(y_pred, out, want_grad)
    losses = empty(y_pred.shape, dtype) if red.kind == "none" else None
    out_l = None if losses is None else losses.reshape(-1)
    out_g = None if grad is None else grad.reshape(-1)
    return _Flat(dtype, n, y_true.reshape(-1), y_pred.reshape(-1), w, full, repeat, den, grad, losses, out_l, out_g)


_WORKQUEUE_LOCK = threading.Lock()


def _parallel(name, full, write_g):
    """The arithmetic kernel of ``name`` on numba's threads, as many as ``_threads.num_threads()``.

    numba's fallback threading layer ("workqueue", used when neither OpenMP nor TBB is available) must
    not be entered from two threads at once: calls are serialised there.
    """
    import numba

    from ._numba import parallel_kernel

    numba.set_num_threads(min(num_threads(), numba.config.NUMBA_NUM_THREADS))
    k = parallel_kernel(name, bool(full), write_g)

    def call(*args):
        try:
            safe = numba.threading_layer() != "workqueue"
        except ValueError:  # no parallel region has run yet: the layer is not chosen
            safe = False
        if safe:
            return k(*args)
        with _WORKQUEUE_LOCK:
            return k(*args)

    return call


def _numba_elementwise(name, params):
    def impl(loss, batch, want_grad, out):
        y_true, y_pred = batch.arrays
        given = (0.0, 1.0, 2.0, 0.5, *params(loss))
        with np.errstate(over="ignore"):  # a constant beyond the dtype: refused just below
            c = np.array(given, dtype=y_pred.dtype)
        if not all(_representable(v, x) for v, x in zip(given, c)):
            return None  # the kernels' constants do not fit the dtype: the reference takes any delta
        if not numba_available() or not _contiguous(y_true, y_pred, out) or batch.reduction.kind == "none":
            return _tiled_elementwise(loss, batch, want_grad, out)
        f = _flat(y_true, y_pred, batch.reduction, want_grad, out)
        dummy = np.empty(1, dtype=f.dtype)
        k = _parallel(name, f.full, f.grad is not None)
        total = k(f.yt, f.yp, f.w, f.repeat, f.n, f.dtype.type(f.den), c, dummy if f.out_g is None else f.out_g)
        return _finish(total, f.den, batch.reduction.kind, f.losses, f.dtype), f.grad

    return impl


def _representable(value: float, stored) -> bool:
    """Whether a kernel constant survives its cast to the data's dtype: finite, and not flushed to 0."""
    return bool(np.isfinite(stored)) and (value == 0 or abs(stored) >= np.finfo(stored.dtype).tiny)


def _no_params(loss):
    return (0.0, 0.0)


def _delta_half(loss):
    return (loss.delta, 0.5 * loss.delta)


def _delta_squared(loss):
    square = loss.delta * loss.delta  # inf, not OverflowError, past 1e154
    return (loss.delta, square if square > 0 else math.nan)  # NaN: no kernel for a square that underflows


def _rmse(loss, batch, want_grad, out):
    """RMSE: the MSE kernel twice, once for the value (sum only), once for the gradient with the
    root's slope folded into the denominator (``RMSE._outer``: scale * 0.5 / value, 0 at 0)."""
    y_true, y_pred = batch.arrays
    if batch.reduction.kind == "none" or not numba_available() or not _contiguous(y_true, y_pred, out):
        return None
    f = _flat(y_true, y_pred, batch.reduction, False, None)  # the gradient comes later
    dtype, den = f.dtype, f.den
    dummy = np.empty(1, dtype=dtype)
    c = np.array([0.0, 1.0, 2.0, 0.5, 0.0, 0.0], dtype=dtype)
    total = _parallel("mse", f.full, False)(f.yt, f.yp, f.w, f.repeat, f.n, dtype.type(den), c, dummy)
    mean_square = dtype.type(total / den if den != 1.0 else total)
    info = np.finfo(dtype)
    if not float(info.tiny) / info.eps < mean_square < float(info.max) / 4:
        return None  # squares near underflow or overflow: the reference scales the residuals first
    value = np.sqrt(mean_square)
    if not want_grad:
        return np.asarray(value), None
    if math.isinf(value):
        return None  # the slope 0.5 / inf = 0 meets inf derivatives: let the reference decide (0 or NaN)
    if math.isnan(value):
        den2 = math.nan
    elif value > 0:
        den2 = den / float(dtype.type(0.5) / value)
    else:
        den2 = math.inf
    grad = _grad_buffer(y_pred, out, True)
    _parallel("mse", f.full, True)(f.yt, f.yp, f.w, f.repeat, f.n, dtype.type(den2), c, grad.reshape(-1))
    return np.asarray(value), grad


# --------------------------------------------------------------------------------------------------
# Tiled reference: the loss's own formula on cache-sized tiles, on every core
# --------------------------------------------------------------------------------------------------


def _scale_into(d, scale, g, event):
    """``g = scale * d`` (0 where the scale is 0, NaN or inf in ``d`` notwithstanding); ``scale`` per example."""
    if event and np.ndim(scale):
        scale = scale[:, None]
    np.multiply(scale, d, out=g)
    if np.ndim(scale) and not np.all(scale):
        np.copyto(g, 0, where=np.broadcast_to(scale == 0, g.shape))


def _apply_tile(l, d, w, den, dtype, g, class_axis):
    """The reduction rule of one tile: return ``w * l`` (0 where w == 0) and write ``scale * d`` into ``g``."""
    lw = l if w is None else np.where(w == 0, np.zeros((), dtype), w * l)
    if g is not None:
        _scale_into(d, dtype.type(1.0 / den) if w is None else w / dtype.type(den), g, class_axis)
    return lw


def _reference_tile(loss, weighted, f: _Flat, a, b):
    """Elements ``[a, b)`` by the loss's own formula; returns the tile's weighted sum."""
    if not weighted:
        wt = None
    elif f.full:
        wt = f.w[a:b]
    else:
        wt = f.w[np.arange(a, b) // f.repeat]
    with np.errstate(all="ignore"):
        l, d = loss._math(np, 1, f.yt[a:b], f.yp[a:b])[:2]
        lw = _apply_tile(l, d, wt, f.den, f.dtype, None if f.out_g is None else f.out_g[a:b], False)
    if f.out_l is not None:
        f.out_l[a:b] = lw
    return float(np.sum(lw))


def _tiled_elementwise(loss, batch, want_grad, out):
    """Without numba: the reference formula on cache-sized tiles, on every core."""
    y_true, y_pred = batch.arrays
    if not _contiguous(y_true, y_pred, out):
        return None
    f = _flat(y_true, y_pred, batch.reduction, want_grad, out)
    weighted = batch.reduction.weight is not None

    def part(lo, hi):
        return sum(_reference_tile(loss, weighted, f, a, min(hi, a + TILE)) for a in range(lo, hi, TILE))

    total = run(part, split(f.n, MIN_PER_THREAD, TILE))
    return _finish(total, f.den, batch.reduction.kind, f.losses, f.dtype), f.grad


def _split_elementwise(name, params):
    """A transcendental loss: per tile, NumPy's SIMD ufuncs for its exp and log (``_numba.SPLIT_STAGES``),
    then one numba kernel for the rest; a tile whose sum is not finite goes to the reference formula."""

    def impl(loss, batch, want_grad, out):
        y_true, y_pred = batch.arrays
        if not numba_available() or not _contiguous(y_true, y_pred, out):
            return _tiled_elementwise(loss, batch, want_grad, out)
        from ._numba import SPLIT_STAGES, split_kernel

        f = _flat(y_true, y_pred, batch.reduction, want_grad, out)
        weighted = batch.reduction.weight is not None
        dummy = np.empty(1, dtype=f.dtype)
        out_l = dummy if f.out_l is None else f.out_l
        out_g = dummy if f.out_g is None else f.out_g
        c = np.array([0.0, 1.0, 2.0, 0.5, *params(loss), math.log(2.0)], dtype=f.dtype)
        stage, k = SPLIT_STAGES[name], split_kernel(name)
        den = f.dtype.type(f.den)

        def part(lo, hi):
            x0, x1, ds = (np.empty(min(TILE, hi - lo), dtype=f.dtype) for _ in range(3))
            total = 0.0
            for a in range(lo, hi, TILE):
                b = min(hi, a + TILE)
                with np.errstate(all="ignore"):
                    stage(f.yt, f.yp, a, b, x0, x1)
                tile_sum = k(f.yt, f.yp, x0, x1, ds, f.w, f.full, f.repeat, a, b, den, c, out_l, out_g,
                             f.out_l is not None, f.out_g is not None)  # fmt: skip
                if not math.isfinite(tile_sum):  # NaN, inf or a clamped log: the reference decides
                    tile_sum = _reference_tile(loss, weighted, f, a, b)
                total += tile_sum
            return total

        total = run(part, split(f.n, MIN_PER_THREAD, TILE))
        return _finish(total, f.den, batch.reduction.kind, f.losses, f.dtype), f.grad

    return impl


# --------------------------------------------------------------------------------------------------
# Value, gradient and Hessian in one pass: NumPy's ufuncs for a tile's exp and log, one kernel for the rest
# --------------------------------------------------------------------------------------------------

#: Elements per tile of the Hessian kernels: their five tile buffers stay in the core's cache.
HESSIAN_TILE = TILE // 4


def _reference_hessian_tile(loss, order, weighted, f: _Flat, out_h, a, b):
    """Elements ``[a, b)`` by the loss's own formula, with the Hessian diagonal into ``out_h``; the tile's sum."""
    wt = None if not weighted else (f.w[a:b] if f.full else f.w[np.arange(a, b) // f.repeat])
    with np.errstate(all="ignore"):
        l, d, h = (tuple(loss._math(np, order, f.yt[a:b], f.yp[a:b])) + (None,))[:3]
        lw = _apply_tile(l, d, wt, f.den, f.dtype, None if f.out_g is None else f.out_g[a:b], False)
        if out_h is not None:
            h = np.broadcast_to(np.asarray(h, dtype=f.dtype), (b - a,))
            _apply_tile(h, h, wt, f.den, f.dtype, out_h[a:b], False)
    if f.out_l is not None:
        f.out_l[a:b] = lw
    return float(np.sum(lw))


def _tiled_hessian(loss, batch, order, out):
    """Without a kernel: the reference formula on cache-sized tiles, on every core, the Hessian included."""
    y_true, y_pred = batch.arrays
    if out is not None or order < 2:
        return _tiled_elementwise(loss, batch, order == 1, out)
    if not _contiguous(y_true, y_pred):
        return None
    f = _flat(y_true, y_pred, batch.reduction, True, None)
    hessian = empty(y_pred.shape, f.dtype)
    weighted = batch.reduction.weight is not None

    def part(lo, hi):
        return sum(_reference_hessian_tile(loss, 2, weighted, f, hessian.reshape(-1), a, min(hi, a + TILE))
                   for a in range(lo, hi, TILE))  # fmt: skip

    total = run(part, split(f.n, MIN_PER_THREAD, TILE))
    return _finish(total, f.den, batch.reduction.kind, f.losses, f.dtype), f.grad, hessian


def _hessian_elementwise(params):
    """A loss of ``_numba.HESSIAN_ELEMENTS``: ``params(loss)`` gives ``(kernel name, P0, P1, P2, P3)``, or
    None where the kernel does not apply (a setting its formula leaves to the reference). Serves value,
    gradient and Hessian (``order`` 0, 1 or 2); returns ``(value, grad, hessian)``."""

    def impl(loss, batch, order, out):
        y_true, y_pred = batch.arrays
        chosen = params(loss)
        if chosen is None or not numba_available() or out is not None:
            # out= may be y_pred itself, which the reference tiles read before they write each tile
            return _tiled_hessian(loss, batch, order, out)
        if not _contiguous(y_true, y_pred):
            return None
        from ._numba import HESSIAN_STAGES, hessian_kernel

        name, *hyper = chosen
        f = _flat(y_true, y_pred, batch.reduction, order >= 1, None)
        c = np.array([0.0, 1.0, 2.0, 0.5, *hyper], dtype=f.dtype)
        if not all(_representable(v, x) for v, x in zip((0.0, 1.0, 2.0, 0.5, *hyper), c)):
            return _tiled_hessian(loss, batch, order, out)
        hessian = empty(y_pred.shape, f.dtype) if order > 1 else None
        out_h = None if hessian is None else hessian.reshape(-1)
        weighted = batch.reduction.weight is not None
        dummy = np.empty(1, dtype=f.dtype)
        stage, k = HESSIAN_STAGES[name], hessian_kernel(name)
        den = f.dtype.type(f.den)

        def part(lo, hi):
            xs = np.empty((5, min(HESSIAN_TILE, hi - lo)), dtype=f.dtype)
            total = 0.0
            for a in range(lo, hi, HESSIAN_TILE):
                b = min(hi, a + HESSIAN_TILE)
                with np.errstate(all="ignore"):
                    stage(f.yt, f.yp, a, b, xs, c)
                tile_sum = k(f.yt, f.yp, xs, f.w, f.full, f.repeat, a, b, den, c,
                             dummy if f.out_l is None else f.out_l, dummy if f.out_g is None else f.out_g,
                             dummy if out_h is None else out_h, f.out_l is not None, f.out_g is not None,
                             out_h is not None)  # fmt: skip
                if not math.isfinite(tile_sum):  # NaN, inf or an element out of the kernel's range
                    tile_sum = _reference_hessian_tile(loss, max(order, 1), weighted, f, out_h, a, b)
                total += tile_sum
            return total

        total = run(part, split(f.n, MIN_PER_THREAD, HESSIAN_TILE))
        return _finish(total, f.den, batch.reduction.kind, f.losses, f.dtype), f.grad, hessian

    impl.hessian, impl.params = True, params
    return impl


def _by_order(first_order, hessian):
    """Value and gradient by an arithmetic kernel (``ELEMENTS``: one pass), the Hessian by ``hessian``'s."""

    def impl(loss, batch, order, out):
        return first_order(loss, batch, order == 1, out) if order < 2 else hessian(loss, batch, order, out)

    impl.hessian, impl.params = True, hessian.params
    return impl


def _named(name, *names):
    """Params of a loss whose hyperparameters are the kernel's P0, P1, ... in order."""
    return lambda loss: (name, *(float(getattr(loss, n)) for n in names))


def _smooth_l1(loss):
    return ("smooth_l1", loss.beta, 1.0 / loss.beta if loss.beta else 0.0)


def _barron(loss):
    """Barron's loss: its named cases take their own kernels; alpha = 2 and +inf take the reference."""
    alpha, scale = loss.alpha, loss.scale
    named = {0.0: "cauchy", -2.0: "geman_mcclure", -math.inf: "welsch"}.get(alpha)
    if named is not None:
        return (named, scale)
    if alpha in (2.0, math.inf):
        return None
    return ("general_robust", alpha, scale, abs(alpha - 2.0), math.copysign(1.0, alpha - 2.0))


def _log_poisson(loss):
    return None if loss.full else ("log_poisson_nll",)


def _deviance(name):
    """Tweedie's family; power 0 (the squared error, for any target) takes the reference. Powers away from 1
    and 2 take the direct form (``_numba.NEAR_SPECIAL_POWER``)."""
    from ._numba import NEAR_SPECIAL_POWER

    def params(loss):
        power = float(loss.power)
        if power == 0:
            return None
        a, b = 1.0 - power, 2.0 - power
        if name.endswith("tweedie_deviance") and min(abs(a), abs(b)) > NEAR_SPECIAL_POWER:
            return (name.replace("_deviance", "_direct"), power, 1.0 / a, 1.0 / b)
        return (name, power)

    return params


def _focal(loss):
    alpha = loss.alpha
    return ("sigmoid_focal", loss.gamma, 1.0 if alpha is None else alpha, 1.0 if alpha is None else 1.0 - alpha)


def _pos_weight_smoothing(loss):
    return (loss.pos_weight, loss.label_smoothing)


def _scalar_pos_weight(impl):
    """Sigmoid cross-entropy: the kernel takes one pos_weight; one per label goes to the reference."""

    def serve(loss, batch, order, out):
        return None if isinstance(loss.pos_weight, tuple) else impl(loss, batch, order, out)

    serve.hessian, serve.params = getattr(impl, "hessian", False), getattr(impl, "params", None)
    return serve


def _row_weight(weight, losses_shape, dtype):
    if weight is None:
        return None
    return np.ascontiguousarray(np.broadcast_to(weight, losses_shape), dtype=dtype).reshape(-1)


def _tiled_rows(tile_fn=None):
    """A row-wise loss (class axis last): tiles of whole rows. ``tile_fn(loss, t, z, scale, g)`` returns the
    losses of the rows and writes ``scale * derivative`` into ``g`` (default: the reference formula)."""

    def impl(loss, batch, want_grad, out):
        y_true, y_pred = batch.arrays
        red = batch.reduction
        if not _contiguous(y_true, y_pred, out):
            return None
        row_math = tile_fn if getattr(loss, "class_weight", None) is None else None
        dtype = y_pred.dtype
        losses_shape = y_pred.shape[:-1]
        num_classes = y_pred.shape[-1]
        rows = math.prod(losses_shape)
        z = y_pred.reshape(rows, num_classes)
        t = y_true.reshape(rows) if y_true.ndim == len(losses_shape) else y_true.reshape(rows, num_classes)
        w = _row_weight(red.weight, losses_shape, dtype)
        den = _denominator(red)
        grad = _grad_buffer(y_pred, out, want_grad)
        g2 = None if grad is None else grad.reshape(rows, num_classes)
        losses = empty(losses_shape, dtype) if red.kind == "none" else None
        out_l = None if losses is None else losses.reshape(-1)
        step = max(1, ROW_TILE // max(num_classes, 1))

        def part(lo, hi):
            total = 0.0
            for a in range(lo, hi, step):
                b = min(hi, a + step)
                wt = None if w is None else w[a:b]
                gt = None if g2 is None else g2[a:b]
                with np.errstate(all="ignore"):
                    if row_math is None:
                        l, d = loss._math(np, 1, t[a:b], z[a:b])[:2]
                        lw = _apply_tile(l, d, wt, den, dtype, gt, True)
                    else:
                        scale = dtype.type(1.0 / den) if wt is None else wt / dtype.type(den)
                        l = row_math(loss, t[a:b], z[a:b], scale, gt)
                        lw = l if wt is None else np.where(wt == 0, np.zeros((), dtype), wt * l)
                total += float(np.sum(lw))
                if out_l is not None:
                    out_l[a:b] = lw
            return total

        total = run(part, split(rows, max(1, MIN_PER_THREAD // max(num_classes, 1)), 1))
        return _finish(total, den, red.kind, losses, dtype), grad

    return impl


def _tiled_examples(loss, batch, want_grad, out):
    """A loss of several arrays (two scores and a label, a mean and a variance, embeddings): its own formula on
    tiles of whole examples, on every core, each prediction's gradient written tile by tile. Every array must
    hold one entry (or one event row) per example: a shared variance leaves the call to the reference."""
    red = batch.reduction
    shape = tuple(red.shape)
    rows = math.prod(shape)
    events = [spec.event != 0 for spec in batch.specs]
    arrays = []
    for a, event in zip(batch.arrays, events):
        if a.shape[: len(shape)] != shape or a.ndim != len(shape) + event or not a.flags.c_contiguous:
            return None
        arrays.append(a.reshape((rows, -1) if event else (rows,)))
    if out is not None or loss.batch_coupled or loss._outer is not None:
        return None
    dtype = arrays[batch.predictions[0]].dtype
    width = max([a.shape[1] for a, event in zip(arrays, events) if event], default=1)
    w = _row_weight(red.weight, shape, dtype)
    den = _denominator(red)
    grads = [empty(batch.arrays[i].shape, dtype) for i in batch.predictions] if want_grad else []
    flat_grads = [g.reshape(arrays[i].shape) for g, i in zip(grads, batch.predictions)]
    losses = empty(shape, dtype) if red.kind == "none" else None
    out_l = None if losses is None else losses.reshape(-1)
    step = max(1, TILE // width)

    def part(lo, hi):
        total = 0.0
        for a in range(lo, hi, step):
            b = min(hi, a + step)
            wt = None if w is None else w[a:b]
            with np.errstate(all="ignore"):
                l, d = loss._math(np, 1, *(x[a:b] for x in arrays))[:2]
                lw = _apply_tile(l, None, wt, den, dtype, None, False)
                scale = dtype.type(1.0 / den) if wt is None else wt / dtype.type(den)
                for term, g, i in zip(d if isinstance(d, tuple) else (d,), flat_grads, batch.predictions):
                    _scale_into(term, scale, g[a:b], events[i])
            total += float(np.sum(lw))
            if out_l is not None:
                out_l[a:b] = lw
        return total

    total = run(part, split(rows, max(1, MIN_PER_THREAD // width), 1))
    return _finish(total, den, red.kind, losses, dtype), (tuple(grads) if want_grad else None)


def _cosine_embedding(loss, batch, want_grad, out):
    """cosine_embedding: one numba pass over each pair of rows (``_numba.cosine_embedding_rows``); without
    numba, tiles of examples."""
    y, x1, x2 = batch.arrays
    red = batch.reduction
    shape = tuple(red.shape)
    if not numba_available() or out is not None or not _contiguous(y, x1, x2) or not (
            y.shape == shape and x1.shape == x2.shape and x1.shape[:-1] == shape):  # fmt: skip
        return _tiled_examples(loss, batch, want_grad, out)
    from ._numba import cosine_embedding_rows

    dtype, rows, width = x1.dtype, math.prod(shape), x1.shape[-1]
    a, b = x1.reshape(rows, width), x2.reshape(rows, width)
    w = _row_weight(red.weight, shape, dtype)
    w = np.ones(rows, dtype) if w is None else w
    den = _denominator(red)
    grads = (empty(x1.shape, dtype), empty(x2.shape, dtype)) if want_grad else None
    g1, g2 = (np.empty((1, 1), dtype),) * 2 if grads is None else (g.reshape(rows, width) for g in grads)
    losses = empty(shape, dtype) if red.kind == "none" else None
    out_l = np.empty(1, dtype) if losses is None else losses.reshape(-1)

    def part(lo, hi):
        return cosine_embedding_rows(y.reshape(-1), a, b, w, lo, hi, den, float(loss.margin), out_l, g1, g2,
                                     losses is not None, grads is not None)  # fmt: skip

    total = run(part, split(rows, max(1, MIN_PER_THREAD // max(width, 1)), 1))
    return _finish(total, den, red.kind, losses, dtype), grads


def _rows_of_elements(name, elementwise):
    """A row loss that is the mean over each row of the elementwise loss ``name`` (multilabel_soft_margin: the
    sigmoid cross-entropy of each label): ``elementwise``'s kernel over the whole array, each row's weight
    spread over its C entries (the denominator times C). ``reduction="none"``, label weights and one
    pos_weight per label take tiled rows."""
    rows = _tiled_rows()

    def impl(loss, batch, want_grad, out):
        from ..reduction import Reduction
        from ..registry import get

        red = batch.reduction
        y_true, y_pred = batch.arrays
        num_classes = y_pred.shape[-1]
        if red.kind == "none" or loss.label_weight is not None or isinstance(loss.pos_weight, tuple) or not num_classes:
            return rows(loss, batch, want_grad, out)
        element = get(name, pos_weight=loss.pos_weight)
        spread = Reduction(np, red.kind, y_pred.shape, weight=red.weight, normalizer=_denominator(red) * num_classes)
        return elementwise(element, dataclasses.replace(batch, reduction=spread), want_grad, out)

    return impl


# --------------------------------------------------------------------------------------------------
# Softmax cross-entropy: one logits-sized buffer (the gradient), or none with out= the logits
# --------------------------------------------------------------------------------------------------


def _softmax_rows(loss, t, z, scale, g, sparse):
    """Losses of rows ``z`` and ``scale * d loss / d z`` written into ``g`` (which may be ``z`` itself).

    Rows whose maximum is not finite (a +inf or NaN logit, or all -inf) take the reference formula.
    """
    dtype = z.dtype
    rows, num_classes = z.shape
    eps = loss.label_smoothing
    m = np.max(z, axis=1)
    finite = np.isfinite(m)
    odd = None
    if not finite.all():
        odd = np.flatnonzero(~finite)
        l_odd, d_odd = loss._math(np, 1, t[odd], z[odd])[:2]  # copies, before g is written
        m = np.where(finite, m, np.zeros((), dtype))
    r = np.arange(rows)
    if sparse:
        z_true = z[r, t]
        target_sum = None
    else:
        target = t * dtype.type(1.0 - eps) + dtype.type(eps / num_classes) if eps else t
        target_sum = np.sum(target, axis=1)
    work = g if g is not None else empty(z.shape, dtype)
    np.subtract(z, m[:, None], out=work)
    shifted_mean = np.mean(work, axis=1) if (sparse and eps > 0) else None  # mean(z) - m, which cannot overflow
    if not sparse:  # -sum_c y'_c log p_c over y'_c != 0, with log p = shifted - log s
        terms = target * work
        terms[target == 0] = 0
        shifted_dot = np.sum(terms, axis=1)
    np.exp(work, out=work)
    s = np.sum(work, axis=1)
    log_s = np.log(s)
    if sparse:
        losses = np.zeros(rows, dtype=dtype)
        if eps < 1:
            losses = losses - dtype.type(1.0 - eps) * ((z_true - m) - log_s)
        if eps > 0:
            losses = losses - dtype.type(eps) * (shifted_mean - log_s)
    else:
        losses = -(shifted_dot - target_sum * log_s)
    if g is not None:
        scale_rows = np.broadcast_to(np.asarray(scale, dtype=dtype), (rows,))
        if sparse:
            np.multiply(work, (scale_rows / s)[:, None], out=g)
            g[r, t] -= scale_rows * dtype.type(1.0 - eps)
            if eps > 0:
                g -= (scale_rows * dtype.type(eps / num_classes))[:, None]
        else:
            np.multiply(work, (scale_rows * target_sum / s)[:, None], out=g)
            g -= scale_rows[:, None] * target
        zero = scale_rows == 0
        if zero.any():
            g[zero] = 0
    if odd is not None:
        losses[odd] = l_odd
        if g is not None:
            scale_odd = np.broadcast_to(np.asarray(scale, dtype=dtype), (rows,))[odd][:, None]
            d_odd = scale_odd * d_odd
            d_odd[np.broadcast_to(scale_odd == 0, d_odd.shape)] = 0
            g[odd] = d_odd
    return losses


def _sparse_softmax(loss, t, z, scale, g):
    return _softmax_rows(loss, t, z, scale, g, True)


def _dense_softmax(loss, t, z, scale, g):
    return _softmax_rows(loss, t, z, scale, g, False)


#: The sigmoid cross-entropy's kernel, which multilabel_soft_margin runs too.
_SIGMOID = _split_elementwise("sigmoid_cross_entropy", _pos_weight_smoothing)

IMPLS = {
    "mse": _numba_elementwise("mse", _no_params),
    "mae": _numba_elementwise("mae", _no_params),
    "huber": _numba_elementwise("huber", _delta_half),
    "pseudo_huber": _by_order(_numba_elementwise("pseudo_huber", _delta_squared),
                              _hessian_elementwise(lambda loss: ("pseudo_huber", *_delta_squared(loss)))),
    "hinge": _numba_elementwise("hinge", _no_params),
    "squared_hinge": _numba_elementwise("squared_hinge", _no_params),
    "rmse": _rmse,
    "msle": _split_elementwise("msle", _no_params),
    "log_cosh": _split_elementwise("log_cosh", _no_params),
    "binary_cross_entropy": _split_elementwise("binary_cross_entropy", _no_params),
    "sigmoid_cross_entropy": _scalar_pos_weight(_by_order(_SIGMOID, _hessian_elementwise(
        lambda loss: ("sigmoid_cross_entropy", *_pos_weight_smoothing(loss))))),
    "multilabel_soft_margin": _rows_of_elements("sigmoid_cross_entropy", _SIGMOID),
    "softmax_cross_entropy": _tiled_rows(_dense_softmax),
    "sparse_softmax_cross_entropy": _tiled_rows(_sparse_softmax),
    "categorical_cross_entropy": _tiled_rows(),
    "sparse_categorical_cross_entropy": _tiled_rows(),
    "kl_divergence": _tiled_rows(),
    # the row losses of the catalogue: their own formula on cache-sized tiles of rows, on every core
    **{name: _tiled_rows() for name in
       ("softmax_focal", "sparse_softmax_focal", "categorical_focal", "poly1_softmax_cross_entropy",
        "generalized_cross_entropy", "crammer_singer_hinge", "weston_watkins_hinge", "sparsemax_loss",
        "reverse_kl_divergence", "jensen_shannon", "generalized_kl_divergence",
        "distillation")},
    "smooth_l1": _by_order(_numba_elementwise("smooth_l1", lambda loss: (loss.beta, 0.0)),
                           _hessian_elementwise(_smooth_l1)),
    "hinge_embedding": _numba_elementwise("hinge_embedding", lambda loss: (loss.margin, 0.0)),
    # losses of several arrays: their own formula on tiles of examples, on every core
    **{name: _tiled_examples for name in ("margin_ranking", "gaussian_nll", "triplet_margin", "poisson_nll")},
    "cosine_embedding": _cosine_embedding,
    "epsilon_insensitive": _hessian_elementwise(_named("epsilon_insensitive", "epsilon")),
    "squared_epsilon_insensitive": _hessian_elementwise(_named("squared_epsilon_insensitive", "epsilon")),
    "cauchy": _hessian_elementwise(_named("cauchy", "scale")),
    "geman_mcclure": _hessian_elementwise(_named("geman_mcclure", "scale")),
    "welsch": _hessian_elementwise(_named("welsch", "scale")),
    "tukey_biweight": _hessian_elementwise(_named("tukey_biweight", "c")),
    "general_robust": _hessian_elementwise(_barron),
    "log_poisson_nll": _hessian_elementwise(_log_poisson),
    "exponential": _hessian_elementwise(_named("exponential")),
    "soft_margin": _hessian_elementwise(_named("soft_margin")),
    "sigmoid_focal": _hessian_elementwise(_focal),
    "asymmetric": _hessian_elementwise(_named("asymmetric", "gamma_pos", "gamma_neg", "clip")),
    **{name: _hessian_elementwise(_deviance(name)) for name in
       ("poisson_deviance", "gamma_deviance", "tweedie_deviance", "log_poisson_deviance", "log_gamma_deviance",
        "log_tweedie_deviance")},
}
