r"""Batch-wise contrastive losses: every example's negatives are the other examples of the batch.

The loss of one example depends on the whole batch (``Loss.batch_coupled``). A sample weight scales
an example's loss, and a weight of 0 drops it, but its embeddings still serve as the others'
negatives; to take a row out of the batch, leave it out. ``normalizer=`` divides the sum of the
losses: under data parallelism it is the global count, and negatives come from the local shard
unless the embeddings are gathered first.
"""

from __future__ import annotations

from dataclasses import replace

from .._base import Loss
from .._checks import GROUP_LABELS, boolean, choice, positive
from .._info import LossInfo, Peer
from .._xp import index_dtype
from ..inputs import prediction, target
from ..params import Param
from ..registry import register

_TEMPERATURE = Param(0.07, positive, "float > 0", "Divides the similarities: lower values sharpen the softmax.",
                     example=0.5)  # fmt: skip
_SIMILARITY = Param("cosine", choice("cosine", "dot"), '"cosine" or "dot"',
                    "Cosine similarity of the rows, or their dot product (rows already normalised and scaled, "
                    "such as CLIP's embeddings times its learned scale).", example="dot")  # fmt: skip


def _unit_rows(xp, x, similarity: str):
    r"""The rows of ``x`` over their norms (a zero row stays 0) and the pullback of a row gradient to ``x``.

    The pullback of :math:`\partial L / \partial u` is :math:`(g - (g \cdot u) u) / \lVert x \rVert`.
    """
    if similarity == "dot":
        return x, lambda g: g
    squared = xp.sum(x * x, axis=-1, keepdims=True)
    live = squared > 0
    norm = xp.sqrt(xp.where(live, squared, xp.ones_like(squared)))
    u = xp.where(live, x / norm, xp.zeros_like(x))

    def pullback(g):
        return xp.where(live, (g - xp.sum(g * u, axis=-1, keepdims=True) * u) / norm, xp.zeros_like(g))

    return u, pullback


class _Similarities(Loss):
    """The shared part: bounded with cosine similarities (at most log N + 2 / temperature), not with dot products."""

    def _specialise(self, info):
        return info if self.similarity == "cosine" else replace(info, tags=())


def _logsumexp(xp, z, axis: int):
    top = xp.max(z, axis=axis, keepdims=True)
    top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
    return xp.squeeze(top, axis=axis) + xp.log(xp.sum(xp.exp(z - top), axis=axis))


@register
class InfoNCE(_Similarities):
    r"""InfoNCE: each query should pick its own key out of all the batch's keys, a softmax over similarities.

    Row ``i`` of ``query`` and row ``i`` of ``key`` are a positive pair (two views of one image, an image
    and its caption); every other key is a negative. With :math:`z_{ij} = \mathrm{sim}(q_i, k_j) / \tau`
    the loss of example ``i`` is :math:`\log \sum_j e^{z_{ij}} - z_{ii}`: the sparse softmax
    cross-entropy of row ``i`` with class ``i`` (van den Oord et al.; MoCo). ``symmetric=True`` averages
    it with the same over column ``i`` (the key picks its query): CLIP's loss.

    Examples
    --------
    >>> import losskit as lk
    >>> q, k = [[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.6, 0.8]]
    >>> lk.info_nce(q, k, temperature=0.5, reduction="none").round(6).tolist()  # log(1 + e^(1.2 - 2)), log(1 + e^(0 - 1.6))
    [0.371101, 0.183901]
    """

    info = LossInfo(
        name="info_nce",
        aliases=("infonce", "info_nce_loss", "clip_loss"),
        task="embedding",
        variable="none",
        formula="logsumexp_j z_ij - z_ii, z_ij = sim(query_i, key_j) / temperature (symmetric: the mean with "
                "logsumexp_j z_ji - z_ii)",
        gradient="d/d z_ij = softmax_j(z_i)_j - [i = j] (symmetric: the mean with the column softmax), "
                 "through the normalisation of the rows: (g - (g . u) u) / |x|",
        hessian="not given: each example's loss depends on every key of the batch",
        hessian_kind=None,
        tags=("bounded",),
        summary="Contrastive learning with in-batch negatives: each query's positive is its own key, all others negatives.",
        use_when="self-supervised or paired (image-text) representation learning with large batches",
        avoid_when="batches are small (few negatives), or duplicates in a batch are false negatives (use ntxent "
                   "with group labels)",
        references=("van den Oord, Li and Vinyals, Representation learning with contrastive predictive coding, 2018",
                    "Radford et al., Learning transferable visual models from natural language supervision (CLIP), ICML 2021"),
    )  # fmt: skip
    inputs = (prediction("query", event=1), prediction("key", event=1))
    batch_coupled = True
    temperature = _TEMPERATURE
    symmetric = Param(False, boolean, "bool", "Average with the key-to-query direction (CLIP).", example=True)
    similarity = _SIMILARITY

    def _math(self, xp, order, query, key):
        t = self.temperature
        u, u_back = _unit_rows(xp, query, self.similarity)
        v, v_back = _unit_rows(xp, key, self.similarity)
        z = xp.matmul(u, xp.matrix_transpose(v)) / t
        own = xp.sum(u * v, axis=-1) / t
        by_row = _logsumexp(xp, z, 1)
        losses = by_row - own
        if self.symmetric:
            by_column = _logsumexp(xp, z, 0)
            losses = 0.5 * (losses + by_column - own)

        def pullback(scale):
            s = scale[:, None]
            g = s * xp.exp(z - by_row[:, None])
            if self.symmetric:
                g = 0.5 * (g + xp.matrix_transpose(s) * xp.exp(z - by_column[None, :]))
            g_u = (xp.matmul(g, v) - s * v) / t
            g_v = (xp.matmul(xp.matrix_transpose(g), u) - s * u) / t
            return u_back(g_u), v_back(g_v)

        return losses, pullback


info_nce = InfoNCE.as_function()


@register
class NTXent(_Similarities):
    r"""NT-Xent with group labels: rows with the same label are positives of each other, all others negatives.

    Optax's ``ntxent`` (SimCLR's loss with every positive counted; with two views per image labelled by the
    image, it is SimCLR's). With :math:`z_{ij} = \mathrm{sim}(e_i, e_j) / \tau` the loss of a positive pair
    :math:`(i, p)` is :math:`\log(e^{z_{ip}} + \sum_{n \in N(i)} e^{z_{in}}) - z_{ip}`, :math:`N(i)` the rows whose
    label differs. The loss of example ``i`` is the sum over its positives, and the mean counts positive
    pairs (each example weighs its own): ``"mean"`` is Optax's mean over all positive pairs. A row without
    positives costs 0; without negatives its pairs cost 0.

    Examples
    --------
    >>> import losskit as lk
    >>> e = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]]
    >>> lk.ntxent([0, 0, 1, 1], e, temperature=0.5, reduction="none").round(6).tolist()
    [0.233257, 0.627123, 0.627123, 0.233257]
    """

    info = LossInfo(
        name="ntxent",
        aliases=("nt_xent", "ntxent_loss", "supervised_contrastive"),
        task="embedding",
        variable="none",
        formula="sum over positives p of log(exp(z_ip) + sum_n exp(z_in)) - z_ip, z_ij = sim(e_i, e_j) / temperature, "
                "n over the rows with another label",
        gradient="d/d z_ip = sigma_ip - 1, d/d z_in = exp(z_in) sum_p exp(-D_ip), D_ip the pair's log-denominator; "
                 "z is symmetric, then through the normalisation of the rows",
        hessian="not given: each example's loss depends on every row of the batch",
        hessian_kind=None,
        tags=("bounded",),
        summary="Contrastive learning with labels: rows of a group pulled together, every other row pushed away.",
        use_when="SimCLR-style self-supervision (views of an image share a label) or supervised contrastive learning",
        avoid_when="you have exactly one paired key per query (info_nce is the same and cheaper to reason about)",
        references=("Chen et al., A simple framework for contrastive learning of visual representations (SimCLR), ICML 2020",
                    "Optax, optax.losses.ntxent"),
        peers=(
            Peer("Optax", "optax.losses.ntxent", "the same temperature = 0.07 by default"),
        ),
    )  # fmt: skip
    inputs = (target("labels", GROUP_LABELS), prediction("embeddings", event=1))
    batch_coupled = True
    temperature = _TEMPERATURE
    similarity = _SIMILARITY

    @staticmethod
    def _groups(xp, labels):
        same = labels[:, None] == labels[None, :]
        index = xp.cumulative_sum(xp.ones_like(labels, dtype=index_dtype(xp)))  # row numbers, the count known or not
        positive = same & (index[:, None] != index[None, :])
        return positive, ~same

    def _counted_weight(self, xp, weight, labels, embeddings):
        positive, _ = self._groups(xp, labels)
        pairs = xp.sum(xp.astype(positive, embeddings.dtype), axis=1)
        return pairs if weight is None else weight * pairs

    def _math(self, xp, order, labels, embeddings):
        t = self.temperature
        positive, negative = self._groups(xp, labels)
        u, back = _unit_rows(xp, embeddings, self.similarity)
        z = xp.matmul(u, xp.matrix_transpose(u)) / t
        zero = xp.zeros_like(z)
        # log sum_n exp(z_in) over the negatives, -inf for a row without any
        top = xp.max(xp.where(negative, z, xp.full_like(z, -xp.inf)), axis=1, keepdims=True)
        has = xp.isfinite(top)
        top = xp.where(has, top, xp.zeros_like(top))
        total = xp.sum(xp.where(negative, xp.exp(z - top), zero), axis=1, keepdims=True)
        others = xp.where(has, top + xp.log(xp.where(has, total, xp.ones_like(total))), xp.full_like(top, -xp.inf))
        log_denominator = xp.logaddexp(z, others)
        losses = xp.sum(xp.where(positive, log_denominator - z, zero), axis=1)

        def pullback(scale):
            s = scale[:, None]
            g_positive = xp.where(positive, s * (xp.exp(z - log_denominator) - 1.0), zero)
            share = xp.sum(xp.where(positive, xp.exp(others - log_denominator), zero), axis=1, keepdims=True)
            g_negative = xp.where(negative, s * share * xp.exp(z - xp.where(has, others, xp.zeros_like(others))), zero)
            g = g_positive + g_negative
            return back(xp.matmul(g + xp.matrix_transpose(g), u) / t)

        return losses, pullback


ntxent = NTXent.as_function()
