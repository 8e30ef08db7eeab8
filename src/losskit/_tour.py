"""``losskit tour``: every registered loss computed on a sample of its own inputs."""

from __future__ import annotations

import numpy as np

from . import registry
from ._samples import sample_inputs


#: The tour's columns.
HEADER = ("loss", "task", "predictions", "activation", "cost", "|grad|")


def tour(seed: int = 0) -> list[tuple[str, ...]]:
    """One row per loss (the columns of ``HEADER``): task, input space, output activation, cost on a sample
    and the norm of its gradient (all predictions); ``losskit list`` shows the properties."""
    rng = np.random.default_rng(seed)
    rows = []
    for name in registry.list_losses():
        loss = registry.get(name)
        value, grads = loss.value_and_grad(*sample_inputs(loss, rng, n=16))
        grads = grads if isinstance(grads, tuple) else (grads,)
        norm = np.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
        info = loss.info
        rows.append((name, info.task, info.input_space, info.activation, f"{float(value):.4f}", f"{norm:.4f}"))
    return rows
