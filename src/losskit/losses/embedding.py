r"""Embedding losses: distances between embeddings, one example per row, no targets."""

from __future__ import annotations

from .._base import Loss
from .._checks import at_least_one, boolean, non_negative
from .._info import LossInfo
from ..inputs import prediction
from ..numerics import propagate_nan
from ..params import Param
from ..registry import register


def distance(xp, x, p: float, order: int):
    """The p-norm of each row of ``x`` and, with ``order``, its gradient and Hessian diagonal per entry.

    At a zero row the gradient is 0 (the lowest-norm subgradient) and so is the Hessian; the roots
    are taken of stand-ins there, so that autodiff sees the same.
    """
    a = xp.abs(x)
    if p == 1:
        d = xp.sum(a, axis=-1)
        return d, xp.sign(x), (xp.zeros_like(x) if order > 1 else None)
    total = xp.sum(a * a if p == 2 else a**p, axis=-1)
    positive = total > 0
    safe_total = xp.where(positive, total, xp.ones_like(total))
    d = xp.where(positive, xp.sqrt(safe_total) if p == 2 else safe_total ** (1.0 / p), xp.zeros_like(total))
    safe_d = xp.where(positive, d, xp.ones_like(d))[..., None]
    at_zero = ~positive[..., None]
    if p == 2:
        grad = x / safe_d
        hessian = (safe_d * safe_d - x * x) / (safe_d * safe_d * safe_d) if order > 1 else None
    else:
        grad = xp.sign(x) * (a / safe_d) ** (p - 1)
        hessian = None
        if order > 1:
            s = safe_total[..., None]
            hessian = (p - 1) * a ** (p - 2) * (s - a**p) * s ** (1.0 / p - 2)
    grad = xp.where(at_zero, xp.zeros_like(x), grad)
    if hessian is not None:
        hessian = xp.where(at_zero, xp.zeros_like(x), hessian)
    return d, grad, hessian


@register
class TripletMargin(Loss):
    r"""Triplet margin loss: an anchor should be closer to its positive than to its negative, by ``margin``.

    PyTorch's ``triplet_margin_loss``; one example per row (the embedding axis is the last). With
    ``swap`` the negative's distance is the smaller of anchor-negative and positive-negative (Balntas
    et al.). PyTorch adds ``eps = 1e-6`` to each difference before its norm; this loss does not (it
    equals PyTorch's with ``eps=0``), and takes the lowest-norm subgradient where two embeddings
    coincide.

    Examples
    --------
    >>> import losskit as lk
    >>> anchor, positive, negative = [[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 2.0]], [[0.5, 0.5], [2.5, 1.0]]
    >>> lk.triplet_margin(anchor, positive, negative, reduction="none").round(6).tolist()  # 1 - 0.707107 + 1, 1 - 1.5 + 1
    [1.292893, 0.5]
    >>> [g.shape for g in lk.TripletMargin().grad(anchor, positive, negative)]  # one gradient per embedding
    [(2, 2), (2, 2), (2, 2)]
    """

    info = LossInfo(
        name="triplet_margin",
        aliases=("triplet_margin_loss", "triplet"),
        task="embedding",
        variable="none",
        formula="max(0, d(anchor, positive) - d(anchor, negative) + margin), d the p-norm of the difference",
        gradient="where active: d/d anchor = g(a - pos) - g(a - neg), d/d positive = -g(a - pos), "
        "d/d negative = g(a - neg), g the gradient of the norm",
        hessian="where active: the diagonal of each norm's Hessian, with the signs of the gradient",
        summary="Metric learning from triplets: pull each anchor to its positive, push it from its negative.",
        use_when="learning embeddings (faces, retrieval) from triplets of an anchor, a match and a non-match",
        avoid_when="you have class labels for a whole batch (a contrastive loss over all pairs uses them better)",
        references=(
            "Schroff et al., FaceNet: a unified embedding for face recognition and clustering, CVPR 2015",
            "Balntas et al., Learning local feature descriptors with triplets and shallow convolutional neural networks, BMVC 2016",
        ),
    )
    inputs = (prediction("anchor", event=1), prediction("positive", event=1), prediction("negative", event=1))
    margin = Param(1.0, non_negative, "float >= 0", "How much closer the positive must be.", example=0.5)
    p = Param(2.0, at_least_one, "float >= 1", "The degree of the norm.", example=1.5)
    swap = Param(False, boolean, "bool", "Use the positive-negative distance where it is smaller.", example=True)

    def _math(self, xp, order, anchor, positive, negative):
        d_ap, g_ap, h_ap = distance(xp, anchor - positive, self.p, order)
        d_an, g_an, h_an = distance(xp, anchor - negative, self.p, order)
        if self.swap:
            d_pn, g_pn, h_pn = distance(xp, positive - negative, self.p, order)
            by_positive = d_pn < d_an
            d_neg = xp.where(by_positive, d_pn, d_an)
        else:
            by_positive = None
            d_neg = d_an
        slack = d_ap - d_neg + self.margin
        losses = propagate_nan(xp, slack, xp.where(slack > 0, slack, xp.zeros_like(slack)))
        if order == 0:
            return (losses,)
        active = propagate_nan(xp, slack, xp.astype(slack > 0, slack.dtype))[..., None]
        zero = xp.zeros_like(anchor)
        if by_positive is None:
            via_an, via_pn, hv_an, hv_pn = g_an, zero, h_an, zero
        else:
            swapped = by_positive[..., None]
            via_an, via_pn = xp.where(swapped, zero, g_an), xp.where(swapped, g_pn, zero)
            if order > 1:
                hv_an, hv_pn = xp.where(swapped, zero, h_an), xp.where(swapped, h_pn, zero)
        grads = (active * (g_ap - via_an), active * (-g_ap - via_pn), active * (via_an + via_pn))
        hessians = None
        if order > 1:
            hessians = (active * (h_ap - hv_an), active * (h_ap - hv_pn), -active * (hv_an + hv_pn))
        return losses, grads, hessians


triplet_margin = TripletMargin.as_function()
