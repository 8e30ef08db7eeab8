"""Array namespace, dtype and device helpers shared by every loss.

The array library is taken from ``y_pred`` on every call; there is no global backend.
"""

from __future__ import annotations

import importlib
import math
import sys
import warnings

import array_api_compat
import numpy as np


def namespace_of(y_pred):
    """Return ``(xp, y_pred)``: the Array API namespace of ``y_pred`` and ``y_pred`` as an array.

    Python scalars, lists and tuples are read as NumPy arrays. Libraries that array-api-compat does not
    cover take losskit's own namespace for them, from :data:`OWN_NAMESPACES`.
    """
    if type(y_pred) is np.ndarray:
        return _NUMPY, y_pred
    own = OWN_NAMESPACES.get(type(y_pred).__module__.split(".", 1)[0])
    if own is not None:
        xp = importlib.import_module(own)
        return xp, xp.asarray(y_pred)
    if not array_api_compat.is_array_api_obj(y_pred):
        y_pred = np.asarray(y_pred)
    return array_api_compat.array_namespace(y_pred), y_pred


_NUMPY = array_api_compat.array_namespace(np.empty(0))

#: Namespace modules of our own, by the top-level module of an array's type, imported by name on first use
#: (so that importing losskit imports no framework). TensorFlow's waits for array-api-compat's pull request
#: #441; when that ships, its entry goes.
OWN_NAMESPACES = {"tensorflow": "losskit.integrations.tf_namespace"}

# array_api_compat caches its type checks with functools.lru_cache, and torch.compile warns at each
# such call it traces (16 warnings for one loss): the cache is a speed-up that tracing may ignore.
warnings.filterwarnings(
    "ignore", r"Dynamo detected a call to a `functools\.lru_cache`-wrapped function at '_helpers\.py", UserWarning
)


def _is_tensorflow(x) -> bool:
    return type(x).__module__.startswith("tensorflow.")


def device(x):
    """The device ``x`` lives on (None for TensorFlow, which places operations itself)."""
    if _is_tensorflow(x):
        return None
    return array_api_compat.device(x)


def as_array_like(xp, x, like):
    """Return ``x`` as an array of namespace ``xp`` on the device of ``like``."""
    if type(x) is type(like):
        return x  # the same library, as the namespace test below would find
    if array_api_compat.is_array_api_obj(x):
        try:
            if array_api_compat.array_namespace(x) is xp:
                return x
        except TypeError:
            pass
    return xp.asarray(x, device=device(like))


#: NumPy's own dtype kinds, told apart quickly (others, such as bfloat16's "V", go to ``xp.isdtype``).
_KINDS = {"f": "floating", "i": "integral", "u": "integral", "b": "integral", "c": "complex", "U": "text"}


def is_floating(xp, dtype) -> bool:
    if isinstance(dtype, np.dtype) and dtype.kind in _KINDS:
        return _KINDS[dtype.kind] == "floating"
    if isinstance(dtype, np.dtype):  # ml_dtypes' bfloat16 and float8 types, which NumPy itself does not know
        return dtype.name.startswith(("bfloat", "float"))
    return xp.isdtype(dtype, "real floating")


def is_integral(xp, dtype) -> bool:
    if isinstance(dtype, np.dtype) and dtype.kind in _KINDS:
        return _KINDS[dtype.kind] == "integral"
    if isinstance(dtype, np.dtype):
        return dtype.name.startswith(("int", "uint"))  # ml_dtypes' int4 and uint4
    return xp.isdtype(dtype, ("integral", "bool"))


def compute_dtype(xp, dtype):
    """The dtype the math runs in: float16 and bfloat16 (NumPy's from ml_dtypes too) are computed in float32."""
    if isinstance(dtype, np.dtype) and dtype.kind == "V":
        return xp.float32
    return xp.float32 if xp.finfo(dtype).bits < 32 else dtype


def is_traced(x) -> bool:
    """True while a framework traces ``x`` (``jax.jit``, ``jax.grad``, ``torch.compile``).

    Data-dependent checks must not run then: reading a value would break the trace. The framework is
    the one ``x`` comes from, so it is already imported: it is taken from ``sys.modules``.
    """
    if type(x) is np.ndarray:
        return False
    if array_api_compat.is_jax_array(x):
        return isinstance(x, sys.modules["jax"].core.Tracer)
    if array_api_compat.is_torch_array(x):  # meta tensors have shapes but no values
        return sys.modules["torch"].compiler.is_compiling() or x.is_meta
    if _is_tensorflow(x):  # inside tf.function: graph tensors
        return not sys.modules["tensorflow"].executing_eagerly()
    return array_api_compat.is_lazy_array(x)


def index_dtype(xp):
    """The namespace's integer dtype for indices: int64, or int32 where that is the widest (JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes()["indexing"]


def as_result(xp, value):
    """NumPy reductions return scalars; the library promises 0-d arrays."""
    if xp is _NUMPY:
        return np.asarray(value)
    return value


def size(shape) -> int:
    return math.prod(shape)
