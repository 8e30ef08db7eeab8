r"""Overlap losses for segmentation: one example is one whole sample (an image and its masks).

Every overlap loss takes ``class_axis`` (None: one index over all the entries of a sample; an axis:
one index per class, then their mean) and ``pool`` ("sample": one value per sample, then the reduction;
"batch": one value over the whole batch, every sum pooled over the samples, as Keras's ``axis=None`` and
segmentation_models_pytorch's default do). Pooled, the examples share the sums (``batch_coupled``): the
loss of a sample is its share of the batch's errors, so that "sum" and "mean" both give the batch's
value, and a sample weight reweighs a sample's share. A class empty in both masks costs 0 (it still
counts in the mean over classes).
"""

from __future__ import annotations

from dataclasses import replace

from .._base import Loss
from .._checks import PROBABILITIES, UNIT_TARGETS, choice, non_negative, optional_integer, within
from .._info import LossInfo, Peer
from .._xp import device
from ..inputs import SAMPLE, prediction, target
from ..params import Param
from ..registry import register


def _tversky_terms(xp, order, t, p, alpha, beta, smooth):
    r"""``(1 - TI, gradient, Hessian diagonal)`` of the Tversky index :math:`TI = (TP + s) / (TP + \alpha FP + \beta FN + s)`
    over each row: :math:`\partial_i (1 - TI) = -(t_i D - N c_i) / D^2` with :math:`c_i = t_i + \alpha (1 - t_i) - \beta t_i`
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


def _power(xp, order, distance, g, h, k):
    """``distance^k`` with its gradient and Hessian from the distance's ``g`` and ``h`` (0 where the distance is 0)."""
    if k == 1.0:
        return distance, g, h
    away = distance > 0
    safe = xp.where(away, distance, xp.ones_like(distance))
    losses = xp.where(away, safe**k, xp.zeros_like(distance))
    if order == 0:
        return losses, None, None
    outer = xp.where(away, k * safe ** (k - 1.0), xp.zeros_like(distance))[..., None]
    return losses, outer * g, (outer * (h + (k - 1.0) * g * g / safe[..., None]) if order > 1 else None)


class _Overlap(Loss):
    """The shared part of the overlap losses: the class axis, the pooling and the layout of the math.

    ``_math`` sees ``(N, entries)`` arrays without a class axis and ``(N, entries, C)`` with one; both reach
    ``_per_sample(xp, order, t, p)`` and ``_pooled(xp, t, p)`` as ``(N, C, entries)``.
    """

    inputs = (target("y_true", UNIT_TARGETS, event=SAMPLE), prediction("y_pred", PROBABILITIES, event=SAMPLE))
    class_axis = Param(None, optional_integer, "int or None",
                       "The class axis of the masks (1 for (N, C, H, W), -1 for (N, H, W, C)): one index per class, "
                       "then their mean. None: one index over every entry of a sample.", example=1)
    pool = Param("sample", choice("sample", "batch"), '"sample" or "batch"',
                 "One value per sample, then the reduction; or one over the whole batch, its sums pooled over "
                 "the samples (each sample's loss is then its share of the batch's errors).", example="batch")  # fmt: skip

    @property
    def batch_coupled(self) -> bool:
        return self.pool == "batch"

    def _specialise(self, info: LossInfo) -> LossInfo:
        if self.pool == "sample":
            return info
        return replace(info, hessian_kind=None, hessian="not given: pooled over the batch, each sample's loss depends on "
                       "the others")  # fmt: skip

    def _counted_weight(self, xp, weight, t, p):
        if self.pool == "sample":
            return None
        share = xp.ones(t.shape[:1], dtype=p.dtype, device=device(p)) / t.shape[0]  # the mean is the batch's value
        return share if weight is None else weight * share

    def _math(self, xp, order, t, p):
        classes = self.class_axis is not None
        if not classes:
            t, p = t[..., None], p[..., None]
        t, p = xp.matrix_transpose(t), xp.matrix_transpose(p)  # (N, C, entries)
        if self.pool == "batch":
            losses, pullback = self._pooled(xp, t, p)
            return losses, lambda scale: _layout(xp, pullback(scale), classes)
        losses, g, h = self._per_sample(xp, order, t, p)
        return (losses, *(_layout(xp, d, classes) for d in (g, h) if d is not None))


def _layout(xp, derivative, classes):
    """A derivative in ``(N, C, entries)`` back in the layout ``_math`` was given."""
    derivative = xp.matrix_transpose(derivative)
    return derivative if classes else derivative[..., 0]


class _TverskyFamily(_Overlap):
    """Losses of the Tversky index, per class: ``(1 - TI)^k``, the mean over classes."""

    def _index(self):
        """``(alpha, beta, smooth, k)``."""
        raise NotImplementedError

    def _per_sample(self, xp, order, t, p):
        alpha, beta, smooth, k = self._index()
        distance, g, h = _power(xp, order, *_tversky_terms(xp, order, t, p, alpha, beta, smooth), k)
        classes = t.shape[1]
        return xp.mean(distance, axis=-1), *(None if d is None else d / classes for d in (g, h))

    def _pooled(self, xp, t, p):
        r"""Per class, with :math:`A_i` a sample's weighted errors :math:`\alpha FP + \beta FN`, :math:`A = \sum A_i` and
        :math:`D = \sum (TP_i + A_i) + s`: the value :math:`L = (A / D)^k`, sample i's share :math:`L A_i / A`. The
        gradient of :math:`\sum s_i L A_i / A = A^{k-1} D^{-k} B`, :math:`B = \sum s_i A_i`, through :math:`\partial A / \partial p
        = a = \alpha (1 - t) - \beta t`, :math:`\partial D / \partial p = t + a` and :math:`\partial B / \partial p = s_i a`."""
        alpha, beta, smooth, k = self._index()
        errors = alpha * xp.sum(p * (1.0 - t), axis=-1) + beta * xp.sum((1.0 - p) * t, axis=-1)  # (N, C)
        total = xp.sum(errors, axis=0)
        denominator = xp.sum(xp.sum(p * t, axis=-1) + errors, axis=0) + smooth
        live, wrong = denominator > 0, total > 0
        d = xp.where(live, denominator, xp.ones_like(denominator))
        a_total = xp.where(wrong, total, xp.ones_like(total))
        value = xp.where(live & wrong, (a_total / d) ** k, xp.zeros_like(total))
        share = xp.where(wrong, errors / a_total, xp.zeros_like(errors))
        classes = t.shape[1]
        losses = xp.mean(value * share, axis=-1)

        def pullback(scale):
            s = scale[:, None]
            b = xp.sum(s * errors, axis=0)
            power = xp.where(wrong, a_total ** (k - 1.0), xp.ones_like(total) if k == 1.0 else xp.zeros_like(total))
            lower = xp.where(wrong, a_total ** (k - 2.0), xp.zeros_like(total)) * (k - 1.0)
            by_total = (lower * d**-k * b)[:, None]
            by_denominator = (-k * power * d ** (-k - 1.0) * b)[:, None]
            own = (power * d**-k)[:, None]
            a = alpha * (1.0 - t) - beta * t
            grad = (by_total * a + by_denominator * (t + a) + own * s[..., None] * a) / classes
            return xp.where(live[:, None], grad, xp.zeros_like(grad))

        return losses, pullback


@register
class Dice(_TverskyFamily):
    r"""Soft Dice loss from probabilities, one value per sample: 1 minus the soft Dice coefficient.

    Every axis after the first belongs to one sample (pixels, and classes if there is a class axis),
    so ``sample_weight`` of shape (N,) weighs samples. With :math:`I = \sum p t`, :math:`P = \sum p`,
    :math:`T = \sum t` over a sample and :math:`s` = ``smooth``, the value is :math:`1 - (2I + s)/(P +
    T + s)`. With ``class_axis`` it is computed per class and averaged (MONAI's ``DiceLoss``); with
    ``pool="batch"`` the sums run over the whole batch (Keras's ``Dice``, MONAI's ``batch=True``).
    Conventions differ: Optax's and segmentation_models_pytorch's ``smooth`` is half this one. An empty
    prediction against an empty mask costs 0.

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
        peers=(
            Peer("Keras", "keras.losses.Dice", "over the whole batch by default (axis=None), 1e-7 in the denominator"),
            Peer("Optax", "optax.losses.dice_loss", "applies a softmax to its inputs by default (apply_softmax=True)"),
            Peer(
                "MONAI", "monai.losses.DiceLoss",
                "adds 1e-5 to the numerator and the denominator (smooth_nr, smooth_dr); losskit adds smooth = 1 "
                "to both",
            ),
        ),
    )
    smooth = Param(1.0, non_negative, "float >= 0", "Added to the numerator and the denominator of the overlap.",
                   example=0.0)  # fmt: skip

    def _index(self):
        # 1 - (2I + s) / (P + T + s) is the Tversky index at alpha = beta = 1/2 with s / 2
        return 0.5, 0.5, 0.5 * self.smooth, 1.0


dice = Dice.as_function()


_ALPHA = Param(0.5, non_negative, "float >= 0", "The weight of false positives.", example=0.3)
_BETA = Param(0.5, non_negative, "float >= 0", "The weight of false negatives.", example=0.7)
_SMOOTH = Param(0.0, non_negative, "float >= 0", "Added to the numerator and the denominator of the index.", example=1.0)


@register
class Tversky(_TverskyFamily):
    r"""Tversky loss from probabilities, one value per sample: :math:`1 - (TP + s) / (TP + \alpha FP + \beta FN + s)`.

    :math:`TP = \sum p t`, :math:`FP = \sum p (1 - t)`, :math:`FN = \sum (1 - p) t` over a sample (every axis after the
    first); ``alpha`` weighs false positives and ``beta`` false negatives (Salehi et al.): ``beta > alpha`` favours
    recall, for small structures. ``alpha = beta = 1/2`` is Dice (with ``smooth`` half of ``dice``'s), ``1`` Jaccard.
    Optax's ``dice_loss(alpha, beta, smooth)`` on the logits, MONAI's ``TverskyLoss``; Keras 3.15's ``Tversky`` swaps
    the two. Both masks empty costs 0.

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
        peers=(
            Peer("Keras", "keras.losses.Tversky", "Keras 3.15.1 swaps alpha and beta against its own documentation"),
            Peer(
                "MONAI", "monai.losses.TverskyLoss",
                "adds 1e-5 to the numerator and the denominator (smooth_nr, smooth_dr)",
            ),
        ),
    )  # fmt: skip
    alpha = _ALPHA
    beta = _BETA
    smooth = _SMOOTH

    def _index(self):
        return self.alpha, self.beta, self.smooth, 1.0


tversky = Tversky.as_function()


@register
class Jaccard(_TverskyFamily):
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
    smooth = _SMOOTH

    def _index(self):
        return 1.0, 1.0, self.smooth, 1.0


jaccard = Jaccard.as_function()


@register
class FocalTversky(_TverskyFamily):
    r"""Focal Tversky loss from probabilities, one value per sample: :math:`(1 - TI)^{1/\gamma}`, TI ``tversky``'s index.

    Abraham and Khan's form with their ``gamma`` (segmentation_models_pytorch's ``gamma`` is its inverse):
    ``gamma > 1`` raises the loss of samples segmented fairly well, focusing training on them. With a class
    axis the power is taken per class, then the mean (the paper sums over classes). At a perfect sample
    (TI = 1) the slope is infinite for ``gamma > 1``: there the gradient and Hessian are 0, the minimum's
    subgradient.

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
    alpha = Param(0.3, non_negative, "float >= 0", "The weight of false positives.", example=0.5)
    beta = Param(0.7, non_negative, "float >= 0", "The weight of false negatives.", example=0.5)
    gamma = Param(4.0 / 3.0, within(1.0, 3.0), "float in [1, 3]",
                  "The paper's focusing exponent: the loss is (1 - TI)^(1 / gamma).", example=2.0)  # fmt: skip
    smooth = _SMOOTH

    def _index(self):
        return self.alpha, self.beta, self.smooth, 1.0 / self.gamma


focal_tversky = FocalTversky.as_function()


@register
class GeneralizedDice(_Overlap):
    r"""Generalised Dice loss (Sudre et al.): Dice pooled over classes, each weighted by the inverse of its squared volume.

    :math:`1 - (2 \sum_c w_c I_c + s) / (\sum_c w_c (P_c + T_c) + s)`, :math:`w_c = 1 / T_c^2` with :math:`T_c` the
    class's target volume in the sample (or, with ``pool="batch"``, in the batch), so that a small class weighs as
    much as a large one. A class absent from the target takes the largest weight of the present ones (MONAI's
    rule); with no class present every weight is 1. Needs ``class_axis`` to see classes (without one it is Dice).

    Examples
    --------
    >>> import losskit as lk
    >>> masks = [[[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]]          # (N, C, pixels): 3 and 1 pixels
    >>> probs = [[[0.9, 0.8, 0.6, 0.1], [0.1, 0.2, 0.4, 0.9]]]
    >>> round(float(lk.generalized_dice(masks, probs, class_axis=1)), 6)  # w = (1/9, 1): 1 - 2 (2.3/9 + .9) / (5.4/9 + 2.6)
    0.277778
    """

    info = LossInfo(
        name="generalized_dice",
        aliases=("generalised_dice", "generalized_dice_loss", "gdl"),
        task="segmentation",
        variable="probability",
        formula="1 - (2 sum_c w_c I_c + s) / (sum_c w_c (P_c + T_c) + s), w_c = 1 / T_c^2",
        gradient="-w_c (2 t D - N) / D^2, N and D the numerator and the denominator",
        hessian="-2 w_c g / D, g the gradient",
        tags=("bounded", "differentiable"),
        summary="Dice over classes weighted by inverse squared volume: small classes count as much as large ones.",
        use_when="multi-class segmentation where some classes are far smaller than others",
        avoid_when="a class is often absent from the target (its weight is borrowed), or classes are of similar size",
        references=("Sudre et al., Generalised Dice overlap as a deep learning loss function for highly unbalanced "
                    "segmentations, DLMIA 2017", "MONAI, monai.losses.GeneralizedDiceLoss"),
        peers=(
            Peer(
                "MONAI", "monai.losses.GeneralizedDiceLoss",
                "adds 1e-5 to the numerator and the denominator (smooth_nr, smooth_dr)",
            ),
        ),
    )  # fmt: skip
    smooth = _SMOOTH

    @staticmethod
    def _weights(xp, volume):
        """``1 / volume^2``, absent classes at the largest weight of the present ones (1 with none present)."""
        present = volume > 0
        w = xp.where(present, 1.0 / xp.where(present, volume, xp.ones_like(volume)) ** 2, xp.zeros_like(volume))
        top = xp.max(w, axis=-1, keepdims=True)
        return xp.where(present, w, xp.where(top > 0, top, xp.ones_like(top)))

    def _per_sample(self, xp, order, t, p):
        w = self._weights(xp, xp.sum(t, axis=-1))  # (N, C)
        numerator = 2.0 * xp.sum(w * xp.sum(p * t, axis=-1), axis=-1) + self.smooth
        denominator = xp.sum(w * xp.sum(p + t, axis=-1), axis=-1) + self.smooth
        empty = denominator == 0
        d = xp.where(empty, xp.ones_like(denominator), denominator)
        losses = xp.where(empty, xp.zeros_like(denominator), 1.0 - numerator / d)
        if order == 0:
            return losses, None, None
        d3, n3, w3 = d[:, None, None], numerator[:, None, None], w[..., None]
        grad = xp.where(empty[:, None, None], xp.zeros_like(p), -w3 * (2.0 * t * d3 - n3) / (d3 * d3))
        return losses, grad, (-2.0 * w3 * grad / d3 if order > 1 else None)

    def _pooled(self, xp, t, p):
        r"""With batch weights :math:`w_c` and :math:`D = \sum_c w_c (P_c + T_c) + s` over the batch, the loss is
        :math:`\sum_i E_i / D`, :math:`E_i = \sum_c w_c (P_{ic} + T_{ic} - 2 I_{ic})` sample i's share."""
        w = self._weights(xp, xp.sum(xp.sum(t, axis=-1), axis=0))[None, :, None]  # (1, C, 1)
        errors = xp.sum(xp.sum(w * (p + t - 2.0 * p * t), axis=-1), axis=-1)  # (N,)
        denominator = xp.sum(w * (p + t)) + self.smooth
        live = denominator > 0
        d = xp.where(live, denominator, xp.ones_like(denominator))
        losses = xp.where(live, errors / d, xp.zeros_like(errors))

        def pullback(scale):
            s = scale[:, None, None]
            grad = s * w * (1.0 - 2.0 * t) / d - xp.sum(scale * errors) * w / (d * d)
            return xp.where(live, grad, xp.zeros_like(grad))

        return losses, pullback


generalized_dice = GeneralizedDice.as_function()
