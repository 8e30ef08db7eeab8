r"""Binary classification losses: margin losses on scores, cross-entropy on probabilities or logits."""

from __future__ import annotations

import numpy as np

from .._base import Loss
from .._checks import PROBABILITIES, UNIT_TARGETS, OneOf, unit_interval, weights
from .._info import LossInfo
from .._optimal import clipped, weighted_mean
from ..errors import InputError
from ..inputs import prediction, target
from ..links import LOGIT
from ..numerics import clamped_log, clamped_log1m, propagate_nan, sigmoid, softplus
from ..params import Param, as_array
from ..registry import register

SIGNED_LABELS = OneOf("labels in {-1, +1} or {0, 1} (0 is read as -1)", values=(-1.0, 0.0, 1.0))
MARGIN_INPUTS = (target("y_true", SIGNED_LABELS), prediction("y_pred"))


def _signed(xp, y_true):
    """Labels in {-1, +1}: 0 is read as -1, elementwise."""
    return xp.where(y_true == 0, -xp.ones_like(y_true), y_true)


@register
class Hinge(Loss):
    """Hinge loss: the support vector machine loss, zero once a point is classified with margin 1.

    Labels 0 are read as -1. ``y_pred`` is a raw score (a linear output), not a probability. Its
    second derivative is 0 almost everywhere, so ``grad_and_hessian`` gives 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.hinge([1, 0, 1], [2.0, -0.5, 0.25], reduction="none").tolist()
    [0.0, 0.5, 0.75]
    """

    info = LossInfo(
        name="hinge",
        task="binary",
        variable="margin",
        formula="max(0, 1 - t y_pred), t in {-1, +1}",
        gradient="-t if t y_pred < 1 else 0",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="The support vector machine loss: zero once a point is classified with margin 1.",
        use_when="you want a max-margin classifier (SVM) and need decisions, not probabilities",
        avoid_when="you need calibrated probabilities, or a smooth objective",
        references=("Cortes and Vapnik, Support-vector networks, Machine Learning 20 (1995)",),
    )
    inputs = MARGIN_INPUTS

    def _math(self, xp, order, y_true, y_pred):
        t = _signed(xp, y_true)
        slack = 1.0 - t * y_pred
        slope = propagate_nan(xp, slack, xp.where(slack > 0, -t, xp.zeros_like(t)))
        # max(slack, 0) through a where, so that autodiff too sees slope 0 at the kink (slack = 0)
        return propagate_nan(xp, slack, xp.where(slack > 0, slack, xp.zeros_like(slack))), slope, 1.0

    def kinks(self):
        return (1.0,)


hinge = Hinge.as_function()


@register
class SquaredHinge(Loss):
    """Squared hinge loss: a differentiable hinge (the L2-SVM loss) that penalises violations quadratically.

    Labels 0 are read as -1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.squared_hinge([1, -1], [0.5, 0.5], reduction="none").tolist()
    [0.25, 2.25]
    """

    info = LossInfo(
        name="squared_hinge",
        task="binary",
        variable="margin",
        formula="max(0, 1 - t y_pred)^2, t in {-1, +1}",
        gradient="-2 t max(0, 1 - t y_pred)",
        hessian="2 if t y_pred < 1 else 0",
        tags=("convex", "differentiable"),
        summary="A differentiable hinge (the L2-SVM loss): penalises margin violations quadratically.",
        use_when="a max-margin classifier with a differentiable loss (L2-SVM)",
        avoid_when="you need probabilities, or the data has label noise (the square amplifies violations)",
        references=("Lee and Mangasarian, SSVM: a smooth support vector machine, Comput. Optim. Appl. 20 (2001)",),
    )
    inputs = MARGIN_INPUTS

    def _math(self, xp, order, y_true, y_pred):
        t = _signed(xp, y_true)
        slack = xp.clip(1.0 - t * y_pred, 0.0, None)
        hessian = propagate_nan(xp, slack, 2.0 * xp.astype(slack > 0, slack.dtype)) if order > 1 else None
        return slack * slack, -2.0 * t * slack, hessian

    def kinks(self):
        # Differentiable, but the second derivative jumps at margin 1.
        return (1.0,)


squared_hinge = SquaredHinge.as_function()


@register
class BinaryCrossEntropy(Loss):
    """Binary cross-entropy from probabilities: the Bernoulli negative log-likelihood.

    Each log is clamped at -100 (PyTorch's rule), so probabilities of exactly 0 or 1 give a finite
    value, and a clamped term has derivatives 0. Targets may be soft (any value in [0, 1]). For
    logits use ``sigmoid_cross_entropy``: it is exact where this one clamps.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.binary_cross_entropy([1.0, 0.0], [0.8, 0.2])), 6)  # -log 0.8
    0.223144
    """

    info = LossInfo(
        name="binary_cross_entropy",
        aliases=("bce", "log_loss", "binary_crossentropy", "bce_loss"),
        task="binary",
        likelihood="Bernoulli",
        variable="probability",
        formula="-(y log p + (1 - y) log(1 - p)), each log clamped at -100",
        gradient="-y / p + (1 - y) / (1 - p)",
        hessian="y / p^2 + (1 - y) / (1 - p)^2",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="sigmoid_cross_entropy",
        summary="The log-loss of predicted probabilities; prefer sigmoid_cross_entropy on logits for stability.",
        use_when="the model already outputs probabilities (a sigmoid layer you cannot remove)",
        avoid_when="you have logits: sigmoid_cross_entropy is exact where this one clamps at log = -100",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
    )
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", PROBABILITIES))

    def _math(self, xp, order, y_true, p):
        (log_p, kept), (log_1mp, kept_1m) = clamped_log(xp, p), clamped_log1m(xp, p)
        y, one = y_true, xp.ones_like(p)
        losses = -(y * log_p + (1.0 - y) * log_1mp)
        safe_p, safe_q = xp.where(kept, p, one), xp.where(kept_1m, 1.0 - p, one)
        zero = xp.zeros_like(p)
        d_pos = xp.where(kept, -y / safe_p, zero)
        d_neg = xp.where(kept_1m, (1.0 - y) / safe_q, zero)
        hessian = None
        if order > 1:
            hessian = xp.where(kept, y / (safe_p * safe_p), zero) + xp.where(kept_1m, (1.0 - y) / (safe_q * safe_q), zero)
            hessian = propagate_nan(xp, p, hessian)
        return losses, propagate_nan(xp, p, d_pos + d_neg), hessian

    def _optimal_constant(self, targets, weight):
        return weighted_mean(targets[0], weight)


binary_cross_entropy = BinaryCrossEntropy.as_function()


def _check_pos_weight(loss, pos_weight, z) -> None:
    shape, against = tuple(pos_weight.shape), tuple(z.shape)
    if len(shape) > len(against) or any(a not in (1, b) for a, b in zip(shape[::-1], against[::-1])):
        raise InputError(
            f"{loss.info.name}: pos_weight of shape {shape} does not broadcast against y_pred of shape {against}; "
            "give one weight per label, along the last axis (PyTorch's pos_weight)."
        )


@register
class SigmoidCrossEntropy(Loss):
    r"""Binary cross-entropy from logits: the Bernoulli negative log-likelihood, exact for any logit.

    Computed with softplus, so logits of :math:`\pm\infty` give their limits. Without ``pos_weight``
    the gradient is :math:`\sigma(z) - y`. With label smoothing :math:`\varepsilon` the targets become
    :math:`y(1-\varepsilon) + \varepsilon/2`. ``pos_weight`` may be one number or one weight per label
    (broadcast along the last axis, as PyTorch's ``binary_cross_entropy_with_logits``).

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.sigmoid_cross_entropy([1.0], [0.0])), 6)  # log 2
    0.693147
    >>> lk.SigmoidCrossEntropy().grad([1.0, 0.0], [0.0, 0.0]).tolist()  # (sigmoid(0) - y) / 2
    [-0.25, 0.25]
    >>> lk.sigmoid_cross_entropy([[1.0, 0.0]], [[0.0, 0.0]], pos_weight=[3.0, 1.0], reduction="none").tolist()
    [[2.0794415416798357, 0.6931471805599453]]
    """

    info = LossInfo(
        name="sigmoid_cross_entropy",
        aliases=("bce_with_logits", "binary_cross_entropy_with_logits", "sigmoid_binary_cross_entropy",
                 "bce_with_logits_loss"),
        task="binary",
        likelihood="Bernoulli",
        variable="logit",
        formula="pos_weight y softplus(-z) + (1 - y) softplus(z)",
        gradient="(1 - y) sigmoid(z) - pos_weight y sigmoid(-z)",
        hessian="(1 - y + pos_weight y) sigmoid(z) sigmoid(-z)",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="binary_cross_entropy",
        summary="The standard binary classification loss: Bernoulli log-likelihood of a logit, exact for any logit.",
        use_when="binary or multi-label classification from logits; the maximum-likelihood choice, with pos_weight for imbalance",
        avoid_when="the model output already went through a sigmoid (that would apply it twice)",
        references=(
            "Cox, The regression analysis of binary sequences, J. R. Stat. Soc. B 20 (1958)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
    )
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", link=LOGIT))
    pos_weight = Param(
        1.0,
        lambda loss, name, value: weights(loss, name, value, allow_scalar=True, optional=False),
        "float > 0 or one weight per label",
        "Weight of the positive term (PyTorch's pos_weight): about n_negative / n_positive for imbalanced classes.",
        example=3.0,
    )
    label_smoothing = Param(0.0, unit_interval, "float in [0, 1]", "Moves the targets towards 1/2.", example=0.1)

    def _specialise(self, info):
        # Weighted or smoothed targets move the best prediction away from the targets' own frequency.
        return info.without("proper_scoring_rule") if self.pos_weight != 1.0 or self.label_smoothing else info

    def _math(self, xp, order, y_true, z):
        pos_weight = as_array(self, xp, "pos_weight", z)
        if hasattr(pos_weight, "shape"):
            _check_pos_weight(self, pos_weight, z)
        y = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        positive_part, negative_part = pos_weight * y, 1.0 - y
        zero = xp.zeros_like(z)
        # A zero coefficient drops its term, so an infinite logit on the right side costs 0, not NaN.
        losses = xp.where(positive_part == 0, zero, positive_part * softplus(xp, -z)) + xp.where(
            negative_part == 0, zero, negative_part * softplus(xp, z)
        )
        up, down = sigmoid(xp, z), sigmoid(xp, -z)
        hessian = (positive_part + negative_part) * up * down if order > 1 else None
        return losses, negative_part * up - positive_part * down, hessian

    def _optimal_constant(self, targets, weight):
        if isinstance(self.pos_weight, tuple):
            return super()._optimal_constant(targets, weight)
        eps = self.label_smoothing
        m = weighted_mean(targets[0] * (1.0 - eps) + 0.5 * eps, weight)
        p = clipped(self.pos_weight * m / (self.pos_weight * m + 1.0 - m))
        return np.log(p) - np.log1p(-p)


sigmoid_cross_entropy = SigmoidCrossEntropy.as_function()
