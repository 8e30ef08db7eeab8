r"""Robust regression losses: quadratic near zero, linear (bounded influence) far from it."""

from __future__ import annotations

import math

from .._base import Loss
from .._checks import positive
from .._info import LossInfo
from ..numerics import softplus
from ..registry import register


@register
class Huber(Loss):
    r"""Huber loss: :math:`\ell = r^2/2` for :math:`|r| \le \delta`, :math:`\delta(|r| - \delta/2)` beyond.

    :math:`\partial\ell/\partial\hat y = \operatorname{clip}(r, -\delta, \delta)`, with
    :math:`r = \hat y - y` (PyTorch's ``HuberLoss``, Keras's ``Huber``).

    Parameters
    ----------
    delta : float > 0, default 1.0
        Where the quadratic part ends. 1.345 times the noise scale gives 95% efficiency under
        Gaussian noise.
    reduction : {"mean", "sum", "none"}, default "mean"

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
        input_space="values",
        target="real numbers",
        activation="identity",
        likelihood="Gaussian centre with Laplace tails (Huber's least favourable distribution)",
        variable="residual",
        formula="r^2 / 2 if |r| <= delta else delta (|r| - delta / 2), r = y_pred - y_true",
        gradient="clip(r, -delta, delta)",
        robust=True,
        summary="MSE for small residuals, MAE for large ones: efficient on clean data, robust to outliers.",
        use_when="regression with some outliers: quadratic (efficient) for small residuals, linear (robust) beyond delta",
        avoid_when="you cannot choose delta: it should be about 1.345 noise standard deviations; or you need second derivatives",
        references=("Huber, Robust Estimation of a Location Parameter, Ann. Math. Stat. 35 (1964)",),
    )

    def __init__(self, *, delta: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.delta = positive(self.info.name, "delta", delta)

    def _losses_and_derivative(self, xp, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        quadratic = abs_r <= self.delta
        losses = xp.where(quadratic, 0.5 * r * r, self.delta * (abs_r - 0.5 * self.delta))
        return losses, xp.clip(r, -self.delta, self.delta)

    def kinks(self):
        # The loss is differentiable, but its second derivative jumps at +-delta.
        return (-self.delta, self.delta)


huber = Huber.as_function()


@register
class PseudoHuber(Loss):
    r"""Pseudo-Huber loss: :math:`\ell = \delta^2 (\sqrt{1 + (r/\delta)^2} - 1)`, smooth everywhere.

    :math:`\partial\ell/\partial\hat y = r / \sqrt{1 + (r/\delta)^2}`. With :math:`x = r/\delta`,
    computed as :math:`\delta^2 x^2 / (\sqrt{1 + x^2} + 1)` for :math:`|x| \le 1` (no cancellation)
    and as :math:`\delta^2(\sqrt{1 + x^2} - 1)` beyond (no overflow).

    Parameters
    ----------
    delta : float > 0, default 1.0
        The scale where the loss turns from quadratic to linear.
    reduction : {"mean", "sum", "none"}, default "mean"

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
        input_space="values",
        target="real numbers",
        activation="identity",
        variable="residual",
        formula="delta^2 (sqrt(1 + (r / delta)^2) - 1), r = y_pred - y_true",
        gradient="r / sqrt(1 + (r / delta)^2)",
        robust=True,
        summary="A smooth Huber: quadratic near zero, linear with slope delta far away, every derivative continuous.",
        use_when="you want Huber's robustness with derivatives of every order (e.g. second-order optimisers)",
        avoid_when="the data are clean and Gaussian (mse is simpler) or you cannot choose delta",
        references=(
            "Charbonnier et al., Deterministic edge-preserving regularization in computed imaging, IEEE TIP 6 (1997)",
            "Hartley and Zisserman, Multiple View Geometry, 2nd ed. (2004), appendix A6.8",
        ),
    )

    def __init__(self, *, delta: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.delta = positive(self.info.name, "delta", delta)

    def _losses_and_derivative(self, xp, y_true, y_pred):
        r = y_pred - y_true
        x = r / self.delta
        one = xp.ones_like(x)
        root = xp.hypot(one, x)
        far = xp.abs(x) > 1.0
        near_x = xp.where(far, xp.zeros_like(x), x)  # kept small where unused, for autodiff
        near = near_x * near_x / (xp.hypot(one, near_x) + 1.0)
        losses = self.delta**2 * xp.where(far, root - 1.0, near)
        slope = xp.where(xp.isinf(x), self.delta * xp.sign(x), r / xp.where(xp.isinf(x), one, root))
        return losses, slope


pseudo_huber = PseudoHuber.as_function()


@register
class LogCosh(Loss):
    r"""Log-cosh loss: :math:`\ell = \log\cosh r`, :math:`\partial\ell/\partial\hat y = \tanh r`.

    Computed as :math:`\log(1 + 2\sinh^2(r/2))` for :math:`|r| < 1` (no cancellation) and as
    :math:`|r| + \operatorname{softplus}(-2|r|) - \log 2` beyond (no overflow, even at
    :math:`r = 10^4` in float32).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

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
        input_space="values",
        target="real numbers",
        activation="identity",
        likelihood="hyperbolic secant distribution",
        variable="residual",
        formula="log(cosh(y_pred - y_true))",
        gradient="tanh(y_pred - y_true)",
        robust=True,
        summary="Behaves like r^2/2 near zero and like |r| far away, and is twice differentiable everywhere.",
        use_when="you want a smooth, parameter-free robust loss: r^2/2 near zero, |r| - log 2 far away",
        avoid_when="residuals are on a very small or very large scale: its switch point is fixed at |r| ~ 1, so scale the target",
        references=("Chen et al., Log hyperbolic cosine loss improves variational auto-encoder, 2019",),
    )

    def _losses_and_derivative(self, xp, y_true, y_pred):
        r = y_pred - y_true
        abs_r = xp.abs(r)
        small = abs_r < 1.0
        half = xp.where(small, r, xp.zeros_like(r)) * 0.5  # kept finite where unused, for autodiff
        near = xp.log1p(2.0 * xp.sinh(half) ** 2)
        far = abs_r + softplus(xp, -2.0 * abs_r) - math.log(2.0)
        return xp.where(small, near, far), xp.tanh(r)


log_cosh = LogCosh.as_function()
