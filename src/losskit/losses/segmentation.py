r"""Overlap losses for segmentation: one example is one whole sample (an image and its masks)."""

from __future__ import annotations

from .._base import Loss
from .._checks import PROBABILITIES, UNIT_TARGETS, non_negative
from .._info import LossInfo
from ..inputs import SAMPLE, prediction, target
from ..params import Param
from ..registry import register


@register
class Dice(Loss):
    r"""Soft Dice loss from probabilities, one value per sample: 1 minus the soft Dice coefficient.

    Every axis after the first belongs to one sample (pixels, and classes if there is a class axis),
    so ``sample_weight`` of shape (N,) weighs samples. With :math:`I = \sum p t`, :math:`P = \sum p`,
    :math:`T = \sum t` over a sample and :math:`s` = ``smooth``, the value is :math:`1 - (2I + s)/(P +
    T + s)`. Conventions differ: Optax's and segmentation_models_pytorch's ``smooth`` is half this
    one; Keras pools the whole batch unless given an ``axis``. An empty prediction against an empty
    mask costs 0.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.dice([[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.2, 0.7, 0.4]], smooth=0.0)), 6)  # 1 - 4 / 5.2
    0.230769
    """

    info = LossInfo(
        name="dice",
        aliases=("dice_loss", "soft_dice"),
        task="segmentation",
        variable="probability",
        formula="1 - (2 I + s) / (P + T + s), I = sum(p t), P = sum(p), T = sum(t) over a sample, s = smooth",
        gradient="-(2 t (P + T + s) - (2 I + s)) / (P + T + s)^2",
        hessian="2 (2 t (P + T + s) - (2 I + s)) / (P + T + s)^3",
        tags=("bounded", "differentiable"),
        summary="The overlap of a predicted mask with the true one, per sample: insensitive to how small the object is.",
        use_when="segmentation with small foreground objects, where per-pixel cross-entropy is dominated by the background",
        avoid_when="you need calibrated per-pixel probabilities, or masks are often empty (use smooth > 0, or add cross-entropy)",
        references=(
            "Dice, Measures of the amount of ecologic association between species, Ecology 26 (1945)",
            "Milletari et al., V-Net: fully convolutional neural networks for volumetric medical image segmentation, 3DV 2016",
        ),
    )
    inputs = (target("y_true", UNIT_TARGETS, event=SAMPLE), prediction("y_pred", PROBABILITIES, event=SAMPLE))
    smooth = Param(1.0, non_negative, "float >= 0", "Added to the numerator and the denominator of the overlap.",
                   example=0.0)  # fmt: skip

    def _math(self, xp, order, t, p):
        s = self.smooth
        numerator = 2.0 * xp.sum(p * t, axis=-1) + s
        denominator = xp.sum(p, axis=-1) + xp.sum(t, axis=-1) + s
        empty = denominator == 0  # both empty and no smoothing: a perfect match
        safe = xp.where(empty, xp.ones_like(denominator), denominator)
        losses = xp.where(empty, xp.zeros_like(denominator), 1.0 - numerator / safe)
        if order == 0:
            return (losses,)
        d, n = safe[..., None], numerator[..., None]
        grad = xp.where(empty[..., None], xp.zeros_like(p), -(2.0 * t * d - n) / (d * d))
        hessian = -2.0 * grad / d if order > 1 else None
        return losses, grad, hessian


dice = Dice.as_function()
