r"""Divergences between a target distribution and a predicted one, and distillation.

One example is one row over ``axis``; ``"mean"`` averages the divergences of the rows (PyTorch's
``batchmean``). Derivatives are with respect to each entry of the prediction on its own, as for the
cross-entropies on probabilities.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import NONNEGATIVE, REAL, SIMPLEX, choice, positive
from .._info import LossInfo, Peer
from .._optimal import clipped, simplex_minimum, weighted_mean
from ..inputs import prediction, target
from ..links import LOG, SOFTMAX
from ..numerics import log_softmax, propagate_nan, xlogy
from ..params import Param
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
        peers=(
            Peer(
                "PyTorch", "torch.nn.functional.kl_div",
                "(input, target) with input the log-probabilities; reduction='batchmean' gives the mean over "
                "examples",
            ),
            Peer("Keras", "keras.losses.KLDivergence", "clips both rows to [1e-7, 1]"),
            Peer("Optax", "optax.losses.kl_divergence", "(log_predictions, targets); no reduction"),
        ),
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


@register
class ReverseKLDivergence(_ClassAxis):
    r"""Reverse Kullback-Leibler divergence :math:`\mathrm{KL}(q \,\|\, p)` of the target from the prediction.

    ``y_true`` is :math:`p`, ``y_pred`` the predicted :math:`q`. Mode-seeking: a prediction that puts
    no mass where the target has some costs nothing there, while mass where the target has none costs
    :math:`+\infty`. PyTorch's ``kl_div(log p, log q, log_target=True)`` with the roles swapped.

    Examples
    --------
    >>> import losskit as lk
    >>> p, q = [[0.1, 0.6, 0.3]], [[0.331499, 0.546549, 0.121952]]
    >>> round(float(lk.reverse_kl_divergence(p, q)), 5)
    0.23651
    """

    info = LossInfo(
        name="reverse_kl_divergence",
        aliases=("reverse_kl", "reverse_kullback_leibler_divergence"),
        task="distribution",
        variable="probability",
        formula="sum_c q_c log(q_c / p_c), p = y_true, q = y_pred",
        gradient="log(q_c / p_c) + 1",
        hessian="1 / q_c",
        tags=("convex", "differentiable"),
        twin=None,
        summary="KL(q || p): the prediction's divergence from the target; mode-seeking, where KL(p || q) covers.",
        use_when="the prediction should sit on one mode of the target (variational inference, policy distillation)",
        avoid_when="the prediction must cover every outcome the target allows (use kl_divergence)",
        references=("Kullback and Leibler, On information and sufficiency, Ann. Math. Stat. 22 (1951)",
                    "Minka, Divergence measures and message passing, Microsoft Research TR-2005-173"),
    )  # fmt: skip
    inputs = KLDivergence.inputs

    def _math(self, xp, order, p, q):
        positive_p = p > 0
        log_p = xp.where(positive_p, xp.log(xp.where(positive_p, p, xp.ones_like(p))), xp.full_like(p, -xp.inf))
        losses = xp.sum(xlogy(xp, q, q) - xp.where(q == 0, xp.zeros_like(q), q * log_p), axis=-1)
        zero_q = q == 0
        safe_q = xp.where(zero_q, xp.ones_like(q), q)
        log_q = xp.where(zero_q, xp.full_like(q, -xp.inf), xp.log(safe_q))
        # log(q / p) + 1: -inf where q = 0 < p, +inf where p = 0 < q; a class both leave empty has slope 1
        ratio = xp.where(zero_q & ~positive_p, xp.zeros_like(q), log_q - xp.where(positive_p, log_p, xp.zeros_like(p)))
        ratio = xp.where(~zero_q & ~positive_p, xp.full_like(q, xp.inf), ratio)
        hessian = propagate_nan(xp, q, xp.where(zero_q, xp.full_like(q, xp.inf), 1.0 / safe_q)) if order > 1 else None
        return losses, propagate_nan(xp, q, ratio + 1.0), hessian

    def _optimal_constant(self, targets, weight):
        # the normalised weighted geometric mean of the targets; a class some target leaves empty gets none
        p = targets[0]
        w = np.broadcast_to(np.ones(p.shape[:-1]) if weight is None else weight.reshape(weight.shape + (1,) *
                            (p.ndim - 1 - weight.ndim)), p.shape[:-1])[..., None]  # fmt: skip
        held = np.all((p > 0) | (w == 0), axis=tuple(range(p.ndim - 1)))
        logs = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
        mean_log = (w * logs).reshape(-1, p.shape[-1]).sum(0) / max(float(w.sum()), 1e-300)
        g = np.where(held, np.exp(mean_log - mean_log[held].max(initial=0.0)), 0.0)
        return g / g.sum() if g.sum() > 0 else np.full(g.shape, 1.0 / g.size)


reverse_kl_divergence = ReverseKLDivergence.as_function()


@register
class JensenShannon(_ClassAxis):
    r"""Jensen-Shannon divergence: :math:`\frac12 \mathrm{KL}(p \,\|\, m) + \frac12 \mathrm{KL}(q \,\|\, m)`,
    :math:`m = (p + q) / 2`.

    Symmetric, bounded by :math:`\log 2`, and finite when the supports differ (its square root is a
    metric). Its gradient vanishes where the prediction misses the target's support by far, the reason
    GAN training stalls with it.

    Examples
    --------
    >>> import losskit as lk
    >>> p, q = [[0.1, 0.6, 0.3]], [[0.331499, 0.546549, 0.121952]]
    >>> round(float(lk.jensen_shannon(p, q)), 5)
    0.05275
    """

    info = LossInfo(
        name="jensen_shannon",
        aliases=("jensen_shannon_divergence", "js_divergence", "jsd", "js_div"),
        task="distribution",
        variable="probability",
        formula="(KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2",
        gradient="log(q_c / m_c) / 2",
        hessian="p_c / (2 q_c (p_c + q_c))",
        tags=("convex", "differentiable", "bounded"),
        summary="The symmetric, bounded divergence: finite for distributions with different supports.",
        use_when="comparing two distributions symmetrically, or when supports may not overlap",
        avoid_when="you train a likelihood model (kl_divergence or cross-entropy has the useful gradient)",
        references=("Lin, Divergence measures based on the Shannon entropy, IEEE Trans. Inf. Theory 37 (1991)",),
    )  # fmt: skip
    inputs = KLDivergence.inputs

    def _math(self, xp, order, p, q):
        m = 0.5 * (p + q)
        halves = xlogy(xp, p, p) + xlogy(xp, q, q) - xlogy(xp, p, m) - xlogy(xp, q, m)
        losses = 0.5 * xp.sum(halves, axis=-1)
        zero_q, zero_p = q == 0, p == 0
        safe_q = xp.where(zero_q, xp.ones_like(q), q)
        safe_m = xp.where(zero_q, xp.ones_like(m), m)
        # where p = 0 the ratio q / m is 2 for any q; where q = 0 < p it is 0
        half_log = 0.5 * xp.where(zero_p, math.log(2.0) * xp.ones_like(q), xp.log(safe_q / safe_m))
        gradient = xp.where(zero_q & ~zero_p, xp.full_like(q, -xp.inf), half_log)
        hessian = None
        if order > 1:
            inner = p / (2.0 * safe_q * xp.where(zero_q & zero_p, xp.ones_like(q), p + q))
            hessian = propagate_nan(xp, q, xp.where(zero_q & ~zero_p, xp.full_like(q, xp.inf), inner))
        return losses, propagate_nan(xp, q, gradient), hessian

    def _optimal_constant(self, targets, weight):
        p = targets[0].reshape(-1, targets[0].shape[-1])
        w = np.ones(p.shape[0]) if weight is None else np.broadcast_to(
            weight.reshape(weight.shape + (1,) * (targets[0].ndim - 1 - weight.ndim)), targets[0].shape[:-1]
        ).reshape(-1)  # fmt: skip
        w = w / max(float(w.sum()), 1e-300)

        def slope(q):  # d/dq_c of the weighted mean divergence: sum_i w_i log(2 q_c / (p_ic + q_c)) / 2
            return 0.5 * (w[:, None] * (np.log(2.0 * q) - np.log(p + q))).sum(0)

        return simplex_minimum(slope, np.ones(p.shape[-1]))


jensen_shannon = JensenShannon.as_function()


@register
class GeneralizedKLDivergence(_ClassAxis):
    r"""Generalized KL (I-) divergence of unnormalised measures, from log-predictions:
    :math:`\sum_c p_c \log(p_c / q_c) - p_c + q_c`, :math:`q = e^{z}`.

    For non-negative rows that need not sum to 1 (spectra, counts, attention mass); half the Poisson
    deviance, summed over the row. ``y_pred`` holds :math:`\log q`, as Optax's
    ``generalized_kl_divergence`` takes. Written as :math:`p (e^{d} - 1 - d)`, :math:`d = \log q - \log p`,
    so a close prediction keeps its digits.

    Examples
    --------
    >>> import math, losskit as lk
    >>> p, q = [[0.2, 1.2, 0.3]], [[0.5, 1.0, 0.4]]
    >>> round(float(lk.generalized_kl_divergence(p, [[math.log(v) for v in q[0]]])), 6)
    0.149223
    """

    info = LossInfo(
        name="generalized_kl_divergence",
        aliases=("i_divergence", "generalised_kl_divergence", "unnormalized_kl_divergence"),
        task="distribution",
        variable="none",
        formula="sum_c p_c log(p_c / q_c) - p_c + q_c, q = exp(z)",
        gradient="q_c - p_c",
        hessian="q_c",
        tags=("convex", "differentiable"),
        summary="KL divergence for non-negative rows that need not sum to 1 (half the Poisson deviance per row).",
        use_when="matching unnormalised non-negative rows (spectrograms in NMF, count vectors, mass maps)",
        avoid_when="the rows are distributions (kl_divergence), or each entry is its own example (log_poisson_nll)",
        references=("Lee and Seung, Algorithms for non-negative matrix factorization, NeurIPS 2000",
                    "Optax, optax.losses.generalized_kl_divergence"),
        peers=(
            Peer("Optax", "optax.losses.generalized_kl_divergence", "(log_predictions, targets); no reduction"),
        ),
    )  # fmt: skip
    inputs = (target("y_true", NONNEGATIVE, event=1), prediction("y_pred", link=LOG, event=1))

    def _math(self, xp, order, p, z):
        q = xp.exp(z)
        positive_p = p > 0
        log_p = xp.log(xp.where(positive_p, p, xp.ones_like(p)))
        d = xp.where(positive_p, z - log_p, xp.zeros_like(z))
        terms = xp.where(positive_p, p * (xp.expm1(d) - d), q)
        hessian = q if order > 1 else None
        return xp.sum(terms, axis=-1), q - p, hessian

    def _optimal_constant(self, targets, weight):
        return LOG.forward(np, clipped(weighted_mean(targets[0], weight, rows=True), low=1e-300, high=np.inf))


generalized_kl_divergence = GeneralizedKLDivergence.as_function()


@register
class Distillation(_ClassAxis):
    r"""Knowledge distillation: :math:`T^2\, \mathrm{KL}(\mathrm{softmax}(t / T) \,\|\, \mathrm{softmax}(s / T))`.

    ``y_true`` is the teacher (its logits :math:`t`, or with ``teacher="probabilities"`` its probability
    rows, softened as :math:`p^{1/T}` renormalised), ``y_pred`` the student's logits :math:`s`. Hinton's
    :math:`T^2` keeps the gradient, :math:`T (q_T - p_T)`, the same size across temperatures, so the term
    mixes with a hard-label cross-entropy at a fixed weight.

    Examples
    --------
    >>> import losskit as lk
    >>> round(float(lk.distillation([[2.0, 0.5, -1.0]], [[1.0, 1.0, 0.0]], temperature=2.0)), 6)
    0.357969
    """

    info = LossInfo(
        name="distillation",
        aliases=("knowledge_distillation", "kd", "distillation_kl"),
        task="distribution",
        likelihood="categorical with the teacher's softened probabilities as soft targets",
        variable="logit",
        formula="T^2 sum_c p_c log(p_c / q_c), p = softmax(t / T), q = softmax(s / T)",
        gradient="T (q - p)",
        hessian="q (1 - q)",
        tags=("convex", "differentiable"),
        summary="Hinton's distillation: the T^2-scaled KL from the teacher's to the student's softened softmax.",
        use_when="training a student on a teacher's outputs, usually next to a hard-label cross-entropy",
        avoid_when="the teacher's outputs are hard labels (use cross-entropy), or the student must match its "
                   "logits themselves (mse on logits)",
        references=("Hinton, Vinyals and Dean, Distilling the knowledge in a neural network, NIPS 2014 workshop",),
    )  # fmt: skip
    inputs = (target("y_true", REAL, event=1), prediction("y_pred", link=SOFTMAX, event=1))
    temperature = Param(1.0, positive, "float > 0", "Softens both distributions; the loss is scaled by its square.",
                        example=2.0)  # fmt: skip
    teacher = Param("logits", choice("logits", "probabilities"), '"logits" or "probabilities"', "What y_true holds.",
                    example="probabilities")  # fmt: skip

    def _specialise(self, info):
        if self.teacher == "logits":
            return info
        return info.with_inputs((target("y_true", SIMPLEX, event=1), info.inputs[1]))

    def _math(self, xp, order, teacher, s):
        t = self.temperature
        if self.teacher == "probabilities":
            kept = teacher > 0
            teacher = xp.where(kept, xp.log(xp.where(kept, teacher, xp.ones_like(teacher))), xp.full_like(teacher, -xp.inf))
        log_p, log_q = log_softmax(xp, teacher / t), log_softmax(xp, s / t)
        p, q = xp.exp(log_p), xp.exp(log_q)
        terms = xp.where(p == 0, xp.zeros_like(s), p * (log_p - log_q))
        hessian = q * (1.0 - q) if order > 1 else None
        return t * t * xp.sum(terms, axis=-1), t * (q - p), hessian

    def _optimal_constant(self, targets, weight):
        teacher = targets[0]
        if self.teacher == "logits":
            teacher = np.exp(log_softmax(np, teacher / self.temperature))
        else:
            teacher = teacher ** (1.0 / self.temperature)
            teacher = teacher / teacher.sum(axis=-1, keepdims=True)
        return self.temperature * SOFTMAX.forward(np, clipped(weighted_mean(teacher, weight, rows=True)))


distillation = Distillation.as_function()
