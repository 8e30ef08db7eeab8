r"""Robust regression losses: bounded influence, quadratic or linear near zero, linear far from it."""

from __future__ import annotations

import math

from .._base import Loss
from .._checks import open_unit_interval, positive
from .._info import LossInfo
from .._optimal import weighted_quantile
from ..numerics import propagate_nan, softplus
from ..params import Param
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
    )
    delta = Param(1.0, positive, "float > 0", "The scale where the loss turns from quadratic to linear.",
                  example=2.5)  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        x = r / self.delta
        one = xp.ones_like(x)
        root = xp.hypot(one, x)
        far = xp.abs(x) > 1.0
        near_r = xp.where(far, xp.zeros_like(r), r)  # kept small where unused, for autodiff
        near_x = xp.where(far, xp.zeros_like(x), x)
        near = (near_r * near_r) / (xp.hypot(one, near_x) + 1.0)  # delta^2 (root - 1), without delta^2
        far_r = xp.where(far, r, xp.zeros_like(r))
        losses = xp.where(far, self.delta * (xp.hypot(self.delta * one, far_r) - self.delta), near)
        infinite = xp.isinf(x)
        safe_root = xp.where(infinite, one, root)
        slope = xp.where(infinite, self.delta * xp.sign(x), r / safe_root)
        hessian = None
        if order > 1:
            inverse = 1.0 / root  # 0 at an infinite residual
            hessian = inverse * inverse * inverse
        return losses, slope, hessian


pseudo_huber = PseudoHuber.as_function()


@register
class LogCosh(Loss):
    r"""Log-cosh loss: like :math:`r^2/2` near zero and like :math:`|r| - \log 2` far away, smooth everywhere.

    Computed as :math:`\log(1 + 2\sinh^2(r/2))` for :math:`|r| < 1` (no cancellation) and as
    :math:`|r| + \operatorname{softplus}(-2|r|) - \log 2` beyond (no overflow, even at
    :math:`r = 10^4` in float32). Its second derivative :math:`\operatorname{sech}^2 r` is taken as
    :math:`4e / (1 + e)^2` with :math:`e = e^{-2|r|}`.

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
    )

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        small = abs_r < 1.0
        half = xp.where(small, r, xp.zeros_like(r)) * 0.5  # kept finite where unused, for autodiff
        near = xp.log1p(2.0 * xp.sinh(half) ** 2)
        far = abs_r + softplus(xp, -2.0 * abs_r) - math.log(2.0)
        hessian = None
        if order > 1:
            e = xp.exp(-2.0 * abs_r)
            hessian = 4.0 * e / ((1.0 + e) * (1.0 + e))
        return xp.where(small, near, far), xp.tanh(r), hessian


log_cosh = LogCosh.as_function()


@register
class Pinball(Loss):
    """Pinball (quantile) loss: fits the conditional ``quantile`` of the target.

    Under-predictions cost ``quantile`` per unit, over-predictions ``1 - quantile``; at 0.5 it is half
    the absolute error (the median). scikit-learn's ``mean_pinball_loss`` (whose ``alpha`` is this
    ``quantile``). Its second derivative is 0 almost everywhere, so ``grad_and_hessian`` gives 1, as
    scikit-learn's gradient boosting does. Fit one model per quantile; separately fitted quantiles
    can cross.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.pinball([2.0, 1.0], [0.5, 4.0], quantile=0.9, reduction="none").round(12).tolist()  # 0.9 * 1.5, 0.1 * 3
    [1.35, 0.3]
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
    )
    quantile = Param(0.5, open_unit_interval, "float in (0, 1)", "The quantile to fit.", example=0.9)

    def _math(self, xp, order, y_true, y_pred):
        q = self.quantile
        r = y_pred - y_true
        losses = xp.where(r < 0, -q * r, (1.0 - q) * r)
        slope = xp.where(r < 0, -q * xp.ones_like(r), xp.where(r > 0, (1.0 - q) * xp.ones_like(r), xp.zeros_like(r)))
        return losses, propagate_nan(xp, r, slope), 1.0

    def _optimal_constant(self, targets, weight):
        return weighted_quantile(targets[0], weight, self.quantile)

    def kinks(self):
        return (0.0,)


pinball = Pinball.as_function()
