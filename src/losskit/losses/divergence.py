r"""Divergences between a target distribution and a predicted one."""

from __future__ import annotations

from .._checks import SIMPLEX
from .._info import LossInfo
from .._optimal import weighted_mean
from ..inputs import prediction, target
from ..numerics import propagate_nan, xlogy
from ..registry import register
from .multiclass import _ClassAxis


@register
class KLDivergence(_ClassAxis):
    """Kullback-Leibler divergence of the predicted distribution from the target one.

    ``y_true`` is the target distribution :math:`p`, ``y_pred`` the predicted :math:`q`, both
    probability rows over ``axis``. :math:`0 \\log 0 = 0`; :math:`q_c = 0` where :math:`p_c > 0` gives
    :math:`+\\infty`. ``"mean"`` is the average divergence per row (PyTorch's ``batchmean``).

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])), 6)  # 0.5 log 2 + 0.5 log(2/3)
    0.143841
    """

    info = LossInfo(
        name="kl_divergence",
        aliases=("kld", "kl_div", "kullback_leibler_divergence", "kl_div_loss"),
        task="distribution",
        likelihood="categorical with soft targets (cross-entropy minus the target's entropy)",
        variable="probability",
        formula="sum_c p_c log(p_c / q_c), p = y_true, q = y_pred",
        gradient="-p_c / q_c (0 where p_c = 0)",
        hessian="p_c / q_c^2",
        tags=("convex", "differentiable"),
        summary="How far a predicted distribution is from a target one; zero exactly when they agree.",
        use_when="matching a predicted distribution to a target one (distillation, variational objectives); 0 at a perfect match",
        avoid_when="targets are hard labels (it equals cross-entropy then) or the prediction is log-probabilities",
        references=("Kullback and Leibler, On information and sufficiency, Ann. Math. Stat. 22 (1951)",),
    )
    inputs = (
        target("y_true", SIMPLEX, event=1),
        prediction(
            "y_pred", SIMPLEX, event=1,
            hint="If these are log-probabilities (as torch.nn.functional.kl_div takes), pass their exp.",
        ),
    )  # fmt: skip

    def _math(self, xp, order, p, q):
        losses = xp.sum(xlogy(xp, p, p) - xlogy(xp, p, q), axis=-1)
        zero_q = q == 0
        safe_q = xp.where(zero_q, xp.ones_like(q), q)
        slope = xp.where(p == 0, xp.zeros_like(q), xp.where(zero_q, -xp.inf * xp.ones_like(q), -p / safe_q))
        slope = propagate_nan(xp, q, slope)
        hessian = None
        if order > 1:
            hessian = xp.where(p == 0, xp.zeros_like(q), xp.where(zero_q, xp.inf * xp.ones_like(q), p / (safe_q * safe_q)))
            hessian = propagate_nan(xp, q, hessian)
        return losses, slope, hessian

    def _optimal_constant(self, targets, weight):
        return weighted_mean(targets[0], weight, rows=True)


kl_divergence = KLDivergence.as_function()
