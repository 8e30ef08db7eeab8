r"""Losses of pairs: a label says which of two scores should rank higher, or whether a distance joins two
matching items. One example per element; labels in {-1, +1} (0 is read as -1)."""

from __future__ import annotations

import numpy as np

from .._base import Loss
from .._checks import NONNEGATIVE, non_negative
from .._info import LossInfo, Peer
from ..inputs import prediction, target
from ..numerics import propagate_nan
from ..params import Param
from ..registry import register
from .binary import SIGNED_LABELS, _signed, positive_share

LABELS = target("y_true", SIGNED_LABELS)


@register
class MarginRanking(Loss):
    r"""Margin ranking loss: :math:`\max(0, m - y (x_1 - x_2))`, zero once the pair is ordered by ``margin``.

    PyTorch's ``MarginRankingLoss``, with the label first: ``y = +1`` says ``x1`` should rank above
    ``x2``, ``y = -1`` the reverse. The second derivative is 0 almost everywhere, so
    ``grad_and_hessian`` gives 1 for each score.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.margin_ranking([1, -1], [0.5, 2.0], [1.0, 1.0], margin=0.5, reduction="none").tolist()
    [1.0, 1.5]
    """

    info = LossInfo(
        name="margin_ranking",
        aliases=("margin_ranking_loss", "MarginRankingLoss", "pairwise_hinge"),
        task="ranking",
        variable="none",
        formula="max(0, margin - y (x1 - x2)), y in {-1, +1}",
        gradient="d/d x1 = -y, d/d x2 = y where margin - y (x1 - x2) > 0, else 0",
        hessian="1 for each score (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="A hinge on the difference of two scores: the one the label prefers must win by the margin.",
        use_when="learning to rank from pairwise preferences (this item above that one), PyTorch's MarginRankingLoss",
        avoid_when="you have graded relevance for whole lists (a listwise loss uses it all), or need probabilities",
        references=("Herbrich, Graepel and Obermayer, Large margin rank boundaries for ordinal regression, 2000",
                    "PyTorch, torch.nn.MarginRankingLoss"),
        peers=(
            Peer("PyTorch", "torch.nn.functional.margin_ranking_loss", "the same margin = 0 by default"),
        ),
    )  # fmt: skip
    inputs = (LABELS, prediction("x1"), prediction("x2"))
    margin = Param(0.0, non_negative, "float >= 0", "How far the preferred score must lead.", example=0.5)

    def _math(self, xp, order, y_true, x1, x2):
        s = _signed(xp, y_true)
        slack = self.margin - s * (x1 - x2)
        active = xp.astype(slack > 0, slack.dtype)
        losses = propagate_nan(xp, slack, xp.where(slack > 0, slack, xp.zeros_like(slack)))
        return losses, (propagate_nan(xp, slack, -s * active), propagate_nan(xp, slack, s * active)), (1.0, 1.0)

    def _optimal_constant(self, targets, weight):
        # the cost depends on d = x1 - x2 alone: n+ max(0, m - d) + n- max(0, m + d), least at d = m where the
        # pairs that want x1 above outweigh the others (-m for the reverse; 0 on a tie)
        d = self.margin * float(np.sign(2.0 * positive_share(targets, weight) - 1.0))
        return np.asarray(d / 2.0), np.asarray(-d / 2.0)


margin_ranking = MarginRanking.as_function()


@register
class HingeEmbedding(Loss):
    r"""Hinge embedding loss: the distance itself for a matching pair, :math:`\max(0, m - d)` for a non-matching one.

    PyTorch's ``HingeEmbeddingLoss`` with the label first: ``d`` is a distance (>= 0) between two
    embeddings, ``y = +1`` for a matching pair, ``-1`` for one that should be at least ``margin`` apart.
    Linear in ``d``: ``grad_and_hessian`` gives the approximate Hessian 1.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.hinge_embedding([1, -1, -1], [0.3, 0.4, 1.5], reduction="none").tolist()
    [0.3, 0.6, 0.0]
    """

    info = LossInfo(
        name="hinge_embedding",
        aliases=("hinge_embedding_loss", "HingeEmbeddingLoss"),
        task="embedding",
        variable="none",
        formula="d if y = +1, max(0, margin - d) if y = -1",
        gradient="1 if y = +1; -1 where d < margin if y = -1, else 0",
        hessian="1 (the true second derivative is 0 almost everywhere)",
        hessian_kind="approximate",
        tags=("convex",),
        summary="Pull matching pairs together by their distance, push others out to the margin.",
        use_when="learning embeddings from matching and non-matching pairs given their distances",
        avoid_when="you can give the embeddings themselves (contrastive or triplet losses shape them directly)",
        references=("Mobahi, Collobert and Weston, Deep learning from temporal coherence in video, ICML 2009",
                    "PyTorch, torch.nn.HingeEmbeddingLoss"),
        peers=(
            Peer("PyTorch", "torch.nn.functional.hinge_embedding_loss"),
        ),
    )  # fmt: skip
    inputs = (LABELS, prediction("distance", NONNEGATIVE))
    margin = Param(1.0, non_negative, "float >= 0", "The distance non-matching pairs are pushed to.", example=2.0)

    def _math(self, xp, order, y_true, d):
        match = _signed(xp, y_true) > 0
        short = d < self.margin
        zero = xp.zeros_like(d)
        losses = xp.where(match, d, xp.where(short, self.margin - d, zero))
        slope = xp.where(match, xp.ones_like(d), xp.where(short, -xp.ones_like(d), zero))
        return propagate_nan(xp, d, losses), propagate_nan(xp, d, slope), 1.0

    def _optimal_constant(self, targets, weight):
        # n+ d + n- max(0, m - d) over d >= 0: 0 when matching pairs outweigh the others, else the margin
        return np.asarray(0.0 if positive_share(targets, weight) >= 0.5 else self.margin)


hinge_embedding = HingeEmbedding.as_function()
