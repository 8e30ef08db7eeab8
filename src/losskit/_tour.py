"""``losskit tour``: every registered loss computed on a sample of its own inputs."""

from __future__ import annotations

import numpy as np

from . import registry
from ._samples import sample_inputs


def tour(seed: int = 0) -> str:
    """A table of every loss: task, input space, cost on a sample and the norm of its gradient (all predictions)."""
    rng = np.random.default_rng(seed)
    header = ("loss", "task", "y_pred is", "activation", "cost", "|grad|", "properties")
    rows = [header]
    for name in registry.list_losses():
        loss = registry.get(name)
        value, grads = loss.value_and_grad(*sample_inputs(loss, rng, n=16))
        grads = grads if isinstance(grads, tuple) else (grads,)
        norm = np.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
        info = loss.info
        rows.append(
            (
                name,
                info.task,
                info.input_space,
                info.activation,
                f"{float(value):.4f}",
                f"{norm:.4f}",
                ", ".join(info.properties),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

