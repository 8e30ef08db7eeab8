r"""Multi-class losses that reweight cross-entropy's terms: focal (hard examples), poly-1 and generalized
cross-entropy (noisy labels).

Each is a sum over the classes of a function of that class's probability,
:math:`L = \sum_c a_c \varphi(p_c)`, with :math:`p = \mathrm{softmax}(z)` over ``axis`` and :math:`a` the
target row (the one-hot row of a class id) times a per-class weight where the loss has one. One base
derives the gradient and the Hessian diagonal of all of them from three terms per class
(``_SoftmaxTerms._terms``): :math:`\varphi`, :math:`s = p \varphi'` and :math:`\kappa = p (p\varphi')' (1-p)^2`,

.. math::

    \partial_j L = (1 - p_j)\, a_j s_j - p_j \sum_{c \ne j} a_c s_c, \qquad
    \partial_{jj} L = a_j \kappa_j - p_j (1 - p_j) \sum_c a_c s_c + p_j^2 \sum_{c \ne j} \frac{a_c \kappa_c}{(1 - p_c)^2}.

The sums over :math:`c \ne j` are formed without a subtraction at the row's largest class, whose
:math:`1 - p` comes exact from ``numerics.softmax_parts``: a confident row keeps its digits, and the
last sum stays finite for focal at gamma < 1, where one class's term alone diverges. With class ids,
only the true class's terms are computed (``a`` is one-hot).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._checks import SIMPLEX, non_negative, optional_integer, weights, within
from .._info import LossInfo, Peer
from .._optimal import class_frequencies, clipped, simplex_minimum
from ..errors import InputError
from ..inputs import prediction, target
from ..links import SOFTMAX
from ..numerics import class_mask, log1m_exp, log1m_softmax, softmax_parts, take_class
from ..params import Param, as_array
from ..registry import register
from . import binary
from .multiclass import CLASS_IDS, MULTI_HOT, SOFT_TARGETS, _ClassAxis, _take

SOFT_ROWS = target("y_true", SOFT_TARGETS, event=1, hint=MULTI_HOT)
LOGIT_ROWS = prediction("y_pred", link=SOFTMAX, event=1)


def _per_class(loss, xp, name, like):
    """A hyperparameter that is a number or one entry per class, as an array of ``like``'s kind (or None)."""
    value = as_array(loss, xp, name, like)
    if hasattr(value, "shape") and tuple(value.shape) != (like.shape[-1],):
        raise InputError(
            f"{loss.info.name}: {name} has shape {tuple(value.shape)} but y_pred has {like.shape[-1]} classes on its "
            "class axis; give one number, or one per class."
        )
    return value


def _class_weight_param(text):
    return Param(None, lambda loss, name, value: weights(loss, name, value, allow_scalar=True, optional=True),
                 "float >= 0, sequence of C weights >= 0, or None", text, example=(0.25, 0.5, 1.0))  # fmt: skip


class _SoftmaxTerms(_ClassAxis):
    r"""A loss :math:`\sum_c a_c \varphi(p_c)` of a softmax row (the module's docstring has the derivatives)."""

    inputs = (SOFT_ROWS, LOGIT_ROWS)
    #: The hyperparameter weighing each class inside the loss (a number or one per class), if any.
    class_factor = None

    def _terms(self, xp, order, p, log_p, u, log_u):
        """``(phi, s, kappa)`` per class, from ``p``, ``log p``, ``u = 1 - p`` and ``log u`` (kappa for order 2)."""
        raise NotImplementedError

    def _math(self, xp, order, y_true, z):
        factor = None if self.class_factor is None else _per_class(self, xp, self.class_factor, z)
        if self.info.inputs[0].kind == "class_index":
            return self._one_class(xp, order, y_true, z, factor)
        a = y_true if factor is None else y_true * factor
        log_p, top, log_u_top = softmax_parts(xp, z)
        log_u = log1m_softmax(xp, log_p, top, log_u_top)
        top = class_mask(xp, top, z.shape[-1])
        p, u = xp.exp(log_p), xp.exp(log_u)
        phi, s, kappa = self._terms(xp, order, p, log_p, u, log_u)
        zero = xp.zeros_like(z)
        held = a != 0
        losses = xp.sum(xp.where(held, a * phi, zero), axis=-1)
        g = xp.where(held, a * s, zero)
        total = xp.sum(g, axis=-1, keepdims=True)
        rest = xp.sum(xp.where(top, zero, g), axis=-1, keepdims=True)  # every class but the largest
        grad = u * g - p * xp.where(top, rest, total - g)
        hessian = None
        if order > 1:
            ak = xp.where(held, a * kappa, zero)
            safe_u = xp.where(top, xp.ones_like(u), u)  # u >= 1/2 off the largest class
            each = xp.where(top, zero, ak / (safe_u * safe_u))
            k_rest = xp.sum(each, axis=-1, keepdims=True)
            top_ak = xp.sum(xp.where(top, ak, zero), axis=-1, keepdims=True)
            top_u = xp.sum(xp.where(top, u, zero), axis=-1, keepdims=True)
            # p_j / (1 - p_top) <= 1: the largest class's diverging term enters only through it, squared
            share = xp.where(top | (top_u == 0), zero, p / xp.where(top_u == 0, xp.ones_like(top_u), top_u))
            beside = xp.where(top, p * p * k_rest, p * p * (k_rest - each) + top_ak * share * share)
            hessian = ak - p * u * total + beside
        return losses, grad, hessian

    def _one_class(self, xp, order, ids, z, factor):
        """Class ids: the terms of the true class t alone, ``a = factor_t e_t``; the gradient is ``g_t (e_t - p)``
        with ``1 - p_t`` exact, and the Hessian ``a k_t - p u g_t + (p / (1 - p_t))^2 a k_t`` off t."""
        log_p, top, log_u_top = softmax_parts(xp, z)
        at_true = class_mask(xp, ids, z.shape[-1])
        log_p_t = take_class(xp, log_p, ids)
        log_u_t = xp.where(ids == top, log_u_top[..., 0], log1m_exp(xp, log_p_t))
        p_t, u_t = xp.exp(log_p_t), xp.exp(log_u_t)
        phi, s, kappa = self._terms(xp, order, p_t, log_p_t, u_t, log_u_t)
        if hasattr(factor, "shape"):  # one weight per class: the true class's
            a = _take(xp, factor, ids)
        else:
            a = xp.ones_like(phi) if factor is None else factor * xp.ones_like(phi)
        losses = xp.where(a == 0, xp.zeros_like(phi), a * phi)  # a class weighed 0 costs 0, even at p_t = 0
        g = (a * s)[..., None]
        p = xp.exp(log_p)
        grad = xp.where(at_true, u_t[..., None] * g, -p * g)
        hessian = None
        if order > 1:
            ak = (a * kappa)[..., None]
            u = xp.exp(log1m_softmax(xp, log_p, top, log_u_top))
            safe_u_t = xp.where(u_t == 0, xp.ones_like(u_t), u_t)[..., None]
            share = xp.where(u_t[..., None] == 0, xp.zeros_like(p), p / safe_u_t)
            hessian = xp.where(at_true, ak - p * u * g, -p * u * g + share * share * ak)
        return losses, grad, hessian

    def _shares(self, targets, weight) -> np.ndarray:
        """The class shares of the targets times the per-class factor: the weights of the best constant row."""
        factor = None if self.class_factor is None else getattr(self, self.class_factor)
        classes = len(factor) if isinstance(factor, tuple) else None
        shares = class_frequencies(self, targets, weight, classes)
        return shares if factor is None else shares * np.asarray(factor, dtype=np.float64)

    def _slope(self, p):
        """:math:`\\varphi'(p)` in NumPy float64, for the best constant."""
        log_p = np.log(p)
        return self._terms(np, 1, p, log_p, 1.0 - p, log1m_exp(np, log_p))[1] / p

    def _optimal_constant(self, targets, weight):
        return SOFTMAX.forward(np, clipped(simplex_minimum(self._slope, self._shares(targets, weight))))


def _focal_terms(xp, order, gamma, p, log_p, u, log_u):
    r"""Focal's :math:`\varphi = -(1-p)^\gamma \log p` and its terms, with
    :math:`\rho = p \log p / (1 - p) \in [-1, 0]` carrying the limits (0 at p = 0, -1 at p = 1)."""
    focus = xp.ones_like(p) if gamma == 0 else xp.exp(gamma * log_u)
    zero_p, zero_u = p == 0, u == 0
    p_log_p = xp.where(zero_p, xp.zeros_like(p), p * xp.where(zero_p, xp.ones_like(p), log_p))
    rho = xp.where(zero_u, -xp.ones_like(p), p_log_p / xp.where(zero_u, xp.ones_like(u), u))
    phi = xp.where(zero_u, xp.zeros_like(p), -focus * log_p)
    s = focus * (gamma * rho - 1.0)
    kappa = gamma * focus * (u * (2.0 * p + p_log_p) - (gamma - 1.0) * p * p_log_p) if order > 1 else None
    return phi, s, kappa


_GAMMA = Param(2.0, non_negative, "float >= 0", "The focusing exponent: 0 is cross-entropy.", example=0.5)
_ALPHA_TEXT = "Each class's weight (a number: all classes, Keras's alpha); None: no weight. The mean counts examples."
_FOCAL_REFERENCES = ("Lin et al., Focal loss for dense object detection, ICCV 2017",)


@register
class SoftmaxFocal(_SoftmaxTerms):
    r"""Multi-class focal loss from logits: :math:`-\sum_c \alpha_c y_c (1 - p_c)^\gamma \log p_c`, ``p = softmax(z)``.

    Cross-entropy with each class's term scaled by :math:`(1 - p_c)^\gamma`, so well-classified rows
    weigh less. Keras's ``CategoricalFocalCrossentropy(from_logits=True)`` with a per-class ``alpha``;
    exact for every gamma >= 0 and logit, since :math:`(1 - p)^\gamma` comes from the exact
    :math:`\log(1 - p)`. Not convex, and its probabilities are not calibrated.

    Examples
    --------
    >>> import losskit as lk
    >>> z = [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]]
    >>> lk.softmax_focal([[1, 0, 0], [0, 0, 1]], z, alpha=0.25, reduction="none").round(6).tolist()
    [0.129649, 0.000102]
    """

    info = LossInfo(
        name="softmax_focal",
        aliases=("categorical_focal_with_logits", "softmax_focal_loss"),
        task="multiclass",
        variable="logit",
        formula="-sum_c alpha_c y_c (1 - p_c)^gamma log p_c, p = softmax(z)",
        gradient="(1 - p_j) g_j - p_j sum_{c != j} g_c, g_c = alpha_c y_c (1 - p_c)^gamma (gamma rho_c - 1), "
                 "rho = p log p / (1 - p)",
        hessian="a_j k_j - p_j (1 - p_j) sum_c g_c + p_j^2 sum_{c != j} a_c k_c / (1 - p_c)^2, a = alpha y, "
                "k = gamma (1 - p)^gamma p ((1 - p)(2 + log p) - (gamma - 1) p log p)",
        tags=("differentiable",),
        twin="categorical_focal",
        summary="Softmax cross-entropy that down-weights easy rows by (1 - p_c)^gamma: imbalance, hard examples.",
        use_when="many easy rows swamp the few hard ones (dense detection, extreme class imbalance), from logits",
        avoid_when="you need calibrated probabilities, or the classes are merely imbalanced: class_weight on "
                   "softmax_cross_entropy keeps them calibrated",
        references=_FOCAL_REFERENCES + ("Keras, keras.losses.CategoricalFocalCrossentropy",),
        peers=(
            Peer(
                "Keras", "keras.losses.CategoricalFocalCrossentropy",
                "from_logits=True; alpha is 0.25 by default, losskit's None",
            ),
        ),
    )  # fmt: skip
    gamma = _GAMMA
    alpha = _class_weight_param(_ALPHA_TEXT)
    class_factor = "alpha"

    def _terms(self, xp, order, p, log_p, u, log_u):
        return _focal_terms(xp, order, self.gamma, p, log_p, u, log_u)


softmax_focal = SoftmaxFocal.as_function()


@register
class SparseSoftmaxFocal(SoftmaxFocal):
    r"""Multi-class focal loss from logits and class ids: :math:`-\alpha_t (1 - p_t)^\gamma \log p_t`.

    ``softmax_focal`` on the one-hot rows of ``y_true``; rows whose id equals ``ignore_index`` weigh 0
    and leave the mean's denominator.

    Examples
    --------
    >>> import losskit as lk
    >>> z = [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]]
    >>> lk.sparse_softmax_focal([0, 2], z, alpha=0.25, reduction="none").round(6).tolist()
    [0.129649, 0.000102]
    """

    info = replace(SoftmaxFocal.info, name="sparse_softmax_focal", aliases=("sparse_categorical_focal_with_logits",),
                   twin=None, summary="Focal loss from logits and integer class ids, with ignore_index for padding.",
                   formula="-alpha_y (1 - p_y)^gamma log p_y, p = softmax(z)")  # fmt: skip
    inputs = (CLASS_IDS, LOGIT_ROWS)
    ignore_index = Param(None, optional_integer, "int or None", "A class id that marks rows to skip (PyTorch uses -100).",
                         example=1)  # fmt: skip


sparse_softmax_focal = SparseSoftmaxFocal.as_function()


@register
class CategoricalFocal(_ClassAxis):
    r"""Multi-class focal loss from probability rows: Keras's ``CategoricalFocalCrossentropy``.

    :math:`-\sum_c \alpha_c y_c (1 - p_c)^\gamma \log p_c`, each log clamped at -100 as in
    ``categorical_cross_entropy``; each class's term is ``binary_focal`` of that class with label 1, so
    the gradient stays finite where a class is predicted exactly. Prefer ``softmax_focal`` on logits.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.categorical_focal([[1, 0, 0]], [[0.322784, 0.53218, 0.145036]], alpha=0.25).round(5).tolist()
    0.12965
    """

    info = LossInfo(
        name="categorical_focal",
        aliases=("categorical_focal_crossentropy", "CategoricalFocalCrossentropy"),
        task="multiclass",
        variable="probability",
        formula="-sum_c alpha_c y_c (1 - p_c)^gamma log p_c, each log clamped at -100",
        gradient="alpha_c y_c (1 - p_c)^gamma (gamma log p_c / (1 - p_c) - 1 / p_c)",
        hessian="alpha_c y_c (1 - p_c)^gamma (1 / p_c^2 + 2 gamma / (p_c (1 - p_c)) - gamma (gamma - 1) log p_c / (1 - p_c)^2)",
        tags=("convex", "differentiable"),
        twin="softmax_focal",
        summary="Focal loss on probability rows (Keras's CategoricalFocalCrossentropy); softmax_focal on logits is exact.",
        use_when="the model already outputs probability rows and easy rows should weigh less",
        avoid_when="you have logits (softmax_focal), or need calibrated probabilities",
        references=_FOCAL_REFERENCES + ("Keras, keras.losses.CategoricalFocalCrossentropy",),
        peers=(
            Peer(
                "Keras", "keras.losses.CategoricalFocalCrossentropy",
                "alpha is 0.25 by default, losskit's None; probabilities clipped to [1e-7, 1 - 1e-7]",
            ),
        ),
    )  # fmt: skip
    inputs = (SOFT_ROWS, prediction("y_pred", SIMPLEX, event=1))
    gamma = _GAMMA
    alpha = _class_weight_param(_ALPHA_TEXT)

    def _math(self, xp, order, y_true, p):
        alpha = _per_class(self, xp, "alpha", p)
        a = y_true if alpha is None else y_true * alpha
        value, slope, curvature = binary.BinaryFocal(gamma=self.gamma)._math(xp, order, xp.ones_like(p), p)
        zero = xp.zeros_like(p)
        held = a != 0
        hessian = xp.where(held, a * curvature, zero) if order > 1 else None
        return xp.sum(xp.where(held, a * value, zero), axis=-1), xp.where(held, a * slope, zero), hessian

    def _optimal_constant(self, targets, weight):
        alpha = None if self.alpha is None else np.asarray(self.alpha, dtype=np.float64)
        shares = class_frequencies(self, targets, weight)
        focal = binary.BinaryFocal(gamma=self.gamma)
        slope = lambda p: focal._math(np, 1, np.ones_like(p), p)[1]  # noqa: E731
        return simplex_minimum(slope, shares if alpha is None else shares * alpha)


categorical_focal = CategoricalFocal.as_function()


@register
class Poly1SoftmaxCrossEntropy(_SoftmaxTerms):
    r"""Poly-1 cross-entropy from logits: :math:`\mathrm{CE} + \varepsilon \sum_c y_c (1 - p_c)`.

    The first polynomial term of cross-entropy's expansion in :math:`1 - p_t`, reweighted (Leng et al.,
    2022): ``epsilon > 0`` pushes harder on confident rows, ``epsilon < 0`` less. Optax's
    ``poly_loss_cross_entropy`` (whose default is 2). Convex in the logits for
    :math:`|\varepsilon| \le 1`; ``epsilon = 0`` is ``softmax_cross_entropy``.

    Examples
    --------
    >>> import losskit as lk
    >>> z = [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]]
    >>> lk.poly1_softmax_cross_entropy([[1, 0, 0], [0, 0, 1]], z, reduction="none").round(6).tolist()
    [1.807989, 0.149475]
    """

    info = LossInfo(
        name="poly1_softmax_cross_entropy",
        aliases=("poly1", "poly_loss", "poly_loss_cross_entropy", "poly1_cross_entropy"),
        task="multiclass",
        variable="logit",
        formula="sum_c y_c (-log p_c + epsilon (1 - p_c)), p = softmax(z)",
        gradient="(1 - p_j) g_j - p_j sum_{c != j} g_c, g_c = -y_c (1 + epsilon p_c)",
        hessian="-epsilon y_j p_j (1 - p_j)^2 - p_j (1 - p_j) sum_c g_c - epsilon p_j^2 sum_{c != j} y_c p_c",
        tags=("differentiable",),
        summary="Cross-entropy plus epsilon (1 - p_t): one knob on how hard confident rows are pushed.",
        use_when="tuning cross-entropy for a task (epsilon > 0 helped ImageNet classification, < 0 detection)",
        avoid_when="you need a likelihood or calibrated probabilities, or have no budget to tune epsilon",
        references=("Leng et al., PolyLoss: a polynomial expansion perspective of classification loss functions, ICLR 2022",
                    "Optax, optax.poly_loss_cross_entropy"),
        peers=(
            Peer(
                "Optax", "optax.losses.poly_loss_cross_entropy",
                "epsilon is 2.0 by default, losskit's 1.0 (the paper's Poly-1)",
            ),
        ),
    )  # fmt: skip
    epsilon = Param(1.0, within(-1.0, math.inf, open_high=True, why="the loss must fall as p_t rises"), "float >= -1",
                    "The weight of the first polynomial term (Optax uses 2).",
                    example=-0.5)  # fmt: skip

    def _specialise(self, info):
        return replace(info, tags=("convex", *info.tags)) if abs(self.epsilon) <= 1 else info

    def _terms(self, xp, order, p, log_p, u, log_u):
        eps = self.epsilon
        kappa = -eps * p * u * u if order > 1 else None
        return -log_p + eps * u, -1.0 - eps * p, kappa


poly1_softmax_cross_entropy = Poly1SoftmaxCrossEntropy.as_function()


@register
class GeneralizedCrossEntropy(_SoftmaxTerms):
    r"""Generalized cross-entropy from logits and class ids: :math:`(1 - p_t^q) / q`, robust to noisy labels.

    Zhang and Sabuncu's loss between cross-entropy (``q -> 0``) and the mean absolute error of the
    probabilities (``q = 1``, :math:`1 - p_t`): bounded by :math:`1/q`, so a mislabelled row cannot
    dominate. Keras's ``CategoricalGeneralizedCrossEntropy`` on ``softmax(z)``. Not convex.
    Rows whose id equals ``ignore_index`` weigh 0 and leave the mean's denominator.

    Examples
    --------
    >>> import losskit as lk
    >>> z = [[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]]
    >>> lk.generalized_cross_entropy([0, 2], z, reduction="none").round(6).tolist()
    [0.863719, 0.07472]
    """

    info = LossInfo(
        name="generalized_cross_entropy",
        aliases=("gce", "generalised_cross_entropy"),
        task="multiclass",
        variable="logit",
        formula="(1 - p_y^q) / q, p = softmax(z)",
        gradient="p_y^q (p - onehot(y))",
        hessian="p_y^q (p_j (1 - p_j) - q (p_j - onehot(y)_j)^2)",
        tags=("differentiable", "bounded"),
        summary="Between cross-entropy and MAE on probabilities: bounded, so noisy labels cannot dominate.",
        use_when="some training labels are wrong (crowd-sourced, weak or scraped labels)",
        avoid_when="labels are clean: cross-entropy trains faster, and GCE underfits hard classes",
        references=("Zhang and Sabuncu, Generalized cross entropy loss for training deep neural networks with noisy "
                    "labels, NeurIPS 2018", "Keras, keras.losses.CategoricalGeneralizedCrossEntropy"),
        peers=(
            Peer(
                "Keras", "keras.losses.CategoricalGeneralizedCrossEntropy",
                "despite its name, takes class ids; the same q = 0.5",
            ),
        ),
    )  # fmt: skip
    inputs = (CLASS_IDS, LOGIT_ROWS)
    q = Param(0.5, within(0.0, 1.0, open_low=True, why="q -> 0 is cross-entropy"), "float in (0, 1]",
              "Between cross-entropy (q -> 0) and MAE (q = 1).", example=0.7)  # fmt: skip
    ignore_index = SparseSoftmaxFocal.ignore_index

    def _terms(self, xp, order, p, log_p, u, log_u):
        q = self.q
        power = xp.exp(q * log_p)
        return -xp.expm1(q * log_p) / q, -power, (-q * power * u * u if order > 1 else None)


generalized_cross_entropy = GeneralizedCrossEntropy.as_function()
