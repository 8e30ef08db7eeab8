"""Keras 3: ``lk.keras.Loss`` in ``model.compile`` and ``model.fit`` on the jax, torch and tensorflow backends.

Keras picks its backend once per process, so the fits of each backend but this process's (JAX) run in a process
of their own: the same model (one head per loss, each initialised to zeros, so the logits start at the kink 0),
data, seed, weights and optimiser, trained once with Keras's built-in losses (the reference) and once with
losskit's, must give the same losses and weights. The built-ins: ``Huber``, ``BinaryCrossentropy(from_logits=True)``
and ``SparseCategoricalCrossentropy(from_logits=True)``, the last with integer labels (which Keras casts to float
and losskit casts back).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import losskit as lk  # noqa: E402

FITS = textwrap.dedent('''
    import json
    import numpy as np
    import keras
    import losskit as lk

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 3)).astype("float32")
    weight = rng.uniform(0.5, 2.0, size=48).astype("float32")
    targets = [(x @ [1.0, -2.0, 0.5] + rng.standard_t(2, 48)).astype("float32")[:, None],
               (rng.random((48, 1)) < 0.4).astype("float32"), rng.integers(0, 3, 48)]
    builtins = [keras.losses.Huber(delta=1.5), keras.losses.BinaryCrossentropy(from_logits=True),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True)]
    ours = [lk.keras.Loss("huber", delta=1.5), lk.keras.Loss("sigmoid_cross_entropy"),
            lk.keras.Loss("sparse_softmax_cross_entropy")]

    def fit(losses):
        """One model with a head per loss (one compiled step for the three), the heads' weights at zero."""
        seeded = keras.initializers.GlorotUniform(seed=0)  # not keras.utils.set_random_seed, which imports TensorFlow
        inputs = keras.Input((3,))
        hidden = keras.layers.Dense(4, activation="tanh", kernel_initializer=seeded)(inputs)
        heads = [keras.layers.Dense(units, kernel_initializer="zeros", name=name)(hidden)
                 for units, name in ((1, "huber"), (1, "binary"), (3, "classes"))]  # fmt: skip
        model = keras.Model(inputs, heads)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=losses)
        history = model.fit(x, targets, sample_weight=weight, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return history.history, [keras.ops.convert_to_numpy(v).tolist() for v in model.weights]

    def fits():
        return {"keras": fit(builtins), "losskit": fit(ours)}
''')


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_fit_matches_the_keras_builtin_losses(backend):
    if keras.backend.backend() == backend:  # this process's Keras (JAX, tests/conftest.py): no process to start
        namespace = {}
        exec(FITS, namespace)
        results = json.loads(json.dumps(namespace["fits"]()))
    else:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        code = FITS + "\nprint(json.dumps(fits()))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(done.stdout.strip().splitlines()[-1])
    (keras_history, keras_weights), (our_history, our_weights) = results["keras"], results["losskit"]
    assert len(keras_history) == 4  # the total and each head's loss, per epoch
    for name, values in keras_history.items():
        np.testing.assert_allclose(our_history[name], values, rtol=1e-5, err_msg=f"{backend}: {name} per epoch")
    for ours, theirs in zip(our_weights, keras_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=f"{backend}: weights")


def test_per_sample_values_and_keras_reductions():
    """``call`` gives one value per sample (the mean over its other axes); Keras weighs and reduces them:
    ``"mean_with_sample_weight"`` is losskit's weighted mean, the default divides by the batch size."""
    rng = np.random.default_rng(1)
    y, p, w = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)), rng.uniform(0.0, 2.0, 6)
    loss = lk.keras.Loss("huber", delta=0.5, reduction="mean_with_sample_weight")
    per_sample = keras.ops.convert_to_numpy(loss.call(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(p)))
    np.testing.assert_allclose(per_sample, lk.huber(y, p, delta=0.5, reduction="none").mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(loss(y, p, sample_weight=w), lk.huber(y, p, delta=0.5, sample_weight=w), rtol=1e-6)
    default = lk.keras.Loss(lk.Huber(delta=0.5))
    np.testing.assert_allclose(default(y, p, sample_weight=w), np.sum(w * per_sample) / 6, rtol=1e-6)


def test_integer_labels_cast_to_float_by_keras_are_cast_back():
    ids, logits = np.array([0, 2, 1]), np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 3.0], [0.0, 2.0, 0.0]])
    loss = lk.keras.Loss("sparse_softmax_cross_entropy", label_smoothing=0.1)  # Keras hands float32 labels to call
    np.testing.assert_allclose(loss(ids, logits), lk.sparse_softmax_cross_entropy(ids, logits, label_smoothing=0.1),
                               rtol=1e-6)  # fmt: skip


def test_several_predictions_come_as_a_list():
    y, mean, variance = np.array([[1.0], [2.0]]), np.array([[0.5], [2.5]]), np.array([[1.0], [0.5]])
    loss = lk.keras.Loss("gaussian_nll")
    np.testing.assert_allclose(loss(y, [mean, variance]), lk.gaussian_nll(y, mean, variance), rtol=1e-6)
    with pytest.raises(lk.InputTypeError, match=r"gaussian_nll takes 2 arrays here \(mean, variance\); got 1"):
        loss(y, mean)


def test_config_round_trips_through_json_and_a_saved_model(tmp_path):
    """``from_config`` rebuilds the loss with ``lk.get`` from plain data; a saved model loads without
    ``custom_objects`` (the class is registered with Keras)."""
    for given in (lk.keras.Loss("softmax_focal", gamma=1.0, alpha=(1.0, 2.0, 0.5)),
                  lk.keras.Loss("0.5 dice + 0.5 binary_cross_entropy", reduction="sum")):  # fmt: skip
        config = json.loads(json.dumps(keras.losses.serialize(given)))
        rebuilt = keras.losses.deserialize(config)
        assert type(rebuilt) is lk.keras.Loss and rebuilt.loss == given.loss and rebuilt.reduction == given.reduction
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=lk.keras.Loss("softmax_focal", gamma=1.0))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.loss.loss == lk.SoftmaxFocal(gamma=1.0)
