r"""Numerically stable primitives, written once against the Array API standard.

Every function takes the namespace ``xp`` first. The few places that branch to a library's native
kernel do so because it is faster or compiles better, never because the result differs.
"""

from __future__ import annotations

import array_api_compat

from ._xp import device

#: Each log of a probability is clamped at this value (PyTorch's rule for binary cross-entropy).
LOG_CLAMP = -100.0


def softplus(xp, x):
    r"""``log(1 + exp(x))``, exact for any ``x`` and with the right derivative ``sigmoid(x)`` everywhere."""
    return xp.logaddexp(xp.zeros_like(x), x)


def sigmoid(xp, x):
    r"""The logistic function :math:`1 / (1 + e^{-x})`, accurate in both tails."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logistic_pieces(xp, x):
    r"""``(softplus(x), softplus(-x), sigmoid(x), sigmoid(-x))`` from one exponential, :math:`e = e^{-|x|}`:
    :math:`\mathrm{softplus}(\pm x) = \max(\pm x, 0) + \log(1 + e)`, :math:`\sigma(|x|) = 1 / (1 + e)`,
    :math:`\sigma(-|x|) = e / (1 + e)`; exact in both tails. :math:`|x|` and the maxima are selections on
    :math:`x \ge 0`, so autodiff takes one side at 0 in every framework, and gets the slopes 1/2 right there."""
    above = x >= 0
    e = xp.exp(-xp.where(above, x, -x))
    log_term = xp.log1p(e)
    big = 1.0 / (1.0 + e)
    small = e * big
    return (xp.where(above, x + log_term, log_term), xp.where(above, log_term, log_term - x),
            xp.where(above, big, small), xp.where(above, small, big))  # fmt: skip


def log_softmax(xp, logits):
    r"""``logits - logsumexp(logits)`` over the last axis.

    Rows with a ``+inf`` logit give ``-log k`` at their ``k`` infinite entries and ``-inf`` elsewhere
    (the limit); rows that are all ``-inf`` give the uniform distribution. In finite rows the shift
    by the row maximum is the plain ``z - max(z)``, so autodiff gives exact gradients, ties included.
    """
    return log_softmax_and_softmax(xp, logits)[0]


def log_softmax_and_softmax(xp, logits):
    r"""``(log_softmax(z), softmax(z))`` from one exponential of the shifted logits, the softmax as
    :math:`e / \sum e` (a compiler keeps that exponential for both the log-sum and the softmax)."""
    row_max = xp.max(logits, axis=-1, keepdims=True)
    finite_max = xp.where(xp.isfinite(row_max), row_max, xp.zeros_like(row_max))
    shifted = logits - finite_max
    # A +inf maximum: the infinite entries share the mass, the others get none.
    shifted = xp.where(
        row_max == xp.inf,
        xp.where(logits == xp.inf, xp.zeros_like(logits), xp.full_like(logits, -xp.inf)),
        shifted,
    )
    # All entries -inf: no preference, the uniform distribution.
    shifted = xp.where(row_max == -xp.inf, xp.zeros_like(logits), shifted)
    e = xp.exp(shifted)
    total = xp.sum(e, axis=-1, keepdims=True)
    return shifted - xp.log(total), e / total


def log1m_exp(xp, x):
    r"""``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (``-inf`` at ``x = 0``); NaN stays NaN."""
    zero = x == 0
    safe = xp.where(zero, -xp.ones_like(x), x)
    near = safe > -0.6931471805599453  # -log 2: expm1 keeps the digits there, log1p below
    one = xp.ones_like(x)
    value = xp.where(near, xp.log(-xp.expm1(xp.where(near, safe, -one))), xp.log1p(-xp.exp(xp.where(near, -one, safe))))
    return xp.where(zero, xp.full_like(x, -xp.inf), value)


def softmax_parts(xp, logits):
    r"""``(log p, top, log(1 - p_top))`` of ``p = softmax(logits)`` over the last axis, each exact.

    ``top`` holds the id of the first largest logit of each row, the only class whose ``p`` may exceed
    1/2; ``log(1 - p_top)`` (keepdims) comes from the sum of the others' shares, :math:`r / (1 + r)` with
    :math:`r = \sum_{c \ne top} e^{z_c - z_{top}}`, so a confident row keeps every digit of its tiny
    ``1 - p`` (and of ``log p``, :math:`-\log(1 + r)`), where ``1 - softmax`` would round to 0. Every
    other class has ``p <= 1/2``, whose ``log(1 - p)`` is ``log1m_exp(log p)`` (:func:`log1m_softmax`).
    """
    row_max = xp.max(logits, axis=-1, keepdims=True)
    # the limits of infinite rows: +inf entries share the mass (0, the rest -inf); a row all -inf is uniform
    zero = xp.zeros_like(logits)
    z = xp.where(row_max == xp.inf, xp.where(logits == xp.inf, zero, xp.full_like(logits, -xp.inf)), logits)
    z = xp.where(row_max == -xp.inf, zero, z)
    shifted = z - xp.where(xp.isinf(row_max), xp.zeros_like(row_max), row_max)  # a NaN row stays NaN
    top = xp.argmax(z, axis=-1)
    at_top = class_mask(xp, top, logits.shape[-1])
    rest = xp.sum(xp.where(at_top, zero, xp.exp(shifted)), axis=-1, keepdims=True)
    log_p = shifted - xp.log1p(rest)  # the top entry is 0 - log(1 + rest)
    positive = rest > 0
    log_rest = xp.where(positive, xp.log(xp.where(positive, rest, xp.ones_like(rest))), xp.full_like(rest, -xp.inf))
    return log_p, top, log_rest - xp.log1p(rest)


def log1m_softmax(xp, log_p, top, log_u_top):
    """``log(1 - p)`` of every class, exact, from :func:`softmax_parts`."""
    return xp.where(class_mask(xp, top, log_p.shape[-1]), log_u_top, log1m_exp(xp, log_p))


def sparsemax_parts(xp, scores):
    r"""``(p, tau, z)``: the sparsemax of ``scores`` over the last axis, :math:`p = \max(z - \tau, 0)`, the
    Euclidean projection of the row onto the simplex, with the threshold :math:`\tau` (keepdims) of the
    row ``z`` it is computed from: ``scores`` shifted by the row maximum (the projection does not change).

    So ``tau`` is at most 0 and a confident row is exact. The limits: rows with ``+inf`` entries become
    0 there and ``-inf`` elsewhere (they share the mass), rows all ``-inf`` become 0 (uniform).
    """
    row_max = xp.max(scores, axis=-1, keepdims=True)
    finite = xp.isfinite(row_max)
    z = scores - xp.where(finite, row_max, xp.zeros_like(row_max))
    z = xp.where(row_max == xp.inf, xp.where(scores == xp.inf, xp.zeros_like(z), xp.full_like(z, -xp.inf)), z)
    z = xp.where(row_max == -xp.inf, xp.zeros_like(z), z)
    ranked = -xp.sort(-z, axis=-1)  # descending
    k = xp.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=device(z))
    sums = xp.cumulative_sum(ranked, axis=-1)
    support = xp.sum(xp.astype(1.0 + k * ranked > sums, xp.int64), axis=-1)  # >= 1: the top entry is 0
    size = xp.astype(support, z.dtype)[..., None]
    tau = (take_class(xp, sums, support - 1)[..., None] - 1.0) / size
    zero = xp.zeros_like(z)
    p = xp.where(z > tau, z - tau, zero)
    return propagate_nan(xp, row_max, p), propagate_nan(xp, row_max, tau), z


def xlogy(xp, x, y):
    r"""``x * log(y)`` with ``0 * log(y) = 0`` for any ``y >= 0``; NaN in either gives NaN."""
    zero = (x == 0) & ~xp.isnan(y)
    safe_y = xp.where(zero, xp.ones_like(y), y)
    return xp.where(zero, xp.zeros_like(x), x * xp.log(safe_y))


def clamped_log(xp, p, autodiff: bool = True):
    r"""``(max(log p, -100), kept)``: finite for ``p = 0``; NaN stays NaN.

    ``kept`` marks where the log is not clamped. With ``autodiff`` the log is taken again, of a safe
    stand-in where clamped, so autodiff sees the clamp's zero slope instead of ``0 * inf``.
    """
    log_p = xp.log(p)
    kept = log_p > LOG_CLAMP
    used = kept | xp.isnan(p)
    if autodiff:
        log_p = xp.log(xp.where(used, p, xp.ones_like(p)))
    return xp.where(used, log_p, xp.full_like(p, LOG_CLAMP)), kept


def clamped_log1m(xp, p, autodiff: bool = True):
    r"""``(max(log(1 - p), -100), kept)``, with ``log1p`` for precision near ``p = 0``; see ``clamped_log``."""
    log_q = xp.log1p(-p)
    kept = log_q > LOG_CLAMP
    used = kept | xp.isnan(p)
    if autodiff:
        log_q = xp.log1p(-xp.where(used, p, xp.zeros_like(p)))
    return xp.where(used, log_q, xp.full_like(p, LOG_CLAMP)), kept


def propagate_nan(xp, x, result):
    """``result``, but NaN wherever ``x`` is NaN: for formulas that select with comparisons."""
    return xp.where(xp.isnan(x), x, result)


def class_mask(xp, class_ids, num_classes: int):
    """A boolean array of shape ``class_ids.shape + (num_classes,)``, True at each row's class."""
    return class_ids[..., None] == xp.arange(num_classes, device=device(class_ids))


def one_hot(xp, class_ids, num_classes: int, dtype):
    """A one-hot array of shape ``class_ids.shape + (num_classes,)``."""
    return xp.astype(class_mask(xp, class_ids, num_classes), dtype)


def take_class(xp, values, class_ids):
    """``values[..., class_ids]`` along the last axis: one entry per row.

    PyTorch uses ``Tensor.gather``, which ``torch.compile`` compiles once for every batch size.
    """
    index = class_ids[..., None]
    if array_api_compat.is_torch_namespace(xp):
        return values.gather(-1, index)[..., 0]
    return xp.take_along_axis(values, index, axis=-1)[..., 0]
