"""The fast path (losskit.fast) against the reference path, which is the definition.

Every supported loss, every reduction, with and without weights (per example and per element), with
``normalizer``, in float32 and float64, on ordinary inputs and on the extreme ones (NaN, +-inf,
probabilities 0 and 1, empty batches, every row ignored). The fast path is forced with
``fast_path("always")``; sizes are small so that the test stays quick (each kernel compiles once per
dtype), but large enough to cross several tiles and both threads.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import losskit as lk
from losskit import fast
from losskit.fast import _config, _impl, fast_path

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ELEMENTWISE = ["mse", "mae", "rmse", "msle", "huber", "pseudo_huber", "log_cosh", "hinge", "squared_hinge",
               "binary_cross_entropy", "sigmoid_cross_entropy", "smooth_l1", "hinge_embedding"]  # fmt: skip
ROWWISE = ["softmax_cross_entropy", "sparse_softmax_cross_entropy", "categorical_cross_entropy",
           "sparse_categorical_cross_entropy", "kl_divergence"]  # fmt: skip
HYPER = {
    "huber": {"delta": 0.7},
    "smooth_l1": {"beta": 0.7},
    "hinge_embedding": {"margin": 1.5},
    "pseudo_huber": {"delta": 1.5},
    "sigmoid_cross_entropy": {"pos_weight": 2.0, "label_smoothing": 0.1},
    "softmax_cross_entropy": {"label_smoothing": 0.1},
    "sparse_softmax_cross_entropy": {"label_smoothing": 0.1, "ignore_index": -100},
}
TOL = {"float32": dict(rtol=2e-5, atol=1e-30), "float64": dict(rtol=1e-11, atol=1e-300)}


def _inputs(name, dtype, rng, shape):
    """Ordinary inputs in the loss's domain, with some extreme entries mixed in."""
    n_classes = shape[-1]
    if name in ("hinge", "squared_hinge"):
        y_true = rng.choice([-1.0, 0.0, 1.0], size=shape)
        y_pred = rng.normal(size=shape) * 2
    elif name == "hinge_embedding":
        y_true = rng.choice([-1.0, 0.0, 1.0], size=shape)
        y_pred = np.abs(rng.normal(size=shape)) * 2
        y_pred.flat[::13] = 1.5  # at the margin
        y_pred.flat[1::17] = 0.0
    elif name in ("binary_cross_entropy",):
        y_true = rng.uniform(size=shape)
        y_pred = rng.uniform(size=shape)
        y_pred.flat[::11] = 0.0
        y_pred.flat[5::13] = 1.0
    elif name == "sigmoid_cross_entropy":
        y_true = rng.choice([0.0, 1.0, 0.3], size=shape)
        y_pred = rng.normal(size=shape) * 4
        y_pred.flat[::17] = math.inf
        y_pred.flat[3::19] = -math.inf
        y_pred.flat[7::23] = 1e4
    elif name == "msle":
        y_true = rng.exponential(size=shape) - 0.5
        y_pred = rng.exponential(size=shape) - 0.5
    elif name in ("softmax_cross_entropy",):
        y_true = rng.dirichlet(np.ones(n_classes), size=shape[:-1])
        y_true[::3] = np.eye(n_classes)[rng.integers(0, n_classes, size=y_true[::3].shape[:-1])]
        y_pred = rng.normal(size=shape) * 3
    elif name == "sparse_softmax_cross_entropy":
        y_true = rng.integers(0, n_classes, size=shape[:-1])
        y_true[::5] = -100
        y_pred = rng.normal(size=shape) * 3
    elif name in ("categorical_cross_entropy", "kl_divergence"):
        y_true = rng.dirichlet(np.ones(n_classes), size=shape[:-1])
        y_true[::4, 0] = 0.0
        y_true /= y_true.sum(-1, keepdims=True)
        y_pred = rng.dirichlet(np.ones(n_classes), size=shape[:-1])
        y_pred[::3, 0] = 0.0
        y_pred /= y_pred.sum(-1, keepdims=True)
    elif name == "sparse_categorical_cross_entropy":
        y_true = rng.integers(0, n_classes, size=shape[:-1])
        y_pred = rng.dirichlet(np.ones(n_classes), size=shape[:-1])
        y_pred[::3, 0] = 0.0
        y_pred /= y_pred.sum(-1, keepdims=True)
    else:
        y_true = rng.normal(size=shape)
        y_pred = rng.normal(size=shape) * 3
        y_pred.flat[::29] = 1e20 if name != "log_cosh" else 1e4
        y_pred.flat[1::31] = y_true.flat[1::31]  # zero residuals: the kinks
    if name in ROWWISE and name.startswith("sparse"):
        return y_true, y_pred.astype(dtype)
    return y_true.astype(dtype), y_pred.astype(dtype)


def _both(loss, y_true, y_pred, method="value_and_grad", **call):
    """``(loss.method(...), loss(...))`` by the reference formulas, then by the fast path."""
    with fast_path("never"):
        reference = getattr(loss, method)(y_true, y_pred, **call), loss(y_true, y_pred, **call)
    with fast_path("always"):
        fast_result = getattr(loss, method)(y_true, y_pred, **call), loss(y_true, y_pred, **call)
    return reference, fast_result


def _compare(reference, fast_result, dtype, what):
    (v0, g0), c0 = reference
    (v1, g1), c1 = fast_result
    for got, expected, part in ((v1, v0, "value"), (g1, g0, "grad"), (c1, c0, "call")):
        _assert_close(got, expected, dtype, f"{what}: {part}")


def _assert_close(got, expected, dtype, what):
    assert type(got) is type(expected) and got.dtype == expected.dtype and got.shape == expected.shape, what
    tol = dict(TOL[dtype])
    finite = np.abs(expected[np.isfinite(expected)])
    if finite.size:  # differences that cancel (softmax - target) are judged on the array's scale
        tol["atol"] = max(tol["atol"], tol["rtol"] * 0.1 * float(finite.max()))
    np.testing.assert_allclose(got, expected, err_msg=what, **tol)


def _calls(name, shape, dtype, rng):
    losses_shape = shape[:-1] if name in ROWWISE else shape
    w_full = rng.uniform(size=losses_shape).astype(dtype)
    w_full.flat[::7] = 0.0
    w_rows = rng.uniform(size=losses_shape[:1]).astype(dtype)
    w_rows[::3] = 0.0
    calls = []
    for reduction in ("mean", "sum", "none"):
        calls += [{"reduction": reduction}, {"reduction": reduction, "sample_weight": w_full},
                  {"reduction": reduction, "sample_weight": w_rows}]  # fmt: skip
    calls += [{"normalizer": 37}, {"sample_weight": w_full, "normalizer": 5.5}, {"sample_weight": np.zeros_like(w_rows)}]
    return calls


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ELEMENTWISE + ROWWISE)
def test_fast_matches_reference(name, dtype, monkeypatch):
    rng = np.random.default_rng(abs(hash((name, dtype))) % 2**32)
    shape = (97, 13) if name in ROWWISE else (301, 257)
    # several tiles (the last one short) on both threads
    monkeypatch.setattr(_impl, "ROW_TILE", 13 * 10)
    monkeypatch.setattr(_impl, "MIN_PER_THREAD", 13 * 20)
    loss = lk.get(name, **HYPER.get(name, {}))
    y_true, y_pred = _inputs(name, dtype, rng, shape)
    assert fast.supported(loss)
    calls = _calls(name, shape, dtype, rng)
    if dtype == "float32" and name in ELEMENTWISE:
        # each weight layout is a kernel of its own, compiled per dtype (seconds each on a fresh machine): the
        # layouts are checked in float64, float32 arithmetic without weights
        calls = [call for call in calls if "sample_weight" not in call]
    for call in calls:
        reference, fast_result = _both(loss, y_true, y_pred, **call)
        _compare(reference, fast_result, dtype, f"{name} {dtype} {sorted(call)} {call.get('reduction')}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ELEMENTWISE + ROWWISE)
def test_fast_nan_and_inf(name, dtype):
    """NaN in y_pred gives NaN exactly where the reference gives it; so does inf."""
    rng = np.random.default_rng(1)
    shape = (40, 5) if name in ROWWISE else (3000,)
    loss = lk.get(name, **HYPER.get(name, {}))
    y_true, y_pred = _inputs(name, dtype, rng, shape)
    y_pred = y_pred.copy()
    y_pred.flat[::9] = np.nan
    if name not in ("binary_cross_entropy", "categorical_cross_entropy", "sparse_categorical_cross_entropy",
                    "kl_divergence", "msle"):  # fmt: skip
        y_pred.flat[4::10] = np.inf
        y_pred.flat[6::10] = -np.inf
    calls = [{"reduction": "none"}, {"reduction": "mean"}, {"sample_weight": (rng.uniform(size=shape[:1]) > 0.5)}]
    if dtype == "float32" and name in ELEMENTWISE:
        calls = calls[:2]  # a weight layout is a kernel of its own per dtype (as in test_fast_matches_reference)
    with lk.validation(False):
        for call in calls:
            reference, fast_result = _both(loss, y_true, y_pred, **call)
            _compare(reference, fast_result, dtype, f"{name} {call}")
            (v0, g0), _ = reference
            (v1, g1), _ = fast_result
            np.testing.assert_array_equal(np.isnan(g1), np.isnan(g0))
            np.testing.assert_array_equal(np.isnan(v1), np.isnan(v0))


@pytest.mark.parametrize("name", ELEMENTWISE + ROWWISE)
def test_fast_empty_batch(name):
    loss = lk.get(name, **HYPER.get(name, {}))
    shape = (0, 3) if name in ROWWISE else (0,)
    y_true = np.zeros(shape[:1], dtype=np.int64) if name.startswith("sparse") else np.zeros(shape)
    for reduction in ("mean", "sum", "none"):
        reference, fast_result = _both(loss, y_true, np.zeros(shape), reduction=reduction)
        _compare(reference, fast_result, "float64", name)


def test_fast_all_ignored_and_extreme_logits():
    loss = lk.SparseSoftmaxCrossEntropy(ignore_index=-100)
    logits = np.array([[np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0], [-np.inf, -np.inf, -np.inf], [1e4, 0, -1e4]] * 5)
    ids = np.array([0, 2, 1, 2] * 5)
    for y in (ids, np.full_like(ids, -100)):
        for reduction in ("mean", "none"):
            reference, fast_result = _both(loss, y, logits, reduction=reduction)
            _compare(reference, fast_result, "float64", "ssce")
    dense = lk.SoftmaxCrossEntropy(label_smoothing=0.2)
    reference, fast_result = _both(dense, np.eye(3)[ids], logits, reduction="none")
    _compare(reference, fast_result, "float64", "smce")


def test_float16_goes_through_float32():
    y = np.linspace(-3, 3, 5000).astype(np.float16)
    reference, fast_result = _both(lk.Huber(), np.zeros_like(y), y)
    _compare(reference, fast_result, "float32", "huber float16")
    assert fast_result[0][1].dtype == np.float16


def test_class_axis_not_last_and_non_contiguous():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(4, 7, 6))
    ids = rng.integers(0, 7, size=(4, 6))
    loss = lk.SparseSoftmaxCrossEntropy(axis=1)
    reference, fast_result = _both(loss, ids, logits)
    _compare(reference, fast_result, "float64", "axis 1")
    y = rng.normal(size=(50, 40))
    reference, fast_result = _both(lk.MSE(), y.T, y[::-1].T)
    _compare(reference, fast_result, "float64", "non-contiguous")


def test_in_place_gradient_over_the_logits():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(64, 50)).astype(np.float32)
    ids = rng.integers(0, 50, size=64)
    loss = lk.SparseSoftmaxCrossEntropy(label_smoothing=0.05)
    v0, g0 = loss.value_and_grad(ids, logits)
    buffer = logits.copy()
    v1, g1 = fast.value_and_grad(loss, ids, buffer, out=buffer)
    assert g1 is buffer or np.shares_memory(g1, buffer)
    np.testing.assert_allclose(v1, v0, rtol=1e-6)
    np.testing.assert_allclose(g1, g0, rtol=1e-5, atol=1e-9)
    y = rng.normal(size=1000)
    buffer = y.copy()
    v1, g1 = fast.value_and_grad("huber", np.zeros(1000), buffer, out=buffer)
    np.testing.assert_allclose(g1, lk.Huber().grad(np.zeros(1000), y), rtol=1e-12)
    with pytest.raises(ValueError, match="out must be"):
        fast.value_and_grad(loss, ids, logits, out=np.empty((3, 3), np.float32))


def test_switch():
    assert fast.get_fast_path() in fast.MODES
    previous = fast.set_fast_path("never")
    try:
        assert fast.get_fast_path() == "never"
        with fast_path("always"):
            assert fast.get_fast_path() == "always"
        assert fast.get_fast_path() == "never"
    finally:
        fast.set_fast_path(previous)
    with pytest.raises(ValueError, match="must be one of"):
        fast.set_fast_path("sometimes")


def test_auto_takes_the_reference_path_for_small_inputs(monkeypatch):
    calls = []
    monkeypatch.setattr(fast, "_impls", lambda: calls.append(1) or {})
    with fast_path("auto"):
        lk.mse(np.zeros(100), np.ones(100))
    assert calls == []
    with fast_path("auto"):
        lk.mse(np.zeros(fast.AUTO_MIN_SIZE), np.ones(fast.AUTO_MIN_SIZE))
    assert calls


def test_other_libraries_never_take_it():
    torch = pytest.importorskip("torch")
    with fast_path("always"):
        value = lk.mse(torch.zeros(10), torch.ones(10))
    assert isinstance(value, torch.Tensor)


def test_without_numba_the_tiled_path_serves(monkeypatch):
    monkeypatch.setattr(_config, "_NUMBA", False)
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.normal(size=5000), rng.normal(size=5000)
    reference, fast_result = _both(lk.Huber(), y_true, y_pred, sample_weight=rng.uniform(size=5000))
    _compare(reference, fast_result, "float64", "no numba")


@pytest.mark.parametrize(
    "value, off", [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("false", False),
                   ("", False), ("no", False)],
)  # fmt: skip
def test_losskit_disable_numba_reads_yes_and_no(monkeypatch, value, off):
    monkeypatch.setattr(_config, "_NUMBA", None)
    monkeypatch.setenv("LOSSKIT_DISABLE_NUMBA", value)
    assert _config.numba_available() is (not off)


SPLIT = ["log_cosh", "msle", "binary_cross_entropy", "sigmoid_cross_entropy"]


def _clean_inputs(name, dtype, rng, n):
    """Inputs with no extreme entries, so that every tile takes the split kernels (NumPy stage + numba)."""
    if name == "binary_cross_entropy":
        y_true, y_pred = rng.uniform(size=n), rng.uniform(0.001, 0.999, size=n)
    elif name == "sigmoid_cross_entropy":
        y_true, y_pred = rng.choice([0.0, 1.0, 0.3], size=n), rng.normal(size=n) * 8
    elif name == "msle":
        y_true, y_pred = rng.exponential(size=n) - 0.5, rng.exponential(size=n) - 0.5
    else:
        y_true, y_pred = rng.normal(size=n), rng.normal(size=n) * 3
        y_pred[::997] = 40.0  # log_cosh: the |r| > 30 branch
        y_pred[1::991] = y_true[1::991]
    return y_true.astype(dtype), y_pred.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", SPLIT)
@pytest.mark.parametrize("hyper", [{}, {"pos_weight": 2.5}, {"label_smoothing": 0.2}])
def test_split_kernels_match_reference(name, dtype, hyper):
    if hyper and name != "sigmoid_cross_entropy":
        pytest.skip("hyperparameters of sigmoid_cross_entropy only")
    rng = np.random.default_rng(7)
    n = 3 * fast.TILE + 123
    loss = lk.get(name, **hyper)
    y_true, y_pred = _clean_inputs(name, dtype, rng, n)
    w = rng.uniform(size=n).astype(dtype)
    w[::5] = 0
    for call in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"sample_weight": w}, {"normalizer": 3.0},
                 {"sample_weight": w, "reduction": "none"}):  # fmt: skip
        reference, fast_result = _both(loss, y_true, y_pred, **call)
        _compare(reference, fast_result, dtype, f"{name} {hyper} {call}")
    # One bad entry sends its tile (only) to the reference: NaN stays where the reference puts it.
    y_bad = y_pred.copy()
    y_bad[fast.TILE + 5] = np.nan
    second = {"sigmoid_cross_entropy": -np.inf, "binary_cross_entropy": 0.0}.get(name, y_bad[9])
    y_bad[2 * fast.TILE + 9] = second
    with lk.validation(False):
        reference, fast_result = _both(loss, y_true, y_bad, reduction="none")
    _compare(reference, fast_result, dtype, f"{name} bad tile")
    np.testing.assert_array_equal(np.isnan(fast_result[0][1]), np.isnan(reference[0][1]))


@pytest.mark.parametrize("name", SPLIT)
def test_split_kernels_in_place_with_a_tile_left_to_the_reference(name):
    # The gradient overwrites y_pred; a tile with a NaN is recomputed by the reference formula, which
    # must still read that tile's original predictions.
    rng = np.random.default_rng(11)
    n = 2 * fast.TILE + 77
    loss = lk.get(name)
    y_true, y_pred = _clean_inputs(name, "float64", rng, n)
    y_pred[fast.TILE + 3] = np.nan
    with lk.validation(False):
        expected = loss.grad(y_true, y_pred, reduction="sum")
        buffer = y_pred.copy()
        value, grad = fast.value_and_grad(loss, y_true, buffer, out=buffer, reduction="sum")
    assert np.shares_memory(grad, buffer) and np.isnan(value)
    np.testing.assert_allclose(grad, expected, rtol=1e-11, atol=1e-300)


#: Row losses the engine serves with their own formula on tiles of rows (no kernel of their own), or with an
#: elementwise kernel over the whole array where each row's loss is a mean of elementwise losses.
TILED_ROWS = sorted(name for name, impl in _impl.IMPLS.items()
                    if impl.__qualname__.startswith(("_tiled_rows", "_rows_of_elements")) and name not in ROWWISE)


@pytest.mark.parametrize("name", TILED_ROWS)
def test_tiled_row_losses_match_reference(name, monkeypatch):
    """Several tiles of rows on both threads, every reduction and weight layout, and a NaN row."""
    from losskit._samples import sample_inputs

    monkeypatch.setattr(_impl, "ROW_TILE", 5 * 10)
    monkeypatch.setattr(_impl, "MIN_PER_THREAD", 5 * 20)
    loss = lk.get(name)
    rng = np.random.default_rng(5)
    y_true, y_pred = sample_inputs(loss, rng, n=97, classes=5)
    assert fast.supported(loss)
    for call in _calls("softmax_cross_entropy", y_pred.shape, "float64", rng):
        reference, fast_result = _both(loss, y_true, y_pred, **call)
        _compare(reference, fast_result, "float64", f"{name} {call}")
    bad = y_pred.copy()
    bad[60, 1] = np.nan
    with lk.validation(False):
        reference, fast_result = _both(loss, y_true, bad, reduction="none")
    np.testing.assert_array_equal(np.isnan(fast_result[0][0]), np.isnan(reference[0][0]))


#: Losses of several arrays the engine serves with their own formula on tiles of examples.
TILED_EXAMPLES = sorted(name for name, impl in _impl.IMPLS.items() if impl is _impl._tiled_examples)
#: Losses of several arrays with a kernel of their own, and tiles of examples without numba.
PAIR_KERNELS = sorted(name for name, impl in _impl.IMPLS.items() if impl is _impl._cosine_embedding)


@pytest.mark.parametrize("name, numba", [(name, True) for name in TILED_EXAMPLES + PAIR_KERNELS]
                         + [(name, False) for name in PAIR_KERNELS])  # fmt: skip
def test_tiled_example_losses_match_reference(name, numba, monkeypatch):
    """Several tiles of examples on both threads, every reduction and weight layout, every prediction's
    gradient, and a NaN example; a shared (broadcast) input is left to the reference."""
    from losskit._samples import sample_inputs

    if not numba:
        monkeypatch.setattr(_impl, "numba_available", lambda: False)
    monkeypatch.setattr(_impl, "TILE", 50)
    monkeypatch.setattr(_impl, "MIN_PER_THREAD", 100)
    loss = lk.get(name)
    rng = np.random.default_rng(6)
    arrays = sample_inputs(loss, rng, n=301, classes=5)
    assert fast.supported(loss)
    served = []
    real = _impl.IMPLS[name]
    monkeypatch.setitem(_impl.IMPLS, name, lambda *args: served.append(real(*args)) or served[-1])
    for call in _calls("mse", (301,), "float64", rng):
        with fast_path("never"):
            expected = loss.value_and_grad(*arrays, **call)
        with fast_path("always"):
            got = loss.value_and_grad(*arrays, **call)
        assert served.pop() is not None
        for g, e in zip((got[0], *_as_tuple(got[1])), (expected[0], *_as_tuple(expected[1])), strict=True):
            _assert_close(g, e, "float64", f"{name} {call}")
    bad = [a.copy() for a in arrays]
    bad[loss.info.inputs.index(loss.info.predictions[0])][150] = np.nan
    dropped = np.ones(301)
    dropped[150] = 0.0  # a weight of 0 drops the NaN example: gradient 0 there
    for call in ({"reduction": "none"}, {"sample_weight": dropped}):
        with lk.validation(False), fast_path("never"):
            expected = loss.value_and_grad(*bad, **call)
        with lk.validation(False), fast_path("always"):
            got = loss.value_and_grad(*bad, **call)
        np.testing.assert_array_equal(np.isnan(got[0]), np.isnan(expected[0]))
        for g, e in zip(_as_tuple(got[1]), _as_tuple(expected[1])):
            np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
            np.testing.assert_array_equal(g == 0, e == 0)
    if name == "gaussian_nll":  # one variance shared by every example: the reference takes it
        with fast_path("always"):
            loss.value_and_grad(arrays[0], arrays[1], np.float64(2.0))
        assert served.pop() is None


def _as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


# --- value, gradient and Hessian in one pass: tests generated from the kernel table -------------------

#: The losses with a Hessian kernel, read off the engine's table.
HESSIAN_LOSSES = sorted(name for name, impl in _impl.IMPLS.items() if getattr(impl, "hessian", False))
#: Settings that reach the other kernels of a loss (its hyperparameters choose among them), or the reference.
HESSIAN_SETTINGS = {
    "smooth_l1": [{"beta": 0.0}],
    "general_robust": [{"alpha": 0.0}, {"alpha": -2.0}, {"alpha": -np.inf}, {"alpha": 2.0}, {"alpha": -7.5}],
    "tweedie_deviance": [{"power": 1.02}, {"power": 3.0}, {"power": -1.0}, {"power": 0.0}],
    "log_tweedie_deviance": [{"power": 1.98}, {"power": 1.2}],
    "log_poisson_nll": [{"full": True}],
    "sigmoid_focal": [{"gamma": 0.5, "alpha": 0.25}, {"gamma": 0.0}],
    "asymmetric": [{"clip": 0.0, "gamma_neg": 0.5}],
    "pseudo_huber": [{"delta": 3.0}, {"delta": 1e-160}],  # the square of 1e-160 underflows: the reference
    "sigmoid_cross_entropy": [{"pos_weight": 2.5, "label_smoothing": 0.1}],
}
HESSIAN_CASES = [(name, hyper) for name in HESSIAN_LOSSES for hyper in [{}, *HESSIAN_SETTINGS.get(name, [])]]


def _hessian_inputs(loss, dtype, rng, n):
    """Targets and predictions inside the loss's domains, with exact kinks and, on real predictions, far ones."""
    spec_true, spec_pred = loss.info.inputs
    low, high = spec_true.domain.bounds
    if hasattr(spec_true.domain, "values"):  # labels
        y_true = rng.choice(spec_true.domain.values, size=n)
    elif (low, high) == (0.0, 1.0):  # 0/1 labels, soft ones in the first tile only (which leaves the kernel)
        y_true = (rng.random(n) < 0.3).astype(float)
        y_true[:40] = rng.random(40)
    elif low < 0:
        y_true = rng.normal(size=n) * 2
    elif getattr(spec_true.domain, "open_low", False):
        y_true = rng.gamma(2.0, 1.5, size=n)
    else:
        y_true = rng.poisson(2.0, size=n).astype(float)
    if spec_pred.domain.bounds[0] >= 0:
        y_pred = rng.gamma(2.0, 1.5, size=n)
    else:
        y_pred = rng.normal(size=n) * 3 + (0 if spec_pred.link.name == "identity" else 0.5)
        y_pred[::101] = y_true[::101]  # zero residuals
        if spec_pred.link.name == "identity":
            y_pred[7::211] = 1e200  # far out: past the square's range, the reference takes the tile
    return y_true.astype(dtype), y_pred.astype(dtype)


def test_every_hessian_kernel_is_reached_by_a_case():
    from losskit.fast._numba import HESSIAN_ELEMENTS, HESSIAN_STAGES

    assert set(HESSIAN_ELEMENTS) == set(HESSIAN_STAGES)
    reached = {_impl.IMPLS[name].params(lk.get(name, **hyper)) for name, hyper in HESSIAN_CASES}
    assert {chosen[0] for chosen in reached if chosen is not None} == set(HESSIAN_ELEMENTS)
    # each case is served (by its kernel, or by the tiled reference) in test_hessian_kernels_match_reference


#: float32 runs once per kind of stage (each kernel compiles once per dtype, a second each on a fresh machine).
FLOAT32_CASES = {("smooth_l1", ()), ("cauchy", ()), ("welsch", ()), ("general_robust", ()), ("log_poisson_nll", ()),
                 ("poisson_deviance", ()), ("tweedie_deviance", ()), ("log_tweedie_deviance", ()), ("exponential", ()),
                 ("sigmoid_focal", ()), ("pseudo_huber", ()), ("sigmoid_cross_entropy", ())}  # fmt: skip
DTYPE_CASES = [(name, hyper, dtype) for name, hyper in HESSIAN_CASES for dtype in ("float64", "float32")
               if dtype == "float64" or (name, tuple(hyper.items())) in FLOAT32_CASES]  # fmt: skip


@pytest.mark.parametrize("name, hyper, dtype", DTYPE_CASES, ids=[f"{n}-{h}-{d}" for n, h, d in DTYPE_CASES])
def test_hessian_kernels_match_reference(name, hyper, dtype):
    """Value, gradient and Hessian diagonal of the kernel against the loss's own formula, over several tiles,
    with every reduction and weights; a NaN sends its tile (only) to the reference."""
    rng = np.random.default_rng(13)
    n = 2 * _impl.HESSIAN_TILE + 321
    loss = lk.get(name, **hyper)
    y_true, y_pred = _hessian_inputs(loss, dtype, rng, n)
    w = rng.uniform(size=n).astype(dtype)
    w[::5] = 0
    from losskit.inputs import prepare

    assert fast.serve(loss, prepare(loss, (y_true, y_pred)), 2, force=True) is not None  # the engine serves it
    for call in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"sample_weight": w, "reduction": "none"},
                 {"sample_weight": w, "normalizer": 3.0}):  # fmt: skip
        ((g0, h0), c0), ((g1, h1), c1) = _both(loss, y_true, y_pred, "grad_and_hessian", **call)
        _compare(((c0, g0), h0), ((c1, g1), h1), dtype, f"{name} {hyper} {call}")
    y_bad = y_pred.copy()
    y_bad[_impl.HESSIAN_TILE + 5] = np.nan
    with lk.validation(False):
        ((g0, h0), c0), ((g1, h1), c1) = _both(loss, y_true, y_bad, "grad_and_hessian", reduction="none")
    _compare(((c0, g0), h0), ((c1, g1), h1), dtype, f"{name} {hyper} bad tile")
    np.testing.assert_array_equal(np.isnan(h1), np.isnan(h0))


def test_concurrent_calls_from_python_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(12)
    cases = [(rng.normal(size=200_000), rng.normal(size=200_000) * (k + 1)) for k in range(6)]
    with fast_path("never"):
        expected = [lk.Huber().value_and_grad(t, p) for t, p in cases]

    def fast_call(case):
        with fast_path("always"):
            return lk.Huber().value_and_grad(*case)

    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(fast_call, cases))
    for (v0, g0), (v1, g1) in zip(expected, got):
        np.testing.assert_allclose(v1, v0, rtol=1e-11)
        np.testing.assert_allclose(g1, g0, rtol=1e-11)
