"""Misuse and hostile input through the Python API: each case a user met, refused clearly or computed right.

Reference values are PyTorch's and Keras's own classes on the same inputs, or closed forms evaluated
with mpmath at 50 digits.
"""

from __future__ import annotations

import subprocess
import sys

import mpmath
import numpy as np
import pytest
import torch

import losskit as lk
from losskit import fast

mpmath.mp.dps = 50


# --- arguments in the wrong place ---------------------------------------------------------------------


def test_probabilities_of_exact_0s_and_1s_against_fractional_targets_are_taken_for_swapped_arguments():
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0])
    labels = torch.tensor([1.0, 0.0, 1.0, 1.0])
    with pytest.raises(lk.InputError, match=r"Arguments swapped\? losskit takes \(y_true, y_pred\)"):
        lk.binary_cross_entropy(torch.sigmoid(logits), labels)  # PyTorch's order
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), labels)
    torch.testing.assert_close(lk.binary_cross_entropy(labels, torch.sigmoid(logits)), expected)
    rows = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(lk.InputError, match="swapped"):
        lk.categorical_cross_entropy(rows, np.eye(2))
    with pytest.raises(lk.InputError, match="swapped"):
        lk.dice(np.full((2, 4), 0.3), np.ones((2, 4)))


def test_integer_logits_against_real_targets_suggest_swapped_arguments():
    with pytest.raises(lk.InputTypeError, match="swapped"):
        lk.sparse_softmax_cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 2]))
    with pytest.raises(lk.InputTypeError, match="Cast it first"):  # a real mistake of dtype, not of order
        lk.mse(np.zeros(3), np.arange(3))


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "categorical_cross_entropy"])
@pytest.mark.parametrize("row", [[1.0, 1.0], [0.0, 0.0], [0.5, 0.2]])
def test_soft_target_rows_must_sum_to_one(loss, row):
    with pytest.raises(lk.InputError, match="summing to 1 .* use sigmoid_cross_entropy"):
        lk.get(loss)(np.array([row, [0.0, 1.0]]), np.array([[0.5, 0.5], [0.3, 0.7]]))


def test_reduction_none_is_refused_because_keras_means_no_reduction_by_it():
    for call in (lambda: lk.mse([1.0], [0.0], reduction=None), lambda: lk.MSE()([1.0], [0.0], reduction=None),
                 lambda: lk.MSE().grad([1.0], [0.0], reduction=None)):  # fmt: skip
        with pytest.raises(lk.InputError, match=r"got None\. .*reduction='none' .* 'mean'"):
            call()
    assert float(lk.MSE(reduction="sum")([0.0, 0.0], [1.0, 2.0])) == 5.0  # the loss's own reduction by default


def test_an_out_buffer_that_overlaps_another_input_is_refused():
    y_true = np.eye(4)[[0, 1, 2]]
    logits = np.random.default_rng(0).normal(size=(3, 4))
    with pytest.raises(lk.InputError, match="out shares memory with an input other than y_pred"):
        fast.value_and_grad(lk.SoftmaxCrossEntropy(), y_true, logits, out=y_true)
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor([0, 1, 2]))
    value, grad = fast.value_and_grad(lk.SoftmaxCrossEntropy(), y_true, logits, out=logits)
    assert np.isclose(value, float(expected)) and grad is not None  # out=y_pred itself is allowed


# --- values the checks cannot read ------------------------------------------------------------------


def test_unchecked_class_ids_outside_the_classes_give_nan_for_their_example_only():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    logits = jnp.array([[0.0, 1.0, 2.0], [0.5, 0.0, -1.0], [1.0, 1.0, 1.0]])
    per_example = jax.jit(lambda t, z: lk.sparse_softmax_cross_entropy(t, z, reduction="none"))
    out = np.asarray(per_example(jnp.array([-1, 0, 3]), logits))
    expected = torch.nn.functional.cross_entropy(torch.tensor(np.asarray(logits)), torch.tensor([0, 0, 0]), reduction="none")
    assert np.isnan(out[0]) and np.isnan(out[2])  # -1 is not the last class, 3 is not class 0
    assert np.isclose(out[1], float(expected[1]), rtol=1e-6)
    weighted = jax.jit(lambda t, z, w: lk.sparse_softmax_cross_entropy(t, z, sample_weight=w))
    padded = weighted(jnp.array([-1, 0, 0]), logits, jnp.array([0.0, 1.0, 1.0]))  # padding with weight 0 stays out
    assert np.isclose(float(padded), float(expected[1:].mean()), rtol=1e-6)


def test_meta_tensors_skip_the_value_checks():
    meta = torch.zeros(8, device="meta")
    assert lk.binary_cross_entropy(meta, meta).device.type == "meta"
    ids = torch.zeros(8, dtype=torch.long, device="meta")
    assert lk.sparse_softmax_cross_entropy(ids, torch.zeros(8, 4, device="meta")).shape == ()


def test_numpy_bfloat16_is_computed_in_float32():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    y_true = np.array([0.5, -1.25, 2.0], dtype=ml_dtypes.bfloat16)
    y_pred = np.array([1.0, 0.75, -0.5], dtype=ml_dtypes.bfloat16)
    value = lk.mse(y_true, y_pred)
    assert value.dtype == ml_dtypes.bfloat16
    expected = torch.nn.functional.mse_loss(torch.tensor(y_pred.astype(np.float32)), torch.tensor(y_true.astype(np.float32)))
    assert float(value) == float(expected.to(torch.bfloat16))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lk.mse([[1.0, 2.0], [3.0]], [1.0, 2.0]), "y_true must be an array, or nested lists of numbers of one rectangular shape"),
        (lambda: lk.softmax_cross_entropy(np.zeros((2, 0)), np.zeros((2, 0))), r"shape \(2, 0\) has an event axis of size 0"),
        (lambda: lk.mse([0.0, 0.0], [1.0, 1.0], sample_weight=[1.0, np.nan]), "finite weights >= 0; got 1 value outside it: nan"),
        (lambda: lk.mse([0.0, 0.0], [1.0, 1.0], sample_weight=[1.0, np.inf]), "finite weights >= 0; got 1 value outside it: inf"),
        (lambda: lk.get({"name": "huber", "delta": 10**400}), "delta must be a finite number; got an integer of 401 digits"),
    ],
)  # fmt: skip
def test_hostile_inputs_get_an_input_error(call, message):
    with pytest.raises(lk.InputError, match=message):
        call()


# --- numbers at the edges (differential fuzz against mpmath) -------------------------------------------


def test_rmse_neither_overflows_nor_underflows_where_its_value_is_a_float():
    # RMSE of one residual r is |r| and its gradient sign(r) (the definition, sqrt(r^2) = |r|).
    assert float(lk.rmse([0.0], [-1e155], reduction="none")[0]) == 1e155
    assert float(lk.rmse([0.0], [1e200])) == 1e200
    for tiny in (1e-170, 5e-324):
        assert float(lk.rmse([0.0], [tiny], reduction="sum")) == tiny
        assert float(lk.RMSE().grad([0.0], [tiny], reduction="sum")[0]) == 1.0
    big = np.full(2**17, 1e160)  # the fast path's size: it hands such squares to the reference
    assert float(lk.rmse(np.zeros_like(big), big)) == pytest.approx(1e160, rel=1e-12)


def test_kl_divergence_keeps_a_nan_where_the_target_is_zero():
    assert np.isnan(lk.kl_divergence([[1.0, 0.0]], [[1.0, np.nan]]))
    assert np.isnan(lk.KLDivergence().grad([[1.0, 0.0]], [[1.0, np.nan]])[0, 1])


def _pseudo_huber(r, delta):
    with mpmath.workdps(800):  # (r / delta)^2 down to 1e-640 must survive 1 + x
        r, delta = mpmath.mpf(r), mpmath.mpf(delta)
        return float(delta**2 * (mpmath.sqrt(1 + (r / delta) ** 2) - 1))


@pytest.mark.parametrize("size", [3, 2**17])  # the reference formulas, and the fast path's size
def test_pseudo_huber_holds_at_every_delta_its_constructor_accepts(size):
    for delta, r in [(1e160, 1.0), (1e-300, 1.0), (1e-300, 1e300), (1e-300, np.inf)]:
        y_pred = np.full(size, r)
        value = float(lk.pseudo_huber(np.zeros(size), y_pred, delta=delta))
        expected = np.inf if np.isinf(r) else _pseudo_huber(r, delta)
        assert value == pytest.approx(expected, rel=1e-12), (delta, r)
    f32 = np.ones(size, dtype=np.float32)
    assert float(lk.pseudo_huber(np.zeros_like(f32), f32, delta=1e30)) == pytest.approx(_pseudo_huber(1.0, 1e30))


def test_huber_takes_a_delta_beyond_float32_on_torch():
    scores = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    value = lk.huber(torch.zeros(3), scores, delta=1e39)
    exact = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.huber_loss(exact, torch.zeros(3, dtype=torch.float64), delta=1e39)
    assert float(value.detach()) == pytest.approx(float(expected.detach()))
    value.backward()
    expected.backward()
    np.testing.assert_allclose(scores.grad.numpy(), exact.grad.numpy(), rtol=1e-6)  # autodiff meets no inf * 0


def test_label_smoothing_on_huge_equal_logits_in_float32():
    logits = np.full((4096, 5), 1e38, dtype=np.float32)  # five equal logits: the loss is log 5 whatever the smoothing
    for mode in ("always", "never"):
        with lk.fast_path(mode):
            value = lk.sparse_softmax_cross_entropy(np.zeros(4096, dtype=int), logits, label_smoothing=0.1)
        assert float(value) == pytest.approx(float(mpmath.log(5)), rel=1e-6)


def test_autodiff_agrees_with_the_closed_form_at_kinks():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    y_true, y_pred = np.array([0.0, 1.0]), np.array([0.0, 2.0])  # mae at r = 0: the lowest-norm subgradient, 0
    by_jax = jax.grad(lambda p: lk.mae(jnp.asarray(y_true), p))(jnp.asarray(y_pred))
    np.testing.assert_array_equal(np.asarray(by_jax), lk.MAE().grad(y_true, y_pred))
    labels, scores = torch.tensor([1.0, -1.0]), torch.tensor([1.0, -1.0], requires_grad=True)  # margins exactly 1
    lk.hinge(labels, scores).backward()
    np.testing.assert_array_equal(scores.grad.numpy(), lk.Hinge().grad(labels.numpy(), scores.detach().numpy()))


EXTREME_AUTODIFF = [
    ("binary_cross_entropy", [0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]),  # the logs clamped at -100
    ("pseudo_huber", [0.0] * 6, [0.0, 0.5, 40.0, 1e30, np.inf, -np.inf]),  # sqrt(1 + x^2) past 1e18
    ("log_cosh", [0.0] * 6, [0.0, 0.5, 40.0, 1e30, np.inf, -np.inf]),  # expm1 capped at 30
    ("sigmoid_cross_entropy", [1.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 0.5, 40.0, 1e30, np.inf, -np.inf]),
]


@pytest.mark.parametrize("name, y, p", EXTREME_AUTODIFF)
def test_autodiff_of_the_formulas_is_the_closed_form_at_the_extremes(name, y, p):
    """Autodiff through the formulas (``fast_path("never")``) in JAX and PyTorch where a formula switches form,
    clamps or meets infinity: the closed form's numbers, never the ``0 * inf`` of an unused branch."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    loss, y, p = lk.get(name), np.array(y), np.array(p)
    closed_form = loss.grad(y, p, reduction="sum")
    with lk.fast_path("never"), lk.validation(False), jax.enable_x64(True):
        by_jax = jax.grad(lambda q: loss(jnp.asarray(y), q, reduction="sum"))(jnp.asarray(p))
        scores = torch.tensor(p, requires_grad=True)
        loss(torch.tensor(y), scores, reduction="sum").backward()
    np.testing.assert_allclose(np.asarray(by_jax), closed_form, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(scores.grad.numpy(), closed_form, rtol=1e-12, atol=1e-300)


def test_autodiff_gives_zero_gradients_to_examples_of_weight_zero():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    weights = [0.0, 1.0]
    closed_form = lk.MSE().grad(np.zeros(2), np.array([0.0, 1.0]), sample_weight=weights)  # [0, 2]
    scores = torch.tensor([float("nan"), 1.0], requires_grad=True)  # NaN padding
    lk.mse(torch.zeros(2), scores, sample_weight=torch.tensor(weights)).backward()
    np.testing.assert_array_equal(scores.grad.numpy(), closed_form)
    by_jax = jax.grad(lambda p: lk.mse(jnp.zeros(2), p, sample_weight=jnp.array(weights)))(jnp.array([jnp.inf, 1.0]))
    np.testing.assert_array_equal(np.asarray(by_jax), closed_form)


# --- names people bring with them -----------------------------------------------------------------------


def _pair(rng, shape=(6,)):
    return rng.uniform(0.5, 3.0, size=shape), rng.normal(size=shape)


TORCH_NAMES = {  # PyTorch class -> (losskit call on (y_true, *predictions), torch call on the same inputs)
    "MSELoss": ("regression", torch.nn.MSELoss()),
    "L1Loss": ("regression", torch.nn.L1Loss()),
    "HuberLoss": ("regression", torch.nn.HuberLoss()),
    "SmoothL1Loss": ("regression", torch.nn.SmoothL1Loss()),
    "BCEWithLogitsLoss": ("binary_logits", torch.nn.BCEWithLogitsLoss()),
    "BCELoss": ("binary_probabilities", torch.nn.BCELoss()),
    "CrossEntropyLoss": ("class_ids", torch.nn.CrossEntropyLoss()),
    "NLLLoss": ("class_ids_log", torch.nn.NLLLoss()),
    "PoissonNLLLoss": ("counts", torch.nn.PoissonNLLLoss()),
}


def _inputs(kind, rng):
    if kind == "regression":
        return rng.normal(size=6), rng.normal(size=6)
    if kind == "binary_logits":
        return rng.integers(0, 2, 6).astype(float), rng.normal(size=6)
    if kind == "binary_probabilities":
        return rng.integers(0, 2, 6).astype(float), rng.uniform(0.05, 0.95, 6)
    if kind == "class_ids":
        return rng.integers(0, 4, 6), rng.normal(size=(6, 4))
    if kind == "class_ids_log":
        z = rng.normal(size=(6, 4))
        return rng.integers(0, 4, 6), z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return rng.poisson(2.0, 6).astype(float), rng.normal(size=6)


@pytest.mark.parametrize("name", sorted(TORCH_NAMES))
def test_pytorch_class_names_resolve_to_the_loss_that_computes_the_same(name):
    kind, module = TORCH_NAMES[name]
    y_true, y_pred = _inputs(kind, np.random.default_rng(len(name)))
    expected = module(torch.tensor(y_pred), torch.tensor(y_true))
    assert float(lk.get(name)(y_true, y_pred)) == pytest.approx(float(expected), rel=1e-12)


KERAS_NAMES = {
    "MeanSquaredError": "regression", "MeanAbsoluteError": "regression", "Huber": "regression", "LogCosh": "regression",
    "MeanSquaredLogarithmicError": "positive", "BinaryCrossentropy": "binary_probabilities", "Hinge": "binary_probabilities",
    "SquaredHinge": "binary_probabilities", "Poisson": "positive",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(KERAS_NAMES))
def test_keras_class_names_and_configs_resolve_to_the_loss_that_computes_the_same(name):
    keras = pytest.importorskip("keras")
    kind = KERAS_NAMES[name]
    rng = np.random.default_rng(len(name))
    y_true, y_pred = _inputs(kind, rng) if kind != "positive" else (rng.uniform(0.5, 3, 6), rng.uniform(0.5, 3, 6))
    expected = float(getattr(keras.losses, name)()(y_true.astype(np.float32), y_pred.astype(np.float32)))
    assert float(lk.get(name)(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    config = keras.losses.serialize(getattr(keras.losses, name)())
    assert float(lk.get(config)(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)


def test_a_keras_config_from_logits_picks_the_loss_on_logits():
    keras = pytest.importorskip("keras")
    y_true, logits = (a[:, None] for a in _inputs("binary_logits", np.random.default_rng(7)))  # Keras averages the last axis
    peer = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum")
    expected = float(peer(y_true.astype(np.float32), logits.astype(np.float32)))
    loss = lk.get(keras.losses.serialize(peer))
    assert loss == lk.SigmoidCrossEntropy(label_smoothing=0.1, reduction="sum")
    assert float(loss(y_true, logits)) == pytest.approx(expected, rel=1e-5)


def test_spec_strings_read_back_into_the_loss_they_name():
    from losskit.lab.candidates import label

    for name in lk.list_losses():
        loss = lk.testing.with_examples(lk.get(name))
        hyperparameters = {k: v for k, v in loss.config().items() if k not in ("name", "reduction", "axis")}
        assert lk.get(label(loss)) == lk.get(name, **hyperparameters)
    with pytest.raises(lk.InputError, match="delta is given twice"):
        lk.get("huber(delta=2, delta=3)")


def test_names_of_losses_not_yet_here_say_so_and_nonsense_suggests_nothing():
    for name in ("CategoricalHinge", "MultiLabelMarginLoss", "CosineSimilarity", "LovaszHingeLoss"):
        with pytest.raises(lk.InputError, match=f"'{name}' is not in losskit yet; meanwhile: "):
            lk.get(name)
    with pytest.raises(lk.InputError, match=r"unknown loss 'qwerty'\. lk\.list_losses"):
        lk.get("qwerty")
    with pytest.raises(lk.InputError, match="Did you mean 'huber'"):
        lk.get("hubber")


#: The warning torch.compile gives at each of array_api_compat's cached type checks it traces (PyTorch 2.13).
DYNAMO_WARNING = (
    "Dynamo detected a call to a `functools.lru_cache`-wrapped function at '_helpers.py:369'. Dynamo ignores the "
    "cache wrapper and directly traces the wrapped function. Silent incorrectness is only a *potential* risk, not "
    "something we have observed. Enable TORCH_LOGS=+dynamo for a DEBUG stack trace."
)


def test_importing_losskit_silences_torch_compiles_warning_about_cached_type_checks():
    code = (
        "import warnings, losskit\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        f"    warnings.warn({DYNAMO_WARNING!r}, UserWarning)\n"
        "    warnings.warn('another warning', UserWarning)\n"
        "print([str(w.message) for w in caught])\n"
    )
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "['another warning']", done.stderr  # only that one warning is silenced


def test_a_traced_hyperparameter_is_told_to_be_static():
    jax = pytest.importorskip("jax")
    with pytest.raises(lk.InputError, match="delta is a hyperparameter, .* static_argnames"):
        jax.jit(lambda a, b, d: lk.huber(a, b, delta=d))(jax.numpy.zeros(2), jax.numpy.ones(2), 2.0)
    huber = jax.jit(lambda a, b, d: lk.huber(a, b, delta=d), static_argnames="d")
    assert float(huber(jax.numpy.zeros(2), jax.numpy.full(2, 3.0), d=2.0)) == pytest.approx(
        float(torch.nn.functional.huber_loss(torch.full((2,), 3.0), torch.zeros(2), delta=2.0))
    )
