"""One backend fixture for every test: NumPy, PyTorch, JAX, TensorFlow and array-api-strict arrays.

TensorFlow is imported when a test first uses it (its import takes seconds)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import array_api_strict
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

jax.config.update("jax_enable_x64", True)
# Keras picks its backend once per process, at its import: JAX in the test processes (test_keras.py runs
# each backend in a process of its own).
os.environ.setdefault("KERAS_BACKEND", "jax")


@dataclass(frozen=True)
class Backend:
    name: str

    def asarray(self, x, dtype=None):
        """A NumPy array (or nested list) as this backend's array; ``dtype`` is a NumPy dtype name."""
        x = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
        if self.name == "numpy":
            return x
        if self.name == "torch":
            return torch.from_numpy(np.ascontiguousarray(x))
        if self.name == "jax":
            return jnp.asarray(x)
        if self.name == "tensorflow":
            import tensorflow as tf

            return tf.constant(x)
        return array_api_strict.asarray(x)

    def to_numpy(self, x):
        if self.name == "torch":
            return x.detach().cpu().numpy()
        if self.name == "array_api_strict":
            return np.from_dlpack(x)
        if self.name == "tensorflow":
            return x.numpy()
        return np.asarray(x)

    def is_native(self, x) -> bool:
        if self.name == "tensorflow":
            import tensorflow as tf

            return tf.is_tensor(x)
        kinds = {
            "numpy": np.ndarray,
            "torch": torch.Tensor,
            "jax": jax.Array,
            "array_api_strict": type(array_api_strict.asarray(0.0)),
        }
        return isinstance(x, kinds[self.name])


BACKENDS = [Backend("numpy"), Backend("torch"), Backend("jax"), Backend("tensorflow"), Backend("array_api_strict")]


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request) -> Backend:
    return request.param
