"""What the fused linear cross-entropies of every framework check the same way: their options."""

from __future__ import annotations

from .._checks import non_negative, optional_integer, unit_interval
from ..reduction import check_normalizer, check_reduction

NAME = "linear_cross_entropy"


def options(reduction, label_smoothing, z_loss, normalizer, ignore_index) -> tuple:
    """``(reduction, label_smoothing, z_loss, normalizer, ignore_index)``, checked (``lk.InputError`` naming the bad one)."""
    reduction = check_reduction(NAME, reduction)
    return (reduction, unit_interval(NAME, "label_smoothing", label_smoothing), non_negative(NAME, "z_loss", z_loss),
            check_normalizer(NAME, normalizer, reduction), optional_integer(NAME, "ignore_index", ignore_index))  # fmt: skip
