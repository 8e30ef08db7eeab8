r"""The PyTorch engine: the closed-form gradient of any loss as PyTorch's backward.

``engines.serve`` hands a prepared call here when its first prediction is a PyTorch tensor. When a
prediction needs a gradient and no framework is tracing (under ``torch.compile`` the reference
formulas are traced instead; see ``applies`` for the size rule), the forward computes the value and
the gradient of every prediction together, once, without recording a graph, and saves them; the
backward multiplies them by the incoming gradient (or, for the usual ``loss.backward()`` seed of 1 on
the CPU, hands the saved gradient over as it is). Value and gradients come from, in this order:

1. the NumPy engine (``losskit.fast``) on zero-copy views of CPU tensors, for the losses in
   ``VIA_NUMPY`` (fused numba kernels and hand-fused tiles, on every core);
2. PyTorch's native kernels (``NATIVE``: nll, a gather and a scatter), the same numbers to rounding;
3. the loss's own reference formulas, run without a graph.

Each gives the numbers of ``Loss.value_and_grad`` to rounding, NaN and inf included
(tests/test_torch_integration.py compares them with the reference path). All tables are keyed by
registry name.

Double backward works at every size: when the backward itself is recorded (``create_graph=True``),
it recomputes the gradient from the reference formulas, with autograd, so that its own derivative
(the Hessian-vector product) is exact.
"""

from __future__ import annotations

import dataclasses

import array_api_compat
import numpy as np
import torch

from .. import engines
from ..engines import Result
from ..reduction import Reduction

__all__ = ["applies", "serve", "value_with_grad", "value_and_grad", "NATIVE", "VIA_NUMPY"]


def _needs_graph(x) -> bool:
    return isinstance(x, torch.Tensor) and x.requires_grad


def applies(y_pred) -> bool:
    """True if the autograd Function should carry ``y_pred``'s gradient.

    It follows losskit's engine switch (``lk.fast_path``): off with "never", on for every size
    otherwise, so that the gradient at a kink is losskit's on every backend and at every size (autograd
    through the formulas would pick a side that depends on how a formula is written).
    """
    if not (_needs_graph(y_pred) and torch.is_grad_enabled()):
        return False
    if torch.compiler.is_compiling() or torch._C._functorch.is_functorch_wrapped_tensor(y_pred):
        return False
    return engines.get_fast_path() != "never"


def serve(loss, batch, order: int) -> Result | None:
    """The engine's result for a prepared call, or None for the reference formulas."""
    if order != 0:
        return None
    predictions = [batch.arrays[i] for i in batch.predictions]
    if not any(_needs_graph(p) for p in predictions) or not applies(next(p for p in predictions if _needs_graph(p))):
        return None
    return Result(value_with_grad(loss, batch))


# --------------------------------------------------------------------------------------------------
# Native per-example formulas: the reference's numbers in fewer passes, valid where the losses are finite
# --------------------------------------------------------------------------------------------------
# Each returns ``(losses, derivative)`` where ``derivative(c)`` is a new tensor holding ``c`` times the
# derivative (``c`` a Python float, or with ``derivative.per_row`` one scale per example). They skip the reference's
# care for NaN and inf (a bool mask costs more than the whole formula on the CPU): a non-finite value
# sends the call back to the reference formulas, which decide what NaN or inf means.


def _nll(loss, ids, log_p):
    index = ids[..., None]
    losses = torch.gather(log_p, -1, index)[..., 0].neg()

    def derivative(c):  # -c at each row's class: c a number or one scale per row (0 where a weight is 0)
        given = torch.full(index.shape, -c, dtype=log_p.dtype, device=log_p.device) if isinstance(c, float) else -c[..., None]
        return _reused_zeros(log_p).scatter_(-1, index, given.to(log_p.dtype))

    derivative.per_row = True
    return losses, derivative


def _reused_zeros(like):
    """Zeros shaped like a CPU tensor, in a block of the NumPy engine's pool (``fast._buffers``): a gradient of
    the same size dropped since leaves its memory there, already paged in."""
    from ..fast._buffers import empty

    if like.device.type != "cpu" or like.dtype not in (torch.float32, torch.float64):
        return torch.zeros_like(like)
    return torch.from_numpy(empty(tuple(like.shape), str(like.dtype).removeprefix("torch."))).zero_()


NATIVE = {"nll": _nll}

#: Losses whose NumPy engine (losskit.fast, on zero-copy views of CPU tensors) beats PyTorch's kernels.
VIA_NUMPY = {"mse", "mae", "rmse", "huber", "pseudo_huber", "hinge", "squared_hinge", "log_cosh", "msle",
             "binary_cross_entropy", "sigmoid_cross_entropy", "smooth_l1", "soft_margin", "log_poisson_nll",
             "kl_divergence", "multilabel_soft_margin", "hinge_embedding", "poisson_nll", "gaussian_nll",
             "margin_ranking", "cosine_embedding", "triplet_margin", "softmax_cross_entropy",
             "sparse_softmax_cross_entropy", "weston_watkins_hinge"}  # fmt: skip


def _registered(loss) -> bool:
    from ..registry import is_registered

    return is_registered(loss)


def _native(loss, batch):
    native = NATIVE.get(loss.info.name)
    if native is None or not _registered(loss) or getattr(loss, "class_weight", None) is not None:
        return None
    y_true, y_pred = batch.arrays
    if y_pred.device.type != "cpu" or y_pred.dtype not in (torch.float32, torch.float64):
        return None  # elsewhere the reference formulas are fast enough, and the finiteness check would sync
    return native(loss, y_true, y_pred)


def _via_numpy(loss, batch):
    """The NumPy engine on views of CPU tensors: ``(value, grad)`` as tensors, or None."""
    if loss.info.name not in VIA_NUMPY:
        return None
    red = batch.reduction
    dtype = batch.arrays[batch.predictions[0]].dtype
    if dtype not in (torch.float32, torch.float64):
        return None
    ids = [spec.kind == "class_index" for spec in batch.specs] + [False]
    for a, is_ids in zip((*batch.arrays, red.weight), ids):
        if a is not None and (a.device.type != "cpu" or (a.dtype != dtype and not is_ids)):
            return None
    if isinstance(red.normalizer, torch.Tensor) or red.counted is not None:
        return None
    from .. import fast

    def view(a):
        return a.detach().resolve_conj().resolve_neg().numpy()

    arrays = tuple(view(a) for a in batch.arrays)
    xp = array_api_compat.array_namespace(arrays[1])
    numpy_batch = dataclasses.replace(
        batch, xp=xp, arrays=arrays, reduction=red.with_namespace(xp, lambda a: np.asarray(view(a)))
    )
    result = fast.serve(loss, numpy_batch, 1, force=True)
    if result is None:
        return None
    return torch.from_numpy(np.asarray(result.value)), tuple(torch.from_numpy(g) for g in result.grads)


def value_and_grad(loss, batch):
    """``(value, grads)`` of a prepared call (compute layout), as ``Loss.value_and_grad`` computes them."""
    with torch.no_grad():
        result = _via_numpy(loss, batch)
        if result is not None:
            return result
        native = _native(loss, batch)
        if native is not None:
            losses, derivative = native
            red = batch.reduction
            value = red.value(losses)
            total = value if value.dim() == 0 else torch.sum(value)
            if bool(torch.isfinite(total)):
                scale = red.scale
                if isinstance(scale, float):
                    return value, (derivative(scale),)
                if getattr(derivative, "per_row", False):  # scales each row itself: no pass over the whole array
                    return value, (derivative(torch.broadcast_to(scale, losses.shape)),)
                return value, (red.chain(derivative(1.0), True),)
        result = loss.reference(batch, 1)
        return result.value, result.grads


class _ClosedForm(torch.autograd.Function):
    """``value`` with the saved closed-form gradients as its derivatives with respect to the predictions."""

    @staticmethod
    def forward(ctx, context, count, value, *tensors):
        grads, predictions = tensors[:count], tensors[count:]
        ctx.save_for_backward(*grads, *predictions)
        ctx.context, ctx.count = context, count
        return value

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        count = ctx.count
        grads, predictions = saved[:count], saved[count:]
        loss, batch = ctx.context
        if torch.is_grad_enabled():  # the backward is recorded (create_graph): differentiable formulas
            arrays = list(batch.arrays)
            for i, p in zip(batch.predictions, predictions):
                arrays[i] = p
            grads = loss.reference(dataclasses.replace(batch, arrays=tuple(arrays)), 1).grads
        if loss.batch_coupled and grad_out.dim() > 0:  # each example's seed is a scale of the pullback, not a factor
            red = batch.reduction
            weight = grad_out if red.weight is None else torch.broadcast_to(red.weight, grad_out.shape) * grad_out
            seeded = Reduction(red.xp, "none", red.shape, weight=weight)
            return (None, None, None, *([None] * count), *loss.reference(dataclasses.replace(batch, reduction=seeded), 1).grads)
        out = []
        for grad in grads:
            if grad_out.dim() == 0:
                # loss.backward() seeds 1: hand over the saved gradient itself (no pass, no new buffer). Autograd
                # copies it before storing it anywhere while the graph is kept (retain_graph), so it is never shared.
                if grad_out.device.type == "cpu" and not grad_out.requires_grad and grad_out.item() == 1.0:
                    out.append(grad)
                else:
                    out.append(grad * grad_out)
            else:
                out.append(grad * torch.reshape(grad_out, grad_out.shape + (1,) * (grad.dim() - grad_out.dim())))
        return (None, None, None, *([None] * count), *out)


def value_with_grad(loss, batch):
    """The value, attached to the predictions' graph with the closed-form gradients as its backward."""
    value, grads = value_and_grad(loss, batch)
    predictions = [batch.arrays[i] for i in batch.predictions]
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value, dtype=predictions[0].dtype, device=predictions[0].device)
    return _ClosedForm.apply((loss, batch), len(grads), value, *grads, *predictions)
