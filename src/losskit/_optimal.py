"""The best constant prediction of a loss (``Loss.optimal_constant``): helpers and the numeric search.

Losses with a closed form (the mean, the median, a quantile, the log of the mean, class
frequencies) override ``Loss._optimal_constant`` with the helpers here; the others get
:func:`numeric_constant`, a one-dimensional search over the constant: bisection on the derivative of
the cost for convex losses, a golden-section search on the cost over a bounded domain otherwise.
Everything here works on NumPy float64: it computes a start score, not a training step.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_domain, validation
from .errors import InputError
from .inputs import SAMPLE

#: The iterations of the searches: enough for float64 over any bracket.
ITERATIONS = 200


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a PyTorch tensor
        x = x.detach().cpu()
    try:
        return np.asarray(x)
    except (TypeError, RuntimeError, ValueError):
        return np.from_dlpack(x)


def prepare_targets(loss, targets, sample_weight):
    """``(targets, weight)`` as NumPy arrays checked against the declaration, event axes last.

    Class ids stay integers; real targets become float64. ``weight`` broadcasts against the examples
    from their leading axes (or is None).
    """
    name, specs = loss.info.name, loss.info.targets
    if not specs:
        raise InputError(f"{name} has no target: every input is a prediction, so no constant prediction fits a target.")
    if len(targets) != len(specs):
        names = ", ".join(spec.name for spec in specs)
        raise InputError(f"{name}.optimal_constant takes {len(specs)} target arrays ({names}); got {len(targets)}.")
    prepared = []
    for spec, value in zip(specs, targets):
        x = _numpy(value)
        if x.dtype.kind not in "biuf":
            raise InputError(f"{name}: {spec.name} must be numbers to choose a constant; got dtype {x.dtype}.")
        x = x.astype(np.int64 if spec.kind == "class_index" else np.float64)
        if not np.all(np.isfinite(x)):
            bad = ~np.isfinite(x)
            raise InputError(
                f"{name}: {spec.name} must be finite to choose a constant; got {int(bad.sum())} NaN or inf values."
            )
        if spec.kind == "class_index":
            if np.any(x < 0):
                raise InputError(f"{name}: {spec.name} must be class ids >= 0; got {int(x.min())}.")
        else:
            check_domain(np, name, spec.name, x, spec.domain)
        if spec.event == 1:
            x = np.moveaxis(x, getattr(loss, "axis", -1), -1)
        elif spec.event == SAMPLE:
            x = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(1, 1)
        prepared.append(x)
    weight = None
    if sample_weight is not None:
        weight = _numpy(sample_weight).astype(np.float64)
        if np.any(weight < 0) or not np.all(np.isfinite(weight)):
            raise InputError(f"{name}: sample_weight must be finite weights >= 0.")
    return tuple(prepared), weight


def example_weights(weight, shape) -> np.ndarray:
    """The weight of every example of ``shape``, broadcast from the leading axes (ones without weights)."""
    if weight is None:
        return np.ones(shape)
    while weight.ndim > len(shape) and weight.shape[-1] == 1:
        weight = weight[..., 0]
    try:
        return np.broadcast_to(weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim)), shape)
    except ValueError:
        raise InputError(f"sample_weight of shape {weight.shape} does not fit the examples of shape {shape}.") from None


def weighted_mean(y, weight, *, rows: bool = False) -> np.ndarray:
    """The weighted mean of ``y`` over its examples; with ``rows``, of its rows (one mean per column)."""
    examples = y.shape[:-1] if rows else y.shape
    w = example_weights(weight, examples)
    total = w.sum()
    if rows:
        w = w[..., None]
    axes = tuple(range(len(examples)))
    if total <= 0:
        return np.mean(y, axis=axes) if y.size else np.zeros(y.shape[len(examples):])
    return np.asarray(np.sum(w * y, axis=axes) / total)


def simplex_minimum(slope, shares) -> np.ndarray:
    r"""The probability row :math:`p` minimising :math:`\sum_c s_c \varphi(p_c)` over the simplex, for a convex
    :math:`\varphi` decreasing on (0, 1): ``slope(p)`` is :math:`\varphi'` (vectorised), ``shares`` the
    :math:`s_c \ge 0`.

    At the minimum :math:`s_c \varphi'(p_c) = \lambda` for every class with a share (Lagrange), so an outer
    bisection on :math:`\log(-\lambda)` meets :math:`\sum_c p_c = 1`, and an inner one, over :math:`\log p_c`,
    inverts :math:`\varphi'` for all classes at once. A class without a share gets 0.
    """
    shares = np.asarray(shares, dtype=np.float64)
    held = shares > 0
    if not held.any():
        return np.full(shares.shape, 1.0 / shares.size)
    safe = np.where(held, shares, 1.0)

    def row(log_lambda):
        target = -np.exp(log_lambda) / safe  # phi'(p_c) = lambda / s_c
        low, high = np.full(shares.shape, -745.0), np.zeros(shares.shape)
        for _ in range(60):
            middle = 0.5 * (low + high)
            below = slope(np.exp(middle)) <= target  # phi' increases: p_c lies above middle
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        return np.where(held, np.exp(0.5 * (low + high)), 0.0)

    low, high = -745.0, 745.0  # log(-lambda): a larger one gives a smaller row
    for _ in range(80):
        middle = 0.5 * (low + high)
        if row(middle).sum() > 1.0:
            low = middle
        else:
            high = middle
    p = row(0.5 * (low + high))
    return p / p.sum()


def weighted_quantile(y, weight, q: float) -> np.ndarray:
    """The smallest ``y`` whose cumulative weight reaches ``q`` of the total (the inverted CDF): a
    minimiser of the pinball loss at ``q`` (the lower median at ``q = 0.5``)."""
    y = y.reshape(-1)
    w = example_weights(weight, y.shape).reshape(-1) if weight is not None else np.ones(y.shape)
    keep = w > 0
    y, w = y[keep], w[keep]
    if not y.size:
        return np.asarray(0.0)
    order = np.argsort(y, kind="stable")
    cumulative = np.cumsum(w[order])
    index = int(np.searchsorted(cumulative, q * cumulative[-1] * (1 - 1e-15), side="left"))
    return np.asarray(y[order][min(index, y.size - 1)])


def clipped(p, low: float = np.finfo(np.float64).eps, high: float = 1 - np.finfo(np.float64).eps):
    """``p`` kept in ``[eps, 1 - eps]``, as scikit-learn does before a logit or a log."""
    return np.clip(p, low, high)


def class_frequencies(loss, targets, weight, classes=None) -> np.ndarray:
    """The weighted share of each class: from class ids (``classes``, or the largest id + 1) or target rows."""
    (y,) = targets[:1]
    if loss.info.targets[0].kind == "class_index":
        ignore = getattr(loss, "ignore_index", None)
        w = example_weights(weight, y.shape)
        if ignore is not None:
            w = np.where(y == ignore, 0.0, w)
            y = np.where(y == ignore, 0, y)
        counts = np.bincount(y.reshape(-1), weights=w.reshape(-1), minlength=classes or int(y.max(initial=0)) + 1)
        if classes is not None and counts.size > classes:
            raise InputError(f"{loss.info.name}: a class id is {counts.size - 1}, but class_weight has {classes} classes.")
        total = counts.sum()
        return counts / total if total > 0 else np.full(counts.shape, 1.0 / counts.size)
    return weighted_mean(y, weight, rows=True)


def numeric_constant(loss, targets, weight, bracket=None):
    """A one-dimensional search for the constant of a loss with one elementwise (or whole-sample) prediction;
    ``bracket`` ``(low, high)`` bounds it where the targets' range does not (logits of 0/1 labels)."""
    name = loss.info.name
    specs = loss.info.predictions
    if len(specs) != 1 or specs[0].event == 1:
        raise InputError(f"{name}: no search for an optimal constant of several or row-wise predictions.")
    spec = specs[0]
    shape = targets[0].shape
    ones = np.ones(shape)

    def cost(c):
        with validation(False):
            return float(loss(*targets, c * ones, sample_weight=weight))

    def slope(c):
        with validation(False):
            return float(np.sum(loss.grad(*targets, c * ones, sample_weight=weight)))

    low, high = spec.domain.bounds if bracket is None else bracket
    if math.isfinite(low) and math.isfinite(high):
        return np.asarray(_golden(cost, low, high))
    y = targets[0]
    low, high = float(np.min(y, initial=0.0)), float(np.max(y, initial=0.0))
    if high - low < 1e-12:
        low, high = low - 1.0, high + 1.0
    if "convex" not in loss.info.tags:
        return np.asarray(_golden(cost, low, high))
    width = high - low
    for _ in range(64):
        if slope(low) <= 0 <= slope(high):
            break
        width *= 2
        low, high = low - width, high + width
    else:
        return np.asarray(low if cost(low) < cost(high) else high)
    for _ in range(ITERATIONS):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if slope(middle) > 0:
            high = middle
        else:
            low = middle
    return np.asarray(0.5 * (low + high))


def _golden(cost, low: float, high: float) -> float:
    """The minimum of ``cost`` over ``[low, high]`` by golden-section search (the ends included)."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = cost(c), cost(d)
    for _ in range(ITERATIONS):
        if b - a <= 1e-12 * max(1.0, abs(a) + abs(b)):
            break
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = cost(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = cost(d)
    best = min((cost(low), low), (cost(high), high), (cost(0.5 * (a + b)), 0.5 * (a + b)))
    return best[1]


def newton_row(loss, targets, weight, start):
    """The constant row (one prediction with a class axis) minimising the mean cost, by Newton's method on the
    Hessian's diagonal with backtracking, from ``start`` (for losses whose terms have their own constants)."""
    row = np.asarray(start, dtype=np.float64)
    y = targets[0]
    shape = y.shape + row.shape if loss.info.inputs[0].kind == "class_index" else y.shape

    def at(x):
        return np.broadcast_to(x, shape).copy()

    def cost(x):
        with validation(False):
            return float(loss(*targets, at(x), sample_weight=weight))

    best = cost(row)
    for _ in range(ITERATIONS):
        with validation(False):
            g, h = loss.grad_and_hessian(*targets, at(row), sample_weight=weight)
        g, h = (np.sum(a.reshape(-1, row.size), axis=0) for a in (g, h))
        if np.max(np.abs(g)) < 1e-13:
            break
        step, moved = -g / np.maximum(h, 1e-12), False
        for _ in range(60):
            if (value := cost(row + step)) < best:
                row, best, moved = row + step, value, True
                break
            step = step / 2
        if not moved:
            break
    return row
