"""Valid example inputs for any registered loss, read off its declared domains.

The tour, the tests and the pictures use them: targets and predictions inside each domain, kept a
little away from the loss's kinks and from the domain's edges.
"""

from __future__ import annotations

import numpy as np

from ._base import Loss
from ._checks import Interval, OneOf, Simplex

#: How far samples stay from kinks and from the edges of open domains.
CLEARANCE = 0.05


def _values(rng, domain, shape, *, prediction: bool):
    if isinstance(domain, Simplex):
        rows = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        if prediction:  # keep probabilities away from 0, where the log and its slope blow up
            rows = (rows + CLEARANCE) / (1.0 + CLEARANCE * shape[-1])
        return rows
    if isinstance(domain, OneOf):
        return rng.choice(np.asarray([v for v in domain.values if v != 0]), size=shape)
    if isinstance(domain, Interval) and np.isfinite(domain.high):
        low, high = domain.low, domain.high
        if prediction:
            return rng.uniform(low + CLEARANCE, high - CLEARANCE, size=shape)
        return rng.integers(0, 2, size=shape).astype(float) if low == 0 and high == 1 else rng.uniform(low, high, shape)
    if isinstance(domain, Interval) and np.isfinite(domain.low):
        return domain.low + CLEARANCE + rng.exponential(1.5, size=shape)
    return rng.normal(0.0, 2.0 if prediction else 1.0, size=shape)


def sample_inputs(loss: Loss, rng: np.random.Generator, n: int = 8, classes: int = 4, dtype=np.float64):
    """Return ``(y_true, y_pred)`` NumPy arrays of ``n`` examples valid for ``loss``.

    Class-axis losses get ``classes`` classes on the last axis; class ids are int64.
    """
    shape = (n, classes) if loss.has_class_axis else (n,)
    if loss.has_class_ids:
        y_true = rng.integers(0, classes, size=n)
    else:
        y_true = _values(rng, loss.y_true_domain, shape, prediction=False)
        if loss.has_class_axis and isinstance(loss.y_true_domain, Interval):
            y_true = rng.dirichlet(np.ones(classes), size=n)  # soft target rows
    y_pred = _values(rng, loss.y_pred_domain, shape, prediction=True)
    y_pred = _away_from_kinks(loss, y_true, y_pred)
    return (y_true if loss.has_class_ids else y_true.astype(dtype)), y_pred.astype(dtype)


def _away_from_kinks(loss: Loss, y_true, y_pred):
    variable = loss.info.variable
    for kink in loss.kinks():
        if variable == "residual":
            near = np.abs(y_pred - y_true - kink) < CLEARANCE
            y_pred = np.where(near, y_pred + 2 * CLEARANCE, y_pred)
        elif variable == "margin":
            t = np.where(y_true == 0, -1.0, y_true)
            near = np.abs(t * y_pred - kink) < CLEARANCE
            y_pred = np.where(near, y_pred + 2 * CLEARANCE * t, y_pred)
    return y_pred
