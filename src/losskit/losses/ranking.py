r"""Ranking losses over lists: one example is one list of scored items (the list axis last).

``relevance`` holds graded labels (>= 0) and ``scores`` the model's scores, both ``(..., L)``; the
optional ``where`` mask marks the real items of padded lists (a padded item takes no part, and a list
without items costs 0 and does not count in the mean). Scores only rank items within a list, so no
constant score is best: these losses refuse ``optimal_constant``.
"""

from __future__ import annotations

from .._base import Loss
from .._checks import NONNEGATIVE, boolean
from .._info import LossInfo, Peer
from .._xp import device
from ..inputs import mask, prediction, target
from ..numerics import log_softmax, sigmoid, softplus
from ..params import Param
from ..registry import register

_INPUTS = (target("relevance", NONNEGATIVE, event=1), prediction("scores", event=1),
           mask("where", event=1, optional=True))  # fmt: skip


class _Lists(Loss):
    """The shared part: the mean counts the lists that have an item."""

    inputs = _INPUTS

    def _counted_weight(self, xp, weight, relevance, scores, where):
        lists = xp.astype(xp.any(where, axis=-1), scores.dtype)
        return lists if weight is None else weight * lists


@register
class ListNet(_Lists):
    r"""ListNet: the cross-entropy between each list's relevance shares and the softmax of its scores.

    :math:`-\sum_j q_j \log \mathrm{softmax}(s)_j` over the list's items, :math:`q_j = y_j / \sum_k y_k` (Cao et al.'s
    top-one probabilities with the relevance as shares; TF-Ranking's ``SoftmaxLoss``). ``normalize=False`` takes
    :math:`q = y` as it is: Optax's ``ranking_softmax_loss`` and Rax's ``softmax_loss``. A list without relevant
    items costs 0.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.listnet([[1.0, 0.0, 2.0]], [[1.0, 2.0, 0.5]])), 6)  # CATALOGUE.md 7.6
    1.797702
    >>> round(float(lk.listnet([[1.0, 0.0, 2.0]], [[1.0, 2.0, 0.5]], normalize=False)), 6)
    5.393106
    """

    info = LossInfo(
        name="listnet",
        aliases=("listwise_softmax", "ranking_softmax", "softmax_ranking"),
        task="ranking",
        variable="none",
        formula="-sum_j q_j log softmax(s)_j over a list, q = y / sum(y) (normalize) or y",
        gradient="sum(q) softmax(s)_j - q_j",
        hessian="sum(q) softmax(s)_j (1 - softmax(s)_j)",
        tags=("convex",),
        summary="Listwise ranking: the softmax of a list's scores should put its mass where the relevance is.",
        use_when="learning to rank with graded relevance per list (search, recommendation); a strong default",
        avoid_when="only the order of the top few items matters and lists are long (listmle weighs the whole order)",
        references=("Cao et al., Learning to rank: from pairwise approach to listwise approach, ICML 2007",
                    "Optax, optax.losses.ranking_softmax_loss"),
        peers=(
            Peer(
                "Optax", "optax.losses.ranking_softmax_loss",
                "the relevance is not normalised: listnet(normalize=False); no reduction",
            ),
        ),
    )  # fmt: skip
    normalize = Param(True, boolean, "bool", "Divide the relevance by its total over the list (ListNet's shares).",
                      example=False)  # fmt: skip

    def _math(self, xp, order, relevance, scores, where):
        zero = xp.zeros_like(scores)
        y = xp.where(where, relevance, zero)
        if self.normalize:
            total = xp.sum(y, axis=-1, keepdims=True)
            y = xp.where(total > 0, y / xp.where(total > 0, total, xp.ones_like(total)), zero)
        log_p = log_softmax(xp, xp.where(where, scores, xp.full_like(scores, -xp.inf)))
        losses = -xp.sum(xp.where(where, y * log_p, zero), axis=-1)
        if order == 0:
            return (losses,)
        p = xp.exp(log_p)
        mass = xp.sum(y, axis=-1, keepdims=True)
        grad = xp.where(where, mass * p - y, zero)
        return losses, grad, (xp.where(where, mass * p * (1.0 - p), zero) if order > 1 else None)


listnet = ListNet.as_function()


@register
class ListMLE(_Lists):
    r"""ListMLE: the negative log-likelihood of the true order of a list under the Plackett-Luce model of its scores.

    With the items in decreasing relevance :math:`\pi` (ties in list order), the loss is
    :math:`\sum_i \log \sum_{j \ge i} e^{s_{\pi_j}} - s_{\pi_i}`: each item, in turn, should win the softmax of the items
    not yet placed. Rax's ``listmle_loss``; TF-Ranking breaks ties at random instead.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.listmle([[2.0, 0.0, 1.0]], [[1.0, 0.0, 0.5]])), 6)  # log(e + e^.5 + 1) - 1 + log(e^.5 + 1) - .5
    1.154347
    """

    info = LossInfo(
        name="listmle",
        aliases=("list_mle", "plackett_luce"),
        task="ranking",
        variable="none",
        formula="sum_i logsumexp_{j at or after i} s_j - s_i, items in decreasing relevance (ties in list order)",
        gradient="-1 + sum_{i at or before j} softmax over the items from i on, at j",
        hessian="sum_{i at or before j} p_ij (1 - p_ij), p_ij that softmax at j",
        tags=("convex",),
        summary="Listwise ranking by likelihood: the scores should generate the true order, item by item.",
        use_when="the whole order of each list matters, with distinct relevance grades",
        avoid_when="relevance has many ties (their order is arbitrary) or is binary (listnet is better behaved)",
        references=("Xia et al., Listwise approach to learning to rank: theory and algorithm, ICML 2008",
                    "Rax, rax.listmle_loss"),
    )  # fmt: skip

    def _math(self, xp, order, relevance, scores, where):
        # later[..., i, j]: item j is placed at or after item i (both real items)
        position = xp.arange(scores.shape[-1], device=device(scores))
        y_i, y_j = relevance[..., :, None], relevance[..., None, :]
        tie_after = (y_j == y_i) & (position[None, :] >= position[:, None])
        later = where[..., :, None] & where[..., None, :] & ((y_j < y_i) | tie_after)
        s_j = xp.broadcast_to(scores[..., None, :], later.shape)
        log_rest = log_softmax(xp, xp.where(later, s_j, xp.full_like(s_j, -xp.inf)))  # log p_ij
        diagonal = xp.sum(xp.where(later & (position[None, :] == position[:, None]), log_rest, xp.zeros_like(s_j)), axis=-1)
        losses = -xp.sum(xp.where(where, diagonal, xp.zeros_like(scores)), axis=-1)
        if order == 0:
            return (losses,)
        p = xp.where(later, xp.exp(log_rest), xp.zeros_like(s_j))
        grad = xp.sum(p, axis=-2) - xp.astype(where, scores.dtype)
        return losses, grad, (xp.sum(p * (1.0 - p), axis=-2) if order > 1 else None)


listmle = ListMLE.as_function()


@register
class PairwiseLogistic(_Lists):
    r"""Pairwise logistic loss (RankNet): every pair of a list with different relevance, ordered by a logistic loss.

    The loss of a list is :math:`\sum_{y_i > y_j} \log(1 + e^{-(s_i - s_j)})` and the mean counts pairs, not lists:
    ``"mean"`` is Rax's ``pairwise_logistic_loss`` (the mean over every pair of the batch). A list without such a
    pair costs 0.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.pairwise_logistic([[2.0, 0.0, 1.0]], [[1.0, 0.0, 0.5]], reduction="sum")), 6)
    1.261416
    """

    info = LossInfo(
        name="pairwise_logistic",
        aliases=("ranknet", "pairwise_logistic_loss"),
        task="ranking",
        variable="none",
        formula="sum over pairs with y_i > y_j of log(1 + exp(-(s_i - s_j)))",
        gradient="d/d s_k = -sum_{j below k} sigmoid(s_j - s_k) + sum_{i above k} sigmoid(s_k - s_i)",
        hessian="sum over the pairs of k of sigmoid(d) sigmoid(-d), d the pair's score difference",
        tags=("convex",),
        summary="Pairwise ranking: each more relevant item should score above each less relevant one.",
        use_when="learning to rank from graded or binary relevance, or from preferences between pairs",
        avoid_when="only the top of the list matters (listwise losses weigh it more)",
        references=("Burges et al., Learning to rank using gradient descent (RankNet), ICML 2005",
                    "Rax, rax.pairwise_logistic_loss"),
    )  # fmt: skip

    @staticmethod
    def _pairs(xp, relevance, where):
        return where[..., :, None] & where[..., None, :] & (relevance[..., :, None] > relevance[..., None, :])

    def _counted_weight(self, xp, weight, relevance, scores, where):
        pairs = xp.sum(xp.astype(self._pairs(xp, relevance, where), scores.dtype), axis=(-2, -1))
        return pairs if weight is None else weight * pairs

    def _math(self, xp, order, relevance, scores, where):
        above = self._pairs(xp, relevance, where)  # above[..., i, j]: i should score above j
        d = scores[..., :, None] - scores[..., None, :]
        zero = xp.zeros_like(d)
        losses = xp.sum(xp.where(above, softplus(xp, -d), zero), axis=(-2, -1))
        if order == 0:
            return (losses,)
        slope = xp.where(above, sigmoid(xp, -d), zero)  # -d/dd of each pair's loss
        grad = xp.sum(slope, axis=-2) - xp.sum(slope, axis=-1)
        hessian = None
        if order > 1:
            curvature = xp.where(above, sigmoid(xp, d) * sigmoid(xp, -d), zero)
            hessian = xp.sum(curvature, axis=-1) + xp.sum(curvature, axis=-2)
        return losses, grad, hessian


pairwise_logistic = PairwiseLogistic.as_function()
