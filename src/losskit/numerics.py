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


def log_softmax(xp, logits):
    r"""``logits - logsumexp(logits)`` over the last axis.

    Rows with a ``+inf`` logit give ``-log k`` at their ``k`` infinite entries and ``-inf`` elsewhere
    (the limit); rows that are all ``-inf`` give the uniform distribution. In finite rows the shift
    by the row maximum is the plain ``z - max(z)``, so autodiff gives exact gradients, ties included.
    """
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
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def xlogy(xp, x, y):
    r"""``x * log(y)`` with ``0 * log(y) = 0`` for any ``y >= 0``; NaN in either gives NaN."""
    zero = (x == 0) & ~xp.isnan(y)
    safe_y = xp.where(zero, xp.ones_like(y), y)
    return xp.where(zero, xp.zeros_like(x), x * xp.log(safe_y))


def clamped_log(xp, p):
    r"""``(max(log p, -100), kept)``: finite for ``p = 0``; NaN stays NaN.

    ``kept`` marks where the log is not clamped. The log is taken of a safe stand-in elsewhere, so
    autodiff sees the clamp's zero slope instead of ``0 * inf``.
    """
    kept = xp.log(p) > LOG_CLAMP
    used = kept | xp.isnan(p)
    safe = xp.where(used, p, xp.ones_like(p))
    return xp.where(used, xp.log(safe), xp.full_like(p, LOG_CLAMP)), kept


def clamped_log1m(xp, p):
    r"""``(max(log(1 - p), -100), kept)``, with ``log1p`` for precision near ``p = 0``; see ``clamped_log``."""
    kept = xp.log1p(-p) > LOG_CLAMP
    used = kept | xp.isnan(p)
    safe = xp.where(used, p, xp.zeros_like(p))
    return xp.where(used, xp.log1p(-safe), xp.full_like(p, LOG_CLAMP)), kept


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
