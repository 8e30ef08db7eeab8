r"""PyTorch eager autograd for every loss: the closed-form gradient as a ``torch.autograd.Function``.

``Loss.__call__`` hands its prepared inputs here when ``y_pred`` is a PyTorch tensor that needs a
gradient and no framework is tracing (under ``torch.compile`` the plain Array API formulas are
traced instead; see ``applies`` for the size rule). The forward computes the value and the gradient
together, once, without recording an autograd graph, and saves the gradient; the backward multiplies
it by the incoming gradient (or, for the usual ``loss.backward()`` seed of 1 on the CPU, hands the
saved gradient over as it is). Value and gradient come from, in this order:

1. the NumPy fast path (``losskit.fast``) on zero-copy views of CPU tensors, for the losses in
   ``VIA_NUMPY`` (fused numba kernels and hand-fused tiles, on every core);
2. PyTorch's native kernels (``NATIVE``: the softmax cross-entropies), the same numbers to rounding;
3. the loss's own reference formulas (``_losses_and_derivative``), run without a graph.

Each gives the numbers of ``Loss.value_and_grad`` to rounding, NaN and inf included
(tests/test_torch_integration.py compares them with the reference path).

Double backward is not supported (the saved gradient is a constant): it raises.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.autograd.function import once_differentiable

__all__ = ["applies", "value_with_grad", "value_and_grad", "NATIVE"]


def applies(y_pred) -> bool:
    """True if the autograd Function should carry ``y_pred``'s gradient.

    It follows losskit's fast-path switch (``losskit.fast.fast_path``): off with "never", on for every
    size with "always", and with "auto" for tensors of at least ``fast.AUTO_MIN_SIZE`` elements (below
    that, autograd through the reference formulas costs less than the Function's own overhead).
    """
    if not (isinstance(y_pred, torch.Tensor) and y_pred.requires_grad and torch.is_grad_enabled()):
        return False
    if torch.compiler.is_compiling() or torch._C._functorch.is_functorch_wrapped_tensor(y_pred):
        return False
    from .. import fast

    mode = fast.get_fast_path()
    return mode == "always" or (mode == "auto" and y_pred.numel() >= fast.AUTO_MIN_SIZE)


# --------------------------------------------------------------------------------------------------
# Native per-example formulas: the reference's numbers in fewer passes, valid where the losses are finite
# --------------------------------------------------------------------------------------------------
# Each returns ``(losses, derivative)`` where ``derivative(c)`` is a new tensor holding ``c`` times the
# derivative (``c`` a Python float, folded into a pass that runs anyway). They skip the reference's
# care for NaN and inf (a bool mask costs more than the whole formula on the CPU): a non-finite value
# sends the call back to the reference formulas, which decide what NaN or inf means.


def _sparse_softmax_ce(loss, ids, z):
    eps, num_classes = loss.label_smoothing, z.shape[-1]
    if num_classes == 0:
        return None
    log_p = torch.log_softmax(z, dim=-1)
    index = ids[..., None]
    losses = torch.gather(log_p, -1, index)[..., 0].mul_(-(1.0 - eps))
    if eps > 0:
        losses.sub_(eps * torch.mean(log_p, dim=-1))

    def derivative(c):
        d = log_p.exp_()  # log_p is not needed any more
        if eps > 0:
            d.sub_(eps / num_classes)
        if c != 1.0:
            d.mul_(c)
        return d.scatter_add_(-1, index, torch.full(index.shape, -(1.0 - eps) * c, dtype=z.dtype, device=z.device))

    return losses, derivative


def _softmax_ce(loss, y, z):
    eps, num_classes = loss.label_smoothing, z.shape[-1]
    if num_classes == 0:
        return None
    target = y * (1.0 - eps) + eps / num_classes if eps else y
    log_p = torch.log_softmax(z, dim=-1)
    # -sum y' log p; a zero target against a -inf log gives NaN here, so the reference takes that call
    losses = torch.linalg.vecdot(target, log_p).neg_()

    def derivative(c):
        d = log_p.exp_().mul_(torch.sum(target, dim=-1, keepdim=True))  # log_p is not needed any more
        d.sub_(target)
        return d.mul_(c) if c != 1.0 else d

    return losses, derivative


NATIVE = {
    "SoftmaxCrossEntropy": _softmax_ce,
    "SparseSoftmaxCrossEntropy": _sparse_softmax_ce,
}


def _native(loss, y_true, y_pred):
    if y_pred.device.type != "cpu" or y_pred.dtype not in (torch.float32, torch.float64):
        return None  # elsewhere the reference formulas are fast enough, and the finiteness check would sync
    if not type(loss).__module__.startswith("losskit.losses"):
        return None
    native = NATIVE.get(type(loss).__name__)
    return None if native is None else native(loss, y_true, y_pred)


def _scale_upfront(weight, reduction, normalizer, count):
    """The gradient scale of _reduce.py when it is one number known before the losses, else None."""
    if weight is not None:
        return None
    if normalizer is not None:
        return 1.0 / normalizer if isinstance(normalizer, (int, float)) else None
    if reduction == "mean":
        return 1.0 / max(count, 1)
    return 1.0


# --------------------------------------------------------------------------------------------------
# Value and gradient, the reduction rule of _reduce.py (Loss.value_and_grad), without a graph
# --------------------------------------------------------------------------------------------------


def _apply_scale(loss, derivative, scale, weight, fresh):
    if isinstance(scale, float):
        if scale == 1.0:
            return derivative
        return derivative.mul_(scale) if fresh else scale * derivative
    if loss.has_class_axis:
        scale = scale[..., None]
    in_place = fresh and torch.broadcast_shapes(scale.shape, derivative.shape) == derivative.shape
    grad = derivative.mul_(scale) if in_place else scale * derivative
    if weight is not None:  # a zero weight drops the example, even where its slope is inf or NaN
        grad = grad.masked_fill_(scale == 0, 0.0)
    return grad


#: Losses whose NumPy fast path (losskit.fast, on zero-copy views of CPU tensors) beats PyTorch's kernels.
VIA_NUMPY = {"MSE", "MAE", "RMSE", "Huber", "PseudoHuber", "Hinge", "SquaredHinge", "LogCosh", "MSLE",
             "BinaryCrossEntropy", "SigmoidCrossEntropy"}  # fmt: skip


def _via_numpy(loss, y_true, y_pred, weight, reduction, normalizer):
    """The NumPy fast path on views of CPU tensors: ``(value, grad)`` as tensors, or None."""
    if type(loss).__name__ not in VIA_NUMPY or y_pred.device.type != "cpu":
        return None
    if y_pred.dtype not in (torch.float32, torch.float64) or y_true.dtype != y_pred.dtype:
        return None
    if weight is not None and (weight.device.type != "cpu" or weight.dtype != y_pred.dtype):
        return None
    if isinstance(normalizer, torch.Tensor):
        return None
    from .. import fast

    if fast.get_fast_path() == "never" or not fast.supported(loss):
        return None
    import array_api_compat

    arrays = [a.detach().resolve_conj().resolve_neg().numpy() for a in (y_true, y_pred)]
    w = None if weight is None else weight.detach().numpy()
    xp = array_api_compat.array_namespace(arrays[1])
    result = fast.dispatch(loss, xp, arrays[0], arrays[1], w, reduction, normalizer, True)
    if result is None:
        return None
    value, grad = result
    return torch.from_numpy(np.asarray(value)), torch.from_numpy(grad)


def value_and_grad(loss, xp, y_true, y_pred, weight, reduction, normalizer):
    """``(value, grad)`` of the prepared inputs (class axis last), as ``Loss.value_and_grad`` computes them."""
    with torch.no_grad():
        result = _via_numpy(loss, y_true, y_pred, weight, reduction, normalizer)
        if result is not None:
            return result
        native = _native(loss, y_true, y_pred)
        if native is not None:
            losses, derivative = native
            value, scale = loss._reduce(xp, losses, weight, reduction, normalizer)
            total = value if value.dim() == 0 else torch.sum(value)
            if bool(torch.isfinite(total)):
                upfront = _scale_upfront(weight, reduction, normalizer, losses.numel())
                if upfront is not None and isinstance(scale, float):
                    return value, derivative(upfront)
                return value, _apply_scale(loss, derivative(1.0), scale, weight, True)
        losses, derivative = loss._losses_and_derivative(xp, y_true, y_pred)
        value, scale = loss._reduce(xp, losses, weight, reduction, normalizer)
        return value, _apply_scale(loss, derivative, scale, weight, False)


class _ClosedForm(torch.autograd.Function):
    """``value`` with the saved closed-form gradient as its derivative with respect to ``y_pred``."""

    @staticmethod
    def forward(ctx, y_pred, value, grad, class_axis):
        ctx.save_for_backward(grad)
        ctx.class_axis = class_axis
        return value

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (grad,) = ctx.saved_tensors
        if grad_out.dim() == 0:
            # loss.backward() seeds 1: hand over the saved gradient itself (no pass, no new buffer). Autograd
            # copies it before storing it anywhere while the graph is kept (retain_graph), so it is never shared.
            if grad_out.device.type == "cpu" and grad_out.item() == 1.0:
                return grad, None, None, None
            return grad * grad_out, None, None, None
        if ctx.class_axis:
            grad_out = grad_out[..., None]
        return grad * grad_out, None, None, None


def value_with_grad(loss, xp, y_true, y_pred, weight, reduction, normalizer):
    """The value, attached to ``y_pred``'s graph with the closed-form gradient as its backward."""
    value, grad = value_and_grad(loss, xp, y_true, y_pred, weight, reduction, normalizer)
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value, dtype=y_pred.dtype, device=y_pred.device)
    return _ClosedForm.apply(y_pred, value, grad, bool(loss.has_class_axis))
