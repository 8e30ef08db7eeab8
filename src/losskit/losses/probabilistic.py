r"""Probabilistic regression: negative log-likelihoods of counts (Poisson) and of Gaussians with a predicted variance."""

from __future__ import annotations

import math

import numpy as np

from .._base import Loss
from .._checks import NONNEGATIVE, Interval, boolean, non_negative, positive
from .._info import LossInfo
from .._optimal import clipped, example_weights, weighted_mean
from ..inputs import prediction, target
from ..links import LOG
from ..numerics import xlogy
from ..params import Param
from ..registry import register

COUNTS = Interval("counts >= 0", 0.0)
FULL_POISSON = Param(False, boolean, "bool", "Add Stirling's approximation of log(y!), as PyTorch does (0 for y <= 1).",
                     example=True)  # fmt: skip
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
POISSON_REFERENCES = (
    "McCullagh and Nelder, Generalized Linear Models, 2nd ed. (1989), ch. 6",
    "PyTorch, torch.nn.functional.poisson_nll_loss",
)


def stirling(xp, y):
    """PyTorch's ``full=True`` term: ``y log y - y + log(2 pi y) / 2`` for ``y > 1``, else 0."""
    big = y > 1
    safe = xp.where(big, y, xp.ones_like(y))
    return xp.where(big, safe * xp.log(safe) - safe + 0.5 * xp.log(2.0 * math.pi * safe), xp.zeros_like(y))


@register
class LogPoissonNLL(Loss):
    """Poisson negative log-likelihood of counts from log-rates: PyTorch's ``poisson_nll_loss(log_input=True)``.

    ``y_pred`` is the log of the rate, what a linear output should emit; the exp is inside the loss.
    The constant ``log(y!)`` is dropped unless ``full`` (Stirling's approximation, PyTorch's rule).

    Examples
    --------
    >>> import math, losskit as lk
    >>> round(float(lk.log_poisson_nll([2.0], [math.log(0.5)])), 6)  # 0.5 - 2 log 0.5
    1.886294
    """

    info = LossInfo(
        name="log_poisson_nll",
        aliases=("poisson_nll_log_input", "log_poisson_loss", "poisson_nll_loss"),
        task="regression",
        likelihood="Poisson",
        variable="prediction",
        formula="exp(z) - y z (+ Stirling's log(y!) with full), z = log-rate",
        gradient="exp(z) - y",
        hessian="exp(z)",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="poisson_nll",
        summary="Counts from a linear output: the Poisson likelihood of a log-rate, the exp inside the loss.",
        use_when="the targets are counts (events, visits, claims) and the model emits log-rates from a linear output",
        avoid_when="the counts are overdispersed (variance well above the mean) or the targets are not counts",
        references=POISSON_REFERENCES,
    )
    inputs = (target("y_true", COUNTS), prediction("y_pred", link=LOG))
    full = FULL_POISSON

    def _math(self, xp, order, y, z):
        rate = xp.exp(z)
        losses = rate - xp.where(y == 0, xp.zeros_like(z), y * z)
        if self.full:
            losses = losses + stirling(xp, y)
        return losses, rate - y, rate

    def _optimal_constant(self, targets, weight):
        return np.log(clipped(weighted_mean(targets[0], weight), high=np.inf))


log_poisson_nll = LogPoissonNLL.as_function()


@register
class PoissonNLL(Loss):
    """Poisson negative log-likelihood of counts from rates: PyTorch's ``poisson_nll_loss(log_input=False)``.

    ``y_pred`` is the rate itself (>= 0), so a model must end with exp or softplus; ``eps`` keeps
    the log finite at a zero rate. Prefer ``log_poisson_nll`` on a linear output.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.poisson_nll([2.0], [0.5])), 6)  # 0.5 - 2 log(0.5 + 1e-8)
    1.886294
    """

    info = LossInfo(
        name="poisson_nll",
        aliases=("poisson", "poisson_loss"),
        task="regression",
        likelihood="Poisson",
        variable="prediction",
        formula="mu - y log(mu + eps) (+ Stirling's log(y!) with full), mu = rate",
        gradient="1 - y / (mu + eps)",
        hessian="y / (mu + eps)^2",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="log_poisson_nll",
        summary="The Poisson likelihood of counts given a predicted rate (Keras's poisson, PyTorch's log_input=False).",
        use_when="the model already outputs a non-negative rate (an exp or softplus layer) and the targets are counts",
        avoid_when="the model emits log-rates from a linear layer: log_poisson_nll is exact and needs no eps",
        references=POISSON_REFERENCES,
    )
    inputs = (target("y_true", COUNTS), prediction("y_pred", NONNEGATIVE))
    full = FULL_POISSON
    eps = Param(1e-8, non_negative, "float >= 0", "Added to the rate inside the log (PyTorch's eps).", example=1e-3)

    def _math(self, xp, order, y, mu):
        shifted = mu + self.eps
        losses = mu - xlogy(xp, y, shifted)
        if self.full:
            losses = losses + stirling(xp, y)
        safe = xp.where(y == 0, xp.ones_like(mu), shifted)
        ratio = xp.where(y == 0, xp.zeros_like(mu), y / safe)
        return losses, 1.0 - ratio, (ratio / safe if order > 1 else None)

    def _optimal_constant(self, targets, weight):
        return np.maximum(weighted_mean(targets[0], weight) - self.eps, 0.0)


poisson_nll = PoissonNLL.as_function()


def _mean_and_variance(targets, weight):
    y = targets[0]
    mean = weighted_mean(y, weight)
    w = example_weights(weight, y.shape)
    total = w.sum()
    variance = np.sum(w * (y - mean) ** 2) / total if total > 0 else 0.0
    return mean, np.asarray(variance)


FULL_GAUSSIAN = Param(False, boolean, "bool", "Add the constant log(2 pi) / 2.", example=True)


@register
class GaussianNLL(Loss):
    """Gaussian negative log-likelihood with a predicted variance: PyTorch's ``gaussian_nll_loss``.

    Two predictions: the mean and the variance (>= 0). As in PyTorch, one variance may be shared: a
    variance with size 1 along an axis (``(N, 1)`` for one per row), without the last axis, or a
    scalar; its gradient is then summed over the examples that share it. Below ``eps`` the variance is clamped to
    ``eps``, and its derivative there is 0: the gradient of the value as computed. PyTorch instead
    passes the unclamped derivative through (a straight-through clamp, about -1e12 for a variance of
    1e-8). A network's variance output vanishes or explodes easily: prefer ``gaussian_nll_log_var``,
    which takes the log-variance from a linear output.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.gaussian_nll([2.0, 1.0], [0.5, 4.0], [0.25, 4.0], reduction="none").round(6).tolist()
    [3.806853, 1.818147]
    >>> [g.tolist() for g in lk.GaussianNLL(reduction="sum").grad([2.0], [0.5], [0.25])]  # d/d mean, d/d variance
    [[-6.0], [-16.0]]
    """

    info = LossInfo(
        name="gaussian_nll",
        aliases=("gaussian_nll_loss", "heteroscedastic_gaussian_nll"),
        task="regression",
        likelihood="Gaussian with a predicted variance",
        formula="(log v + (y - mean)^2 / v) / 2 (+ log(2 pi) / 2 with full), v = max(variance, eps)",
        gradient="d/d mean = (mean - y) / v; d/d variance = (1 / v - (y - mean)^2 / v^2) / 2 (0 where variance < eps)",
        hessian="mean: 1 / v; variance: (y - mean)^2 / v^3 - 1 / (2 v^2) (0 where variance < eps)",
        tags=("proper_scoring_rule",),
        summary="Regression with uncertainty: the network predicts a mean and a variance per example.",
        use_when="the noise level varies across inputs and you want calibrated uncertainty with the mean",
        avoid_when="you only need the mean (mse is simpler), or the variance output is unconstrained: use gaussian_nll_log_var",
        references=("Nix and Weigend, Estimating the mean and variance of the target probability distribution, ICNN 1994",
                    "PyTorch, torch.nn.functional.gaussian_nll_loss"),
    )  # fmt: skip
    inputs = (target("y_true"), prediction("mean"), prediction("variance", NONNEGATIVE, broadcast=True))
    full = FULL_GAUSSIAN
    eps = Param(1e-6, positive, "float > 0", "The variance is clamped to at least eps (PyTorch's eps).", example=0.1)

    def _math(self, xp, order, y, mean, variance):
        kept = variance >= self.eps
        v = xp.where(kept, variance, self.eps * xp.ones_like(variance))
        r = mean - y
        square = r * r
        losses = 0.5 * (xp.log(v) + square / v)
        if self.full:
            losses = losses + HALF_LOG_2PI
        zero = xp.zeros_like(v)
        d_variance = xp.where(kept, 0.5 * (1.0 / v - square / (v * v)), zero)
        hessians = None
        if order > 1:
            hessians = (1.0 / v, xp.where(kept, square / (v * v * v) - 0.5 / (v * v), zero))
        return losses, (r / v, d_variance), hessians

    def _optimal_constant(self, targets, weight):
        mean, variance = _mean_and_variance(targets, weight)
        return mean, np.maximum(variance, self.eps)


gaussian_nll = GaussianNLL.as_function()


@register
class GaussianNLLLogVar(Loss):
    """Gaussian negative log-likelihood with a predicted log-variance: what a network should output.

    Two predictions from a linear output: the mean and ``s = log(variance)``, which may be shared as
    ``gaussian_nll``'s variance. No clamp is needed: every real ``s`` is a valid variance, and the
    loss is smooth in both.

    Examples
    --------
    >>> import math, losskit as lk
    >>> value = lk.gaussian_nll_log_var([2.0], [0.5], [math.log(0.25)])
    >>> round(float(value), 6)  # the same as gaussian_nll at variance 0.25
    3.806853
    """

    info = LossInfo(
        name="gaussian_nll_log_var",
        aliases=("gaussian_nll_logvar", "log_variance_gaussian_nll"),
        task="regression",
        likelihood="Gaussian with a predicted variance",
        formula="(s + (y - mean)^2 exp(-s)) / 2 (+ log(2 pi) / 2 with full), s = log-variance",
        gradient="d/d mean = (mean - y) exp(-s); d/d s = (1 - (y - mean)^2 exp(-s)) / 2",
        hessian="mean: exp(-s); s: (y - mean)^2 exp(-s) / 2",
        tags=("differentiable", "proper_scoring_rule"),
        summary="Regression with uncertainty from a linear output: a mean and a log-variance per example.",
        use_when="the noise level varies across inputs: the network emits the mean and the log-variance, both unconstrained",
        avoid_when="you only need the mean, or the residuals have heavy tails (the variance chases the outliers)",
        references=("Kendall and Gal, What uncertainties do we need in Bayesian deep learning for computer vision?, NeurIPS 2017",),
    )
    inputs = (target("y_true"), prediction("mean"), prediction("log_variance", link=LOG, broadcast=True))
    full = FULL_GAUSSIAN

    def _math(self, xp, order, y, mean, s):
        r = mean - y
        precision = xp.exp(-s)
        scaled = xp.where(r == 0, xp.zeros_like(r), r * r * precision)
        losses = 0.5 * (s + scaled)
        if self.full:
            losses = losses + HALF_LOG_2PI
        d_mean = xp.where(r == 0, xp.zeros_like(r), r * precision)
        hessians = (precision, 0.5 * scaled) if order > 1 else None
        return losses, (d_mean, 0.5 * (1.0 - scaled)), hessians

    def _optimal_constant(self, targets, weight):
        mean, variance = _mean_and_variance(targets, weight)
        return mean, np.log(clipped(variance, high=np.inf))


gaussian_nll_log_var = GaussianNLLLogVar.as_function()
