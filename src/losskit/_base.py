r"""The ``Loss`` base: input checks, weights, reduction, gradients and configuration, done once.

A loss subclass supplies its metadata (``info``), its value domains, its hyperparameters (keyword
arguments of ``__init__``, stored under the same names) and the math of one example:

- ``_losses(xp, y_true, y_pred)``: the loss :math:`\ell_i` of each example;
- ``_losses_and_derivative(xp, y_true, y_pred)``: the losses and :math:`\partial \ell_i / \partial
  \hat y`, an array shaped like ``y_pred``.

Everything else (shapes, dtypes, domains, weights, reductions, the chain rule through the reduction,
the function form) lives here.
"""

from __future__ import annotations

import inspect
from typing import ClassVar

from . import _checks
from . import fast as _fast
from ._checks import REAL, Domain, check_domain
from ._info import LossInfo
from ._reduce import align_weight, check_normalizer, check_reduction, reduce
from ._xp import as_array_like, as_result, compute_dtype, is_floating, is_integral, is_traced, namespace_of


def _torch_autograd():
    from .integrations import autograd  # imports torch: only reached with a torch tensor in hand

    return autograd


#: Keywords of a call, as opposed to hyperparameters of the loss.
CALL_KEYWORDS = ("sample_weight", "reduction", "normalizer")


class Loss:
    """Base class of every loss. See DESIGN.md sections 1 to 3 for the rules implemented here.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        The default reduction of calls that do not name one.
    """

    info: ClassVar[LossInfo]
    #: ``y_pred`` has a class axis (``self.axis``): one example is one row over it.
    has_class_axis: ClassVar[bool] = False
    #: ``y_true`` holds integer class ids rather than an array shaped like ``y_pred``.
    has_class_ids: ClassVar[bool] = False
    y_true_domain: ClassVar[Domain] = REAL
    y_pred_domain: ClassVar[Domain] = REAL

    def __new__(cls, *args, **kwargs):
        if "from_logits" in kwargs:
            info = cls.info
            if info.input_space == "probabilities":
                advice = f"{info.name} takes probabilities; for logits use {info.logits_twin} instead"
            else:
                advice = f"{info.name} takes {info.input_space}"
            raise TypeError(f"{info.name}: no from_logits argument: the input space is in the loss's name. {advice}.")
        return super().__new__(cls)

    def __init__(self, *, reduction: str = "mean"):
        self.reduction = check_reduction(self.info.name, reduction)

    # --- the math of one example: subclasses --------------------------------------------------

    def _losses(self, xp, y_true, y_pred):
        return self._losses_and_derivative(xp, y_true, y_pred)[0]

    def _losses_and_derivative(self, xp, y_true, y_pred):
        raise NotImplementedError

    def _reduce(self, xp, losses, weight, reduction, normalizer):
        """The reduced value and its derivative with respect to each example's loss."""
        return reduce(xp, losses, weight, reduction, normalizer)

    def kinks(self) -> tuple[float, ...]:
        """Values of ``info.variable`` where the loss is not differentiable (for tests and plots)."""
        return ()

    # --- public face ----------------------------------------------------------------------------

    def __call__(self, y_true, y_pred, *, sample_weight=None, reduction=None, normalizer=None):
        """The cost (or the per-example losses with ``reduction="none"``); see the class docstring."""
        xp, y_true, y_pred, weight, out_dtype, reduction, normalizer = self._prepare(
            y_true, y_pred, sample_weight, reduction, normalizer
        )
        fast = None
        if isinstance(y_pred, _fast.ndarray):  # NumPy only; never reached while a framework traces
            fast = _fast.dispatch(self, xp, y_true, y_pred, weight, reduction, normalizer, False)
        if fast is not None:  # the same formulas, fused and multi-threaded (losskit.fast)
            return as_result(xp, xp.astype(fast[0], out_dtype, copy=False))
        if type(y_pred).__module__.startswith("torch") and _torch_autograd().applies(y_pred):
            # PyTorch eager autograd: the closed-form gradient as the backward (integrations/autograd.py)
            value = _torch_autograd().value_with_grad(self, xp, y_true, y_pred, weight, reduction, normalizer)
            return xp.astype(value, out_dtype, copy=False)
        value, _ = self._reduce(xp, self._losses(xp, y_true, y_pred), weight, reduction, normalizer)
        return as_result(xp, xp.astype(value, out_dtype, copy=False))

    def value_and_grad(self, y_true, y_pred, *, sample_weight=None, reduction=None, normalizer=None):
        """The value and its gradient with respect to ``y_pred`` (same shape as ``y_pred``), in one pass.

        With ``reduction="none"`` the gradient is that of the sum of the returned losses: each
        example's own derivative, times its weight.
        """
        xp, y_true, y_pred, weight, out_dtype, reduction, normalizer = self._prepare(
            y_true, y_pred, sample_weight, reduction, normalizer
        )
        fast = None
        if isinstance(y_pred, _fast.ndarray):  # NumPy only; never reached while a framework traces
            fast = _fast.dispatch(self, xp, y_true, y_pred, weight, reduction, normalizer, True)
        if fast is not None:  # the same formulas, fused and multi-threaded (losskit.fast)
            value, grad = fast
            if self.has_class_axis:
                grad = xp.moveaxis(grad, -1, self.axis)
            return (
                as_result(xp, xp.astype(value, out_dtype, copy=False)),
                xp.astype(grad, out_dtype, copy=False),
            )
        losses, derivative = self._losses_and_derivative(xp, y_true, y_pred)
        value, scale = self._reduce(xp, losses, weight, reduction, normalizer)
        if self.has_class_axis and not isinstance(scale, float):
            scale = scale[..., None]
        grad = scale * derivative
        if weight is not None:  # a zero weight drops the example, even where its slope is inf or NaN
            grad = xp.where(scale == 0, xp.zeros_like(grad), grad)
        if self.has_class_axis:
            grad = xp.moveaxis(grad, -1, self.axis)
        return (
            as_result(xp, xp.astype(value, out_dtype, copy=False)),
            xp.astype(grad, out_dtype, copy=False),
        )

    def grad(self, y_true, y_pred, *, sample_weight=None, reduction=None, normalizer=None):
        """The gradient of the value with respect to ``y_pred``, in closed form."""
        return self.value_and_grad(
            y_true, y_pred, sample_weight=sample_weight, reduction=reduction, normalizer=normalizer
        )[1]

    # --- configuration --------------------------------------------------------------------------

    @classmethod
    def hyperparameters(cls) -> tuple[str, ...]:
        """Names of the keyword arguments that configure the loss (``reduction`` included)."""
        return tuple(p for p in inspect.signature(cls.__init__).parameters if p != "self")

    def config(self) -> dict:
        """A plain dict that ``lk.get`` turns back into an equal loss."""
        return {"name": self.info.name, **{p: getattr(self, p) for p in self.hyperparameters()}}

    def __eq__(self, other):
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self):
        return hash((type(self), tuple(self.config().items())))

    def __repr__(self):
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.hyperparameters())
        return f"{type(self).__name__}({args})"

    @classmethod
    def as_function(cls):
        """The function form: ``f(y_true, y_pred, **hyperparameters_and_call_keywords)``."""

        def loss_function(y_true, y_pred, **kwargs):
            call = {k: kwargs.pop(k) for k in CALL_KEYWORDS if k in kwargs}
            return cls(**kwargs)(y_true, y_pred, **call)

        own = inspect.signature(cls.__init__).parameters
        params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("y_true", "y_pred")]
        params += [p for n, p in own.items() if n not in ("self", "reduction")]
        params += [
            inspect.Parameter("sample_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
            own["reduction"],
            inspect.Parameter("normalizer", inspect.Parameter.KEYWORD_ONLY, default=None),
        ]
        loss_function.__signature__ = inspect.Signature(params)
        loss_function.__name__ = loss_function.__qualname__ = cls.info.name
        loss_function.__doc__ = cls.__doc__
        loss_function.__module__ = cls.__module__
        loss_function.loss_class = cls
        return loss_function

    # --- inputs ---------------------------------------------------------------------------------

    def _prepare(self, y_true, y_pred, sample_weight, reduction, normalizer):
        name = self.info.name
        reduction = self.reduction if reduction is None else check_reduction(name, reduction)
        normalizer = check_normalizer(name, normalizer, reduction)
        xp, y_pred = namespace_of(y_pred)
        if not is_floating(xp, y_pred.dtype):
            raise TypeError(
                f"{name}: y_pred must be a floating-point array ({self.info.input_space}); got dtype "
                f"{y_pred.dtype}. Cast it first, for example to float32."
            )
        out_dtype = y_pred.dtype
        dtype = compute_dtype(xp, out_dtype)
        y_pred = xp.astype(y_pred, dtype, copy=False)
        y_true = self._align_targets(xp, as_array_like(xp, y_true, y_pred), y_pred)
        if not self.has_class_ids:
            y_true = xp.astype(y_true, dtype, copy=False)
        if self.has_class_axis:
            y_pred = xp.moveaxis(y_pred, self.axis, -1)
            if not self.has_class_ids:
                y_true = xp.moveaxis(y_true, self.axis, -1)
        losses_shape = y_pred.shape[:-1] if self.has_class_axis else y_pred.shape
        weight = None
        if sample_weight is not None:
            weight = align_weight(xp, name, sample_weight, losses_shape, dtype, y_pred)
        concrete = not any(is_traced(a) for a in (y_true, y_pred, weight) if a is not None)
        if concrete and _checks.validation_enabled():  # never read values while a framework traces
            self._check_values(xp, y_true, y_pred)
            if weight is not None:
                check_domain(xp, name, "sample_weight", weight, _checks.Interval("weights >= 0", 0.0))
        if self.has_class_ids:
            y_true, mask = self._class_ids(xp, y_true)
            if mask is not None:
                weight = xp.astype(mask, dtype) if weight is None else weight * xp.astype(mask, dtype)
        return xp, y_true, y_pred, weight, out_dtype, reduction, normalizer

    def _align_targets(self, xp, y_true, y_pred):
        """Check the shape and dtype of ``y_true``; squeeze or add a trailing axis of size 1."""
        name = self.info.name
        if self.has_class_axis and not -y_pred.ndim <= self.axis < max(y_pred.ndim, 1):
            raise ValueError(
                f"{name}: axis={self.axis} is not an axis of y_pred, whose shape is {tuple(y_pred.shape)}; "
                "expected the class axis, -1 by default."
            )
        if self.has_class_ids:
            expected = list(y_pred.shape)
            del expected[self.axis]
            expected, what = tuple(expected), "class ids: y_pred's shape without the class axis"
            if not (is_integral(xp, y_true.dtype) or is_floating(xp, y_true.dtype)) or y_true.dtype == xp.bool:
                raise TypeError(f"{name}: y_true must hold integer class ids; got dtype {y_true.dtype}.")
        else:
            expected, what = tuple(y_pred.shape), "the shape of y_pred"
            if not (is_integral(xp, y_true.dtype) or is_floating(xp, y_true.dtype)):
                raise TypeError(f"{name}: y_true must be real numbers; got dtype {y_true.dtype}.")
        shape = tuple(y_true.shape)
        if shape == expected:
            return y_true
        if shape == expected + (1,) or shape + (1,) == expected:
            return xp.reshape(y_true, expected)
        raise ValueError(
            f"{name}: y_true has shape {shape} but y_pred has shape {tuple(y_pred.shape)}; expected y_true "
            f"to have {what}, {expected} (a trailing axis of size 1 may differ). Shapes are never broadcast."
        )

    def _y_pred_hint(self) -> str:
        twin = self.info.logits_twin
        return f"These look like logits: use {twin} for logits." if twin else ""

    def _check_values(self, xp, y_true, y_pred):
        """Check the values of concrete inputs against the declared domains."""
        name = self.info.name
        check_domain(xp, name, "y_true", y_true, self.y_true_domain)
        check_domain(xp, name, "y_pred", y_pred, self.y_pred_domain, self._y_pred_hint())

    def _class_ids(self, xp, y_true):
        """Class-id losses: return the ids as int64 and the mask of examples that count (or None)."""
        raise NotImplementedError

