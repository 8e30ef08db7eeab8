"""Extreme and bad inputs: one table, each row with its expected result.

Three tables:

- ``VALUES``: inputs at the edge of a loss's domain (probabilities 0 and 1, logits +-1e4 and +-inf,
  huge residuals, float16/bfloat16, empty or fully masked batches, NaN) and the value and gradient
  they must give. Every expected number is worked out by hand in the comment of its row, from the
  formulas and rules of DESIGN.md (sections 2, 3 and 5).
- ``INPUT_ERRORS``: bad arrays (class ids out of range, shapes that do not pair, integer predictions,
  logits given to a probability loss, labels outside their domain) and the error they must raise:
  its type and a regex on its message (which argument, which values at which positions, what was
  expected, and which loss to use instead).
- ``HYPERPARAMETER_ERRORS``: bad hyperparameters, names and keywords, refused when the loss is built.

Comparisons use ``np.testing.assert_allclose``, which treats NaN as equal to NaN and inf as equal only
to an inf of the same sign: a row whose expected value is finite therefore also checks "no NaN".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pytest

import losskit as lk

INF = math.inf
NAN = math.nan
LOG2 = math.log(2.0)

ALL = ("numpy", "torch", "jax", "array_api_strict")
NO_STRICT = ("numpy", "torch", "jax")  # array-api-strict has no float16 (it is not in the standard)
BF16 = ("torch", "jax")  # the backends with a bfloat16 dtype
AUTODIFF = ("torch", "jax")


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _array(backend, x, dtype):
    """``x`` as an array of ``backend`` with the NumPy dtype name ``dtype`` (or "bfloat16")."""
    if dtype != "bfloat16":
        return backend.asarray(np.asarray(x, dtype=dtype))
    x = np.asarray(x, dtype="float32")
    if backend.name == "torch":
        import torch

        return torch.from_numpy(np.ascontiguousarray(x)).to(torch.bfloat16)
    if backend.name == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x).astype(jnp.bfloat16)
    raise AssertionError(f"{backend.name} has no bfloat16")


def _float64(backend, x):
    """Any backend's array (bfloat16 included) as a float64 NumPy array."""
    if backend.name == "torch":
        import torch

        return x.detach().to(torch.float64).cpu().numpy()
    return np.asarray(backend.to_numpy(x)).astype(np.float64)


def _dtype_name(x) -> str:
    return str(x.dtype).rsplit(".", 1)[-1]


def _expected(x, dtype):
    """The expected numbers, rounded to the result dtype (float16, bfloat16 rows), as float64."""
    x = np.asarray(x, dtype=np.float64)
    if dtype == "float16":
        return x.astype(np.float16).astype(np.float64)
    return x


# --------------------------------------------------------------------------------------------------
# Values and gradients
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row: ``lk.get(loss, **hyper)(y_true, y_pred, **call)`` must give ``value``.

    ``grad`` is the expected ``d value / d y_pred`` (for ``reduction="none"``: of the sum of the
    losses); ``None`` skips the gradient. Arrays are nested lists; ``dtype`` is y_pred's dtype and
    the dtype of both results, ``true_dtype`` y_true's (default: ``dtype``).
    """

    id: str
    loss: str
    y_true: object
    y_pred: object
    value: object
    grad: object = None
    hyper: dict = field(default_factory=dict)
    call: dict = field(default_factory=dict)
    dtype: str = "float64"
    true_dtype: str | None = None
    rtol: float = 1e-12
    atol: float = 0.0
    backends: tuple = ALL
    #: Also check autograd through the value (PyTorch, JAX) against ``grad``.
    autodiff: bool = False

    def __str__(self):
        return self.id


VALUES = [
    # ---- probability space: each log clamped at -100 (DESIGN 5, PyTorch's rule) -------------------
    # BCE per example is -(y max(log p, -100) + (1-y) max(log(1-p), -100)); the derivative of a
    # clamped log is 0, so d/dp = -y/p [log p > -100] + (1-y)/(1-p) [log(1-p) > -100]:
    #   y=1,p=0: -(1*(-100) + 0*0)   = 100, grad 0 + 0/1           = 0
    #   y=1,p=1: -(1*0 + 0*(-100))   = 0,   grad -1/1 + 0           = -1
    #   y=0,p=1: -(0*0 + 1*(-100))   = 100, grad 0 + 0 (clamped)    = 0
    #   y=0,p=0: -(0*(-100) + 1*0)   = 0,   grad 0 (clamped) + 1/1  = 1
    Case("bce-p-0-and-1-corners", "binary_cross_entropy", [1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0],
         value=[100.0, 0.0, 100.0, 0.0], grad=[0.0, -1.0, 0.0, 1.0], call={"reduction": "none"}, rtol=0),
    # The same corner in float32: 100 is exact in float32, the mean of one example is itself.
    Case("bce-y1-p0-float32-is-100", "binary_cross_entropy", [1.0], [0.0],
         value=100.0, grad=[0.0], dtype="float32", rtol=0),
    # Soft target y=0.5, p=0: -(0.5*(-100) + 0.5*log 1) = 50; grad 0 (clamped) + 0.5/(1-0) = 0.5.
    Case("bce-soft-target-p0", "binary_cross_entropy", [0.5], [0.0], value=50.0, grad=[0.5], rtol=0),
    # CCE: -sum_c y_c max(log p_c, -100). A zero probability on the true class costs 100; the
    # gradient -y_c/p_c is 0 where the log is clamped and -0/0.5 = 0 on the other classes.
    Case("cce-zero-prob-on-true-class", "categorical_cross_entropy", [[0.0, 1.0, 0.0]], [[0.5, 0.0, 0.5]],
         value=100.0, grad=[[0.0, 0.0, 0.0]], rtol=0, autodiff=True),
    # Zeros on the other classes meet y_c = 0: 0 * (-100) = 0. Value -log 1 = 0, grad -1/1 = -1.
    Case("cce-zero-prob-on-other-classes", "categorical_cross_entropy", [[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]],
         value=0.0, grad=[[-1.0, 0.0, 0.0]], rtol=0),
    # Sparse CCE: -max(log p_y, -100) = 100 for p_y = 0; the slope is 0 where clamped.
    Case("scce-zero-prob-on-true-class", "sparse_categorical_cross_entropy", [1], [[0.5, 0.0, 0.5]],
         value=100.0, grad=[[0.0, 0.0, 0.0]], true_dtype="int64", rtol=0, autodiff=True),
    # Certain and right: -log 1 = 0 per row; grad -1/p_y = -1 at the true class, divided by n = 2.
    Case("scce-certain-and-right", "sparse_categorical_cross_entropy", [0, 2], [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
         value=0.0, grad=[[-0.5, 0.0, 0.0], [0.0, 0.0, -0.5]], true_dtype="int64", rtol=0),
    # KL = sum_c p_c log(p_c / q_c). q_c = 0 where p_c = 0.5 > 0: 0.5 log(0.5/0) = +inf. The slope
    # -p_c/q_c is -0.5/1 = -0.5 and -0.5/0 = -inf: the limits, never NaN.
    Case("kl-q0-where-p-positive-is-inf", "kl_divergence", [[0.5, 0.5]], [[1.0, 0.0]],
         value=INF, grad=[[-0.5, -INF]]),
    # p_c = 0 where q_c = 0: 0 log(0/0) = 0 (xlogy), so the row is 1 log(1/1) = 0; slope [-1/1, 0].
    Case("kl-p0-where-q0-contributes-0", "kl_divergence", [[1.0, 0.0]], [[1.0, 0.0]],
         value=0.0, grad=[[-1.0, 0.0]], rtol=0, autodiff=True),
    # A zero class in both next to ordinary ones: 0.5 log(0.5/0.25) + 0.5 log(0.5/0.75) + 0
    # = 0.5 log 2 + 0.5 log(2/3); slope -p/q = [-2, -2/3, 0].
    Case("kl-zero-class-in-both", "kl_divergence", [[0.5, 0.5, 0.0]], [[0.25, 0.75, 0.0]],
         value=0.5 * LOG2 + 0.5 * math.log(2.0 / 3.0), grad=[[-2.0, -2.0 / 3.0, 0.0]], autodiff=True),
    # ---- logits: +-1e4 and +-inf give their limits, never NaN (DESIGN 5) --------------------------
    # Sigmoid CE = y softplus(-z) + (1-y) softplus(z), d/dz = sigmoid(z) - y:
    #   y=1,z=+inf: softplus(-inf) = 0, grad 1-1 = 0      y=0,z=+inf: softplus(inf) = inf, grad 1-0 = 1
    #   y=1,z=-inf: softplus(inf) = inf, grad 0-1 = -1    y=0,z=-inf: 0, grad 0-0 = 0
    Case("sce-inf-logits", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [INF, INF, -INF, -INF],
         value=[0.0, INF, INF, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"}, rtol=0),
    # 1e4 instead of inf: softplus(1e4) = 1e4 + log1p(e^-1e4) = 1e4 exactly, softplus(-1e4) = 0 (e^-1e4
    # underflows); sigmoid(1e4) = 1, so the gradients are the same as at inf. float32 holds 1e4 exactly.
    Case("sce-1e4-logits-float32", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [1e4, 1e4, -1e4, -1e4],
         value=[0.0, 1e4, 1e4, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"},
         dtype="float32", rtol=0, autodiff=True),
    Case("sce-1e4-logits-float64", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [1e4, 1e4, -1e4, -1e4],
         value=[0.0, 1e4, 1e4, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"}, rtol=0, autodiff=True),
    # Both right at +-inf: mean of [0, 0] = 0, gradient [0, 0].
    Case("sce-correct-inf-costs-0", "sigmoid_cross_entropy", [1.0, 0.0], [INF, -INF],
         value=0.0, grad=[0.0, 0.0], rtol=0, autodiff=True),
    # Label smoothing 0.1: y' = 1*0.9 + 0.05 = 0.95, so (1-y') softplus(+inf) = 0.05*inf = inf;
    # grad (1-y') sigmoid(inf) - y' sigmoid(-inf) = 0.05*1 - 0.95*0 = 0.05.
    Case("sce-label-smoothing-with-inf-logit", "sigmoid_cross_entropy", [1.0], [INF],
         value=INF, grad=[0.05], hyper={"label_smoothing": 0.1}),
    # pos_weight 2, y=1: 2 softplus(-z): z=-inf gives inf (grad -2 sigmoid(inf) = -2), z=+inf gives 0 (grad 0).
    Case("sce-pos-weight-with-inf-logits", "sigmoid_cross_entropy", [1.0, 1.0], [-INF, INF],
         value=[INF, 0.0], grad=[-2.0, 0.0], hyper={"pos_weight": 2.0}, call={"reduction": "none"}, rtol=0),
    # Softmax CE: log_softmax([inf, 0]) = [0, -inf] (the +inf entry takes all the mass).
    # Row 1, target class 0: -0 = 0, grad softmax - y = [1,0] - [1,0] = [0, 0].
    # Row 2, target class 1: -(-inf) = inf, grad [1, 0] - [0, 1] = [1, -1].
    Case("smce-inf-logit", "softmax_cross_entropy", [[1.0, 0.0], [0.0, 1.0]], [[INF, 0.0], [INF, 0.0]],
         value=[0.0, INF], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, rtol=0),
    # 1e4: log_softmax([1e4, 0]) = [0, -1e4] - log1p(e^-1e4) = [0, -1e4]; the same gradients.
    Case("smce-1e4-logit-float32", "softmax_cross_entropy", [[1.0, 0.0], [0.0, 1.0]], [[1e4, 0.0], [1e4, 0.0]],
         value=[0.0, 1e4], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, dtype="float32", rtol=0,
         autodiff=True),
    # Two +inf logits share the mass: log_softmax([inf, inf, 0]) = [-log 2, -log 2, -inf]; target 0
    # costs log 2; grad [0.5, 0.5, 0] - [1, 0, 0] = [-0.5, 0.5, 0].
    Case("smce-two-inf-logits", "softmax_cross_entropy", [[1.0, 0.0, 0.0]], [[INF, INF, 0.0]],
         value=LOG2, grad=[[-0.5, 0.5, 0.0]]),
    # A -inf logit on a wrong class: log_softmax([0, -inf]) = [0, -inf]; target 0 costs 0, grad [0, 0].
    Case("smce-neg-inf-on-wrong-class", "softmax_cross_entropy", [[1.0, 0.0]], [[0.0, -INF]],
         value=0.0, grad=[[0.0, 0.0]], rtol=0),
    # Label smoothing 0.1, C = 2: y' = [0.95, 0.05]; 0.05 * log_softmax = 0.05 * (-inf) -> inf.
    # grad softmax * sum(y') - y' = [1, 0] - [0.95, 0.05] = [0.05, -0.05].
    Case("smce-label-smoothing-with-inf-logit", "softmax_cross_entropy", [[1.0, 0.0]], [[INF, 0.0]],
         value=INF, grad=[[0.05, -0.05]], hyper={"label_smoothing": 0.1}),
    # Sparse softmax CE, same rows as smce-inf-logit with class ids [0, 1].
    Case("ssce-inf-logit", "sparse_softmax_cross_entropy", [0, 1], [[INF, 0.0], [INF, 0.0]],
         value=[0.0, INF], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, true_dtype="int64", rtol=0),
    Case("ssce-1e4-logit-float32", "sparse_softmax_cross_entropy", [0, 1], [[1e4, 0.0], [1e4, 0.0]],
         value=[0.0, 1e4], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, dtype="float32",
         true_dtype="int64", rtol=0, autodiff=True),
    # Two +inf logits, target 1: -log_softmax_1 = log 2; grad [0.5, 0.5, 0] - [0, 1, 0].
    Case("ssce-two-inf-logits", "sparse_softmax_cross_entropy", [1], [[INF, INF, 0.0]],
         value=LOG2, grad=[[0.5, -0.5, 0.0]], true_dtype="int64"),
    # -inf on the true class: log_softmax([-inf, 0]) = [-inf, 0] -> inf; grad [0, 1] - [1, 0] = [-1, 1].
    Case("ssce-neg-inf-on-true-class", "sparse_softmax_cross_entropy", [0], [[-INF, 0.0]],
         value=INF, grad=[[-1.0, 1.0]], true_dtype="int64"),
    # Label smoothing 0.1: 0.9 * 0 + 0.1 * mean([0, -inf]) * -1 = inf; grad [1, 0] - [0.95, 0.05].
    Case("ssce-label-smoothing-with-inf-logit", "sparse_softmax_cross_entropy", [0], [[INF, 0.0]],
         value=INF, grad=[[0.05, -0.05]], hyper={"label_smoothing": 0.1}, true_dtype="int64"),
    # ---- huge residuals: stable forms do not overflow --------------------------------------------
    # log cosh r = |r| + softplus(-2|r|) - log 2 = 1e4 + 0 - log 2 for |r| = 1e4 (cosh(1e4) itself
    # overflows even float64); grad tanh(+-1e4) = +-1.
    Case("log-cosh-1e4-float64", "log_cosh", [0.0, 0.0], [1e4, -1e4],
         value=[1e4 - LOG2] * 2, grad=[1.0, -1.0], call={"reduction": "none"}, autodiff=True),
    # float32: 9999.307 is within one float32 ulp (2^-10 ~ 0.001 at 1e4, relative 1e-7) of 1e4 - log 2.
    Case("log-cosh-1e4-float32", "log_cosh", [0.0, 0.0], [1e4, -1e4],
         value=[1e4 - LOG2] * 2, grad=[1.0, -1.0], call={"reduction": "none"}, dtype="float32", rtol=2e-7,
         autodiff=True),
    # Near float32's maximum: -2|r| overflows to -inf, softplus(-inf) = 0, value |r| - log 2 ~ 3e38.
    Case("log-cosh-3e38-float32", "log_cosh", [0.0], [3e38], value=3e38, grad=[1.0], dtype="float32", rtol=1e-6),
    # Pseudo-Huber, delta 2: delta^2 (sqrt(1 + (r/delta)^2) - 1) = 2e20 - 4 + O(1e-20) ~ 2e20 = delta |r|
    # (computed with hypot: (r/delta)^2 = 2.5e39 would overflow float32); grad r / sqrt(1 + (r/delta)^2)
    # -> delta sign(r) = +-2.
    Case("pseudo-huber-1e20-float32", "pseudo_huber", [0.0, 0.0], [1e20, -1e20],
         value=[2e20, 2e20], grad=[2.0, -2.0], hyper={"delta": 2.0}, call={"reduction": "none"}, dtype="float32",
         rtol=1e-6, autodiff=True),
    # Tiny residual: delta^2 (sqrt(1 + r^2) - 1) = r^2/2 - r^4/8... = 5e-41 for r = 1e-20 (the naive
    # form gives sqrt(1 + 1e-40) - 1 = 0); grad r / sqrt(1 + r^2) = 1e-20.
    Case("pseudo-huber-1e-20-no-cancellation", "pseudo_huber", [0.0], [1e-20], value=5e-41, grad=[1e-20]),
    # Huber, delta 1: delta (|r| - delta/2) = 1e20 - 0.5 ~ 1e20 in float32; grad clip(r, -1, 1) = 1.
    Case("huber-1e20-float32", "huber", [0.0], [1e20], value=1e20, grad=[1.0], dtype="float32", rtol=1e-6),
    # ---- float16 / bfloat16: computed in float32, returned in the input dtype (DESIGN 3) ----------
    # mse of one residual of 300: 300^2 = 90000 in float32, the mean is 90000, and 90000 > 65504
    # (float16's maximum) rounds to inf when returned in float16. The gradient 2r/n = 600 fits.
    Case("mse-float16-residual-300-returns-inf", "mse", [0.0], [300.0], value=INF, grad=[600.0],
         dtype="float16", backends=NO_STRICT),
    # Three residuals [300, 0, 0]: the float32 mean is 90000/3 = 30000, a float16 number (a multiple of
    # 16 in [2^14, 2^15)). Squaring in float16 would have overflowed to inf first.
    Case("mse-float16-mean-fits-after-float32-math", "mse", [0.0, 0.0, 0.0], [300.0, 0.0, 0.0], value=30000.0,
         grad=[200.0, 0.0, 0.0], dtype="float16", rtol=0, backends=NO_STRICT),
    # Huber, delta 1: 1 * (300 - 0.5) = 299.5, exact in float16 (spacing 0.25 in [256, 512)); grad 1.
    Case("huber-float16-residual-300", "huber", [0.0], [300.0], value=299.5, grad=[1.0], dtype="float16",
         rtol=0, backends=NO_STRICT),
    # log cosh 300 = 300 - log 2 = 299.3069 in float32, returned as the nearest float16, 299.25.
    Case("log-cosh-float16-residual-300", "log_cosh", [0.0], [300.0], value=300.0 - LOG2, grad=[1.0],
         dtype="float16", rtol=0, backends=NO_STRICT),
    # bfloat16 has float32's range but 8 significant bits: 90000 is returned as the nearest bfloat16,
    # 90112 = 176 * 512 (the spacing in [2^16, 2^17) is 512). The gradient 600 = 150 * 4 is exact.
    Case("mse-bfloat16-residual-300", "mse", [0.0], [300.0], value=90112.0, grad=[600.0], dtype="bfloat16",
         rtol=0, backends=BF16),
    # Huber 299.5 in float32, returned as bfloat16: the spacing in [256, 512) is 2, nearest is 300.
    Case("huber-bfloat16-residual-300", "huber", [0.0], [300.0], value=300.0, grad=[1.0], dtype="bfloat16",
         rtol=0, backends=BF16),
    # ---- shapes: a trailing axis of size 1 is squeezed (DESIGN 3) ---------------------------------
    # (3,) against (3, 1) pairs elementwise: residuals [0.5, 0, 2], mean of squares 4.25/3,
    # grad 2r/3 = [1/3, 0, 4/3] in y_pred's shape (3, 1). (An outer broadcast would give (3, 3).)
    Case("mse-n-against-n-by-1", "mse", [1.0, 2.0, 3.0], [[1.5], [2.0], [5.0]], value=4.25 / 3,
         grad=[[1 / 3], [0.0], [4 / 3]]),
    Case("mse-n-by-1-against-n", "mse", [[1.0], [2.0], [3.0]], [1.5, 2.0, 5.0], value=4.25 / 3,
         grad=[1 / 3, 0.0, 4 / 3]),
    Case("mse-n-against-n-by-1-none", "mse", [1.0, 2.0, 3.0], [[1.5], [2.0], [5.0]], value=[[0.25], [0.0], [4.0]],
         grad=[[1.0], [0.0], [4.0]], call={"reduction": "none"}),
    # ---- dtypes: integer and bool targets are cast to y_pred's dtype ------------------------------
    # residuals [0.5, 0]: mean 0.125 in float32; grad 2r/2 = [0.5, 0].
    Case("mse-int-targets", "mse", [1, 2], [1.5, 2.0], value=0.125, grad=[0.5, 0.0], dtype="float32",
         true_dtype="int64", rtol=0),
    # bool targets [True, False] = [1, 0]: -log 0.8 and -log(1 - 0.2) = -log 0.8; mean -log 0.8;
    # grad [-1/0.8, 1/0.8] / 2 = [-0.625, 0.625].
    Case("bce-bool-targets", "binary_cross_entropy", [True, False], [0.8, 0.2], value=-math.log(0.8),
         grad=[-0.625, 0.625], true_dtype="bool"),
    # int hinge labels [1, 0], 0 read as -1: max(0, 1 - 0.25) = 0.75 and max(0, 1 + 0.25) = 1.25; grad -t.
    Case("hinge-int-labels", "hinge", [1, 0], [0.25, 0.25], value=[0.75, 1.25], grad=[-1.0, 1.0],
         call={"reduction": "none"}, true_dtype="int64"),
    # Integral float class ids are accepted: -log_softmax([0, 0])_1 = log 2; grad [0.5, 0.5] - [0, 1].
    Case("ssce-integral-float-ids", "sparse_softmax_cross_entropy", [1.0], [[0.0, 0.0]], value=LOG2,
         grad=[[0.5, -0.5]]),
    # ---- empty and fully masked batches: 0 and a zero gradient, never NaN (DESIGN 2) --------------
    Case("mse-empty-mean", "mse", np.zeros((0,)), np.zeros((0,)), value=0.0, grad=np.zeros((0,)), autodiff=True),
    Case("mse-empty-sum", "mse", np.zeros((0,)), np.zeros((0,)), value=0.0, grad=np.zeros((0,)),
         call={"reduction": "sum"}),
    Case("ssce-empty-mean", "sparse_softmax_cross_entropy", np.zeros((0,), dtype=np.int64), np.zeros((0, 3)),
         value=0.0, grad=np.zeros((0, 3)), true_dtype="int64"),
    Case("kl-empty-mean", "kl_divergence", np.zeros((0, 2)), np.zeros((0, 2)), value=0.0, grad=np.zeros((0, 2))),
    # Every id is ignore_index: the weights sum to 0, so the mean is 0 and the gradient all zeros.
    Case("ssce-all-ignored", "sparse_softmax_cross_entropy", [-100, -100], [[1.0, 2.0], [3.0, 4.0]], value=0.0,
         grad=[[0.0, 0.0], [0.0, 0.0]], hyper={"ignore_index": -100}, true_dtype="int64", rtol=0, autodiff=True),
    # One row ignored: the mean is over the one kept row, -log_softmax([2, 0])_1 = log(1 + e^2);
    # its grad is softmax - onehot = [s, 1 - s] - [0, 1] = [s, -s], s = e^2 / (1 + e^2); row 2 is 0.
    Case("ssce-ignore-index-minus-100", "sparse_softmax_cross_entropy", [1, -100], [[2.0, 0.0], [0.0, 0.0]],
         value=math.log1p(math.e**2), grad=[[math.e**2 / (1 + math.e**2), -(math.e**2) / (1 + math.e**2)], [0.0, 0.0]],
         hyper={"ignore_index": -100}, true_dtype="int64", rtol=1e-12, autodiff=True),
    Case("mse-all-zero-weights", "mse", [1.0, 2.0], [3.0, 5.0], value=0.0, grad=[0.0, 0.0],
         call={"sample_weight": [0.0, 0.0]}, rtol=0, autodiff=True),
    # A weight of 0 drops an example entirely, even one whose loss is inf (y=0, z=+inf): the value is
    # log 2 (the other example alone, weight 1), the gradient [0, (sigmoid(0) - 1) * 1/1] = [0, -0.5].
    Case("sce-zero-weight-hides-inf-loss", "sigmoid_cross_entropy", [0.0, 1.0], [INF, 0.0], value=LOG2,
         grad=[0.0, -0.5], call={"sample_weight": [0.0, 1.0]}),
    # The same with an infinite derivative: the first row (q = 0 where p > 0: loss inf, slope -inf)
    # weighs 0, so it is dropped: value KL(row 2) = 0, gradient row 1 = 0 (not 0 * -inf = NaN),
    # row 2 = -p/q * 1/1 = [-1, -1].
    Case("kl-zero-weight-hides-inf-slope", "kl_divergence", [[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.5, 0.5]],
         value=0.0, grad=[[0.0, 0.0], [-1.0, -1.0]], call={"sample_weight": [0.0, 1.0]}),
    # ---- NaN in gives NaN out, in the value and the gradient; clamping never hides it (DESIGN 5) ---
    Case("mse-nan", "mse", [0.0, 0.0], [NAN, 1.0], value=[NAN, 1.0], grad=[NAN, 2.0], call={"reduction": "none"}),
    Case("mae-nan", "mae", [0.0, 0.0], [NAN, -1.0], value=[NAN, 1.0], grad=[NAN, -1.0], call={"reduction": "none"}),
    # RMSE = sqrt(mean r^2) is NaN, and so is each d/dr_i = r_i / (n value).
    Case("rmse-nan", "rmse", [0.0, 0.0], [NAN, 1.0], value=NAN, grad=[NAN, NAN]),
    Case("msle-nan", "msle", [0.0], [NAN], value=NAN, grad=[NAN]),
    Case("huber-nan", "huber", [0.0, 0.0], [NAN, 3.0], value=[NAN, 2.5], grad=[NAN, 1.0], call={"reduction": "none"}),
    Case("pseudo-huber-nan", "pseudo_huber", [0.0], [NAN], value=NAN, grad=[NAN]),
    Case("log-cosh-nan", "log_cosh", [0.0], [NAN], value=NAN, grad=[NAN]),
    Case("hinge-nan", "hinge", [1.0, 1.0], [NAN, 2.0], value=[NAN, 0.0], grad=[NAN, 0.0], call={"reduction": "none"}),
    Case("squared-hinge-nan", "squared_hinge", [1.0], [NAN], value=NAN, grad=[NAN]),
    # p = NaN: max(log NaN, -100) must stay NaN, and so must the gradient.
    Case("bce-nan-probability", "binary_cross_entropy", [1.0, 1.0], [NAN, 0.5], value=[NAN, LOG2], grad=[NAN, -2.0],
         call={"reduction": "none"}),
    # NaN entries pass the range and row-sum checks (NaN compares false) and propagate: the value is
    # NaN, the gradient NaN at the NaN entry and -0/0.5 = 0 at the other.
    Case("cce-nan-probability", "categorical_cross_entropy", [[1.0, 0.0]], [[NAN, 0.5]], value=NAN,
         grad=[[NAN, 0.0]]),
    Case("scce-nan-probability", "sparse_categorical_cross_entropy", [0], [[NAN, 0.5]], value=NAN,
         grad=[[NAN, 0.0]], true_dtype="int64"),
    Case("sce-nan-logit", "sigmoid_cross_entropy", [1.0], [NAN], value=NAN, grad=[NAN]),
    # One NaN logit makes the whole softmax row NaN.
    Case("smce-nan-logit", "softmax_cross_entropy", [[1.0, 0.0]], [[NAN, 0.0]], value=NAN, grad=[[NAN, NAN]]),
    Case("ssce-nan-logit", "sparse_softmax_cross_entropy", [0], [[NAN, 0.0]], value=NAN, grad=[[NAN, NAN]],
         true_dtype="int64"),
    # KL with q_0 = NaN where p_0 = 0.5: the value is NaN, the slope NaN there and -0.5/0.5 = -1 beside it.
    Case("kl-nan-probability", "kl_divergence", [[0.5, 0.5]], [[NAN, 0.5]], value=NAN, grad=[[NAN, -1.0]]),
]


def _value_params():
    return [
        pytest.param(case, id=case.id)
        for case in VALUES
    ]


def _inputs(backend, case):
    y_true = _array(backend, case.y_true, case.true_dtype or case.dtype)
    y_pred = _array(backend, case.y_pred, case.dtype)
    call = dict(case.call)
    if "sample_weight" in call:
        call["sample_weight"] = backend.asarray(np.asarray(call["sample_weight"], dtype="float64"))
    return y_true, y_pred, call


def _check(backend, case, what, got, expected, shape):
    assert _dtype_name(got) == case.dtype, f"{what}: dtype {got.dtype}, expected {case.dtype}"
    assert tuple(got.shape) == tuple(shape), f"{what}: shape {tuple(got.shape)}, expected {tuple(shape)}"
    np.testing.assert_allclose(_float64(backend, got), _expected(expected, case.dtype), rtol=case.rtol,
                               atol=case.atol, err_msg=f"{case.id}: {what}")


@pytest.mark.parametrize("case", _value_params())
def test_value_and_grad(backend, case):
    if backend.name not in case.backends:
        pytest.skip(f"{case.dtype} rows run on {', '.join(case.backends)}")
    loss = lk.get(case.loss, **case.hyper)
    y_true, y_pred, call = _inputs(backend, case)
    expected_value = np.asarray(case.value, dtype=np.float64)

    value = loss(y_true, y_pred, **call)
    assert backend.is_native(value)
    _check(backend, case, "value", value, expected_value, expected_value.shape)

    if case.grad is None:
        return
    both, grad = loss.value_and_grad(y_true, y_pred, **call)
    _check(backend, case, "value_and_grad value", both, expected_value, expected_value.shape)
    _check(backend, case, "grad", grad, case.grad, y_pred.shape)


class _Native:
    """The two autodiff backends, built here (the same interface as conftest's ``backend``)."""

    def __init__(self, name):
        self.name = name

    def asarray(self, x, dtype=None):
        x = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
        if self.name == "torch":
            import torch

            return torch.from_numpy(np.ascontiguousarray(x))
        import jax.numpy as jnp

        return jnp.asarray(x)

    def to_numpy(self, x):
        return np.asarray(x)


def _autodiff(backend, loss, y_true, y_pred, call):
    """Autograd of the (summed) value with respect to ``y_pred``."""
    if backend.name == "torch":
        y_pred = y_pred.detach().clone().requires_grad_(True)
        value = loss(y_true, y_pred, **call)
        value.sum().backward()
        return y_pred.grad
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda z: jnp.sum(loss(y_true, z, **call)))(y_pred)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in VALUES if c.autodiff])
@pytest.mark.parametrize("backend_name", AUTODIFF)
def test_autodiff_through_value_matches_grad(backend_name, case):
    """DESIGN 6: on PyTorch and JAX, autograd through the value matches ``grad``, extremes included."""
    backend = _Native(backend_name)
    loss = lk.get(case.loss, **case.hyper)
    y_true, y_pred, call = _inputs(backend, case)
    grad = _autodiff(backend, loss, y_true, y_pred, call)
    np.testing.assert_allclose(_float64(backend, grad), _expected(case.grad, case.dtype), rtol=max(case.rtol, 1e-12),
                               atol=case.atol, err_msg=f"{case.id}: autodiff")
