"""Declared inputs: what each array of a loss is, and how a call's arrays are prepared from that.

A loss declares its arrays once, in order (``Loss.inputs``). Each :class:`Input` says

- its ``name`` (the argument's name: ``y_true``, ``mean``, ``anchor``, ...) and ``domain``;
- its ``event``: how many trailing axes make one example: 0 (elementwise), 1 (a class or embedding
  axis, at the loss's ``axis`` where it has one) or ``SAMPLE`` (every axis after the first: one
  example is one whole sample, such as an image);
- its ``kind``: ``"real"``, ``"class_index"`` (integer class ids over the first prediction's event
  axis) or ``"mask"`` (booleans);
- its ``role``: a ``"target"`` is never differentiated, a ``"prediction"`` is;
- its ``link`` (predictions): see :mod:`losskit.links`;
- ``broadcast`` (an elementwise prediction after the first): the array may have size 1 along any
  axis, one axis fewer than the first prediction (its last) or none at all: one value shared by
  those examples, as PyTorch broadcasts ``gaussian_nll_loss``'s variance. Its gradient and Hessian
  are summed over the shared axes. Nothing else is broadcast.

:func:`prepare` turns a call's arrays into a :class:`Batch`: one namespace, casts, shapes checked
against the first prediction, event axes moved last (a whole sample flattened to one axis),
domains checked, weights aligned and masks applied, and the :class:`~losskit.reduction.Reduction`
built. Shapes, messages and the function's signature all come from the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import _checks
from ._checks import REAL, Domain, check_domain, describe_bad
from ._xp import (as_array_like, compute_dtype, device, index_dtype, is_floating, is_integral, is_traced, namespace_of,
                  size)  # fmt: skip
from .errors import InputError, InputTypeError
from .links import IDENTITY, Link
from .reduction import DEFAULT, Reduction, align_weight, check_normalizer, check_reduction

#: ``event=SAMPLE``: every axis after the first belongs to one example.
SAMPLE = "sample"
KINDS = ("real", "class_index", "mask")
ROLES = ("target", "prediction")
#: What a sample weight must be.
WEIGHTS = _checks.Finite("finite weights >= 0", 0.0)
#: Keywords of every call, which no input may be named.
CALL_KEYWORDS = ("sample_weight", "reduction", "normalizer")


@dataclass(frozen=True)
class Input:
    """One array of a loss's call; see the module docstring."""

    name: str
    role: str
    domain: Domain = REAL
    event: int | str = 0
    kind: str = "real"
    link: Link = IDENTITY
    hint: str = ""
    broadcast: bool = False
    optional: bool = False

    @property
    def is_prediction(self) -> bool:
        return self.role == "prediction"

    @property
    def space(self) -> str:
        """What the array holds: "values", "probabilities", "logits", "class ids", ..."""
        if self.kind == "class_index":
            return "class ids"
        if self.kind == "mask":
            return "a boolean mask"
        return self.link.space if self.link is not IDENTITY else self.domain.space

    @property
    def activation(self) -> str:
        """The output activation of a model that emits this prediction (the inverse link, inside or not)."""
        return self.link.inverse if self.link is not IDENTITY else self.domain.activation

    @property
    def description(self) -> str:
        if self.kind == "class_index":
            return "integer class ids in [0, C), C = the size of the class axis"
        if self.kind == "mask":
            return "booleans: True for the entries that count"
        return self.domain.description


def target(name: str = "y_true", domain: Domain = REAL, *, event=0, hint: str = "") -> Input:
    """A target array: real values in ``domain``, never differentiated."""
    return Input(name, "target", domain, event, "real", IDENTITY, hint)


def class_ids(name: str = "y_true") -> Input:
    """Integer class ids over the first prediction's event axis (its shape without that axis)."""
    return Input(name, "target", REAL, 0, "class_index")


def mask(name: str = "mask", *, event=0, optional: bool = False) -> Input:
    """A boolean mask, shaped like the first prediction (``event`` as it); an ``optional`` one (last) may be
    left out, and then every entry counts."""
    return Input(name, "target", REAL, event, "mask", optional=optional)


def prediction(name: str = "y_pred", domain: Domain = REAL, *, event=0, link: Link = IDENTITY, hint: str = "",
               broadcast: bool = False) -> Input:  # fmt: skip
    """A prediction: what a model emits, differentiated; ``link`` says what space it is in; ``broadcast``
    lets it share one value across examples (see the module docstring)."""
    return Input(name, "prediction", domain, event, "real", link, hint, broadcast)


def check_declaration(loss_name: str, inputs) -> None:
    """Refuse a declaration the base cannot prepare (at class creation, not at call time)."""
    names = [spec.name for spec in inputs]
    problems = []
    if not any(spec.is_prediction for spec in inputs):
        problems.append("it declares no prediction")
    if len(set(names)) != len(names):
        problems.append(f"input names repeat: {names}")
    first = next((spec for spec in inputs if spec.is_prediction), None)
    for spec in inputs:
        if not spec.name.isidentifier() or spec.name in CALL_KEYWORDS:
            problems.append(f"{spec.name!r} cannot name an input")
        if spec.role not in ROLES or spec.kind not in KINDS:
            problems.append(f"{spec.name}: role must be one of {ROLES} and kind one of {KINDS}")
        if spec.event not in (0, 1, SAMPLE):
            problems.append(f"{spec.name}: event must be 0, 1 or SAMPLE; got {spec.event!r}")
        elif first is not None and spec.event not in (0, first.event):
            problems.append(f"{spec.name}: event {spec.event!r} differs from the first prediction's {first.event!r}")
        if spec.kind == "class_index" and (spec.event != 0 or first is None or first.event != 1):
            problems.append(f"{spec.name}: class ids need event 0 and a first prediction with a class axis")
        if spec.is_prediction and spec.kind != "real":
            problems.append(f"{spec.name}: a prediction must be real")
        if spec.optional and (spec.kind != "mask" or not all(s.optional for s in inputs[inputs.index(spec):])):
            problems.append(f"{spec.name}: only masks at the end may be optional")
        if spec.broadcast and (spec is first or spec.event != 0):
            problems.append(f"{spec.name}: only an elementwise prediction after the first may broadcast")
    if problems:
        raise TypeError(f"{loss_name}: bad declaration of inputs: {'; '.join(problems)}.")


@dataclass
class Batch:
    """A call's arrays, prepared: what every engine receives.

    Attributes
    ----------
    xp : namespace
    arrays : tuple
        In declaration order, in the compute dtype (class ids int64, masks bool), event axes last
        (one trailing axis per example where the event is not 0).
    dtype, out_dtype
        The dtype of the math (float32 for float16 and bfloat16) and of the results.
    reduction : Reduction
    specs : tuple of Input
    shapes : tuple
        Each array's shape as given, to put gradients back in it.
    axis : int or None
        The position of the event axis of 1-event inputs as given (None when it is already last).
    """

    xp: object
    arrays: tuple
    dtype: object
    out_dtype: object
    reduction: Reduction
    specs: tuple
    shapes: tuple
    axis: int | None
    #: Positions of the predictions among the arrays.
    predictions: tuple

    def as_arguments(self):
        """``(args, rebuilt)``: every array of the call, the reduction's weights and array normalizer included,
        as a flat tuple, and the function giving the batch back from such a tuple. For engines whose
        framework differentiates a function's arguments, not the arrays it closes over (JAX, TensorFlow)."""
        red, count = self.reduction, len(self.arrays)
        weights = (red.weight, red.counted, red.normalizer if hasattr(red.normalizer, "shape") else None)
        given = tuple(w is not None for w in weights)

        def rebuilt(args):
            extra = iter(args[count:])
            weight, counted, normalizer = (next(extra) if g else None for g in given)
            reduction = Reduction(self.xp, red.kind, red.shape, weight=weight, counted=counted, drops=red.drops,
                                  normalizer=red.normalizer if normalizer is None else normalizer)  # fmt: skip
            return replace(self, arrays=tuple(args[:count]), reduction=reduction)

        return (*self.arrays, *(w for w in weights if w is not None)), rebuilt

    def restore(self, index: int, grad):
        """A gradient (or Hessian) of ``arrays[index]`` in the layout and dtype the array was given in."""
        xp, spec = self.xp, self.specs[index]
        given = self.shapes[index]
        if spec.event == 1 and self.axis is not None:
            grad = xp.moveaxis(grad, -1, self.axis)
        elif spec.event == SAMPLE and self.axis is not None:
            moved = given[: self.axis] + given[self.axis + 1:] + given[self.axis: self.axis + 1]
            grad = xp.moveaxis(xp.reshape(grad, moved), -1, self.axis)
        if spec.broadcast and tuple(grad.shape) != given:
            shared = broadcast_shape(given, tuple(grad.shape))
            axes = tuple(i for i, (n, m) in enumerate(zip(shared, grad.shape)) if n == 1 and m != 1)
            grad = xp.sum(grad, axis=axes, keepdims=True) if axes else grad
        if tuple(grad.shape) != given:
            grad = xp.reshape(grad, given)
        return xp.astype(grad, self.out_dtype, copy=False)


def broadcast_shape(shape: tuple, expected: tuple) -> tuple | None:
    """The shape of ``expected``'s rank that a broadcasting input of ``shape`` stands for, or None.

    PyTorch's rules for a shared variance: no axes (one value for all), one axis fewer than
    ``expected`` (its last missing: one value per row), or size 1 along any axis.
    """
    if shape == expected[:-1]:
        shape += (1,)
    elif not shape:
        shape = (1,) * len(expected)
    if len(shape) == len(expected) and all(n in (1, m) for n, m in zip(shape, expected)):
        return shape
    return None


def _broadcasting(spec, specs) -> str:
    """What the shape message says about broadcasting."""
    if spec.broadcast:
        return f"{spec.name} may also have size 1 along any axis, lack the last axis or be a scalar."
    return f"{spec.name} is never broadcast." if any(s.broadcast for s in specs) else "Shapes are never broadcast."


def _axis(loss, ref_spec, ref) -> int | None:
    """The position of the first prediction's event axis (for event 1), checked; None when it is last.
    For whole samples, the position of the class axis (``loss.class_axis``), or None without one."""
    if ref_spec.event == SAMPLE:
        axis = getattr(loss, "class_axis", None)
        if axis is not None and not (ref.ndim >= 2 and -ref.ndim <= axis < ref.ndim and axis % ref.ndim != 0):
            raise InputError(
                f"{loss.info.name}: class_axis={axis} is not an axis of {ref_spec.name} after the first (the samples), "
                f"whose shape is {tuple(ref.shape)}; expected 1 for (N, C, H, W), -1 for (N, H, W, C), or None."
            )
        return None if axis is None else axis % ref.ndim
    if ref_spec.event != 1:
        return None
    axis = getattr(loss, "axis", -1)
    if not -ref.ndim <= axis < max(ref.ndim, 1) or ref.ndim == 0:
        raise InputError(
            f"{loss.info.name}: axis={axis} is not an axis of {ref_spec.name}, whose shape is {tuple(ref.shape)}; "
            "expected the class axis, -1 by default."
        )
    axis %= ref.ndim
    return None if axis == ref.ndim - 1 else axis


def _expected(spec, ref_spec, ref, axis) -> tuple:
    """The shape ``spec``'s array must have."""
    if spec.event == ref_spec.event or spec is ref_spec:
        return tuple(ref.shape)
    shape = list(ref.shape)
    if ref_spec.event == SAMPLE:
        return tuple(shape[:1])
    del shape[-1 if axis is None else axis]
    return tuple(shape)


def _expectation(spec, ref_spec) -> str:
    """How to say what shape ``spec``'s array must have (for messages)."""
    if spec.event == ref_spec.event or spec is ref_spec:
        return f"the shape of {ref_spec.name}"
    if ref_spec.event == SAMPLE:
        return f"{ref_spec.name}'s first axis (one entry per sample)"
    if spec.kind == "class_index":
        return f"class ids: {ref_spec.name}'s shape without the class axis"
    return f"one entry per example: {ref_spec.name}'s shape without the event axis"


#: What a message says when the arrays look like PyTorch's (input, target) order.
SWAPPED = "Arguments swapped? losskit takes (y_true, y_pred), the targets first (Keras's order, not PyTorch's)."


def _check_dtype(name, spec, x, xp, specs, given):
    if spec.is_prediction:
        if not is_floating(xp, x.dtype):
            real_ids = any(s.kind == "class_index" and is_floating(xp, a.dtype) for s, a in zip(specs, given))
            advice = SWAPPED if real_ids and is_integral(xp, x.dtype) else "Cast it first, for example to float32."
            raise InputTypeError(
                f"{name}: {spec.name} must be a floating-point array ({spec.space}); got dtype {x.dtype}. {advice}"
            )
    elif spec.kind == "class_index":
        if not (is_integral(xp, x.dtype) or is_floating(xp, x.dtype)) or x.dtype == xp.bool:
            raise InputTypeError(f"{name}: {spec.name} must hold integer class ids; got dtype {x.dtype}.")
    elif spec.kind == "mask":
        if x.dtype != xp.bool:
            raise InputTypeError(f"{name}: {spec.name} must be a boolean mask; got dtype {x.dtype}.")
    elif not (is_integral(xp, x.dtype) or is_floating(xp, x.dtype)):
        raise InputTypeError(f"{name}: {spec.name} must be real numbers; got dtype {x.dtype}.")


def _hint(loss, spec) -> str:
    if spec.hint or not spec.is_prediction:
        return spec.hint
    twin = loss.info.twin
    if twin and spec.domain.space == "probabilities":
        return f"These look like logits: use {twin} for logits."
    return ""


def _check_class_ids(loss, spec, ids, num_classes, xp) -> None:
    name = loss.info.name
    if is_floating(xp, ids.dtype):
        fractional = ids != xp.floor(ids)
        if bool(xp.any(fractional)):
            raise InputError(f"{name}: {spec.name} must be integer class ids; {describe_bad(xp, ids, fractional)}.")
    ignore = getattr(loss, "ignore_index", None)
    outside = (ids < 0) | (ids >= num_classes)
    if ignore is not None:
        outside = outside & (ids != ignore)
    if bool(xp.any(outside)):
        allowed = f" or ignore_index={ignore}" if ignore is not None else ""
        takes_it = "ignore_index" in loss.hyperparameters()
        hint = " To skip padding labels such as -100, pass ignore_index=-100." if takes_it and not allowed else ""
        raise InputError(
            f"{name}: {spec.name} must be class ids in [0, {num_classes}){allowed}; "
            f"{describe_bad(xp, ids, outside)}.{hint}"
        )


def _convertible(a) -> bool:
    try:
        np.asarray(a)
        return True
    except (ValueError, TypeError):
        return False


def _gatherable(loss, ids, num_classes: int, dtype, xp, checked: bool):
    """Class ids as indices (int64, or JAX's int32 without x64) in [0, C), and the factor their examples'
    weights take (None for all ones).

    Ignored ids (``ignore_index``) weigh 0. Ids the checks did not read (under tracing, or with
    validation off) that fall outside [0, C) give NaN for their example: never another class's loss.
    """
    ids = xp.astype(ids, index_dtype(xp))
    ignore = getattr(loss, "ignore_index", None)
    factor = None
    if ignore is not None:
        keep = ids != ignore
        ids = xp.where(keep, ids, xp.zeros_like(ids))
        factor = xp.astype(keep, dtype)
    if not checked:
        outside = (ids < 0) | (ids >= num_classes)
        ids = xp.where(outside, xp.zeros_like(ids), ids)
        nan = xp.where(outside, xp.full_like(ids, float("nan"), dtype=dtype), xp.ones_like(ids, dtype=dtype))
        factor = nan if factor is None else factor * nan
    return ids, factor


def _ones_per_loss(ref, rank: int, dtype, xp):
    """Ones shaped like the per-example losses: ``ref`` (the first prediction) without its event axes."""
    while ref.ndim > rank:
        ref = ref[..., 0]
    return xp.ones_like(ref, dtype=dtype)


def _check_order(xp, name, specs, arrays) -> None:
    """Refuse probabilities of exact 0s and 1s against fractional targets: PyTorch's order, (y_pred, y_true).

    A model's probabilities are hardly ever all exactly 0 or 1, while targets often are; the reverse
    (fractional targets, 0/1 predictions) is what a swapped call to a probability loss looks like.
    """
    pred = next(i for i, spec in enumerate(specs) if spec.is_prediction)
    p = arrays[pred]
    if size(p.shape[:-1] if specs[pred].event else p.shape) < 2:
        return  # one example cannot tell the order
    for spec, y in zip(specs, arrays):
        if spec.is_prediction or spec.kind != "real" or not 0 <= spec.domain.bounds[0] <= spec.domain.bounds[1] <= 1:
            continue
        fractional = (y > 0) & (y < 1)
        if bool(xp.any(fractional)) and bool(xp.all((p == 0) | (p == 1))):
            raise InputError(
                f"{name}: {specs[pred].name} holds only exact 0s and 1s while {spec.name} holds fractions "
                f"({describe_bad(xp, y, fractional).removeprefix('got ').replace('outside it', 'between 0 and 1')}). "
                f"{SWAPPED}"
            )


def prepare(loss, arrays, sample_weight=None, reduction=DEFAULT, normalizer=None) -> Batch:
    """Check and convert one call's arrays against ``loss.info.inputs``; see the module docstring.

    Run it where NumPy's floating-point warnings are off (``Loss``'s methods do): the checks read
    rows of -inf log-probabilities, which NumPy would warn about.
    """
    name, specs = loss.info.name, loss.info.inputs
    if len(arrays) < len(specs) and all(spec.optional for spec in specs[len(arrays):]):
        arrays = (*arrays, *(None,) * (len(specs) - len(arrays)))  # every entry counts
    if len(arrays) != len(specs):
        names = ", ".join(spec.name for spec in specs)
        raise InputTypeError(f"{name} takes {len(specs)} arrays ({names}); got {len(arrays)}.")
    kind = loss.reduction if isinstance(reduction, str) and reduction == DEFAULT else check_reduction(name, reduction)
    normalizer = check_normalizer(name, normalizer, kind)
    first = loss._first
    try:
        xp, ref = namespace_of(arrays[first])
        given = [xp.ones(ref.shape, dtype=xp.bool, device=device(ref)) if a is None and spec.optional
                 else as_array_like(xp, a, ref) for spec, a in zip(specs, arrays)]
    except (ValueError, TypeError) as error:  # NumPy's words for ragged nested lists and the like
        arg = next((spec.name for spec, a in zip(specs, arrays) if not _convertible(a)), specs[first].name)
        raise InputError(
            f"{name}: {arg} must be an array, or nested lists of numbers of one rectangular shape; {error}"
        ) from None
    for spec, x in zip(specs, given):
        _check_dtype(name, spec, x, xp, specs, given)
    predictions = [x for spec, x in zip(specs, given) if spec.is_prediction]
    out_dtype = predictions[0].dtype if len(predictions) == 1 else xp.result_type(*predictions)
    dtype = compute_dtype(xp, out_dtype)
    ref_spec, ref = specs[first], given[first]
    if ref_spec.event == SAMPLE and ref.ndim == 0:
        raise InputError(f"{name}: {ref_spec.name} must have a first axis of samples; got shape ().")
    axis = _axis(loss, ref_spec, ref)
    if ref_spec.event == 1:
        others = list(ref.shape)
        if others.pop(-1 if axis is None else axis) == 0 and size(others) > 0:
            raise InputError(
                f"{name}: {ref_spec.name} of shape {tuple(ref.shape)} has an event axis of size 0: every example "
                "needs at least one entry (one class, or one coordinate)."
            )
    shapes = tuple(tuple(x.shape) for x in given)
    prepared, checked = [], []
    for spec, x in zip(specs, given):
        expected = _expected(spec, ref_spec, ref, axis)
        shape = tuple(x.shape)
        if spec.kind == "real" and x.dtype != dtype:
            x = xp.astype(x, dtype)
        as_given = x  # a broadcast input's domain is checked as given: positions in messages are the caller's
        if shape != expected:
            if shape == expected + (1,):
                x = xp.squeeze(x, axis=-1)
            elif shape + (1,) == expected:
                x = x[..., None]
            elif spec.broadcast and (shared := broadcast_shape(shape, expected)) is not None:
                x = xp.broadcast_to(xp.reshape(x, shared), expected)
            else:
                raise InputError(
                    f"{name}: {spec.name} has shape {shape} but {ref_spec.name} has shape {tuple(ref.shape)}; "
                    f"expected {spec.name} to have {_expectation(spec, ref_spec)}, {expected} (a trailing axis of "
                    f"size 1 may differ). {_broadcasting(spec, specs)}"
                )
        if spec.event == 1 and axis is not None:
            x = xp.moveaxis(x, axis, -1)
        elif spec.event == SAMPLE and axis is not None:  # (N, entries per class, C)
            x = xp.moveaxis(x, axis, -1)
            x = xp.reshape(x, (x.shape[0], size(x.shape[1:-1]), x.shape[-1]))
        elif spec.event == SAMPLE:
            x = xp.reshape(x, (x.shape[0], size(x.shape[1:])))
        prepared.append(x)
        checked.append(as_given if spec.broadcast else x)
    ref = prepared[first]
    losses_shape = tuple(ref.shape[:1] if ref_spec.event == SAMPLE else ref.shape[:-1] if ref_spec.event else ref.shape)
    weight = None
    if sample_weight is not None:
        weight = align_weight(xp, name, sample_weight, losses_shape, dtype, ref)
    concrete = not any(is_traced(a) for a in (*prepared, weight) if a is not None)
    values_checked = concrete and _checks.validation_enabled()
    if values_checked:  # never read values while a framework traces
        for spec, x, as_given in zip(specs, prepared, checked):
            if spec.kind == "class_index":
                _check_class_ids(loss, spec, x, ref.shape[-1], xp)
            elif spec.kind == "real" and spec.domain is not REAL:
                check_domain(xp, name, spec.name, as_given, spec.domain, _hint(loss, spec))
        if ref_spec.domain.space == "probabilities":
            _check_order(xp, name, specs, prepared)
        if weight is not None:
            check_domain(xp, name, "sample_weight", weight, WEIGHTS)
    drops = weight is not None  # the factor of unchecked class ids is 1 or NaN; ignored ids weigh 0
    for i, spec in enumerate(specs):
        if spec.kind == "class_index":
            prepared[i], factor = _gatherable(loss, prepared[i], ref.shape[-1], dtype, xp, values_checked)
            drops = drops or getattr(loss, "ignore_index", None) is not None
            if factor is not None:  # a weight of 0 stays 0: padding may hold any id
                weight = factor if weight is None else xp.where(weight == 0, weight, weight * factor)
    counted = loss._counted_weight(xp, weight, *prepared)
    if counted is None and None in losses_shape:  # sizes known only at run time: the mean counts a mask
        counted = _ones_per_loss(ref, len(losses_shape), dtype, xp)
        counted = counted if weight is None else counted * weight
    red = Reduction(xp, kind, losses_shape, weight=weight, normalizer=normalizer, counted=counted, drops=drops)
    return Batch(xp, tuple(prepared), dtype, out_dtype, red, tuple(specs), shapes, axis, loss._positions)
