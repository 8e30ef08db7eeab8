r"""Binary classification losses: margin losses on scores, cross-entropy on probabilities or logits."""

from __future__ import annotations

from .._base import Loss
from .._checks import PROBABILITIES, Interval, OneOf, positive, unit_interval
from .._info import LossInfo
from ..numerics import clamped_log, clamped_log1m, propagate_nan, sigmoid, softplus
from ..registry import register

SIGNED_LABELS = OneOf("labels in {-1, +1} or {0, 1} (0 is read as -1)", values=(-1.0, 0.0, 1.0))
SOFT_TARGETS = Interval("targets in [0, 1] (0/1 labels or soft targets)", 0.0, 1.0)


def _signed(xp, y_true):
    """Labels in {-1, +1}: 0 is read as -1, elementwise."""
    return xp.where(y_true == 0, -xp.ones_like(y_true), y_true)


@register
class Hinge(Loss):
    r"""Hinge loss: :math:`\ell = \max(0, 1 - t\hat y)` with labels :math:`t \in \{-1, +1\}`.

    :math:`\partial\ell/\partial\hat y = -t` where the margin :math:`t\hat y < 1`, else 0 (0 at the
    kink). Labels 0 are read as -1. ``y_pred`` is a raw score (a linear output), not a probability.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> lk.hinge([1, 0, 1], [2.0, -0.5, 0.25], reduction="none").tolist()
    [0.0, 0.5, 0.75]
    """

    info = LossInfo(
        name="hinge",
        task="binary",
        input_space="values",
        target=SIGNED_LABELS.description,
        activation="identity (a raw score)",
        variable="margin",
        formula="max(0, 1 - t y_pred), t in {-1, +1}",
        gradient="-t if t y_pred < 1 else 0",
        differentiable=False,
        summary="The support vector machine loss: zero once a point is classified with margin 1.",
        use_when="you want a max-margin classifier (SVM) and need decisions, not probabilities",
        avoid_when="you need calibrated probabilities, or a smooth objective",
        references=("Cortes and Vapnik, Support-vector networks, Machine Learning 20 (1995)",),
    )
    y_true_domain = SIGNED_LABELS

    def _losses_and_derivative(self, xp, y_true, y_pred):
        t = _signed(xp, y_true)
        slack = 1.0 - t * y_pred
        slope = propagate_nan(xp, slack, xp.where(slack > 0, -t, xp.zeros_like(t)))
        return xp.clip(slack, 0.0, None), slope

    def kinks(self):
        return (1.0,)


hinge = Hinge.as_function()


@register
class SquaredHinge(Loss):
    r"""Squared hinge loss: :math:`\ell = \max(0, 1 - t\hat y)^2` with labels :math:`t \in \{-1, +1\}`.

    :math:`\partial\ell/\partial\hat y = -2t\max(0, 1 - t\hat y)`. Labels 0 are read as -1.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> lk.squared_hinge([1, -1], [0.5, 0.5], reduction="none").tolist()
    [0.25, 2.25]
    """

    info = LossInfo(
        name="squared_hinge",
        task="binary",
        input_space="values",
        target=SIGNED_LABELS.description,
        activation="identity (a raw score)",
        variable="margin",
        formula="max(0, 1 - t y_pred)^2, t in {-1, +1}",
        gradient="-2 t max(0, 1 - t y_pred)",
        summary="A differentiable hinge (the L2-SVM loss): penalises margin violations quadratically.",
        use_when="a max-margin classifier with a differentiable loss (L2-SVM)",
        avoid_when="you need probabilities, or the data has label noise (the square amplifies violations)",
        references=("Lee and Mangasarian, SSVM: a smooth support vector machine, Comput. Optim. Appl. 20 (2001)",),
    )
    y_true_domain = SIGNED_LABELS

    def _losses_and_derivative(self, xp, y_true, y_pred):
        t = _signed(xp, y_true)
        slack = xp.clip(1.0 - t * y_pred, 0.0, None)
        return slack * slack, -2.0 * t * slack

    def kinks(self):
        # Differentiable, but the second derivative jumps at margin 1.
        return (1.0,)


squared_hinge = SquaredHinge.as_function()


@register
class BinaryCrossEntropy(Loss):
    r"""Binary cross-entropy from probabilities: :math:`\ell = -(y\log p + (1-y)\log(1-p))`.

    Each log is clamped at -100 (PyTorch's rule), so :math:`p \in \{0, 1\}` gives a finite value.
    :math:`\partial\ell/\partial p = -y/p + (1-y)/(1-p)`, each term 0 where its log is clamped.
    Targets may be soft (any value in [0, 1]). For logits use ``sigmoid_cross_entropy``: it is
    exact where this one clamps.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.binary_cross_entropy([1.0, 0.0], [0.8, 0.2])), 6)  # -log 0.8
    0.223144
    """

    info = LossInfo(
        name="binary_cross_entropy",
        aliases=("bce", "log_loss", "binary_crossentropy"),
        task="binary",
        input_space="probabilities",
        target=SOFT_TARGETS.description,
        activation="sigmoid",
        likelihood="Bernoulli",
        variable="probability",
        formula="-(y log p + (1 - y) log(1 - p)), each log clamped at -100",
        gradient="-y / p + (1 - y) / (1 - p)",
        proper_scoring_rule=True,
        logits_twin="sigmoid_cross_entropy",
        summary="The log-loss of predicted probabilities; prefer sigmoid_cross_entropy on logits for stability.",
        use_when="the model already outputs probabilities (a sigmoid layer you cannot remove)",
        avoid_when="you have logits: sigmoid_cross_entropy is exact where this one clamps at log = -100",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
    )
    y_true_domain = SOFT_TARGETS
    y_pred_domain = PROBABILITIES

    def _losses_and_derivative(self, xp, y_true, p):
        (log_p, kept), (log_1mp, kept_1m) = clamped_log(xp, p), clamped_log1m(xp, p)
        losses = -(y_true * log_p + (1.0 - y_true) * log_1mp)
        zero = xp.zeros_like(p)
        d_pos = xp.where(kept, -y_true / xp.where(kept, p, 1.0), zero)
        d_neg = xp.where(kept_1m, (1.0 - y_true) / xp.where(kept_1m, 1.0 - p, 1.0), zero)
        return losses, propagate_nan(xp, p, d_pos + d_neg)


binary_cross_entropy = BinaryCrossEntropy.as_function()


@register
class SigmoidCrossEntropy(Loss):
    r"""Binary cross-entropy from logits: :math:`\ell = -(w_+ y\log\sigma(z) + (1-y)\log(1-\sigma(z)))`.

    Computed as :math:`w_+ y\,\mathrm{softplus}(-z) + (1-y)\,\mathrm{softplus}(z)`: exact for any
    logit, :math:`\pm\infty` included. :math:`\partial\ell/\partial z = (1-y)\sigma(z) - w_+ y\,\sigma(-z)`,
    which is :math:`\sigma(z) - y` without ``pos_weight``. With label smoothing :math:`\varepsilon`
    the targets become :math:`y(1-\varepsilon) + \varepsilon/2`.

    Parameters
    ----------
    pos_weight : float > 0, default 1.0
        Weight of the positive term (PyTorch's ``pos_weight``): about ``n_negative / n_positive``
        for imbalanced classes.
    label_smoothing : float in [0, 1], default 0.0
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.sigmoid_cross_entropy([1.0], [0.0])), 6)  # log 2
    0.693147
    >>> lk.SigmoidCrossEntropy().grad([1.0, 0.0], [0.0, 0.0]).tolist()  # (sigmoid(0) - y) / 2
    [-0.25, 0.25]
    """

    info = LossInfo(
        name="sigmoid_cross_entropy",
        aliases=("bce_with_logits", "binary_cross_entropy_with_logits", "sigmoid_binary_cross_entropy"),
        task="binary",
        input_space="logits",
        target=SOFT_TARGETS.description,
        activation="sigmoid",
        likelihood="Bernoulli",
        variable="logit",
        formula="pos_weight y softplus(-z) + (1 - y) softplus(z)",
        gradient="(1 - y) sigmoid(z) - pos_weight y sigmoid(-z)",
        proper_scoring_rule=True,
        summary="The standard binary classification loss: Bernoulli log-likelihood of a logit, exact for any logit.",
        use_when="binary or multi-label classification from logits; the maximum-likelihood choice, with pos_weight for imbalance",
        avoid_when="the model output already went through a sigmoid (that would apply it twice)",
        references=(
            "Cox, The regression analysis of binary sequences, J. R. Stat. Soc. B 20 (1958)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
    )
    y_true_domain = SOFT_TARGETS

    def __init__(self, *, pos_weight: float = 1.0, label_smoothing: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.pos_weight = positive(self.info.name, "pos_weight", pos_weight)
        self.label_smoothing = unit_interval(self.info.name, "label_smoothing", label_smoothing)

    def _losses_and_derivative(self, xp, y_true, z):
        y = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        positive_part, negative_part = self.pos_weight * y, 1.0 - y
        zero = xp.zeros_like(z)
        # A zero coefficient drops its term, so an infinite logit on the right side costs 0, not NaN.
        losses = xp.where(positive_part == 0, zero, positive_part * softplus(xp, -z)) + xp.where(
            negative_part == 0, zero, negative_part * softplus(xp, z)
        )
        return losses, negative_part * sigmoid(xp, z) - positive_part * sigmoid(xp, -z)


sigmoid_cross_entropy = SigmoidCrossEntropy.as_function()
