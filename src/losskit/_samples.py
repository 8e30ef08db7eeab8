"""Valid example inputs for any loss, read off its declared inputs.

The tour, the tests, the contract (``losskit.testing``) and the pictures use them: every array inside
its domain, kept a little away from the loss's kinks and from the domains' edges.
"""

from __future__ import annotations

import numpy as np

from ._checks import Groups, Interval, LogSimplex, OneOf, Simplex
from .links import LOG

#: How far samples stay from kinks and from the edges of open domains.
CLEARANCE = 0.05
#: The shape of one sample of a whole-sample input (event=SAMPLE).
SAMPLE_SHAPE = (2, 3)


def _values(rng, spec, shape):
    domain, prediction = spec.domain, spec.is_prediction
    if isinstance(domain, Groups):  # pairs in the same group, and other groups
        return rng.integers(0, max(2, shape[0] // 2), size=shape).astype(float)
    if isinstance(domain, Simplex):
        rows = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        if prediction:  # keep probabilities away from 0, where the log and its slope blow up
            rows = (rows + CLEARANCE) / (1.0 + CLEARANCE * shape[-1])
        return np.log(rows) if isinstance(domain, LogSimplex) else rows
    if isinstance(domain, OneOf):
        return rng.choice(np.asarray([v for v in domain.values if v != 0]), size=shape)
    if isinstance(domain, Interval) and np.isfinite(domain.high) and np.isfinite(domain.low):
        low, high = domain.low, domain.high
        if prediction:
            return rng.uniform(low + CLEARANCE, high - CLEARANCE, size=shape)
        if spec.event == 1 and (low, high) == (0.0, 1.0):
            return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])  # soft target rows
        return rng.integers(0, 2, size=shape).astype(float) if (low, high) == (0.0, 1.0) else rng.uniform(low, high, shape)
    if isinstance(domain, Interval) and np.isfinite(domain.low):
        return domain.low + CLEARANCE + rng.exponential(1.5, size=shape)
    return rng.normal(0.0, 2.0 if prediction else 1.0, size=shape)


def shape_of(spec, n: int, classes: int) -> tuple:
    """The shape of ``spec``'s array for ``n`` examples."""
    if spec.kind == "class_index" or spec.event == 0:
        return (n,)
    return (n, classes) if spec.event == 1 else (n, *SAMPLE_SHAPE)


def sample_inputs(loss, rng: np.random.Generator, n: int = 8, classes: int = 4, dtype=np.float64) -> tuple:
    """NumPy arrays of ``n`` examples valid for ``loss``, in the order of its declared inputs.

    Event axes have ``classes`` entries; class ids are int64, masks bool, everything else ``dtype``.
    """
    arrays = []
    for spec in loss.info.inputs:
        shape = shape_of(spec, n, classes)
        if spec.kind == "class_index":
            arrays.append(rng.integers(0, classes, size=shape))
        elif spec.kind == "mask":
            mask = rng.random(shape) < 0.7
            mask[..., 0] = True
            arrays.append(mask)
        else:
            arrays.append(_values(rng, spec, shape).astype(dtype))
    return tuple(_away_from_kinks(loss, arrays))


def typical_target(spec) -> float:
    """One target value of a declared target, for pictures: +1 for labels, 1 for [0, 1], 2 for counts, else 0."""
    low, high = spec.domain.bounds
    if isinstance(spec.domain, OneOf) or (low, high) == (0.0, 1.0):
        return 1.0
    return 2.0 if low >= 0 else 0.0


def neutral_prediction(spec) -> float:
    """A prediction that stands aside in a picture of another one: variance 1, log-variance 0, else 0."""
    if spec.link is LOG:
        return 0.0
    low, high = spec.domain.bounds
    if low >= 0:
        return 1.0 if high > 1 else 0.5
    return 0.0


def _away_from_kinks(loss, arrays):
    """Move the first prediction a little where the loss's plot variable sits near a declared kink."""
    kinks = loss.kinks()
    if not kinks or len(arrays) != 2:
        return arrays
    y_true, y_pred = arrays
    y = y_true[..., None] if y_pred.ndim > y_true.ndim else y_true  # one target for a row of predictions
    variable = loss.info.variable
    for kink in kinks:
        if variable == "residual":
            near = np.abs(y_pred - y - kink) < CLEARANCE
            y_pred = np.where(near, y_pred + 2 * CLEARANCE, y_pred)
        elif variable == "margin":
            t = np.where(y_true == 0, -1.0, y_true)
            near = np.abs(t * y_pred - kink) < CLEARANCE
            y_pred = np.where(near, y_pred + 2 * CLEARANCE * t, y_pred)
    return [y_true, y_pred]


__all__ = ["sample_inputs", "shape_of", "typical_target", "neutral_prediction", "CLEARANCE"]
