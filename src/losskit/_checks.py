"""Input checks: the validation switch, value domains, and the messages they raise.

A domain knows which values it accepts (``bad`` marks the others) and how to say so
(``description``). Value checks run only on concrete arrays and can be switched off.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from dataclasses import dataclass

_VALIDATION = contextvars.ContextVar("losskit_validation", default=True)

#: How far a probability row's sum may stray from 1 before it is refused.
ROW_SUM_TOLERANCE = 1e-3

#: How many offending values an error message shows.
SHOWN = 3


def set_validation(enabled: bool) -> bool:
    """Switch value checks on or off for this thread and context; return the previous setting."""
    previous = _VALIDATION.get()
    _VALIDATION.set(bool(enabled))
    return previous


@contextlib.contextmanager
def validation(enabled: bool):
    """Context manager that switches value checks on or off inside its block.

    >>> import losskit as lk
    >>> with lk.validation(False):
    ...     float(lk.binary_cross_entropy([1.0], [0.5]))
    0.6931471805599453
    """
    token = _VALIDATION.set(bool(enabled))
    try:
        yield
    finally:
        _VALIDATION.reset(token)


def validation_enabled() -> bool:
    return _VALIDATION.get()


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def describe_bad(xp, x, bad, *, rows: bool = False) -> str:
    """Say how many entries of ``x`` are marked ``bad`` and show a few with their positions.

    With ``rows``, ``bad`` marks rows of ``x`` (all axes but the last) and their sums are shown.
    """
    count = int(xp.count_nonzero(bad))
    if bad.ndim == 0:
        return f"got {_number(x)}"
    positions = xp.nonzero(bad)
    shown = []
    for k in range(min(count, SHOWN)):
        index = tuple(int(axis[k]) for axis in positions)
        where = "(" + ", ".join(map(str, index)) + ("," if len(index) == 1 else "") + ")"
        if rows:
            shown.append(f"row {where} sums to {_number(xp.sum(x[index + (...,)]))}")
        else:
            shown.append(f"{_number(x[index])} at {where}")
    noun = "row" if rows else "value"
    more = ", ..." if count > SHOWN else ""
    return f"got {count} {noun}{'s' if count != 1 else ''} outside it: {', '.join(shown)}{more}"


@dataclass(frozen=True)
class Domain:
    """The values an argument accepts; this base accepts every real number, NaN and inf included."""

    description: str = "real numbers"

    def bad(self, xp, x):
        """Boolean array marking the entries (or, for row domains, the rows) outside the domain."""
        return None


@dataclass(frozen=True)
class Interval(Domain):
    """Values between ``low`` and ``high``; an open end excludes its bound. NaN passes (and propagates)."""

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False

    def bad(self, xp, x):
        below = x <= self.low if self.open_low else x < self.low
        above = x >= self.high if self.open_high else x > self.high
        return below | above


@dataclass(frozen=True)
class OneOf(Domain):
    """A finite set of values, such as the labels ``{-1, 0, 1}``."""

    values: tuple = ()

    def bad(self, xp, x):
        ok = xp.zeros(x.shape, dtype=xp.bool)
        for value in self.values:
            ok = ok | (x == value)
        return ~ok


@dataclass(frozen=True)
class Simplex(Domain):
    """Probability rows over the last axis: entries in [0, 1] that sum to 1."""

    def entries(self) -> Interval:
        return PROBABILITIES

    def bad(self, xp, x):
        return xp.abs(xp.sum(x, axis=-1) - 1.0) > ROW_SUM_TOLERANCE


REAL = Domain()
PROBABILITIES = Interval("probabilities in [0, 1]", 0.0, 1.0)
SIMPLEX = Simplex("probability rows: entries in [0, 1] summing to 1 over the class axis")


def check_domain(xp, loss_name: str, arg: str, x, domain: Domain, hint: str = "") -> None:
    """Raise ValueError naming ``arg`` if ``x`` has values outside ``domain``."""
    hint = f" {hint}" if hint else ""
    if isinstance(domain, Simplex):
        check_domain(xp, loss_name, arg, x, domain.entries(), hint.strip())
        bad = domain.bad(xp, x)
        if bool(xp.any(bad)):
            raise ValueError(
                f"{loss_name}: {arg} must hold {domain.description} (within {ROW_SUM_TOLERANCE:g}); "
                f"{describe_bad(xp, x, bad, rows=True)}.{hint}"
            )
        return
    bad = domain.bad(xp, x)
    if bad is not None and bool(xp.any(bad)):
        raise ValueError(
            f"{loss_name}: {arg} must be {domain.description}; {describe_bad(xp, x, bad)}.{hint}"
        )


# Hyperparameters ---------------------------------------------------------------------------------


def _real(loss_name: str, name: str, value) -> float:
    """A real number (Python's or NumPy's) as a float; bools and NaN are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{loss_name}: {name} must be a real number; got {value!r}.")
    return float(value)


def positive(loss_name: str, name: str, value) -> float:
    """Check that a hyperparameter is a finite number > 0 and return it as a float."""
    value = _real(loss_name, name, value)
    if not (0 < value < math.inf):
        raise ValueError(f"{loss_name}: {name} must be a finite number > 0; got {value!r}.")
    return value


def unit_interval(loss_name: str, name: str, value) -> float:
    """Check that a hyperparameter lies in [0, 1] and return it as a float."""
    value = _real(loss_name, name, value)
    if not 0 <= value <= 1:
        raise ValueError(f"{loss_name}: {name} must be in [0, 1]; got {value!r}.")
    return value


def integer(loss_name: str, name: str, value, *, optional: bool = False):
    """Check that a hyperparameter is an int (or None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or None" if optional else "an int"
        raise ValueError(f"{loss_name}: {name} must be {expected}; got {value!r}.")
    return int(value)
