"""The multi-class, multi-label and divergence catalogue against its peers, on the same float64 inputs:

- Keras 3 (JAX backend): ``CategoricalFocalCrossentropy`` from logits and from probabilities (its config
  too), and ``CategoricalGeneralizedCrossEntropy`` on ``softmax(z)``; gradients by ``jax.grad``, Hessian
  diagonals by ``jax.hessian``.
- Optax: ``poly_loss_cross_entropy`` (soft labels), ``multiclass_hinge_loss``, ``multiclass_sparsemax_loss``
  and ``projection_simplex``, ``kl_divergence_with_log_targets``, ``generalized_kl_divergence``; scikit-learn's
  ``hinge_loss`` and ``mean_poisson_deviance``.
- PyTorch: ``multi_margin_loss``, ``multilabel_soft_margin_loss``, ``binary_cross_entropy_with_logits``,
  ``kl_div`` (reverse KL, and Hinton's distillation as PyTorch users write it); kornia's ``js_div_loss_2d``.
- mpmath: the asymmetric loss (Ridnik et al.'s definition) and the generalized KL at a close prediction.
- mpmath at 40 digits: the definition of the softmax focal loss, its derivatives by ``mpmath.diff``, on
  rows up to saturation (CATALOGUE.md 4.1 for the values at its reference input).

Reductions and weights follow DESIGN.md section 2, as in test_peers.py, whose ``covers`` marks these too.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from test_peers import N, assert_close, check_peer, covers, rng_for

import losskit as lk

C = 3
#: CATALOGUE.md section 4's reference input: logits and their labels.
Z = np.array([[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]])
LABELS = np.array([0, 2])


def keras():
    import jax

    jax.config.update("jax_enable_x64", True)
    import keras as k

    k.backend.set_floatx("float64")  # Keras computes in its float type, float32 by default
    return k


@pytest.fixture(autouse=True)
def _float32_keras_after():
    yield
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.set_floatx("float32")


def jax_peer(per_example, predictions, counted=None, hessian=True):
    """A reference from a JAX function of all the arrays giving per-example losses: reduced by DESIGN.md
    section 2, differentiated by ``jax.grad``; the Hessian diagonals from ``jax.hessian`` of the unweighted
    sum (examples are independent), computed once per input and scaled by each example's weight."""
    import jax
    import jax.numpy as jnp

    unweighted = {}

    def reference(arrays, weight, reduction):
        def losses_at(*preds):
            full = list(arrays)
            for i, p in zip(predictions, preds):
                full[i] = p
            return per_example(*full)

        def factors(losses):
            w = jnp.ones(losses.shape[:1]) if weight is None else jnp.asarray(weight)
            w = jnp.broadcast_to(w.reshape(w.shape + (1,) * (losses.ndim - 1)), losses.shape)
            if reduction != "mean":
                return w
            return w / (w * (1.0 if counted is None else counted(*arrays))).sum()

        def cost(*preds):
            losses = losses_at(*preds)
            weighted = jnp.where(factors(losses) == 0, 0.0, factors(losses) * losses)
            return weighted if reduction == "none" else weighted.sum()

        preds = [jnp.asarray(arrays[i]) for i in predictions]
        value = cost(*preds)
        grads = jax.grad(lambda *p: cost(*p).sum(), argnums=tuple(range(len(preds))))(*preds)
        if not hessian:
            return np.asarray(value), [np.asarray(g) for g in grads], None
        key = tuple(np.asarray(a).tobytes() for a in arrays)
        if key not in unweighted:
            total = lambda *p: losses_at(*p).sum()  # noqa: E731
            unweighted[key] = [np.diag(np.asarray(jax.hessian(total, argnums=k)(*preds)).reshape(p.size, p.size))
                               .reshape(p.shape) for k, p in enumerate(preds)]  # fmt: skip
        scale = np.asarray(factors(losses_at(*preds)))
        scale = scale.reshape(scale.shape + (1,) * (preds[0].ndim - scale.ndim))
        hessians = [scale * h for h in unweighted[key]]
        return np.asarray(value), [np.asarray(g) for g in grads], hessians

    return reference


def differenced_hessian(gradient, z, step=1e-4):
    """The Hessian diagonal by central differences of a peer's gradient (of the summed loss): exact up to
    rounding for a piecewise quadratic loss away from its kinks."""
    diagonal = np.zeros(z.shape)
    for j in range(z.shape[-1]):
        moved = np.zeros(z.shape)
        moved[:, j] = step
        diagonal[:, j] = (gradient(z + moved) - gradient(z - moved))[:, j] / (2 * step)
    return diagonal


def soft_rows(name, n=N):
    """Soft target rows and logits: a Dirichlet draw per row, one row one-hot, one with a zero entry."""
    rng = rng_for(name)
    y = rng.dirichlet(np.ones(C), size=n)
    y[0] = np.eye(C)[1]
    y[1] = [0.0, 0.3, 0.7]
    return y, rng.normal(scale=2.0, size=(n, C))


def class_ids(name, n=N):
    rng = rng_for(name)
    return rng.integers(0, C, size=n), rng.normal(scale=2.0, size=(n, C))


# --- focal ------------------------------------------------------------------------------------------------


def test_softmax_focal_at_its_catalogue_values():
    # CATALOGUE.md 4.1: gamma 2, alpha 0.25 on Z; checked there against Keras and finite differences
    loss = lk.SparseSoftmaxFocal(alpha=0.25, reduction="sum")
    np.testing.assert_allclose(loss(LABELS, Z, reduction="none"), [0.129649, 1.023547e-4], rtol=5e-6)
    np.testing.assert_allclose(loss.grad(LABELS, Z)[0], [-0.161344, 0.126790, 0.034554], atol=5e-7)


@covers("softmax_focal", "sparse_softmax_focal")
@pytest.mark.parametrize("gamma", [2.0, 0.5])
def test_softmax_focal_against_keras(gamma):
    """Keras's CategoricalFocalCrossentropy(from_logits=True): it clips probabilities at 1e-7, a relative
    difference of that order by its definition; the exact reference is the mpmath test below."""
    k = keras()
    y, z = soft_rows(f"softmax focal {gamma}")
    peer = k.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=gamma, from_logits=True, reduction="none")
    assert lk.get(k.losses.serialize(peer)) == lk.SoftmaxFocal(alpha=0.25, gamma=gamma, reduction="none")
    reference = jax_peer(lambda t, s: peer(t, s), (1,), hessian=False)  # the Hessians: the mpmath test below
    check_peer(lk.SoftmaxFocal(alpha=0.25, gamma=gamma), (y, z), reference, what=f"softmax_focal {gamma}",
               rtol=1e-6, dtypes=("float64",))  # fmt: skip
    ids, z = class_ids(f"sparse softmax focal {gamma}")
    reference = jax_peer(lambda t, s: peer(k.ops.one_hot(t, C), s), (1,), hessian=False)
    check_peer(lk.SparseSoftmaxFocal(alpha=0.25, gamma=gamma), (ids, z), reference,
               what=f"sparse_softmax_focal {gamma}", rtol=1e-6, dtypes=("float64",))  # fmt: skip


def _mp_softmax(z):
    top = max(z)
    e = [mpmath.exp(v - top) for v in z]
    return [v / sum(e) for v in e]


def _mp_focal_row(a, gamma):
    g = mpmath.mpf(gamma)
    return lambda *z: -sum(ac * (1 - pc) ** g * mpmath.log(pc) for ac, pc in zip(a, _mp_softmax(z)) if ac)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_softmax_focal_against_mpmath(gamma):
    """The definition at 40 digits, with mpmath.diff for the gradient and the Hessian diagonal, on rows up
    to saturation (p_top = 1 - 1e-13) and with a per-class alpha; soft and one-hot targets."""
    alpha = np.array([0.25, 0.5, 1.0])
    z = np.array([[1.0, 1.5, 0.2], [0.2, -1.0, 3.0], [30.0, 0.0, -5.0], [-20.0, 4.0, 4.5], [2.0, 2.0, -1.0]])
    y = np.array([[1.0, 0, 0], [0.2, 0.3, 0.5], [1.0, 0, 0], [0, 0.6, 0.4], [0, 1.0, 0]])
    loss = lk.SoftmaxFocal(gamma=gamma, alpha=alpha, reduction="sum")
    value = loss(y, z, reduction="none")
    gradient, hessian = loss.grad_and_hessian(y, z)
    with mpmath.workdps(40):
        for i in range(len(z)):
            f = _mp_focal_row([mpmath.mpf(float(v)) for v in y[i] * alpha], gamma)
            at = [mpmath.mpf(float(v)) for v in z[i]]
            want_g = [mpmath.diff(f, at, tuple(int(k == j) for k in range(C))) for j in range(C)]
            want_h = [mpmath.diff(f, at, tuple(2 * int(k == j) for k in range(C))) for j in range(C)]
            np.testing.assert_allclose(value[i], float(f(*at)), rtol=1e-13, err_msg=f"row {i}: value")
            np.testing.assert_allclose(gradient[i], [float(v) for v in want_g], rtol=1e-11, atol=1e-30,
                                       err_msg=f"row {i}: gradient")  # fmt: skip
            np.testing.assert_allclose(hessian[i], [float(v) for v in want_h], rtol=1e-9, atol=1e-30,
                                       err_msg=f"row {i}: Hessian diagonal")  # fmt: skip


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_softmax_focal_is_finite_at_saturated_and_infinite_logits(gamma):
    """Every gradient and Hessian entry finite, each value finite or its true limit inf (a target class at
    -inf); autodiff through the formulas gives the closed form on finite rows."""
    import torch

    z = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0]])
    ids = np.array([0, 0, 0, 0, 1])
    loss = lk.SparseSoftmaxFocal(gamma=gamma, reduction="sum")
    values = loss(ids, z, reduction="none")
    gradient, hessian = loss.grad_and_hessian(ids, z)
    assert np.isfinite(gradient).all() and np.isfinite(hessian).all(), (gradient, hessian)
    np.testing.assert_array_equal(values[[0, 2]], 0.0)
    assert values[1] > 1e3 and np.isinf(values[3]) and np.isfinite(values[4])
    np.testing.assert_allclose(values[4], 0.5**gamma * np.log(2.0), rtol=1e-15)  # two tied infinite logits
    slope = 0.5**gamma * (1.0 + gamma * np.log(2.0)) / 2.0  # -d/dz_t of (1 - p_t)^gamma (-log p_t) at p_t = 1/2
    np.testing.assert_allclose(gradient[4], [slope, -slope, 0.0], rtol=1e-15)
    t = torch.tensor(z[:2], requires_grad=True)
    (grad,) = torch.autograd.grad(loss(torch.tensor(ids[:2]), t), t)
    np.testing.assert_allclose(grad.numpy(), gradient[:2], rtol=1e-12, atol=1e-300)


@covers("categorical_focal")
@pytest.mark.parametrize("gamma", [2.0, 0.5])
def test_categorical_focal_against_keras(gamma):
    """Keras's CategoricalFocalCrossentropy on probability rows away from its 1e-7 clip (a relative difference
    of about 1e-7 by its definition). Keras divides the rows by their sums, so its gradient is losskit's
    (each probability on its own) projected along the rows: g - sum_c g_c p_c. Values are exactly
    softmax_focal's on the logits of the rows, and each class's gradient binary_focal's at label 1."""
    import jax

    k = keras()
    y, z = soft_rows(f"categorical focal {gamma}")
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    peer = k.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=gamma, reduction="none")
    ours = lk.get(k.losses.serialize(peer))
    assert ours == lk.CategoricalFocal(alpha=0.25, gamma=gamma, reduction="none")
    np.testing.assert_allclose(ours(y, p), np.asarray(peer(y, p)), rtol=1e-6)
    slope = np.asarray(jax.grad(lambda q: peer(y, q).sum())(p))
    gradient = ours.grad(y, p, reduction="sum")
    np.testing.assert_allclose(gradient - (gradient * p).sum(-1, keepdims=True), slope, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours(y, p), lk.softmax_focal(y, np.log(p), alpha=0.25, gamma=gamma, reduction="none"),
                               rtol=1e-12)  # fmt: skip
    each = lk.BinaryFocal(gamma=gamma, reduction="sum").grad(np.ones(p.shape), p)
    np.testing.assert_allclose(gradient, 0.25 * y * each, rtol=1e-15)


# --- poly-1 and generalized cross-entropy -------------------------------------------------------------------


@covers("poly1_softmax_cross_entropy")
@pytest.mark.parametrize("epsilon", [1.0, 2.0, -1.0])
def test_poly1_against_optax(epsilon):
    import optax

    y, z = soft_rows(f"poly1 {epsilon}")
    reference = jax_peer(lambda t, s: optax.losses.poly_loss_cross_entropy(s, t, epsilon=epsilon), (1,),
                         hessian=epsilon == 2.0)  # fmt: skip
    check_peer(lk.Poly1SoftmaxCrossEntropy(epsilon=epsilon), (y, z), reference, what=f"poly1 epsilon={epsilon}")


@covers("generalized_cross_entropy")
@pytest.mark.parametrize("q", [0.5, 0.1, 0.9])
def test_generalized_cross_entropy_against_keras(q):
    """Keras's CategoricalGeneralizedCrossEntropy takes class ids and probabilities: here softmax(z)."""
    import jax

    k = keras()
    ids, z = class_ids(f"gce {q}")
    peer = k.losses.CategoricalGeneralizedCrossEntropy(q=q, reduction="none")
    with pytest.raises(lk.InputError, match="takes probabilities; losskit's generalized_cross_entropy takes the logits"):
        lk.get(k.losses.serialize(peer))  # the same name, another input space: no silent wrong number
    reference = jax_peer(lambda t, s: peer(t, jax.nn.softmax(s, axis=-1)), (1,))
    check_peer(lk.GeneralizedCrossEntropy(q=q), (ids, z), reference, what=f"gce q={q}")
    # q = 1 (outside Keras's open interval) is 1 - p_t, CATALOGUE.md 4.3; and q = 0.5 on Z
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(lk.generalized_cross_entropy(ids, z, q=1.0, reduction="none"),
                               1.0 - p[np.arange(N), ids], rtol=1e-14)  # fmt: skip
    loss = lk.GeneralizedCrossEntropy(reduction="sum")
    gradient, hessian = loss.grad_and_hessian(LABELS, Z)
    np.testing.assert_allclose(gradient[0], [-0.384754, 0.302353, 0.082401], atol=5e-7)
    np.testing.assert_allclose(hessian[0], [-0.006089, 0.060994, 0.064474], atol=5e-7)


def test_the_best_constant_rows_minimise_their_cost():
    """optimal_constant against SciPy's minimiser over the logits of one row (shares 0.5, 0.3, 0.2)."""
    from scipy.optimize import minimize

    ids = np.repeat([0, 1, 2], [5, 3, 2])
    for loss in (lk.SparseSoftmaxFocal(gamma=2.0, alpha=[0.25, 0.5, 1.0]), lk.GeneralizedCrossEntropy(q=0.7),
                 lk.Poly1SoftmaxCrossEntropy(epsilon=-0.5)):  # fmt: skip
        targets = ids if loss.info.targets[0].kind == "class_index" else np.eye(C)[ids]
        cost = lambda c: float(loss(targets, np.tile(c, (ids.size, 1))))  # noqa: B023, E731
        best = minimize(cost, np.zeros(C), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14}).x
        got = loss.optimal_constant(targets)
        assert cost(got) <= cost(best) + 1e-12, loss
        assert_close(np.exp(got) / np.exp(got).sum(), np.exp(best) / np.exp(best).sum(), "float32", loss.info.name, 1e-4)


# --- multi-class margins -----------------------------------------------------------------------------------


def away_from_kinks(ids, z, margin=1.0, gap=0.05):
    """Scores whose every difference to the true class stays ``gap`` away from the margin (the kinks)."""
    rng = rng_for("kinks")
    for _ in range(200):
        slack = margin - np.take_along_axis(z, ids[:, None], axis=1) + z
        near = (np.abs(slack) < gap) & (np.arange(C) != ids[:, None])
        if not near.any():
            return z
        z = np.where(near, z + rng.normal(scale=0.3, size=z.shape), z)
    raise AssertionError("no scores away from the kinks")


@covers("crammer_singer_hinge")
@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_crammer_singer_hinge_against_optax_and_sklearn(margin):
    """Optax's multiclass_hinge_loss (margin 1; another margin m by its scale: m * loss(z / m)), values and
    jax.grad; scikit-learn's hinge_loss, the mean; CATALOGUE.md 4.4 at its reference input."""
    import jax.numpy as jnp
    import optax
    from sklearn.metrics import hinge_loss

    ids, z = class_ids(f"crammer singer {margin}")
    z = away_from_kinks(ids, z, margin)
    reference = jax_peer(lambda t, s: margin * optax.losses.multiclass_hinge_loss(s / margin, t), (1,), hessian=False)
    check_peer(lk.CrammerSingerHinge(margin=margin), (ids, z), reference, what=f"crammer_singer margin={margin}",
               hessian=False)  # fmt: skip
    if margin == 1.0:
        np.testing.assert_allclose(lk.crammer_singer_hinge(ids, z), hinge_loss(ids, z, labels=np.arange(C)), rtol=1e-14)
    loss = lk.CrammerSingerHinge(reduction="sum")
    np.testing.assert_array_equal(loss(LABELS, Z, reduction="none"), [1.5, 0.0])
    np.testing.assert_array_equal(loss.grad(LABELS, Z)[0], [-1.0, 1.0, 0.0])
    # every score negative: the true class's 0 is no rival (Keras's categorical_hinge gives 2 here)
    assert float(lk.crammer_singer_hinge([0], [[-1.0, -2.0, -3.0]])) == 0.0
    assert jnp.isclose(optax.losses.multiclass_hinge_loss(jnp.array([-1.0, -2.0, -3.0]), 0), 0.0)


@covers("weston_watkins_hinge")
@pytest.mark.parametrize("p, margin", [(1, 1.0), (2, 1.0), (2, 0.5)])
def test_weston_watkins_hinge_against_torch(p, margin):
    """PyTorch's multi_margin_loss: values and autograd; for p = 2 (piecewise quadratic) the Hessian diagonal
    by central differences of PyTorch's gradient (torch has no double backward for it), exact up to rounding
    away from the kinks."""
    import torch
    import torch.nn.functional as F

    ids, z = class_ids(f"weston watkins {p} {margin}")
    z = away_from_kinks(ids, z, margin)

    def torch_gradient(scores):
        s = torch.tensor(scores, requires_grad=True)
        F.multi_margin_loss(s, torch.tensor(ids), p=p, margin=margin, reduction="sum").backward()
        return s.grad.numpy()

    def reference(arrays, weight, reduction):
        s = torch.tensor(arrays[1], requires_grad=True)
        per_row = F.multi_margin_loss(s, torch.tensor(arrays[0]), p=p, margin=margin, reduction="none")
        w = torch.ones(N, dtype=torch.float64) if weight is None else torch.tensor(weight)
        weighted = torch.where(w == 0, 0.0, w * per_row)
        value = {"none": weighted, "sum": weighted.sum(), "mean": weighted.sum() / w.sum()}[reduction]
        value.sum().backward()
        return value.detach().numpy(), [s.grad.numpy()], None

    loss = lk.WestonWatkinsHinge(p=p, margin=margin)
    check_peer(loss, (ids, z), reference, what=f"weston_watkins p={p}", hessian=False)
    if p == 2:
        hessian = loss.grad_and_hessian(ids, z, reduction="sum")[1]
        np.testing.assert_allclose(hessian, differenced_hessian(torch_gradient, z), rtol=1e-8, atol=1e-10)


@covers("sparsemax_loss")
def test_sparsemax_loss_against_optax():
    """Optax's multiclass_sparsemax_loss: values and jax.grad, the Hessian diagonal by central differences of
    that gradient (piecewise linear); lk.sparsemax against Optax's projection onto the simplex; CATALOGUE.md
    4.9 at its reference input."""
    import jax
    import optax

    ids, z = class_ids("sparsemax loss")
    reference = jax_peer(lambda t, s: optax.losses.multiclass_sparsemax_loss(s, t), (1,), hessian=False)
    loss = lk.SparsemaxLoss()
    check_peer(loss, (ids, z), reference, what="sparsemax_loss", hessian=False)
    slope = jax.grad(lambda s: optax.losses.multiclass_sparsemax_loss(s, ids).sum())
    hessian = loss.grad_and_hessian(ids, z, reduction="sum")[1]
    np.testing.assert_allclose(hessian, differenced_hessian(lambda s: np.asarray(slope(s)), z), rtol=1e-8, atol=1e-10)
    projected = jax.vmap(optax.projections.projection_simplex)(z)
    np.testing.assert_allclose(lk.sparsemax(z), projected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(lk.sparsemax(z.T, axis=0), projected.T, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(lk.sparsemax_loss(LABELS, Z, reduction="none"), [0.5625, 0.0], rtol=1e-15)


def test_sparsemax_at_infinite_and_confident_scores():
    z = np.array([[30.0, 0.0, -5.0], [np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0], [-np.inf, 0.0, 0.5]])
    np.testing.assert_array_equal(lk.sparsemax(z), [[1, 0, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 0.25, 0.75]])
    values = lk.sparsemax_loss([0, 0, 1, 0], z, reduction="none")
    # two tied infinite scores: the limit of a row (M, M, 0), 1/2 - 1/(2 k) at k = 2; a true class at -inf: inf
    np.testing.assert_array_equal(values, [0.0, 0.0, 0.25, np.inf])


# --- multi-label -------------------------------------------------------------------------------------------


@covers("multilabel_soft_margin")
@pytest.mark.parametrize("label_weight", [None, (0.5, 2.0, 1.0)])
def test_multilabel_soft_margin_against_torch(label_weight):
    """PyTorch's multilabel_soft_margin_loss (weight=): values, autograd and double backward; with a
    pos_weight, the mean over the labels of PyTorch's binary_cross_entropy_with_logits(pos_weight=)."""
    import torch
    import torch.nn.functional as F
    from test_peers import torch_peer

    rng = rng_for(f"multilabel {label_weight}")
    y, z = (rng.random((N, C)) < 0.4).astype(np.float64), rng.normal(scale=2.0, size=(N, C))
    w = None if label_weight is None else torch.tensor(label_weight, dtype=torch.float64)
    reference = torch_peer(lambda t, s: F.multilabel_soft_margin_loss(s, t, weight=w, reduction="none"), (1,))
    check_peer(lk.MultilabelSoftMargin(label_weight=label_weight), (y, z), reference, what="multilabel_soft_margin")
    pos_weight = torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)
    reference = torch_peer(
        lambda t, s: F.binary_cross_entropy_with_logits(s, t, pos_weight=pos_weight, reduction="none").mean(-1), (1,)
    )
    check_peer(lk.MultilabelSoftMargin(pos_weight=[3.0, 1.0, 0.5]), (y, z), reference, what="multilabel pos_weight",
               dtypes=("float64",))  # fmt: skip


def _mp_asymmetric(y, gamma_pos, gamma_neg, clip):
    """Ridnik et al. (ICCV 2021), eq. 5 with the shifted probability of eq. 4 and the full derivative."""
    gp, gn, m = (mpmath.mpf(v) for v in (gamma_pos, gamma_neg, clip))

    def loss(z):
        p = 1 / (1 + mpmath.exp(-z))
        q = max(p - m, mpmath.mpf(0))
        negative = q**gn * -mpmath.log(1 - q) if q > 0 else mpmath.mpf(0)
        return -y * (1 - p) ** gp * mpmath.log(p) + (1 - y) * negative

    return loss


@covers("asymmetric")
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("clip", [0.0, 0.05])
def test_asymmetric_against_mpmath(gamma, clip):
    """The definition at 40 digits, derivatives by mpmath.diff (away from the shift, where the curvature
    jumps), at gamma_neg = gamma and gamma_pos = gamma / 2, on moderate and saturated logits."""
    z = np.array([1.0, -2.0, 0.5, -4.0, 3.0, -0.3, 25.0, -25.0, 12.0])
    y = np.array([1.0, 0, 0, 0, 0, 1, 1, 0, 0])
    loss = lk.Asymmetric(gamma_pos=gamma / 2, gamma_neg=gamma, clip=clip, reduction="sum")
    value = loss(y, z, reduction="none")
    gradient, hessian = loss.grad_and_hessian(y, z)
    with mpmath.workdps(40):
        for i in range(z.size):
            f, at = _mp_asymmetric(int(y[i]), gamma / 2, gamma, clip), mpmath.mpf(float(z[i]))
            expected = [float(mpmath.diff(f, at, k)) for k in range(3)]
            np.testing.assert_allclose([value[i], gradient[i], hessian[i]], expected, rtol=1e-11, atol=1e-300,
                                       err_msg=f"z={z[i]}, y={y[i]}")  # fmt: skip


def test_asymmetric_at_its_catalogue_values_and_limits():
    # CATALOGUE.md 5.2, checked there against the reference code's AsymmetricLoss and AsymmetricLossOptimized
    loss = lk.Asymmetric(reduction="sum")
    z, y = np.array([1.0, -2.0, 0.5, -4.0]), np.array([1.0, 0, 0, 0])
    np.testing.assert_allclose(loss(y, z, reduction="none"), [0.084249, 1.644756e-6, 0.091253, 0.0], rtol=5e-6)
    np.testing.assert_allclose(loss.grad(y, z), [-0.133921, 1.256865e-5, 0.208874, 0.0], rtol=5e-6)
    # without the shift and with one exponent, it is sigmoid_focal
    rng = rng_for("asymmetric focal")
    y, z = (rng.random(N) < 0.5).astype(np.float64), rng.normal(scale=3.0, size=N)
    same = lk.Asymmetric(gamma_pos=2.0, gamma_neg=2.0, clip=0.0, reduction="none")
    np.testing.assert_allclose(same(y, z), lk.sigmoid_focal(y, z, gamma=2.0, reduction="none"), rtol=1e-15)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_asymmetric_is_finite_at_saturated_and_infinite_logits(gamma):
    z = np.array([1e4, -1e4, np.inf, -np.inf] * 2)
    y = np.repeat([1.0, 0.0], 4)
    for clip in (0.0, 0.05):
        loss = lk.Asymmetric(gamma_pos=gamma, gamma_neg=gamma, clip=clip, reduction="sum")
        values = loss(y, z, reduction="none")
        gradient, hessian = loss.grad_and_hessian(y, z)
        assert np.isfinite(gradient).all() and np.isfinite(hessian).all(), (clip, gradient, hessian)
        np.testing.assert_array_equal(values[[0, 2, 5, 7]], 0.0)  # right and confident
        assert values[1] > 1e3 and np.isinf(values[3])  # a positive at -inf: -log p is inf
        if clip:  # a negative's loss is at most -log(clip) times (1 - clip)^gamma
            np.testing.assert_allclose(values[[4, 6]], (1 - clip) ** gamma * -np.log(clip), rtol=1e-14)


# --- divergences and distillation ------------------------------------------------------------------------------

#: CATALOGUE.md section 6's reference input: a target row and logits of the predicted one.
P_REF, S_REF = np.array([[0.1, 0.6, 0.3]]), np.array([[0.5, 1.0, -0.5]])


def distributions(name):
    rng = rng_for(name)
    return rng.dirichlet(np.ones(C), size=N), rng.dirichlet(np.ones(C), size=N)


@covers("reverse_kl_divergence")
def test_reverse_kl_divergence_against_torch_and_optax():
    """PyTorch's kl_div(log p, log q, log_target=True) is KL(q || p): values, autograd and double backward
    through log q; Optax's kl_divergence_with_log_targets the same; CATALOGUE.md 6.2 at its reference input."""
    import optax
    import torch
    import torch.nn.functional as F
    from test_peers import torch_peer

    p, q = distributions("reverse kl")
    reference = torch_peer(
        lambda t, s: F.kl_div(torch.log(t), torch.log(s), log_target=True, reduction="none").sum(-1), (1,)
    )
    check_peer(lk.ReverseKLDivergence(), (p, q), reference, what="reverse_kl_divergence")
    np.testing.assert_allclose(lk.reverse_kl_divergence(p, q, reduction="none"),
                               optax.losses.kl_divergence_with_log_targets(np.log(p), np.log(q)), rtol=1e-13)  # fmt: skip
    q_ref = np.exp(S_REF) / np.exp(S_REF).sum()
    np.testing.assert_allclose(float(lk.reverse_kl_divergence(P_REF, q_ref)), 0.236515, rtol=5e-6)


@covers("jensen_shannon")
def test_jensen_shannon_against_kornia():
    """kornia's js_div_loss_2d on rows laid out as 1 x C heatmaps: values, autograd and double backward;
    CATALOGUE.md 6.3 (checked there against TorchMetrics too), and the bound log 2 at disjoint supports."""
    from kornia.losses import js_div_loss_2d
    from test_peers import torch_peer

    p, q = distributions("jensen shannon")
    reference = torch_peer(lambda t, s: js_div_loss_2d(s[:, None, None, :], t[:, None, None, :], reduction="none")
                           [:, 0], (1,))  # fmt: skip
    check_peer(lk.JensenShannon(), (p, q), reference, what="jensen_shannon")
    q_ref = np.exp(S_REF) / np.exp(S_REF).sum()
    loss = lk.JensenShannon(reduction="sum")
    np.testing.assert_allclose(float(loss(P_REF, q_ref)), 0.052750, rtol=1e-5)
    np.testing.assert_allclose(loss.grad(P_REF, q_ref)[0], [0.214753, -0.02387, -0.274059], atol=5e-7)
    np.testing.assert_allclose(float(loss([[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]])), np.log(2.0), rtol=1e-15)


@covers("generalized_kl_divergence")
def test_generalized_kl_divergence_against_optax():
    """Optax's generalized_kl_divergence(log_predictions, targets): values, jax.grad and jax.hessian; half of
    scikit-learn's Poisson deviance summed over each row; CATALOGUE.md 6.4 at its reference input."""
    import optax
    from sklearn.metrics import mean_poisson_deviance

    rng = rng_for("generalized kl")
    p, z = rng.gamma(2.0, size=(N, C)), rng.normal(size=(N, C))
    p[0, 1] = 0.0  # an empty entry
    p[1] = np.exp(z[1]) * (1 + 1e-9)  # a close prediction, where the textbook form cancels
    reference = jax_peer(lambda t, s: optax.losses.generalized_kl_divergence(s, t), (1,))
    check_peer(lk.GeneralizedKLDivergence(), (p, z), reference, what="generalized_kl_divergence")
    rows = [0.5 * C * mean_poisson_deviance(p[i], np.exp(z[i])) for i in range(N)]
    np.testing.assert_allclose(lk.generalized_kl_divergence(p, z, reduction="none")[2:], rows[2:], rtol=1e-12)
    with mpmath.workdps(50):  # the definition, at a close prediction
        row = [mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(a)) / mpmath.exp(mpmath.mpf(float(b))))
               - mpmath.mpf(float(a)) + mpmath.exp(mpmath.mpf(float(b))) for a, b in zip(p[1], z[1])]  # fmt: skip
    # The value's condition number in p is about 2 / |log q - log p| = 2e9: a rounding of log p moves it by 1e-7.
    np.testing.assert_allclose(lk.generalized_kl_divergence(p[1:2], z[1:2]), float(sum(row)), rtol=1e-6)
    textbook = np.sum(p[1] * np.log(p[1] / np.exp(z[1])) - p[1] + np.exp(z[1]))
    assert abs(textbook - float(sum(row))) > 0.5 * float(sum(row))  # the cancellation the written form avoids
    np.testing.assert_allclose(float(lk.generalized_kl_divergence([[0.2, 1.2, 0.3]], np.log([[0.5, 1.0, 0.4]]))),
                               0.149223, rtol=5e-6)  # fmt: skip


@covers("distillation")
@pytest.mark.parametrize("temperature, teacher", [(1.0, "logits"), (4.0, "logits"), (2.0, "probabilities")])
def test_distillation_against_torch(temperature, teacher):
    """Hinton's loss as PyTorch users write it, T^2 kl_div(log_softmax(s / T), softmax(t / T)), through
    autograd and double backward; teacher probabilities softened as p^(1/T) renormalised."""
    import torch
    import torch.nn.functional as F
    from test_peers import torch_peer

    rng = rng_for(f"distillation {temperature} {teacher}")
    t, s = rng.normal(scale=2.0, size=(N, C)), rng.normal(scale=2.0, size=(N, C))
    if teacher == "probabilities":
        t = np.exp(t) / np.exp(t).sum(-1, keepdims=True)

    def per_row(teacher_rows, student):
        log_t = torch.log(teacher_rows) if teacher == "probabilities" else teacher_rows
        soft = F.softmax(log_t / temperature, dim=-1)
        return temperature**2 * F.kl_div(F.log_softmax(student / temperature, dim=-1), soft, reduction="none").sum(-1)

    reference = torch_peer(per_row, (1,))
    check_peer(lk.Distillation(temperature=temperature, teacher=teacher), (t, s), reference,
               what=f"distillation T={temperature} {teacher}")  # fmt: skip


def test_the_values_the_peers_document():
    """Examples from the peers' own documentation: Keras's CategoricalFocalCrossentropy docstring
    (alpha 0.25, gamma 2: 0.23315276 on its two rows; 0.0, 1.0 probabilities clipped by Keras at 1e-7, which
    changes the 7th digit) and PyTorch's MultiMarginLoss docstring (0.3250)."""
    y, p = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(float(lk.categorical_focal(y, p, alpha=0.25)), 0.23315276, rtol=1e-6)
    np.testing.assert_allclose(float(lk.weston_watkins_hinge([3], [[0.1, 0.2, 0.4, 0.8]])), 0.3250, rtol=1e-12)


def test_distillation_gradients_keep_their_size_across_temperatures():
    """Hinton's T^2: at high T the gradient T (q_T - p_T) tends to (s - t - mean(s - t)) / C, whatever T is
    (his section 2.1), where an unscaled KL would shrink as 1 / T."""
    rng = rng_for("distillation sizes")
    t, s = rng.normal(size=(N, C)), rng.normal(size=(N, C))
    limit = (s - t - (s - t).mean(-1, keepdims=True)) / C / N  # the mean over N rows
    for temperature in (50.0, 200.0):
        gradient = lk.Distillation(temperature=temperature).grad(t, s)
        np.testing.assert_allclose(gradient, limit, atol=2.0 / temperature * np.abs(limit).max())  # O(1 / T) off
