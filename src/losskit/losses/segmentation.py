r"""Overlap losses for segmentation: one example is one whole sample (an image and its masks)."""

from __future__ import annotations

from .._base import Loss
from .._checks import PROBABILITIES, UNIT_TARGETS, non_negative, within
from .._info import LossInfo
from ..inputs import SAMPLE, prediction, target
from ..params import Param
from ..registry import register


def _tversky_terms(xp, order, t, p, alpha, beta, smooth):
    r"""``(1 - TI, gradient, Hessian diagonal)`` of the Tversky index :math:`TI = (TP + s) / (TP + \alpha FP + \beta FN + s)`
    over each sample: :math:`\partial_i (1 - TI) = -(t_i D - N c_i) / D^2` with :math:`c_i = t_i + \alpha (1 - t_i) - \beta t_i`
    and :math:`\partial_{ii} = -2 c_i \partial_i / D`. Both empty (D = 0, no smoothing): a perfect match, 0 and no slope."""
    tp = xp.sum(p * t, axis=-1)
    numerator = tp + smooth
    denominator = tp + alpha * (xp.sum(p, axis=-1) - tp) + beta * (xp.sum(t, axis=-1) - tp) + smooth
    empty = denominator == 0
    safe = xp.where(empty, xp.ones_like(denominator), denominator)
    distance = xp.where(empty, xp.zeros_like(denominator), 1.0 - numerator / safe)
    if order == 0:
        return distance, None, None
    d, n = safe[..., None], numerator[..., None]
    c = t + alpha * (1.0 - t) - beta * t
    grad = xp.where(empty[..., None], xp.zeros_like(p), -(t * d - n * c) / (d * d))
    return distance, grad, (-2.0 * c * grad / d if order > 1 else None)


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
        # 1 - (2I + s) / (P + T + s) is the Tversky index at alpha = beta = 1/2 with s / 2
        return _tversky_terms(xp, order, t, p, 0.5, 0.5, 0.5 * self.smooth)


dice = Dice.as_function()


_OVERLAP_INPUTS = Dice.inputs
_ALPHA = Param(0.5, non_negative, "float >= 0", "The weight of false positives.", example=0.3)
_BETA = Param(0.5, non_negative, "float >= 0", "The weight of false negatives.", example=0.7)
_SMOOTH = Param(0.0, non_negative, "float >= 0", "Added to the numerator and the denominator of the index.", example=1.0)


@register
class Tversky(Loss):
    r"""Tversky loss from probabilities, one value per sample: :math:`1 - (TP + s) / (TP + \alpha FP + \beta FN + s)`.

    :math:`TP = \sum p t`, :math:`FP = \sum p (1 - t)`, :math:`FN = \sum (1 - p) t` over a sample (every axis after the
    first); ``alpha`` weighs false positives and ``beta`` false negatives (Salehi et al.): ``beta > alpha`` favours
    recall, for small structures. ``alpha = beta = 1/2`` is Dice (with ``smooth`` half of ``dice``'s), ``1`` Jaccard.
    Optax's ``dice_loss(alpha, beta, smooth)`` on the logits; Keras 3.15's ``Tversky`` swaps the two. Both masks
    empty costs 0.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.tversky([[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.2, 0.7, 0.4]], alpha=0.3, beta=0.7)), 6)
    0.275362
    """

    info = LossInfo(
        name="tversky",
        aliases=("tversky_loss",),
        task="segmentation",
        variable="probability",
        formula="1 - (TP + s) / (TP + alpha FP + beta FN + s) over a sample, TP = sum(p t), FP = sum(p (1 - t)), "
                "FN = sum((1 - p) t)",
        gradient="-(t D - N c) / D^2, N and D the numerator and the denominator, c = t + alpha (1 - t) - beta t",
        hessian="-2 c g / D, g the gradient",
        tags=("bounded", "differentiable"),
        summary="Dice with separate weights for false positives and false negatives: trade precision for recall.",
        use_when="segmentation of small or thin structures where missing foreground costs more (beta > alpha)",
        avoid_when="you need calibrated per-pixel probabilities (add cross-entropy, or use it alone)",
        references=("Salehi, Erdogmus and Gholipour, Tversky loss function for image segmentation using 3D fully "
                    "convolutional deep networks, MLMI 2017", "Optax, optax.losses.dice_loss"),
    )  # fmt: skip
    inputs = _OVERLAP_INPUTS
    alpha = _ALPHA
    beta = _BETA
    smooth = _SMOOTH

    def _math(self, xp, order, t, p):
        return _tversky_terms(xp, order, t, p, self.alpha, self.beta, self.smooth)


tversky = Tversky.as_function()


@register
class Jaccard(Loss):
    r"""Soft Jaccard (IoU) loss from probabilities, one value per sample: :math:`1 - (I + s) / (P + T - I + s)`.

    ``tversky`` at ``alpha = beta = 1``: the soft intersection over the soft union. Its value is
    :math:`D / (2 - D)` of Dice's; it punishes a poor overlap harder. Both masks empty costs 0.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.jaccard([[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.2, 0.7, 0.4]])), 6)
    0.375
    """

    info = LossInfo(
        name="jaccard",
        aliases=("jaccard_loss", "soft_jaccard", "iou_loss", "soft_iou"),
        task="segmentation",
        variable="probability",
        formula="1 - (I + s) / (P + T - I + s), I = sum(p t), P = sum(p), T = sum(t) over a sample",
        gradient="-(t U - (I + s)(1 - t)) / U^2, U = P + T - I + s",
        hessian="-2 (1 - t) g / U, g the gradient",
        tags=("bounded", "differentiable"),
        summary="One minus the soft intersection over union of a predicted mask and the true one, per sample.",
        use_when="segmentation scored by IoU, with small foreground objects",
        avoid_when="you need calibrated per-pixel probabilities",
        references=("Rahman and Wang, Optimizing intersection-over-union in deep neural networks for image "
                    "segmentation, ISVC 2016",),
    )  # fmt: skip
    inputs = _OVERLAP_INPUTS
    smooth = _SMOOTH

    def _math(self, xp, order, t, p):
        return _tversky_terms(xp, order, t, p, 1.0, 1.0, self.smooth)


jaccard = Jaccard.as_function()


@register
class FocalTversky(Loss):
    r"""Focal Tversky loss from probabilities, one value per sample: :math:`(1 - TI)^{1/\gamma}`, TI ``tversky``'s index.

    Abraham and Khan's form with their ``gamma`` (segmentation_models_pytorch's ``gamma`` is its inverse):
    ``gamma > 1`` raises the loss of samples segmented fairly well, focusing training on them. At a perfect
    sample (TI = 1) the slope is infinite for ``gamma > 1``: there the gradient and Hessian are 0, the
    minimum's subgradient.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.focal_tversky([[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.2, 0.7, 0.4]])), 6)
    0.380127
    """

    info = LossInfo(
        name="focal_tversky",
        aliases=("focal_tversky_loss",),
        task="segmentation",
        variable="probability",
        formula="(1 - TI)^(1 / gamma), TI = (TP + s) / (TP + alpha FP + beta FN + s) over a sample",
        gradient="(1 / gamma) (1 - TI)^(1 / gamma - 1) g, g the gradient of tversky (0 where TI = 1)",
        hessian="(1 / gamma) (1 - TI)^(1 / gamma - 1) (h + (1 / gamma - 1) g^2 / (1 - TI)), h tversky's (0 where TI = 1)",
        tags=("bounded",),
        summary="The Tversky loss raised to 1 / gamma: more weight on the samples already segmented fairly well.",
        use_when="small-lesion segmentation where the Tversky loss plateaus on hard samples",
        avoid_when="you need calibrated per-pixel probabilities, or a loss smooth at a perfect match",
        references=("Abraham and Khan, A novel focal Tversky loss function with improved attention U-Net for lesion "
                    "segmentation, ISBI 2019",),
    )  # fmt: skip
    inputs = _OVERLAP_INPUTS
    alpha = Param(0.3, non_negative, "float >= 0", "The weight of false positives.", example=0.5)
    beta = Param(0.7, non_negative, "float >= 0", "The weight of false negatives.", example=0.5)
    gamma = Param(4.0 / 3.0, within(1.0, 3.0), "float in [1, 3]",
                  "The paper's focusing exponent: the loss is (1 - TI)^(1 / gamma).", example=2.0)  # fmt: skip
    smooth = _SMOOTH

    def _math(self, xp, order, t, p):
        distance, g, h = _tversky_terms(xp, order, t, p, self.alpha, self.beta, self.smooth)
        k = 1.0 / self.gamma
        away = distance > 0
        safe = xp.where(away, distance, xp.ones_like(distance))
        losses = xp.where(away, safe**k, xp.zeros_like(distance))
        if order == 0:
            return (losses,)
        outer = xp.where(away, k * safe ** (k - 1.0), xp.zeros_like(distance))[..., None]
        hessian = None
        if order > 1:
            hessian = outer * (h + (k - 1.0) * g * g / safe[..., None])
        return losses, outer * g, hessian


focal_tversky = FocalTversky.as_function()
