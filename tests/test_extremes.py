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
Value rows run on NumPy, PyTorch, TensorFlow and array-api-strict, and on JAX for a share of them;
autodiff through the value is checked against the closed-form gradient on PyTorch and TensorFlow (and
JAX for a few rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

import losskit as lk
from conftest import Backend as _Backend

INF = math.inf
NAN = math.nan
LOG2 = math.log(2.0)

# Edge inputs are valid inputs: log(0), inf * 0 and the like are handled by the formulas, so NumPy must
# not warn of them (a user running with warnings as errors would fail).
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ALL = ("numpy", "torch", "jax", "tensorflow", "array_api_strict")
#: The default for value rows. JAX compiles every operation for each new shape and dtype (about half a
#: second a row on CPU), so it runs on a chosen share of the rows (``backends=ALL``), not on all.
CHEAP = ("numpy", "torch", "tensorflow", "array_api_strict")
F16 = ("numpy", "torch", "jax", "tensorflow")  # array-api-strict has no float16 (it is not in the standard)
BF16 = ("torch", "jax", "tensorflow")  # the backends with a bfloat16 dtype
#: Autodiff rows: the frameworks that differentiate eagerly (JAX's, which compile, on a share of the rows).
TAPES = ("torch", "tensorflow")
EVERY_FRAMEWORK = ("torch", "jax", "tensorflow")


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
    if backend.name == "tensorflow":
        import tensorflow as tf

        return tf.cast(tf.constant(x), tf.bfloat16)
    raise AssertionError(f"{backend.name} has no bfloat16")


def _float64(backend, x):
    """Any backend's array (bfloat16 included) as a float64 NumPy array."""
    if backend.name == "torch":
        import torch

        return x.detach().to(torch.float64).cpu().numpy()
    if backend.name == "tensorflow":
        import tensorflow as tf

        return tf.cast(x, tf.float64).numpy()
    return np.asarray(backend.to_numpy(x)).astype(np.float64)


def _dtype_name(x) -> str:
    name = getattr(x.dtype, "name", None)  # NumPy's, JAX's and TensorFlow's dtypes have a name; PyTorch's do not
    return name if isinstance(name, str) else str(x.dtype).rsplit(".", 1)[-1]


def _expected(x, dtype):
    """The expected numbers as float64, rounded to float16 for float16 rows (bfloat16 rows are rounded by hand)."""
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
    backends: tuple = CHEAP
    #: Also check autograd through the value against ``grad`` on these backends.
    autodiff: tuple = ()


VALUES = [
    # ---- probability space: each log clamped at -100 (DESIGN 5, PyTorch's rule) -------------------
    # BCE per example is -(y max(log p, -100) + (1-y) max(log(1-p), -100)); the derivative of a
    # clamped log is 0, so d/dp = -y/p [log p > -100] + (1-y)/(1-p) [log(1-p) > -100]:
    #   y=1,p=0: -(1*(-100) + 0*0)   = 100, grad 0 + 0/1           = 0
    #   y=1,p=1: -(1*0 + 0*(-100))   = 0,   grad -1/1 + 0           = -1
    #   y=0,p=1: -(0*0 + 1*(-100))   = 100, grad 0 + 0 (clamped)    = 0
    #   y=0,p=0: -(0*(-100) + 1*0)   = 0,   grad 0 (clamped) + 1/1  = 1
    Case("bce-p-0-and-1-corners", "binary_cross_entropy", [1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0],
         value=[100.0, 0.0, 100.0, 0.0], grad=[0.0, -1.0, 0.0, 1.0], call={"reduction": "none"}, rtol=0,
         backends=ALL, autodiff=TAPES),
    # The same corner in float32: 100 is exact in float32, the mean of one example is itself.
    Case("bce-y1-p0-float32-is-100", "binary_cross_entropy", [1.0], [0.0],
         value=100.0, grad=[0.0], dtype="float32", rtol=0, autodiff=TAPES),
    # Soft target y=0.5, p=0: -(0.5*(-100) + 0.5*log 1) = 50; grad 0 (clamped) + 0.5/(1-0) = 0.5.
    Case("bce-soft-target-p0", "binary_cross_entropy", [0.5], [0.0], value=50.0, grad=[0.5], rtol=0),
    # CCE: -sum_c y_c max(log p_c, -100). A zero probability on the true class costs 100; the
    # gradient -y_c/p_c is 0 where the log is clamped and -0/0.5 = 0 on the other classes.
    Case("cce-zero-prob-on-true-class", "categorical_cross_entropy", [[0.0, 1.0, 0.0]], [[0.5, 0.0, 0.5]],
         value=100.0, grad=[[0.0, 0.0, 0.0]], rtol=0, autodiff=TAPES),
    # Zeros on the other classes meet y_c = 0: 0 * (-100) = 0. Value -log 1 = 0, grad -1/1 = -1.
    Case("cce-zero-prob-on-other-classes", "categorical_cross_entropy", [[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]],
         value=0.0, grad=[[-1.0, 0.0, 0.0]], rtol=0),
    # Sparse CCE: -max(log p_y, -100) = 100 for p_y = 0; the slope is 0 where clamped.
    Case("scce-zero-prob-on-true-class", "sparse_categorical_cross_entropy", [1], [[0.5, 0.0, 0.5]],
         value=100.0, grad=[[0.0, 0.0, 0.0]], true_dtype="int64", rtol=0, autodiff=TAPES),
    # Certain and right: -log 1 = 0 per row; grad -1/p_y = -1 at the true class, divided by n = 2.
    Case("scce-certain-and-right", "sparse_categorical_cross_entropy", [0, 2], [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
         value=0.0, grad=[[-0.5, 0.0, 0.0], [0.0, 0.0, -0.5]], true_dtype="int64", rtol=0),
    # KL = sum_c p_c log(p_c / q_c). q_c = 0 where p_c = 0.5 > 0: 0.5 log(0.5/0) = +inf. The slope
    # -p_c/q_c is -0.5/1 = -0.5 and -0.5/0 = -inf: the limits, never NaN.
    Case("kl-q0-where-p-positive-is-inf", "kl_divergence", [[0.5, 0.5]], [[1.0, 0.0]],
         value=INF, grad=[[-0.5, -INF]]),
    # p_c = 0 where q_c = 0: 0 log(0/0) = 0 (xlogy), so the row is 1 log(1/1) = 0; slope [-1/1, 0].
    Case("kl-p0-where-q0-contributes-0", "kl_divergence", [[1.0, 0.0]], [[1.0, 0.0]],
         value=0.0, grad=[[-1.0, 0.0]], rtol=0, autodiff=TAPES),
    # A zero class in both next to ordinary ones: 0.5 log(0.5/0.25) + 0.5 log(0.5/0.75) + 0
    # = 0.5 log 2 + 0.5 log(2/3); slope -p/q = [-2, -2/3, 0].
    Case("kl-zero-class-in-both", "kl_divergence", [[0.5, 0.5, 0.0]], [[0.25, 0.75, 0.0]],
         value=0.5 * LOG2 + 0.5 * math.log(2.0 / 3.0), grad=[[-2.0, -2.0 / 3.0, 0.0]], autodiff=TAPES),
    # ---- logits: +-1e4 and +-inf give their limits, never NaN (DESIGN 5) --------------------------
    # Sigmoid CE = y softplus(-z) + (1-y) softplus(z), d/dz = sigmoid(z) - y:
    #   y=1,z=+inf: softplus(-inf) = 0, grad 1-1 = 0      y=0,z=+inf: softplus(inf) = inf, grad 1-0 = 1
    #   y=1,z=-inf: softplus(inf) = inf, grad 0-1 = -1    y=0,z=-inf: 0, grad 0-0 = 0
    Case("sce-inf-logits", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [INF, INF, -INF, -INF],
         value=[0.0, INF, INF, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"}, rtol=0, backends=ALL),
    # 1e4 instead of inf: softplus(1e4) = 1e4 + log1p(e^-1e4) = 1e4 exactly, softplus(-1e4) = 0 (e^-1e4
    # underflows); sigmoid(1e4) = 1, so the gradients are the same as at inf. float32 holds 1e4 exactly.
    Case("sce-1e4-logits-float32", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [1e4, 1e4, -1e4, -1e4],
         value=[0.0, 1e4, 1e4, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"},
         dtype="float32", rtol=0, autodiff=TAPES),
    Case("sce-1e4-logits-float64", "sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0], [1e4, 1e4, -1e4, -1e4],
         value=[0.0, 1e4, 1e4, 0.0], grad=[0.0, 1.0, -1.0, 0.0], call={"reduction": "none"}, rtol=0, autodiff=TAPES),
    # Both right at +-inf: mean of [0, 0] = 0, gradient [0, 0].
    Case("sce-correct-inf-costs-0", "sigmoid_cross_entropy", [1.0, 0.0], [INF, -INF],
         value=0.0, grad=[0.0, 0.0], rtol=0, autodiff=TAPES),
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
         value=[0.0, INF], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, rtol=0, backends=ALL),
    # 1e4: log_softmax([1e4, 0]) = [0, -1e4] - log1p(e^-1e4) = [0, -1e4]; the same gradients.
    Case("smce-1e4-logit-float32", "softmax_cross_entropy", [[1.0, 0.0], [0.0, 1.0]], [[1e4, 0.0], [1e4, 0.0]],
         value=[0.0, 1e4], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, dtype="float32", rtol=0,
         autodiff=TAPES),
    # Two +inf logits share the mass: log_softmax([inf, inf, 0]) = [-log 2, -log 2, -inf]; target 0
    # costs log 2; grad [0.5, 0.5, 0] - [1, 0, 0] = [-0.5, 0.5, 0].
    Case("smce-two-inf-logits", "softmax_cross_entropy", [[1.0, 0.0, 0.0]], [[INF, INF, 0.0]],
         value=LOG2, grad=[[-0.5, 0.5, 0.0]]),
    # A -inf logit on a wrong class: log_softmax([0, -inf]) = [0, -inf]; target 0 costs 0, grad [0, 0].
    Case("smce-neg-inf-on-wrong-class", "softmax_cross_entropy", [[1.0, 0.0]], [[0.0, -INF]],
         value=0.0, grad=[[0.0, 0.0]], rtol=0, autodiff=TAPES),
    # Label smoothing 0.1, C = 2: y' = [0.95, 0.05]; 0.05 * log_softmax = 0.05 * (-inf) -> inf.
    # grad softmax * sum(y') - y' = [1, 0] - [0.95, 0.05] = [0.05, -0.05].
    Case("smce-label-smoothing-with-inf-logit", "softmax_cross_entropy", [[1.0, 0.0]], [[INF, 0.0]],
         value=INF, grad=[[0.05, -0.05]], hyper={"label_smoothing": 0.1}),
    # Sparse softmax CE, same rows as smce-inf-logit with class ids [0, 1].
    Case("ssce-inf-logit", "sparse_softmax_cross_entropy", [0, 1], [[INF, 0.0], [INF, 0.0]],
         value=[0.0, INF], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, true_dtype="int64", rtol=0),
    Case("ssce-1e4-logit-float32", "sparse_softmax_cross_entropy", [0, 1], [[1e4, 0.0], [1e4, 0.0]],
         value=[0.0, 1e4], grad=[[0.0, 0.0], [1.0, -1.0]], call={"reduction": "none"}, dtype="float32",
         true_dtype="int64", rtol=0, autodiff=TAPES),
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
         value=[1e4 - LOG2] * 2, grad=[1.0, -1.0], call={"reduction": "none"}, autodiff=TAPES),
    # float32: 9999.307 is within one float32 ulp (2^-10 ~ 0.001 at 1e4, relative 1e-7) of 1e4 - log 2.
    Case("log-cosh-1e4-float32", "log_cosh", [0.0, 0.0], [1e4, -1e4],
         value=[1e4 - LOG2] * 2, grad=[1.0, -1.0], call={"reduction": "none"}, dtype="float32", rtol=2e-7,
         backends=ALL, autodiff=TAPES),
    # Near float32's maximum: -2|r| overflows to -inf, softplus(-inf) = 0, value |r| - log 2 ~ 3e38.
    Case("log-cosh-3e38-float32", "log_cosh", [0.0], [3e38], value=3e38, grad=[1.0], dtype="float32", rtol=1e-6),
    # Pseudo-Huber, delta 2: delta^2 (sqrt(1 + (r/delta)^2) - 1) = 2e20 - 4 + O(1e-20) ~ 2e20 = delta |r|
    # (computed with hypot: (r/delta)^2 = 2.5e39 would overflow float32); grad r / sqrt(1 + (r/delta)^2)
    # -> delta sign(r) = +-2. Autodiff must not differentiate through an overflowing intermediate.
    Case("pseudo-huber-1e20-float32", "pseudo_huber", [0.0, 0.0], [1e20, -1e20],
         value=[2e20, 2e20], grad=[2.0, -2.0], hyper={"delta": 2.0}, call={"reduction": "none"}, dtype="float32",
         rtol=1e-6, backends=ALL, autodiff=EVERY_FRAMEWORK),
    # Tiny residual: delta^2 (sqrt(1 + r^2) - 1) = r^2/2 - r^4/8... = 5e-41 for r = 1e-20 (the naive
    # form gives sqrt(1 + 1e-40) - 1 = 0); grad r / sqrt(1 + r^2) = 1e-20.
    Case("pseudo-huber-1e-20-no-cancellation", "pseudo_huber", [0.0], [1e-20], value=5e-41, grad=[1e-20]),
    # Huber, delta 1: delta (|r| - delta/2) = 1e20 - 0.5 ~ 1e20 in float32; grad clip(r, -1, 1) = 1.
    Case("huber-1e20-float32", "huber", [0.0], [1e20], value=1e20, grad=[1.0], dtype="float32", rtol=1e-6),
    # ---- float16 / bfloat16: computed in float32, returned in the input dtype (DESIGN 3) ----------
    # mse of one residual of 300: 300^2 = 90000 in float32, the mean is 90000, and 90000 > 65504
    # (float16's maximum) rounds to inf when returned in float16. The gradient 2r/n = 600 fits.
    Case("mse-float16-residual-300-returns-inf", "mse", [0.0], [300.0], value=INF, grad=[600.0],
         dtype="float16", backends=F16),
    # Three residuals [300, 0, 0]: the float32 mean is 90000/3 = 30000, a float16 number (a multiple of
    # 16 in [2^14, 2^15)). Squaring in float16 would have overflowed to inf first.
    Case("mse-float16-mean-fits-after-float32-math", "mse", [0.0, 0.0, 0.0], [300.0, 0.0, 0.0], value=30000.0,
         grad=[200.0, 0.0, 0.0], dtype="float16", rtol=0, backends=F16),
    # Huber, delta 1: 1 * (300 - 0.5) = 299.5, exact in float16 (spacing 0.25 in [256, 512)); grad 1.
    Case("huber-float16-residual-300", "huber", [0.0], [300.0], value=299.5, grad=[1.0], dtype="float16",
         rtol=0, backends=F16),
    # log cosh 300 = 300 - log 2 = 299.3069 in float32, returned as the nearest float16, 299.25.
    Case("log-cosh-float16-residual-300", "log_cosh", [0.0], [300.0], value=300.0 - LOG2, grad=[1.0],
         dtype="float16", rtol=0, backends=F16),
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
    Case("mse-empty-mean", "mse", np.zeros((0,)), np.zeros((0,)), value=0.0, grad=np.zeros((0,)), backends=ALL,
         autodiff=TAPES),
    Case("mse-empty-sum", "mse", np.zeros((0,)), np.zeros((0,)), value=0.0, grad=np.zeros((0,)),
         call={"reduction": "sum"}),
    Case("ssce-empty-mean", "sparse_softmax_cross_entropy", np.zeros((0,), dtype=np.int64), np.zeros((0, 3)),
         value=0.0, grad=np.zeros((0, 3)), true_dtype="int64"),
    Case("kl-empty-mean", "kl_divergence", np.zeros((0, 2)), np.zeros((0, 2)), value=0.0, grad=np.zeros((0, 2))),
    # Every id is ignore_index: the weights sum to 0, so the mean is 0 and the gradient all zeros.
    Case("ssce-all-ignored", "sparse_softmax_cross_entropy", [-100, -100], [[1.0, 2.0], [3.0, 4.0]], value=0.0,
         grad=[[0.0, 0.0], [0.0, 0.0]], hyper={"ignore_index": -100}, true_dtype="int64", rtol=0, autodiff=TAPES),
    # One row ignored: the mean is over the one kept row, -log_softmax([2, 0])_1 = log(1 + e^2);
    # its grad is softmax - onehot = [s, 1 - s] - [0, 1] = [s, -s], s = e^2 / (1 + e^2); row 2 is 0.
    Case("ssce-ignore-index-minus-100", "sparse_softmax_cross_entropy", [1, -100], [[2.0, 0.0], [0.0, 0.0]],
         value=math.log1p(math.e**2), grad=[[math.e**2 / (1 + math.e**2), -(math.e**2) / (1 + math.e**2)], [0.0, 0.0]],
         hyper={"ignore_index": -100}, true_dtype="int64", rtol=1e-12, autodiff=TAPES),
    Case("mse-all-zero-weights", "mse", [1.0, 2.0], [3.0, 5.0], value=0.0, grad=[0.0, 0.0],
         call={"sample_weight": [0.0, 0.0]}, rtol=0, autodiff=TAPES),
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
    Case("mse-nan", "mse", [0.0, 0.0], [NAN, 1.0], value=[NAN, 1.0], grad=[NAN, 2.0], call={"reduction": "none"},
         backends=ALL, autodiff=TAPES),
    Case("mae-nan", "mae", [0.0, 0.0], [NAN, -1.0], value=[NAN, 1.0], grad=[NAN, -1.0], call={"reduction": "none"}),
    # RMSE = sqrt(mean r^2) is NaN, and so is each d/dr_i = r_i / (n value).
    Case("rmse-nan", "rmse", [0.0, 0.0], [NAN, 1.0], value=NAN, grad=[NAN, NAN]),
    Case("msle-nan", "msle", [0.0], [NAN], value=NAN, grad=[NAN]),
    Case("huber-nan", "huber", [0.0, 0.0], [NAN, 3.0], value=[NAN, 2.5], grad=[NAN, 1.0], call={"reduction": "none"}),
    Case("pseudo-huber-nan", "pseudo_huber", [0.0], [NAN], value=NAN, grad=[NAN]),
    # The slope r / sqrt(1 + (r/delta)^2) tends to +-delta as r -> +-inf; the loss itself is inf.
    Case("pseudo-huber-inf-residual", "pseudo_huber", [0.0, 0.0], [INF, -INF], value=[INF, INF], grad=[2.0, -2.0],
         hyper={"delta": 2.0}, call={"reduction": "none"}),
    # RMSE of a perfect fit: value 0 and the lowest-norm subgradient 0, under autodiff too (sqrt at 0).
    Case("rmse-perfect-fit", "rmse", [1.0, 2.0], [1.0, 2.0], value=0.0, grad=[0.0, 0.0], rtol=0,
         autodiff=EVERY_FRAMEWORK),
    Case("rmse-none-zero-residual", "rmse", [1.0, 2.0], [1.0, 5.0], value=[0.0, 3.0], grad=[0.0, 1.0],
         call={"reduction": "none"}, rtol=0, autodiff=EVERY_FRAMEWORK),
    Case("log-cosh-nan", "log_cosh", [0.0], [NAN], value=NAN, grad=[NAN]),
    Case("hinge-nan", "hinge", [1.0, 1.0], [NAN, 2.0], value=[NAN, 0.0], grad=[NAN, 0.0], call={"reduction": "none"}),
    Case("squared-hinge-nan", "squared_hinge", [1.0], [NAN], value=NAN, grad=[NAN]),
    # p = NaN: max(log NaN, -100) must stay NaN, and so must the gradient.
    Case("bce-nan-probability", "binary_cross_entropy", [1.0, 1.0], [NAN, 0.5], value=[NAN, LOG2], grad=[NAN, -2.0],
         call={"reduction": "none"}, autodiff=TAPES),
    # NaN entries pass the range and row-sum checks (NaN compares false) and propagate: the value is
    # NaN, the gradient NaN at the NaN entry and -y_1/p_1 = -0/0.5 = 0 at the other. Sparse: the loss
    # -log p_y does not depend on the other entries, so their derivative is exactly 0 (as autograd
    # through take/gather gives), not 0 * NaN.
    Case("cce-nan-probability", "categorical_cross_entropy", [[1.0, 0.0]], [[NAN, 0.5]], value=NAN,
         grad=[[NAN, 0.0]], autodiff=TAPES),
    Case("scce-nan-probability", "sparse_categorical_cross_entropy", [0], [[NAN, 0.5]], value=NAN,
         grad=[[NAN, 0.0]], true_dtype="int64", autodiff=TAPES),
    Case("sce-nan-logit", "sigmoid_cross_entropy", [1.0], [NAN], value=NAN, grad=[NAN]),
    # One NaN logit makes the whole softmax row NaN.
    Case("smce-nan-logit", "softmax_cross_entropy", [[1.0, 0.0]], [[NAN, 0.0]], value=NAN, grad=[[NAN, NAN]]),
    Case("ssce-nan-logit", "sparse_softmax_cross_entropy", [0], [[NAN, 0.0]], value=NAN, grad=[[NAN, NAN]],
         true_dtype="int64"),
    # KL with q_0 = NaN where p_0 = 0.5: the value is NaN, the slope NaN there and -0.5/0.5 = -1 beside it.
    Case("kl-nan-probability", "kl_divergence", [[0.5, 0.5]], [[NAN, 0.5]], value=NAN, grad=[[NAN, -1.0]]),
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
    np.testing.assert_allclose(
        _float64(backend, got), _expected(expected, case.dtype), rtol=case.rtol, atol=case.atol,
        err_msg=f"{case.id}: {what}",
    )


@pytest.mark.parametrize(
    ("case", "backend_name"),
    [pytest.param(case, name, id=f"{case.id}-{name}") for case in VALUES for name in case.backends],
)
def test_value_and_grad(case, backend_name):
    """The value, and the closed-form gradient of ``value_and_grad``, in y_pred's dtype and shape."""
    backend = _Backend(backend_name)
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


def _autodiff(backend, loss, y_true, y_pred, call):
    """Autograd of the value (summed, for reduction="none") with respect to ``y_pred``."""
    if backend.name == "torch":
        y_pred = y_pred.detach().clone().requires_grad_(True)
        loss(y_true, y_pred, **call).sum().backward()
        return y_pred.grad
    if backend.name == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = tf.reduce_sum(loss(y_true, y_pred, **call))
        return tape.gradient(value, y_pred)
    import jax
    import jax.numpy as jnp

    return jax.grad(lambda z: jnp.sum(loss(y_true, z, **call)))(y_pred)


@pytest.mark.parametrize(
    ("case", "backend_name"),
    [pytest.param(case, name, id=f"{case.id}-{name}") for case in VALUES for name in case.autodiff],
)
def test_autodiff_through_value_matches_grad(case, backend_name):
    """DESIGN 5 and 6: autograd through the value matches ``grad`` on PyTorch and JAX, extremes included."""
    backend = _Backend(backend_name)
    loss = lk.get(case.loss, **case.hyper)
    y_true, y_pred, call = _inputs(backend, case)
    grad = _autodiff(backend, loss, y_true, y_pred, call)
    np.testing.assert_allclose(
        _float64(backend, grad), _expected(case.grad, case.dtype), rtol=max(case.rtol, 1e-12), atol=case.atol,
        err_msg=f"{case.id}: autodiff",
    )


# --------------------------------------------------------------------------------------------------
# Bad inputs: the error type and a regex on its message
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One row: the function form ``lk.<loss>(y_true, y_pred, **hyper, **call)`` must raise ``error``
    with a message matching ``match`` (``re.search``)."""

    id: str
    loss: str
    y_true: object
    y_pred: object
    error: type
    match: str
    hyper: dict = field(default_factory=dict)
    call: dict = field(default_factory=dict)
    dtype: str = "float64"
    true_dtype: str | None = None
    #: Also raised, with the same message, on the other backends (through conftest's ``backend``).
    every_backend: bool = False


Z23 = np.zeros((2, 3)).tolist()  # two rows of three logits

INPUT_ERRORS = [
    # ---- class ids outside [0, C) without ignore_index: name y_true, show value and position, say the range
    Bad("ssce-id-equals-C", "sparse_softmax_cross_entropy", [0, 3], Z23, ValueError,
        r"^sparse_softmax_cross_entropy: y_true must be class ids in \[0, 3\); got 1 value outside it: 3 at \(1,\)",
        true_dtype="int64", every_backend=True),
    Bad("ssce-id-minus-1", "sparse_softmax_cross_entropy", [-1, 0], Z23, ValueError,
        r"y_true must be class ids in \[0, 3\); got 1 value outside it: -1 at \(0,\)", true_dtype="int64",
        every_backend=True),
    # -100 (PyTorch's padding id) without ignore_index: refused, with the hint to pass it.
    Bad("ssce-id-minus-100-needs-ignore-index", "sparse_softmax_cross_entropy", [1, -100], Z23, ValueError,
        r"y_true must be class ids in \[0, 3\);.*-100 at \(1,\).*pass ignore_index=-100", true_dtype="int64"),
    # ignore_index excuses only itself: C is still out of range, and the message names both.
    Bad("ssce-ignore-index-does-not-excuse-C", "sparse_softmax_cross_entropy", [3, -100], Z23, ValueError,
        r"y_true must be class ids in \[0, 3\) or ignore_index=-100; got 1 value outside it: 3 at \(0,\)",
        hyper={"ignore_index": -100}, true_dtype="int64"),
    # Positions are full indices: ids of shape (2, 2), the bad one at (1, 0); three shown, then "...".
    Bad("ssce-id-position-in-2d", "sparse_softmax_cross_entropy", [[0, 1], [5, 0]], np.zeros((2, 2, 3)).tolist(),
        ValueError, r"got 1 value outside it: 5 at \(1, 0\)", true_dtype="int64"),
    Bad("ssce-many-bad-ids-shows-three", "sparse_softmax_cross_entropy", [7, 8, 9, 10], np.zeros((4, 3)).tolist(),
        ValueError, r"got 4 values outside it: 7 at \(0,\), 8 at \(1,\), 9 at \(2,\), \.\.\.", true_dtype="int64"),
    Bad("scce-id-equals-C", "sparse_categorical_cross_entropy", [2], [[0.5, 0.5]], ValueError,
        r"^sparse_categorical_cross_entropy: y_true must be class ids in \[0, 2\); got 1 value outside it: 2 at \(0,\)",
        true_dtype="int64"),
    Bad("ssce-fractional-float-id", "sparse_softmax_cross_entropy", [0.5, 1.0], Z23, ValueError,
        r"y_true must be integer class ids; got 1 value outside it: 0\.5 at \(0,\)"),
    Bad("ssce-bool-ids", "sparse_softmax_cross_entropy", [True, False], Z23, TypeError,
        r"y_true must hold integer class ids; got dtype .*bool", true_dtype="bool"),
    # ---- shapes: exact, or a trailing axis of size 1; otherwise ValueError naming both shapes
    Bad("mse-3x5-against-5x3", "mse", np.zeros((3, 5)).tolist(), np.zeros((5, 3)).tolist(), ValueError,
        r"^mse: y_true has shape \(3, 5\) but y_pred has shape \(5, 3\).*never broadcast", every_backend=True),
    Bad("mse-3-against-4", "mse", [0.0] * 3, [0.0] * 4, ValueError,
        r"y_true has shape \(3,\) but y_pred has shape \(4,\)"),
    # (n,) against (1, n) is not a trailing axis of size 1: an outer broadcast would give (n, n).
    Bad("mse-n-against-1-by-n", "mse", [0.0] * 3, [[0.0] * 3], ValueError,
        r"y_true has shape \(3,\) but y_pred has shape \(1, 3\)"),
    Bad("ssce-ids-with-class-axis-size", "sparse_softmax_cross_entropy", [0, 1, 2], Z23, ValueError,
        r"y_true has shape \(3,\) but y_pred has shape \(2, 3\); expected y_true to have class ids.*\(2,\)",
        true_dtype="int64"),
    Bad("mse-weight-fits-neither", "mse", [0.0] * 3, [0.0] * 3, ValueError,
        r"^mse: sample_weight of shape \(2,\) does not fit the losses of shape \(3,\)",
        call={"sample_weight": [1.0, 1.0]},
        every_backend=True),
    # Per-row losses of cross-entropy have shape (2,): a weight per class, (3,), fits neither.
    Bad("smce-weight-per-class-fits-neither", "softmax_cross_entropy", [[1.0, 0.0, 0.0]] * 2, Z23, ValueError,
        r"sample_weight of shape \(3,\) does not fit the losses of shape \(2,\)",
        call={"sample_weight": [1.0, 1.0, 1.0]}),
    Bad("mse-negative-weight", "mse", [0.0, 0.0], [1.0, 1.0], ValueError,
        r"^mse: sample_weight must be finite weights >= 0; got 1 value outside it: -1 at \(1,\)",
        call={"sample_weight": [1.0, -1.0]}),
    # ---- dtypes: y_pred must be floating; its name is in the message
    Bad("mse-int-y-pred", "mse", [0.0, 1.0], [0, 1], TypeError, r"^mse: y_pred must be a floating-point array.*int",
        dtype="int64", true_dtype="float64", every_backend=True),
    Bad("bce-bool-y-pred", "binary_cross_entropy", [0.0, 1.0], [False, True], TypeError,
        r"^binary_cross_entropy: y_pred must be a floating-point array \(probabilities\)", dtype="bool",
        true_dtype="float64"),
    Bad("ssce-int-logits", "sparse_softmax_cross_entropy", [0], [[1, 2]], TypeError,
        r"y_pred must be a floating-point array \(logits\)", dtype="int64", true_dtype="int64"),
    # ---- logits given to a probability loss: name y_pred and the logits loss to use
    Bad("bce-given-logits", "binary_cross_entropy", [1.0, 0.0], [2.5, -1.0], ValueError,
        r"^binary_cross_entropy: y_pred must be probabilities in \[0, 1\]; got 2 values outside it: 2\.5 at \(0,\), "
        r"-1 at \(1,\)\. These look like logits: use sigmoid_cross_entropy for logits\.", every_backend=True),
    Bad("cce-rows-not-summing-to-1", "categorical_cross_entropy", [[1.0, 0.0, 0.0]], [[0.2, 0.2, 0.2]], ValueError,
        r"^categorical_cross_entropy: y_pred must hold probability rows.*row \(0,\) sums to 0\.6.*"
        r"use softmax_cross_entropy",
        every_backend=True),
    Bad("cce-given-logits", "categorical_cross_entropy", [[1.0, 0.0, 0.0]], [[2.0, -1.0, 0.5]], ValueError,
        r"y_pred must be probabilities in \[0, 1\];.*2 at \(0, 0\), -1 at \(0, 1\).*use softmax_cross_entropy"),
    Bad("scce-given-logits", "sparse_categorical_cross_entropy", [0], [[3.0, -1.0]], ValueError,
        r"y_pred must be probabilities.*use sparse_softmax_cross_entropy", true_dtype="int64"),
    Bad("scce-rows-not-summing-to-1", "sparse_categorical_cross_entropy", [0], [[0.3, 0.3]], ValueError,
        r"y_pred must hold probability rows.*row \(0,\) sums to 0\.6.*use sparse_softmax_cross_entropy",
        true_dtype="int64"),
    # kl_divergence given log-probabilities (torch.nn.functional.kl_div's convention): negative values.
    Bad("kl-given-log-probabilities", "kl_divergence", [[0.3, 0.7]], [[math.log(0.3), math.log(0.7)]], ValueError,
        r"^kl_divergence: y_pred must be probabilities in \[0, 1\];.*log-probabilities", every_backend=True),
    # ---- labels and values outside their domain
    Bad("hinge-label-2", "hinge", [1.0, 2.0], [0.5, 0.5], ValueError,
        r"^hinge: y_true must be labels in \{-1, \+1\} or \{0, 1\}.*got 1 value outside it: 2 at \(1,\)",
        every_backend=True),
    Bad("squared-hinge-label-0.5", "squared_hinge", [0.5], [0.5], ValueError,
        r"y_true must be labels in .*0\.5 at \(0,\)"),
    Bad("bce-target-1.5", "binary_cross_entropy", [1.5], [0.5], ValueError,
        r"^binary_cross_entropy: y_true must be targets in \[0, 1\].*1\.5 at \(0,\)", every_backend=True),
    Bad("sce-target-minus-1", "sigmoid_cross_entropy", [-1.0], [0.5], ValueError,
        r"^sigmoid_cross_entropy: y_true must be targets in \[0, 1\].*-1 at \(0,\)"),
    Bad("msle-y-pred-minus-1", "msle", [0.0, 0.0], [0.0, -1.0], ValueError,
        r"^msle: y_pred must be real numbers > -1; got 1 value outside it: -1 at \(1,\)", every_backend=True),
    Bad("msle-y-pred-minus-2", "msle", [0.0], [-2.0], ValueError, r"^msle: y_pred must be real numbers > -1;.*-2 at"),
    Bad("msle-y-true-minus-1.5", "msle", [-1.5], [0.0], ValueError,
        r"^msle: y_true must be real numbers > -1;.*-1\.5 at"),
    # ---- call keywords
    Bad("mse-reduction-avg-at-call", "mse", [0.0], [0.0], ValueError,
        r"^mse: reduction must be one of \('none', 'sum', 'mean'\); got 'avg'", call={"reduction": "avg"}),
    Bad("mse-normalizer-0", "mse", [0.0], [0.0], ValueError, r"normalizer must be a finite number > 0; got 0",
        call={"normalizer": 0}),
    Bad("mse-normalizer-inf", "mse", [0.0], [0.0], ValueError, r"normalizer must be a finite number > 0; got inf",
        call={"normalizer": INF}),
    Bad("mse-normalizer-string", "mse", [0.0], [0.0], ValueError, r"normalizer must be a number or a 0-d array",
        call={"normalizer": "2"}),
    # ---- a class axis that y_pred does not have
    Bad("sparse-softmax-ce-axis-3", "sparse_softmax_cross_entropy", [1], [[0.5, 0.5]], ValueError,
        r"axis=3 is not an axis of y_pred, whose shape is \(1, 2\)", hyper={"axis": 3}, true_dtype="int64"),
    Bad("softmax-ce-axis-minus-3", "softmax_cross_entropy", [[0.0, 1.0]], [[0.5, 0.5]], ValueError,
        r"axis=-3 is not an axis of y_pred", hyper={"axis": -3}),
    Bad("mse-normalizer-with-none", "mse", [0.0], [0.0], ValueError, r"normalizer divides a sum.*'none'",
        call={"normalizer": 2.0, "reduction": "none"}),
]


def _call_bad(backend, row):
    y_true = backend.asarray(np.asarray(row.y_true, dtype=row.true_dtype or row.dtype))
    y_pred = backend.asarray(np.asarray(row.y_pred, dtype=row.dtype))
    call = dict(row.call)
    if "sample_weight" in call:
        call["sample_weight"] = backend.asarray(np.asarray(call["sample_weight"], dtype="float64"))
    getattr(lk, row.loss)(y_true, y_pred, **row.hyper, **call)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in INPUT_ERRORS])
def test_bad_input_numpy(row):
    with pytest.raises(row.error, match=row.match):
        _call_bad(_Backend("numpy"), row)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in INPUT_ERRORS if r.every_backend])
def test_bad_input_other_backends(backend, row):
    """The same message on every backend: the checks and ``describe_bad`` use only the standard."""
    if backend.name == "numpy":
        return  # test_bad_input_numpy
    with pytest.raises(row.error, match=row.match):
        _call_bad(backend, row)


HYPERPARAMETER_ERRORS = [
    # (id, how the loss is built, error, regex)
    ("huber-delta-0", lambda: lk.Huber(delta=0), ValueError, r"^huber: delta must be a finite number > 0; got 0\.0\."),
    ("huber-delta-minus-1", lambda: lk.huber([0.0], [1.0], delta=-1), ValueError,
     r"^huber: delta must be a finite number > 0; got -1"),
    ("huber-delta-inf", lambda: lk.Huber(delta=math.inf), ValueError, r"delta must be a finite number > 0; got inf"),
    ("huber-delta-bool", lambda: lk.Huber(delta=True), ValueError, r"delta must be a real number; got True"),
    ("pseudo-huber-delta-nan", lambda: lk.PseudoHuber(delta=math.nan), ValueError,
     r"^pseudo_huber: delta must be a real number; got nan"),
    ("sce-label-smoothing-1.5", lambda: lk.SigmoidCrossEntropy(label_smoothing=1.5), ValueError,
     r"^sigmoid_cross_entropy: label_smoothing must be in \[0, 1\]; got 1\.5"),
    ("smce-label-smoothing-1.5", lambda: lk.get("softmax_cross_entropy", label_smoothing=1.5), ValueError,
     r"^softmax_cross_entropy: label_smoothing must be in \[0, 1\]; got 1\.5"),
    ("ssce-label-smoothing-minus-0.1", lambda: lk.SparseSoftmaxCrossEntropy(label_smoothing=-0.1), ValueError,
     r"label_smoothing must be in \[0, 1\]; got -0\.1"),
    ("sce-pos-weight-0", lambda: lk.sigmoid_cross_entropy([1.0], [0.0], pos_weight=0), ValueError,
     r"^sigmoid_cross_entropy: pos_weight must be a finite number > 0; got 0"),
    ("mse-reduction-avg", lambda: lk.MSE(reduction="avg"), ValueError,
     r"^mse: reduction must be one of \('none', 'sum', 'mean'\); got 'avg'\."),
    ("get-reduction-avg", lambda: lk.get("huber", reduction="avg"), ValueError, r"^huber: reduction must be one of"),
    ("ssce-ignore-index-1.5", lambda: lk.SparseSoftmaxCrossEntropy(ignore_index=1.5), ValueError,
     r"^sparse_softmax_cross_entropy: ignore_index must be an int or None; got 1\.5"),
    ("cce-axis-float", lambda: lk.CategoricalCrossEntropy(axis=1.0), ValueError, r"axis must be an int; got 1\.0"),
    # Unknown names: a did-you-mean with each suggestion once ('huber' is reachable under several
    # spellings: huber, huber_loss and the class name).
    ("get-unknown-hubber", lambda: lk.get("hubber"), ValueError,
     r"^get: unknown loss 'hubber'\. Did you mean 'huber'\? lk\.list_losses\(\)"),
    ("get-unknown-sigmoid-crossentrop", lambda: lk.get("sigmoid_crossentrop"), ValueError,
     r"unknown loss 'sigmoid_crossentrop'\. Did you mean 'sigmoid_cross_entropy' or"),
    ("get-unknown-without-suggestion", lambda: lk.get("zzzz"), ValueError,
     r"^get: unknown loss 'zzzz'\. lk\.list_losses\(\) \(or: losskit list\) names them all\.$"),
    ("get-not-a-name", lambda: lk.get(3), TypeError, r"^get: expected a loss name"),
    ("get-dict-without-name", lambda: lk.get({"delta": 1.0}), ValueError, r"config dict needs a 'name' key"),
    ("get-unknown-hyperparameter", lambda: lk.get("mse", delta=1.0), TypeError, r"delta"),
    # from_logits: the input space is in the name; the message names the logits loss.
    ("bce-from-logits", lambda: lk.binary_cross_entropy([1.0], [0.5], from_logits=True), TypeError,
     r"^binary_cross_entropy: no from_logits argument.*for logits use sigmoid_cross_entropy instead"),
    ("get-bce-from-logits", lambda: lk.get("bce", from_logits=True), TypeError, r"use sigmoid_cross_entropy instead"),
    ("cce-from-logits", lambda: lk.CategoricalCrossEntropy(from_logits=True), TypeError,
     r"use softmax_cross_entropy instead"),
    # Even from_logits=False is refused: the argument does not exist.
    ("scce-from-logits-false", lambda: lk.SparseCategoricalCrossEntropy(from_logits=False), TypeError,
     r"use sparse_softmax_cross_entropy instead"),
    ("sce-from-logits", lambda: lk.SigmoidCrossEntropy(from_logits=True), TypeError,
     r"^sigmoid_cross_entropy: no from_logits argument.*takes logits"),
]


@pytest.mark.parametrize(("build", "error", "match"),
                         [pytest.param(b, e, m, id=i) for i, b, e, m in HYPERPARAMETER_ERRORS])
def test_bad_hyperparameter(build, error, match):
    with pytest.raises(error, match=match):
        build()


# --------------------------------------------------------------------------------------------------
# Value checks switched off
# --------------------------------------------------------------------------------------------------


def test_validation_off_context_manager(backend):
    """Inside ``lk.validation(False)`` a bad label is computed, not refused; outside it is refused again."""
    y_true, y_pred = backend.asarray([2.0]), backend.asarray([0.25])
    with lk.validation(False):
        # Label 2 is used as t = 2: max(0, 1 - 2 * 0.25) = 0.5.
        value = lk.hinge(y_true, y_pred)
    np.testing.assert_allclose(backend.to_numpy(value), 0.5, rtol=1e-15)
    with pytest.raises(ValueError, match=r"y_true must be labels"):
        lk.hinge(y_true, y_pred)


def test_validation_off_set_validation():
    previous = lk.set_validation(False)
    try:
        # Target 1.5, p = 0.5: -(1.5 log 0.5 + (1 - 1.5) log 0.5) = -log 0.5 = log 2.
        np.testing.assert_allclose(lk.binary_cross_entropy([1.5], [0.5]), LOG2, rtol=1e-15)
        # Logits into CCE: the row [0.2, 0.2, 0.2] (sum 0.6) is used as is: -log 0.2.
        np.testing.assert_allclose(lk.categorical_cross_entropy([[1.0, 0.0, 0.0]], [[0.2, 0.2, 0.2]]),
                                   -math.log(0.2), rtol=1e-15)
        # MSLE at y_pred = -1: log1p(-1) = -inf, squared: inf (no error).
        assert float(lk.msle([0.0], [-1.0])) == INF
        # Shape and dtype errors are not value checks: still raised.
        with pytest.raises(ValueError, match=r"y_true has shape \(3,\)"):
            lk.mse([0.0] * 3, [0.0] * 4)
        with pytest.raises(TypeError, match=r"y_pred must be a floating-point"):
            lk.mse([0.0], [0])
    finally:
        lk.set_validation(previous)
    with pytest.raises(ValueError, match=r"y_true must be targets in \[0, 1\]"):
        lk.binary_cross_entropy([1.5], [0.5])
