"""Implementations of the fast path, one entry per loss class (by class name) in ``IMPLS``.

Each entry takes the prepared inputs of ``Loss._prepare`` (compute dtype, class axis last) and returns
``(value, grad)``; see the package docstring for the three techniques.
"""

from __future__ import annotations

import math

import numpy as np

from . import MIN_PER_THREAD, ROW_TILE, TILE, numba_available
from ._threads import run, split

# --------------------------------------------------------------------------------------------------
# The reduction rule of _reduce.py, as a denominator: scale = w / den, value = sum(w l) / den
# --------------------------------------------------------------------------------------------------


def _denominator(reduction, normalizer, weight, count, repeat):
    """``den`` such that the value is ``sum(w l) / den`` (``"none"`` and ``"sum"``: 1) and each example's
    scale is ``w / den``; ``repeat`` is how many losses share each weight entry."""
    if normalizer is not None:
        return float(normalizer)
    if reduction in ("none", "sum"):
        return 1.0
    if weight is None:
        return float(max(count, 1))
    weight_sum = float(np.sum(weight, dtype=np.float64)) * repeat
    return weight_sum if weight_sum > 0 else 1.0  # sum(w) == 0 (or NaN): value 0, gradient 0


def _finish(total, den, reduction, losses, dtype):
    if reduction == "none":
        return losses
    return np.asarray(total / den if den != 1.0 else total, dtype=np.float64).astype(dtype)


def _contiguous(*arrays):
    return all(a is None or a.flags.c_contiguous for a in arrays)


def _grad_buffer(y_pred, out, want_grad):
    if not want_grad:
        return None
    if out is not None:
        return out
    return np.empty(y_pred.shape, dtype=y_pred.dtype)


# --------------------------------------------------------------------------------------------------
# Elementwise losses: numba kernels
# --------------------------------------------------------------------------------------------------


def _weight_layout(weight, n, dtype):
    """``(w, full, repeat)``: the weight as a flat array; ``full`` if there is one weight per loss, else
    each entry covers ``repeat`` consecutive losses (no weight: one entry 1.0 covering all)."""
    if weight is None:
        return np.ones(1, dtype=dtype), False, max(n, 1)
    w = np.ascontiguousarray(weight, dtype=dtype).reshape(-1)
    if w.size == n:
        return w, True, 1
    return w, False, max(n // max(w.size, 1), 1)


def _numba_elementwise(name, params):
    def impl(loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out):
        if not numba_available() or not _contiguous(y_true, y_pred, out):
            return _tiled_elementwise(loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out)
        from ._numba import kernel

        dtype = y_pred.dtype
        n = y_pred.size
        yt, yp = y_true.reshape(-1), y_pred.reshape(-1)
        w, full, repeat = _weight_layout(weight, n, dtype)
        den = _denominator(reduction, normalizer, None if weight is None else w, n, repeat)
        grad = _grad_buffer(y_pred, out, want_grad)
        losses = np.empty(y_pred.shape, dtype=dtype) if reduction == "none" else None
        dummy = np.empty(1, dtype=dtype)
        out_l = dummy if losses is None else losses.reshape(-1)
        out_g = dummy if grad is None else grad.reshape(-1)
        c = np.array([0.0, 1.0, 2.0, 0.5, *params(loss)], dtype=dtype)
        k = kernel(name)
        den_t = dtype.type(den)
        total = run(
            lambda lo, hi: k(yt, yp, w, full, repeat, lo, hi, den_t, c, out_l, out_g, losses is not None, grad is not None),
            split(n, MIN_PER_THREAD),
        )
        return _finish(total, den, reduction, losses, dtype), grad

    return impl


def _no_params(loss):
    return (0.0, 0.0)


def _delta_half(loss):
    return (loss.delta, 0.5 * loss.delta)


def _delta_squared(loss):
    return (loss.delta, loss.delta**2)


def _rmse(loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out):
    """RMSE: the MSE kernel twice, once for the value (sum only), once for the gradient with the
    root's slope folded into the denominator (``RMSE._reduce``: scale * 0.5 / value, 0 at 0)."""
    if reduction == "none" or not numba_available() or not _contiguous(y_true, y_pred, out):
        return None
    from ._numba import kernel

    dtype = y_pred.dtype
    n = y_pred.size
    yt, yp = y_true.reshape(-1), y_pred.reshape(-1)
    w, full, repeat = _weight_layout(weight, n, dtype)
    den = _denominator(reduction, normalizer, None if weight is None else w, n, repeat)
    dummy = np.empty(1, dtype=dtype)
    c = np.array([0.0, 1.0, 2.0, 0.5, 0.0, 0.0], dtype=dtype)
    k = kernel("mse")
    ranges = split(n, MIN_PER_THREAD)
    total = run(lambda lo, hi: k(yt, yp, w, full, repeat, lo, hi, dtype.type(den), c, dummy, dummy, False, False), ranges)
    mean_square = dtype.type(total / den if den != 1.0 else total)
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
    out_g = grad.reshape(-1)
    run(lambda lo, hi: k(yt, yp, w, full, repeat, lo, hi, dtype.type(den2), c, dummy, out_g, False, True), ranges)
    return np.asarray(value), grad


# --------------------------------------------------------------------------------------------------
# Tiled reference: the loss's own formula on cache-sized tiles, on every core
# --------------------------------------------------------------------------------------------------


def _apply_tile(l, d, w, den, dtype, g, class_axis):
    """The reduction rule of one tile: return ``w * l`` (0 where w == 0) and write ``scale * d`` into ``g``."""
    if w is None:
        lw = l
        if g is not None:
            np.multiply(d, dtype.type(1.0 / den), out=g)
        return lw
    lw = np.where(w == 0, np.zeros((), dtype), w * l)
    if g is not None:
        scale = w / dtype.type(den)
        if class_axis:
            scale = scale[:, None]
        np.multiply(scale, d, out=g)
        if not np.all(scale):
            np.copyto(g, 0, where=np.broadcast_to(scale == 0, g.shape))
    return lw


# --- hand-fused tile formulas: NumPy's SIMD ufuncs with out= into per-thread tile buffers ----------
# Each ``fused(loss, t, p, d, b)`` writes the derivative into ``d`` and returns the losses (a buffer of
# ``b``, a list of tile-sized scratch arrays), or None for "take the reference formula for this tile".
# They compute the reference's numbers to rounding wherever the losses are finite; they skip its care
# for NaN, inf and clamped logs, so a tile whose losses are not all finite goes to the reference.


def _fused_log_cosh(loss, t, p, d, b):
    # log cosh r = log1p((cosh |r| - 1)) = log1p(E^2 / (2 (1 + E))) with E = expm1(|r|): exact near 0;
    # above 30, |r| - log 2 (exp(-2|r|) is below the rounding).
    r, a, e, x = b[0], b[1], b[2], b[3]
    np.subtract(p, t, out=r)
    np.tanh(r, out=d)
    np.abs(r, out=a)
    top = a.max()
    if math.isnan(top):
        return None
    big = None
    if top > 30.0:
        big = a > 30.0
        np.minimum(a, 30.0, out=e)
        np.expm1(e, out=e)
    else:
        np.expm1(a, out=e)
    np.multiply(e, e, out=x)
    np.add(e, 1.0, out=e)
    np.add(e, e, out=e)
    np.divide(x, e, out=x)
    np.log1p(x, out=x)
    if big is not None:
        x[big] = a[big] - math.log(2.0)
    return x


def _fused_msle(loss, t, p, d, b):
    lp, lt, l = b[0], b[1], b[2]
    np.log1p(p, out=lp)
    np.log1p(t, out=lt)
    np.subtract(lp, lt, out=lp)  # d = log1p(p) - log1p(t)
    np.multiply(lp, lp, out=l)
    np.add(p, 1.0, out=lt)
    np.divide(lp, lt, out=d)
    np.add(d, d, out=d)  # 2 d / (1 + p)
    return l


def _fused_binary_ce(loss, t, p, d, b):
    lp, l1, omt, l = b[0], b[1], b[2], b[3]
    np.log(p, out=lp)
    np.negative(p, out=l1)
    np.log1p(l1, out=l1)
    if not (lp.min() > -100.0 and l1.min() > -100.0):  # a clamped log, or NaN
        return None
    np.subtract(1.0, t, out=omt)
    np.multiply(t, lp, out=l)
    np.multiply(omt, l1, out=l1)
    np.add(l, l1, out=l)
    np.negative(l, out=l)  # -(y log p + (1 - y) log(1 - p))
    np.divide(t, p, out=lp)
    np.subtract(1.0, p, out=l1)
    np.divide(omt, l1, out=d)
    np.subtract(d, lp, out=d)  # -y / p + (1 - y) / (1 - p)
    return l


def _fused_sigmoid_ce(loss, t, z, d, b):
    eps, pos_weight = loss.label_smoothing, loss.pos_weight
    y, neg, tail, l, s = b[0], b[1], b[2], b[3], b[4]
    if eps:
        np.multiply(t, 1.0 - eps, out=y)
        np.add(y, 0.5 * eps, out=y)
    elif pos_weight == 1.0:
        y = t  # read only
    else:
        np.copyto(y, t)
    np.subtract(1.0, y, out=neg)
    # softplus(+-z) = max(+-z, 0) + log1p(exp(-|z|)), with max(+-z, 0) = (|z| +- z) / 2 (exact; faster
    # than np.maximum). A z so large that |z| + z overflows makes the tile non-finite: the reference takes it.
    np.abs(z, out=tail)
    if pos_weight == 1.0:  # positive + negative = 1: max(z, 0) - y z + tail
        np.add(tail, z, out=l)
        np.multiply(l, 0.5, out=l)
        np.multiply(y, z, out=s)
        np.subtract(l, s, out=l)
    else:
        np.multiply(y, pos_weight, out=y)  # the positive coefficient
        np.subtract(tail, z, out=l)
        np.multiply(l, 0.5, out=l)
        np.multiply(y, l, out=l)  # positive * max(-z, 0)
        np.add(tail, z, out=s)
        np.multiply(s, 0.5, out=s)
        np.multiply(neg, s, out=s)
        np.add(l, s, out=l)  # + negative * max(z, 0)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    if pos_weight == 1.0:
        np.add(l, tail, out=l)
    else:
        np.multiply(y, tail, out=s)
        np.add(l, s, out=l)
        np.multiply(neg, tail, out=s)
        np.add(l, s, out=l)
    # negative sigmoid(z) - positive sigmoid(-z), each sigmoid as 1 / (1 + exp(-x)): exact in both tails
    np.negative(z, out=s)
    np.exp(s, out=s)
    np.add(s, 1.0, out=s)
    np.divide(neg, s, out=d)
    np.exp(z, out=s)
    np.add(s, 1.0, out=s)
    np.divide(y, s, out=s)
    np.subtract(d, s, out=d)
    return l


FUSED = {
    "LogCosh": _fused_log_cosh,
    "MSLE": _fused_msle,
    "BinaryCrossEntropy": _fused_binary_ce,
    "SigmoidCrossEntropy": _fused_sigmoid_ce,
}


def _tiled_elementwise(loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out):
    dtype = y_pred.dtype
    n = y_pred.size
    if not _contiguous(y_true, y_pred, out):
        return None
    yt, yp = y_true.reshape(-1), y_pred.reshape(-1)
    if weight is None:
        w, full, repeat = None, False, 1
    else:
        w, full, repeat = _weight_layout(weight, n, dtype)
    den = _denominator(reduction, normalizer, w, n, repeat)
    grad = _grad_buffer(y_pred, out, want_grad)
    losses = np.empty(y_pred.shape, dtype=dtype) if reduction == "none" else None
    out_l = None if losses is None else losses.reshape(-1)
    out_g = None if grad is None else grad.reshape(-1)

    fused = FUSED.get(type(loss).__name__)
    inv_den = dtype.type(1.0 / den)

    def part(lo, hi):
        total = 0.0
        bufs = [np.empty(min(TILE, hi - lo), dtype=dtype) for _ in range(6)] if fused is not None else None
        for a in range(lo, hi, TILE):
            b = min(hi, a + TILE)
            if w is None:
                wt = None
            elif full:
                wt = w[a:b]
            else:
                wt = w[np.arange(a, b) // repeat]
            with np.errstate(all="ignore"):
                l = None
                if fused is not None:
                    m = b - a
                    tile_bufs = [x[:m] for x in bufs]
                    d = out_g[a:b] if out_g is not None else tile_bufs[5]
                    l = fused(loss, yt[a:b], yp[a:b], d, tile_bufs)
                    if l is not None:
                        raw = float(np.sum(l))
                        if not math.isfinite(raw):
                            l = None  # NaN, inf or overflow: the reference decides
                if l is not None:
                    if wt is None:
                        lw, tile_sum = l, raw
                        if out_g is not None and inv_den != 1:
                            np.multiply(d, inv_den, out=d)
                    else:
                        lw = _apply_tile(l, d, wt, den, dtype, None if out_g is None else out_g[a:b], False)
                        tile_sum = float(np.sum(lw))
                else:
                    l, d = loss._losses_and_derivative(np, yt[a:b], yp[a:b])
                    lw = _apply_tile(l, d, wt, den, dtype, None if out_g is None else out_g[a:b], False)
                    tile_sum = float(np.sum(lw))
            total += tile_sum
            if out_l is not None:
                out_l[a:b] = lw
        return total

    total = run(part, split(n, MIN_PER_THREAD, TILE))
    return _finish(total, den, reduction, losses, dtype), grad


def _row_weight(weight, losses_shape, dtype):
    if weight is None:
        return None
    return np.ascontiguousarray(np.broadcast_to(weight, losses_shape), dtype=dtype).reshape(-1)


def _tiled_rows(tile_fn=None):
    """A row-wise loss (class axis last): tiles of whole rows. ``tile_fn(loss, t, z, scale, g)`` returns the
    losses of the rows and writes ``scale * derivative`` into ``g`` (default: the reference formula)."""

    def impl(loss, y_true, y_pred, weight, reduction, normalizer, want_grad, out):
        if not _contiguous(y_true, y_pred, out):
            return None
        dtype = y_pred.dtype
        losses_shape = y_pred.shape[:-1]
        num_classes = y_pred.shape[-1]
        rows = math.prod(losses_shape)
        z = y_pred.reshape(rows, num_classes)
        t = y_true.reshape(rows) if loss.has_class_ids else y_true.reshape(rows, num_classes)
        w = _row_weight(weight, losses_shape, dtype)
        den = _denominator(reduction, normalizer, w, rows, 1)
        grad = _grad_buffer(y_pred, out, want_grad)
        g2 = None if grad is None else grad.reshape(rows, num_classes)
        losses = np.empty(losses_shape, dtype=dtype) if reduction == "none" else None
        out_l = None if losses is None else losses.reshape(-1)
        step = max(1, ROW_TILE // max(num_classes, 1))

        def part(lo, hi):
            total = 0.0
            for a in range(lo, hi, step):
                b = min(hi, a + step)
                wt = None if w is None else w[a:b]
                gt = None if g2 is None else g2[a:b]
                with np.errstate(all="ignore"):
                    if tile_fn is None:
                        l, d = loss._losses_and_derivative(np, t[a:b], z[a:b])
                        lw = _apply_tile(l, d, wt, den, dtype, gt, True)
                    else:
                        scale = dtype.type(1.0 / den) if wt is None else wt / dtype.type(den)
                        l = tile_fn(loss, t[a:b], z[a:b], scale, gt)
                        lw = l if wt is None else np.where(wt == 0, np.zeros((), dtype), wt * l)
                total += float(np.sum(lw))
                if out_l is not None:
                    out_l[a:b] = lw
            return total

        total = run(part, split(rows, max(1, MIN_PER_THREAD // max(num_classes, 1)), 1))
        return _finish(total, den, reduction, losses, dtype), grad

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
        l_odd, d_odd = loss._losses_and_derivative(np, t[odd], z[odd])  # copies, before g is written
        m = np.where(finite, m, np.zeros((), dtype))
    r = np.arange(rows)
    if sparse:
        z_true = z[r, t]
        target_sum = None
    else:
        target = t * dtype.type(1.0 - eps) + dtype.type(eps / num_classes) if eps else t
        target_sum = np.sum(target, axis=1)
    z_mean = np.mean(z, axis=1) if (sparse and eps > 0) else None
    work = g if g is not None else np.empty_like(z)
    np.subtract(z, m[:, None], out=work)
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
            losses = losses - dtype.type(eps) * ((z_mean - m) - log_s)
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


IMPLS = {
    "MSE": _numba_elementwise("mse", _no_params),
    "MAE": _numba_elementwise("mae", _no_params),
    "Huber": _numba_elementwise("huber", _delta_half),
    "PseudoHuber": _numba_elementwise("pseudo_huber", _delta_squared),
    "Hinge": _numba_elementwise("hinge", _no_params),
    "SquaredHinge": _numba_elementwise("squared_hinge", _no_params),
    "RMSE": _rmse,
    "MSLE": _tiled_elementwise,
    "LogCosh": _tiled_elementwise,
    "BinaryCrossEntropy": _tiled_elementwise,
    "SigmoidCrossEntropy": _tiled_elementwise,
    "SoftmaxCrossEntropy": _tiled_rows(_dense_softmax),
    "SparseSoftmaxCrossEntropy": _tiled_rows(_sparse_softmax),
    "CategoricalCrossEntropy": _tiled_rows(),
    "SparseCategoricalCrossEntropy": _tiled_rows(),
    "KLDivergence": _tiled_rows(),
}
