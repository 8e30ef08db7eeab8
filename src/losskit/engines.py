"""Engines: implementations of a loss other than its reference formulas, picked per call.

The reference formulas of a loss (its ``_math``, reduced by the call's ``Reduction``) are the
definition and serve every call. After a call's inputs are prepared, the base asks this table
whether an engine serves it better, by the array library of the first prediction:

- ``numpy``: ``losskit.fast``, fused and multi-threaded value and gradient;
- ``torch``: ``losskit.integrations.autograd``, the closed-form gradient as PyTorch's backward;
- ``jax``: ``losskit.integrations.jax_engine``, the closed-form gradient attached with ``jax.custom_jvp``
  (it serves traced calls too: ``jax.jit``, ``jax.grad`` and ``jax.vmap`` trace it);
- ``tensorflow``: ``losskit.integrations.tf_engine``, the closed-form gradient attached with
  ``tf.custom_gradient`` (also inside ``tf.function`` and under XLA).

Each engine module has ``serve(loss, batch, order)`` returning a :class:`Result` or None (the next
engine, then the reference), and keys its own implementations by registry name. Modules are
imported by name on first use, so the base imports none of them and no import cycle exists.

The switch ``set_fast_path("auto" | "always" | "never")`` (or ``with fast_path(...)``, or the
environment variable ``LOSSKIT_FAST_PATH``) applies to every engine: ``"never"`` leaves every call to
the reference formulas; ``"auto"`` lets engines serve inputs of at least ``AUTO_MIN_SIZE`` elements.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from typing import NamedTuple

from ._xp import is_traced

MODES = ("auto", "always", "never")

_default = os.environ.get("LOSSKIT_FAST_PATH", "auto")
_MODE = contextvars.ContextVar("losskit_fast_path", default=_default if _default in MODES else "auto")

#: In "auto" mode, inputs smaller than this (elements of the first prediction) take the reference
#: formulas: below it, an engine's overhead costs more than it saves (benchmarks/run.py --threshold).
AUTO_MIN_SIZE = 1 << 15

#: Engine modules per array library, tried in order.
TABLE = {
    "numpy": ("losskit.fast",),
    "torch": ("losskit.integrations.autograd",),
    "jaxlib": ("losskit.integrations.jax_engine",),  # concrete jax arrays
    "jax": ("losskit.integrations.jax_engine",),  # jax's tracers
    "tensorflow": ("losskit.integrations.tf_engine",),
}
#: Libraries whose engines serve traced calls (their engine is made of the library's own traceable operations).
TRACEABLE = ("jax", "jaxlib", "tensorflow")


class Result(NamedTuple):
    """What an engine (or the reference) computes, in the batch's compute layout.

    ``value`` is the reduced value; ``grads`` and ``hessians`` hold one array per prediction, or None.
    """

    value: object
    grads: tuple | None = None
    hessians: tuple | None = None


def _check_mode(mode) -> str:
    if mode not in MODES:
        from .errors import InputError

        raise InputError(f"fast path mode must be one of {MODES}; got {mode!r}.")
    return mode


def set_fast_path(mode: str) -> str:
    """Set the engine mode ("auto", "always" or "never") for this thread and context; return the previous one."""
    previous = _MODE.get()
    _MODE.set(_check_mode(mode))
    return previous


def get_fast_path() -> str:
    """The current engine mode."""
    return _MODE.get()


@contextlib.contextmanager
def fast_path(mode: str):
    """Context manager: the engine mode inside its block.

    >>> import numpy as np, losskit as lk
    >>> with lk.fast_path("always"):
    ...     float(lk.mse(np.zeros(3), np.arange(3.0)))
    1.6666666666666667
    """
    token = _MODE.set(_check_mode(mode))
    try:
        yield
    finally:
        _MODE.reset(token)


def wanted(size: int) -> bool:
    """Whether the mode lets an engine serve a call whose first prediction has ``size`` elements."""
    mode = _MODE.get()
    return mode == "always" or (mode == "auto" and size >= AUTO_MIN_SIZE)


def library(array) -> str:
    """The array library of an array, by the top-level module of its type."""
    return type(array).__module__.split(".", 1)[0]


def serve(loss, batch, order: int) -> Result | None:
    """The result of the first engine that serves this call, or None for the reference formulas.

    No engine but JAX's serves a call while a framework traces it (``torch.compile``): the reference
    formulas are what gets traced.
    """
    first = batch.arrays[batch.predictions[0]]
    name = library(first)
    modules = TABLE.get(name, ())
    if not modules or (is_traced(first) and name not in TRACEABLE):
        return None
    for module in modules:
        result = importlib.import_module(module).serve(loss, batch, order)
        if result is not None:
            return result
    return None
