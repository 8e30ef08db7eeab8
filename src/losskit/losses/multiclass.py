r"""Multi-class cross-entropies: probabilities, logits or log-probabilities in; soft rows or class ids as targets.

One example is one row over the class axis (``axis``, the last by default); ``reduction="none"``
returns one loss per row. ``class_weight`` weighs each class as PyTorch's ``cross_entropy(weight=)``:
a row's loss is multiplied by the weight of its target class (for soft targets, each class's term by
its weight), and ``"mean"`` divides by the total weight of the target classes.
"""

from __future__ import annotations

import numpy as np

from .._base import Loss
from .._checks import LOG_SIMPLEX, SIMPLEX, Simplex, integer, optional_integer, unit_interval, weights
from .._info import LossInfo, Peer
from .._optimal import class_frequencies, clipped
from ..errors import InputError
from ..inputs import class_ids, prediction, target
from ..links import SOFTMAX
from ..numerics import class_mask, clamped_log, log_softmax_and_softmax, one_hot, propagate_nan, take_class
from ..params import Param, as_array
from ..registry import register

SOFT_TARGETS = Simplex("one-hot or soft target rows: entries in [0, 1] summing to 1 over the class axis")
#: What a target row that does not sum to 1 usually is.
MULTI_HOT = "A row with several 1s is a multi-label target: use sigmoid_cross_entropy, one yes/no per class."


class _ClassAxis(Loss):
    """A loss over rows of its predictions along ``axis``."""

    axis = Param(-1, integer, "int", "The class axis.")


def _class_weights(loss, xp, like):
    """``class_weight`` as an array of ``like``'s kind, checked against the class axis; or None."""
    w = as_array(loss, xp, "class_weight", like)
    if w is None:
        return None
    if tuple(w.shape) != (like.shape[-1],):
        raise InputError(
            f"{loss.info.name}: class_weight has shape {tuple(w.shape)} but y_pred has {like.shape[-1]} classes on "
            "its class axis; give one weight per class."
        )
    return w


def _take(xp, w, ids):
    """``w[ids]`` for an array of class ids of any shape."""
    return xp.reshape(xp.take(w, xp.reshape(ids, (-1,))), ids.shape)


class _Classes(_ClassAxis):
    """A cross-entropy with ``class_weight``."""

    class_weight = Param(
        None,
        lambda loss, name, value: weights(loss, name, value, allow_scalar=False, optional=True),
        "sequence of C weights >= 0 or None",
        "The weight of each class (PyTorch's weight=); the mean divides by the weights of the target classes.",
        example=(0.5, 2.0, 1.0),
    )

    def _specialise(self, info):
        # Class weights or smoothed targets move the best prediction away from the targets' class shares.
        changed = self.class_weight is not None or getattr(self, "label_smoothing", 0.0)
        return info.without("proper_scoring_rule") if changed else info

    def _counted_weight(self, xp, weight, y_true, y_pred):
        w = _class_weights(self, xp, y_pred)
        if w is None:
            return None
        if self.info.inputs[0].kind == "class_index":
            factor = _take(xp, w, y_true)
        else:
            factor = xp.sum(y_true * w, axis=-1)
        return factor if weight is None else xp.broadcast_to(weight, factor.shape) * factor

    def _best_probabilities(self, targets, weight, smoothing: float = 0.0) -> np.ndarray:
        """The constant probability row that minimises the mean cost: class shares times class weights."""
        classes = None if self.class_weight is None else len(self.class_weight)
        shares = class_frequencies(self, targets, weight, classes)
        shares = shares * (1.0 - smoothing) + smoothing / shares.size
        if self.class_weight is not None:
            shares = shares * np.asarray(self.class_weight, dtype=np.float64)
        total = shares.sum()
        return shares / total if total > 0 else np.full(shares.shape, 1.0 / shares.size)


CLASS_IDS = class_ids("y_true")


@register
class CategoricalCrossEntropy(_Classes):
    """Cross-entropy from probability rows: the log-loss of predicted class probabilities.

    Each log is clamped at -100. ``y_pred`` rows must sum to 1; for logits use
    ``softmax_cross_entropy``.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.categorical_cross_entropy([[0.0, 1.0, 0.0]], [[0.2, 0.5, 0.3]])), 6)  # -log 0.5
    0.693147
    """

    info = LossInfo(
        name="categorical_cross_entropy",
        aliases=("categorical_crossentropy", "cce"),
        task="multiclass",
        likelihood="categorical (multinoulli)",
        variable="probability",
        formula="-sum_c w_c y_c log p_c, each log clamped at -100 (w = class_weight, 1 without)",
        gradient="-w_c y_c / p_c",
        hessian="w_c y_c / p_c^2",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="softmax_cross_entropy",
        summary="The log-loss of predicted class probabilities; prefer softmax_cross_entropy on logits.",
        use_when="the model already outputs probability rows (a softmax you cannot remove) and targets are one-hot or soft",
        avoid_when="you have logits: softmax_cross_entropy is exact where this one clamps",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
        peers=(
            Peer(
                "Keras", "keras.losses.CategoricalCrossentropy",
                "rescales each row to sum to 1 and clips it to [1e-7, 1 - 1e-7]; losskit refuses rows that do not "
                "sum to 1",
            ),
        ),
    )
    inputs = (target("y_true", SOFT_TARGETS, event=1, hint=MULTI_HOT), prediction("y_pred", SIMPLEX, event=1))

    def _math(self, xp, order, y_true, p):
        w = _class_weights(self, xp, p)
        a = y_true if w is None else y_true * w
        log_p, kept = clamped_log(xp, p)
        safe = xp.where(kept, p, xp.ones_like(p))
        zero = xp.zeros_like(p)
        losses = -xp.sum(a * log_p, axis=-1)
        slope = propagate_nan(xp, p, xp.where(kept, -a / safe, zero))
        hessian = propagate_nan(xp, p, xp.where(kept, a / (safe * safe), zero)) if order > 1 else None
        return losses, slope, hessian

    def _optimal_constant(self, targets, weight):
        return self._best_probabilities(targets, weight)


categorical_cross_entropy = CategoricalCrossEntropy.as_function()


def _softmax_terms(xp, order, p, a, total):
    """Gradient ``softmax(z) sum(a) - a`` and Hessian diagonal ``sum(a) p (1 - p)`` of ``-sum_c a_c log_softmax(z)_c``,
    ``p`` the softmax."""
    grad = p - a if total is None else p * total - a
    hessian = None
    if order > 1:
        hessian = p * (1.0 - p) if total is None else total * p * (1.0 - p)
    return grad, hessian


@register
class SoftmaxCrossEntropy(_Classes):
    r"""Cross-entropy from logits: the standard multi-class loss, with one-hot or soft targets.

    With label smoothing :math:`\varepsilon` the targets are :math:`y' = y(1-\varepsilon) +
    \varepsilon/C`. Exact for any logit: a correct ``+inf`` logit costs 0. Soft targets need not sum
    to 1 (the gradient uses their row sum). The Hessian diagonal is that of the full per-row Hessian.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.softmax_cross_entropy([[0.0, 1.0]], [[0.0, 0.0]])), 6)  # log 2
    0.693147
    """

    info = LossInfo(
        name="softmax_cross_entropy",
        aliases=("cross_entropy", "softmax_crossentropy"),
        task="multiclass",
        likelihood="categorical (multinoulli)",
        variable="logit",
        formula="-sum_c a_c log_softmax(z)_c, a = w y', y' = y (1 - eps) + eps / C (w = class_weight, 1 without)",
        gradient="softmax(z) sum_c a_c - a",
        hessian="sum_c a_c softmax(z) (1 - softmax(z))",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="categorical_cross_entropy",
        summary="The standard multi-class loss on logits, with one-hot or soft targets.",
        use_when="multi-class classification from logits with one-hot or soft targets (distillation, mixup, label smoothing)",
        avoid_when="targets are integer class ids (use sparse_softmax_cross_entropy) or outputs went through a softmax already",
        references=(
            "Bridle, Probabilistic interpretation of feedforward classification network outputs (1990)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
        peers=(
            Peer("PyTorch", "torch.nn.functional.cross_entropy", "with probabilities as the target"),
            Peer("Keras", "keras.losses.CategoricalCrossentropy", "from_logits=True"),
            Peer("Optax", "optax.losses.softmax_cross_entropy", "no reduction"),
        ),
    )
    inputs = (target("y_true", SOFT_TARGETS, event=1, hint=MULTI_HOT), prediction("y_pred", link=SOFTMAX, event=1))
    label_smoothing = Param(0.0, unit_interval, "float in [0, 1]", "Moves the targets towards the uniform row.", example=0.2)

    def _math(self, xp, order, y_true, z):
        eps = self.label_smoothing
        a = y_true * (1.0 - eps) + eps / z.shape[-1] if eps else y_true
        w = _class_weights(self, xp, z)
        if w is not None:
            a = a * w
        log_p, p = log_softmax_and_softmax(xp, z)
        terms = xp.where(a == 0, xp.zeros_like(z), a * log_p)
        losses = -xp.sum(terms, axis=-1)
        grad, hessian = _softmax_terms(xp, order, p, a, xp.sum(a, axis=-1, keepdims=True))
        return losses, grad, hessian

    def _optimal_constant(self, targets, weight):
        return SOFTMAX.forward(np, clipped(self._best_probabilities(targets, weight, self.label_smoothing)))


softmax_cross_entropy = SoftmaxCrossEntropy.as_function()


@register
class SparseCategoricalCrossEntropy(_Classes):
    """Cross-entropy from probability rows and class ids: the log-loss of the true class's probability.

    The log is clamped at -100. For logits use ``sparse_softmax_cross_entropy``; for log-probabilities
    ``nll``.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.sparse_categorical_cross_entropy([1], [[0.2, 0.5, 0.3]])), 6)  # -log 0.5
    0.693147
    """

    info = LossInfo(
        name="sparse_categorical_cross_entropy",
        aliases=("sparse_categorical_crossentropy",),
        task="multiclass",
        likelihood="categorical (multinoulli)",
        variable="probability",
        formula="-w_y log p_y, clamped at -100 (w = class_weight, 1 without)",
        gradient="-w_y / p_y at the true class, 0 elsewhere",
        hessian="w_y / p_y^2 at the true class, 0 elsewhere",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="sparse_softmax_cross_entropy",
        summary="The log-loss of predicted class probabilities against integer labels.",
        use_when="the model already outputs probability rows and targets are integer class ids",
        avoid_when="you have logits: sparse_softmax_cross_entropy is exact and faster",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
        peers=(
            Peer("Keras", "keras.losses.SparseCategoricalCrossentropy", "clips probabilities to [1e-7, 1 - 1e-7]"),
        ),
    )
    inputs = (CLASS_IDS, prediction("y_pred", SIMPLEX, event=1))

    def _math(self, xp, order, ids, p):
        w = _class_weights(self, xp, p)
        p_true = take_class(xp, p, ids)
        log_p, kept = clamped_log(xp, p_true)
        safe = xp.where(kept, p_true, xp.ones_like(p_true))
        zero = xp.zeros_like(p_true)
        w_true = 1.0 if w is None else _take(xp, w, ids)
        slope = propagate_nan(xp, p_true, xp.where(kept, -w_true / safe, zero))
        at_true_class = class_mask(xp, ids, p.shape[-1])
        hessian = None
        if order > 1:
            h = propagate_nan(xp, p_true, xp.where(kept, w_true / (safe * safe), zero))
            hessian = xp.where(at_true_class, h[..., None], xp.zeros_like(p))
        return -w_true * log_p, xp.where(at_true_class, slope[..., None], xp.zeros_like(p)), hessian

    def _optimal_constant(self, targets, weight):
        return self._best_probabilities(targets, weight)


sparse_categorical_cross_entropy = SparseCategoricalCrossEntropy.as_function()


class _ClassIds(_Classes):
    """A cross-entropy on class ids, with ``ignore_index``."""

    ignore_index = Param(None, optional_integer, "int or None", "A class id that marks rows to skip (PyTorch uses -100).",
                         example=1)  # fmt: skip


@register
class SparseSoftmaxCrossEntropy(_ClassIds):
    r"""Cross-entropy from logits and class ids: the standard loss of classifiers and language models.

    The target row is the one-hot row of the class id, smoothed to :math:`y'(1-\varepsilon) +
    \varepsilon/C`. Rows whose id equals ``ignore_index`` weigh 0 and leave the mean's denominator
    (PyTorch's ``cross_entropy``).

    Examples
    --------
    >>> import losskit as lk
    >>> logits = [[2.0, 0.0], [0.0, 0.0]]
    >>> round(float(lk.sparse_softmax_cross_entropy([1, -100], logits, ignore_index=-100)), 6)
    2.126928
    """

    info = LossInfo(
        name="sparse_softmax_cross_entropy",
        aliases=("sparse_cross_entropy", "softmax_cross_entropy_with_integer_labels", "cross_entropy_loss"),
        task="multiclass",
        likelihood="categorical (multinoulli)",
        variable="logit",
        formula="-sum_c a_c log_softmax(z)_c, a = w ((1 - eps) onehot(y) + eps / C) (w = class_weight, 1 without)",
        gradient="softmax(z) sum_c a_c - a",
        hessian="sum_c a_c softmax(z) (1 - softmax(z))",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="sparse_categorical_cross_entropy",
        summary="The standard multi-class loss on logits and integer labels, with ignore_index for padding.",
        use_when="multi-class classification and language models: logits and integer class ids, ignore_index for padding",
        avoid_when="the outputs already went through a softmax, or targets are soft distributions",
        references=(
            "Bridle, Probabilistic interpretation of feedforward classification network outputs (1990)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.cross_entropy",
                "with class ids as the target; the same ignore_index, label_smoothing and class weights (weight=)",
            ),
            Peer("Keras", "keras.losses.SparseCategoricalCrossentropy", "from_logits=True"),
            Peer("Optax", "optax.losses.softmax_cross_entropy_with_integer_labels", "no reduction"),
        ),
    )
    inputs = (CLASS_IDS, prediction("y_pred", link=SOFTMAX, event=1))
    label_smoothing = Param(0.0, unit_interval, "float in [0, 1]", "Moves the targets towards the uniform row.", example=0.2)

    def _math(self, xp, order, ids, z):
        eps, num_classes = self.label_smoothing, z.shape[-1]
        w = _class_weights(self, xp, z)
        log_p, p = log_softmax_and_softmax(xp, z)
        target = one_hot(xp, ids, num_classes, z.dtype)
        w_true = 1.0 if w is None else _take(xp, w, ids)
        losses = xp.zeros_like(ids, dtype=z.dtype)
        if eps < 1:
            losses = losses - (1.0 - eps) * w_true * take_class(xp, log_p, ids)
        if eps > 0:
            smooth = xp.mean(log_p, axis=-1) if w is None else xp.sum(w * log_p, axis=-1) / num_classes
            losses = losses - eps * smooth
            target = target * (1.0 - eps) + eps / num_classes
        if w is None:
            grad, hessian = _softmax_terms(xp, order, p, target, None)
        else:
            a = target * w
            grad, hessian = _softmax_terms(xp, order, p, a, xp.sum(a, axis=-1, keepdims=True))
        return losses, grad, hessian

    def _optimal_constant(self, targets, weight):
        return SOFTMAX.forward(np, clipped(self._best_probabilities(targets, weight, self.label_smoothing)))


sparse_softmax_cross_entropy = SparseSoftmaxCrossEntropy.as_function()


@register
class NLL(_ClassIds):
    """Negative log-likelihood of log-probability rows and class ids: PyTorch's ``nll_loss``.

    ``y_pred`` holds log-probabilities (a ``log_softmax`` output): each row must be <= 0 with
    exponentials summing to 1, which is checked (PyTorch does not check, and raw logits give a silently
    wrong number there). On raw logits use ``sparse_softmax_cross_entropy``, the same loss with the
    log-softmax inside.

    Examples
    --------
    >>> import math, losskit as lk
    >>> round(float(lk.nll([1], [[math.log(0.2), math.log(0.5), math.log(0.3)]])), 6)  # -log 0.5
    0.693147
    """

    info = LossInfo(
        name="nll",
        aliases=("nll_loss", "negative_log_likelihood"),
        task="multiclass",
        likelihood="categorical (multinoulli)",
        variable="none",
        formula="-w_y l_y, l = log-probabilities (w = class_weight, 1 without)",
        gradient="-w_y at the true class, 0 elsewhere",
        hessian="0 (the loss is linear in the log-probabilities)",
        tags=("convex", "differentiable", "proper_scoring_rule"),
        twin="sparse_softmax_cross_entropy",
        summary="PyTorch's nll_loss: the log-loss of log-probability rows against integer labels.",
        use_when="the model ends with log_softmax (PyTorch's classic pairing), with class ids as targets",
        avoid_when="you have raw logits (use sparse_softmax_cross_entropy) or probabilities (sparse_categorical_cross_entropy)",
        references=("PyTorch, torch.nn.functional.nll_loss",),
        peers=(
            Peer("PyTorch", "torch.nn.functional.nll_loss", "does not check that the rows are log-probabilities"),
        ),
    )
    inputs = (
        CLASS_IDS,
        prediction(
            "y_pred",
            LOG_SIMPLEX,
            event=1,
            hint="These look like raw logits or probabilities: apply log_softmax first, or use "
            "sparse_softmax_cross_entropy on logits.",
        ),
    )

    def _math(self, xp, order, ids, log_p):
        w = _class_weights(self, xp, log_p)
        w_true = 1.0 if w is None else _take(xp, w, ids)
        at_true_class = class_mask(xp, ids, log_p.shape[-1])
        row_weight = (1.0 if w is None else w_true[..., None]) * xp.ones_like(log_p)
        slope = xp.where(at_true_class, -row_weight, xp.zeros_like(log_p))
        return -w_true * take_class(xp, log_p, ids), slope, 0.0

    def _optimal_constant(self, targets, weight):
        return np.log(clipped(self._best_probabilities(targets, weight)))


nll = NLL.as_function()
