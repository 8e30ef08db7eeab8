"""Input checks: the validation switch, value domains, hyperparameter checks, and their messages.

A domain knows which values it accepts (``bad`` marks the others), how to say so
(``description``), what an input in it is called (``space``) and which output activation maps a
network's raw output into it (``activation``). Value checks run only on concrete arrays and can be
switched off. Every check raises :class:`losskit.InputError`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from dataclasses import dataclass, field

from .errors import InputError

_VALIDATION = contextvars.ContextVar("losskit_validation", default=True)

#: How far a probability row's sum (or a log-probability row's log-sum-exp) may stray before it is refused.
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


def describe_bad(xp, x, bad, *, rows: bool = False, shown=None) -> str:
    """Say how many entries of ``x`` are marked ``bad`` and show a few with their positions.

    With ``rows``, ``bad`` marks rows of ``x`` (all axes but the last) and ``shown`` (an array shaped
    like ``bad``) holds what to show of each row (by default its sum).
    """
    count = int(xp.count_nonzero(bad))
    if bad.ndim == 0:
        return f"got {_number(x)}"
    positions = xp.nonzero(bad)
    items = []
    for k in range(min(count, SHOWN)):
        index = tuple(int(axis[k]) for axis in positions)
        where = "(" + ", ".join(map(str, index)) + ("," if len(index) == 1 else "") + ")"
        if rows:
            total = xp.sum(x[index + (...,)]) if shown is None else shown[index]
            items.append(f"row {where} sums to {_number(total)}")
        else:
            items.append(f"{_number(x[index])} at {where}")
    noun = "row" if rows else "value"
    more = ", ..." if count > SHOWN else ""
    return f"got {count} {noun}{'s' if count != 1 else ''} outside it: {', '.join(items)}{more}"


# --- domains --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """The values an input accepts; this base accepts every real number, NaN and inf included.

    Attributes
    ----------
    description : str
        The values, in words, for messages ("probabilities in [0, 1]").
    space : str
        What an input in this domain is called ("values", "probabilities", ...).
    activation : str
        The output activation that maps a network's raw output into the domain.
    """

    description: str = "real numbers"
    space: str = field(default="values", kw_only=True)
    activation: str = field(default="identity", kw_only=True)

    def bad(self, xp, x):
        """Boolean array marking the entries (or, for row domains, the rows) outside the domain."""
        return None

    def contains(self, other: Domain) -> bool:
        """Whether every value of ``other`` lies in this domain."""
        return True

    @property
    def bounds(self) -> tuple[float, float]:
        """The lowest and highest value of an entry."""
        return -math.inf, math.inf


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

    def contains(self, other: Domain) -> bool:
        if isinstance(other, OneOf):
            return all(self._holds(v) for v in other.values)
        low, high = other.bounds
        above = low > self.low or (low == self.low and (not self.open_low or _open_low(other)))
        below = high < self.high or (high == self.high and (not self.open_high or _open_high(other)))
        return above and below

    def _holds(self, v) -> bool:
        below = v <= self.low if self.open_low else v < self.low
        above = v >= self.high if self.open_high else v > self.high
        return not (below or above)

    @property
    def bounds(self):
        return self.low, self.high


@dataclass(frozen=True)
class Finite(Interval):
    """Finite values between ``low`` and ``high``: NaN and inf are refused too (weights)."""

    def bad(self, xp, x):
        return super().bad(xp, x) | ~xp.isfinite(x)


@dataclass(frozen=True)
class Groups(Finite):
    """Finite group labels: only their equality counts (rows with the same label are positives)."""


def _open_low(domain) -> bool:
    return isinstance(domain, Interval) and domain.open_low


def _open_high(domain) -> bool:
    return isinstance(domain, Interval) and domain.open_high


@dataclass(frozen=True)
class OneOf(Domain):
    """A finite set of values, such as the labels ``{-1, 0, 1}``."""

    values: tuple = ()

    def bad(self, xp, x):
        ok = xp.zeros(x.shape, dtype=xp.bool)
        for value in self.values:
            ok = ok | (x == value)
        return ~ok

    def contains(self, other: Domain) -> bool:
        return isinstance(other, OneOf) and set(other.values) <= set(self.values)

    @property
    def bounds(self):
        return min(self.values), max(self.values)


@dataclass(frozen=True)
class Simplex(Domain):
    """Probability rows over the last axis: entries in [0, 1] that sum to 1."""

    def entries(self) -> Interval:
        return PROBABILITIES

    def row_total(self, xp, x):
        """What must be 1 (for log-probability rows: 0) in each row."""
        return xp.sum(x, axis=-1)

    target_total = 1.0

    def bad(self, xp, x):
        return xp.abs(self.row_total(xp, x) - self.target_total) > ROW_SUM_TOLERANCE

    def contains(self, other: Domain) -> bool:
        return type(other) is type(self)

    @property
    def bounds(self):
        return self.entries().bounds


@dataclass(frozen=True)
class LogSimplex(Simplex):
    """Log-probability rows over the last axis: entries <= 0 whose exponentials sum to 1."""

    def entries(self) -> Interval:
        return Interval("log-probabilities <= 0", high=0.0)

    target_total = 0.0

    def row_total(self, xp, x):
        top = xp.max(x, axis=-1, keepdims=True)
        top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
        return xp.log(xp.sum(xp.exp(x - top), axis=-1)) + top[..., 0]


REAL = Domain()
PROBABILITIES = Interval("probabilities in [0, 1]", 0.0, 1.0, space="probabilities", activation="sigmoid")
SIMPLEX = Simplex(
    "probability rows: entries in [0, 1] summing to 1 over the class axis", space="probabilities", activation="softmax"
)
LOG_SIMPLEX = LogSimplex(
    "log-probability rows: entries <= 0 whose exponentials sum to 1 over the class axis",
    space="log-probabilities",
    activation="log_softmax",
)
POSITIVE = Interval("real numbers > 0", 0.0, open_low=True, space="positive values", activation="exp")
NONNEGATIVE = Interval("real numbers >= 0", 0.0, space="non-negative values", activation="exp")
GROUP_LABELS = Groups("finite group labels (equal labels mark positive pairs)", space="group labels")
UNIT_TARGETS = Interval("targets in [0, 1] (0/1 labels or soft targets)", 0.0, 1.0)


def _row_domain(domain) -> bool:
    return isinstance(domain, Simplex)


def check_domain(xp, loss_name: str, arg: str, x, domain: Domain, hint: str = "") -> None:
    """Raise InputError naming ``arg`` if ``x`` has values outside ``domain``."""
    hint = f" {hint}" if hint else ""
    if _row_domain(domain):
        check_domain(xp, loss_name, arg, x, domain.entries(), hint.strip())
        total = domain.row_total(xp, x)
        bad = xp.abs(total - domain.target_total) > ROW_SUM_TOLERANCE
        if bool(xp.any(bad)):
            logs = isinstance(domain, LogSimplex)
            detail = describe_bad(xp, x, bad, rows=True, shown=total if logs else None)
            if logs:
                detail = detail.replace("sums to", "has log-sum-exp")
            raise InputError(
                f"{loss_name}: {arg} must hold {domain.description} (within {ROW_SUM_TOLERANCE:g}); {detail}.{hint}"
            )
        return
    bad = domain.bad(xp, x)
    if bad is not None and bool(xp.any(bad)):
        raise InputError(f"{loss_name}: {arg} must be {domain.description}; {describe_bad(xp, x, bad)}.{hint}")


# --- hyperparameters ------------------------------------------------------------------------------


def _real(loss_name: str, name: str, value) -> float:
    """A real number (Python's or NumPy's) as a float; bools and NaN are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if "Tracer" in type(value).__name__:
            raise InputError(
                f"{loss_name}: {name} is a hyperparameter, fixed when the loss is built, so it cannot be traced; "
                f"pass it as a static argument (jax.jit's static_argnames, or functools.partial)."
            )
        raise InputError(f"{loss_name}: {name} must be a real number; got {value!r}.")
    try:
        value = float(value)
    except OverflowError:
        raise InputError(f"{loss_name}: {name} must be a finite number; got an integer of {len(str(value))} digits.") from None
    if math.isnan(value):
        raise InputError(f"{loss_name}: {name} must be a real number; got {value!r}.")
    return value


def extended_real(loss_name: str, name: str, value) -> float:
    """A real number, -inf and inf included, as a float."""
    return _real(loss_name, name, value)


def positive(loss_name: str, name: str, value) -> float:
    """A finite number > 0, as a float."""
    value = _real(loss_name, name, value)
    if not (0 < value < math.inf):
        raise InputError(f"{loss_name}: {name} must be a finite number > 0; got {value!r}.")
    return value


def non_negative(loss_name: str, name: str, value) -> float:
    """A finite number >= 0, as a float."""
    value = _real(loss_name, name, value)
    if not (0 <= value < math.inf):
        raise InputError(f"{loss_name}: {name} must be a finite number >= 0; got {value!r}.")
    return value


def unit_interval(loss_name: str, name: str, value) -> float:
    """A number in [0, 1], as a float."""
    value = _real(loss_name, name, value)
    if not 0 <= value <= 1:
        raise InputError(f"{loss_name}: {name} must be in [0, 1]; got {value!r}.")
    return value


def open_unit_interval(loss_name: str, name: str, value) -> float:
    """A number in (0, 1), as a float."""
    value = _real(loss_name, name, value)
    if not 0 < value < 1:
        raise InputError(f"{loss_name}: {name} must be in (0, 1); got {value!r}.")
    return value


def quantiles(loss_name: str, name: str, value):
    """A number in (0, 1) as a float, or a non-empty sequence of them as a tuple of floats."""
    value = _nested(value)
    if not isinstance(value, tuple):
        return open_unit_interval(loss_name, name, value)
    if not value or any(isinstance(v, tuple) for v in value):
        raise InputError(f"{loss_name}: {name} must be a number in (0, 1) or a flat, non-empty sequence of them; "
                         f"got {value!r}.")  # fmt: skip
    return tuple(open_unit_interval(loss_name, f"each entry of {name}", v) for v in value)


def at_least_one(loss_name: str, name: str, value) -> float:
    """A finite number >= 1, as a float."""
    value = _real(loss_name, name, value)
    if not 1 <= value < math.inf:
        raise InputError(f"{loss_name}: {name} must be a finite number >= 1; got {value!r}.")
    return value


def boolean(loss_name: str, name: str, value) -> bool:
    """True or False."""
    if not isinstance(value, (bool,)) and type(value).__name__ != "bool_":
        raise InputError(f"{loss_name}: {name} must be True or False; got {value!r}.")
    return bool(value)


def integer(loss_name: str, name: str, value) -> int:
    """An int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{loss_name}: {name} must be an int; got {value!r}.")
    return int(value)


def within(low: float, high: float, *, open_low: bool = False, open_high: bool = False, why: str = ""):
    """A validator: a real number between ``low`` and ``high`` (ends included unless open), as a float.

    >>> within(-1.0, 1.0)("cosine_embedding", "margin", 0.5)
    0.5
    """
    shown = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"

    def check(loss_name: str, name: str, value) -> float:
        value = _real(loss_name, name, value)
        above = value > low if open_low else value >= low
        below = value < high if open_high else value <= high
        if not (above and below):
            raise InputError(f"{loss_name}: {name} must be in {shown}{f' ({why})' if why else ''}; got {value!r}.")
        return value

    return check


def choice(*options: str):
    """A validator: one of ``options`` (strings)."""

    def check(loss_name: str, name: str, value) -> str:
        if not isinstance(value, str) or value not in options:
            raise InputError(f"{loss_name}: {name} must be one of {', '.join(map(repr, options))}; got {value!r}.")
        return value

    return check


def optional_integer(loss_name: str, name: str, value):
    """An int or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{loss_name}: {name} must be an int or None; got {value!r}.")
    return int(value)


def _nested(value):
    """A number, or nested tuples of floats from a list, tuple or array of any library."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_nested(v) for v in value)
    return value


def _flat(value):
    return [x for v in value for x in _flat(v)] if isinstance(value, tuple) else [value]


def weights(loss_name: str, name: str, value, *, allow_scalar: bool, optional: bool):
    """Non-negative finite weights: a number (``allow_scalar``), or an array of them as nested tuples.

    Arrays of any library are accepted and stored as nested tuples of floats, so that the loss's
    configuration stays plain data; the loss turns them back into an array of the input's library.
    """
    if value is None and optional:
        return None
    value = _nested(value)
    if not isinstance(value, tuple):
        if not allow_scalar:
            raise InputError(f"{loss_name}: {name} must be a sequence of weights >= 0, one per class; got {value!r}.")
        return positive(loss_name, name, value) if name == "pos_weight" else non_negative(loss_name, name, value)
    entries = _flat(value)
    if not entries:
        raise InputError(f"{loss_name}: {name} must not be empty.")
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Real) or not 0 <= entry < math.inf:
            raise InputError(f"{loss_name}: {name} must hold finite weights >= 0; got {entry!r} in {value!r}.")

    def as_float(v):
        return tuple(as_float(x) for x in v) if isinstance(v, tuple) else float(v)

    return as_float(value)
