r"""JAX integrations: ``lk.jax.linear_cross_entropy``.

``linear_cross_entropy(hidden, weight, targets)`` is ``sparse_softmax_cross_entropy(targets, hidden @
weight.T)`` with the projection and the cross-entropy fused and scanned over chunks of rows
(``lax.scan``), so the full ``(rows, vocab)`` logits never exist, in the value or in its gradient; the
options are those of ``lk.torch.linear_cross_entropy``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import validation_enabled
from .._xp import is_traced
from ..errors import InputError, InputTypeError
from ._linear import NAME, options

__all__ = ["linear_cross_entropy"]


def _chunk(h, w, b, t, eps, z_loss):
    """One chunk's losses, ``logsumexp`` and logits (in float32 or wider).

    The true class's logit and the mean logit come from ``h`` and the weight's rows, not from the logits, whose
    last readers are then the blocks of their gradient (``_backward``): XLA keeps no second chunk-sized buffer."""
    acc = jnp.promote_types(h.dtype, jnp.float32)
    logits = jnp.matmul(h, w.T, preferred_element_type=acc)
    if b is not None:
        logits = logits + b
    lse = jax.nn.logsumexp(logits, axis=-1)
    z_true = jnp.einsum("cd,cd->c", h, w[t], preferred_element_type=acc) + (0.0 if b is None else b[t])
    loss = (1.0 - eps) * (lse - z_true) + z_loss * lse * lse
    if eps:
        z_mean = jnp.matmul(h.astype(acc), jnp.mean(w.astype(acc), axis=0))
        loss = loss + eps * (lse - z_mean - (0.0 if b is None else jnp.mean(b)))
    return loss, lse, logits


#: Vocabulary columns of a chunk's logits turned into their gradient at a time (see ``_backward``).
BLOCK = 512


def _backward(d_weight, d_bias, logits, h, weight, t, s, lse, eps, z_loss):
    """The chunk's part of the gradients, a block of vocabulary columns at a time: each block of the logits
    becomes its gradient (softmax (1 + 2 z lse) - (1 - eps) onehot - eps / vocab, times the row's scale ``s``),
    which updates the weight's gradient rows in place and adds to the chunk's hidden gradient. The chunk's
    whole logits gradient never exists, and the weight's gradient is never copied (XLA fuses no matmul into the
    addition that follows it)."""
    vocab = logits.shape[1]
    acc = logits.dtype
    factor = (s * (1.0 + 2.0 * z_loss * lse))[:, None]
    shift, smooth, hit = lse[:, None], ((eps / vocab) * s)[:, None], (-(1.0 - eps) * s)[:, None]
    h = h.astype(acc)

    def update(carry, start, size):
        d_weight, d_bias, d_hidden = carry
        z = jax.lax.dynamic_slice_in_dim(logits, start, size, axis=1)
        columns = start + jnp.arange(size)
        d = jnp.exp(z - shift) * factor - smooth + jnp.where(columns == t[:, None], hit, 0.0)
        rows = jax.lax.dynamic_slice_in_dim(d_weight, start, size, axis=0)
        d_weight = jax.lax.dynamic_update_slice_in_dim(d_weight, rows + jnp.matmul(d.T, h), start, axis=0)
        if d_bias is not None:
            part = jax.lax.dynamic_slice_in_dim(d_bias, start, size)
            d_bias = jax.lax.dynamic_update_slice_in_dim(d_bias, part + jnp.sum(d, axis=0), start, axis=0)
        w = jax.lax.dynamic_slice_in_dim(weight, start, size, axis=0).astype(acc)
        return d_weight, d_bias, d_hidden + jnp.matmul(d, w)

    carry = (d_weight, d_bias, jnp.zeros(h.shape, acc))
    whole = vocab // BLOCK * BLOCK
    if whole:
        carry, _ = jax.lax.scan(lambda c, start: (update(c, start, BLOCK), None), carry, jnp.arange(0, whole, BLOCK))
    if whole < vocab:
        carry = update(carry, whole, vocab - whole)
    return carry


def _scan(hidden, weight, bias, targets, scale, eps, z_loss, chunk, grads):
    """Per-row losses and, with ``grads``, the gradients of ``sum(scale * losses)`` for hidden, weight, bias."""
    rows, d = hidden.shape
    vocab = weight.shape[0]
    pad = (-rows) % chunk
    steps = (rows + pad) // chunk
    h = jnp.pad(hidden, ((0, pad), (0, 0))).reshape(steps, chunk, d)
    t = jnp.pad(targets, (0, pad)).reshape(steps, chunk)
    s = jnp.pad(scale, (0, pad)).reshape(steps, chunk)
    acc = jnp.promote_types(hidden.dtype, jnp.float32)

    def step(carry, xs):
        h_c, t_c, s_c = xs
        loss, lse, logits = _chunk(h_c, weight, bias, t_c, eps, z_loss)
        if not grads:
            return carry, (loss, None)
        d_weight, d_bias, d_hidden = _backward(*carry, logits, h_c, weight, t_c, s_c, lse, eps, z_loss)
        return (d_weight, d_bias), (loss, d_hidden.astype(hidden.dtype))

    carry = (jnp.zeros(weight.shape, acc), None if bias is None else jnp.zeros(vocab, acc)) if grads else None
    carry, (losses, d_hidden) = jax.lax.scan(step, carry, (h, t, s))
    losses = losses.reshape(-1)[:rows]
    if not grads:
        return losses, None
    d_weight, d_bias = carry
    return losses, (d_hidden.reshape(-1, d)[:rows], d_weight.astype(weight.dtype),
                    None if d_bias is None else d_bias.astype(bias.dtype))  # fmt: skip


def _fused(eps, z_loss, chunk, reduced):
    """The loss as a ``jax.custom_vjp`` of (hidden, weight, bias, targets, row_weight, denominator).

    ``reduced``: the value is ``sum(w l) / denominator`` and its forward pass computes the gradients
    too (one scan, three matmuls per chunk), the backward only scales them; otherwise the value is each
    row's ``w l`` and the backward scans again with the cotangents as the rows' scales.
    """

    def value(hidden, weight, bias, targets, row_weight, denominator):
        losses, _ = _scan(hidden, weight, bias, targets, row_weight, eps, z_loss, chunk, False)
        weighted = jnp.where(row_weight == 0, 0.0, row_weight * losses)
        return jnp.sum(weighted) / denominator if reduced else weighted

    def forward(hidden, weight, bias, targets, row_weight, denominator):
        if not reduced:
            return value(hidden, weight, bias, targets, row_weight, denominator), (hidden, weight, bias, targets, row_weight)
        losses, grads = _scan(hidden, weight, bias, targets, row_weight / denominator, eps, z_loss, chunk, True)
        weighted = jnp.where(row_weight == 0, 0.0, row_weight * losses)
        return jnp.sum(weighted) / denominator, grads

    def backward(saved, g):
        if reduced:
            d_hidden, d_weight, d_bias = saved
            scaled = tuple(None if x is None else (x * g).astype(x.dtype) for x in (d_hidden, d_weight, d_bias))
            return (*scaled, None, None, None)
        hidden, weight, bias, targets, row_weight = saved
        scale = jnp.where(row_weight == 0, 0.0, row_weight * g)
        _, (d_hidden, d_weight, d_bias) = _scan(hidden, weight, bias, targets, scale, eps, z_loss, chunk, True)
        return d_hidden, d_weight, d_bias, None, None, None

    fused = jax.custom_vjp(value)
    fused.defvjp(forward, backward)
    return fused


def linear_cross_entropy(hidden, weight, targets, *, bias=None, ignore_index=None, label_smoothing=0.0, z_loss=0.0,
                         sample_weight=None, reduction="mean", normalizer=None, chunk_size=128):  # fmt: skip
    r"""Cross-entropy of the logits ``hidden @ weight.T (+ bias)`` against class ids, without the logits.

    Per row: :math:`(1-\varepsilon)(\mathrm{lse} - z_y) + \varepsilon(\mathrm{lse} - \bar z) +
    \lambda\,\mathrm{lse}^2` (``label_smoothing`` is :math:`\varepsilon`, ``z_loss`` :math:`\lambda`).
    Rows whose id is ``ignore_index`` weigh 0; weights, reductions and ``normalizer`` follow losskit's
    rule. ``chunk_size`` rows at a time: peak extra memory is one chunk of logits plus the gradients (128 rows
    by default, half of PyTorch's: XLA keeps its temporaries apart where PyTorch reuses the logits' buffer).
    Works under ``jax.jit`` and ``jax.grad`` (a ``jax.custom_vjp``; with a reduced value the forward pass
    computes the gradients as well, so that no second pass over the logits is needed).

    Parameters
    ----------
    hidden : (..., d) array (leading axes are the rows)
    weight : (vocab, d) array, the output projection
    targets : (...) integer class ids
    """
    name = NAME
    reduction, eps, z, normalizer, ignore_index = options(reduction, label_smoothing, z_loss, normalizer, ignore_index)
    hidden, weight, targets = (jnp.asarray(a) for a in (hidden, weight, targets))
    if weight.ndim != 2 or hidden.ndim < 1 or hidden.shape[-1] != weight.shape[1]:
        raise InputError(
            f"{name}: hidden of shape {tuple(hidden.shape)} and weight of shape {tuple(weight.shape)} do not multiply; "
            "expected hidden (..., d) and weight (vocab, d)."
        )
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise InputTypeError(f"{name}: targets must be integer class ids; got dtype {targets.dtype}.")
    lead = hidden.shape[:-1]
    if targets.shape != lead:
        raise InputError(f"{name}: targets of shape {tuple(targets.shape)} do not match hidden's rows {tuple(lead)}.")
    if bias is not None and tuple(jnp.shape(bias)) != (weight.shape[0],):
        raise InputError(f"{name}: bias must have shape ({weight.shape[0]},); got {tuple(jnp.shape(bias))}.")
    if not is_traced(targets) and validation_enabled():  # read on the host: inside jax.jit, jnp results are traced
        ids = np.asarray(targets)
        outside = ((ids < 0) | (ids >= weight.shape[0])) & (True if ignore_index is None else ids != ignore_index)
        if outside.any():
            hint = "" if ignore_index is not None else " To skip padding labels such as -100, pass ignore_index=-100."
            raise InputError(f"{name}: targets must be class ids in [0, {weight.shape[0]}) (the rows of weight); got "
                             f"{int(outside.sum())} outside.{hint}")  # fmt: skip
    targets = targets.reshape(-1)
    keep = jnp.ones(targets.shape, bool) if ignore_index is None else targets != ignore_index
    acc = jnp.promote_types(hidden.dtype, jnp.float32)
    row_weight = keep.astype(acc)
    if sample_weight is not None:
        row_weight = row_weight * jnp.asarray(sample_weight, acc).reshape(-1)
    targets = jnp.where(keep, targets, 0)
    if normalizer is not None:
        denominator = jnp.asarray(normalizer, acc)
    elif reduction == "mean":
        total = jnp.sum(row_weight)
        denominator = jnp.where(total > 0, total, 1.0)  # every row ignored: 0
    else:
        denominator = jnp.ones((), acc)
    fused = _fused(float(eps), float(z), int(chunk_size), reduction != "none")
    out = fused(hidden.reshape(-1, hidden.shape[-1]), weight, bias, targets, row_weight, denominator)
    return out.reshape(lead).astype(hidden.dtype) if reduction == "none" else out.astype(hidden.dtype)
