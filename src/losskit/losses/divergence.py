r"""Divergences between a target distribution and a predicted one."""

from __future__ import annotations

from .._base import Loss
from .._checks import SIMPLEX, integer
from .._info import LossInfo
from ..numerics import xlogy
from ..registry import register


@register
class KLDivergence(Loss):
    r"""Kullback-Leibler divergence :math:`\ell = \sum_c p_c \log(p_c / q_c)` of the prediction from the target.

    ``y_true`` is the target distribution :math:`p`, ``y_pred`` the predicted :math:`q`, both
    probability rows over ``axis``. :math:`0 \log 0 = 0`; :math:`q_c = 0` where :math:`p_c > 0`
    gives :math:`+\infty`. :math:`\partial\ell/\partial q_c = -p_c / q_c` (0 where :math:`p_c = 0`).
    ``"mean"`` is the average divergence per row (PyTorch's ``batchmean``).

    Parameters
    ----------
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])), 6)  # 0.5 log 2 + 0.5 log(2/3)
    0.143841
    """

    info = LossInfo(
        name="kl_divergence",
        aliases=("kld", "kl_div", "kullback_leibler_divergence"),
        task="distribution",
        input_space="probabilities",
        target="probability rows summing to 1 over the class axis",
        activation="softmax",
        likelihood="categorical with soft targets (cross-entropy minus the target's entropy)",
        variable="probability",
        formula="sum_c p_c log(p_c / q_c), p = y_true, q = y_pred",
        gradient="-p_c / q_c",
        summary="How far a predicted distribution is from a target one; zero exactly when they agree.",
        use_when="matching a predicted distribution to a target one (distillation, variational objectives); 0 at a perfect match",
        avoid_when="targets are hard labels (it equals cross-entropy then) or the prediction is log-probabilities",
        references=("Kullback and Leibler, On information and sufficiency, Ann. Math. Stat. 22 (1951)",),
    )
    has_class_axis = True
    y_true_domain = SIMPLEX
    y_pred_domain = SIMPLEX

    def __init__(self, *, axis: int = -1, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.axis = integer(self.info.name, "axis", axis)

    def _y_pred_hint(self) -> str:
        return "If these are log-probabilities (as torch.nn.functional.kl_div takes), pass their exp."

    def _losses_and_derivative(self, xp, p, q):
        losses = xp.sum(xlogy(xp, p, p) - xlogy(xp, p, q), axis=-1)
        safe_q = xp.where(q == 0, xp.ones_like(q), q)
        slope = xp.where(p == 0, xp.zeros_like(q), xp.where(q == 0, -xp.inf * xp.ones_like(q), -p / safe_q))
        return losses, slope


kl_divergence = KLDivergence.as_function()
