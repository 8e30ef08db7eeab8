r"""Embedding losses: distances between embeddings, one example per row (the embedding axis last).

A constant embedding has no meaning (nor a size the targets could give), so these losses refuse
``optimal_constant``.
"""

from __future__ import annotations

from .._base import Loss
from .._checks import at_least_one, boolean, choice, non_negative, within
from .._info import LossInfo, Peer
from ..inputs import prediction, target
from ..numerics import propagate_nan
from ..params import Param
from ..registry import register
from .binary import SIGNED_LABELS, _signed


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


def _norm_pair(xp, x, y, p: float, order: int):
    """The p-norm distance of rows ``x`` and ``y``, ``(d, g_x, g_y, h_x, h_y)``: a function of ``x - y``."""
    d, g, h = distance(xp, x - y, p, order)
    return d, g, -g, h, h


def _cosine_pair(xp, x, y, order: int):
    r"""The cosine distance :math:`1 - \cos(x, y)` of rows and its derivatives ``(d, g_x, g_y, h_x, h_y)``.

    :math:`\partial_x \cos = y / (|x||y|) - \cos\, x / |x|^2` and
    :math:`\partial^2_{x_j} \cos = -2 x_j y_j / (|x|^3 |y|) + 3 \cos\, x_j^2 / |x|^4 - \cos / |x|^2`; a zero row
    has cosine 0 (distance 1) and no slope, the roots taken of stand-ins there.
    """
    rows = _cosine_rows(xp, x, y)
    return (1.0 - rows[0], *_cosine_slopes(xp, x, y, rows, 1.0, order))


def _cosine_rows(xp, x, y):
    """Per row: the cosine (0 where a row is zero), whether neither row is zero, and the squared norms (1 where
    a row is zero). A row holding NaN is not zero: its cosine is NaN."""
    nx, ny = xp.vecdot(x, x), xp.vecdot(y, y)
    both = (nx != 0) & (ny != 0)
    safe_x, safe_y = xp.where(both, nx, xp.ones_like(nx)), xp.where(both, ny, xp.ones_like(ny))
    cos = xp.where(both, xp.vecdot(x, y) / xp.sqrt(safe_x * safe_y), xp.zeros_like(nx))
    return cos, both, safe_x, safe_y


def _cosine_slopes(xp, x, y, rows, k, order: int):
    """``k`` (a number, or one per row) times the derivatives of the cosine distance: ``(g_x, g_y, h_x, h_y)``.
    Each gradient is a row factor times x plus one times y: each row of x and y is read once."""
    cos, both, nx, ny = rows
    norms = xp.sqrt(nx * ny)  # |x| |y|
    live = both[..., None]
    k_rows = k[..., None] if hasattr(k, "shape") else k

    def slope(a, b, na):  # k (cos a / |a|^2 - b / (|a| |b|))
        return xp.where(live, (k * cos / na)[..., None] * a - (k / norms)[..., None] * b, xp.zeros_like(a))

    def curvature(a, b, na):  # k (2 a b / (|a|^3 |b|) - 3 cos a^2 / |a|^4 + cos / |a|^2)
        c, n, m = cos[..., None], na[..., None], norms[..., None]
        return xp.where(live, k_rows * (2.0 * a * b / (n * m) - 3.0 * c * a * a / (n * n) + c / n), xp.zeros_like(a))

    h_x = h_y = None
    if order > 1:
        h_x, h_y = curvature(x, y, nx), curvature(y, x, ny)
    return slope(x, y, nx), slope(y, x, ny), h_x, h_y


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
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.triplet_margin_loss",
                "adds eps=1e-6 to the differences before the norm",
            ),
            Peer("Optax", "optax.losses.triplet_margin_loss", "adds eps=1e-6 inside the norm; no reduction"),
        ),
    )
    inputs = (prediction("anchor", event=1), prediction("positive", event=1), prediction("negative", event=1))
    margin = Param(1.0, non_negative, "float >= 0", "How much closer the positive must be.", example=0.5)
    p = Param(2.0, at_least_one, "float >= 1", "The degree of the norm.", example=1.5)
    swap = Param(False, boolean, "bool", "Use the positive-negative distance where it is smaller.", example=True)
    distance = Param("euclidean", choice("euclidean", "cosine"), '"euclidean" or "cosine"',
                     "The p-norm of the difference, or 1 - cosine similarity (then p is not used).",
                     example="cosine")  # fmt: skip

    def _pair(self, xp, x, y, order):
        return _cosine_pair(xp, x, y, order) if self.distance == "cosine" else _norm_pair(xp, x, y, self.p, order)

    def _math(self, xp, order, anchor, positive, negative):
        # each distance with its derivatives in its first and second row: (d, g1, g2, h1, h2)
        d_ap, g1_ap, g2_ap, h1_ap, h2_ap = self._pair(xp, anchor, positive, order)
        d_an, g1_an, g2_an, h1_an, h2_an = self._pair(xp, anchor, negative, order)
        zero = xp.zeros_like(anchor)
        if self.swap:
            d_pn, g1_pn, g2_pn, h1_pn, h2_pn = self._pair(xp, positive, negative, order)
            by_positive = d_pn < d_an
            d_neg = xp.where(by_positive, d_pn, d_an)
            swapped = by_positive[..., None]

            def pick(via_an, via_pn):  # the derivative of the negative distance taken, from each pair
                return xp.where(swapped, zero, via_an), xp.where(swapped, via_pn, zero)
        else:
            d_neg = d_an
            g1_pn = g2_pn = h1_pn = h2_pn = zero

            def pick(via_an, via_pn):
                return via_an, zero
        slack = d_ap - d_neg + self.margin
        losses = propagate_nan(xp, slack, xp.where(slack > 0, slack, xp.zeros_like(slack)))
        if order == 0:
            return (losses,)
        active = propagate_nan(xp, slack, xp.astype(slack > 0, slack.dtype))[..., None]
        (a1, _), (a2, p1), (_, p2) = pick(g1_an, g1_pn), pick(g2_an, g1_pn), pick(g2_an, g2_pn)
        grads = (active * (g1_ap - a1), active * (g2_ap - p1), -active * (a2 + p2))
        hessians = None
        if order > 1:
            (a1, _), (a2, p1), (_, p2) = pick(h1_an, h1_pn), pick(h2_an, h1_pn), pick(h2_an, h2_pn)
            hessians = (active * (h1_ap - a1), active * (h2_ap - p1), -active * (a2 + p2))
        return losses, grads, hessians


triplet_margin = TripletMargin.as_function()


@register
class CosineEmbedding(Loss):
    r"""Cosine embedding loss: :math:`1 - \cos(x_1, x_2)` for a matching pair, :math:`\max(0, \cos - m)` otherwise.

    PyTorch's ``CosineEmbeddingLoss`` with the label first (``+1`` matching, ``-1`` or 0 not); one
    example per row. A zero row has cosine 0 and no slope (PyTorch adds 1e-12 to each squared norm,
    which gives it a slope of about 1e6).

    Examples
    --------
    >>> import losskit as lk
    >>> x1, x2 = [[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]], [[2.0, 1.0, 1.0], [1.0, -0.5, 0.5]]
    >>> lk.cosine_embedding([1, -1], x1, x2, margin=0.2, reduction="none").round(6).tolist()
    [0.269703, 0.616497]
    """

    info = LossInfo(
        name="cosine_embedding",
        aliases=("cosine_embedding_loss", "CosineEmbeddingLoss"),
        task="embedding",
        variable="none",
        formula="1 - cos(x1, x2) if y = +1, max(0, cos(x1, x2) - margin) if y = -1",
        gradient="-/+ d cos / d x, d cos / d x1 = x2 / (|x1| |x2|) - cos x1 / |x1|^2 (the same for x2)",
        hessian="-/+ (-2 x1 x2 / (|x1|^3 |x2|) + 3 cos x1^2 / |x1|^4 - cos / |x1|^2), entrywise (the same for x2)",
        tags=("bounded",),
        summary="Pull matching pairs to the same direction, push others below a cosine margin.",
        use_when="learning embeddings compared by their angle (text and image retrieval) from matching pairs",
        avoid_when="the lengths of the embeddings carry meaning (a Euclidean loss keeps them)",
        references=("PyTorch, torch.nn.CosineEmbeddingLoss",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.cosine_embedding_loss"),
        ),
    )  # fmt: skip
    inputs = (target("y_true", SIGNED_LABELS), prediction("x1", event=1), prediction("x2", event=1))
    margin = Param(0.0, within(-1.0, 1.0, why="a cosine"), "float in [-1, 1]",
                   "The cosine non-matching pairs are pushed below.", example=0.2)  # fmt: skip

    def _math(self, xp, order, y_true, x1, x2):
        rows = _cosine_rows(xp, x1, x2)
        d = 1.0 - rows[0]
        match = _signed(xp, y_true) > 0
        slack = 1.0 - d - self.margin  # cos - margin
        losses = xp.where(match, d, xp.where(slack > 0, slack, xp.zeros_like(d)))
        sign = xp.where(match, xp.ones_like(d), -xp.astype(slack > 0, d.dtype))
        g1, g2, h1, h2 = _cosine_slopes(xp, x1, x2, rows, sign, order)
        return propagate_nan(xp, d, losses), (g1, g2), ((h1, h2) if order > 1 else None)


cosine_embedding = CosineEmbedding.as_function()


@register
class Contrastive(Loss):
    r"""Contrastive loss (Hadsell, Chopra and LeCun): :math:`\frac12 d^2` for a similar pair,
    :math:`\frac12 \max(0, m - d)^2` for a dissimilar one, :math:`d = \lVert x_1 - x_2 \rVert`.

    ``y_true`` is +1 for a similar pair and -1 (or 0) for a dissimilar one (the paper writes Y = 0 for
    similar). Squared, as in the paper; pytorch-metric-learning's ``ContrastiveLoss`` is not. Where the
    two rows coincide the distance has no slope, and the loss takes 0.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.contrastive([1, -1], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.6, 0.8]], margin=2.0, reduction="none").round(6).tolist()
    [1.0, 0.5]
    """

    info = LossInfo(
        name="contrastive",
        aliases=("contrastive_loss", "siamese_contrastive"),
        task="embedding",
        variable="none",
        formula="d^2 / 2 if y = +1, max(0, margin - d)^2 / 2 if y = -1, d = |x1 - x2|",
        gradient="d/d x1 = x1 - x2 if y = +1, -(margin - d) (x1 - x2) / d where d < margin if y = -1; d/d x2 the opposite",
        hessian="1 if y = +1; g^2 - (margin - d) h where d < margin if y = -1, g and h the derivatives of d",
        tags=("differentiable",),
        summary="Siamese networks' loss: similar pairs pulled together, dissimilar ones pushed out to the margin.",
        use_when="learning embeddings from pairs labelled similar or dissimilar (siamese networks)",
        avoid_when="you have class labels for whole batches (info-NCE uses every negative), or triplets",
        references=("Hadsell, Chopra and LeCun, Dimensionality reduction by learning an invariant mapping, CVPR 2006",),
    )  # fmt: skip
    inputs = CosineEmbedding.inputs
    margin = Param(1.0, non_negative, "float >= 0", "The distance dissimilar pairs are pushed to.", example=2.0)

    def _math(self, xp, order, y_true, x1, x2):
        d, g, h = distance(xp, x1 - x2, 2.0, order)
        similar = (_signed(xp, y_true) > 0)[..., None]
        gap = self.margin - d
        short = gap > 0
        pushed = xp.where(short, gap, xp.zeros_like(gap))[..., None]
        losses = xp.where(similar[..., 0], 0.5 * d * d, 0.5 * pushed[..., 0] * pushed[..., 0])
        grad = xp.where(similar, x1 - x2, -pushed * g)
        hessians = None
        if order > 1:
            near = xp.where(similar, xp.ones_like(x1), xp.astype(short[..., None], x1.dtype) * g * g - pushed * h)
            hessians = (near, near)
        return propagate_nan(xp, d, losses), (grad, -grad), hessians


contrastive = Contrastive.as_function()
