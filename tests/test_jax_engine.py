"""The JAX engine: jax.grad takes losskit's closed-form gradient (jax.custom_jvp), at kinks too (as PyTorch's
backward and TensorFlow's tape do), under jit and vmap, and jax.hessian differentiates it to the Hessian
diagonal that grad_and_hessian gives."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import losskit as lk  # noqa: E402


@pytest.mark.parametrize("name, y, p", [
    ("mae", [0.0, 1.0, 2.0], [0.0, 0.5, 2.0]),                        # residual 0: the slope's 0
    ("hinge", [1.0, -1.0, 1.0], [1.0, -1.0, 0.3]),                    # margin 1: the flat side
    ("pinball", [0.0, 1.0, 3.0], [0.0, 2.0, 1.0]),                    # residual 0
    ("epsilon_insensitive", [0.0, 0.0, 0.0], [0.1, -0.1, 0.5]),       # |r| = epsilon
    ("sigmoid_cross_entropy", [1.0, 0.0, 0.5], [0.0, 0.0, 0.0]),      # logit 0: 1/2 - y
    ("huber", [0.0, 0.0, 0.0], [1.0, -1.0, 0.5]),                     # |r| = delta
])  # fmt: skip
def test_jax_grad_is_losskits_gradient_at_the_kinks(name, y, p):
    loss = lk.get(name)
    y, p = np.array(y), np.array(p)
    want = loss.grad(y, p)
    got = jax.grad(lambda q: loss(jnp.asarray(y), q))(jnp.asarray(p))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-15, atol=0)
    jitted = jax.jit(jax.grad(lambda q, t: loss(t, q)))(jnp.asarray(p), jnp.asarray(y))
    np.testing.assert_allclose(np.asarray(jitted), want, rtol=1e-15, atol=0)
    torch = pytest.importorskip("torch")
    q = torch.tensor(p, requires_grad=True)
    loss(torch.tensor(y), q).backward()  # PyTorch's engine attaches the same closed form
    np.testing.assert_allclose(q.grad.numpy(), want, rtol=1e-15, atol=0)
    tf = pytest.importorskip("tensorflow")
    z = tf.constant(p)
    with tf.GradientTape() as tape:  # and TensorFlow's (tf.custom_gradient)
        tape.watch(z)
        value = loss(tf.constant(y), z)
    np.testing.assert_allclose(tape.gradient(value, z).numpy(), want, rtol=1e-15, atol=0)


def test_sigmoid_cross_entropy_at_logit_zero_is_a_half_minus_the_label():
    y = jnp.array([1.0, 0.0, 0.25])
    grad = jax.grad(lambda z: lk.sigmoid_cross_entropy(y, z, reduction="sum"))(jnp.zeros(3))
    np.testing.assert_allclose(np.asarray(grad), 0.5 - np.asarray(y), rtol=1e-15)


@pytest.mark.parametrize("loss, arrays", [
    (lk.Huber(delta=1.5, reduction="sum"), ([0.0, 1.0, -2.0], [0.3, 3.0, -2.2])),
    (lk.SoftmaxCrossEntropy(reduction="sum"), ([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]], [[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])),
    (lk.LogPoissonNLL(), ([0.0, 2.0, 5.0], [0.1, 0.7, 1.5])),
])  # fmt: skip
def test_jax_hessian_is_grad_and_hessians_diagonal(loss, arrays):
    y, p = (np.asarray(a) for a in arrays)
    full = jax.hessian(lambda q: loss(jnp.asarray(y), q))(jnp.asarray(p))
    diagonal = np.diagonal(np.asarray(full).reshape(p.size, p.size)).reshape(p.shape)
    np.testing.assert_allclose(diagonal, loss.grad_and_hessian(y, p)[1], rtol=1e-13, atol=1e-15)


def test_several_predictions_weights_vmap_and_the_switch():
    y, mean, variance = jnp.array([2.0, 1.0]), jnp.array([0.5, 4.0]), jnp.array(1.0)
    grads = jax.grad(lambda m, v: lk.gaussian_nll(y, m, v, reduction="sum"), argnums=(0, 1))(mean, variance)
    for got, want in zip(grads, lk.GaussianNLL(reduction="sum").grad(np.asarray(y), np.asarray(mean), 1.0)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-15)
    # weights and targets may be differentiated too (autodiff of the formulas for them), under jit
    z, w = jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 2.0, 0.0])
    t = jnp.array([1.0, 0.0, 1.0])
    attached = jax.jit(jax.grad(lambda w, t: lk.mse(t, z, sample_weight=w), argnums=(0, 1)))(w, t)
    with lk.fast_path("never"):
        formulas = jax.grad(lambda w, t: lk.mse(t, z, sample_weight=w), argnums=(0, 1))(w, t)
    for a, b in zip(attached, formulas):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-15)
    # vmap over a batch of batches: each is its own mean
    ys, ps = jnp.arange(12.0).reshape(3, 4), jnp.zeros((3, 4))
    np.testing.assert_allclose(np.asarray(jax.vmap(lk.mse)(ys, ps)), np.mean(np.asarray(ys) ** 2, axis=1), rtol=1e-15)
    # reduction="none": the Jacobian of the per-example losses is diagonal, the closed form on it
    jacobian = jax.jacrev(lambda q: lk.mae(jnp.zeros(3), q, reduction="none"))(jnp.array([0.0, 1.0, -2.0]))
    np.testing.assert_array_equal(np.asarray(jacobian), np.diag([0.0, 1.0, -1.0]))


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1, "z_loss": 1e-3, "bias": True, "normalizer": 7.0,
                                          "ignore_index": -100}, {"reduction": "none", "sample_weight": True}])  # fmt: skip
def test_jax_linear_cross_entropy_is_optax_cross_entropy_of_the_projection(options, monkeypatch):
    """Against ``h @ W.T (+ b)`` and Optax's cross-entropies (label smoothing by ``optax.smooth_labels``, PaLM's
    z-loss ``z lse^2`` added), weights and reductions by DESIGN.md section 2: the value and jax.grad (jax.vjp with
    random cotangents for reduction="none"), 37 rows in chunks of 8, each chunk's logits turned into their gradient
    16 vocabulary columns at a time (three blocks and a tail of 2)."""
    import optax

    monkeypatch.setattr(lk.jax, "BLOCK", 16)
    rng = np.random.default_rng(5)
    h, w = jnp.asarray(rng.normal(size=(37, 16))), jnp.asarray(rng.normal(size=(50, 16)) / 4)
    t = rng.integers(0, 50, size=37)
    options = dict(options)
    b = jnp.asarray(rng.normal(size=50)) if options.pop("bias", False) else None
    if options.pop("sample_weight", False):
        options["sample_weight"] = jnp.asarray(rng.uniform(0, 2, size=37))
    if "ignore_index" in options:
        t[::5] = -100
    t = jnp.asarray(t)
    eps, z, reduction = options.get("label_smoothing", 0.0), options.get("z_loss", 0.0), options.get("reduction", "mean")

    def reference(h, w, b):
        logits = h @ w.T + (0.0 if b is None else b)
        keep = t != -100
        ids = jnp.where(keep, t, 0)
        smoothed = optax.smooth_labels(jax.nn.one_hot(ids, 50), eps)
        lse = jax.nn.logsumexp(logits, axis=-1)
        losses = optax.softmax_cross_entropy(logits, smoothed) + z * lse**2
        weight = keep * options.get("sample_weight", 1.0)
        weighted = jnp.where(weight == 0, 0.0, weight * losses)
        if reduction == "none":
            return weighted
        return weighted.sum() / options.get("normalizer", weight.sum() if reduction == "mean" else 1.0)

    if not options:  # the plain case is Optax's integer-label cross-entropy itself
        expected = optax.softmax_cross_entropy_with_integer_labels(h @ w.T, t).mean()
        np.testing.assert_allclose(lk.jax.linear_cross_entropy(h, w, t), expected, rtol=1e-13)

    def ours(h, w, b):
        return lk.jax.linear_cross_entropy(h, w, t, bias=b, chunk_size=8, **options)

    np.testing.assert_allclose(ours(h, w, b), reference(h, w, b), rtol=1e-13)
    cotangent = jnp.asarray(rng.uniform(0.5, 1.5, size=37)) if reduction == "none" else jnp.ones(())
    got = jax.vjp(jax.jit(ours), h, w, b)[1](cotangent)
    want = jax.vjp(reference, h, w, b)[1](cotangent)
    for a, c in zip(got, want):
        if c is not None:
            np.testing.assert_allclose(a, c, rtol=1e-11, atol=1e-15)
