r"""Robust regression losses: bounded influence, quadratic or linear near zero, linear far from it."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._base import Loss
from .._checks import extended_real, non_negative, positive, quantiles
from .._info import LossInfo, Peer
from .._optimal import weighted_quantile
from ..errors import InputError
from ..numerics import propagate_nan
from ..inputs import prediction, target
from ..params import Param, as_array
from ..registry import register


@register
class Huber(Loss):
    """Huber loss: MSE for small residuals, MAE (with slope ``delta``) for large ones.

    PyTorch's ``HuberLoss``, Keras's ``Huber``. Its second derivative is 1 inside ``delta`` and 0
    beyond.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.huber([0.0, 0.0], [0.5, 3.0], reduction="none").tolist()  # 0.5^2/2, 1 * (3 - 1/2)
    [0.125, 2.5]
    """

    info = LossInfo(
        name="huber",
        aliases=("huber_loss",),
        task="regression",
        likelihood="Gaussian centre with Laplace tails (Huber's least favourable distribution)",
        formula="r^2 / 2 if |r| <= delta else delta (|r| - delta / 2), r = y_pred - y_true",
        gradient="clip(r, -delta, delta)",
        hessian="1 if |r| <= delta else 0",
        tags=("convex", "robust", "differentiable"),
        summary="MSE for small residuals, MAE for large ones: efficient on clean data, robust to outliers.",
        use_when="regression with some outliers: quadratic (efficient) for small residuals, linear (robust) beyond delta",
        avoid_when="you cannot choose delta: it should be about 1.345 noise standard deviations; or you need second derivatives",
        references=("Huber, Robust Estimation of a Location Parameter, Ann. Math. Stat. 35 (1964)",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.huber_loss"),
            Peer("Keras", "keras.losses.Huber"),
            Peer("Optax", "optax.losses.huber_loss", "no reduction"),
        ),
    )
    delta = Param(1.0, positive, "float > 0", "Where the quadratic part ends (about 1.345 noise standard deviations).",
                  example=0.3)  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        quadratic = abs_r <= self.delta
        far = xp.where(quadratic, xp.zeros_like(abs_r), abs_r)  # so that autodiff never meets delta * 0 where unused
        losses = xp.where(quadratic, 0.5 * r * r, self.delta * (far - 0.5 * self.delta))
        hessian = propagate_nan(xp, r, xp.astype(quadratic, r.dtype)) if order > 1 else None
        slope = xp.where(quadratic | xp.isnan(r), r, self.delta * xp.sign(r))  # a clip that takes any delta
        return losses, slope, hessian

    def kinks(self):
        # The loss is differentiable, but its second derivative jumps at +-delta.
        return (-self.delta, self.delta)


huber = Huber.as_function()


@register
class PseudoHuber(Loss):
    r"""Pseudo-Huber loss: a smooth Huber, quadratic near zero and linear with slope ``delta`` far away.

    With :math:`x = r/\delta`, computed as :math:`\delta^2 x^2 / (\sqrt{1 + x^2} + 1)` for
    :math:`|x| \le 1` (no cancellation) and as :math:`\delta^2(\sqrt{1 + x^2} - 1)` beyond (no
    overflow). Charbonnier's loss :math:`\sqrt{r^2 + \varepsilon^2}` is ``pseudo_huber(delta=eps) / eps + eps``.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.pseudo_huber([0.0], [3.0], delta=4.0)), 12)  # 16 (sqrt(1 + 9/16) - 1)
    4.0
    """

    info = LossInfo(
        name="pseudo_huber",
        aliases=("pseudohuber", "charbonnier"),
        task="regression",
        formula="delta^2 (sqrt(1 + (r / delta)^2) - 1), r = y_pred - y_true",
        gradient="r / sqrt(1 + (r / delta)^2)",
        hessian="(1 + (r / delta)^2)^(-3/2)",
        tags=("convex", "robust", "differentiable"),
        summary="A smooth Huber: quadratic near zero, linear with slope delta far away, every derivative continuous.",
        use_when="you want Huber's robustness with derivatives of every order (e.g. second-order optimisers)",
        avoid_when="the data are clean and Gaussian (mse is simpler) or you cannot choose delta",
        references=(
            "Charbonnier et al., Deterministic edge-preserving regularization in computed imaging, IEEE TIP 6 (1997)",
            "Hartley and Zisserman, Multiple View Geometry, 2nd ed. (2004), appendix A6.8",
        ),
        peers=(
            Peer("XGBoost", "xgboost.XGBRegressor", "objective='reg:pseudohubererror', its huber_slope is delta"),
            Peer(
                "kornia", "kornia.losses.charbonnier_loss",
                "Charbonnier's sqrt(r^2 + 1) - 1: pseudo_huber at delta = 1",
            ),
        ),
    )
    delta = Param(1.0, positive, "float > 0", "The scale where the loss turns from quadratic to linear.",
                  example=2.5)  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        x = r / self.delta
        root = _unit_hypot(xp, x)
        far = xp.abs(x) > 1.0
        delta = self.delta
        # delta^2 (root - 1), as r^2 / (root + 1) near 0 (no cancellation)
        if order > 0:  # the gradient is given
            losses = xp.where(far, self._far(xp, r, root), r * r / (root + 1.0))
        else:  # the same numbers, each branch from its own residuals (zero where unused), for autodiff
            near_r, far_r = xp.where(far, xp.zeros_like(r), r), xp.where(far, r, xp.zeros_like(r))
            near = near_r * near_r / (_unit_hypot(xp, near_r / delta) + 1.0)
            return (xp.where(far, self._far(xp, far_r, _unit_hypot(xp, far_r / delta)), near),)
        # r / sqrt(1 + x^2), delta sign(x) beyond 1e18 (the residuals kept finite where unused, for autodiff); a
        # root of its own, not the value's: XLA then keeps none of them in memory
        huge = xp.abs(x) > 1e18
        r_in, x_in = xp.where(huge, xp.zeros_like(r), r), xp.where(huge, xp.zeros_like(x), x)
        slope = xp.where(huge, delta * xp.sign(x), r_in / xp.sqrt(x_in * x_in + 1.0))
        hessian = None
        if order > 1:
            inverse = 1.0 / root  # 0 at an infinite residual
            hessian = inverse * inverse * inverse
        return losses, slope, hessian

    def _far(self, xp, r, root):
        """``delta^2 (root - 1)`` for ``|r| > delta``, as ``delta (hypot(delta, r) - delta)`` where ``r / delta``
        could overflow (``delta < 1``)."""
        delta = self.delta
        if delta >= 1.0:
            return (delta * (root - 1.0)) * delta
        return delta * (xp.hypot(delta * xp.ones_like(r), r) - delta)


pseudo_huber = PseudoHuber.as_function()


def _unit_hypot(xp, x):
    """``sqrt(1 + x^2)``; beyond 1e18 that is ``|x|`` to rounding, and ``x^2`` could overflow (the square is then
    taken of 0, so that autodiff meets no ``0 * inf``)."""
    size = xp.abs(x)
    small = size <= 1e18
    kept = xp.where(small, x, xp.zeros_like(x))
    return xp.where(small, xp.sqrt(1.0 + kept * kept), size)


@register
class LogCosh(Loss):
    r"""Log-cosh loss: like :math:`r^2/2` near zero and like :math:`|r| - \log 2` far away, smooth everywhere.

    Computed from :math:`E = \operatorname{expm1}(|r|)` as :math:`\log(1 + E^2 / (2 + 2E))`, since
    :math:`\cosh r - 1 = E^2 / (2 + 2E)` (no cancellation near 0), and as :math:`|r| - \log 2` beyond
    :math:`|r| = 30`, where :math:`e^{-2|r|}` is below rounding (no overflow, even at :math:`r = 10^4` in
    float32). Its second derivative :math:`\operatorname{sech}^2 r` is taken as :math:`4e / (1 + e)^2` with
    :math:`e = e^{-2|r|}`.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.log_cosh([0.0, 0.0], [0.0, 1e4], reduction="none").tolist()  # log cosh r ~ |r| - log 2
    [0.0, 9999.30685281944]
    """

    info = LossInfo(
        name="log_cosh",
        aliases=("logcosh",),
        task="regression",
        likelihood="hyperbolic secant distribution",
        formula="log(cosh(y_pred - y_true))",
        gradient="tanh(y_pred - y_true)",
        hessian="1 / cosh(y_pred - y_true)^2",
        tags=("convex", "robust", "differentiable"),
        summary="Behaves like r^2/2 near zero and like |r| far away, and is twice differentiable everywhere.",
        use_when="you want a smooth, parameter-free robust loss: r^2/2 near zero, |r| - log 2 far away",
        avoid_when="residuals are on a very small or very large scale: its switch point is fixed at |r| ~ 1, so scale the target",
        references=("Chen et al., Log hyperbolic cosine loss improves variational auto-encoder, 2019",),
        peers=(
            Peer("Keras", "keras.losses.LogCosh"),
            Peer("Optax", "optax.losses.log_cosh", "no reduction"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        e = xp.expm1(xp.where(abs_r <= 30.0, abs_r, xp.full_like(abs_r, 30.0)))  # capped: unused beyond, and no slope
        losses = xp.where(abs_r <= 30.0, xp.log1p(e * e / (2.0 + 2.0 * e)), abs_r - math.log(2.0))
        hessian = None
        if order > 1:
            e2 = xp.exp(-2.0 * abs_r)
            hessian = 4.0 * e2 / ((1.0 + e2) * (1.0 + e2))
        return losses, xp.tanh(r), hessian


log_cosh = LogCosh.as_function()


@register
class Pinball(Loss):
    """Pinball (quantile) loss: fits the conditional ``quantile`` of the target.

    Under-predictions cost ``quantile`` per unit, over-predictions ``1 - quantile``; at 0.5 it is half
    the absolute error (the median). scikit-learn's ``mean_pinball_loss`` (whose ``alpha`` is this
    ``quantile``). Its second derivative is 0 almost everywhere, so ``grad_and_hessian`` gives 1, as
    scikit-learn's gradient boosting does.

    A sequence ``quantile=(0.05, 0.5, 0.95)`` fits several quantiles in one call (a multi-quantile
    head): ``y_pred``'s last axis then holds one prediction per quantile, ``y_true`` has its shape
    without that axis, and an example's loss is the sum of its quantiles' losses, so each quantile's
    gradient is the one its own loss gives. Quantiles fitted this way can still cross.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.pinball([2.0, 1.0], [0.5, 4.0], quantile=0.9, reduction="none").round(12).tolist()  # 0.9 * 1.5, 0.1 * 3
    [1.35, 0.3]
    >>> lk.pinball([2.0], [[1.0, 2.5]], quantile=(0.1, 0.9), reduction="none").round(12).tolist()  # 0.1 * 1 + 0.1 * 0.5
    [0.15]
    """

    info = LossInfo(
        name="pinball",
        aliases=("quantile", "quantile_loss", "mean_pinball_loss"),
        task="regression",
        likelihood="asymmetric Laplace with unit scale",
        formula="quantile (y_true - y_pred) if y_true >= y_pred else (1 - quantile) (y_pred - y_true)",
        gradient="-quantile if y_true > y_pred, 1 - quantile if y_true < y_pred, 0 at equality",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex", "robust"),
        summary="Fits a conditional quantile (the median at 0.5): prediction intervals without a noise model.",
        use_when="you need a quantile of the target (a prediction interval, a service level), or asymmetric costs",
        avoid_when="you need the mean, or several quantiles that must not cross (fit them jointly instead)",
        references=(
            "Koenker and Bassett, Regression quantiles, Econometrica 46 (1978)",
            "scikit-learn, sklearn.metrics.mean_pinball_loss",
        ),
        peers=(
            Peer(
                "scikit-learn", "sklearn.metrics.mean_pinball_loss",
                "the quantile is called alpha; scikit-learn's boosting loss takes -quantile as the gradient at a "
                "zero residual, losskit 0",
            ),
        ),
    )
    quantile = Param(0.5, quantiles, "float in (0, 1), or a sequence of them",
                     "The quantile to fit; a sequence fits one per entry of y_pred's last axis.", example=0.9)  # fmt: skip

    def _specialise(self, info):
        if not isinstance(self.quantile, tuple):
            return info
        # One column per quantile; an example is a row of predictions, with no curve of one variable.
        return replace(info.with_inputs((target("y_true"), prediction("y_pred", event=1))), variable="none")

    def _math(self, xp, order, y_true, y_pred):
        several = isinstance(self.quantile, tuple)
        q = as_array(self, xp, "quantile", y_pred)
        if several and y_pred.shape[-1] != len(self.quantile):
            raise InputError(
                f"pinball: y_pred has {y_pred.shape[-1]} entries on its last axis but quantile holds "
                f"{len(self.quantile)} quantiles; give one prediction per quantile."
            )
        r = y_pred - (y_true[..., None] if several else y_true)
        losses = xp.where(r < 0, -q * r, (1.0 - q) * r)
        slope = xp.where(r < 0, -q * xp.ones_like(r), xp.where(r > 0, (1.0 - q) * xp.ones_like(r), xp.zeros_like(r)))
        return (xp.sum(losses, axis=-1) if several else losses), propagate_nan(xp, r, slope), 1.0

    def _optimal_constant(self, targets, weight):
        if isinstance(self.quantile, tuple):
            return np.stack([weighted_quantile(targets[0], weight, q) for q in self.quantile])
        return weighted_quantile(targets[0], weight, self.quantile)

    def kinks(self):
        return (0.0,)


pinball = Pinball.as_function()


@register
class SmoothL1(Loss):
    r"""Smooth L1 loss: PyTorch's ``SmoothL1Loss``, a Huber loss divided by its threshold ``beta``.

    :math:`r^2 / (2\beta)` for :math:`|r| < \beta`, :math:`|r| - \beta/2` beyond: the linear part has
    slope 1 whatever ``beta`` (Huber's has slope ``delta``). ``beta=0`` is the absolute error, as in
    PyTorch. Its second derivative is ``1 / beta`` inside and 0 beyond.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.smooth_l1([0.0, 0.0], [-1.5, 3.0], beta=2.0, reduction="none").tolist()  # 1.5^2 / 4, 3 - 1
    [0.5625, 2.0]
    """

    info = LossInfo(
        name="smooth_l1",
        aliases=("smooth_l1_loss",),
        task="regression",
        likelihood="Gaussian centre with Laplace tails (Huber's least favourable distribution)",
        formula="r^2 / (2 beta) if |r| < beta else |r| - beta / 2, r = y_pred - y_true (|r| at beta = 0)",
        gradient="clip(r / beta, -1, 1) (sign(r) at beta = 0)",
        hessian="1 / beta if |r| < beta else 0",
        tags=("convex", "robust", "differentiable"),
        summary="PyTorch's SmoothL1Loss: Huber divided by beta, so the linear part has slope 1.",
        use_when="regression with outliers where the tails should cost the absolute error itself (object box regression)",
        avoid_when="you want the quadratic part to keep its scale as beta changes: use huber",
        references=("Girshick, Fast R-CNN, ICCV 2015", "PyTorch, torch.nn.SmoothL1Loss"),
        peers=(
            Peer("PyTorch", "torch.nn.functional.smooth_l1_loss"),
        ),
    )
    beta = Param(1.0, non_negative, "float >= 0", "Where the quadratic part ends; 0 gives the absolute error.",
                 example=2.0)  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        beta = self.beta
        inside = abs_r < beta
        near = xp.where(inside, r, xp.zeros_like(r))  # kept small where unused, for autodiff
        losses = xp.where(inside, 0.5 * near * near / (beta or 1.0), abs_r - 0.5 * beta)
        slope = xp.where(inside, near / (beta or 1.0), xp.sign(r))
        hessian = propagate_nan(xp, r, xp.astype(inside, r.dtype) / (beta or 1.0)) if order > 1 else None
        return losses, propagate_nan(xp, r, slope), hessian

    def kinks(self):
        return (-self.beta, self.beta) if self.beta else (0.0,)


smooth_l1 = SmoothL1.as_function()


class _Tube(Loss):
    """A loss that is 0 for residuals within ``epsilon`` of 0 (support vector regression's tube)."""

    epsilon = Param(0.1, non_negative, "float >= 0", "Half the width of the tube of free residuals.", example=0.5)

    def _excess(self, xp, y_true, y_pred):
        """``(r, max(0, |r| - epsilon), |r| > epsilon)``."""
        r = y_pred - y_true
        excess = xp.abs(r) - self.epsilon
        outside = excess > 0
        return r, xp.where(outside, excess, xp.zeros_like(excess)), outside

    def kinks(self):
        return (-self.epsilon, self.epsilon) if self.epsilon else (0.0,)


@register
class EpsilonInsensitive(_Tube):
    """Epsilon-insensitive loss: residuals within ``epsilon`` cost nothing, beyond it the absolute excess.

    Support vector regression's loss (scikit-learn's ``SVR``, ``LinearSVR`` and
    ``SGDRegressor(loss="epsilon_insensitive")``). Its second derivative is 0 almost everywhere, so
    ``grad_and_hessian`` gives 1, as for mae.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.epsilon_insensitive([2.0, 1.0], [0.5, 4.0], epsilon=0.5, reduction="none").tolist()  # 1.5 - 0.5, 3 - 0.5
    [1.0, 2.5]
    """

    info = LossInfo(
        name="epsilon_insensitive",
        aliases=("svr_loss",),
        task="regression",
        likelihood="flat within epsilon, Laplace tails beyond",
        formula="max(0, |r| - epsilon), r = y_pred - y_true",
        gradient="sign(r) if |r| > epsilon else 0",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex", "robust"),
        summary="Support vector regression's loss: a tube of width epsilon costs nothing, the rest linearly.",
        use_when="errors below a tolerance do not matter and large ones should cost linearly (SVR)",
        avoid_when="you need a smooth loss or the conditional mean",
        references=("Vapnik, The Nature of Statistical Learning Theory (1995)", "scikit-learn, sklearn.svm.SVR"),
        peers=(
            Peer(
                "scikit-learn", "sklearn.linear_model.SGDRegressor",
                "loss='epsilon_insensitive', epsilon=0.1 by default (losskit's is 0.1 too)",
            ),
        ),
    )
    def _math(self, xp, order, y_true, y_pred):
        r, excess, outside = self._excess(xp, y_true, y_pred)
        slope = xp.where(outside, xp.sign(r), xp.zeros_like(r))
        return propagate_nan(xp, r, excess), propagate_nan(xp, r, slope), 1.0


epsilon_insensitive = EpsilonInsensitive.as_function()


@register
class SquaredEpsilonInsensitive(_Tube):
    """Squared epsilon-insensitive loss: residuals within ``epsilon`` cost nothing, beyond it the squared excess.

    scikit-learn's ``SGDRegressor(loss="squared_epsilon_insensitive")`` and ``LinearSVR``'s L2 loss.
    Its second derivative is 2 outside the tube and 0 inside.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.squared_epsilon_insensitive([2.0, 1.0], [0.5, 4.0], epsilon=0.5, reduction="none").tolist()
    [1.0, 6.25]
    """

    info = LossInfo(
        name="squared_epsilon_insensitive",
        task="regression",
        likelihood="flat within epsilon, Gaussian tails beyond",
        formula="max(0, |r| - epsilon)^2, r = y_pred - y_true",
        gradient="2 sign(r) max(0, |r| - epsilon)",
        hessian="2 if |r| > epsilon else 0",
        tags=("convex", "differentiable"),
        summary="A tube of width epsilon costs nothing, the rest quadratically: smooth, but not robust.",
        use_when="errors below a tolerance do not matter and a smooth loss is needed (L2 support vector regression)",
        avoid_when="the data have outliers: beyond the tube it is a squared error",
        references=("scikit-learn, sklearn.linear_model.SGDRegressor", "scikit-learn, sklearn.svm.LinearSVR"),
        peers=(
            Peer("scikit-learn", "sklearn.linear_model.SGDRegressor", "loss='squared_epsilon_insensitive'"),
        ),
    )
    def _math(self, xp, order, y_true, y_pred):
        r, excess, outside = self._excess(xp, y_true, y_pred)
        hessian = propagate_nan(xp, r, 2.0 * xp.astype(outside, r.dtype)) if order > 1 else None
        return propagate_nan(xp, r, excess * excess), propagate_nan(xp, r, 2.0 * xp.sign(r) * excess), hessian


squared_epsilon_insensitive = SquaredEpsilonInsensitive.as_function()


class _Scaled(Loss):
    """A robust loss of the scaled residual ``x = r / scale``."""

    scale = Param(1.0, positive, "float > 0", "The residual where the loss starts to flatten.", example=2.0)

    def _x(self, y_true, y_pred):
        return (y_pred - y_true) / self.scale


@register
class Cauchy(_Scaled):
    r"""Cauchy (Lorentzian) loss: :math:`\log(1 + \tfrac12 (r/c)^2)`, the negative log-likelihood of Cauchy noise.

    Barron's general loss at alpha = 0. It grows like a log, so an outlier's pull fades as
    :math:`2/r`; not convex beyond :math:`|r| = \sqrt2 c`, where its second derivative turns negative.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.cauchy([0.0, 0.0], [-1.5, 3.0], reduction="none").round(6).tolist()
    [0.753772, 1.704748]
    """

    info = LossInfo(
        name="cauchy",
        aliases=("lorentzian", "cauchy_loss"),
        task="regression",
        likelihood="Cauchy (Student-t with one degree of freedom), scale sqrt(2) c",
        formula="log(1 + (r / scale)^2 / 2), r = y_pred - y_true",
        gradient="2 r / (2 scale^2 + r^2)",
        hessian="2 (2 scale^2 - r^2) / (2 scale^2 + r^2)^2 (negative beyond sqrt(2) scale)",
        tags=("robust", "differentiable"),
        summary="The negative log-likelihood of Cauchy noise: an outlier's pull fades like 1/r.",
        use_when="gross outliers that should barely pull the fit, and a start close enough to the answer",
        avoid_when="you need a convex loss (huber): a redescending loss can settle on a bad fit from a bad start",
        references=("Black and Anandan, The robust estimation of multiple motions, CVIU 63 (1996)",
                    "Barron, A general and adaptive robust loss function, CVPR 2019"),  # fmt: skip
        peers=(
            Peer("kornia", "kornia.losses.cauchy_loss", "no scale parameter: scale 1; no reduction by default"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        x = self._x(y_true, y_pred)
        half_square = 0.5 * x * x
        huge = xp.isinf(half_square)  # |x| > 1e154: log(x^2 / 2) without the square
        ones = xp.ones_like(x)
        safe, big = xp.where(huge, ones, x), xp.where(huge, x, ones)  # no log(0) nor inf for autodiff to meet
        losses = xp.where(huge, 2.0 * xp.log(xp.abs(big)) - math.log(2.0), xp.log1p(0.5 * safe * safe))
        s = 1.0 / (2.0 + x * x)  # 0 for huge x: no overflow below
        c = self.scale
        hessian = (2.0 / (c * c)) * (4.0 * s * s - s) if order > 1 else None
        return losses, (2.0 / c) * x * s, hessian


cauchy = Cauchy.as_function()


@register
class GemanMcClure(_Scaled):
    r"""Geman-McClure loss: :math:`2 (r/c)^2 / ((r/c)^2 + 4)`, bounded by 2.

    Barron's general loss at alpha = -2. An outlier's pull falls like :math:`1/r^3`; not convex
    beyond :math:`|r| = 2c/\sqrt3`.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.geman_mcclure([0.0, 0.0], [-1.5, 3.0], reduction="none").round(6).tolist()
    [0.72, 1.384615]
    """

    info = LossInfo(
        name="geman_mcclure",
        aliases=("geman_mcclure_loss",),
        task="regression",
        formula="2 (r / scale)^2 / ((r / scale)^2 + 4), r = y_pred - y_true",
        gradient="16 scale^2 r / (r^2 + 4 scale^2)^2",
        hessian="16 scale^2 (4 scale^2 - 3 r^2) / (r^2 + 4 scale^2)^3 (negative beyond 2 scale / sqrt(3))",
        tags=("robust", "differentiable", "bounded"),
        summary="A bounded robust loss (at most 2): far outliers cost a constant and pull almost not at all.",
        use_when="gross outliers that should not pull the fit at all, from a good start",
        avoid_when="you need a convex loss, or the start may be far from the answer",
        references=("Geman and McClure, Statistical methods for tomographic image reconstruction (1987)",
                    "Barron, A general and adaptive robust loss function, CVPR 2019"),  # fmt: skip
        peers=(
            Peer("kornia", "kornia.losses.geman_mcclure_loss", "no scale parameter: scale 1; no reduction by default"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        x = self._x(y_true, y_pred)
        t = 1.0 / (x * x + 4.0)  # 0 for huge x: no overflow below
        c = self.scale
        hessian = (16.0 / (c * c)) * (16.0 * t * t * t - 3.0 * t * t) if order > 1 else None
        near = xp.where(t == 0, xp.zeros_like(x), x)  # 2 x^2 t: exact for small x, where 2 (1 - 4 t) cancels
        losses = xp.where(t == 0, 2.0 * xp.ones_like(x), 2.0 * near * near * t)
        return propagate_nan(xp, x, losses), (16.0 / c) * x * t * t, hessian


geman_mcclure = GemanMcClure.as_function()


@register
class Welsch(_Scaled):
    r"""Welsch (Leclerc) loss: :math:`1 - \exp(-\tfrac12 (r/c)^2)`, bounded by 1.

    Barron's general loss as alpha tends to minus infinity. An outlier's pull falls off like a
    Gaussian; not convex beyond :math:`|r| = c`.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.welsch([0.0, 0.0], [-1.5, 3.0], reduction="none").round(6).tolist()
    [0.675348, 0.988891]
    """

    info = LossInfo(
        name="welsch",
        aliases=("welsch_loss", "leclerc"),
        task="regression",
        formula="1 - exp(-(r / scale)^2 / 2), r = y_pred - y_true",
        gradient="(r / scale^2) exp(-(r / scale)^2 / 2)",
        hessian="(1 - (r / scale)^2) exp(-(r / scale)^2 / 2) / scale^2 (negative beyond scale)",
        tags=("robust", "differentiable", "bounded"),
        summary="A bounded robust loss (at most 1) whose pull vanishes like a Gaussian beyond the scale.",
        use_when="gross outliers that must not pull the fit, from a good start",
        avoid_when="you need a convex loss, or the start may be far from the answer",
        references=("Dennis and Welsch, Techniques for nonlinear least squares and robust regression (1978)",
                    "Barron, A general and adaptive robust loss function, CVPR 2019"),  # fmt: skip
        peers=(
            Peer("kornia", "kornia.losses.welsch_loss", "no scale parameter: scale 1; no reduction by default"),
        ),
    )

    def _math(self, xp, order, y_true, y_pred):
        x = self._x(y_true, y_pred)
        rise = xp.expm1(-0.5 * x * x)  # -(the loss): exact for small x, where 1 - exp cancels
        e = 1.0 + rise
        c = self.scale
        gone = e == 0  # far out: slope and curvature are 0, not inf * 0
        near = xp.where(gone, xp.zeros_like(x), x)
        hessian = propagate_nan(xp, x, (1.0 - near * near) * e / (c * c)) if order > 1 else None
        return -rise, propagate_nan(xp, x, near * e / c), hessian


welsch = Welsch.as_function()



@register
class GeneralRobust(_Scaled):
    r"""Barron's general robust loss: one ``alpha`` runs from L2 through Charbonnier and Cauchy to Welsch.

    With :math:`x = r/c` and :math:`b = |\alpha - 2|`,
    :math:`\rho = \tfrac{b}{\alpha}\,\operatorname{expm1}\!\big(\tfrac{\alpha}{2}\operatorname{log1p}(x^2/b)\big)`,
    the form that stays exact as alpha nears 0 or 2. Its limits are computed as themselves: alpha = 2
    is :math:`x^2/2`, 1 is pseudo-Huber divided by :math:`c^2`, 0 is ``cauchy``, -2 is
    ``geman_mcclure``, ``-inf`` is ``welsch`` and ``+inf`` is :math:`\exp(x^2/2) - 1`, each with
    finite derivatives. Convex for alpha >= 1, bounded influence for alpha <= 1, bounded for
    alpha < 0; below 1 its second derivative turns negative beyond
    :math:`|x| = \sqrt{(2 - \alpha)/(1 - \alpha)}`. The tags of a configured loss say which hold.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.general_robust([0.0, 0.0], [-1.5, 3.0], alpha=1.0, reduction="none").round(6).tolist()  # sqrt(x^2 + 1) - 1
    [0.802776, 2.162278]
    >>> lk.get("barron", alpha=float("-inf"))([0.0], [3.0], reduction="none").round(6).tolist()  # welsch
    [0.988891]
    """

    info = LossInfo(
        name="general_robust",
        aliases=("barron", "general_adaptive", "barron_loss"),
        task="regression",
        formula="|alpha - 2| / alpha ((x^2 / |alpha - 2| + 1)^(alpha / 2) - 1), x = (y_pred - y_true) / scale",
        gradient="(x / scale) (x^2 / |alpha - 2| + 1)^(alpha / 2 - 1)",
        hessian="u^(alpha / 2 - 2) (u + sign(alpha - 2) x^2) / scale^2, u = x^2 / |alpha - 2| + 1 (negative far out for alpha < 1)",
        tags=("convex", "robust", "differentiable"),
        summary="Barron's family in one loss: alpha sets the shape from L2 (2) through Cauchy (0) to Welsch (-inf).",
        use_when="you want to choose, or tune, how strongly large residuals are discounted with one number",
        avoid_when="you need a convex loss and alpha < 1, or a likelihood (its normaliser has no closed form)",
        references=("Barron, A general and adaptive robust loss function, CVPR 2019",),
    )
    alpha = Param(1.0, extended_real, "float, -inf and inf included",
                  "The shape: 2 is L2, 1 Charbonnier, 0 Cauchy, -2 Geman-McClure, -inf Welsch.", example=0.5)  # fmt: skip

    def _specialise(self, info):
        a = self.alpha
        tags = tuple(tag for tag, holds in (("convex", a >= 1), ("robust", a <= 1), ("differentiable", True),
                                            ("bounded", a < 0)) if holds)  # fmt: skip
        return info if tags == info.tags else replace(info, tags=tags)

    def _math(self, xp, order, y_true, y_pred):
        a, c = self.alpha, self.scale
        named = {0.0: Cauchy, -2.0: GemanMcClure, -math.inf: Welsch}.get(a)
        if named is not None:
            return named(scale=c)._math(xp, order, y_true, y_pred)
        x = self._x(y_true, y_pred)
        z = x * x
        if a == 2.0:
            return 0.5 * z, x / c, 1.0 / (c * c)
        if a == math.inf:
            e = xp.exp(0.5 * z)
            return xp.expm1(0.5 * z), x * e / c, ((1.0 + z) * e / (c * c) if order > 1 else None)
        b = abs(a - 2.0)
        huge = xp.isinf(z)  # |x| > 1e154: log1p(x^2 / b) without the square
        ones = xp.ones_like(x)
        safe_x, safe_z = xp.where(huge, xp.abs(x), ones), xp.where(huge, ones, z)
        log_u = xp.where(huge, 2.0 * xp.log(safe_x) - math.log(b), xp.log1p(safe_z / b))
        losses = (b / a) * xp.expm1(0.5 * a * log_u)
        power = xp.exp((0.5 * a - 1.0) * log_u)  # u^(alpha / 2 - 1)
        hessian = None
        if order > 1:
            ratio = xp.where(huge, b * ones, safe_z / (1.0 + safe_z / b))  # x^2 / u
            hessian = power * (1.0 + math.copysign(1.0, a - 2.0) * ratio) / (c * c)
        return losses, x * power / c, hessian


general_robust = GeneralRobust.as_function()


@register
class TukeyBiweight(Loss):
    r"""Tukey's biweight (bisquare) loss: :math:`\tfrac{c^2}{6}(1 - (1 - (r/c)^2)^3)` inside ``c``, :math:`c^2/6` beyond.

    Residuals beyond ``c`` cost a constant and do not pull at all. ``c = 4.685`` gives 95% efficiency
    on Gaussian noise of unit scale (divide the residuals by a robust scale first). Not convex for
    :math:`c/\sqrt5 < |r| < c`.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.tukey_biweight([0.0, 0.0, 0.0], [-1.5, 3.0, 6.0], reduction="none").round(6).tolist()
    [1.013618, 2.907028, 3.658204]
    """

    info = LossInfo(
        name="tukey_biweight",
        aliases=("tukey", "bisquare", "biweight"),
        task="regression",
        formula="c^2 / 6 (1 - (1 - (r / c)^2)^3) if |r| <= c else c^2 / 6, r = y_pred - y_true",
        gradient="r (1 - (r / c)^2)^2 if |r| <= c else 0",
        hessian="(1 - u) (1 - 5 u), u = (r / c)^2, if |r| <= c else 0 (negative for c / sqrt(5) < |r| < c)",
        tags=("robust", "differentiable", "bounded"),
        summary="A bounded, redescending loss: residuals beyond c cost a constant and exert no pull.",
        use_when="gross outliers on residuals in units of a robust scale, with a good start (robust refits)",
        avoid_when="the start may be far from the answer: an example that starts beyond c never pulls",
        references=("Beaton and Tukey, The fitting of power series, Technometrics 16 (1974)",),
        peers=(
            Peer(
                "statsmodels", "statsmodels.robust.norms.TukeyBiweight",
                "rho, psi (the gradient) and psi_deriv (the Hessian) of one residual; the same c = 4.685",
            ),
        ),
    )
    c = Param(4.685, positive, "float > 0", "Where the loss becomes flat (95% Gaussian efficiency at 4.685).",
              example=2.0)  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        c = self.c
        u = (r / c) ** 2
        inside = u <= 1.0
        v = xp.where(inside, 1.0 - u, xp.zeros_like(u))  # 0 beyond c: value c^2 / 6, slope and curvature 0
        near = xp.where(inside, r, xp.zeros_like(r))
        w = xp.where(inside, u, xp.ones_like(u))  # 1 - v^3 = u (3 - 3u + u^2): exact for small u
        losses = propagate_nan(xp, r, (c * c / 6.0) * (w * (3.0 - w * (3.0 - w))))
        hessian = propagate_nan(xp, r, xp.where(inside, v * (1.0 - 5.0 * u), xp.zeros_like(u))) if order > 1 else None
        return losses, propagate_nan(xp, r, near * v * v), hessian

    def kinks(self):
        # Twice differentiable; the third derivative jumps at +-c.
        return (-self.c, self.c)


tukey_biweight = TukeyBiweight.as_function()
