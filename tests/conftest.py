"""One backend fixture for every test: NumPy, PyTorch, JAX and array-api-strict arrays."""

from __future__ import annotations

from dataclasses import dataclass

import array_api_strict
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

jax.config.update("jax_enable_x64", True)


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
        return array_api_strict.asarray(x)

    def to_numpy(self, x):
        if self.name == "torch":
            return x.detach().cpu().numpy()
        if self.name == "array_api_strict":
            return np.from_dlpack(x)
        return np.asarray(x)

    def is_native(self, x) -> bool:
        kinds = {
            "numpy": np.ndarray,
            "torch": torch.Tensor,
            "jax": jax.Array,
            "array_api_strict": type(array_api_strict.asarray(0.0)),
        }
        return isinstance(x, kinds[self.name])


BACKENDS = [Backend("numpy"), Backend("torch"), Backend("jax"), Backend("array_api_strict")]


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request) -> Backend:
    return request.param
