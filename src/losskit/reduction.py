r"""From the loss of each example to the cost of a batch: one rule, one object per call.

With weights :math:`w_i` (``sample_weight``, times 0 for ignored class ids):

- ``"none"``: :math:`w_i \ell_i` for each example;
- ``"sum"``: :math:`\sum_i w_i \ell_i`;
- ``"mean"``: :math:`\sum_i w_i \ell_i / \sum_i c_i`, where the counted weight :math:`c_i` is
  :math:`w_i` (the plain mean without weights) or, for a loss with class weights, :math:`w_i` times
  the weight of the example's target class (PyTorch's ``cross_entropy(weight=)``); 0 when
  :math:`\sum_i c_i = 0`;
- ``normalizer=c``: :math:`\sum_i w_i \ell_i / c`.

An example of weight 0 is dropped entirely: its loss does not reach the value, even if it is inf or
NaN, and its gradient is 0 (a mask hides padding). Every engine (the reference formulas, the NumPy
fast path, the PyTorch backward, the fused linear cross-entropy) takes its denominator and its
gradient scale from a :class:`Reduction`.
"""

from __future__ import annotations

import math
import numbers

from ._xp import as_array_like, is_floating, is_integral, size
from .errors import InputError, InputTypeError

REDUCTIONS = ("none", "sum", "mean")


#: A call's ``reduction`` when it names none: the loss's own (``loss.reduction``). ``None`` is refused:
#: in Keras it means "no reduction".
DEFAULT = "default"


def check_reduction(loss_name: str, reduction) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        hint = (
            " None is not a reduction here (in Keras it means no reduction): pass reduction='none' for the loss "
            "of each example, or 'mean' for their mean."
            if reduction is None
            else ""
        )
        raise InputError(f"{loss_name}: reduction must be one of {REDUCTIONS}; got {reduction!r}.{hint}")
    return reduction


def check_normalizer(loss_name: str, normalizer, reduction: str):
    if normalizer is None:
        return None
    if reduction == "none":
        raise InputError(f"{loss_name}: normalizer divides a sum, so it needs reduction 'sum' or 'mean'; got 'none'.")
    if isinstance(normalizer, numbers.Real) and not isinstance(normalizer, bool):
        if not 0 < normalizer < math.inf:
            raise InputError(f"{loss_name}: normalizer must be a finite number > 0; got {normalizer!r}.")
        return float(normalizer)
    if not hasattr(normalizer, "shape") or tuple(normalizer.shape) != ():
        raise InputError(f"{loss_name}: normalizer must be a number or a 0-d array; got {normalizer!r}.")
    return normalizer


def align_weight(xp, loss_name: str, weight, losses_shape, dtype, like):
    """``sample_weight`` as an array that broadcasts against the per-example losses from their leading axes.

    A weight of shape ``s`` applies to every loss whose index starts with an index of ``s``; an axis of
    size 1 stands for all of that axis (Keras passes ``(N, 1)`` for ``(N, D)`` losses), and trailing
    axes of size 1 beyond the losses' rank are dropped.
    """
    weight = as_array_like(xp, weight, like)
    if not (is_floating(xp, weight.dtype) or is_integral(xp, weight.dtype)):
        raise InputTypeError(f"{loss_name}: sample_weight must be real numbers; got dtype {weight.dtype}.")
    shape = tuple(weight.shape)
    while len(shape) > len(losses_shape) and shape[-1] == 1:
        shape = shape[:-1]
    lead = tuple(losses_shape[: len(shape)])
    if len(shape) > len(losses_shape) or any(s not in (1, n) for s, n in zip(shape, lead)):
        raise InputError(
            f"{loss_name}: sample_weight of shape {tuple(weight.shape)} does not fit the losses of shape "
            f"{tuple(losses_shape)}; expected a shape that is a leading part of it (an axis may be 1), "
            f"such as {tuple(losses_shape[:1])} (one weight per example) or {tuple(losses_shape)}."
        )
    shape = shape + (1,) * (len(losses_shape) - len(shape))
    return xp.reshape(xp.astype(weight, dtype), shape)


def trailing_axes(x, count: int):
    """``x`` with ``count`` more axes of size 1 at the end (its own sizes may be unknown: None)."""
    for _ in range(count):
        x = x[..., None]
    return x


class Reduction:
    """The reduction of one call: its kind, weights and denominator.

    Parameters
    ----------
    xp : namespace
    kind : {"none", "sum", "mean"}
    shape : tuple
        The shape of the per-example losses.
    weight : array or None
        Each example's weight, broadcastable to ``shape`` from the leading axes (``align_weight``).
    normalizer : float, 0-d array or None
    counted : array or None
        The weights the mean counts in its denominator, when they differ from ``weight`` (class
        weights); shaped like the losses.
    drops : bool
        Whether ``weight`` may hold zeros, examples to drop whatever their loss (False for the factor of
        unchecked class ids, 1 or NaN: nothing is then replaced by zeros, a pass over the data less).
    """

    def __init__(self, xp, kind: str, shape, *, weight=None, normalizer=None, counted=None, drops: bool = True):
        self.xp, self.kind, self.shape = xp, kind, tuple(shape)
        self.weight, self.normalizer, self.counted = weight, normalizer, counted
        self.drops = drops and weight is not None
        self.denominator = self._denominator()

    def _denominator(self):
        xp = self.xp
        if self.normalizer is not None:
            return self.normalizer
        if self.kind in ("none", "sum"):
            return 1.0
        counted = self.weight if self.counted is None else self.counted
        if counted is None:
            return float(max(size(self.shape), 1))
        total = xp.sum(counted)
        if tuple(counted.shape) != self.shape:  # weights with axes of size 1 count once per loss they stand for
            total = total * (size(self.shape) // max(size(counted.shape), 1) if size(counted.shape) else 0)
        return xp.where(total > 0, total, xp.ones_like(total))  # all weights 0: value 0, gradient 0

    def with_namespace(self, xp, convert) -> Reduction:
        """The same reduction over arrays of another library (``convert`` maps each array)."""
        other = object.__new__(Reduction)
        other.xp, other.kind, other.shape, other.drops = xp, self.kind, self.shape, self.drops
        other.weight = None if self.weight is None else convert(self.weight)
        other.counted = None if self.counted is None else convert(self.counted)
        other.normalizer = self.normalizer if not hasattr(self.normalizer, "shape") else convert(self.normalizer)
        other.denominator = self.denominator if isinstance(self.denominator, float) else convert(self.denominator)
        return other

    def weighted(self, losses):
        """``w * losses`` (0 where ``w`` is 0, whatever the loss), or the losses without weights."""
        if not self.drops:
            return losses if self.weight is None else self.weight * losses
        xp = self.xp
        return xp.where(self.weight == 0, xp.zeros_like(losses), self.weight * losses)

    def value(self, losses):
        """The reduced value of the per-example ``losses``."""
        weighted = self.weighted(losses)
        if self.kind == "none":
            return weighted
        total = self.xp.sum(weighted)
        return total if isinstance(self.denominator, float) and self.denominator == 1.0 else total / self.denominator

    @property
    def scale(self):
        r""":math:`\partial\,\mathrm{value} / \partial \ell_i`: a float, or an array broadcastable to the losses."""
        if self.weight is None:
            return 1.0 / self.denominator
        return self.weight / self.denominator

    def chain(self, derivative, event: bool, scale=None):
        """``scale * derivative``: each example's derivative times its scale (``event``: one axis per example).

        A zero weight gives a zero gradient, even where the derivative is inf or NaN.
        """
        xp = self.xp
        scale = self.scale if scale is None else scale
        if isinstance(scale, float):
            return derivative if scale == 1.0 else scale * derivative
        if event:  # one trailing axis per example, or two (a whole sample's entries and its classes)
            scale = trailing_axes(scale, derivative.ndim - len(self.shape))
        product = scale * derivative
        if not self.drops:
            return product
        return xp.where(scale == 0, xp.zeros_like(product), product)
