"""Values as JSON holds them: Python numbers, lists and dicts; NaN and infinities as null (JSON has neither)."""

from __future__ import annotations

import json
import math

import numpy as np


def plain(value):
    """JSON-ready data: NumPy arrays and scalars as Python's, dict keys as strings, NaN and infinities as None.

    >>> plain({"a": np.float32(1.5), "b": [np.inf, 2]})
    {'a': 1.5, 'b': [None, 2]}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value, indent: int = 2) -> str:
    """``value`` as JSON text, strictly: what :func:`plain` makes of it."""
    return json.dumps(plain(value), indent=indent, allow_nan=False)
