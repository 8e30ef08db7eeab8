r"""PyTorch integrations: ``lk.torch.linear_cross_entropy``, and a module per loss (``lk.torch.HuberLoss``).

``linear_cross_entropy(hidden, weight, targets)`` is ``sparse_softmax_cross_entropy(targets, hidden @
weight.T)`` with the projection and the cross-entropy fused and chunked over rows, so the full
``(rows, vocab)`` logits never exist at once, forward or backward.
"""

from __future__ import annotations

import array_api_compat
import torch

from .._checks import describe_bad, validation_enabled
from .._xp import is_traced
from ..errors import InputError, InputTypeError
from ..reduction import Reduction
from ._linear import NAME, options
from .torch_modules import MODULES, LossModule  # noqa: F401

__all__ = ["linear_cross_entropy", "LossModule", *MODULES]
globals().update(MODULES)


def _chunk_pass(hidden, weight, bias, targets, row_weight, eps, z_loss, chunk, want_grad, grad_rows=None):
    """Losses per row and, with ``want_grad``, the gradients of hidden, weight and bias.

    The gradient of each row's loss is scaled by ``grad_rows`` (per-row factors), so the chunk's
    logits buffer becomes its gradient in place.
    """
    rows, vocab = hidden.shape[0], weight.shape[0]
    acc = torch.promote_types(hidden.dtype, torch.float32)  # float16/bfloat16 accumulate in float32
    losses = torch.empty(rows, dtype=acc, device=hidden.device)
    d_hidden = torch.empty_like(hidden) if want_grad else None
    d_weight = torch.zeros_like(weight, dtype=acc) if want_grad else None
    d_bias = torch.zeros(vocab, dtype=acc, device=hidden.device) if (want_grad and bias is not None) else None
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        h = hidden[start:stop]
        logits = h @ weight.T
        if bias is not None:
            logits += bias
        logits = logits.to(acc)
        t = targets[start:stop]
        z_true = logits.gather(1, t[:, None])[:, 0]
        z_mean = logits.mean(dim=-1) if eps else None
        # logsumexp by hand, in the logits buffer (torch.logsumexp would allocate a second chunk of logits):
        # after this the buffer holds exp(z - max), and softmax is that over its row sum.
        top = torch.amax(logits, dim=-1)
        top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
        row_sum = logits.sub_(top[:, None]).exp_().sum(dim=-1)
        lse = top + row_sum.log()
        loss = (1.0 - eps) * (lse - z_true)
        if eps:
            loss = loss + eps * (lse - z_mean)
        if z_loss:
            loss = loss + z_loss * lse * lse
        losses[start:stop] = loss
        if want_grad:
            scale = grad_rows[start:stop]
            # d loss / d logits = softmax * (1 + 2 z lse) - target'; built in the logits buffer.
            factor = scale * (1.0 + 2.0 * z_loss * lse) if z_loss else scale
            logits.mul_((factor / row_sum)[:, None])
            logits.scatter_add_(1, t[:, None], (-(1.0 - eps) * scale)[:, None])
            if eps:
                logits.sub_((eps / vocab) * scale[:, None])
            g = logits.to(hidden.dtype)
            d_hidden[start:stop] = g @ weight
            d_weight.addmm_(g.T.to(acc), h.to(acc))
            if d_bias is not None:
                d_bias += g.to(acc).sum(0)
            del g
        del logits  # before the next chunk's logits are allocated: one chunk alive at a time
    return losses, d_hidden, d_weight, d_bias


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, targets, red, eps, z_loss, chunk):
        row_weight, reduction = red.weight, red.kind
        eager = reduction != "none" and (hidden.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad))
        losses, d_hidden, d_weight, d_bias = _chunk_pass(
            hidden, weight, bias, targets, row_weight, eps, z_loss, chunk, eager, red.scale
        )
        ctx.reduction = reduction
        ctx.chunk, ctx.eps, ctx.z_loss = chunk, eps, z_loss
        ctx.has_bias = bias is not None
        if eager:
            ctx.save_for_backward(d_hidden, d_weight, d_bias if d_bias is not None else torch.empty(0))
        else:
            ctx.save_for_backward(hidden, weight, bias if bias is not None else torch.empty(0), targets, row_weight)
        return red.value(losses).to(hidden.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.reduction != "none":
            d_hidden, d_weight, d_bias = ctx.saved_tensors
            if grad_out.device.type == "cpu" and grad_out.item() == 1.0 and d_weight.dtype == d_hidden.dtype:
                # loss.backward() seeds 1: hand over the gradients computed in the forward, with no second
                # weight-sized buffer (autograd copies them first if the graph is kept)
                return (d_hidden, d_weight, d_bias if ctx.has_bias else None,
                        None, None, None, None, None)  # fmt: skip
            g = grad_out.to(d_weight.dtype)
            return (
                (d_hidden * g).to(d_hidden.dtype),
                (d_weight * g).to(d_hidden.dtype),
                (d_bias * g).to(d_hidden.dtype) if ctx.has_bias else None,
                None, None, None, None, None,
            )  # fmt: skip
        hidden, weight, bias, targets, row_weight = ctx.saved_tensors
        bias = bias if ctx.has_bias else None
        scale = torch.where(row_weight == 0, torch.zeros_like(row_weight), row_weight * grad_out.to(row_weight.dtype))
        _, d_hidden, d_weight, d_bias = _chunk_pass(
            hidden, weight, bias, targets, row_weight, ctx.eps, ctx.z_loss, ctx.chunk, True, scale
        )
        return (d_hidden, d_weight.to(weight.dtype), None if bias is None else d_bias.to(bias.dtype),
                None, None, None, None, None)  # fmt: skip


def _check_tensors(hidden, weight, targets, bias) -> None:
    """Refuse what is not a tensor, and shapes the projection cannot multiply, naming the argument."""
    given = {"hidden": hidden, "weight": weight, "targets": targets, "bias": bias}
    for arg, value in given.items():
        if value is not None and not isinstance(value, torch.Tensor):
            raise InputTypeError(f"linear_cross_entropy: {arg} must be a torch.Tensor; got {type(value).__name__}.")
    if weight.ndim != 2 or hidden.ndim < 1 or hidden.shape[-1] != weight.shape[1]:
        raise InputError(
            f"linear_cross_entropy: hidden of shape {tuple(hidden.shape)} and weight of shape {tuple(weight.shape)} do "
            "not multiply; expected hidden (..., d) and weight (vocab, d), as torch.nn.Linear(d, vocab).weight."
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise InputError(f"linear_cross_entropy: bias must have shape ({weight.shape[0]},); got {tuple(bias.shape)}.")
    if targets.dtype.is_floating_point or targets.dtype.is_complex or targets.dtype == torch.bool:
        raise InputTypeError(f"linear_cross_entropy: targets must be integer class ids; got dtype {targets.dtype}.")


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    *,
    bias: torch.Tensor | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    sample_weight: torch.Tensor | None = None,
    reduction: str = "mean",
    normalizer: float | None = None,
    chunk_size: int = 256,
) -> torch.Tensor:
    r"""Cross-entropy of the logits ``hidden @ weight.T (+ bias)`` against class ids, without the logits.

    The rows are processed ``chunk_size`` at a time: each chunk's logits are computed, reduced to
    the loss and turned in place into their gradient, which is multiplied back into the gradients of
    ``hidden`` and ``weight``. Peak extra memory is one chunk of logits plus the gradients themselves.

    Per row: :math:`(1-\varepsilon)(\mathrm{lse} - z_y) + \varepsilon(\mathrm{lse} - \bar z) +
    \lambda\,\mathrm{lse}^2` with :math:`\mathrm{lse} = \log\sum_c e^{z_c}` (``z_loss`` is
    :math:`\lambda`, PaLM's auxiliary term). Rows whose id is ``ignore_index`` weigh 0; weights,
    reductions and ``normalizer`` follow losskit's rule (``"mean"`` is ``sum(w l) / sum(w)``, 0 when
    every row is ignored).

    Parameters
    ----------
    hidden : (rows, d) tensor (leading axes are flattened)
    weight : (vocab, d) tensor, the output projection (``torch.nn.Linear.weight``)
    targets : (rows,) integer class ids
    """
    name = NAME
    reduction, label_smoothing, z_loss, normalizer, ignore_index = options(
        reduction, label_smoothing, z_loss, normalizer, ignore_index
    )
    _check_tensors(hidden, weight, targets, bias)
    lead = hidden.shape[:-1]
    hidden2 = hidden.reshape(-1, hidden.shape[-1])
    if targets.shape != lead:
        raise InputError(
            f"linear_cross_entropy: targets of shape {tuple(targets.shape)} do not match hidden's rows {tuple(lead)}."
        )
    targets = targets.reshape(-1).long()
    if not is_traced(targets) and validation_enabled():
        outside = ((targets < 0) | (targets >= weight.shape[0])) & (targets != ignore_index if ignore_index is not None else True)
        if bool(outside.any()):
            hint = "" if ignore_index is not None else " To skip padding labels such as -100, pass ignore_index=-100."
            raise InputError(
                f"{name}: targets must be class ids in [0, {weight.shape[0]}) (the rows of weight); "
                f"{describe_bad(array_api_compat.array_namespace(targets), targets, outside)}.{hint}"
            )
    acc = torch.promote_types(hidden.dtype, torch.float32)
    row_weight = torch.ones(targets.shape, dtype=acc, device=hidden.device)
    if sample_weight is not None:
        row_weight = row_weight * sample_weight.reshape(-1).to(acc)
    if ignore_index is not None:
        keep = targets != ignore_index
        row_weight = row_weight * keep
        targets = torch.where(keep, targets, torch.zeros_like(targets))
    red = Reduction(array_api_compat.array_namespace(row_weight), reduction, tuple(row_weight.shape),
                    weight=row_weight, normalizer=normalizer)  # fmt: skip
    out = _LinearCrossEntropy.apply(
        hidden2, weight, bias, targets, red, float(label_smoothing), float(z_loss), int(chunk_size)
    )  # fmt: skip
    return out.reshape(lead) if reduction == "none" else out
