r"""Multi-class margin losses on raw scores and class ids: the Crammer-Singer and Weston-Watkins hinges,
and the sparsemax loss.

One example is one row of scores over ``axis``; ``y_true`` holds class ids. None of them is a
likelihood: the hinges give decisions, the sparsemax loss sparse probability rows (``lk.sparsemax``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._checks import non_negative
from .._info import LossInfo, Peer
from .._optimal import class_frequencies
from ..errors import InputError
from ..inputs import prediction
from ..links import SPARSEMAX
from ..numerics import class_mask, propagate_nan, sparsemax_parts, take_class
from ..params import Param
from ..registry import register
from .multiclass import CLASS_IDS, _ClassAxis

SCORE_ROWS = prediction("y_pred", event=1)
_MARGIN = Param(1.0, non_negative, "float >= 0", "The margin the true class's score must win by.", example=0.5)


@register
class CrammerSingerHinge(_ClassAxis):
    r"""Crammer-Singer multi-class hinge: :math:`\max(0, m + \max_{j \ne y} z_j - z_y)`.

    Zero once the true class's score beats every other by the margin; its gradient is
    :math:`e_{j^*} - e_y` while it is not, :math:`j^*` the best other class (ties share it). Optax's
    ``multiclass_hinge_loss`` and scikit-learn's ``hinge_loss``; Keras's ``categorical_hinge`` takes
    one-hot rows and, unlike this, counts the true class's 0 as a rival when every score is negative.
    The second derivative is 0 almost everywhere, so ``grad_and_hessian`` gives 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.crammer_singer_hinge([0, 2], [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]], reduction="none").tolist()
    [1.5, 0.0]
    """

    info = LossInfo(
        name="crammer_singer_hinge",
        aliases=("multiclass_hinge", "multiclass_hinge_loss"),
        task="multiclass",
        variable="logit",
        formula="max(0, margin + max_{j != y} z_j - z_y)",
        gradient="e_{j*} - e_y where positive (j* the best other class, ties averaged), else 0",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="The multi-class SVM loss: the true class must beat the best other one by the margin.",
        use_when="a max-margin multi-class classifier on raw scores, when decisions matter and probabilities do not",
        avoid_when="you need probabilities (softmax_cross_entropy), or smooth gradients",
        references=("Crammer and Singer, On the algorithmic implementation of multiclass kernel-based vector "
                    "machines, JMLR 2 (2001)", "Optax, optax.losses.multiclass_hinge_loss"),
        peers=(
            Peer("Optax", "optax.losses.multiclass_hinge_loss", "no reduction"),
            Peer(
                "Keras", "keras.losses.CategoricalHinge",
                "on one-hot rows; counts the true class's 0 as a rival when every score is negative",
            ),
        ),
    )  # fmt: skip
    inputs = (CLASS_IDS, SCORE_ROWS)
    margin = _MARGIN

    def _math(self, xp, order, ids, z):
        at_true = class_mask(xp, ids, z.shape[-1])
        others = xp.where(at_true, xp.full_like(z, -xp.inf), z)
        best = xp.max(others, axis=-1)
        slack = propagate_nan(xp, z[..., 0], self.margin + best - take_class(xp, z, ids))
        active = slack > 0
        tied = xp.astype((others == best[..., None]) & ~at_true, z.dtype)
        count = xp.sum(tied, axis=-1, keepdims=True)
        step = tied / xp.where(count > 0, count, xp.ones_like(count)) - xp.astype(at_true, z.dtype)
        grad = propagate_nan(xp, slack[..., None], xp.where(active[..., None], step, xp.zeros_like(z)))
        return propagate_nan(xp, slack, xp.where(active, slack, xp.zeros_like(slack))), grad, 1.0

    def kinks(self):
        return (self.margin,)

    def _optimal_constant(self, targets, weight):
        # Zhang (2004): the best scores are all equal unless one class holds more than half the weight,
        # which then leads the others by the margin (so the loss is not calibrated below 1/2).
        shares = class_frequencies(self, targets, weight)
        z = np.zeros(shares.size)
        top = int(np.argmax(shares))
        if shares[top] > 0.5:
            z[top] = self.margin
        return z - z.mean()


crammer_singer_hinge = CrammerSingerHinge.as_function()


def _power(loss_name, name, value):
    if isinstance(value, bool) or value not in (1, 2):
        raise InputError(f"{loss_name}: {name} must be 1 or 2 (PyTorch's MultiMarginLoss takes no other); got {value!r}.")
    return int(value)


@register
class WestonWatkinsHinge(_ClassAxis):
    r"""Weston-Watkins multi-class hinge: :math:`\frac{1}{C} \sum_{j \ne y} \max(0, m - z_y + z_j)^p`.

    PyTorch's ``MultiMarginLoss`` (divided by the number of classes C, as PyTorch does; the textbook
    form is not). Every class that comes within the margin of the true one costs, not only the best
    (Crammer-Singer). ``p = 2`` is differentiable; at ``p = 1`` the second derivative is 0 almost
    everywhere, so ``grad_and_hessian`` gives 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.weston_watkins_hinge([0, 2], [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]], reduction="none").round(6).tolist()
    [0.566667, 0.0]
    """

    info = LossInfo(
        name="weston_watkins_hinge",
        aliases=("multi_margin", "multi_margin_loss", "MultiMarginLoss"),
        task="multiclass",
        variable="logit",
        formula="sum_{j != y} max(0, margin - z_y + z_j)^p / C",
        gradient="p max(0, s_j)^(p - 1) / C for j != y, minus their sum at y; s_j = margin - z_y + z_j",
        hessian="p = 2: 2 / C for each j != y with s_j > 0, 2 n / C at y (n of them); p = 1: 1 (approximate)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="PyTorch's MultiMarginLoss: every class within the margin of the true one costs.",
        use_when="a max-margin multi-class classifier in PyTorch's convention (MultiMarginLoss)",
        avoid_when="you need probabilities (softmax_cross_entropy)",
        references=("Weston and Watkins, Support vector machines for multi-class pattern recognition, ESANN 1999",
                    "PyTorch, torch.nn.MultiMarginLoss"),
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.multi_margin_loss",
                "the same p, margin and division by the number of classes",
            ),
        ),
    )  # fmt: skip
    inputs = (CLASS_IDS, SCORE_ROWS)
    p = Param(1, _power, "1 or 2", "The power of each violation (2 is the squared hinge).", example=2)
    margin = _MARGIN

    def _specialise(self, info):
        if self.p == 1:
            return info
        return replace(info, hessian_kind="exact", tags=("convex", "differentiable"),
                       hessian="2 / C for each j != y with s_j > 0, 2 n / C at y (n of them)")  # fmt: skip

    def _math(self, xp, order, ids, z):
        classes = z.shape[-1]
        at_true = class_mask(xp, ids, classes)
        zero = xp.zeros_like(z)
        slack = self.margin - take_class(xp, z, ids)[..., None] + z
        active = (slack > 0) & ~at_true
        kept = xp.where(active, slack, zero)
        slope = (xp.astype(active, z.dtype) if self.p == 1 else 2.0 * kept) / classes
        rivals = xp.sum(slope, axis=-1, keepdims=True)
        grad = propagate_nan(xp, slack, xp.where(at_true, -rivals, slope))
        losses = xp.sum(kept if self.p == 1 else kept * kept, axis=-1) / classes
        hessian = 1.0
        if self.p == 2 and order > 1:
            each = xp.astype(active, z.dtype) * (2.0 / classes)
            hessian = propagate_nan(xp, slack, xp.where(at_true, xp.sum(each, axis=-1, keepdims=True), each))
        return propagate_nan(xp, xp.sum(slack, axis=-1), losses), grad, hessian

    def kinks(self):
        return (self.margin,)

    def _optimal_constant(self, targets, weight):
        shares = class_frequencies(self, targets, weight)
        z = _hinge_levels(shares, self.margin) if self.p == 1 else _squared_hinge_scores(shares, self.margin)
        return z - z.mean()


def _hinge_levels(shares, margin) -> np.ndarray:
    r"""The best constant scores of the Weston-Watkins hinge (p = 1): a linear programme whose solution puts the
    classes, in order of share, in contiguous groups one margin apart.

    For classes :math:`c` ahead of :math:`j` by :math:`d` margins the pair costs :math:`n_j (1 + d) + n_c [d = 0]`,
    so a cut after the first :math:`k` classes costs :math:`k S_k` (:math:`S_k` the shares after them) and a group
    ending at :math:`e` saves :math:`(C - e)` times its shares: a dynamic programme over the group ends.
    """
    order = np.argsort(-shares, kind="stable")
    c = shares.size
    prefix = np.concatenate(([0.0], np.cumsum(shares[order])))
    best, start = np.zeros(c + 1), np.zeros(c + 1, dtype=np.int64)
    for e in range(1, c + 1):
        options = best[:e] - (c - e) * (prefix[e] - prefix[:e])
        start[e] = int(np.argmin(options))
        best[e] = options[start[e]] + (e * (prefix[-1] - prefix[e]) if e < c else 0.0)
    levels, e, level = np.zeros(c), c, 0
    while e > 0:  # the groups from the last up
        levels[start[e] : e] = level
        e, level = start[e], level + 1
    z = np.empty(c)
    z[order] = margin * levels
    return z


def _squared_hinge_scores(shares, margin) -> np.ndarray:
    """The best constant scores of the Weston-Watkins hinge at p = 2: Newton's method on the convex, piecewise
    quadratic cost (its active pairs fixed at each step), with a halving line search; scores sum to 0."""
    c = shares.size
    others = ~np.eye(c, dtype=bool)

    def parts(z):
        slack = margin - z[:, None] + z[None, :]  # [c, j]: class c's rows against class j
        active = (slack > 0) & others
        kept = np.where(active, shares[:, None] * slack, 0.0)
        pair = np.where(active, shares[:, None], 0.0)
        pair = pair + pair.T
        hessian = -2.0 * pair
        np.fill_diagonal(hessian, 2.0 * pair.sum(axis=1))
        return float((kept * np.where(active, slack, 0.0)).sum()), 2.0 * (kept.sum(axis=0) - kept.sum(axis=1)), hessian

    z = np.zeros(c)
    bordered = np.zeros((c + 1, c + 1))
    bordered[c, :c] = bordered[:c, c] = 1.0  # the free shift: scores sum to 0
    for _ in range(100):
        cost, gradient, bordered[:c, :c] = parts(z)
        step = np.linalg.lstsq(bordered, np.concatenate((-gradient, [0.0])), rcond=None)[0][:c]
        t = 1.0
        while parts(z + t * step)[0] > cost and t > 1e-12:
            t /= 2
        z = z + t * step
        if np.max(np.abs(t * step)) <= 1e-15 * (1.0 + np.max(np.abs(z))):
            break
    return z


weston_watkins_hinge = WestonWatkinsHinge.as_function()


@register
class SparsemaxLoss(_ClassAxis):
    r"""Sparsemax loss: the Fenchel-Young loss of sparsemax, :math:`\tau - z_y + \frac{1}{2}(1 + \lVert p \rVert^2)`.

    :math:`p = \mathrm{sparsemax}(z) = \max(z - \tau, 0)`, the projection of the scores onto the
    simplex (``lk.sparsemax``). Convex, with gradient :math:`p - e_y`; exactly 0 once the true
    class's score leads the others by 1, so its probabilities are sparse. Optax's
    ``multiclass_sparsemax_loss``. The Hessian diagonal is that of the sparsemax's Jacobian,
    :math:`1 - 1/|S|` on the support S.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.sparsemax_loss([0, 2], [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]], reduction="none").tolist()
    [0.5625, 0.0]
    """

    info = LossInfo(
        name="sparsemax_loss",
        aliases=("multiclass_sparsemax_loss", "sparsemax_cross_entropy"),
        task="multiclass",
        variable="logit",
        formula="tau - z_y + (1 + |p|^2) / 2, p = sparsemax(z) = max(z - tau, 0)",
        gradient="sparsemax(z) - onehot(y)",
        hessian="1 - 1 / |S| on the support S of sparsemax(z), 0 off it",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        summary="The loss whose output is sparsemax: probability rows with exact zeros, and a margin like the hinge.",
        use_when="you want sparse, interpretable class probabilities (attention, label sets) and a convex loss",
        avoid_when="you need a likelihood or log-probabilities (softmax_cross_entropy)",
        references=("Martins and Astudillo, From softmax to sparsemax, ICML 2016",
                    "Blondel, Martins and Niculae, Learning with Fenchel-Young losses, JMLR 21 (2020)"),
        peers=(
            Peer("Optax", "optax.losses.multiclass_sparsemax_loss", "no reduction"),
        ),
    )  # fmt: skip
    inputs = (CLASS_IDS, prediction("y_pred", link=SPARSEMAX, event=1))

    def _math(self, xp, order, ids, z):
        p, tau, shifted = sparsemax_parts(xp, z)  # the loss does not change with a shift of the row
        at_true = class_mask(xp, ids, z.shape[-1])
        z_true = take_class(xp, shifted, ids)
        losses = tau[..., 0] - z_true + 0.5 * (1.0 + xp.sum(p * p, axis=-1))
        grad = p - xp.astype(at_true, z.dtype)
        hessian = None
        if order > 1:
            support = xp.astype(p > 0, z.dtype)
            hessian = propagate_nan(xp, p, support * (1.0 - 1.0 / xp.sum(support, axis=-1, keepdims=True)))
        return losses, grad, hessian

    def _optimal_constant(self, targets, weight):
        return class_frequencies(self, targets, weight)  # sparsemax of a probability row is the row


sparsemax_loss = SparsemaxLoss.as_function()
