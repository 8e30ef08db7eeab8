"""TensorFlow: tensors and variables go through losskit's own namespace adapter; tf.GradientTape takes the
closed-form gradient (tf.custom_gradient), eagerly, inside tf.function with unknown batch sizes, and under
XLA. The contract's "tensorflow" check runs every registered loss; here are what it does not cover."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import losskit as lk  # noqa: E402
from losskit.testing import check_tensorflow  # noqa: E402

#: One loss of each family module, and the one compound: XLA compiles each in about a third of a second, so
#: the contract traces every loss with unknown batch sizes and these are also compiled.
ONE_PER_FAMILY = ("rmse", "pinball", "gaussian_nll", "sigmoid_cross_entropy", "sparse_softmax_cross_entropy",
                  "crammer_singer_hinge", "softmax_focal", "sparsemax_loss", "multilabel_soft_margin",
                  "jensen_shannon", "margin_ranking", "cosine_embedding", "ntxent", "listmle", "generalized_dice",
                  "weighted_sum")  # fmt: skip


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_xla_compiles_value_and_closed_form_gradient_with_unknown_batch_sizes(name):
    check_tensorflow(lk.get(name), jit_compile=True)


def test_the_families_are_all_represented():
    modules = {type(lk.get(name)).__module__ for name in lk.list_losses()}
    assert modules == {type(lk.get(name)).__module__ for name in ONE_PER_FAMILY}


def test_a_variable_trains_and_results_are_tensors():
    w = tf.Variable([0.5, -1.0, 2.0], dtype=tf.float32)
    y = np.array([0.0, 1.0, 1.0], dtype=np.float32)  # NumPy targets beside TensorFlow predictions
    with tf.GradientTape() as tape:
        value = lk.sigmoid_cross_entropy(y, w)
    grad = tape.gradient(value, w)
    assert tf.is_tensor(value) and value.dtype == tf.float32 and grad.dtype == tf.float32
    np.testing.assert_allclose(grad.numpy(), lk.sigmoid_cross_entropy.loss_class().grad(y, w.numpy()), rtol=1e-6)
    # TensorFlow's own sigmoid cross-entropy, and its autodiff (logits away from 0), as the reference
    with tf.GradientTape() as tape:
        reference = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=w))
    np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), tape.gradient(reference, w).numpy(), rtol=1e-6)


def test_unknown_batch_sizes_count_from_masks_one_trace():
    """The mean's denominator is a sum of a mask (weights, ignored ids), not a shape: one trace serves every
    batch size, and each mean is NumPy's."""
    loss = lk.SparseSoftmaxCrossEntropy(ignore_index=-100)
    mse = lk.MSE()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, 3], tf.float64),
                                  tf.TensorSpec([None, 1], tf.float64)])  # fmt: skip
    def both(ids, logits, weight):
        return loss(ids, logits), mse(logits, 2.0 * logits, sample_weight=weight)

    rng = np.random.default_rng(0)
    for n in (1, 4, 7):
        ids = rng.integers(0, 3, n)
        ids[0] = -100
        logits, weight = rng.normal(size=(n, 3)), rng.uniform(0.0, 2.0, (n, 1))
        got = both(tf.constant(ids), tf.constant(logits), tf.constant(weight))
        np.testing.assert_allclose(got[0].numpy(), loss(ids, logits), rtol=1e-14)
        np.testing.assert_allclose(got[1].numpy(), mse(logits, 2.0 * logits, sample_weight=weight), rtol=1e-14)
    assert both.experimental_get_tracing_count() == 1


def test_values_are_checked_eagerly_never_while_tracing():
    ids, logits = tf.constant([0, 5]), tf.zeros((2, 3), tf.float64)
    with pytest.raises(lk.InputError, match=r"y_true must be class ids in \[0, 3\)"):
        lk.sparse_softmax_cross_entropy(ids, logits)
    traced = tf.function(lambda i, z: lk.sparse_softmax_cross_entropy(i, z, reduction="none"))
    np.testing.assert_array_equal(traced(ids, logits).numpy(), [np.log(3.0), np.nan])  # NaN, not another class's loss


def test_second_derivatives_are_the_hessian_diagonal():
    loss = lk.SoftmaxCrossEntropy(reduction="sum")
    y = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    z = tf.constant([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]], tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(z)
        with tf.GradientTape() as inner:
            inner.watch(z)
            value = loss(y, z)
        grad = inner.gradient(value, z)
    jacobian = outer.jacobian(grad, z).numpy().reshape(6, 6)
    np.testing.assert_allclose(np.diagonal(jacobian).reshape(2, 3), loss.grad_and_hessian(y, z.numpy())[1], rtol=1e-13)


def test_targets_and_weights_get_autodiff_of_the_formulas():
    z, w, t = tf.constant([0.5, -1.0, 2.0]), tf.constant([1.0, 2.0, 0.0]), tf.constant([1.0, 0.0, 1.0])

    def grads():
        with tf.GradientTape() as tape:
            tape.watch([w, t])
            value = lk.mse(t, z, sample_weight=w)
        return tape.gradient(value, [w, t])

    attached = grads()
    with lk.fast_path("never"):
        formulas = grads()
    for a, b in zip(attached, formulas):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7)


def test_the_process_global_numpy_behaviour_stays_off():
    """losskit's adapter never switches on tf.experimental.numpy's behaviour (which adds NumPy methods such as
    ``reshape`` to every tensor and changes type promotion for the whole process)."""
    assert not hasattr(tf.constant(1.0), "reshape")
    y, z = tf.constant([[0.0, 1.0], [1.0, 0.0]]), tf.constant([[0.5, -1.0], [2.0, 0.0]])
    for name in ("mse", "softmax_cross_entropy", "sigmoid_cross_entropy"):
        lk.get(name)(y, z)
        tf.function(lk.get(name))(y, z)
    assert not hasattr(tf.constant(1.0), "reshape")
