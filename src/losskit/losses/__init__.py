"""The catalogue, one module per family. Importing it registers every loss, in this order.

Every class of a family module that is registered is exported here, with its function form; adding a
loss to a family module is all it takes for ``lk.<name>`` and ``lk.<Class>`` to exist.
"""

from __future__ import annotations

# isort: skip_file
from .._base import Loss
from . import regression, robust, probabilistic, binary  # noqa: I001
from . import multiclass, multiclass_reweighted, multiclass_margin, multilabel, divergence, pairs, embedding, batchwise, ranking, segmentation, compound

FAMILIES = (regression, robust, probabilistic, binary, multiclass, multiclass_reweighted, multiclass_margin, multilabel,
            divergence, pairs, embedding, batchwise, ranking, segmentation, compound)  # fmt: skip


def _exports():
    names = []
    for module in FAMILIES:
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Loss) and "info" in vars(value):
                names += [name, value.info.name]
    return names


__all__ = _exports()
globals().update({name: getattr(m, name) for m in FAMILIES for name in __all__ if hasattr(m, name)})
from .compound import compound  # noqa: E402  (the builder of weighted sums)

__all__ += ["compound"]
