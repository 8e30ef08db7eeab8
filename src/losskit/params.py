"""Hyperparameters, declared once on a loss class: default, check and meaning.

>>> from losskit.params import Param
>>> from losskit._checks import positive
>>> delta = Param(1.0, positive, "float > 0", "Where the quadratic part ends.", example=2.5)

The base (``losskit.Loss``) reads the declarations of a class and its parents to build the
keyword-only constructor, the function form's signature, ``config()``, ``repr`` and the Parameters
section of the docstring. Values are checked when the loss is built and cannot be changed after:
``lk.get(loss, delta=2.0)`` makes a new one.
"""

from __future__ import annotations


class Param:
    """One hyperparameter of a loss.

    Parameters
    ----------
    default
        The value when the keyword is not given.
    check : callable, optional
        ``check(loss_name, name, value)`` returns the value to store or raises ``lk.InputError``.
    kind : str
        The type and range, for the docstring ("float > 0").
    doc : str
        What it does, for the docstring.
    example : optional
        A valid value other than the default that changes the formula: the contract runs every loss
        with its hyperparameters at their examples too (``losskit.testing.with_examples``). None
        only for settings that change no number, such as the class axis.
    """

    def __init__(self, default, check=None, kind: str = "", doc: str = "", *, example=None):
        self.default, self.check, self.kind, self.doc, self.example = default, check, kind, doc, example
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj._hyperparameters[self.name]

    def __set__(self, obj, value):
        raise AttributeError(
            f"{self.name} is fixed when the loss is built; make a new one with lk.get(loss, {self.name}=...)."
        )

    def validate(self, loss_name: str, value):
        return value if self.check is None else self.check(loss_name, self.name, value)

    def docstring(self) -> str:
        head = f"{self.name} : {self.kind}, default {self.default!r}" if self.kind else f"{self.name}, default {self.default!r}"
        return f"{head}\n    {self.doc}" if self.doc else head


def declared(cls) -> dict[str, Param]:
    """The hyperparameters of a loss class, its own first, then its parents', ``reduction`` last."""
    params: dict[str, Param] = {}
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, Param) and name not in params:
                params[name] = value
    if "reduction" in params:
        params["reduction"] = params.pop("reduction")
    return params


def as_array(loss, xp, name: str, like):
    """A hyperparameter as an array of ``like``'s namespace, dtype and device (a number stays a number)."""
    value = getattr(loss, name)
    if not isinstance(value, tuple):
        return value
    from ._xp import device

    return xp.asarray(value, dtype=like.dtype, device=device(like))
