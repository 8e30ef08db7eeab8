r"""Keras 3: ``lk.keras.Loss("huber", delta=2.0)`` is a ``keras.losses.Loss`` for ``model.compile(loss=...)``.

It works on Keras's jax, torch and tensorflow backends: Keras hands it the backend's tensors, and
losskit computes on them with its closed-form gradient attached (``jax.custom_jvp``, PyTorch's backward,
``tf.custom_gradient``).

Its ``call`` returns one value per sample (the first axis): the loss of each example, averaged over the
sample's other axes, as Keras's built-in losses average the last one. Keras then weighs and reduces
them (``reduction=``, ``"sum_over_batch_size"`` by default), so ``sample_weight`` is applied once, by
Keras: do not also give the losskit loss a weight.

- ``reduction="sum_over_batch_size"`` (Keras's default): :math:`\sum_i w_i \ell_i / N`, Keras's rule;
- ``reduction="mean_with_sample_weight"``: :math:`\sum_i w_i \ell_i / \sum_i w_i`, losskit's weighted mean.

Keras casts every target to the loss's float dtype; targets that are class ids (or group labels) are
cast back to integers before losskit sees them. A loss with several predictions (``gaussian_nll``: the
mean and the variance) takes ``y_pred`` as a list or tuple of them, in the loss's order, as a model with
several outputs gives it; several targets likewise in ``y_true``.

``get_config()`` holds the losskit loss's plain config dict and ``from_config`` rebuilds it with
``lk.get``: nothing is evaluated, and a saved model loads without ``custom_objects``.

>>> import numpy as np, losskit as lk
>>> loss = lk.keras.Loss("huber", delta=2.0)
>>> loss.get_config()["loss"]
{'name': 'huber', 'delta': 2.0, 'reduction': 'mean'}
>>> float(loss(np.zeros((2, 1)), np.array([[1.0], [4.0]])))  # (0.5 + 2 * (4 - 1)) / 2
3.25
"""

from __future__ import annotations

import keras

from ..errors import InputTypeError
from ..registry import get

#: The kinds of target Keras turns into floats and losskit wants as integers.
_INTEGER_KINDS = ("class_index",)


@keras.saving.register_keras_serializable(package="losskit", name="Loss")
class Loss(keras.losses.Loss):
    """A losskit loss as a Keras loss.

    Parameters
    ----------
    loss : str, dict or losskit.Loss
        Anything ``lk.get`` takes: a name, a spec string, a config dict or a loss object.
    name : str, optional
        Keras's name for the loss (the losskit name by default).
    reduction : str
        Keras's reduction of the per-sample values (see the module docstring).
    dtype : str, optional
        Keras's compute dtype for the loss (``keras.backend.floatx()`` by default).
    **hyperparameters
        The loss's hyperparameters, as ``lk.get(loss, **hyperparameters)``.
    """

    def __init__(self, loss, *, name=None, reduction="sum_over_batch_size", dtype=None, **hyperparameters):
        self.loss = get(loss, **hyperparameters)
        super().__init__(name=name or self.loss.info.name, reduction=reduction, dtype=dtype)
        specs = self.loss.info.inputs
        self._targets = [i for i, s in enumerate(specs) if not s.is_prediction and not s.optional]
        self._predictions = [i for i, s in enumerate(specs) if s.is_prediction]

    def call(self, y_true, y_pred):
        specs = self.loss.info.inputs
        arrays = [None] * len(specs)
        for positions, given in ((self._targets, y_true), (self._predictions, y_pred)):
            given = tuple(given) if isinstance(given, list | tuple) else (given,)
            if len(given) != len(positions):
                names = ", ".join(specs[i].name for i in positions)
                raise InputTypeError(
                    f"{self.loss.info.name} takes {len(positions)} arrays here ({names}); got {len(given)}."
                )
            for i, array in zip(positions, given):
                arrays[i] = keras.ops.cast(array, "int32") if specs[i].kind in _INTEGER_KINDS else array
        losses = self.loss(*arrays, reduction="none")
        if len(losses.shape) > 1:
            losses = keras.ops.mean(losses, axis=tuple(range(1, len(losses.shape))))
        return losses

    def get_config(self):
        return {**super().get_config(), "loss": self.loss.config()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(config.pop("loss"), **config)

    def __repr__(self):
        return f"losskit.keras.Loss({self.loss!r}, reduction={self.reduction!r})"


__all__ = ["Loss"]
