"""The NumPy engine: fused, multi-threaded value and gradient for NumPy arrays.

The reference formulas of each loss stay the definition; this engine computes the same formulas with
fewer passes over memory, for the losses in ``_impl.IMPLS`` (keyed by registry name):

- elementwise losses with arithmetic-only math (mse, mae, rmse, huber, pseudo_huber, hinge,
  squared_hinge): one numba kernel per loss reads ``y_true``, ``y_pred`` (and the weight) once and
  writes the gradient, summing the value on the way, on every core (numba is optional: without it,
  every elementwise loss takes its reference formula on cache-sized tiles);
- the transcendental elementwise losses (log_cosh, msle, binary and sigmoid cross-entropy): per tile,
  NumPy's SIMD ufuncs take the exp and log into tile buffers and one numba kernel does the rest (the
  losses, the weighted sum, the gradient); a tile whose sum is not finite (NaN, inf, a clamped log) is
  recomputed with the reference formula, so NaN and inf land exactly where the reference puts them;
- every other supported loss (the probability cross-entropies, KL, any cross-entropy with class
  weights, and losses of several arrays: margin_ranking, gaussian_nll, the embedding losses): the
  loss's own reference formula on cache-sized tiles of examples, on every core, with the reduction
  and the gradient scale applied per tile, so no full-size temporary exists;
- softmax cross-entropy, dense and sparse: a row-tiled pass that needs no buffer but the gradient
  (or none, with ``out=`` the logits themselves); rows with a non-finite maximum go to the reference;
- multilabel_soft_margin: the sigmoid cross-entropy's kernel over the whole array, each row's weight
  spread over its labels; cosine_embedding: one numba kernel that reads each pair of rows for its dot
  products and again, from the cache, for both gradients;
- the robust losses of the catalogue (smooth_l1, the epsilon-insensitive pair, cauchy, geman_mcclure,
  welsch, tukey_biweight, general_robust), the Poisson, Gamma and Tweedie deviances and their log-mean
  twins, and log_poisson_nll: value, gradient and Hessian diagonal in one pass (``grad_and_hessian``,
  what boosting calls every round): per tile, NumPy's ufuncs take the exp and log
  (``_numba.HESSIAN_STAGES``) and one kernel (``_numba.HESSIAN_ELEMENTS``) the rest; a tile whose sum
  is not finite goes to the reference. Settings a kernel does not cover (Barron's alpha = 2 or +inf,
  Tweedie's power 0, ``full=True``) take the reference formula on tiles, on every core.

Gradients (and the losses of ``reduction="none"``) of a megabyte or more come from a small pool of
blocks that are handed out again once their array is gone (``_buffers.py``; ``release_buffers()``
frees the idle ones, ``LOSSKIT_BUFFER_POOL_MB=0`` turns it off): a fresh array of that size costs as
much in page faults as the loss itself.

Weights, reductions and ``normalizer`` come from the call's ``Reduction`` (its denominator and its
weights), the same object the reference formulas use; only the order of summation differs.

The engine table (``losskit.engines``) calls :func:`serve`; the switch ``lk.set_fast_path`` /
``lk.fast_path`` and ``LOSSKIT_FAST_PATH`` decide when ("auto": NumPy inputs of at least
``AUTO_MIN_SIZE`` elements). ``LOSSKIT_DISABLE_NUMBA=1`` (or true, yes, on) turns numba off.
"""

from __future__ import annotations

import numpy as np

from .. import engines
from ..engines import AUTO_MIN_SIZE, MODES, Result, fast_path, get_fast_path, set_fast_path
from ..errors import InputError
from ..reduction import DEFAULT
from ._buffers import release_buffers
from ._config import MIN_PER_THREAD, ROW_TILE, TILE, numba_available

def _impls():
    from . import _impl

    return _impl.IMPLS


def supported(loss) -> bool:
    """True if this engine has an implementation of the loss (a registered loss, not a user's subclass)."""
    from ..registry import is_registered

    return loss.info.name in _impls() and is_registered(loss)


def serve(loss, batch, order: int, *, out=None, force: bool = False) -> Result | None:
    """The engine's result for a prepared call (``engines.serve`` calls it), or None for the reference."""
    arrays, red = batch.arrays, batch.reduction
    y_pred = arrays[batch.predictions[0]]
    if not force and not engines.wanted(y_pred.size):
        return None
    if not all(type(a) is np.ndarray for a in arrays) or not supported(loss):
        return None
    if red.normalizer is not None and not isinstance(red.normalizer, float):
        return None
    if y_pred.dtype not in (np.float32, np.float64) or (red.weight is not None and type(red.weight) is not np.ndarray):
        return None
    impl = _impls()[loss.info.name]
    hessian = getattr(impl, "hessian", False)
    if order > 1 and not hessian:
        return None
    result = impl(loss, batch, order if hessian else order == 1, out)
    if result is None:
        return None
    value, grad, hess = (*result, None)[:3]
    grads = grad if isinstance(grad, tuple) or grad is None else (grad,)
    return Result(value, grads, None if hess is None else (hess,))


def value_and_grad(loss, *arrays, sample_weight=None, reduction=DEFAULT, normalizer=None, out=None):
    """``loss.value_and_grad`` on this engine, writing the gradient into ``out``.

    ``out`` is a NumPy array shaped like ``y_pred`` in its dtype (float32 or float64); it may be
    ``y_pred`` itself, so that the gradient overwrites the logits and no logits-sized buffer is
    allocated at all. Raises InputError if the engine cannot serve the call.

    >>> import numpy as np, losskit as lk
    >>> logits = np.array([[0.0, 0.0]])
    >>> value, grad = lk.fast.value_and_grad(lk.SparseSoftmaxCrossEntropy(), [1], logits, out=logits)
    >>> np.shares_memory(grad, logits), round(float(value), 6), logits.tolist()
    (True, 0.693147, [[0.5, -0.5]])
    """
    from ..inputs import prepare
    from ..registry import get

    loss = get(loss)
    with np.errstate(all="ignore"):
        batch = prepare(loss, arrays, sample_weight, reduction, normalizer)
    index = batch.predictions[0]
    if out is not None:
        given = arrays[index]
        if not isinstance(out, np.ndarray) or out.shape != tuple(np.shape(given)) or out.dtype != batch.dtype:
            raise InputError(
                f"{loss.info.name}: out must be a NumPy array of y_pred's shape {tuple(np.shape(given))} and "
                f"dtype {batch.dtype}; got {getattr(out, 'shape', None)} {getattr(out, 'dtype', type(out))}."
            )
        others = [a for i, a in enumerate((*arrays, sample_weight)) if i != index and isinstance(a, np.ndarray)]
        if any(np.shares_memory(out, a) for a in others):
            raise InputError(
                f"{loss.info.name}: out shares memory with an input other than {batch.specs[index].name}; the "
                "gradient would overwrite it while it is read. Pass a separate array, or y_pred itself."
            )
        if batch.axis is not None:
            out = np.moveaxis(out, batch.axis, -1)
    with np.errstate(all="ignore"):
        result = serve(loss, batch, 1, out=out, force=True)
    if result is None:
        raise InputError(f"{loss.info.name}: the fast path cannot serve this call (library, dtype or layout).")
    value = np.asarray(result.value).astype(batch.out_dtype, copy=False)
    return value, batch.restore(index, result.grads[0])


__all__ = ["MODES", "AUTO_MIN_SIZE", "set_fast_path", "get_fast_path", "fast_path", "value_and_grad", "serve",
           "numba_available", "supported", "release_buffers"]  # fmt: skip
