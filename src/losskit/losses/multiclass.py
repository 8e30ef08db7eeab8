r"""Multi-class cross-entropies: probabilities or logits in, one-hot/soft targets or class ids.

One example is one row over the class axis (``axis``, the last by default); ``reduction="none"``
returns one loss per row.
"""

from __future__ import annotations

from .._base import Loss
from .._checks import SIMPLEX, Interval, describe_bad, integer, unit_interval
from .._info import LossInfo
from .._xp import device, is_floating
from ..numerics import class_mask, clamped_log, log_softmax, one_hot, propagate_nan, take_class
from ..registry import register

SOFT_TARGETS = Interval("targets in [0, 1] (one-hot rows or soft targets)", 0.0, 1.0)
CLASS_IDS = "integer class ids in [0, C), C = y_pred.shape[axis]"


class _ClassAxisLoss(Loss):
    """A loss over rows of ``y_pred`` along ``axis``."""

    has_class_axis = True

    def _set_axis(self, axis) -> None:
        self.axis = integer(self.info.name, "axis", axis)


class _ClassIdLoss(_ClassAxisLoss):
    """A loss whose targets are integer class ids, with an optional ``ignore_index``."""

    has_class_ids = True
    ignore_index = None

    def _check_values(self, xp, y_true, y_pred):
        super()._check_values(xp, y_true, y_pred)
        name, num_classes = self.info.name, y_pred.shape[-1]
        if is_floating(xp, y_true.dtype):
            fractional = y_true != xp.floor(y_true)
            if bool(xp.any(fractional)):
                raise ValueError(
                    f"{name}: y_true must be integer class ids; {describe_bad(xp, y_true, fractional)}."
                )
        outside = (y_true < 0) | (y_true >= num_classes)
        if self.ignore_index is not None:
            outside = outside & (y_true != self.ignore_index)
        if bool(xp.any(outside)):
            allowed = f" or ignore_index={self.ignore_index}" if self.ignore_index is not None else ""
            takes_it = "ignore_index" in self.hyperparameters()
            hint = " To skip padding labels such as -100, pass ignore_index=-100." if takes_it and not allowed else ""
            raise ValueError(
                f"{name}: y_true must be class ids in [0, {num_classes}){allowed}; "
                f"{describe_bad(xp, y_true, outside)}.{hint}"
            )

    def _class_ids(self, xp, y_true):
        ids = xp.astype(y_true, xp.int64)
        if self.ignore_index is None:
            return ids, None
        keep = ids != self.ignore_index
        return xp.where(keep, ids, xp.zeros_like(ids)), keep


@register
class CategoricalCrossEntropy(_ClassAxisLoss):
    r"""Cross-entropy from probability rows: :math:`\ell = -\sum_c y_c \log p_c`.

    Each log is clamped at -100. :math:`\partial\ell/\partial p_c = -y_c / p_c` (0 where clamped).
    ``y_pred`` rows must sum to 1; for logits use ``softmax_cross_entropy``.

    Parameters
    ----------
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"

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
        input_space="probabilities",
        target=SOFT_TARGETS.description,
        activation="softmax",
        likelihood="categorical (multinoulli)",
        variable="probability",
        formula="-sum_c y_c log p_c, each log clamped at -100",
        gradient="-y_c / p_c",
        proper_scoring_rule=True,
        logits_twin="softmax_cross_entropy",
        summary="The log-loss of predicted class probabilities; prefer softmax_cross_entropy on logits.",
        use_when="the model already outputs probability rows (a softmax you cannot remove) and targets are one-hot or soft",
        avoid_when="you have logits: softmax_cross_entropy is exact where this one clamps",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
    )
    y_true_domain = SOFT_TARGETS
    y_pred_domain = SIMPLEX

    def __init__(self, *, axis: int = -1, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self._set_axis(axis)

    def _losses_and_derivative(self, xp, y_true, p):
        log_p, kept = clamped_log(xp, p)
        losses = -xp.sum(y_true * log_p, axis=-1)
        slope = xp.where(kept, -y_true / xp.where(kept, p, xp.ones_like(p)), xp.zeros_like(p))
        return losses, propagate_nan(xp, p, slope)


categorical_cross_entropy = CategoricalCrossEntropy.as_function()


@register
class SoftmaxCrossEntropy(_ClassAxisLoss):
    r"""Cross-entropy from logits: :math:`\ell = -\sum_c y'_c \log\operatorname{softmax}(z)_c`.

    With label smoothing :math:`\varepsilon` the targets are :math:`y' = y(1-\varepsilon) +
    \varepsilon/C`. :math:`\partial\ell/\partial z = \operatorname{softmax}(z)\sum_c y'_c - y'`,
    which is :math:`\operatorname{softmax}(z) - y'` for rows that sum to 1. Exact for any logit:
    a correct ``+inf`` logit costs 0.

    Parameters
    ----------
    label_smoothing : float in [0, 1], default 0.0
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"

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
        input_space="logits",
        target=SOFT_TARGETS.description,
        activation="softmax",
        likelihood="categorical (multinoulli)",
        variable="logit",
        formula="-sum_c y'_c log_softmax(z)_c, y' = y (1 - eps) + eps / C",
        gradient="softmax(z) sum_c y'_c - y'",
        proper_scoring_rule=True,
        summary="The standard multi-class loss on logits, with one-hot or soft targets.",
        use_when="multi-class classification from logits with one-hot or soft targets (distillation, mixup, label smoothing)",
        avoid_when="targets are integer class ids (use sparse_softmax_cross_entropy) or outputs went through a softmax already",
        references=(
            "Bridle, Probabilistic interpretation of feedforward classification network outputs (1990)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
    )
    y_true_domain = SOFT_TARGETS

    def __init__(self, *, label_smoothing: float = 0.0, axis: int = -1, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.label_smoothing = unit_interval(self.info.name, "label_smoothing", label_smoothing)
        self._set_axis(axis)

    def _losses_and_derivative(self, xp, y_true, z):
        eps = self.label_smoothing
        target = y_true * (1.0 - eps) + eps / z.shape[-1] if eps else y_true
        log_p = log_softmax(xp, z)
        terms = xp.where(target == 0, xp.zeros_like(z), target * log_p)
        losses = -xp.sum(terms, axis=-1)
        return losses, xp.exp(log_p) * xp.sum(target, axis=-1, keepdims=True) - target


softmax_cross_entropy = SoftmaxCrossEntropy.as_function()


@register
class SparseCategoricalCrossEntropy(_ClassIdLoss):
    r"""Cross-entropy from probability rows and class ids: :math:`\ell = -\log p_{y}`.

    The log is clamped at -100. :math:`\partial\ell/\partial p_c = -[c = y] / p_y`. For logits use
    ``sparse_softmax_cross_entropy``.

    Parameters
    ----------
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.sparse_categorical_cross_entropy([1], [[0.2, 0.5, 0.3]])), 6)  # -log 0.5
    0.693147
    """

    info = LossInfo(
        name="sparse_categorical_cross_entropy",
        aliases=("sparse_categorical_crossentropy", "nll"),
        task="multiclass",
        input_space="probabilities",
        target=CLASS_IDS,
        activation="softmax",
        likelihood="categorical (multinoulli)",
        variable="probability",
        formula="-log p_y, clamped at -100",
        gradient="-1 / p_y at the true class, 0 elsewhere",
        proper_scoring_rule=True,
        logits_twin="sparse_softmax_cross_entropy",
        summary="The log-loss of predicted class probabilities against integer labels.",
        use_when="the model already outputs probability rows and targets are integer class ids",
        avoid_when="you have logits: sparse_softmax_cross_entropy is exact and faster",
        references=("Good, Rational decisions, J. R. Stat. Soc. B 14 (1952)",),
    )
    y_pred_domain = SIMPLEX

    def __init__(self, *, axis: int = -1, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self._set_axis(axis)

    def _losses_and_derivative(self, xp, ids, p):
        p_true = take_class(xp, p, ids)
        log_p, kept = clamped_log(xp, p_true)
        slope = xp.where(kept, -1.0 / xp.where(kept, p_true, xp.ones_like(p_true)), xp.zeros_like(p_true))
        slope = propagate_nan(xp, p_true, slope)
        at_true_class = class_mask(xp, ids, p.shape[-1])
        return -log_p, xp.where(at_true_class, slope[..., None], xp.zeros_like(p))


sparse_categorical_cross_entropy = SparseCategoricalCrossEntropy.as_function()


@register
class SparseSoftmaxCrossEntropy(_ClassIdLoss):
    r"""Cross-entropy from logits and class ids: :math:`\ell = -\sum_c y'_c \log\operatorname{softmax}(z)_c`.

    :math:`y'` is the one-hot row of the class id, smoothed to :math:`y'(1-\varepsilon) +
    \varepsilon/C`. :math:`\partial\ell/\partial z = \operatorname{softmax}(z) - y'`. Rows whose id
    equals ``ignore_index`` weigh 0 and leave the mean's denominator (PyTorch's ``cross_entropy``).

    Parameters
    ----------
    ignore_index : int or None, default None
        A class id that marks rows to skip (PyTorch uses -100 for padding).
    label_smoothing : float in [0, 1], default 0.0
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> logits = [[2.0, 0.0], [0.0, 0.0]]
    >>> round(float(lk.sparse_softmax_cross_entropy([1, -100], logits, ignore_index=-100)), 6)
    2.126928
    """

    info = LossInfo(
        name="sparse_softmax_cross_entropy",
        aliases=("sparse_cross_entropy", "softmax_cross_entropy_with_integer_labels"),
        task="multiclass",
        input_space="logits",
        target=CLASS_IDS,
        activation="softmax",
        likelihood="categorical (multinoulli)",
        variable="logit",
        formula="-(1 - eps) log_softmax(z)_y - eps mean_c log_softmax(z)_c",
        gradient="softmax(z) - ((1 - eps) onehot(y) + eps / C)",
        proper_scoring_rule=True,
        summary="The standard multi-class loss on logits and integer labels, with ignore_index for padding.",
        use_when="multi-class classification and language models: logits and integer class ids, ignore_index for padding",
        avoid_when="the outputs already went through a softmax, or targets are soft distributions",
        references=(
            "Bridle, Probabilistic interpretation of feedforward classification network outputs (1990)",
            "Szegedy et al., Rethinking the Inception architecture (label smoothing), CVPR 2016",
        ),
    )

    def __init__(
        self,
        *,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str = "mean",
    ):
        super().__init__(reduction=reduction)
        self.ignore_index = integer(self.info.name, "ignore_index", ignore_index, optional=True)
        self.label_smoothing = unit_interval(self.info.name, "label_smoothing", label_smoothing)
        self._set_axis(axis)

    def _losses_and_derivative(self, xp, ids, z):
        eps, num_classes = self.label_smoothing, z.shape[-1]
        log_p = log_softmax(xp, z)
        target = one_hot(xp, ids, num_classes, z.dtype)
        losses = xp.zeros(ids.shape, dtype=z.dtype, device=device(z))
        if eps < 1:
            losses = losses - (1.0 - eps) * take_class(xp, log_p, ids)
        if eps > 0:
            losses = losses - eps * xp.mean(log_p, axis=-1)
            target = target * (1.0 - eps) + eps / num_classes
        return losses, xp.exp(log_p) - target


sparse_softmax_cross_entropy = SparseSoftmaxCrossEntropy.as_function()
