"""The Array API functions losskit's formulas use, on TensorFlow tensors: a small namespace of our own.

array-api-compat has no TensorFlow support (its pull request #441 is open), so ``_xp.namespace_of``
returns this module for ``tf.Tensor`` and ``tf.Variable``. It holds only what the formulas call, with
the standard's semantics where TensorFlow's differ: Python scalars take the other operand's dtype,
``where`` and ``logaddexp`` are exact at infinities, and a shape may hold ``None`` (an unknown batch
dimension inside ``tf.function``), taken from the array at run time. It never calls TensorFlow's
process-global NumPy-behaviour switch. If array-api-compat ever ships a TensorFlow namespace, this
module is what it replaces.
"""

from __future__ import annotations

import builtins
import math

import ml_dtypes
import numpy as np
import tensorflow as tf

bool = tf.bool
int8, int16, int32, int64 = tf.int8, tf.int16, tf.int32, tf.int64
uint8 = tf.uint8
float16, bfloat16, float32, float64 = tf.float16, tf.bfloat16, tf.float32, tf.float64
inf, nan, pi, e = math.inf, math.nan, math.pi, math.e

_FLOATS = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


class _Info:
    """The standard's ``__array_namespace_info__()``: what the formulas ask of it."""

    def default_dtypes(self, device=None):
        return {"real floating": tf.float64, "integral": tf.int64, "indexing": tf.int64}


def __array_namespace_info__():
    return _Info()


def asarray(x, dtype=None, device=None, copy=None):
    """A tensor (a ``tf.Variable`` is read: gradients flow back to it); other objects through NumPy."""
    if isinstance(x, tf.Variable):
        x = x.read_value()
    if not tf.is_tensor(x):
        x = tf.convert_to_tensor(np.asarray(x))
    return x if dtype is None or x.dtype == dtype else tf.cast(x, dtype)


def astype(x, dtype, copy=True, device=None):
    return x if x.dtype == dtype else tf.cast(x, dtype)


def isdtype(dtype, kind) -> builtins.bool:
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if not isinstance(kind, str):
        return dtype == kind
    dtype = tf.as_dtype(dtype)
    return {
        "bool": dtype == tf.bool,
        "real floating": dtype in _FLOATS,
        "integral": dtype.is_integer,
        "signed integer": dtype.is_integer and not dtype.is_unsigned,
        "unsigned integer": dtype.is_integer and dtype.is_unsigned,
        "numeric": dtype.is_integer or dtype.is_floating or dtype.is_complex,
        "complex floating": dtype.is_complex,
    }[kind]


def finfo(dtype):
    return ml_dtypes.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def result_type(*arrays_and_dtypes):
    dtypes = [tf.as_dtype(a.dtype if hasattr(a, "dtype") else a) for a in arrays_and_dtypes]
    floats = [d for d in dtypes if d in _FLOATS]
    if floats:
        return builtins.max(floats, key=lambda d: (d.size, d == tf.float16))
    return builtins.max(dtypes, key=lambda d: d.size)


# --- shapes --------------------------------------------------------------------------------------------


def _shape(shape, like=None):
    """A shape for TensorFlow: known sizes as ints, an unknown one (None) from ``like`` at run time."""
    shape = tuple(shape)
    if None not in shape:
        return shape
    if like is not None:
        dynamic = tf.shape(like)
        own = tuple(like.shape)
        return tf.stack([dynamic[i] if s is None else tf.constant(s, dtype=dynamic.dtype)
                         for i, s in enumerate(shape)]) if len(own) == len(shape) else None  # fmt: skip
    return None


def reshape(x, shape, copy=None):
    shape = tuple(shape)
    unknown = [i for i, s in enumerate(shape) if s is None]
    if len(unknown) == 1:
        shape = tuple(-1 if s is None else s for s in shape)
    elif unknown:
        dynamic = _shape(shape, x)
        if dynamic is None:
            raise ValueError(f"reshape: cannot reshape {x.shape} to {shape} with several unknown sizes")
        shape = dynamic
    return tf.reshape(x, shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if None in shape:
        own = (1,) * (len(shape) - x.ndim) + tuple(x.shape)
        dynamic = tf.concat([tf.ones(len(shape) - x.ndim, tf.int32), tf.shape(x)], 0)
        if builtins.any(s is None and o == 1 for s, o in zip(shape, own)):
            raise ValueError(f"broadcast_to: an axis of size 1 of {x.shape} cannot take an unknown size in {shape}")
        shape = tf.stack([dynamic[i] if s is None else s for i, s in enumerate(shape)])
    return tf.broadcast_to(x, shape)


def squeeze(x, axis):
    return tf.squeeze(x, axis)


def moveaxis(x, source, destination):
    order = [i for i in range(x.ndim) if i != source % x.ndim]
    order.insert(destination % x.ndim, source % x.ndim)
    return tf.transpose(x, order)


def matrix_transpose(x):
    return tf.linalg.matrix_transpose(x)


def matmul(x1, x2):
    return tf.linalg.matmul(x1, x2)


# --- creation ------------------------------------------------------------------------------------------


def zeros_like(x, dtype=None, device=None):
    return tf.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, device=None):
    return tf.ones_like(x, dtype=dtype)


def full_like(x, fill_value, dtype=None, device=None):
    dtype = x.dtype if dtype is None else dtype
    return tf.fill(tf.shape(x), tf.constant(fill_value, dtype=dtype))


def zeros(shape, dtype=None, device=None):
    return tf.zeros(shape, dtype=dtype or tf.float64)


def ones(shape, dtype=None, device=None):
    return tf.ones(shape, dtype=dtype or tf.float64)


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    return tf.range(start, stop, step, dtype=dtype or tf.int64)


# --- elementwise ---------------------------------------------------------------------------------------


def _operands(*xs):
    """Python scalars as tensors of the dtype of the tensors beside them."""
    dtype = next((x.dtype for x in xs if tf.is_tensor(x)), None)
    return [x if tf.is_tensor(x) else tf.constant(x, dtype=dtype) for x in xs]


def where(condition, x1, x2):
    x1, x2 = _operands(x1, x2)
    return tf.where(condition, x1, x2)


def maximum(x1, x2):
    return tf.maximum(*_operands(x1, x2))


def clip(x, min=None, max=None):
    if min is not None:
        x = tf.maximum(*_operands(x, min))
    if max is not None:
        x = tf.minimum(*_operands(x, max))
    return x


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))``, exact when both are the same infinity."""
    x1, x2 = _operands(x1, x2)
    larger = tf.maximum(x1, x2)
    same = x1 == x2  # the difference of equal infinities is NaN; their sum is the answer
    gap = tf.where(same, tf.zeros_like(x1), -tf.abs(x1 - x2))
    return tf.where(same & tf.math.is_inf(x1), x1, larger + tf.math.log1p(tf.exp(gap)))


def hypot(x1, x2):
    x1, x2 = _operands(x1, x2)
    big, small = tf.maximum(tf.abs(x1), tf.abs(x2)), tf.minimum(tf.abs(x1), tf.abs(x2))
    ratio = tf.math.divide_no_nan(small, big)
    return tf.where(tf.math.is_inf(big), big, big * tf.sqrt(1 + ratio * ratio))


exp, log, log1p, expm1 = tf.exp, tf.math.log, tf.math.log1p, tf.math.expm1
sqrt, tanh, sinh, floor, sign = tf.sqrt, tf.tanh, tf.sinh, tf.floor, tf.sign
isfinite, isnan, isinf = tf.math.is_finite, tf.math.is_nan, tf.math.is_inf


def abs(x):
    return tf.abs(x)


# --- reductions and searches ---------------------------------------------------------------------------


def _axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


def sum(x, axis=None, keepdims=False, dtype=None):
    if x.dtype == tf.bool:
        x = tf.cast(x, tf.int64)
    if dtype is not None:
        x = tf.cast(x, dtype)
    return tf.reduce_sum(x, axis=_axis(axis), keepdims=keepdims)


def vecdot(x1, x2, axis=-1):
    x1, x2 = _operands(x1, x2)
    return tf.reduce_sum(x1 * x2, axis=axis)


def mean(x, axis=None, keepdims=False):
    return tf.reduce_mean(x, axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return tf.reduce_max(x, axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    return tf.reduce_min(x, axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return tf.reduce_any(tf.cast(x, tf.bool), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return tf.reduce_all(tf.cast(x, tf.bool), axis=_axis(axis), keepdims=keepdims)


def count_nonzero(x, axis=None, keepdims=False):
    return tf.math.count_nonzero(x, axis=_axis(axis), keepdims=keepdims, dtype=tf.int64)


def cumulative_sum(x, axis=None, dtype=None, include_initial=False):
    out = tf.cumsum(x, axis=-1 if axis is None else axis)
    if include_initial:
        pad = [[0, 0]] * out.ndim
        pad[(-1 if axis is None else axis) % out.ndim] = [1, 0]
        out = tf.pad(out, pad)
    return out


def argmax(x, axis=None, keepdims=False):
    out = tf.argmax(tf.reshape(x, [-1]) if axis is None else x, axis=0 if axis is None else axis, output_type=tf.int64)
    return tf.expand_dims(out, axis) if keepdims else out


def sort(x, axis=-1, descending=False, stable=True):
    return tf.sort(x, axis=axis, direction="DESCENDING" if descending else "ASCENDING")


def nonzero(x):
    indices = tf.where(x)
    return tuple(indices[:, i] for i in range(x.ndim))


def take(x, indices, axis=None):
    return tf.gather(tf.reshape(x, [-1]) if axis is None else x, indices, axis=0 if axis is None else axis)


def take_along_axis(x, indices, axis=-1):
    axis %= x.ndim
    if axis != x.ndim - 1:
        moved = take_along_axis(moveaxis(x, axis, -1), moveaxis(indices, axis, -1))
        return moveaxis(moved, -1, axis)
    return tf.gather(x, indices, axis=-1, batch_dims=x.ndim - 1)
