"""The contract every registered loss meets, on every backend (DESIGN.md sections 1, 2 and 8).

Inputs come from each loss's declared domains (``losskit._samples``), away from kinks. The
references here are mathematical identities: finite differences, autodiff, and the reduction and
weight laws of DESIGN.md section 2 checked against the same loss on transformed batches.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
import torch

import losskit as lk
from losskit import fast_path
from losskit._samples import sample_inputs

NAMES = lk.list_losses()
REDUCTIONS = ("mean", "sum", "none")
N, C = 5, 3


def inputs(name, seed=0, n=N):
    loss = lk.get(name)
    y_true, y_pred = sample_inputs(loss, np.random.default_rng(seed), n=n, classes=C)
    return loss, y_true, y_pred


def weights(seed=1, n=N):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=n)


def value_np(backend, loss, y_true, y_pred, **kw):
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    return backend.to_numpy(loss(backend.asarray(y_true), backend.asarray(y_pred), **kw))


def grad_np(backend, loss, y_true, y_pred, **kw):
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    return backend.to_numpy(loss.grad(backend.asarray(y_true), backend.asarray(y_pred), **kw))


def finite_difference(f, x, h=1e-4):
    """Fourth-order central differences of the scalar ``f`` at every entry of ``x``."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        def at(step):
            shifted = x.copy()
            shifted[index] += step
            return f(shifted)

        grad[index] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return grad


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_grad_matches_finite_differences(backend, name, reduction, weighted):
    loss, y_true, y_pred = inputs(name)
    kw = {"reduction": reduction, **({"sample_weight": weights()} if weighted else {})}
    numeric = finite_difference(lambda p: value_np(backend, loss, y_true, p, **kw).sum(), y_pred)
    np.testing.assert_allclose(grad_np(backend, loss, y_true, y_pred, **kw), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_torch_autograd_matches_grad(name, reduction):
    loss, y_true, y_pred = inputs(name)
    w = torch.from_numpy(weights())
    p = torch.tensor(y_pred, requires_grad=True)
    with fast_path("never"):  # autograd through the reference formulas, not the closed-form backward
        loss(torch.from_numpy(y_true), p, sample_weight=w, reduction=reduction).sum().backward()
    closed = loss.grad(torch.from_numpy(y_true), torch.from_numpy(y_pred), sample_weight=w, reduction=reduction)
    torch.testing.assert_close(p.grad, closed, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_jax_autodiff_matches_grad(name, reduction):
    loss, y_true, y_pred = inputs(name)
    t, p, w = jax.numpy.asarray(y_true), jax.numpy.asarray(y_pred), jax.numpy.asarray(weights())
    auto = jax.grad(lambda q: loss(t, q, sample_weight=w, reduction=reduction).sum())(p)
    np.testing.assert_allclose(auto, loss.grad(t, p, sample_weight=w, reduction=reduction), rtol=1e-12, atol=1e-14)


#: A non-default setting of every hyperparameter that changes the formula.
NON_DEFAULT = {
    "huber": {"delta": 0.3},
    "pseudo_huber": {"delta": 2.5},
    "sigmoid_cross_entropy": {"pos_weight": 3.0, "label_smoothing": 0.1},
    "softmax_cross_entropy": {"label_smoothing": 0.2},
    "sparse_softmax_cross_entropy": {"label_smoothing": 0.2, "ignore_index": 1},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_non_default_hyperparameters_grad(name, reduction):
    """Finite differences and PyTorch autograd agree with the closed form away from the defaults."""
    loss = lk.get(name, **NON_DEFAULT[name])
    y_true, y_pred = sample_inputs(loss, np.random.default_rng(3), n=N, classes=C)
    kw = {"reduction": reduction, "sample_weight": weights()}
    closed = loss.grad(y_true, y_pred, **kw)
    numeric = finite_difference(lambda p: np.sum(loss(y_true, p, **kw)), y_pred)
    np.testing.assert_allclose(closed, numeric, rtol=1e-7, atol=1e-9)
    p = torch.tensor(y_pred, requires_grad=True)
    with fast_path("never"):
        loss(torch.from_numpy(y_true), p, **{**kw, "sample_weight": torch.from_numpy(weights())}).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), closed, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in NAMES if lk.get(n).has_class_axis])
def test_class_axis_first(backend, name):
    """axis=0 on the transposed inputs gives the value of axis=-1, and the transposed gradient."""
    last, y_true, y_pred = inputs(name)
    first = lk.get(name, axis=0)
    t = y_true if last.has_class_ids else y_true.T.copy()
    kw = {"reduction": "none", "sample_weight": weights()}
    np.testing.assert_allclose(
        value_np(backend, first, t, y_pred.T.copy(), **kw), value_np(backend, last, y_true, y_pred, **kw), rtol=1e-12
    )
    np.testing.assert_allclose(
        grad_np(backend, first, t, y_pred.T.copy(), **kw).T, grad_np(backend, last, y_true, y_pred, **kw), rtol=1e-12
    )


@pytest.mark.parametrize("name", NAMES)
def test_value_and_grad_equals_value_and_grad(backend, name):
    loss, y_true, y_pred = inputs(name)
    for reduction in REDUCTIONS:
        kw = {"reduction": reduction, "sample_weight": weights()}
        both = loss.value_and_grad(backend.asarray(y_true), backend.asarray(y_pred), sample_weight=backend.asarray(weights()), reduction=reduction)
        np.testing.assert_array_equal(backend.to_numpy(both[0]), value_np(backend, loss, y_true, y_pred, **kw))
        np.testing.assert_array_equal(backend.to_numpy(both[1]), grad_np(backend, loss, y_true, y_pred, **kw))


@pytest.mark.parametrize("name", NAMES)
def test_unit_weights_change_nothing(backend, name):
    loss, y_true, y_pred = inputs(name)
    for reduction in REDUCTIONS:
        for f in (value_np, grad_np):
            plain = f(backend, loss, y_true, y_pred, reduction=reduction)
            ones = f(backend, loss, y_true, y_pred, reduction=reduction, sample_weight=np.ones(N))
            np.testing.assert_allclose(ones, plain, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_zero_weights_drop_rows(backend, name):
    loss, y_true, y_pred = inputs(name)
    w = np.array([1.0, 0.0, 2.0, 0.0, 0.5])
    kept = w > 0
    for reduction in ("mean", "sum"):
        full = value_np(backend, loss, y_true, y_pred, sample_weight=w, reduction=reduction)
        subset = value_np(backend, loss, y_true[kept], y_pred[kept], sample_weight=w[kept], reduction=reduction)
        np.testing.assert_allclose(full, subset, rtol=1e-13)
        grad = grad_np(backend, loss, y_true, y_pred, sample_weight=w, reduction=reduction)
        np.testing.assert_array_equal(grad[~kept], 0.0)
        np.testing.assert_allclose(
            grad[kept], grad_np(backend, loss, y_true[kept], y_pred[kept], sample_weight=w[kept], reduction=reduction),
            rtol=1e-13,
        )


@pytest.mark.parametrize("name", NAMES)
def test_integer_weights_repeat_rows(backend, name):
    loss, y_true, y_pred = inputs(name)
    w = np.array([2, 1, 3, 1, 2])
    repeated = np.repeat(np.arange(N), w)
    for reduction in ("mean", "sum"):
        weighted = value_np(backend, loss, y_true, y_pred, sample_weight=w, reduction=reduction)
        copies = value_np(backend, loss, y_true[repeated], y_pred[repeated], reduction=reduction)
        np.testing.assert_allclose(weighted, copies, rtol=1e-13)
        grad_copies = grad_np(backend, loss, y_true[repeated], y_pred[repeated], reduction=reduction)
        summed = np.zeros_like(y_pred)
        np.add.at(summed, repeated, grad_copies)
        np.testing.assert_allclose(grad_np(backend, loss, y_true, y_pred, sample_weight=w, reduction=reduction), summed, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_mean_is_scale_invariant_in_weights(backend, name):
    loss, y_true, y_pred = inputs(name)
    w = weights()
    for f in (value_np, grad_np):
        np.testing.assert_allclose(f(backend, loss, y_true, y_pred, sample_weight=7.5 * w), f(backend, loss, y_true, y_pred, sample_weight=w), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_zero_total_weight_gives_zero(backend, name):
    loss, y_true, y_pred = inputs(name)
    value, grad = loss.value_and_grad(backend.asarray(y_true), backend.asarray(y_pred), sample_weight=backend.asarray(np.zeros(N)))
    assert float(backend.to_numpy(value)) == 0.0
    np.testing.assert_array_equal(backend.to_numpy(grad), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_normalizer_divides_the_sum(backend, name):
    loss, y_true, y_pred = inputs(name)
    w = weights()
    # mean is the sum over the total weight; sum is the sum over 1 (RMSE takes the root after either)
    for f in (value_np, grad_np):
        np.testing.assert_allclose(f(backend, loss, y_true, y_pred, sample_weight=w, normalizer=float(w.sum())), f(backend, loss, y_true, y_pred, sample_weight=w), rtol=1e-13)
        np.testing.assert_allclose(f(backend, loss, y_true, y_pred, normalizer=1), f(backend, loss, y_true, y_pred, reduction="sum"), rtol=1e-13)
        np.testing.assert_allclose(f(backend, loss, y_true, y_pred, normalizer=N), f(backend, loss, y_true, y_pred), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_none_weights_each_example(backend, name):
    loss, y_true, y_pred = inputs(name)
    w = weights()
    plain = value_np(backend, loss, y_true, y_pred, reduction="none")
    np.testing.assert_allclose(value_np(backend, loss, y_true, y_pred, reduction="none", sample_weight=w), w * plain, rtol=1e-14)
    assert plain.shape == ((N,) if not loss.has_class_axis else (N,))
    if name != "rmse":  # rmse's mean is a root of a mean, not a mean of the per-example values
        np.testing.assert_allclose(value_np(backend, loss, y_true, y_pred), plain.mean(), rtol=1e-13)
        np.testing.assert_allclose(value_np(backend, loss, y_true, y_pred, reduction="sum"), plain.sum(), rtol=1e-13)
    else:
        np.testing.assert_allclose(value_np(backend, loss, y_true, y_pred) ** 2, (plain**2).mean(), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_permuting_examples(backend, name):
    loss, y_true, y_pred = inputs(name)
    order = np.array([3, 0, 4, 1, 2])
    w = weights()
    for reduction in ("mean", "sum"):
        np.testing.assert_allclose(
            value_np(backend, loss, y_true[order], y_pred[order], sample_weight=w[order], reduction=reduction),
            value_np(backend, loss, y_true, y_pred, sample_weight=w, reduction=reduction),
            rtol=1e-13,
        )
    np.testing.assert_allclose(
        grad_np(backend, loss, y_true[order], y_pred[order], sample_weight=w[order]),
        grad_np(backend, loss, y_true, y_pred, sample_weight=w)[order],
        rtol=1e-13,
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name", NAMES)
def test_library_dtype_and_shape_are_kept(backend, name, dtype):
    if dtype == "float16" and backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no float16")
    loss, y_true, y_pred = inputs(name)
    t, p = backend.asarray(y_true), backend.asarray(y_pred, dtype)
    value, grad = loss.value_and_grad(t, p)
    none = loss(t, p, reduction="none")
    for array, shape in ((value, ()), (grad, y_pred.shape), (none, (N,))):
        assert backend.is_native(array)
        assert str(array.dtype).endswith(dtype)
        assert tuple(array.shape) == shape
    reference = value_np(backend, loss, y_true, y_pred)
    rtol = {"float64": 1e-14, "float32": 1e-5, "float16": 3e-3}[dtype]
    np.testing.assert_allclose(backend.to_numpy(value).astype(np.float64), reference, rtol=rtol)


@pytest.mark.parametrize("name", NAMES)
def test_jax_jit_traces_without_value_checks(name):
    loss, y_true, y_pred = inputs(name)
    t, p, w = (jax.numpy.asarray(a) for a in (y_true, y_pred, weights()))
    jitted = jax.jit(lambda t, p, w: loss.value_and_grad(t, p, sample_weight=w))
    value, grad = jitted(t, p, w)
    np.testing.assert_allclose(value, loss(y_true, y_pred, sample_weight=weights()), rtol=1e-13)
    np.testing.assert_allclose(grad, loss.grad(y_true, y_pred, sample_weight=weights()), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_torch_compile_full_graph(name):
    torch._dynamo.reset()
    loss, y_true, y_pred = inputs(name)
    compiled = torch.compile(lambda t, p: loss(t, p), fullgraph=True, backend="aot_eager")
    value = compiled(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    np.testing.assert_allclose(value.numpy(), loss(y_true, y_pred), rtol=1e-13)
