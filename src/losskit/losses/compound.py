r"""Compound losses: a weighted sum of losses over the same inputs, itself a loss like any other."""

from __future__ import annotations

import math
from dataclasses import replace

from .._base import Loss
from .._info import HESSIAN_KINDS, LossInfo
from .._optimal import newton_row, numeric_constant
from ..errors import InputError
from ..inputs import SAMPLE
from ..params import Param
from ..registry import get, register
from . import binary, segmentation

#: How many trailing axes an example spans, to order the terms' events (the compound takes the widest).
_EVENT_RANK = {0: 0, 1: 1, SAMPLE: 2}


def _terms(loss_name: str, name: str, value) -> tuple:
    """``((weight, loss), ...)`` from items ``(weight, loss)`` or ``loss`` (weight 1), each loss a name, a
    config dict, a spec string or a loss object."""
    items = tuple(value) if isinstance(value, (list, tuple)) else None
    if not items:
        raise InputError(f"{loss_name}: {name} must be a non-empty sequence of (weight, loss) pairs; got {value!r}.")
    terms = []
    for item in items:
        weight, loss = item if isinstance(item, (list, tuple)) and len(item) == 2 else (1.0, item)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < math.inf:
            raise InputError(f"{loss_name}: each weight of {name} must be a finite number >= 0; got {weight!r}.")
        terms.append((float(weight), get(loss)))
    if not any(weight > 0 for weight, _ in terms):
        raise InputError(f"{loss_name}: {name} needs a weight > 0; got {[w for w, _ in terms]}.")
    return tuple(terms)


@register
class Compound(Loss):
    r"""A weighted sum of losses over the same inputs: :math:`\ell_i = \sum_k a_k \ell_{k,i}` for each example.

    Build it with ``lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy"))`` (or ``lk.Compound(terms=...)``;
    its function form is ``lk.weighted_sum(*arrays, terms=...)``). The terms take the same
    arrays (the same roles, input spaces and class axis); an example is the widest of theirs, and a term
    with smaller examples gives each the mean of its own: Dice (one value per image) plus per-pixel
    binary cross-entropy is, per image, Dice plus the mean cross-entropy over its pixels. The compound's
    reduction and weights apply once, to these sums (the terms' own reductions are not used), so its value,
    gradient and Hessian are the weighted sums of the terms' under the same reduction.

    Examples
    --------
    >>> import losskit as lk
    >>> loss = lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy"))
    >>> y, p = [[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.2, 0.7, 0.4]]
    >>> bool(abs(loss(y, p) - (0.5 * lk.dice(y, p) + 0.5 * lk.binary_cross_entropy(y, p))) < 1e-15)
    True
    >>> lk.get(loss.config()) == loss
    True
    """

    info = LossInfo(
        name="weighted_sum",
        aliases=("compound", "combo", "compound_loss"),
        task="segmentation",
        variable="none",
        formula="sum_k weight_k loss_k, each term's per-example loss (averaged over an example's entries where "
                "its examples are smaller)",
        gradient="sum_k weight_k grad_k",
        hessian="sum_k weight_k hessian_k (the kind is the weakest of the terms')",
        tags=("differentiable",),
        summary="A weighted sum of losses over the same inputs, such as Dice plus cross-entropy.",
        use_when="segmentation with small foregrounds (Dice + cross-entropy, Dice + focal), or any two goals at once",
        avoid_when="one loss does the job: each term adds a weight to tune",
        references=("Taghanaki et al., Combo loss: handling input and output imbalance in multi-organ segmentation, "
                    "Computerized Medical Imaging and Graphics 75 (2019)",
                    "Ma et al., Loss odyssey in medical image segmentation, Medical Image Analysis 71 (2021)"),
    )  # fmt: skip
    inputs = segmentation.Dice.inputs
    tags_complete = False  # a sum can be convex, or bounded, where a term alone is not
    terms = Param(((1.0, segmentation.Dice()), (1.0, binary.BinaryCrossEntropy())), _terms, "sequence of (weight, loss)",
                  "The terms: each a loss (a name, config dict or loss object) with its weight.",
                  example=((0.7, "focal_tversky"), (0.3, "binary_focal")))  # fmt: skip

    def _check_hyperparameters(self) -> None:
        name = self.info.name
        lead = max((loss for _, loss in self.terms), key=lambda loss: _EVENT_RANK[loss.info.inputs[loss._first].event])
        for _, loss in self.terms:
            problem = _incompatible(loss, lead)
            if problem:
                raise InputError(f"{name}: {loss.info.name} cannot be a term beside {lead.info.name}: {problem}.")
        # a term whose mean counts something of its own (lists, pairs) counts for the sum; class weights are refused
        counters = [loss for _, loss in self.terms
                    if type(loss)._counted_weight is not Loss._counted_weight and not hasattr(loss, "class_weight")]
        if len({type(loss)._counted_weight for loss in counters}) > 1:
            raise InputError(f"{name}: the terms' means count different things (lists, pairs): give them one each.")
        object.__setattr__(self, "_counter", counters[0] if counters else None)
        object.__setattr__(self, "_lead", lead)
        object.__setattr__(self, "_positions", lead._positions)
        object.__setattr__(self, "_first", lead._first)

    @property
    def class_axis(self):
        """The leading term's class axis of whole samples (the layout every term then sees)."""
        return getattr(self._lead, "class_axis", None)

    def _specialise(self, info: LossInfo) -> LossInfo:
        infos = [loss.info for _, loss in self.terms]
        lead = self._lead.info
        kinds = [i.hessian_kind for i in infos]
        kind = None if None in kinds else max(kinds, key=HESSIAN_KINDS.index)
        # shared tags hold for the sum (a proper scoring rule's best constant is the lead's only alone)
        tags = tuple(t for t in lead.tags if t != "proper_scoring_rule" and all(t in i.tags for i in infos))
        variables = {i.variable for i in infos}
        return replace(info.with_inputs(lead.inputs), task=lead.task, hessian_kind=kind, tags=tags,
                       variable=variables.pop() if len(variables) == 1 else "none")  # fmt: skip

    def _counted_weight(self, xp, weight, *arrays):
        return None if self._counter is None else self._counter._counted_weight(xp, weight, *arrays)

    def _optimal_constant(self, targets, weight):
        (spec,) = self.info.predictions if len(self.info.predictions) == 1 else (None,)
        if spec is None or spec.event != 1:
            return numeric_constant(self, targets, weight)  # refuses several predictions
        return newton_row(self, targets, weight, self._lead._optimal_constant(targets, weight))

    def config(self) -> dict:
        return {"name": self.info.name, "terms": [[w, loss.config()] for w, loss in self.terms],
                "reduction": self.reduction}  # fmt: skip

    def __hash__(self):
        return hash((type(self), self.terms, self.reduction))

    def kinks(self):
        return tuple(sorted({k for _, loss in self.terms for k in loss.kinks()})) if self.info.variable != "none" else ()

    def _math(self, xp, order, *arrays):
        predictions = [arrays[i] for i in self._positions]
        rank = _EVENT_RANK[self._lead.info.inputs[self._first].event]
        losses, grads, hessians = 0.0, [0.0] * len(predictions), [0.0] * len(predictions)
        for weight, loss in self.terms:
            term = (tuple(loss._math(xp, order, *arrays)) + (None, None))[:3]
            share = weight
            if _EVENT_RANK[loss.info.inputs[loss._first].event] < rank:  # smaller examples: their mean
                axes = tuple(range(1, term[0].ndim)) if rank == _EVENT_RANK[SAMPLE] else (-1,)
                term = (xp.mean(term[0], axis=axes), *term[1:])
                share = weight / math.prod([predictions[0].shape[a] for a in axes])
            losses = losses + weight * term[0]
            if order > 0:
                grads = [t + share * d for t, d in zip(grads, _per_prediction(xp, term[1], predictions))]
            if order > 1:
                hessians = [t + share * d for t, d in zip(hessians, _per_prediction(xp, term[2], predictions))]
        return losses, tuple(grads), tuple(hessians)


def _per_prediction(xp, derivative, predictions) -> list:
    """A term's derivatives as one array per prediction (a number stands for a constant)."""
    parts = derivative if isinstance(derivative, tuple) else (derivative,)
    return [d if hasattr(d, "shape") else d * xp.ones_like(p) for d, p in zip(parts, predictions)]


def _incompatible(loss: Loss, lead: Loss) -> str:
    """Why ``loss`` cannot share ``lead``'s arrays ("" if it can)."""
    if isinstance(loss, Compound):
        return "list the terms of a compound in one compound"
    if loss.batch_coupled or loss._outer is not None:
        return "its cost is not a sum of independent per-example losses"
    if getattr(loss, "class_weight", None) is not None or getattr(loss, "ignore_index", None) is not None:
        return "its mean counts its own weights (class weights or ignored ids)"
    if getattr(loss, "axis", -1) != -1:
        return "give every term its class axis last (axis=-1)"
    if loss.info.inputs[loss._first].event == SAMPLE and getattr(loss, "class_axis", None) != getattr(lead, "class_axis", None):
        return f"its class_axis differs from {lead.info.name}'s"
    ours, theirs = loss.info.inputs, lead.info.inputs
    if len(ours) != len(theirs):
        return f"it takes {len(ours)} arrays, {lead.info.name} {len(theirs)}"
    for a, b in zip(ours, theirs):
        if (a.role, a.kind, a.link) != (b.role, b.kind, b.link) or not a.domain.contains(b.domain):
            return f"its {a.name} is {a.role} {a.space} ({a.domain.description}), {lead.info.name}'s {b.space}"
        if a.event not in (0, b.event):
            return f"its {a.name} has other event axes"
    return ""


def compound(*terms, reduction: str = "mean") -> Compound:
    """A weighted sum of losses over the same inputs: ``compound((0.5, "dice"), (0.5, "binary_cross_entropy"))``.

    Each term is ``(weight, loss)`` or a loss alone (weight 1), the loss a name, a config dict, a spec
    string or a loss object. See :class:`Compound`.
    """
    return Compound(terms=terms, reduction=reduction)


weighted_sum = Compound.as_function()
