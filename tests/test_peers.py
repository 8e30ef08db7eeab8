"""losskit against its peers where the redesign reaches: several predictions, Hessians, best constants,
class weights, per-label pos_weight, (N, 1) weights; and the peers' own test values.

Every reference is another library's function, run on the very same float64 inputs:

- PyTorch: ``poisson_nll_loss`` (``log_input`` both ways, ``full``), ``gaussian_nll_loss`` (for the
  log-variance form, through ``exp``), ``triplet_margin_loss`` (``eps=0``: losskit adds nothing to the
  differences), ``nll_loss`` and ``cross_entropy`` with ``weight=`` and ``ignore_index``, per pixel with
  the class axis at 1, and ``binary_cross_entropy_with_logits`` with a per-label ``pos_weight``.
  Gradients by torch autograd; Hessian diagonals by torch's double backward through the same
  functions. Per-example losses (``reduction="none"``) are reduced by DESIGN.md section 2.
- scikit-learn: ``mean_pinball_loss``; the gradient and Hessian of ``sklearn._loss``'s losses
  (``gradient_hessian``: HalfSquaredError, AbsoluteError, PinballLoss, HalfPoissonLoss,
  HalfBinomialLoss, HalfMultinomialLoss) and their ``fit_intercept_only`` (the best constant).
- Keras 3 (JAX backend): ``MeanSquaredError`` with ``sample_weight`` of shape (N, 1) and
  ``reduction="mean_with_sample_weight"`` (55.6377 on Keras's own test fixture), ``Poisson``, ``dice``.
- Optax: ``triplet_margin_loss``, ``dice_loss`` (whose ``smooth`` is half of losskit's), gradients by
  ``jax.grad``.
- NumPy's ``quantile(method="inverted_cdf")`` for the best constant of the pinball loss, and a brute
  force over the data for its minimality.
- The robust catalogue: PyTorch's ``smooth_l1_loss``; scikit-learn's SGD losses ``EpsilonInsensitive`` and
  ``SquaredEpsilonInsensitive`` (``py_loss``, ``py_dloss``); SciPy's ``least_squares`` Cauchy rho and its
  derivatives; mpmath derivatives (40 digits) of the definitions of Geman-McClure, Welsch and Tukey's
  biweight, and the values CATALOGUE.md checked against kornia and statsmodels; Barron's own form of
  his general loss in mpmath at 100 digits (its limits at alpha = 0, 2, +-inf approached within 1e-38);
  kornia's ``cauchy_loss``, ``geman_mcclure_loss``, ``welsch_loss`` and ``charbonnier_loss``.
- Counts and positive targets: scikit-learn's ``mean_poisson_deviance``, ``mean_gamma_deviance``,
  ``mean_tweedie_deviance`` and ``mean_absolute_percentage_error``; ``HalfTweedieLossIdentity`` and the
  log-link ``HalfPoissonLoss``, ``HalfGammaLoss``, ``HalfTweedieLoss`` (gradient, Hessian, best constant);
  the textbook Tweedie deviance in mpmath near powers 1 and 2. ``torch.distributions.Laplace`` for the
  Laplace NLL; ``mean_pinball_loss`` and ``PinballLoss`` per column for a multi-quantile pinball.

- The binary catalogue: scikit-learn's ``ExponentialLoss`` (with its gradient, Hessian and best constant),
  SGD losses ``Hinge(0)`` (the perceptron) and ``ModifiedHuber``, and ``brier_score_loss``; PyTorch's
  ``soft_margin_loss``; Optax's ``perceptron_loss``, binary ``sparsemax_loss`` (the smooth hinge at gamma
  2) and ``sigmoid_focal_loss`` (soft labels); kornia's ``binary_focal_loss_with_logits`` with torch's
  double backward for the focal Hessian; Keras's ``BinaryFocalCrossentropy`` (its config too).

The last test says that every registered loss has a row here or in test_references.py.
"""

from __future__ import annotations

import importlib
import zlib

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import losskit as lk

DTYPES = ("float64", "float32")
RTOL = {"float64": 1e-12, "float32": 1e-5}
REDUCTIONS = ("mean", "sum", "none")
N, D = 8, 3


#: The losses each test of this module compares with a peer (``@covers``).
COVERED: set[str] = set()


def covers(*names):
    """Mark a test as an independent reference of these losses."""
    COVERED.update(names)
    return lambda test: test


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def weights(name, n=N):
    w = rng_for(name + " weights").uniform(0.25, 2.0, size=n)
    w[1] = 0.0
    return w


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def assert_close(actual, expected, dtype, what, rtol=None):
    rtol = max(rtol or 0.0, RTOL[dtype])
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def check_peer(loss, arrays, reference, *, what, hessian=True, reductions=REDUCTIONS, dtypes=DTYPES, rtol=None,
               weighted=True, **call):  # fmt: skip
    """losskit (NumPy) against ``reference(arrays, weight, reduction) -> (value, grads, hessians)`` on the
    same float64 inputs: the value and each gradient in float64 and float32, the Hessians in float64."""
    w = weights(what, len(arrays[0])) if weighted else None
    for dtype in dtypes:
        given = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
        wide = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in given]
        for reduction in reductions:
            for weight in (None, w) if weighted else (None,):
                where = f"{what} [{dtype}, reduction={reduction}, weighted={weight is not None}]"
                value, grads, hessians = reference(wide, weight, reduction)
                got_value, got_grads = loss.value_and_grad(*given, sample_weight=weight, reduction=reduction, **call)
                assert_close(got_value, value, dtype, f"{where}: value", rtol)
                for k, (g, r) in enumerate(zip(_tuple(got_grads), grads)):
                    assert_close(g, r, dtype, f"{where}: gradient {k}", rtol)
                if hessian and hessians is not None and dtype == "float64":
                    got = _tuple(loss.grad_and_hessian(*given, sample_weight=weight, reduction=reduction, **call)[1])
                    for k, (h, r) in enumerate(zip(got, hessians)):
                        assert_close(h, r, dtype, f"{where}: Hessian diagonal {k}", rtol)


def design(losses, weight, reduction, counted=None):
    """DESIGN.md section 2 on per-example losses (torch): w * l, sum(w l), sum(w l) / sum(counted)."""
    w = torch.ones(losses.shape[:1], dtype=losses.dtype) if weight is None else torch.from_numpy(weight)
    w = w.reshape(w.shape + (1,) * (losses.ndim - 1))
    weighted = torch.where(w == 0, torch.zeros_like(losses), w * losses)
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    counted = torch.broadcast_to(w, losses.shape) if counted is None else counted * w
    return weighted.sum() / counted.sum()


def torch_peer(per_example, predictions, counted=None):
    """A reference from a torch function of all the arrays that gives per-example losses: reduced by
    ``design``, differentiated by autograd, and twice for the Hessian diagonals (double backward)."""

    def reference(arrays, weight, reduction):
        tensors = [torch.tensor(a, requires_grad=i in predictions) for i, a in enumerate(arrays)]
        value = design(per_example(*tensors), weight, reduction, None if counted is None else counted(*tensors))
        preds = [tensors[i] for i in predictions]
        grads = torch.autograd.grad(value.sum(), preds, create_graph=True)
        hessians = []
        for grad, pred in zip(grads, preds):
            diagonal = np.zeros(pred.shape)
            flat = grad.reshape(-1)
            for j in range(flat.numel() if flat.requires_grad else 0):
                (row,) = torch.autograd.grad(flat[j], pred, retain_graph=True, allow_unused=True)
                diagonal.reshape(-1)[j] = 0.0 if row is None else row.reshape(-1)[j].item()
            hessians.append(diagonal)
        return value.detach().numpy(), [g.detach().numpy() for g in grads], hessians

    return reference


# --- data ----------------------------------------------------------------------------------------------


def counts(name, shape=(N, D)):
    rng = rng_for(name)
    return rng.poisson(3.0, size=shape).astype(np.float64), rng.normal(size=shape)


def gaussian(name, shape=(N, D)):
    rng = rng_for(name)
    y = rng.normal(size=shape)
    return y, y + rng.normal(size=shape), rng.uniform(0.2, 3.0, size=shape)


def triplets(name, gap=0.05):
    """Anchors, positives and negatives whose slack stays ``gap`` away from the hinge."""
    rng = rng_for(name)
    a, p, n = (rng.normal(size=(N, 4)) for _ in range(3))
    for _ in range(100):
        slack = np.linalg.norm(a - p, axis=-1) - np.linalg.norm(a - n, axis=-1) + 1.0
        near = np.abs(slack) < gap
        if not near.any():
            break
        n[near] += rng.normal(scale=0.3, size=n[near].shape)
    return a, p, n


def masks(name, shape=(N, 4, 5)):
    rng = rng_for(name)
    t = (rng.random(shape) < 0.4).astype(np.float64)
    t[0] = 0.0  # an empty mask
    return t, rng.uniform(0.05, 0.95, size=shape)


def residuals(name, shape=(N, D)):
    rng = rng_for(name)
    y = rng.normal(size=shape)
    r = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.05, 2.0, size=shape)
    return y, y + r


# --- PyTorch -------------------------------------------------------------------------------------------


@covers("log_poisson_nll")
@pytest.mark.parametrize("full", [False, True])
def test_log_poisson_nll_against_torch(full):
    y, z = counts("log poisson")
    ref = torch_peer(lambda t, p: F.poisson_nll_loss(p, t, log_input=True, full=full, reduction="none"), [1])
    check_peer(lk.LogPoissonNLL(full=full), [y, z], ref, what=f"log_poisson_nll full={full}")


@covers("poisson_nll")
@pytest.mark.parametrize("full, eps", [(False, 1e-8), (True, 1e-8), (False, 1e-3)])
def test_poisson_nll_against_torch(full, eps):
    y, z = counts("poisson")
    ref = torch_peer(lambda t, p: F.poisson_nll_loss(p, t, log_input=False, full=full, eps=eps, reduction="none"), [1])
    check_peer(lk.PoissonNLL(full=full, eps=eps), [y, np.exp(z)], ref, what=f"poisson_nll full={full} eps={eps}")


@covers("smooth_l1")
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_smooth_l1_against_torch(beta):
    y, p = residuals(f"smooth_l1 {beta}")
    ref = torch_peer(lambda t, q: F.smooth_l1_loss(q, t, beta=beta, reduction="none"), [1])
    check_peer(lk.SmoothL1(beta=beta), [y, p], ref, what=f"smooth_l1 beta={beta}")


def test_smooth_l1_fixture():
    # CATALOGUE.md 1.6: r = [-1.5, 3], beta = 2 -> [0.5625, 2.0], gradient [-0.75, 1.0]; Huber(delta=2) is twice that
    value, grad = lk.SmoothL1(beta=2.0, reduction="sum").value_and_grad([0.0, 0.0], [-1.5, 3.0])
    np.testing.assert_allclose(lk.smooth_l1([0.0, 0.0], [-1.5, 3.0], beta=2.0, reduction="none"), [0.5625, 2.0], rtol=1e-15)
    np.testing.assert_allclose(grad, [-0.75, 1.0], rtol=1e-15)
    np.testing.assert_allclose(lk.huber([0.0, 0.0], [-1.5, 3.0], delta=2.0, reduction="none"), [1.125, 4.0], rtol=1e-15)


@covers("epsilon_insensitive", "squared_epsilon_insensitive")
@pytest.mark.parametrize("epsilon", [0.1, 0.5, 0.0])
def test_epsilon_insensitive_losses_against_sklearns_sgd_losses(epsilon):
    from sklearn.linear_model import _sgd_fast

    y, p = residuals(f"epsilon {epsilon}", shape=(N,))
    p[0] = y[0] + epsilon  # on the edge of the tube
    for loss, peer in ((lk.EpsilonInsensitive(epsilon=epsilon), _sgd_fast.EpsilonInsensitive(epsilon)),
                       (lk.SquaredEpsilonInsensitive(epsilon=epsilon), _sgd_fast.SquaredEpsilonInsensitive(epsilon))):  # fmt: skip
        values = [peer.py_loss(float(b), float(a)) for a, b in zip(y, p)]
        slopes = [peer.py_dloss(float(b), float(a)) for a, b in zip(y, p)]
        np.testing.assert_allclose(loss(y, p, reduction="none"), values, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(loss.grad(y, p, reduction="sum"), slopes, rtol=1e-13, atol=1e-15)
        w = weights(f"epsilon {epsilon}")
        np.testing.assert_allclose(loss(y, p, sample_weight=w), np.sum(w * values) / np.sum(w), rtol=1e-13)
    # CATALOGUE.md 1.2: y = [2, 1], y_pred = [0.5, 4], epsilon = 0.5 -> [1.0, 2.5], gradient [-1, 1]; squared [1, 6.25], [-2, 5]
    np.testing.assert_allclose(lk.epsilon_insensitive([2.0, 1.0], [0.5, 4.0], epsilon=0.5, reduction="none"), [1.0, 2.5])
    np.testing.assert_allclose(lk.squared_epsilon_insensitive([2.0, 1.0], [0.5, 4.0], epsilon=0.5, reduction="none"),
                               [1.0, 6.25])  # fmt: skip


def _per_example(loss, y, p):
    """Value, gradient and Hessian diagonal of each example (reduction "sum")."""
    grad, hessian = loss.grad_and_hessian(y, p, reduction="sum")
    return np.asarray(loss(y, p, reduction="none")), grad, hessian


@covers("cauchy")
@pytest.mark.parametrize("scale", [1.0, 0.5, 3.0])
def test_cauchy_against_scipys_least_squares_cauchy_rho(scale):
    lsq = importlib.import_module("scipy.optimize._lsq.least_squares")  # the module, not the function
    y, p = residuals(f"cauchy {scale}", shape=(N,))
    p[-1] = y[-1] + 40.0 * scale  # far beyond the turn at sqrt(2) scale
    x = (p - y) / scale
    rho = np.empty((3, N))
    lsq.cauchy(0.5 * x * x, rho, cost_only=False)  # rho(z) = log1p(z) and its derivatives in z = x^2 / 2
    expected = (rho[0], rho[1] * x / scale, rho[2] * (x / scale) ** 2 + rho[1] / scale**2)
    for got, want, what in zip(_per_example(lk.Cauchy(scale=scale), y, p), expected, ("value", "gradient", "Hessian")):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, err_msg=what)


def _mp_derivatives(f, r, digits=40):
    """Value, first and second derivative of ``f`` at each residual, by mpmath at 40 digits."""
    with mpmath.workdps(digits):
        return tuple(np.array([float(mpmath.diff(f, mpmath.mpf(float(v)), k)) for v in r]) for k in (0, 1, 2))


# The definitions of CATALOGUE.md 1.4 and 1.5 (Barron's scaling; Tukey as statsmodels' TukeyBiweight), written
# here in mpmath and differentiated numerically at 40 digits, independently of losskit's closed forms.
MPMATH_DEFINITIONS = {
    "geman_mcclure": lambda c: lambda r: 2 * (r / c) ** 2 / ((r / c) ** 2 + 4),
    "welsch": lambda c: lambda r: 1 - mpmath.exp(-((r / c) ** 2) / 2),
    "tukey_biweight": lambda c: lambda r: c**2 / 6 * (1 - (1 - (r / c) ** 2) ** 3) if abs(r) <= c else c**2 / 6 + 0 * r,
}


@covers(*MPMATH_DEFINITIONS)
@pytest.mark.parametrize("name", sorted(MPMATH_DEFINITIONS))
@pytest.mark.parametrize("c", [1.0, 2.5])
def test_redescending_losses_against_mpmath(name, c):
    y, p = residuals(f"{name} {c}", shape=(N,))
    p[-1] = y[-1] + 3.7 * c  # beyond every turn
    key = "c" if name == "tukey_biweight" else "scale"
    loss = lk.get(name, **{key: c})
    expected = _mp_derivatives(MPMATH_DEFINITIONS[name](mpmath.mpf(c)), p - y)
    for got, want, what in zip(_per_example(loss, y, p), expected, ("value", "gradient", "Hessian")):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"{name}: {what}")


#: kornia's robust losses (kornia.losses, scale fixed at 1), and losskit's loss of the same numbers.
KORNIA = {"cauchy_loss": ("cauchy", {}), "geman_mcclure_loss": ("geman_mcclure", {}), "welsch_loss": ("welsch", {}),
          "charbonnier_loss": ("general_robust", {"alpha": 1.0})}  # fmt: skip


@covers("cauchy", "geman_mcclure", "welsch", "general_robust")
@pytest.mark.parametrize("peer", sorted(KORNIA))
def test_robust_losses_against_kornia(peer):
    """kornia.losses on the same residuals, small ones included (where 1 - exp(-s) and 2 - 8 / (x^2 + 4)
    would cancel): the values, and the gradients and Hessian diagonals by torch's double backward."""
    losses = importlib.import_module("kornia.losses")
    name, hyper = KORNIA[peer]
    y, p = residuals(f"kornia {peer}", shape=(N, D))
    p[0] = y[0] + np.array([1e-5, -3e-4, 2e-7])  # small residuals
    reference = torch_peer(lambda t, q: getattr(losses, peer)(q, t, reduction="none"), (1,))
    check_peer(lk.get(name, **hyper), (y, p), reference, what=f"{name} against kornia.losses.{peer}")


def test_redescending_losses_at_their_catalogue_values():
    # CATALOGUE.md 1.4 (checked there against kornia) and 1.5 (against statsmodels' TukeyBiweight)
    r = [-1.5, 3.0]
    np.testing.assert_allclose(lk.cauchy([0.0, 0.0], r, reduction="none"), [0.753772, 1.704748], atol=5e-7)
    np.testing.assert_allclose(lk.geman_mcclure([0.0, 0.0], r, reduction="none"), [0.72, 1.384615], atol=5e-7)
    np.testing.assert_allclose(lk.welsch([0.0, 0.0], r, reduction="none"), [0.675348, 0.988891], atol=5e-7)
    grad, hessian = lk.TukeyBiweight(reduction="sum").grad_and_hessian([0.0] * 3, [-1.5, 3.0, 6.0])
    np.testing.assert_allclose(lk.tukey_biweight([0.0] * 3, [-1.5, 3.0, 6.0], reduction="none"),
                               [1.013618, 2.907028, 3.658204], atol=5e-7)  # fmt: skip
    np.testing.assert_allclose(grad, [-1.208234, 1.044168, 0.0], atol=5e-7)
    np.testing.assert_allclose(hessian, [0.437485, -0.619571, 0.0], atol=5e-7)


def _barron(alpha, c):
    """Barron's rho in his own (unstabilised) form, at 100 digits: its limits at 0, 2 and +-inf are taken
    at alpha = 1e-40, 2 + 1e-40 and +-1e40 (written as text, exact in mpmath), within 1e-38 of them."""
    a = mpmath.mpmathify(alpha)
    b = abs(a - 2)
    return lambda r: b / a * (((r / c) ** 2 / b + 1) ** (a / 2) - 1)


@covers("general_robust")
@pytest.mark.parametrize("alpha, at", [(2.0, "2.0000000000000000000000000000000000000001"), (1.0, "1"), (0.0, "1e-40"),
                                       (-2.0, "-2"), (-np.inf, "-1e40"), (np.inf, "1e40"), (0.5, "0.5"), (4.0, "4"),
                                       (1e-6, "1e-6"), (-1e-6, "-1e-6"), (2 - 2**-20, "1.99999904632568359375"),
                                       (-7.5, "-7.5")])  # fmt: skip
@pytest.mark.parametrize("c", [1.0, 2.5])
def test_general_robust_against_barrons_form_in_mpmath(alpha, at, c):
    y, p = residuals(f"barron {alpha} {c}", shape=(N,))
    p[-1] = y[-1] + 3.7 * c  # beyond every turn
    loss = lk.GeneralRobust(alpha=alpha, scale=c)
    with mpmath.workdps(100):
        expected = _mp_derivatives(_barron(at, mpmath.mpf(c)), p - y, digits=100)
    for got, want, what in zip(_per_example(loss, y, p), expected, ("value", "gradient", "Hessian")):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"alpha={alpha}: {what}")


def test_general_robust_at_its_catalogue_values():
    # CATALOGUE.md 1.3, checked there against Barron's lossfun (robust_loss_pytorch.general)
    r, zero = [-1.5, 3.0], [0.0, 0.0]
    rows = {2.0: [1.125, 4.5], 1.0: [0.802776, 2.162278], 0.0: [0.753772, 1.704748], -2.0: [0.72, 1.384615],
            -np.inf: [0.675348, 0.988891], 0.5: [0.7723, 1.87973], 4.0: [1.757812, 14.625], np.inf: [2.080217, 89.017131]}  # fmt: skip
    for alpha, values in rows.items():
        got = lk.general_robust(zero, r, alpha=alpha, reduction="none")
        np.testing.assert_allclose(got, values, atol=5e-6 if alpha == 0.5 else 5e-7, err_msg=f"alpha={alpha}")
    np.testing.assert_allclose(lk.general_robust(zero, r, alpha=0.0, scale=1.5, reduction="none"), [0.405465, 1.098612],
                               atol=5e-7)  # fmt: skip
    for alpha, slopes in ((-np.inf, [-0.486979, 0.033327]), (1.0, [-0.83205, 0.948683])):
        np.testing.assert_allclose(lk.GeneralRobust(alpha=alpha, reduction="sum").grad(zero, r), slopes, atol=5e-7)


@pytest.mark.parametrize("alpha", [-np.inf, -2.0, 0.0, 1.0, 2.0, np.inf])
def test_general_robust_autodiff_is_finite_at_its_limits(alpha):
    """Barron's code gives NaN gradients at alpha = +-inf (jonbarron/robust_loss_pytorch#21): the unused
    branches meet inf * 0 in backward. Autodiff through losskit's formulas agrees with the closed form."""
    y, p = residuals(f"barron autodiff {alpha}", shape=(N,))
    p[0], p[1] = y[0], y[1] + 40.0  # a zero residual and a far one
    loss = lk.GeneralRobust(alpha=alpha, reduction="sum")
    t = torch.tensor(p, requires_grad=True)
    (grad,) = torch.autograd.grad(loss(torch.tensor(y), t), t)
    expected = loss.grad(y, p)
    assert np.isfinite(expected).all() or alpha == np.inf
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-12, atol=1e-300)


@covers("gaussian_nll")
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_against_torch(full):
    y, mean, var = gaussian("gaussian")
    ref = torch_peer(lambda t, m, v: F.gaussian_nll_loss(m, t, v, full=full, reduction="none"), [1, 2])
    check_peer(lk.GaussianNLL(full=full), [y, mean, var], ref, what=f"gaussian_nll full={full}")


@covers("gaussian_nll_log_var")
def test_gaussian_nll_log_var_against_torch_through_exp():
    y, mean, var = gaussian("gaussian log var")
    ref = torch_peer(lambda t, m, s: F.gaussian_nll_loss(m, t, torch.exp(s), reduction="none"), [1, 2])
    check_peer(lk.GaussianNLLLogVar(), [y, mean, np.log(var)], ref, what="gaussian_nll_log_var")


@pytest.mark.parametrize("shape", [(N, 1), (N,), (1, D)], ids=str)
def test_shared_variance_against_torch(shape):
    """PyTorch's homoscedastic forms: one variance per row ((N, 1), or (N,) without the last axis) or
    per column; the gradient and Hessian of a shared variance are sums over the examples sharing it."""
    y, mean, _ = gaussian(f"shared variance {shape}")
    var = rng_for(f"shared variance {shape}").uniform(0.3, 2.0, size=shape)
    as_torch = (lambda v: v[:, None]) if len(shape) == 1 else (lambda v: v)
    ref = torch_peer(lambda t, m, v: F.gaussian_nll_loss(m, t, as_torch(v), reduction="none"), [1, 2])
    check_peer(lk.GaussianNLL(), [y, mean, var], ref, what=f"gaussian_nll, variance {shape}")
    ref = torch_peer(lambda t, m, s: F.gaussian_nll_loss(m, t, torch.exp(as_torch(s)), reduction="none"), [1, 2])
    check_peer(lk.GaussianNLLLogVar(), [y, mean, np.log(var)], ref, what=f"gaussian_nll_log_var, log-variance {shape}")


def test_a_scalar_variance_against_torch():
    y, mean, _ = gaussian("scalar variance")
    expected = F.gaussian_nll_loss(torch.tensor(mean), torch.tensor(y), 0.7, reduction="none").numpy()
    np.testing.assert_allclose(lk.gaussian_nll(y, mean, 0.7, reduction="none"), expected, rtol=1e-14)
    v = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    F.gaussian_nll_loss(torch.tensor(mean), torch.tensor(y), v.expand(N, D)).backward()
    d_variance = lk.GaussianNLL().grad(y, mean, 0.7)[1]
    assert np.shape(d_variance) == ()
    np.testing.assert_allclose(d_variance, v.grad.item(), rtol=1e-13)


def test_only_the_variance_broadcasts():
    y, mean, var = gaussian("only the variance")
    with pytest.raises(lk.InputError, match=r"y_true has shape \(1, 3\).*y_true is never broadcast"):
        lk.gaussian_nll(y[:1], mean, var)
    with pytest.raises(lk.InputError, match=r"variance has shape \(3,\).*may also have size 1 along any axis"):
        lk.gaussian_nll(y, mean, var[0])  # (D,) would pair with the rows: refused, as PyTorch refuses it
    with pytest.raises(lk.InputError, match=r"variance must be real numbers >= 0.*-1 at \(1, 0\)"):
        lk.gaussian_nll(y, mean, np.array([[1.0], [-1.0]] + [[1.0]] * (N - 2)))  # positions as given


def test_gaussian_nll_below_eps_is_the_clamped_value_with_a_zero_slope():
    """PyTorch clamps the variance at eps too (its value is losskit's); its slope there is a straight-through
    one, losskit's the derivative of the clamped value: 0 (documented)."""
    y, mean, var = np.array([1.0, 2.0]), np.array([0.5, 2.5]), np.array([1e-8, 0.5])
    expected = F.gaussian_nll_loss(torch.tensor(mean), torch.tensor(y), torch.tensor(var), reduction="none")
    np.testing.assert_allclose(lk.gaussian_nll(y, mean, var, reduction="none"), expected.numpy(), rtol=1e-14)
    assert lk.GaussianNLL().grad(y, mean, var)[1][0] == 0.0


@covers("triplet_margin")
@pytest.mark.parametrize("p, swap, margin", [(2.0, False, 1.0), (1.0, False, 0.5), (3.0, True, 1.0), (2.0, True, 2.0)])
def test_triplet_margin_against_torch(p, swap, margin):
    arrays = list(triplets(f"triplet {p} {swap} {margin}"))
    ref = torch_peer(
        lambda a, pos, neg: F.triplet_margin_loss(a, pos, neg, margin=margin, p=p, eps=0.0, swap=swap, reduction="none"),
        [0, 1, 2],
    )
    check_peer(lk.TripletMargin(margin=margin, p=p, swap=swap), arrays, ref, what=f"triplet_margin p={p} swap={swap}")


def _log_softmax_rows(name, shape=(N, D)):
    rng = rng_for(name)
    z = rng.normal(scale=2.0, size=shape)
    return rng.integers(0, shape[-1], size=shape[:-1]), z - np.log(np.exp(z).sum(-1, keepdims=True))


def _class_weight(name, classes=D):
    return np.round(64 * rng_for(name + " classes").uniform(0.2, 3.0, size=classes)) / 64


@covers("nll")
@pytest.mark.parametrize("with_weights", [False, True])
def test_nll_against_torch(with_weights):
    ids, log_p = _log_softmax_rows("nll")
    ids[2] = -100
    cw = _class_weight("nll") if with_weights else None
    w = None if cw is None else torch.from_numpy(cw)
    ref = torch_peer(
        lambda t, lp: F.nll_loss(lp, t, weight=w, ignore_index=-100, reduction="none"), [1],
        counted=lambda t, lp: (t != -100) * (1.0 if w is None else w[torch.where(t == -100, 0, t)]),
    )  # fmt: skip
    loss = lk.NLL(ignore_index=-100, class_weight=cw)
    check_peer(loss, [ids, log_p], ref, what=f"nll class_weight={with_weights}")
    for reduction in REDUCTIONS:  # and PyTorch's own weighted mean, without sample weights
        expected = F.nll_loss(torch.from_numpy(log_p), torch.from_numpy(ids), weight=w, ignore_index=-100,
                              reduction=reduction)  # fmt: skip
        np.testing.assert_allclose(loss(ids, log_p, reduction=reduction), expected.numpy(), rtol=1e-13)


def test_nll_is_no_longer_an_alias_of_the_probability_loss():
    assert lk.get("nll").info.input_space == "log-probabilities"
    assert "nll" not in lk.get("sparse_categorical_cross_entropy").info.aliases
    with pytest.raises(lk.InputError, match=r"nll: y_pred must be log-probabilities <= 0.*apply log_softmax first"):
        lk.nll([0], [[0.2, 0.8]])


@covers("sparse_softmax_cross_entropy", "softmax_cross_entropy")
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("name", ["sparse_softmax_cross_entropy", "softmax_cross_entropy"])
def test_class_weight_against_torch_cross_entropy_per_pixel(name, smoothing):
    """Logits (N, C, H, W) with the class axis at 1, targets per pixel: PyTorch's cross_entropy(weight=),
    its mean dividing by the weights of the target classes. Dense targets are the one-hot rows."""
    rng = rng_for(f"class weight {name} {smoothing}")
    z = rng.normal(scale=2.0, size=(4, D, 3, 2))
    ids = rng.integers(0, D, size=(4, 3, 2))
    ids[0, 0, 0] = -100 if name.startswith("sparse") else ids[0, 0, 0]
    cw = _class_weight(name)
    w = torch.from_numpy(cw)
    if name.startswith("sparse"):
        loss = lk.get(name, class_weight=cw, label_smoothing=smoothing, ignore_index=-100, axis=1)
        target = ids
    else:
        loss = lk.get(name, class_weight=list(cw), label_smoothing=smoothing, axis=1)
        target = np.moveaxis(np.eye(D)[ids], -1, 1)
    for reduction in REDUCTIONS:
        expected = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(ids), weight=w, ignore_index=-100,
                                   label_smoothing=smoothing, reduction=reduction)  # fmt: skip
        zt = torch.tensor(z, requires_grad=True)
        F.cross_entropy(zt, torch.from_numpy(ids), weight=w, ignore_index=-100, label_smoothing=smoothing,
                        reduction=reduction).sum().backward()  # fmt: skip
        value, grad = loss.value_and_grad(target, z, reduction=reduction)
        np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12, err_msg=f"{name} {reduction}")
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-11, atol=1e-15, err_msg=f"{name} {reduction}")


def test_class_weight_with_soft_targets_against_torch():
    """Soft targets: PyTorch weighs each class's term; its "mean" divides by N, losskit's by the targets'
    class weight (the same as PyTorch's class-id mean for one-hot rows): normalizer=N gives PyTorch's."""
    rng = rng_for("class weight soft")
    z, y = rng.normal(size=(N, D)), rng.dirichlet(np.ones(D), size=N)
    cw = _class_weight("soft")
    loss = lk.SoftmaxCrossEntropy(class_weight=cw)
    w = torch.from_numpy(cw)
    for reduction, call in (("none", {}), ("sum", {}), ("mean", {"normalizer": N})):
        expected = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(y), weight=w, reduction=reduction)
        np.testing.assert_allclose(loss(y, z, reduction="sum" if call else reduction, **call), expected.numpy(),
                                   rtol=1e-12)  # fmt: skip
    counted = (y * cw).sum(-1)
    np.testing.assert_allclose(loss(y, z), loss(y, z, reduction="sum") / counted.sum(), rtol=1e-13)


@covers("categorical_cross_entropy", "sparse_categorical_cross_entropy")
@pytest.mark.parametrize("name", ["categorical_cross_entropy", "sparse_categorical_cross_entropy"])
def test_class_weight_on_probabilities_against_torch_nll(name):
    ids, log_p = _log_softmax_rows(f"{name} probabilities")
    cw = _class_weight(name)
    target = ids if name.startswith("sparse") else np.eye(D)[ids]
    loss = lk.get(name, class_weight=cw)
    ref = torch_peer(lambda t, p: F.nll_loss(torch.log(p), torch.from_numpy(ids), weight=torch.from_numpy(cw),
                                             reduction="none"), [1],
                     counted=lambda t, p: torch.from_numpy(cw[ids]))  # fmt: skip
    check_peer(loss, [target, np.exp(log_p)], ref, what=f"{name} class_weight")


@covers("sigmoid_cross_entropy")
def test_pos_weight_per_label_against_torch():
    rng = rng_for("pos weight per label")
    y, z = (rng.random((N, D)) < 0.3).astype(np.float64), rng.normal(scale=2.0, size=(N, D))
    pw = np.array([3.0, 1.0, 0.5])
    ref = torch_peer(lambda t, p: F.binary_cross_entropy_with_logits(p, t, pos_weight=torch.from_numpy(pw),
                                                                     reduction="none"), [1])  # fmt: skip
    check_peer(lk.SigmoidCrossEntropy(pos_weight=pw), [y, z], ref, what="sigmoid_cross_entropy pos_weight per label")
    with pytest.raises(lk.InputError, match=r"pos_weight of shape \(2,\) does not broadcast against y_pred of shape"):
        lk.sigmoid_cross_entropy(y, z, pos_weight=[1.0, 2.0])


@covers("mse", "huber", "binary_cross_entropy", "sigmoid_cross_entropy", "softmax_cross_entropy", "kl_divergence")
def test_hessians_of_the_existing_losses_against_torch_double_backward():
    y, p = residuals("hessians")
    rng = rng_for("hessians more")
    cases = [
        (lk.MSE(), [y, p], lambda t, q: F.mse_loss(q, t, reduction="none")),
        (lk.Huber(delta=0.7), [y, p], lambda t, q: F.huber_loss(q, t, delta=0.7, reduction="none")),
        (lk.BinaryCrossEntropy(), [rng.uniform(size=(N, D)), rng.uniform(0.05, 0.95, size=(N, D))],
         lambda t, q: F.binary_cross_entropy(q, t, reduction="none")),
        (lk.SigmoidCrossEntropy(pos_weight=2.0), [rng.uniform(size=(N, D)), rng.normal(size=(N, D))],
         lambda t, q: F.binary_cross_entropy_with_logits(q, t, pos_weight=torch.full((D,), 2.0, dtype=torch.float64),
                                                         reduction="none")),
        (lk.SoftmaxCrossEntropy(label_smoothing=0.1), [rng.dirichlet(np.ones(D), size=N), rng.normal(size=(N, D))],
         lambda t, q: F.cross_entropy(q, t, label_smoothing=0.1, reduction="none")),
        (lk.KLDivergence(), [rng.dirichlet(np.ones(D), size=N), rng.dirichlet(np.ones(D), size=N)],
         lambda t, q: F.kl_div(torch.log(q), t, reduction="none").sum(-1)),
    ]  # fmt: skip
    for loss, arrays, fn in cases:
        # PyTorch's double backward of binary_cross_entropy is off by up to 4e-11 relative (see the mpmath check
        # below, which losskit's closed form meets to 1e-15)
        rtol = 1e-9 if loss.info.name == "binary_cross_entropy" else None
        check_peer(loss, arrays, torch_peer(fn, [1]), what=f"{loss!r} Hessian", dtypes=("float64",), rtol=rtol)
    import mpmath

    t, q = cases[2][1]
    hessian = lk.BinaryCrossEntropy(reduction="sum").grad_and_hessian(t, q)[1]
    with mpmath.workdps(40):  # y / p^2 + (1 - y) / (1 - p)^2, the second derivative of -(y log p + (1 - y) log(1 - p))
        exact = [float(mpmath.mpf(a) / mpmath.mpf(b) ** 2 + (1 - mpmath.mpf(a)) / (1 - mpmath.mpf(b)) ** 2)
                 for a, b in zip(t.ravel(), q.ravel())]  # fmt: skip
    np.testing.assert_allclose(hessian.ravel(), exact, rtol=1e-15)


def test_double_backward_through_losskit_at_every_size_matches_torch():
    """create_graph=True through lk.pseudo_huber at 1,000 and 40,000 elements (above the engine's size
    threshold): the Hessian-vector product equals torch's through huber-like smooth_l1 written out."""
    for n in (1000, 40000):
        g = torch.Generator().manual_seed(n)
        y, p0 = torch.randn(n, generator=g, dtype=torch.float64), 3 * torch.randn(n, generator=g, dtype=torch.float64)
        v = torch.rand(n, generator=g, dtype=torch.float64)
        out = []
        for fn in (lambda q: lk.huber(y, q, delta=1.5, reduction="sum"),
                   lambda q: F.huber_loss(q, y, delta=1.5, reduction="sum")):  # fmt: skip
            q = p0.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(fn(q), q, create_graph=True)
            out.append(torch.autograd.grad((grad * v).sum(), q)[0])
        torch.testing.assert_close(out[0], out[1], rtol=1e-12, atol=1e-14)


# --- scikit-learn --------------------------------------------------------------------------------------


@covers("pinball")
def test_pinball_against_sklearn_mean_pinball_loss():
    from sklearn import metrics

    for q in (0.1, 0.5, 0.9):
        y, p = residuals(f"pinball {q}", shape=(N,))
        w = weights(f"pinball {q}")
        for weight in (None, w):
            expected = metrics.mean_pinball_loss(y, p, alpha=q, sample_weight=weight)
            np.testing.assert_allclose(lk.pinball(y, p, quantile=q, sample_weight=weight), expected, rtol=1e-13)


SKLEARN_LOSSES = [
    # (losskit loss, sklearn loss, factor: losskit = factor * sklearn's half losses, data)
    ("mse", "HalfSquaredError", {}, 2.0, residuals),
    ("mae", "AbsoluteError", {}, 1.0, residuals),
    ("pinball", "PinballLoss", {"quantile": 0.8}, 1.0, residuals),
    ("log_poisson_nll", "HalfPoissonLoss", {}, 1.0, counts),
    ("sigmoid_cross_entropy", "HalfBinomialLoss", {}, 1.0, None),
]


@covers(*(row[0] for row in SKLEARN_LOSSES))
@pytest.mark.parametrize("name, sk_name, hyper, factor, data", SKLEARN_LOSSES, ids=[r[0] for r in SKLEARN_LOSSES])
def test_gradient_and_hessian_against_sklearn_loss(name, sk_name, hyper, factor, data):
    """sklearn._loss: loss(), gradient_hessian() (its Hessian is 1 where the true one is 0: the
    "approximate" kind) and fit_intercept_only() (the best constant, for odd n and for weights)."""
    from sklearn._loss import loss as sk

    rng = rng_for(f"sklearn {name}")
    if data is None:
        y, raw = (rng.random(9) < 0.4).astype(np.float64), rng.normal(size=9)
    else:
        y, raw = data(f"sklearn {name}", shape=(9,))
    w = rng.uniform(0.5, 2.0, size=9)
    ours = lk.get(name, **hyper)
    theirs = getattr(sk, sk_name)(**hyper)
    value = ours(y, raw, reduction="none")
    np.testing.assert_allclose(value - factor * theirs.loss(y, raw), (value - factor * theirs.loss(y, raw))[0],
                               atol=1e-12)  # equal up to sklearn's dropped constant  # fmt: skip
    gradient, hessian = ours.grad_and_hessian(y, raw, sample_weight=w, reduction="sum")
    g, h = theirs.gradient_hessian(y, raw, sample_weight=w)
    np.testing.assert_allclose(gradient, factor * g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hessian, factor * h, rtol=1e-12, atol=1e-14)
    for weight in ((None, w) if name != "pinball" else (w,)):  # sklearn's unweighted quantile interpolates
        np.testing.assert_allclose(ours.optimal_constant(y, sample_weight=weight),
                                   theirs.fit_intercept_only(y, sample_weight=weight), rtol=1e-12)  # fmt: skip


def _deviance_data(name, power, n=9):
    """Targets in the power's domain (zeros for 1 <= power < 2, negatives below 1) and positive means."""
    rng = rng_for(f"deviance {name} {power}")
    y = rng.gamma(2.0, 1.5, size=n)
    if 1 <= power < 2:
        y[:3] = 0.0
    elif power < 1:
        y[:3] = -y[:3]
    return y, rng.uniform(0.2, 4.0, size=n)


DEVIANCES = [  # (losskit, power, scikit-learn's metric, its loss classes: identity link, log link)
    ("poisson_deviance", 1.0, "mean_poisson_deviance", "HalfPoissonLoss"),
    ("gamma_deviance", 2.0, "mean_gamma_deviance", "HalfGammaLoss"),
    *(("tweedie_deviance", p, "mean_tweedie_deviance", "HalfTweedieLoss") for p in (-1.5, 0.0, 1.0, 1.2, 1.5, 2.0, 3.0)),
]


@covers("poisson_deviance", "gamma_deviance", "tweedie_deviance",
        "log_poisson_deviance", "log_gamma_deviance", "log_tweedie_deviance")  # fmt: skip
@pytest.mark.parametrize("name, power, metric, log_loss", DEVIANCES, ids=[f"{r[0]}-{r[1]}" for r in DEVIANCES])
def test_deviances_against_sklearn(name, power, metric, log_loss):
    """sklearn.metrics' mean deviances (per example and weighted), and twice the half losses of
    sklearn._loss: HalfTweedieLossIdentity (the mean as given, constants kept) and the log-link
    Half*Loss plus constant_to_optimal_zero, with their gradient_hessian."""
    from sklearn import metrics
    from sklearn._loss import loss as sk

    y, mu = _deviance_data(name, power)
    w = rng_for(f"deviance weights {power}").uniform(0.5, 2.0, size=y.size)
    hyper = {"power": power} if name == "tweedie_deviance" else {}
    score = getattr(metrics, metric)
    ours, log_ours = lk.get(name, **hyper), lk.get(f"log_{name}", **hyper)
    per_example = [score(y[i : i + 1], mu[i : i + 1], **hyper) for i in range(y.size)]
    # scikit-learn's textbook form cancels where y_true ~ y_pred (1e-11 of a deviance of 2e-4 at power -1.5):
    # an absolute tolerance of 1e-13 here, and mpmath holds losskit to 1e-12 relative below.
    np.testing.assert_allclose(ours(y, mu, reduction="none"), per_example, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ours(y, mu, sample_weight=w), score(y, mu, sample_weight=w, **hyper), rtol=1e-12)
    np.testing.assert_allclose(log_ours(y, np.log(mu), reduction="none"), per_example, rtol=1e-12, atol=1e-14)
    identity = sk.HalfTweedieLossIdentity(power=power)
    g, h = identity.gradient_hessian(y, mu, sample_weight=w)
    gradient, hessian = ours.grad_and_hessian(y, mu, sample_weight=w, reduction="sum")
    np.testing.assert_allclose(gradient, 2 * g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hessian, 2 * h, rtol=1e-12, atol=1e-14)
    log_link = getattr(sk, log_loss)(**hyper)
    if power > 0:  # the log-link classes take powers > 0 only
        raw = np.log(mu)
        np.testing.assert_allclose(log_ours(y, raw, reduction="none"),
                                   2 * (log_link.loss(y, raw) + log_link.constant_to_optimal_zero(y)), rtol=1e-12, atol=1e-14)  # fmt: skip
        g, h = log_link.gradient_hessian(y, raw, sample_weight=w)
        gradient, hessian = log_ours.grad_and_hessian(y, raw, sample_weight=w, reduction="sum")
        np.testing.assert_allclose(gradient, 2 * g, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(hessian, 2 * h, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(log_ours.optimal_constant(y, sample_weight=w),
                                   log_link.fit_intercept_only(y, sample_weight=w), rtol=1e-12)  # fmt: skip


@pytest.mark.parametrize("p", [1.000000001, 0.999999999, 1.999999999, 2.000000001, -0.000000001, -1.5, 1.5, 3.0])
def test_tweedie_deviance_against_mpmath(p):
    """The textbook form (CATALOGUE.md 2.4) at 50 digits, also near powers 1 and 2 where in float64 it
    loses about 1e-7 of the value."""
    if 0 < p < 1:
        with pytest.raises(lk.InputError, match=r"power must be a finite number <= 0 or >= 1.*\(0, 1\)"):
            lk.TweedieDeviance(power=p)
        return
    y, mu = _deviance_data("mpmath", p)
    y[:3] = np.abs(y[:3]) + 0.25 if p >= 2 else y[:3]
    with mpmath.workdps(50):
        q = mpmath.mpf(p)  # the float the loss gets

        def deviance(t, m):
            t, m = mpmath.mpf(float(t)), mpmath.mpf(float(m))
            return 2 * (max(t, 0) ** (2 - q) / ((1 - q) * (2 - q)) - t * m ** (1 - q) / (1 - q) + m ** (2 - q) / (2 - q))

        expected = [float(deviance(t, m)) for t, m in zip(y, mu)]
    np.testing.assert_allclose(lk.tweedie_deviance(y, mu, power=p, reduction="none"), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lk.log_tweedie_deviance(y, np.log(mu), power=p, reduction="none"), expected,
                               rtol=1e-12, atol=1e-14)  # fmt: skip


def test_deviances_at_their_catalogue_values():
    # CATALOGUE.md 2.1, 2.3 and 2.4 (checked there against scikit-learn and TorchMetrics)
    np.testing.assert_allclose(lk.poisson_deviance([2.0, 0.0], [0.5, 1.5], reduction="none"), [2.545177, 3.0], atol=5e-7)
    gradient, hessian = lk.GammaDeviance(reduction="sum").grad_and_hessian([2.0, 1.0], [0.5, 4.0])
    np.testing.assert_allclose(lk.gamma_deviance([2.0, 1.0], [0.5, 4.0], reduction="none"), [3.227411, 1.272589], atol=5e-7)
    np.testing.assert_allclose([gradient, hessian], [[-12.0, 0.375], [56.0, -0.0625]], atol=5e-7)
    value = lk.tweedie_deviance([2.0, 0.0], [0.5, 1.5], power=1.5, reduction="none")
    np.testing.assert_allclose(value, [2.828427, 4.898979], atol=5e-7)
    gradient, hessian = lk.LogTweedieDeviance(power=1.5, reduction="sum").grad_and_hessian([2.0, 0.0], np.log([0.5, 1.5]))
    np.testing.assert_allclose([gradient / 2, hessian / 2], [[-2.12132, 1.224745], [1.767767, 0.612372]], atol=5e-6)


@covers("mape")
def test_mape_against_sklearn():
    from sklearn import metrics

    y, p = residuals("mape", shape=(N,))
    y[0], y[1], p[1] = 0.0, 1e-300, 1e-300  # the epsilon rule; an exact prediction of a tiny target
    per_example = [metrics.mean_absolute_percentage_error(y[i : i + 1], p[i : i + 1]) for i in range(N)]
    np.testing.assert_allclose(lk.mape(y, p, reduction="none"), per_example, rtol=1e-13)
    w = weights("mape")
    np.testing.assert_allclose(lk.mape(y, p, sample_weight=w),
                               metrics.mean_absolute_percentage_error(y, p, sample_weight=w), rtol=1e-13)  # fmt: skip
    # CATALOGUE.md 2.5: y = [2, -1], y_pred = [0.5, 4] -> [0.75, 5.0], gradient [-0.5, 1.0]; sklearn's mean 2.875
    np.testing.assert_allclose(lk.MAPE(reduction="sum").grad([2.0, -1.0], [0.5, 4.0]), [-0.5, 1.0])
    assert float(lk.mape([2.0, -1.0], [0.5, 4.0])) == 2.875


def test_keras_mape_is_not_read_as_losskits():
    with pytest.raises(lk.InputError, match="100 times losskit's mape"):
        lk.get({"class_name": "MeanAbsolutePercentageError", "config": {}})


@covers("laplace_nll")
def test_laplace_nll_against_torch_distributions():
    """-Laplace(location, exp(s)).log_prob(y) is full=True; the gradients by autograd, the log-scale's
    Hessian by double backward (the location's is the approximate exp(-s))."""
    y, location, _ = gaussian("laplace")
    s = rng_for("laplace scale").normal(scale=0.5, size=y.shape)

    def nll(t, m, log_b):
        return -torch.distributions.Laplace(m, torch.exp(log_b)).log_prob(t)

    reference = torch_peer(nll, (1, 2))
    check_peer(lk.LaplaceNLL(full=True), (y, location, s), reference, what="laplace_nll", hessian=False)
    _, _, (_, hessian) = reference([y, location, s], None, "sum")
    np.testing.assert_allclose(lk.LaplaceNLL(reduction="sum").grad_and_hessian(y, location, s)[1][1], hessian,
                               rtol=1e-12)  # fmt: skip


@covers("pinball")
def test_multi_quantile_pinball_against_sklearn():
    """One call with quantile=(q1, q2, q3) is the sum over the columns of mean_pinball_loss at each q, and
    each column's gradient is sklearn's PinballLoss gradient at its q."""
    from sklearn import metrics
    from sklearn._loss import loss as sk

    quantiles = (0.05, 0.5, 0.95)
    y, _ = residuals("multi-quantile", shape=(N,))
    p = y[:, None] + rng_for("multi-quantile columns").normal(size=(N, 3))
    w = weights("multi-quantile")
    loss = lk.Pinball(quantile=quantiles)
    for weight in (None, w):
        expected = sum(metrics.mean_pinball_loss(y, p[:, k], alpha=q, sample_weight=weight) for k, q in enumerate(quantiles))
        np.testing.assert_allclose(loss(y, p, sample_weight=weight), expected, rtol=1e-13)
    gradient, hessian = loss.grad_and_hessian(y, p, sample_weight=w, reduction="sum")
    for k, q in enumerate(quantiles):
        g, h = sk.PinballLoss(quantile=q).gradient_hessian(y, np.ascontiguousarray(p[:, k]), sample_weight=w)
        np.testing.assert_allclose(gradient[:, k], g, rtol=1e-13)
        np.testing.assert_allclose(hessian[:, k], h, rtol=1e-13)
    np.testing.assert_allclose(loss.optimal_constant(y, sample_weight=w),
                               [np.quantile(y, q, method="inverted_cdf", weights=w) for q in quantiles], rtol=0)  # fmt: skip
    with pytest.raises(lk.InputError, match="y_pred has 2 entries on its last axis but quantile holds 3"):
        loss(y, p[:, :2])


def test_multinomial_against_sklearn():
    from sklearn._loss import loss as sk

    rng = rng_for("sklearn multinomial")
    ids, z, w = rng.integers(0, D, size=11), rng.normal(size=(11, D)), rng.uniform(0.5, 2.0, size=11)
    theirs = sk.HalfMultinomialLoss(n_classes=D)
    gradient, hessian = lk.SparseSoftmaxCrossEntropy().grad_and_hessian(ids, z, sample_weight=w, reduction="sum")
    g, h = theirs.gradient_hessian(ids.astype(np.float64), z, sample_weight=w)
    np.testing.assert_allclose(gradient, g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hessian, h, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lk.SparseSoftmaxCrossEntropy().optimal_constant(ids, sample_weight=w),
                               theirs.fit_intercept_only(ids.astype(np.float64), sample_weight=w), rtol=1e-12)
    np.testing.assert_allclose(lk.SoftmaxCrossEntropy().optimal_constant(np.eye(D)[ids], sample_weight=w),
                               theirs.fit_intercept_only(ids.astype(np.float64), sample_weight=w), rtol=1e-12)


@pytest.mark.parametrize("q", [0.1, 0.3, 0.5, 0.9])
def test_best_pinball_constant_is_numpys_inverted_cdf_quantile_and_a_minimum(q):
    rng = rng_for(f"quantile {q}")
    y, w = rng.normal(size=20), rng.uniform(0.5, 2.0, size=20)
    loss = lk.Pinball(quantile=q)
    for weight in (None, w):
        constant = loss.optimal_constant(y, sample_weight=weight)
        np.testing.assert_allclose(constant, np.quantile(y, q, method="inverted_cdf", weights=weight), rtol=0)
        costs = [float(loss(y, np.full(20, c), sample_weight=weight)) for c in y]
        assert float(loss(y, np.full(20, constant), sample_weight=weight)) <= min(costs) + 1e-12


def test_best_constants_of_the_closed_forms():
    """The mean for mse, the median for mae (odd n), logit of the mean for sigmoid CE, log of the mean for
    log-rate Poisson, mean and variance for Gaussian NLL, expm1 of the mean log1p for msle."""
    y = np.array([0.0, 1.0, 4.0, 2.0, 3.0])
    assert float(lk.MSE().optimal_constant(y)) == 2.0
    assert float(lk.MAE().optimal_constant(y)) == float(np.median(y))
    np.testing.assert_allclose(lk.LogPoissonNLL().optimal_constant(y), np.log(2.0), rtol=1e-15)
    labels = np.array([1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(lk.SigmoidCrossEntropy().optimal_constant(labels), np.log(0.75 / 0.25), rtol=1e-14)
    mean, variance = lk.GaussianNLL().optimal_constant(y)
    np.testing.assert_allclose([mean, variance], [np.mean(y), np.var(y)], rtol=1e-14)
    np.testing.assert_allclose(lk.GaussianNLLLogVar().optimal_constant(y)[1], np.log(np.var(y)), rtol=1e-14)
    np.testing.assert_allclose(lk.MSLE().optimal_constant(y), np.expm1(np.mean(np.log1p(y))), rtol=1e-14)
    with pytest.raises(lk.InputError, match="triplet_margin has no target"):
        lk.TripletMargin().optimal_constant()
    with pytest.raises(lk.InputError, match=r"y_true must be finite.*1 NaN"):
        lk.MSE().optimal_constant([1.0, np.nan])


# --- the binary catalogue -------------------------------------------------------------------------------


def margins(name, n=N, gap=0.05):
    """Labels in {-1, +1} and scores whose margins stay ``gap`` away from 0, 1 and -1 (the kinks)."""
    rng = rng_for(name)
    t = rng.choice([-1.0, 1.0], size=n)
    m = rng.uniform(-3.0, 3.0, size=n)
    for kink in (-1.0, 0.0, 1.0):
        m = np.where(np.abs(m - kink) < gap, m + 2 * gap, m)
    return t, t * m


@covers("exponential")
def test_exponential_against_sklearns_exponential_loss():
    """sklearn._loss.ExponentialLoss takes labels 0/1 and the raw score: its loss, gradient, Hessian and best
    constant (half the logit of the positive share)."""
    from sklearn._loss import loss as sk

    t, f = margins("exponential")
    y01 = (t + 1.0) / 2.0
    w = weights("exponential")
    theirs = sk.ExponentialLoss()
    ours = lk.Exponential(reduction="sum")
    np.testing.assert_allclose(ours(t, f, reduction="none"), theirs.loss(y01, f), rtol=1e-13)
    g, h = theirs.gradient_hessian(y01, f, sample_weight=w)
    gradient, hessian = ours.grad_and_hessian(t, f, sample_weight=w)
    np.testing.assert_allclose(gradient, g, rtol=1e-13)
    np.testing.assert_allclose(hessian, h, rtol=1e-13)
    np.testing.assert_allclose(ours.optimal_constant(t, sample_weight=w), theirs.fit_intercept_only(y01, sample_weight=w),
                               rtol=1e-12)  # fmt: skip


@covers("soft_margin")
def test_soft_margin_against_torch():
    t, f = margins("soft margin")
    reference = torch_peer(lambda y, x: F.soft_margin_loss(x, y, reduction="none"), (1,))
    check_peer(lk.SoftMargin(), (t, f), reference, what="soft_margin")


@covers("perceptron", "modified_huber")
def test_perceptron_and_modified_huber_against_sklearns_sgd_losses():
    """_sgd_fast.Hinge(threshold=0) is the perceptron loss, _sgd_fast.ModifiedHuber the modified Huber loss:
    py_loss(p, y) and py_dloss(p, y) on labels +-1, away from the kinks."""
    from sklearn.linear_model import _sgd_fast

    t, f = margins("sgd margins")
    for loss, peer in ((lk.Perceptron(), _sgd_fast.Hinge(0.0)), (lk.ModifiedHuber(), _sgd_fast.ModifiedHuber())):
        values = [peer.py_loss(float(p), float(y)) for p, y in zip(f, t)]
        slopes = [peer.py_dloss(float(p), float(y)) for p, y in zip(f, t)]
        np.testing.assert_allclose(loss(t, f, reduction="none"), values, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(loss.grad(t, f, reduction="sum"), slopes, rtol=1e-13, atol=1e-15)


@covers("perceptron", "smooth_hinge")
def test_perceptron_and_smooth_hinge_against_optax():
    """Optax's perceptron_loss (labels +-1) and its binary sparsemax_loss (labels 0/1), which is the smooth
    hinge at gamma = 2; gradients by jax.grad."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    t, f = margins("optax margins")
    for loss, peer, labels in ((lk.Perceptron(), optax.losses.perceptron_loss, t),
                               (lk.SmoothHinge(gamma=2.0), optax.losses.sparsemax_loss, (t + 1.0) / 2.0)):  # fmt: skip
        value = np.asarray(peer(f, labels))
        slope = np.asarray(jax.grad(lambda x: peer(x, labels).sum())(f))
        np.testing.assert_allclose(loss(t, f, reduction="none"), value, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(loss.grad(t, f, reduction="sum"), slope, rtol=1e-13, atol=1e-15)
    # CATALOGUE.md 3.5 and 3.6: gamma = 1 -> [1.5, 1.0, 0.245], gradient [-1, 1, -0.7]; modified Huber = 4 x gamma 2
    t, f = np.array([1.0, -1.0, 1.0]), np.array([-1.0, 0.5, 0.3])
    np.testing.assert_allclose(lk.smooth_hinge(t, f, reduction="none"), [1.5, 1.0, 0.245], rtol=1e-14)
    np.testing.assert_allclose(lk.SmoothHinge(reduction="sum").grad(t, f), [-1.0, 1.0, -0.7], rtol=1e-14)
    t, f = margins("modified huber identity")
    np.testing.assert_allclose(lk.modified_huber(t, f, reduction="none"),
                               4 * lk.smooth_hinge(t, f, gamma=2.0, reduction="none"), rtol=1e-13)  # fmt: skip


def _focal_data(name):
    rng = rng_for(name)
    return (rng.random((N, D)) < 0.4).astype(np.float64), rng.normal(size=(N, D)) * 2


@covers("sigmoid_focal")
@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.5, 0.25), (2.0, None), (0.0, 0.75), (5.0, None)])
def test_sigmoid_focal_against_kornia_with_torch_double_backward(gamma, alpha):
    """kornia.losses.binary_focal_loss_with_logits on hard labels (its alpha=None is no weight): values,
    gradients by autograd and Hessian diagonals by double backward."""
    losses = importlib.import_module("kornia.losses")
    y, z = _focal_data(f"focal {gamma} {alpha}")

    def per_example(t, x):
        return losses.binary_focal_loss_with_logits(x, t, alpha=alpha, gamma=gamma, reduction="none")

    check_peer(lk.SigmoidFocal(gamma=gamma, alpha=alpha), (y, z), torch_peer(per_example, (1,)),
               what=f"sigmoid_focal gamma={gamma} alpha={alpha}")  # fmt: skip


@covers("sigmoid_focal")
def test_sigmoid_focal_against_optax_on_soft_labels():
    """Optax's sigmoid_focal_loss takes soft labels with p_t = p y + (1 - p)(1 - y), as losskit does."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    rng = rng_for("focal soft")
    y, z = rng.uniform(size=(N, D)), rng.normal(size=(N, D)) * 2
    for gamma, alpha in ((2.0, 0.25), (0.5, None), (1.0, 0.6)):
        loss = lk.SigmoidFocal(gamma=gamma, alpha=alpha)
        value = np.asarray(optax.sigmoid_focal_loss(z, y, alpha=alpha, gamma=gamma))
        slope = np.asarray(jax.grad(lambda x: optax.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma).sum())(z))
        np.testing.assert_allclose(loss(y, z, reduction="none"), value, rtol=1e-12)
        np.testing.assert_allclose(loss.grad(y, z, reduction="sum"), slope, rtol=1e-11)
    # CATALOGUE.md 3.1: z = [-1, 0.5], y = [1, 0], gamma 2, alpha 0.25 -> [0.175467, 0.283059]; h [0.113116, 0.369796]
    hessian = lk.SigmoidFocal(alpha=0.25, reduction="sum").grad_and_hessian([1.0, 0.0], [-1.0, 0.5])[1]
    np.testing.assert_allclose(hessian, [0.113116, 0.369796], atol=5e-7)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_sigmoid_focal_is_finite_at_saturated_and_infinite_logits(gamma):
    """The direct power (1 - p_t)^gamma gives NaN gradients at gamma < 1 and saturated logits (kornia#918):
    here every gradient and Hessian entry is finite, and each value is finite or its true limit, inf."""
    z = np.array([1e4, -1e4, np.inf, -np.inf] * 2)
    y = np.repeat([1.0, 0.0], 4)
    loss = lk.SigmoidFocal(gamma=gamma, alpha=0.25, reduction="sum")
    values = loss(y, z, reduction="none")
    gradient, hessian = loss.grad_and_hessian(y, z)
    assert np.isfinite(gradient).all() and np.isfinite(hessian).all(), (gradient, hessian)
    wrong = np.array([False, True, False, True, True, False, True, False])  # confident and wrong
    np.testing.assert_array_equal(values[~wrong], 0.0)
    assert np.all(values[wrong][[0, 2]] > 1e3) and np.all(np.isinf(values[wrong][[1, 3]]))
    t = torch.tensor(z, requires_grad=True)
    (grad,) = torch.autograd.grad(loss(torch.tensor(y), t), t)  # autodiff through the formulas: the same
    np.testing.assert_array_equal(grad.numpy(), gradient)


@covers("binary_focal")
@pytest.mark.parametrize("gamma, balanced", [(2.0, True), (0.5, False), (5.0, True)])
def test_binary_focal_against_keras(gamma, balanced):
    """Keras's BinaryFocalCrossentropy (JAX backend) on probabilities away from its 1e-7 clip: values, and
    gradients by jax.grad; a Keras config resolves to the same loss (alpha only with class balancing)."""
    import jax
    import keras

    jax.config.update("jax_enable_x64", True)
    rng = rng_for(f"binary focal {gamma}")
    y, p = (rng.random(N) < 0.4).astype(np.float64), rng.uniform(0.02, 0.98, size=N)
    peer = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=balanced, alpha=0.25, gamma=gamma, reduction="none",
                                                dtype="float64")
    ours = lk.get(keras.losses.serialize(peer))
    assert ours == lk.BinaryFocal(gamma=gamma, alpha=0.25 if balanced else None, reduction="none")
    floatx = keras.backend.floatx()
    keras.backend.set_floatx("float64")  # Keras computes in its float type, float32 by default
    try:
        value = np.asarray(peer(y[:, None], p[:, None]))
        slope = np.asarray(jax.grad(lambda q: peer(y[:, None], q[:, None]).sum())(p))
    finally:
        keras.backend.set_floatx(floatx)
    # Keras adds its epsilon (1e-7) inside the logs: a relative difference of about 1e-7 by its definition.
    np.testing.assert_allclose(ours(y, p), value, rtol=1e-6)
    np.testing.assert_allclose(ours.grad(y, p, reduction="sum"), slope, rtol=1e-6)
    # The exact check: on sigmoid(z) it is sigmoid_focal on z, whose references are kornia's and Optax's.
    z = np.log(p) - np.log1p(-p)
    twin = lk.SigmoidFocal(gamma=ours.gamma, alpha=ours.alpha, reduction="none")
    np.testing.assert_allclose(ours(y, p), twin(y, z), rtol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_binary_focal_is_finite_at_exact_predictions(gamma):
    y, p = np.array([1.0, 0.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0 - 1e-12, 1e-12])
    gradient, hessian = lk.BinaryFocal(gamma=gamma, reduction="sum").grad_and_hessian(y, p)
    assert np.isfinite(gradient).all() and not np.isnan(hessian).any()
    np.testing.assert_array_equal(lk.binary_focal(y, p, gamma=gamma, reduction="none")[:2], 0.0)


@covers("brier")
def test_brier_against_sklearn_brier_score_loss():
    from sklearn.metrics import brier_score_loss

    rng = rng_for("brier")
    y, p = (rng.random(N) < 0.4).astype(np.float64), rng.uniform(size=N)
    per_example = [brier_score_loss(y[i : i + 1], p[i : i + 1], labels=[0, 1]) for i in range(N)]
    np.testing.assert_allclose(lk.brier(y, p, reduction="none"), per_example, rtol=1e-13)
    w = weights("brier")
    np.testing.assert_allclose(lk.brier(y, p, sample_weight=w), brier_score_loss(y, p, sample_weight=w), rtol=1e-13)
    np.testing.assert_allclose(lk.Brier(reduction="sum").grad([1.0, 0.0], [0.2, 0.7]), [-1.6, 1.4], rtol=1e-14)


# --- Keras ---------------------------------------------------------------------------------------------


@covers("mse")
def test_sample_weight_of_shape_n_by_1_against_keras():
    """Keras's own fixture (keras/src/losses/losses_test.py, MeanSquaredError): weights [[1.2], [3.4]] weigh
    each row; its "mean_with_sample_weight" divides by their sum, as losskit's mean does: 55.6377."""
    keras = pytest.importorskip("keras")
    y_true = np.array([[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]])
    y_pred = np.array([[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]])
    w = np.array([[1.2], [3.4]])
    value = lk.mse(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(value, 55.6377, atol=5e-5)
    mean_with_weight = keras.losses.MeanSquaredError(reduction="mean_with_sample_weight")
    np.testing.assert_allclose(value, float(mean_with_weight(y_true, y_pred, sample_weight=w)), rtol=1e-6)
    np.testing.assert_allclose(lk.mse(y_true, y_pred, sample_weight=w, reduction="sum") / 3,
                               float(keras.losses.MeanSquaredError(reduction="sum")(y_true, y_pred, sample_weight=w)),
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(lk.MSE().grad(y_true, y_pred, sample_weight=w),
                                  lk.MSE().grad(y_true, y_pred, sample_weight=w[:, 0]))  # fmt: skip


@covers("poisson_nll", "dice")
def test_poisson_and_dice_against_keras():
    keras = pytest.importorskip("keras")
    y, z = counts("keras poisson")
    rate = np.exp(z)
    expected = float(keras.losses.Poisson()(y, rate))  # mean over the last axis, then over the batch
    np.testing.assert_allclose(lk.poisson_nll(y, rate, eps=1e-7), expected, rtol=1e-6)
    t, p = masks("keras dice")
    t[0, 0, 0] = 1.0  # Keras's epsilon (1e-7) is no smoothing: keep every mask non-empty
    expected = np.asarray(keras.losses.dice(t, p, axis=(1, 2)))
    np.testing.assert_allclose(lk.dice(t, p, smooth=0.0, reduction="none"), expected, rtol=1e-6)


# --- Optax -----------------------------------------------------------------------------------------------


@covers("triplet_margin")
def test_triplet_margin_against_optax():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    with jax.enable_x64(True):
        a, p, n = triplets("optax triplet")
        fn = lambda *x: optax.losses.triplet_margin_loss(*x, margin=1.0, eps=0.0)  # noqa: E731
        expected = np.asarray(fn(a, p, n))
        grads = jax.grad(lambda *x: fn(*x).sum(), argnums=(0, 1, 2))(a, p, n)
    loss = lk.TripletMargin()
    np.testing.assert_allclose(loss(a, p, n, reduction="none"), expected, rtol=1e-12)
    for ours, theirs in zip(loss.grad(a, p, n, reduction="sum"), grads):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-14)


@covers("dice")
def test_dice_against_optax():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    t, p = masks("optax dice")
    two = lambda x: np.stack([1 - x, x], axis=-1) if isinstance(x, np.ndarray) else jax.numpy.stack([1 - x, x], -1)  # noqa: E731
    with jax.enable_x64(True):
        # binary masks as two channels, background first and ignored: the foreground's Dice per sample
        fn = lambda q: optax.losses.dice_loss(two(q), two(t), smooth=0.5, apply_softmax=False,  # noqa: E731
                                              ignore_background=True)
        expected = np.asarray(fn(p))
        grad = np.asarray(jax.grad(lambda q: fn(q).sum())(p))
    loss = lk.Dice(smooth=1.0)  # Optax's smooth is half of the textbook one
    np.testing.assert_allclose(loss(t, p, reduction="none"), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.grad(t, p, reduction="sum"), grad, rtol=1e-12, atol=1e-14)
    # the empty sample: an empty prediction against an empty mask costs 0 with any smoothing
    np.testing.assert_allclose(lk.dice(np.zeros((1, 3)), np.zeros((1, 3)), smooth=0.0), 0.0)


@covers("dice")
def test_dice_hessian_against_torch_double_backward():
    t, p = masks("dice hessian")
    t[0, 0, 0] = 1.0

    def per_sample(tt, pp):
        tt, pp = tt.reshape(tt.shape[0], -1), pp.reshape(pp.shape[0], -1)
        return 1 - (2 * (pp * tt).sum(-1) + 1.0) / (pp.sum(-1) + tt.sum(-1) + 1.0)

    check_peer(lk.Dice(), [t, p], torch_peer(per_sample, [1]), what="dice against its definition in torch")


# --- the peers' own test values -------------------------------------------------------------------------
# Inputs and expected values as written in the peers' test files (named in each docstring); where such a
# test computes its expectation from a formula, the formula is written here as it is there.


@covers("mse")
def test_keras_mean_squared_error_fixtures():
    """keras/src/losses/losses_test.py, MeanSquaredErrorTest: 49.5 unweighted; weights [[1.2], [3.4]] under
    Keras's default reduction give 767.8 / 6; weights per element [3, 6, 5, 0, 4, 2] give 97.833336.
    Keras's default divides a weighted sum by the number of elements (6): losskit's "sum" / 6."""
    y_true = np.array([[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]])
    y_pred = np.array([[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]])
    np.testing.assert_allclose(lk.mse(y_true, y_pred), 49.5, rtol=1e-15)
    rows = np.array([[1.2], [3.4]])
    np.testing.assert_allclose(lk.mse(y_true, y_pred, sample_weight=rows, reduction="sum") / 6, 767.8 / 6, rtol=1e-14)
    elements = np.array([3.0, 6.0, 5.0, 0.0, 4.0, 2.0]).reshape(2, 3)
    np.testing.assert_allclose(lk.mse(y_true, y_pred, sample_weight=elements, reduction="sum") / 6, 97.833336,
                               rtol=1e-7)  # a float32 literal  # fmt: skip


@covers("huber", "log_cosh", "poisson_nll")
def test_keras_weighted_fixtures_of_huber_log_cosh_and_poisson():
    """The inputs and (N, 1) or (N,) weights of keras/src/losses/losses_test.py's HuberLossTest,
    LogCoshTest and PoissonTest, through Keras's own classes: "sum_over_batch_size" is losskit's "sum"
    over the number of elements."""
    keras = pytest.importorskip("keras")
    rows = np.array([[1.2], [3.4]])
    y_true, y_pred = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
    expected = float(keras.losses.Huber(delta=1.0)(y_true, y_pred, sample_weight=rows))
    np.testing.assert_allclose(lk.huber(y_true, y_pred, sample_weight=rows, reduction="sum") / 6, expected, rtol=1e-6)
    y_true, y_pred = np.array([[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]]), np.array([[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]])
    expected = float(keras.losses.LogCosh()(y_true, y_pred, sample_weight=rows[:, 0]))
    np.testing.assert_allclose(lk.log_cosh(y_true, y_pred, sample_weight=rows[:, 0], reduction="sum") / 6, expected,
                               rtol=1e-6)  # fmt: skip
    rates, y = np.array([1.0, 9.0, 2.0, 5.0, 2.0, 6.0]).reshape(2, 3), np.array([4.0, 8.0, 12.0, 8.0, 1.0, 3.0]).reshape(2, 3)
    expected = float(keras.losses.Poisson()(y, rates, sample_weight=rows))
    np.testing.assert_allclose(lk.poisson_nll(y, rates, sample_weight=rows, eps=1e-7, reduction="sum") / 6, expected,
                               rtol=1e-6)  # fmt: skip


@covers("dice")
def test_keras_dice_fixture_per_sample():
    """keras/src/losses/losses_test.py, DiceTest.test_binary_segmentation_with_axis: axis=(1, 2, 3) and no
    reduction give [0.5, 0.75757575] (Keras adds 1e-7 to the denominator: smooth=0 here)."""
    y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    np.testing.assert_allclose(lk.dice(y_true, y_pred, smooth=0.0, reduction="none"), [0.5, 0.75757575], rtol=1e-6)


@covers("pinball", "log_poisson_nll", "mse", "mae", "huber")
def test_sklearn_loss_table_of_specific_values():
    """sklearn/_loss/tests/test_loss.py, test_loss_on_specific_values: (y, raw) -> loss, gradient, Hessian.
    losskit's mse is twice HalfSquaredError; log_poisson_nll is HalfPoissonLoss."""
    rows = [
        (lk.Pinball(quantile=0.5), 1.0, 5.0, 2.0, 0.5),
        (lk.Pinball(quantile=0.25), 1.0, 5.0, 4 * (1 - 0.25), 1 - 0.25),
        (lk.Pinball(quantile=0.25), 5.0, 1.0, 4 * 0.25, -0.25),
        (lk.LogPoissonNLL(), 2.0, np.log(4), 4 - 2 * np.log(4), 4 - 2),
        (lk.MSE(), 1.0, 5.0, 2 * 8, 2 * 4),
        (lk.MAE(), 1.0, 5.0, 4.0, 1.0),
        (lk.Huber(delta=3.0), 1.0, 5.0, 3 * (4 - 3 / 2), None),
        (lk.Huber(delta=3.0), 1.0, 3.0, 0.5 * 2**2, None),
    ]
    for loss, y, raw, value, gradient in rows:
        y, raw = np.array([y]), np.array([raw])
        np.testing.assert_allclose(loss(y, raw, reduction="none"), [value], rtol=1e-15, err_msg=repr(loss))
        if gradient is not None:
            np.testing.assert_allclose(loss.grad(y, raw, reduction="none"), [gradient], rtol=1e-15, err_msg=repr(loss))
    _, hessian = lk.LogPoissonNLL().grad_and_hessian(np.array([2.0]), np.array([np.log(4)]), reduction="none")
    np.testing.assert_allclose(hessian, [4.0], rtol=1e-15)
    np.testing.assert_allclose(lk.MSE().grad_and_hessian([1.0], [5.0], reduction="none")[1], [2 * 1.0], rtol=0)


@covers("pinball")
def test_sklearn_mean_pinball_loss_fixtures():
    """sklearn/metrics/tests/test_regression.py: test_regression_metrics (y = 0..49, predictions one above
    or below: 0.5, 0.5; alpha=0.4: 0.6 and 0.4), test_multioutput_regression ((1 + 2/3) / 8), the
    raw_values of test_regression_multioutput_array ([0.25/2, 0.625/2]) and the limit 0 at [0] vs [0]."""
    y = np.arange(50, dtype=np.float64)
    for alpha, above, below in ((0.5, 0.5, 0.5), (0.4, 0.6, 0.4)):
        np.testing.assert_allclose(lk.pinball(y, y + 1, quantile=alpha), above, rtol=1e-15)
        np.testing.assert_allclose(lk.pinball(y, y - 1, quantile=alpha), below, rtol=1e-15)
    y_true = np.array([[1.0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 0, 1]])
    y_pred = np.array([[0.0, 0, 0, 1], [1, 0, 1, 1], [0, 0, 0, 1]])
    np.testing.assert_allclose(lk.pinball(y_true, y_pred), (1 + 2 / 3) / 8, rtol=1e-15)
    y_true = np.array([[1, 2], [2.5, -1], [4.5, 3], [5, 7]])
    y_pred = np.array([[1.0, 1], [2, -1], [5, 4], [5, 6.5]])
    np.testing.assert_allclose(lk.pinball(y_true, y_pred, reduction="none").mean(axis=0), [0.25 / 2, 0.625 / 2])
    assert float(lk.pinball([0.0], [0.0])) == 0.0


@covers("gaussian_nll")
def test_torch_gaussian_nll_broadcasting_fixture():
    """test/test_nn.py, test_gaussian_nll_loss_broadcasting and test_gaussian_nll_loss_scalar_var: the
    variance as (N, 1), as (N,) and as the float 0.5 against 0.5 (log(var) + (input - target)^2 / var).
    (The same test also broadcasts the target, which losskit refuses: only the variance is shared.)"""
    mean = np.array([[0.5, 1.5, 2.5], [2.0, 4.0, 6.0]])
    y = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    var_full = np.array([[0.5, 0.5, 0.5], [1.5, 1.5, 1.5]])
    expected = 0.5 * (np.log(var_full) + (mean - y) ** 2 / var_full)
    for var in (var_full, np.array([[0.5], [1.5]]), np.array([0.5, 1.5])):
        np.testing.assert_allclose(lk.gaussian_nll(y, mean, var, reduction="none"), expected, rtol=1e-15)
    expected = 0.5 * (np.log(0.5) + (mean - y) ** 2 / 0.5)
    np.testing.assert_allclose(lk.gaussian_nll(y, mean, 0.5, reduction="none"), expected, rtol=1e-15)


@covers("triplet_margin")
def test_optax_triplet_margin_fixtures():
    """optax/losses/_self_supervised_test.py, TripletMarginLossTest.test_batched: ones, zeros, twos give 1
    per row; zeros, ones, twos give 0. triplet_margin_loss's docstring example gives [0.1414, 0.1414]."""
    ones = np.ones((2, 2))
    np.testing.assert_allclose(lk.triplet_margin(ones, 0 * ones, 2 * ones, reduction="none"), [1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(lk.triplet_margin(0 * ones, ones, 2 * ones, reduction="none"), [0.0, 0.0], atol=0)
    anchors, positives = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[0.1, 0.1], [1.1, 1.1]])
    negatives = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(lk.triplet_margin(anchors, positives, negatives, reduction="none"), [0.1414] * 2,
                               atol=5e-5)  # printed to 4 decimals  # fmt: skip


@covers("dice")
def test_optax_dice_weighting_fixture():
    """optax/losses/_segmentation_test.py, DiceLossTest.test_dice_loss_weighting_parameters at alpha = beta
    = 0.5: probabilities [[0.1, 0.9], [0.8, 0.2]] (pixels by classes), targets [[0, 1], [1, 0]], smooth=1;
    per class 1 - (I + smooth) / (I + (P - I) / 2 + (T - I) / 2 + smooth). Optax's smooth is half of
    losskit's, and each class (a column) is one sample here."""
    probs, targets, smooth = np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([[0.0, 1.0], [1.0, 0.0]]), 1.0
    i, p, t = (probs * targets).sum(0), probs.sum(0), targets.sum(0)
    expected = 1 - (i + smooth) / (i + 0.5 * (p - i) + 0.5 * (t - i) + smooth)
    np.testing.assert_allclose(lk.dice(targets.T, probs.T, smooth=2 * smooth, reduction="none"), expected,
                               atol=1e-15)  # 1 - a ratio: rounding of the ratio  # fmt: skip


# --- coverage --------------------------------------------------------------------------------------------


def test_every_registered_loss_has_an_independent_reference():
    import test_peers_classes  # noqa: F401  (their covers)
    import test_peers_pairs  # noqa: F401
    import test_references

    covered = set(COVERED)
    covered |= {v.loss.info.name for case in test_references.TORCH_CASES for v in case.variants}
    covered |= {case.loss.info.name for case in test_references.SKLEARN_CASES}
    covered |= {loss.info.name for cases in test_references.SCIPY_CASES.values() for loss, _ in cases}
    covered |= {loss.info.name for cases in test_references.MPMATH_CASES.values() for loss, _ in cases}
    missing = sorted(set(lk.list_losses()) - covered)
    assert not missing, f"registered losses with no reference row against an independent implementation: {missing}"
