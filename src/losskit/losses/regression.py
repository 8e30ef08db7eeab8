r"""Regression losses on the residual :math:`r = \hat y - y`: squared, absolute, root-mean-square, log."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._base import Loss
from .._checks import Interval
from .._info import LossInfo, Peer
from .._optimal import example_weights, weighted_mean, weighted_quantile
from ..inputs import prediction, target
from ..numerics import propagate_nan
from ..registry import register


@register
class MSE(Loss):
    """Mean squared error: the negative log-likelihood of Gaussian noise (up to constants).

    Pair it with a linear output; it fits the conditional mean.

    Examples
    --------
    >>> import losskit as lk
    >>> float(lk.mse([0.0, 1.0, 2.0], [0.0, 2.0, 4.0]))  # (0 + 1 + 4) / 3
    1.6666666666666667
    >>> lk.MSE().grad([0.0, 1.0], [1.0, 1.0]).tolist()  # 2 r / n
    [1.0, 0.0]
    """

    info = LossInfo(
        name="mse",
        aliases=("l2", "mean_squared_error", "mse_loss"),
        task="regression",
        likelihood="Gaussian (normal) with fixed variance",
        formula="(y_pred - y_true)^2",
        gradient="2 (y_pred - y_true)",
        hessian="2",
        tags=("convex", "differentiable"),
        summary="The default for regression: fits the conditional mean; one outlier can dominate it.",
        use_when="the noise is roughly Gaussian and large errors should cost quadratically more; the default for regression",
        avoid_when="the targets have outliers or heavy tails (one outlier can dominate the fit), or only relative error matters",
        references=("Gauss, Theoria motus corporum coelestium (1809)",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.mse_loss"),
            Peer("Keras", "keras.losses.MeanSquaredError"),
            Peer("Optax", "optax.losses.squared_error", "no reduction; optax.losses.l2_loss is half of it"),
            Peer("scikit-learn", "sklearn.metrics.mean_squared_error"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        return r * r, 2.0 * r, 2.0

    def _optimal_constant(self, targets, weight):
        return weighted_mean(targets[0], weight)


mse = MSE.as_function()


@register
class MAE(Loss):
    """Mean absolute error: the negative log-likelihood of Laplace noise; fits the conditional median.

    With ``reduction="sum"`` it is the L1 (least absolute deviations) loss. Its second derivative
    is 0 almost everywhere, so ``grad_and_hessian`` gives 1 (scikit-learn's choice for boosting).

    Examples
    --------
    >>> import losskit as lk
    >>> float(lk.mae([0.0, 1.0, 2.0], [0.0, 2.0, 4.0]))
    1.0
    """

    info = LossInfo(
        name="mae",
        aliases=("l1", "mean_absolute_error", "l1_loss"),
        task="regression",
        likelihood="Laplace with fixed scale",
        formula="|y_pred - y_true|",
        gradient="sign(y_pred - y_true), 0 at a zero residual",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex", "robust"),
        summary="Fits the conditional median; every point pulls with the same force, so outliers weigh little.",
        use_when="you want the conditional median, or the data has outliers that should not pull the fit",
        avoid_when="you need smooth gradients near zero (its gradient jumps at r = 0 and never shrinks) or the mean",
        references=("Laplace, Traité de mécanique céleste (1799)",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.l1_loss"),
            Peer("Keras", "keras.losses.MeanAbsoluteError"),
            Peer("scikit-learn", "sklearn.metrics.mean_absolute_error"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        # |r| (XLA sums it in one pass, r sign(r) in two); its gradient, sign(r), is 0 at 0 on every engine
        return xp.abs(r), xp.sign(r), 1.0

    def _optimal_constant(self, targets, weight):
        return weighted_quantile(targets[0], weight, 0.5)

    def kinks(self):
        return (0.0,)


mae = MAE.as_function()



#: scikit-learn's floor on |y_true| in ``mean_absolute_percentage_error``: float64's machine epsilon.
MAPE_EPS = float(np.finfo(np.float64).eps)


@register
class MAPE(Loss):
    r"""Mean absolute percentage error, as a fraction: :math:`|\hat y - y| / \max(|y|, \epsilon)`.

    scikit-learn's ``mean_absolute_percentage_error``, its epsilon (float64's, 2.2e-16) included: a
    target of 0 makes a huge but finite loss. Keras's ``MeanAbsolutePercentageError`` is 100 times
    this, with epsilon 1e-7. The absolute error weighted by :math:`1/|y|`, so it fits a weighted
    median that leans towards under-prediction; ``grad_and_hessian`` gives that weight as the
    Hessian, as scikit-learn's boosting gives weights for the absolute error.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.mape([2.0, -1.0], [0.5, 4.0], reduction="none").tolist()  # 1.5 / 2, 5 / 1
    [0.75, 5.0]
    """

    info = LossInfo(
        name="mape",
        aliases=("mean_absolute_percentage_error",),
        task="regression",
        likelihood="Laplace with a scale proportional to |y_true|",
        formula="|y_pred - y_true| / max(|y_true|, eps), eps = 2.2e-16",
        gradient="sign(y_pred - y_true) / max(|y_true|, eps)",
        hessian="1 / max(|y_true|, eps) (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex", "robust"),
        summary="The absolute error relative to the target: a scale-free error, biased towards under-prediction.",
        use_when="errors matter relative to the target's size and the targets stay well away from 0",
        avoid_when="targets can be 0 or near it (the loss explodes); for positive skewed targets a Gamma deviance is better",
        references=("scikit-learn, sklearn.metrics.mean_absolute_percentage_error",
                    "de Myttenaere et al., Mean absolute percentage error for regression models, Neurocomputing 192 (2016)"),
        peers=(
            Peer("Keras", "keras.losses.MeanAbsolutePercentageError", "in percent: 100 times losskit's value"),
            Peer("scikit-learn", "sklearn.metrics.mean_absolute_percentage_error"),
        ),
    )  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        scale = 1.0 / xp.maximum(xp.abs(y_true), xp.full_like(y_true, MAPE_EPS))
        sign = xp.sign(r)
        return r * sign * scale, sign * scale, propagate_nan(xp, r, scale)

    def _optimal_constant(self, targets, weight):
        y = targets[0]
        relative = example_weights(weight, y.shape) / np.maximum(np.abs(y), MAPE_EPS)
        return weighted_quantile(y, relative, 0.5)

    def kinks(self):
        return (0.0,)


mape = MAPE.as_function()

def _root(xp, x):
    """``(sqrt(x), d sqrt(x) / dx)`` with slope 0 at 0 (the lowest-norm subgradient of the norm).

    The root is taken of a stand-in that is 1 where ``x`` is 0, so autodiff sees that slope too,
    instead of ``inf * 0``.
    """
    positive = x > 0
    safe = xp.where(positive, x, xp.ones_like(x))
    root = xp.where(positive, xp.sqrt(safe), propagate_nan(xp, x, xp.zeros_like(x)))
    slope = xp.where(positive, 0.5 / xp.sqrt(safe), xp.zeros_like(x))
    return root, propagate_nan(xp, x, slope)


@register
class RMSE(Loss):
    r"""Root mean squared error: the square root of the (weighted) mean of :math:`r^2`.

    ``"mean"`` gives :math:`\sqrt{\sum_i w_i r_i^2 / \sum_i w_i}`, ``"sum"`` gives
    :math:`\sqrt{\sum_i w_i r_i^2}`, ``normalizer=c`` gives :math:`\sqrt{\sum_i w_i r_i^2 / c}` and
    ``"none"`` gives :math:`w_i |r_i|`. The gradient is 0 when the value is 0. The root of a mean is
    not a sum over examples, so there is no diagonal Hessian to give.

    Examples
    --------
    >>> import losskit as lk
    >>> float(lk.rmse([0.0, 0.0], [3.0, 4.0]))  # sqrt((9 + 16) / 2)
    3.5355339059327378
    """

    info = LossInfo(
        name="rmse",
        aliases=("root_mean_squared_error",),
        task="regression",
        likelihood="Gaussian (normal); same minimiser as MSE",
        formula="sqrt(mean((y_pred - y_true)^2)); per example |y_pred - y_true|",
        gradient="(y_pred - y_true) / (n * value)",
        hessian_kind=None,
        tags=("convex",),
        summary="MSE on the scale of the target: same minimiser, gradients normalised by the error size.",
        use_when="you want a cost in the units of the target, e.g. to report or to balance against other terms",
        avoid_when="you sum it over mini-batches: the root of a mean is not the mean of roots; train with mse instead",
        references=("scikit-learn, sklearn.metrics.root_mean_squared_error",),
        peers=(
            Peer("scikit-learn", "sklearn.metrics.root_mean_squared_error"),
            Peer("Keras", "keras.metrics.RootMeanSquaredError", "a metric, not a loss"),
        ),
    )
    _outer = staticmethod(_root)

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        return r * r, 2.0 * r

    def reference(self, batch, order):
        """The formulas on residuals divided by the largest finite one, ``s``, and the value times ``s``.

        The squares then neither overflow (residuals of 1e155) nor underflow (1e-170), and the gradient
        does not change: the RMSE is homogeneous of degree 1 in the residuals.
        """
        xp = batch.xp
        y_true, y_pred = batch.arrays
        r = y_pred - y_true
        size = xp.where(xp.isfinite(r), xp.abs(r), xp.zeros_like(r))
        s = xp.max(size) if 0 not in tuple(r.shape) else xp.ones((), dtype=r.dtype)  # None: known at run time
        s = xp.where(s > 0, s, xp.ones_like(s))
        result = super().reference(replace(batch, arrays=(xp.zeros_like(r), r / s)), order)
        return result._replace(value=result.value * s)

    def _optimal_constant(self, targets, weight):
        return weighted_mean(targets[0], weight)

    def kinks(self):
        return (0.0,)


rmse = RMSE.as_function()


@register
class MSLE(Loss):
    """Mean squared logarithmic error: squared error between ``log(1 + y)`` values.

    It measures relative error: use it for positive targets that span orders of magnitude. Both
    inputs must be greater than -1. Not convex: the curvature turns negative where ``y_pred`` is far
    above ``y_true``.

    Examples
    --------
    >>> import losskit as lk
    >>> import math
    >>> float(lk.msle([0.0], [math.e - 1.0]))  # (log e - log 1)^2
    1.0
    """

    info = LossInfo(
        name="msle",
        aliases=("mean_squared_logarithmic_error",),
        task="regression",
        likelihood="log-normal noise on 1 + y",
        formula="(log1p(y_pred) - log1p(y_true))^2",
        gradient="2 (log1p(y_pred) - log1p(y_true)) / (1 + y_pred)",
        hessian="2 (1 - log1p(y_pred) + log1p(y_true)) / (1 + y_pred)^2",
        tags=("differentiable",),
        summary="Relative error for positive targets spanning orders of magnitude; penalises under-prediction more.",
        use_when="positive targets span orders of magnitude and relative error matters (prices, counts, durations)",
        avoid_when="targets can be -1 or below, or absolute errors matter; it under-weights errors on large targets",
        references=("scikit-learn, sklearn.metrics.mean_squared_log_error",),
        peers=(
            Peer(
                "Keras", "keras.losses.MeanSquaredLogarithmicError",
                "clips predictions below 0 to a tiny positive number instead of refusing them",
            ),
            Peer("scikit-learn", "sklearn.metrics.mean_squared_log_error"),
        ),
    )
    inputs = (
        target("y_true", Interval("real numbers > -1", -1.0, open_low=True)),
        prediction("y_pred", Interval("real numbers > -1", -1.0, open_low=True, activation="softplus")),
    )

    def _math(self, xp, order, y_true, y_pred):
        d = xp.log1p(y_pred) - xp.log1p(y_true)
        one_plus = 1.0 + y_pred
        return d * d, 2.0 * d / one_plus, (2.0 * (1.0 - d) / (one_plus * one_plus) if order > 1 else None)

    def _optimal_constant(self, targets, weight):
        return np.expm1(weighted_mean(np.log1p(targets[0]), weight))


msle = MSLE.as_function()
