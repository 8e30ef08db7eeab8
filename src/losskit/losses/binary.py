r"""Binary classification losses: margin losses on scores, cross-entropy on probabilities or logits."""

from __future__ import annotations

import math

import numpy as np

from .._base import Loss
from .._checks import PROBABILITIES, UNIT_TARGETS, OneOf, non_negative, positive, unit_interval, weights
from .._info import LossInfo, Peer
from .._optimal import clipped, numeric_constant, weighted_mean
from ..errors import InputError
from ..inputs import prediction, target
from ..links import LOGIT
from ..numerics import clamped_log, clamped_log1m, logistic_pieces, propagate_nan, sigmoid, softplus
from ..params import Param, as_array
from ..registry import register

SIGNED_LABELS = OneOf("labels in {-1, +1} or {0, 1} (0 is read as -1)", values=(-1.0, 0.0, 1.0))
MARGIN_INPUTS = (target("y_true", SIGNED_LABELS), prediction("y_pred"))


def _signed(xp, y_true):
    """Labels in {-1, +1}: 0 is read as -1, elementwise."""
    return xp.where(y_true == 0, -xp.ones_like(y_true), y_true)


def positive_share(targets, weight) -> float:
    """The weighted share of the label +1 among labels in {-1, +1} (0 read as -1), from NumPy targets."""
    return float(weighted_mean((_signed(np, targets[0]) + 1.0) / 2.0, weight))


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
        peers=(
            Peer("Keras", "keras.losses.Hinge", "turns labels 0/1 into -1/+1"),
            Peer("Optax", "optax.losses.hinge_loss", "no reduction"),
            Peer("scikit-learn", "sklearn.metrics.hinge_loss"),
        ),
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
        peers=(
            Peer("Keras", "keras.losses.SquaredHinge", "turns labels 0/1 into -1/+1"),
        ),
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
        peers=(
            Peer("PyTorch", "torch.nn.functional.binary_cross_entropy", "the same clamp of the log at -100"),
            Peer(
                "Keras", "keras.losses.BinaryCrossentropy",
                "clips probabilities to [1e-7, 1 - 1e-7]: a confident wrong answer costs about 16, not 100",
            ),
            Peer("scikit-learn", "sklearn.metrics.log_loss", "clips probabilities at the dtype's epsilon"),
        ),
    )
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", PROBABILITIES))

    def _math(self, xp, order, y_true, p):
        autodiff = order == 0  # at higher orders the gradient is given: each log is taken once
        (log_p, kept), (log_1mp, kept_1m) = clamped_log(xp, p, autodiff), clamped_log1m(xp, p, autodiff)
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
        peers=(
            Peer("PyTorch", "torch.nn.functional.binary_cross_entropy_with_logits", "the same pos_weight"),
            Peer("Keras", "keras.losses.BinaryCrossentropy", "from_logits=True"),
            Peer("Optax", "optax.losses.sigmoid_binary_cross_entropy", "no reduction"),
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
        eps = self.label_smoothing
        y = y_true * (1.0 - eps) + 0.5 * eps if eps else y_true
        positive_part, negative_part = (y if isinstance(pos_weight, float) and pos_weight == 1.0 else pos_weight * y), 1.0 - y
        softplus_up, softplus_down, up, down = logistic_pieces(xp, z)
        # A zero coefficient drops its term, so an infinite logit on the right side costs 0, not NaN (one select
        # on top: XLA then computes the losses in one pass, where it splits a sum of two selects in two)
        both = positive_part * softplus_down + negative_part * softplus_up
        losses = xp.where(positive_part == 0, negative_part * softplus_up,
                          xp.where(negative_part == 0, positive_part * softplus_down, both))  # fmt: skip
        if order == 0:
            return (losses,)
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


class _Margin(Loss):
    """A loss of the margin ``m = t y_pred`` (``t`` the label in {-1, +1}): ``_of_margin`` gives the loss and its
    first two derivatives in ``m``; the gradient is ``t l'(m)`` and the Hessian ``l''(m)`` (``t^2 = 1``)."""

    inputs = MARGIN_INPUTS

    def _of_margin(self, xp, m):
        raise NotImplementedError

    def _math(self, xp, order, y_true, y_pred):
        t = _signed(xp, y_true)
        losses, slope, curvature = self._of_margin(xp, t * y_pred)
        return losses, t * slope, curvature


@register
class Exponential(_Margin):
    r"""Exponential loss: :math:`e^{-m}`, AdaBoost's loss, with ``m = t y_pred``.

    Its minimiser is half the logit of the positive class's probability. It grows exponentially
    with a wrong margin, so one mislabelled point can dominate; in float32 it overflows to inf
    below a margin of -88.7 (the true value), never clipped.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.exponential([1, -1, 1], [-1.0, 0.5, 0.3], reduction="none").round(6).tolist()
    [2.718282, 1.648721, 0.740818]
    """

    info = LossInfo(
        name="exponential",
        aliases=("exponential_loss", "adaboost"),
        task="binary",
        variable="margin",
        formula="exp(-t y_pred), t in {-1, +1}",
        gradient="-t exp(-t y_pred)",
        hessian="exp(-t y_pred)",
        tags=("convex", "differentiable"),
        summary="AdaBoost's loss: exponential in the margin, so wrong confident points dominate.",
        use_when="boosting in the AdaBoost tradition, with clean labels",
        avoid_when="labels are noisy: one mislabelled point with a large margin outweighs the rest",
        references=("Freund and Schapire, A decision-theoretic generalization of on-line learning, JCSS 55 (1997)",
                    "Friedman, Hastie and Tibshirani, Additive logistic regression, Ann. Stat. 28 (2000)"),
        peers=(
            Peer(
                "scikit-learn", "sklearn.ensemble.GradientBoostingClassifier",
                "loss='exponential' (AdaBoost's), on labels 0/1",
            ),
        ),
    )  # fmt: skip

    def _of_margin(self, xp, m):
        e = xp.exp(-m)
        return e, -e, e

    def _optimal_constant(self, targets, weight):
        p = clipped(positive_share(targets, weight))
        return 0.5 * (np.log(p) - np.log1p(-p))


exponential = Exponential.as_function()


@register
class SoftMargin(_Margin):
    r"""Soft margin loss: :math:`\log(1 + e^{-m})`, the logistic loss on labels in {-1, +1}.

    PyTorch's ``SoftMarginLoss``: ``sigmoid_cross_entropy`` with the labels mapped to {0, 1}, computed
    as ``softplus(-m)``, exact for any margin (PyTorch's literal formula gives inf in float32 at -100).

    Examples
    --------
    >>> import losskit as lk
    >>> lk.soft_margin([1, -1, 1], [-1.0, 0.5, 0.3], reduction="none").round(6).tolist()
    [1.313262, 0.974077, 0.554355]
    """

    info = LossInfo(
        name="soft_margin",
        aliases=("soft_margin_loss", "logistic"),
        task="binary",
        likelihood="Bernoulli",
        variable="margin",
        formula="log(1 + exp(-t y_pred)), t in {-1, +1}",
        gradient="-t sigmoid(-t y_pred)",
        hessian="sigmoid(t y_pred) sigmoid(-t y_pred)",
        tags=("convex", "differentiable"),
        summary="The logistic loss on labels in {-1, +1}: sigmoid cross-entropy of the margin.",
        use_when="labels come as -1 and +1 and you want the logistic loss (PyTorch's SoftMarginLoss)",
        avoid_when="labels are 0 and 1: sigmoid_cross_entropy says so in its name",
        references=("PyTorch, torch.nn.SoftMarginLoss",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.soft_margin_loss"),
        ),
    )

    def _of_margin(self, xp, m):
        up, down = sigmoid(xp, m), sigmoid(xp, -m)
        return softplus(xp, -m), -down, up * down

    def _optimal_constant(self, targets, weight):
        p = clipped(positive_share(targets, weight))
        return np.log(p) - np.log1p(-p)


soft_margin = SoftMargin.as_function()


@register
class Perceptron(_Margin):
    r"""Perceptron loss: :math:`\max(0, -m)`, zero for every correctly classified point.

    Its slope at ``m = 0`` is 0 (the lowest-norm subgradient), so a model whose scores all start at
    0 does not move: start from random weights, or use hinge. Its second derivative is 0 almost
    everywhere, so ``grad_and_hessian`` gives 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.perceptron([1, -1, 1], [-1.0, 0.5, 0.3], reduction="none").tolist()
    [1.0, 0.5, 0.0]
    """

    info = LossInfo(
        name="perceptron",
        aliases=("perceptron_loss",),
        task="binary",
        variable="margin",
        formula="max(0, -t y_pred), t in {-1, +1}",
        gradient="-t if t y_pred < 0 else 0",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="Rosenblatt's perceptron: only misclassified points cost, linearly.",
        use_when="you want the perceptron's updates (mistake-driven, no margin)",
        avoid_when="you need a margin or probabilities: hinge or sigmoid_cross_entropy",
        references=("Rosenblatt, The perceptron, Psychological Review 65 (1958)",),
        peers=(
            Peer("Optax", "optax.losses.perceptron_loss", "no reduction"),
            Peer("scikit-learn", "sklearn.linear_model.Perceptron", "a model trained with this loss"),
        ),
    )

    def _of_margin(self, xp, m):
        wrong = m < 0
        return (propagate_nan(xp, m, xp.where(wrong, -m, xp.zeros_like(m))),
                propagate_nan(xp, m, xp.where(wrong, -xp.ones_like(m), xp.zeros_like(m))), 1.0)  # fmt: skip

    def kinks(self):
        return (0.0,)


perceptron = Perceptron.as_function()


@register
class SmoothHinge(_Margin):
    r"""Quadratically smoothed hinge: 0 beyond margin 1, linear below ``1 - gamma``, a parabola between.

    ``gamma = 1`` is Rennie and Srebro's smooth hinge; ``gamma -> 0`` the hinge. At ``gamma = 2`` it is
    Optax's binary sparsemax loss and a quarter of scikit-learn's modified Huber loss.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.smooth_hinge([1, -1, 1], [-1.0, 0.5, 0.3], reduction="none").round(12).tolist()
    [1.5, 1.0, 0.245]
    """

    info = LossInfo(
        name="smooth_hinge",
        aliases=("smoothed_hinge", "quadratically_smoothed_hinge"),
        task="binary",
        variable="margin",
        formula="0 if m >= 1, 1 - m - gamma / 2 if m <= 1 - gamma, else (1 - m)^2 / (2 gamma); m = t y_pred",
        gradient="t times 0, -1 or -(1 - m) / gamma on those pieces",
        hessian="1 / gamma for 1 - gamma < m < 1, else 0",
        tags=("convex", "differentiable"),
        summary="A hinge with its corner rounded by a parabola of width gamma: max-margin and differentiable.",
        use_when="you want a max-margin classifier trained with smooth gradients",
        avoid_when="you need calibrated probabilities",
        references=("Rennie and Srebro, Loss functions for preference levels, IJCAI 2005 workshop",
                    "Shalev-Shwartz and Zhang, Stochastic dual coordinate ascent methods, JMLR 14 (2013)"),
    )  # fmt: skip
    gamma = Param(1.0, positive, "float > 0", "The width of the parabola (gamma -> 0 is the hinge).", example=2.0)

    def _of_margin(self, xp, m):
        g = self.gamma
        slack = 1.0 - m
        linear, flat = slack >= g, slack <= 0
        zero = xp.zeros_like(m)
        mid = xp.where(linear | flat, zero, slack)  # kept small where unused, for autodiff
        losses = xp.where(linear, slack - 0.5 * g, xp.where(flat, zero, mid * mid / (2.0 * g)))
        slope = xp.where(linear, -xp.ones_like(m), -mid / g)
        curvature = propagate_nan(xp, m, xp.astype(~(linear | flat), m.dtype) / g)
        return propagate_nan(xp, m, losses), propagate_nan(xp, m, slope), curvature

    def kinks(self):
        return (1.0 - self.gamma, 1.0)


smooth_hinge = SmoothHinge.as_function()


@register
class ModifiedHuber(_Margin):
    r"""Modified Huber loss: :math:`\max(0, 1 - m)^2` for ``m >= -1``, :math:`-4m` below: scikit-learn's SGD loss.

    A squared hinge with a linear tail (robust to wrong confident points), four times the smooth
    hinge at ``gamma = 2``; ``(clip(y_pred, -1, 1) + 1) / 2`` estimates the positive class's
    probability (Zhang, 2004).

    Examples
    --------
    >>> import losskit as lk
    >>> lk.modified_huber([1, -1, 1], [-1.0, 0.5, 0.3], reduction="none").round(12).tolist()
    [4.0, 2.25, 0.49]
    """

    info = LossInfo(
        name="modified_huber",
        aliases=("modified_huber_loss",),
        task="binary",
        variable="margin",
        formula="max(0, 1 - m)^2 if m >= -1 else -4 m, m = t y_pred",
        gradient="t times 0 (m >= 1), -2 (1 - m) (-1 <= m < 1) or -4 (m < -1)",
        hessian="2 for -1 < m < 1, else 0",
        tags=("convex", "differentiable"),
        summary="scikit-learn's modified Huber: a squared hinge with a linear tail, and rough probabilities.",
        use_when="a max-margin classifier that tolerates some wrong confident labels (SGDClassifier's choice)",
        avoid_when="you need calibrated probabilities",
        references=("Zhang, Solving large scale linear prediction problems using SGD algorithms, ICML 2004",
                    "scikit-learn, sklearn.linear_model.SGDClassifier"),
        peers=(
            Peer("scikit-learn", "sklearn.linear_model.SGDClassifier", "loss='modified_huber'"),
        ),
    )  # fmt: skip

    def _of_margin(self, xp, m):
        slack = 1.0 - m
        tail, flat = m < -1.0, slack <= 0
        zero = xp.zeros_like(m)
        mid = xp.where(tail | flat, zero, slack)
        losses = xp.where(tail, -4.0 * m, mid * mid)
        slope = xp.where(tail, -4.0 * xp.ones_like(m), -2.0 * mid)
        curvature = propagate_nan(xp, m, 2.0 * xp.astype(~(tail | flat), m.dtype))
        return propagate_nan(xp, m, losses), propagate_nan(xp, m, slope), curvature

    def kinks(self):
        return (-1.0, 1.0)


modified_huber = ModifiedHuber.as_function()


@register
class SigmoidFocal(Loss):
    r"""Focal loss from logits: cross-entropy scaled by :math:`\alpha_t (1 - p_t)^\gamma`, so easy examples weigh less.

    torchvision's ``sigmoid_focal_loss`` and Optax's: :math:`p = \sigma(z)`,
    :math:`p_t = p y + (1 - p)(1 - y)`, :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)` (1 without
    ``alpha``). Written in logit space, :math:`(1 - p_t)^\gamma = \exp(\gamma \log(1 - p_t))` with the log
    from log-sigmoids, so value, gradient and Hessian stay finite for every gamma >= 0 and every logit,
    infinite ones included (the direct power gives NaN gradients at gamma < 1 and saturated logits).
    Not convex, and its probabilities are not calibrated: the down-weighting biases them.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.sigmoid_focal([1.0, 0.0], [-1.0, 0.5], alpha=0.25, reduction="none").round(6).tolist()
    [0.175467, 0.283059]
    """

    info = LossInfo(
        name="sigmoid_focal",
        aliases=("sigmoid_focal_loss", "focal", "focal_loss", "binary_focal_with_logits"),
        task="binary",
        variable="logit",
        formula="alpha_t (1 - p_t)^gamma BCE(z, y), p_t = p y + (1 - p)(1 - y), p = sigmoid(z)",
        gradient="alpha_t (1 - p_t)^gamma (p - y - gamma s r BCE), s = 2y - 1, r = p (1 - p) / (1 - p_t)",
        hessian="alpha_t (1 - p_t)^gamma (-gamma s r A + A'), A = p - y - gamma s r BCE, "
                "A' = p (1 - p) - gamma s r (BCE (1 - 2p + s r) + p - y)",
        tags=("differentiable",),
        twin="binary_focal",
        summary="Cross-entropy that down-weights easy examples by (1 - p_t)^gamma: dense detection, imbalance.",
        use_when="many easy negatives swamp the few hard examples (dense object detection, extreme imbalance)",
        avoid_when="you need calibrated probabilities (focal biases them), or the classes are merely imbalanced: "
                   "pos_weight on sigmoid_cross_entropy keeps them calibrated",
        references=("Lin et al., Focal loss for dense object detection, ICCV 2017",
                    "torchvision, torchvision.ops.sigmoid_focal_loss"),
        peers=(
            Peer("Optax", "optax.losses.sigmoid_focal_loss", "the same defaults (alpha None, gamma 2); no reduction"),
        ),
    )  # fmt: skip
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", link=LOGIT))
    gamma = Param(2.0, non_negative, "float >= 0", "The focusing exponent: 0 is cross-entropy.", example=0.5)
    alpha = Param(None, lambda loss, name, value: None if value is None else unit_interval(loss, name, value),
                  "float in [0, 1] or None", "The positive class's weight (torchvision uses 0.25); None: no weight.",
                  example=0.25)  # fmt: skip

    def _math(self, xp, order, y, z):
        gamma = self.gamma
        zero = xp.zeros_like(z)
        neg, pos = softplus(xp, z), softplus(xp, -z)  # -log(1 - p), -log p
        ce = xp.where(y == 0, zero, y * pos) + xp.where(y == 1, zero, (1.0 - y) * neg)
        p, q = sigmoid(xp, z), sigmoid(xp, -z)
        s = 2.0 * y - 1.0
        # log(1 - p_t) = log(y (1 - p) + (1 - y) p), from log-sigmoids: one of them for a hard label
        soft = (y > 0) & (y < 1)
        half = xp.where(soft, y, 0.5 * xp.ones_like(y))  # any label strictly inside, where unused
        mixed = xp.logaddexp(xp.log(half) - neg, xp.log1p(-half) - pos)
        log_u = xp.where(soft, mixed, xp.where(y == 1, -neg, -pos))
        u = xp.exp(log_u)
        focus = xp.ones_like(z) if gamma == 0 else xp.exp(gamma * log_u)
        ratio = xp.where(u > 0, p * q / xp.where(u > 0, u, xp.ones_like(u)), 1.0 - u)  # p(1-p) / (1 - p_t)
        rc = xp.where(ratio == 0, zero, ratio * ce)
        weight = 1.0 if self.alpha is None else self.alpha * y + (1.0 - self.alpha) * (1.0 - y)
        residual = (1.0 - y) * p - y * q  # p - y, with every digit of 1 - p for a confident positive
        a = residual - gamma * s * rc
        hessian = None
        if order > 1:
            a_slope = -gamma * s * rc * ((1.0 - 2.0 * p) + s * ratio) - gamma * s * ratio * residual + p * q
            hessian = weight * focus * (-gamma * s * ratio * a + a_slope)
        # A confident wrong infinite logit: the value is ce itself (focus 1), kept out of the product so that
        # autodiff never meets focus' * inf = 0 * inf.
        infinite = xp.isinf(ce)
        finite_ce = xp.where(infinite, zero, ce)
        losses = xp.where(infinite, ce, xp.where(focus == 0, zero, focus * finite_ce))
        return weight * losses, weight * focus * a, hessian

    def _optimal_constant(self, targets, weight):
        return numeric_constant(self, targets, weight, bracket=(-40.0, 40.0))  # not convex: a search over logits


sigmoid_focal = SigmoidFocal.as_function()


@register
class BinaryFocal(Loss):
    r"""Focal loss from probabilities: Keras's ``BinaryFocalCrossentropy``, :math:`\alpha_t (1 - p_t)^\gamma` BCE.

    ``sigmoid_focal`` on the other side of the sigmoid (its twin): :math:`p_t = p y + (1 - p)(1 - y)`, the
    logs clamped at -100 as in ``binary_cross_entropy``. Its derivatives go through the ratio
    BCE / (1 - p_t), which tends to 1 where a hard label is predicted exactly, so the gradient stays
    finite at gamma < 1 (there the true curvature is infinite, and so is the Hessian). Convex in ``p``
    for hard labels, unlike its twin in the logit. Prefer ``sigmoid_focal`` on logits.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.binary_focal([1.0, 0.0], [0.268941, 0.622459], alpha=0.25, reduction="none").round(5).tolist()
    [0.17547, 0.28306]
    """

    info = LossInfo(
        name="binary_focal",
        aliases=("binary_focal_crossentropy", "BinaryFocalCrossentropy"),
        task="binary",
        variable="probability",
        formula="alpha_t (1 - p_t)^gamma BCE(p, y), p_t = p y + (1 - p)(1 - y)",
        gradient="alpha_t (1 - p_t)^gamma (BCE' - gamma s BCE / (1 - p_t)), s = 2y - 1, BCE' = -y / p + (1 - y) / (1 - p)",
        hessian="alpha_t (1 - p_t)^gamma (gamma (gamma - 1) BCE / (1 - p_t)^2 - 2 gamma s BCE' / (1 - p_t) + BCE'')",
        tags=("convex", "differentiable"),
        twin="sigmoid_focal",
        summary="Focal loss on probabilities (Keras's BinaryFocalCrossentropy); sigmoid_focal on logits is exact.",
        use_when="the model already outputs probabilities and easy examples should weigh less",
        avoid_when="you have logits (sigmoid_focal), or need calibrated probabilities",
        references=("Lin et al., Focal loss for dense object detection, ICCV 2017",
                    "Keras, keras.losses.BinaryFocalCrossentropy"),
        peers=(
            Peer(
                "Keras", "keras.losses.BinaryFocalCrossentropy",
                "alpha applies only with apply_class_balancing=True; probabilities clipped to [1e-7, 1 - 1e-7]",
            ),
        ),
    )  # fmt: skip
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", PROBABILITIES))
    gamma = SigmoidFocal.gamma
    alpha = SigmoidFocal.alpha

    def _math(self, xp, order, y, p):
        gamma = self.gamma
        ce, d_ce, h_ce = BinaryCrossEntropy()._math(xp, 2, y, p)
        u = y * (1.0 - p) + (1.0 - y) * p  # 1 - p_t
        s = 2.0 * y - 1.0
        one, zero = xp.ones_like(p), xp.zeros_like(p)
        exact = u == 0  # a hard label predicted exactly: BCE / (1 - p_t) -> 1, its derivatives from the series
        safe_u = xp.where(exact, one, u)
        ratio = xp.where(exact, one, ce / safe_u)
        focus = one if gamma == 0 else xp.where(exact, zero, safe_u**gamma)
        weight = 1.0 if self.alpha is None else self.alpha * y + (1.0 - self.alpha) * (1.0 - y)
        gradient = weight * focus * (d_ce - gamma * s * ratio)
        hessian = None
        if order > 1:
            inner = gamma * (gamma - 1.0) * ratio / safe_u - 2.0 * gamma * s * d_ce / safe_u + h_ce
            # at 1 - p_t = 0 the loss is u^(gamma + 1) (1 + u / 2 + ...): curvature inf, 2 or 0 for gamma <, = or > 1
            limit = math.inf if gamma < 1 else (2.0 if gamma == 1 else 0.0)
            hessian = weight * xp.where(exact, limit * one, focus * inner) if gamma > 0 else weight * inner
        return weight * focus * ce, gradient, hessian

    def _optimal_constant(self, targets, weight):
        return numeric_constant(self, targets, weight)


binary_focal = BinaryFocal.as_function()


@register
class Brier(Loss):
    r"""Brier score: :math:`(p - y)^2`, the squared error of a predicted probability.

    A strictly proper scoring rule, bounded by 1, and scikit-learn's ``brier_score_loss`` for two
    classes. Through a sigmoid its gradient vanishes for confident mistakes: train with cross-entropy
    and report Brier.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.brier([1.0, 0.0], [0.2, 0.7], reduction="none").round(12).tolist()
    [0.64, 0.49]
    """

    info = LossInfo(
        name="brier",
        aliases=("brier_score", "brier_score_loss"),
        task="binary",
        variable="probability",
        formula="(p - y)^2",
        gradient="2 (p - y)",
        hessian="2",
        tags=("convex", "differentiable", "bounded", "proper_scoring_rule"),
        summary="The squared error of a probability: a proper, bounded score of calibration and sharpness.",
        use_when="you score (or fine-tune) calibrated probabilities and want a bounded loss",
        avoid_when="training from scratch through a sigmoid: confident mistakes get almost no gradient",
        references=("Brier, Verification of forecasts expressed in terms of probability, Monthly Weather Review 78 (1950)",
                    "scikit-learn, sklearn.metrics.brier_score_loss"),
        peers=(
            Peer("scikit-learn", "sklearn.metrics.brier_score_loss", "a metric of the positive class's probability"),
        ),
    )  # fmt: skip
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", PROBABILITIES))

    def _math(self, xp, order, y, p):
        r = p - y
        return r * r, 2.0 * r, 2.0

    def _optimal_constant(self, targets, weight):
        return weighted_mean(targets[0], weight)


brier = Brier.as_function()
