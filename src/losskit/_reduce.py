r"""From the loss of each example to the cost of a batch: weights and reductions, one rule for all.

- ``"none"``: :math:`w_i \ell_i` for each example.
- ``"sum"``: :math:`\sum_i w_i \ell_i`.
- ``"mean"``: :math:`\sum_i w_i \ell_i / \sum_i w_i` (the plain mean without weights); 0 when
  :math:`\sum_i w_i = 0`.
- ``normalizer=c``: :math:`\sum_i w_i \ell_i / c`.

An example of weight 0 is dropped entirely: its loss does not reach the value, even if it is inf or
NaN (a mask hides padding).
"""

from __future__ import annotations

import math
import numbers

from ._xp import as_array_like, is_floating, is_integral, size

REDUCTIONS = ("none", "sum", "mean")


def check_reduction(loss_name: str, reduction) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{loss_name}: reduction must be one of {REDUCTIONS}; got {reduction!r}.")
    return reduction


def check_normalizer(loss_name: str, normalizer, reduction: str):
    if normalizer is None:
        return None
    if reduction == "none":
        raise ValueError(f"{loss_name}: normalizer divides a sum, so it needs reduction 'sum' or 'mean'; got 'none'.")
    if isinstance(normalizer, numbers.Real) and not isinstance(normalizer, bool):
        if not 0 < normalizer < math.inf:
            raise ValueError(f"{loss_name}: normalizer must be a finite number > 0; got {normalizer!r}.")
        return float(normalizer)
    if not hasattr(normalizer, "shape") or tuple(normalizer.shape) != ():
        raise ValueError(f"{loss_name}: normalizer must be a number or a 0-d array; got {normalizer!r}.")
    return normalizer


def align_weight(xp, loss_name: str, weight, losses_shape, dtype, like):
    """Return ``sample_weight`` as an array broadcastable to the per-example losses.

    A weight of shape ``s`` applies to every loss whose index starts with ``s`` (it broadcasts from
    the leading axes); trailing axes of size 1 beyond the losses' rank are dropped.
    """
    weight = as_array_like(xp, weight, like)
    if not (is_floating(xp, weight.dtype) or is_integral(xp, weight.dtype)):
        raise TypeError(f"{loss_name}: sample_weight must be real numbers; got dtype {weight.dtype}.")
    shape = tuple(weight.shape)
    while len(shape) > len(losses_shape) and shape[-1] == 1:
        shape = shape[:-1]
    if shape != tuple(losses_shape[: len(shape)]):
        raise ValueError(
            f"{loss_name}: sample_weight of shape {tuple(weight.shape)} does not fit the losses of shape "
            f"{tuple(losses_shape)}; expected a shape that is a leading part of it, "
            f"such as {tuple(losses_shape[:1])} (one weight per example) or {tuple(losses_shape)}."
        )
    shape = shape + (1,) * (len(losses_shape) - len(shape))
    return xp.reshape(xp.astype(weight, dtype), shape)


def reduce(xp, losses, weight, reduction: str, normalizer):
    r"""Return ``(value, scale)``: the reduced value and :math:`\partial\,\mathrm{value} / \partial \ell_i`.

    ``scale`` is a Python float or an array broadcastable to ``losses``.
    """
    if weight is not None:
        weight = xp.broadcast_to(weight, losses.shape)
        weighted = xp.where(weight == 0, xp.zeros_like(losses), weight * losses)
    else:
        weighted = losses
    if reduction == "none":
        return weighted, (1.0 if weight is None else weight)
    total = xp.sum(weighted)
    if normalizer is not None:
        return total / normalizer, (1.0 if weight is None else weight) / normalizer
    if reduction == "sum":
        return total, (1.0 if weight is None else weight)
    if weight is None:
        count = max(size(losses.shape), 1)
        return total / count, 1.0 / count
    weight_sum = xp.sum(weight)
    safe = xp.where(weight_sum > 0, weight_sum, xp.ones_like(weight_sum))
    return total / safe, weight / safe
