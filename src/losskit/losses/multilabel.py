r"""Multi-label losses: one yes/no per label, on logits.

``sigmoid_cross_entropy`` (with a per-label ``pos_weight``) is the elementwise baseline;
``multilabel_soft_margin`` is the same per row (the mean over the labels, PyTorch's), and
``asymmetric`` focuses the many easy negatives away (ASL).
"""

from __future__ import annotations

import math

import numpy as np

from .._base import Loss
from .._checks import UNIT_TARGETS, non_negative, weights, within
from .._info import LossInfo, Peer
from .._optimal import clipped, numeric_constant, weighted_mean
from ..inputs import prediction, target
from ..links import LOGIT
from ..numerics import propagate_nan, sigmoid
from ..params import Param
from ..registry import register
from . import binary
from .multiclass import _ClassAxis
from .multiclass_reweighted import _per_class


@register
class MultilabelSoftMargin(_ClassAxis):
    r"""Multi-label soft margin loss: the mean over the labels of each row's sigmoid cross-entropies.

    PyTorch's ``MultiLabelSoftMarginLoss``: one example is one row of labels over ``axis``, its loss
    :math:`\frac{1}{C} \sum_c w_c\, \mathrm{BCE}(z_c, y_c)` with the label weights ``label_weight``
    (PyTorch's ``weight=``; the mean still counts rows) and a per-label ``pos_weight`` as in
    ``sigmoid_cross_entropy``. Equal to ``sigmoid_cross_entropy``'s mean when every row has its C labels.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.multilabel_soft_margin([[1, 0, 1]], [[0.0, 0.0, 0.0]])), 6)  # log 2
    0.693147
    """

    info = LossInfo(
        name="multilabel_soft_margin",
        aliases=("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss"),
        task="multilabel",
        likelihood="independent Bernoulli per label",
        variable="logit",
        formula="sum_c w_c (pos_weight_c y_c softplus(-z_c) + (1 - y_c) softplus(z_c)) / C",
        gradient="w_c ((1 - y_c) sigmoid(z_c) - pos_weight_c y_c sigmoid(-z_c)) / C",
        hessian="w_c (1 - y_c + pos_weight_c y_c) sigmoid(z_c) sigmoid(-z_c) / C",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        summary="PyTorch's multi-label loss: each row's mean sigmoid cross-entropy over its labels.",
        use_when="multi-label classification from logits, one row of labels per example (PyTorch's convention)",
        avoid_when="labels are exclusive classes (softmax_cross_entropy), or rows have padded labels (mask them in "
                   "sigmoid_cross_entropy's sample_weight instead)",
        references=("PyTorch, torch.nn.MultiLabelSoftMarginLoss",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.multilabel_soft_margin_loss", "class weights as weight="),
        ),
    )  # fmt: skip
    inputs = (target("y_true", UNIT_TARGETS, event=1), prediction("y_pred", link=LOGIT, event=1))
    label_weight = Param(
        None,
        lambda loss, name, value: weights(loss, name, value, allow_scalar=False, optional=True),
        "sequence of C weights >= 0 or None",
        "The weight of each label's term (PyTorch's weight=); the mean counts rows, not weights.",
        example=(0.5, 2.0, 1.0),
    )
    pos_weight = binary.SigmoidCrossEntropy.pos_weight

    def _specialise(self, info):
        return info if self.label_weight is None and self.pos_weight == 1.0 else info.without("proper_scoring_rule")

    def _math(self, xp, order, y, z):
        element = binary.SigmoidCrossEntropy(pos_weight=self.pos_weight)
        losses, grad, hessian = (tuple(element._math(xp, order, y, z)) + (None, None))[:3]
        w = _per_class(self, xp, "label_weight", z)
        scale = (1.0 if w is None else w) / z.shape[-1]
        if order == 0:
            return (xp.sum(losses * scale, axis=-1),)
        return xp.sum(losses * scale, axis=-1), grad * scale, (hessian * scale if order > 1 else None)

    def _optimal_constant(self, targets, weight):
        m = weighted_mean(targets[0], weight, rows=True)  # each label's mean
        pw = np.asarray(self.pos_weight, dtype=np.float64)
        p = clipped(pw * m / (pw * m + 1.0 - m))
        return np.log(p) - np.log1p(-p)


multilabel_soft_margin = MultilabelSoftMargin.as_function()


@register
class Asymmetric(Loss):
    r"""Asymmetric loss (ASL) from logits: focal with separate exponents for positives and negatives, and a
    probability shift that discards easy negatives.

    Ridnik et al.'s loss for multi-label tasks, where most labels of most examples are easy negatives:
    with :math:`p = \sigma(z)` and :math:`p_m = \max(p - m, 0)` (``clip`` = m),

    .. math:: L = -y (1 - p)^{\gamma_+} \log p - (1 - y)\, p_m^{\gamma_-} \log(1 - p_m).

    A negative with :math:`p \le m` costs nothing and has no gradient. The gradient is the full
    derivative (the reference code detaches the focusing weight by default, which changes it). Written
    from log-sigmoids, finite for every exponent >= 0 and every logit; elementwise, so ``"sum"`` gives
    the reference code's value. Not convex, and its probabilities are not calibrated.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.asymmetric([1, 0, 0, 0], [1.0, -2.0, 0.5, -4.0], reduction="none").round(6).tolist()
    [0.084249, 2e-06, 0.091253, 0.0]
    """

    info = LossInfo(
        name="asymmetric",
        aliases=("asymmetric_loss", "asl", "AsymmetricLoss", "asymmetric_focal"),
        task="multilabel",
        variable="logit",
        formula="-y (1 - p)^gamma_pos log p - (1 - y) q^gamma_neg log(1 - q), p = sigmoid(z), q = max(p - clip, 0)",
        gradient="y times sigmoid_focal's at label 1 (gamma_pos), plus (1 - y) f'(q) p (1 - p) where q > 0, "
                 "f'(q) = q^gamma_neg (gamma_neg L / q + 1 / (1 - q)), L = -log(1 - q)",
        hessian="y times sigmoid_focal's at label 1, plus (1 - y) (f''(q) (p (1 - p))^2 + f'(q) p (1 - p)(1 - 2p)) "
                "where q > 0, f''(q) = q^gamma_neg (gamma_neg (gamma_neg - 1) L / q^2 + 2 gamma_neg / (q (1 - q)) "
                "+ 1 / (1 - q)^2)",
        tags=("differentiable",),
        summary="Multi-label focal loss with separate positive and negative focusing and a shift that drops easy "
                "negatives (ASL).",
        use_when="multi-label classification with many labels and rare positives (tagging, multi-label images)",
        avoid_when="you need calibrated probabilities, or labels are balanced: sigmoid_cross_entropy is simpler",
        references=("Ridnik et al., Asymmetric loss for multi-label classification, ICCV 2021",),
    )  # fmt: skip
    inputs = (target("y_true", UNIT_TARGETS), prediction("y_pred", link=LOGIT))
    gamma_pos = Param(1.0, non_negative, "float >= 0", "Focusing of positives (the reference code's 1; 0: plain).",
                      example=0.0)  # fmt: skip
    gamma_neg = Param(4.0, non_negative, "float >= 0", "Focusing of negatives.", example=2.0)
    clip = Param(0.05, within(0.0, 1.0, open_high=True, why="the shift of negatives' probabilities"),
                 "float in [0, 1)", "Negatives' probabilities are shifted down by it (0: no shift).",
                 example=0.0)  # fmt: skip

    def _math(self, xp, order, y, z):
        zero = xp.zeros_like(z)
        pos, d_pos, h_pos = binary.SigmoidFocal(gamma=self.gamma_pos)._math(xp, order, xp.ones_like(z), z)
        if self.clip == 0:
            neg, d_neg, h_neg = binary.SigmoidFocal(gamma=self.gamma_neg)._math(xp, order, zero, z)
        else:
            neg, d_neg, h_neg = self._shifted_negative(xp, order, z)
        value = xp.where(y == 0, zero, y * pos) + xp.where(y == 1, zero, (1.0 - y) * neg)
        hessian = y * h_pos + (1.0 - y) * h_neg if order > 1 else None
        return value, y * d_pos + (1.0 - y) * d_neg, hessian

    def _shifted_negative(self, xp, order, z):
        """A negative's loss ``f(q) = q^gamma (-log(1 - q))``, ``q = max(sigmoid(z) - clip, 0) < 1``, and its
        derivatives in ``z``; :math:`-\\log(1 - q) / q`` tends to 1 at ``q = 0``, which keeps them finite."""
        gamma = self.gamma_neg
        p, slope = sigmoid(xp, z), sigmoid(xp, z) * sigmoid(xp, -z)
        q = xp.where(p > self.clip, p - self.clip, xp.zeros_like(p))
        log_rest = -xp.log1p(-q)  # L = -log(1 - q) <= -log(clip)
        live = q > 0
        safe_q = xp.where(live, q, xp.ones_like(q))
        ratio = xp.where(live, log_rest / safe_q, xp.ones_like(q))
        focus = xp.ones_like(q) if gamma == 0 else xp.where(live, safe_q**gamma, xp.zeros_like(q))
        outer = focus * (gamma * ratio + 1.0 / (1.0 - q))  # f'(q)
        grad = xp.where(live, outer * slope, xp.zeros_like(q))
        hessian = None
        if order > 1:
            inner = gamma * (gamma - 1.0) * ratio / safe_q + 2.0 * gamma / (safe_q * (1.0 - q)) + 1.0 / (1.0 - q) ** 2
            curvature = focus * inner * slope * slope + outer * slope * (1.0 - 2.0 * p)
            hessian = propagate_nan(xp, z, xp.where(live, curvature, xp.zeros_like(q)))
        return propagate_nan(xp, z, focus * log_rest), propagate_nan(xp, z, grad), hessian

    def kinks(self):
        # a negative's probability reaching the shift (the plot's example is a positive: none there)
        return () if self.clip == 0 else (math.log(self.clip) - math.log1p(-self.clip),)

    def _optimal_constant(self, targets, weight):
        return numeric_constant(self, targets, weight, bracket=(-40.0, 40.0))  # not convex: a search over logits


asymmetric = Asymmetric.as_function()
