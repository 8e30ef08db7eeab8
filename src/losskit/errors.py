"""The library's one error class for bad input, and its dtype variant.

Every check of what a user passes (arrays, shapes, dtypes, domains, weights, hyperparameters, names,
files) raises :class:`InputError`. It subclasses ``ValueError``, so code that caught ``ValueError``
keeps working; a wrong dtype or a wrong keyword raises :class:`InputTypeError`, which is also a
``TypeError``. The command line tells a user's mistake from a bug by this class alone.

>>> import losskit as lk
>>> try:
...     lk.mse([1.0, 2.0], [1.0])
... except lk.InputError as error:
...     print(type(error).__name__, isinstance(error, ValueError))
InputError True
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the argument, what was expected and what was given."""


class InputTypeError(InputError, TypeError):
    """Bad input of the wrong type: a dtype, a Python type or a keyword the call does not take."""


# Shown as ``losskit.InputError`` in tracebacks: the name users import.
InputError.__module__ = InputTypeError.__module__ = "losskit"
