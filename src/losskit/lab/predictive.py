"""The predictive distribution of a trained regression model: a point, a 90% interval and a likelihood.

What a model predicts is read off its loss's declared predictions:

- a multi-quantile ``pinball`` head: the point is its quantile nearest 0.5, the interval runs from its
  lowest to its highest quantile (its own nominal coverage), and there is no likelihood;
- a mean and a ``variance`` or ``log_variance`` (``gaussian_nll``, ``gaussian_nll_log_var``): a Gaussian;
- a location and a ``log_scale`` (``laplace_nll``): a Laplace distribution;
- one value (``mse``, ``huber``, ...): a Gaussian around it whose standard deviation is the root-mean-square
  residual on the training set, the classical interval of least squares.

Everything is in the target's own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable

import numpy as np

from .metrics import COVERAGE

#: The half-width of the central COVERAGE interval, in standard deviations of a Gaussian (1.645 for 90%).
GAUSSIAN_Z = NormalDist().inv_cdf(0.5 + COVERAGE / 2)
#: The same, in scales b of a Laplace distribution: P(|X - mu| <= t) = 1 - exp(-t / b) (2.303 for 90%).
LAPLACE_Z = -math.log(1.0 - COVERAGE)


@dataclass(frozen=True)
class Predictive:
    """A model's predictions on some rows, in the target's units.

    Attributes
    ----------
    point, low, high : numpy.ndarray
        The point prediction and the bounds of the prediction interval.
    sd : numpy.ndarray or None
        The predicted standard deviation where the model gives a distribution.
    nll : callable or None
        ``nll(y)``: the negative log-likelihood of each target under the predicted distribution.
    """

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sd: np.ndarray | None = None
    nll: Callable | None = None


def _gaussian(mean, sd) -> Predictive:
    def nll(y):
        return 0.5 * np.log(2.0 * math.pi * sd * sd) + 0.5 * ((y - mean) / sd) ** 2

    return Predictive(mean, mean - GAUSSIAN_Z * sd, mean + GAUSSIAN_Z * sd, sd, nll)


def _laplace(location, b) -> Predictive:
    def nll(y):
        return np.log(2.0 * b) + np.abs(y - location) / b

    return Predictive(location, location - LAPLACE_Z * b, location + LAPLACE_Z * b, math.sqrt(2.0) * b, nll)


def of(objective, out, split, residual_sd: float) -> Predictive:
    """The predictive distribution of a model's outputs ``out`` (training units, NumPy).

    Parameters
    ----------
    objective : losskit.lab.training.Objective
        The loss the model was trained with.
    out : numpy.ndarray
        The model's outputs.
    split : losskit.lab.datasets.Split
        Maps training units to the target's.
    residual_sd : float
        The root-mean-square training residual, in training units (for one-value losses).
    """
    out = np.asarray(out, dtype=np.float64)
    point = split.to_raw(objective.point(out))
    if objective.quantiles:
        q = objective.quantiles
        return Predictive(point, split.to_raw(out[:, int(np.argmin(q))]), split.to_raw(out[:, int(np.argmax(q))]))
    second = objective.loss.info.predictions[1].name if objective.count > 1 else None
    spread = out[:, 1] if second else None
    if second == "log_scale":
        return _laplace(point, split.scale * np.exp(spread))
    if second == "log_variance":
        return _gaussian(point, split.scale * np.exp(0.5 * spread))
    if second == "variance":
        return _gaussian(point, split.scale * np.sqrt(np.maximum(spread, 1e-12)))
    return _gaussian(point, np.full(point.shape, split.scale * residual_sd))
