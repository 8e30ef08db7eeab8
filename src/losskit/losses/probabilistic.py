r"""Probabilistic regression: negative log-likelihoods of counts (Poisson) and of Gaussians with a predicted variance."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._base import Loss
from .. import _checks
from .._checks import NONNEGATIVE, POSITIVE, REAL, Interval, boolean, non_negative, positive
from .._info import LossInfo, Peer
from .._optimal import clipped, example_weights, weighted_mean, weighted_quantile
from ..inputs import prediction, target
from ..errors import InputError
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
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.poisson_nll_loss",
                "log_input=True (its default); adds Stirling's approximation only with full=True and y > 1",
            ),
        ),
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
        peers=(
            Peer("PyTorch", "torch.nn.functional.poisson_nll_loss", "log_input=False, eps=1e-8 inside the log"),
            Peer("Keras", "keras.losses.Poisson", "eps=1e-7 inside the log"),
        ),
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



# --- deviances: Tweedie's family of unit deviances, Poisson (power 1) and Gamma (power 2) among them ---------

POSITIVE_TARGETS = Interval("targets > 0", 0.0, open_low=True)
DEVIANCE_REFERENCES = (
    "Jorgensen, The Theory of Dispersion Models (1997), ch. 4",
    "scikit-learn, sklearn.metrics.mean_tweedie_deviance",
)


def tweedie_power(loss_name: str, name: str, value) -> float:
    """A Tweedie power: a finite number outside (0, 1), where no distribution has that variance."""
    value = _checks.extended_real(loss_name, name, value)
    if not math.isfinite(value) or 0 < value < 1:
        raise InputError(f"{loss_name}: {name} must be a finite number <= 0 or >= 1 (no Tweedie distribution "
                         f"has a power in (0, 1)); got {value!r}.")  # fmt: skip
    return value


def _expm1_over(xp, a: float, t):
    """``expm1(a t) / a``, which is ``t`` at ``a = 0``."""
    return t if a == 0 else xp.expm1(a * t) / a


def half_deviance(xp, y, log_mean, power: float):
    r"""Half the Tweedie unit deviance of ``y`` at the mean ``exp(log_mean)``, for ``power`` not in (0, 1).

    For ``y > 0``, with :math:`a = 1 - p`, :math:`b = 2 - p` and :math:`t = \log y - \eta`, it is
    :math:`y\mu^a \operatorname{expm1}(a t)/a + y^b \operatorname{expm1}(-b t)/b`: exact through
    p = 1 (Poisson) and p = 2 (Gamma), where the textbook form is 0/0. For ``y <= 0`` (p < 2) the
    targets' term vanishes: :math:`\mu^b/b - y\mu^a/a`.
    """
    a, b = 1.0 - power, 2.0 - power
    above = y > 0
    log_y = xp.log(xp.where(above, y, xp.ones_like(y)))
    t = log_y - log_mean
    positive = y * xp.exp(a * log_mean) * _expm1_over(xp, a, t) + xp.exp(b * log_y) * _expm1_over(xp, b, -t)
    if power >= 2:
        return positive  # every target is > 0
    rest = xp.exp(b * log_mean) / b
    if a != 0:
        rest = rest - y * xp.exp(a * log_mean) / a
    return xp.where(above, positive, rest)


class _Deviance(Loss):
    """A Tweedie unit deviance of a mean: ``power`` picks the member (a class attribute or a Param)."""

    power: float

    def _prediction(self, power):
        return prediction("y_pred", REAL if power == 0 else POSITIVE)

    def _convex(self, power) -> bool:
        return power in (0, 1)

    def _specialise(self, info):
        if "power" not in self._params:  # Poisson and Gamma: their class declares it all
            return info
        p = self.power  # the targets: any number below 1, >= 0 up to 2, > 0 from 2
        targets = POSITIVE_TARGETS if p >= 2 else (COUNTS if p >= 1 else REAL)
        info = info.with_inputs((target("y_true", targets), self._prediction(p)))
        tags = tuple(tag for tag in info.tags if tag != "convex")  # the class's tags are its default power's
        return replace(info, tags=("convex", *tags) if self._convex(p) else tags)

    def _math(self, xp, order, y, mu):
        p = self.power
        if p == 0:  # the squared error, for any mean
            r = mu - y
            return r * r, 2.0 * r, 2.0
        log_mu = xp.log(mu)
        losses = 2.0 * half_deviance(xp, y, log_mu, p)
        hessian = 2.0 * xp.exp(-(p + 1.0) * log_mu) * ((1.0 - p) * mu + p * y) if order > 1 else None
        return losses, 2.0 * xp.exp(-p * log_mu) * (mu - y), hessian

    def _optimal_constant(self, targets, weight):
        mean = weighted_mean(targets[0], weight)
        return mean if self.power == 0 else clipped(mean, high=np.inf)


class _LogDeviance(_Deviance):
    """A Tweedie unit deviance of the log of the mean, what a linear output emits."""

    inputs = (target("y_true", COUNTS), prediction("y_pred", link=LOG))

    def _prediction(self, power):
        return prediction("y_pred", link=LOG)

    def _convex(self, power) -> bool:
        return 1 <= power <= 2

    def _math(self, xp, order, y, eta):
        p = self.power
        a, b = 1.0 - p, 2.0 - p
        if p == 0:
            r = xp.exp(eta) - y
            losses = r * r
        else:
            losses = 2.0 * half_deviance(xp, y, eta, p)
        up, down = xp.exp(b * eta), y * xp.exp(a * eta)  # mu^(2 - p), y mu^(1 - p)
        hessian = 2.0 * (b * up - a * down) if order > 1 else None
        return losses, 2.0 * (up - down), hessian

    def _optimal_constant(self, targets, weight):
        return np.log(clipped(weighted_mean(targets[0], weight), high=np.inf))


@register
class PoissonDeviance(_Deviance):
    """Poisson deviance of counts from a mean: scikit-learn's ``mean_poisson_deviance``, Tweedie at power 1.

    Twice the Poisson negative log-likelihood minus its value at ``y_pred = y_true``, so a perfect
    prediction costs 0; its gradient and minimiser are ``poisson_nll``'s, times 2. ``y_true`` may be
    any number >= 0. Prefer ``log_poisson_deviance`` on a linear output.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.poisson_deviance([2.0, 0.0], [0.5, 1.5], reduction="none").round(6).tolist()  # 2 (2 log 4 - 1.5), 2 * 1.5
    [2.545177, 3.0]
    """

    info = LossInfo(
        name="poisson_deviance",
        aliases=("mean_poisson_deviance",),
        task="regression",
        likelihood="Poisson",
        variable="prediction",
        formula="2 (y log(y / mu) - y + mu) (0 log 0 = 0), mu = y_pred",
        gradient="2 (1 - y / mu)",
        hessian="2 y / mu^2",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="log_poisson_deviance",
        summary="The Poisson deviance of counts from a predicted mean: 0 for a perfect prediction.",
        use_when="you score or train count predictions that are means (> 0): the metric scikit-learn reports",
        avoid_when="the model emits log-rates from a linear layer: use log_poisson_deviance",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer("scikit-learn", "sklearn.metrics.mean_poisson_deviance"),
        ),
    )
    inputs = (target("y_true", COUNTS), prediction("y_pred", POSITIVE))
    power = 1.0


poisson_deviance = PoissonDeviance.as_function()


@register
class LogPoissonDeviance(_LogDeviance):
    """Poisson deviance of counts from a log-mean: ``poisson_deviance`` at ``exp(y_pred)``.

    The exp is inside the loss, so a linear output is right; the same gradient as ``log_poisson_nll``,
    times 2 (scikit-learn's ``HalfPoissonLoss``, times 2, plus the constant that makes a perfect
    prediction cost 0).

    Examples
    --------
    >>> import math, losskit as lk
    >>> round(float(lk.log_poisson_deviance([2.0], [math.log(0.5)])), 6)
    2.545177
    """

    info = LossInfo(
        name="log_poisson_deviance",
        task="regression",
        likelihood="Poisson",
        variable="prediction",
        formula="2 (y log y - y z - y + exp(z)) (0 log 0 = 0), z = log-mean",
        gradient="2 (exp(z) - y)",
        hessian="2 exp(z)",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="poisson_deviance",
        summary="The Poisson deviance of counts from a linear output's log-mean: 0 for a perfect prediction.",
        use_when="the targets are counts and the model emits log-means from a linear output",
        avoid_when="the counts are overdispersed with many zeros (log_tweedie_deviance with 1 < power < 2)",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer(
                "scikit-learn", "sklearn.ensemble.HistGradientBoostingRegressor",
                "loss='poisson': half the deviance, through a log link",
            ),
        ),
    )
    power = 1.0


log_poisson_deviance = LogPoissonDeviance.as_function()


@register
class GammaDeviance(_Deviance):
    """Gamma deviance of positive targets from a mean: scikit-learn's ``mean_gamma_deviance``, Tweedie at power 2.

    A relative error: scaling ``y_true`` and ``y_pred`` together leaves it unchanged. Not convex in
    the mean (its second derivative is negative where ``y_pred > 2 y_true``); convex in the log-mean
    (``log_gamma_deviance``).

    Examples
    --------
    >>> import losskit as lk
    >>> lk.gamma_deviance([2.0, 1.0], [0.5, 4.0], reduction="none").round(6).tolist()  # 2 (log(mu / y) + y / mu - 1)
    [3.227411, 1.272589]
    """

    info = LossInfo(
        name="gamma_deviance",
        aliases=("mean_gamma_deviance",),
        task="regression",
        likelihood="Gamma with a fixed shape",
        variable="prediction",
        formula="2 (log(mu / y) + y / mu - 1), mu = y_pred",
        gradient="2 (mu - y) / mu^2",
        hessian="2 (2 y - mu) / mu^3 (negative where mu > 2 y)",
        tags=("differentiable", "proper_scoring_rule"),
        twin="log_gamma_deviance",
        summary="The Gamma deviance of positive targets from a predicted mean: a relative error, 0 when exact.",
        use_when="positive, right-skewed targets whose spread grows with their mean (costs, durations, amounts)",
        avoid_when="the targets can be 0 (tweedie_deviance with 1 < power < 2), or the model emits log-means",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer("scikit-learn", "sklearn.metrics.mean_gamma_deviance"),
        ),
    )
    inputs = (target("y_true", POSITIVE_TARGETS), prediction("y_pred", POSITIVE))
    power = 2.0


gamma_deviance = GammaDeviance.as_function()


@register
class LogGammaDeviance(_LogDeviance):
    """Gamma deviance of positive targets from a log-mean: ``gamma_deviance`` at ``exp(y_pred)``, convex.

    scikit-learn's ``HalfGammaLoss`` times 2, plus the constant that makes a perfect prediction cost 0.

    Examples
    --------
    >>> import math, losskit as lk
    >>> round(float(lk.log_gamma_deviance([2.0], [math.log(0.5)])), 6)
    3.227411
    """

    info = LossInfo(
        name="log_gamma_deviance",
        task="regression",
        likelihood="Gamma with a fixed shape",
        variable="prediction",
        formula="2 (z - log y + y exp(-z) - 1), z = log-mean",
        gradient="2 (1 - y exp(-z))",
        hessian="2 y exp(-z)",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="gamma_deviance",
        summary="The Gamma deviance of positive targets from a linear output's log-mean.",
        use_when="positive, right-skewed targets (costs, durations) and a model with a linear output",
        avoid_when="the targets can be 0: use log_tweedie_deviance with 1 < power < 2",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer("scikit-learn", "sklearn.linear_model.GammaRegressor", "fits half the deviance through a log link"),
        ),
    )
    inputs = (target("y_true", POSITIVE_TARGETS), prediction("y_pred", link=LOG))
    power = 2.0


log_gamma_deviance = LogGammaDeviance.as_function()

TWEEDIE_POWER = Param(1.5, tweedie_power, "float <= 0 or >= 1",
                      "The variance power: 0 normal, 1 Poisson, (1, 2) compound Poisson-Gamma, 2 Gamma, 3 inverse Gaussian.",
                      example=3.0)  # fmt: skip


@register
class TweedieDeviance(_Deviance):
    """Tweedie deviance from a mean: scikit-learn's ``mean_tweedie_deviance``, one ``power`` for a family.

    Power 0 is the squared error, 1 ``poisson_deviance``, 2 ``gamma_deviance``; between 1 and 2 the
    compound Poisson-Gamma distribution, positive with exact zeros (claims, rainfall). The targets'
    domain follows the power: any number below 1, >= 0 up to 2, > 0 from 2. Computed in a form that
    stays exact as the power nears 1 and 2. Convex in the mean only at powers 0 and 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.tweedie_deviance([2.0, 0.0], [0.5, 1.5], power=1.5, reduction="none").round(6).tolist()
    [2.828427, 4.898979]
    """

    info = LossInfo(
        name="tweedie_deviance",
        aliases=("mean_tweedie_deviance",),
        task="regression",
        likelihood="Tweedie (exponential dispersion family with variance mean^power)",
        variable="prediction",
        formula="2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p)), mu = y_pred "
                "((y - mu)^2 at p = 0, the Poisson and Gamma deviances at 1 and 2)",
        gradient="2 mu^(-p) (mu - y)",
        hessian="2 mu^(-p-1) ((1 - p) mu + p y)",
        tags=("differentiable", "proper_scoring_rule"),
        twin="log_tweedie_deviance",
        summary="Tweedie's deviance from a predicted mean; 1 < power < 2 fits positive targets with exact zeros.",
        use_when="non-negative targets with many exact zeros and a skewed positive part (insurance claims)",
        avoid_when="the model emits log-means from a linear output: use log_tweedie_deviance",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer("scikit-learn", "sklearn.metrics.mean_tweedie_deviance", "the same power parameter"),
        ),
    )  # fmt: skip
    inputs = (target("y_true", COUNTS), prediction("y_pred", POSITIVE))
    power = TWEEDIE_POWER


tweedie_deviance = TweedieDeviance.as_function()


@register
class LogTweedieDeviance(_LogDeviance):
    """Tweedie deviance from a log-mean: ``tweedie_deviance`` at ``exp(y_pred)``, for a linear output.

    scikit-learn's ``HalfTweedieLoss`` times 2, plus the constant that makes a perfect prediction cost
    0. Convex for 1 <= power <= 2; its second derivative turns negative at large log-means beyond 2.

    Examples
    --------
    >>> import math, losskit as lk
    >>> lk.log_tweedie_deviance([2.0, 0.0], [math.log(0.5), math.log(1.5)], reduction="none").round(6).tolist()
    [2.828427, 4.898979]
    """

    info = LossInfo(
        name="log_tweedie_deviance",
        task="regression",
        likelihood="Tweedie (exponential dispersion family with variance mean^power)",
        variable="prediction",
        formula="tweedie_deviance at mu = exp(z), z = log-mean",
        gradient="2 (exp((2 - p) z) - y exp((1 - p) z))",
        hessian="2 ((2 - p) exp((2 - p) z) - (1 - p) y exp((1 - p) z))",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="tweedie_deviance",
        summary="Tweedie's deviance from a linear output's log-mean: zero-inflated positive targets.",
        use_when="non-negative targets with many exact zeros (claims, rainfall) and a linear output",
        avoid_when="the targets are plain counts (log_poisson_nll) or strictly positive (log_gamma_deviance)",
        references=DEVIANCE_REFERENCES,
        peers=(
            Peer(
                "scikit-learn", "sklearn.linear_model.TweedieRegressor",
                "link='log': half the deviance through a log link",
            ),
        ),
    )
    power = TWEEDIE_POWER


log_tweedie_deviance = LogTweedieDeviance.as_function()


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
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.gaussian_nll_loss",
                "(input, target, var): the variance clamped at eps=1e-6 too, but its slope passed through the "
                "clamp",
            ),
        ),
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


@register
class LaplaceNLL(Loss):
    r"""Laplace negative log-likelihood with a predicted log-scale: the robust twin of ``gaussian_nll_log_var``.

    Two predictions from a linear output: the location (a median) and ``s = log(scale)``, which may
    be shared as ``gaussian_nll``'s variance. :math:`|y - \mu| e^{-s} + s`: the absolute error in
    units of a learned scale, so outliers pull the location with a bounded force. The location's
    second derivative is 0 almost everywhere; ``grad_and_hessian`` gives :math:`e^{-s}`, the
    absolute error's 1 in units of the scale.

    Examples
    --------
    >>> import math, losskit as lk
    >>> lk.laplace_nll([2.0, 1.0], [0.5, 4.0], [0.0, math.log(3.0)], reduction="none").round(6).tolist()  # 1.5, 1 + log 3
    [1.5, 2.098612]
    """

    info = LossInfo(
        name="laplace_nll",
        aliases=("laplace_nll_log_scale", "heteroscedastic_laplace_nll"),
        task="regression",
        likelihood="Laplace with a predicted scale",
        formula="|y - location| exp(-s) + s (+ log 2 with full), s = log-scale",
        gradient="d/d location = sign(location - y) exp(-s); d/d s = 1 - |y - location| exp(-s)",
        hessian="location: exp(-s) (the true second derivative is 0 almost everywhere); s: |y - location| exp(-s)",
        hessian_kind="approximate",
        tags=("robust",),
        summary="Robust regression with uncertainty: a median and a log-scale per example, Laplace's likelihood.",
        use_when="the noise level varies across inputs and has heavy tails or outliers: the robust gaussian_nll_log_var",
        avoid_when="you only need the median (mae is simpler), or the noise is Gaussian (gaussian_nll_log_var is efficient)",
        references=("Kendall and Gal, What uncertainties do we need in Bayesian deep learning for computer vision?, NeurIPS 2017",),
    )  # fmt: skip
    inputs = (target("y_true"), prediction("location"), prediction("log_scale", link=LOG, broadcast=True))
    full = Param(False, boolean, "bool", "Add the constant log 2.", example=True)

    def _math(self, xp, order, y, location, s):
        r = location - y
        sign = xp.sign(r)
        precision = xp.exp(-s)
        scaled = xp.where(r == 0, xp.zeros_like(r), r * sign * precision)  # |r| exp(-s), 0 at r = 0 even for s = -inf
        losses = scaled + s
        if self.full:
            losses = losses + math.log(2.0)
        hessians = (precision, scaled) if order > 1 else None
        return losses, (sign * precision, 1.0 - scaled), hessians

    def _optimal_constant(self, targets, weight):
        y = targets[0]
        median = weighted_quantile(y, weight, 0.5)
        spread = weighted_mean(np.abs(y - median), weight)
        return median, np.log(clipped(spread, high=np.inf))


laplace_nll = LaplaceNLL.as_function()
