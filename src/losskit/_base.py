r"""The ``Loss`` base: one base for every kind of loss.

A loss subclass supplies

- ``info``: its metadata (``LossInfo``), formulas included;
- ``inputs``: its declared arrays (``losskit.inputs``), by default ``(target("y_true"), prediction("y_pred"))``;
- its hyperparameters as class attributes (``losskit.params.Param``);
- ``_math(xp, order, *arrays)``: for the arrays of a batch (event axes last), the loss of each example
  and, when ``order >= 1``, its derivative with respect to each prediction and, when ``order == 2``,
  the diagonal of its Hessian: ``(losses, grads, hessians)``, where ``grads`` and ``hessians`` are an
  array (one prediction) or a tuple of arrays (several), a number standing for a constant.
  A loss whose examples share predictions (``batch_coupled``: in-batch negatives) returns instead
  ``(losses, pullback)``, ``pullback(scale)`` giving the gradients of ``sum_i scale_i losses_i``.

Everything else lives here or below: inputs are prepared from the declaration (``inputs.prepare``),
reduced by one ``Reduction``, and computed by an engine (``engines.serve``) or by the reference
formulas, the definition. The base imports no engine and no framework.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import ClassVar

import numpy as np

from . import engines
from ._info import LossInfo
from ._xp import as_result
from .engines import Result
from .errors import InputError, InputTypeError
from .inputs import CALL_KEYWORDS, SAMPLE, Batch, check_declaration, prediction, prepare, target
from .links import other_side
from .params import Param, declared
from .reduction import DEFAULT, REDUCTIONS, check_reduction, trailing_axes


#: Array libraries that compute with NumPy, whose floating-point warnings the formulas make pointless.
_NUMPY_BACKED = ("numpy", "array_api_strict", "builtins")


def _quiet(loss, arrays):
    """Inf, NaN, clamped logs and float16 overflow are the formulas' own business: NumPy need not warn of
    them. (Only for NumPy-backed arrays, or Python lists: the context manager does not trace under
    ``torch.compile``.)"""
    numpy = loss._first < len(arrays) and engines.library(arrays[loss._first]) in _NUMPY_BACKED
    return np.errstate(all="ignore") if numpy else contextlib.nullcontext()


def _check_reduction(loss_name, name, value):
    return check_reduction(loss_name, value)


def _array_parameters(inputs) -> list:
    P = inspect.Parameter
    return [P(spec.name, P.POSITIONAL_OR_KEYWORD, default=None if spec.optional else P.empty) for spec in inputs]


def _call_parameters(reduction) -> list:
    P = inspect.Parameter
    return [P("sample_weight", P.KEYWORD_ONLY, default=None), P("reduction", P.KEYWORD_ONLY, default=reduction),
            P("normalizer", P.KEYWORD_ONLY, default=None)]  # fmt: skip


class _Signature:
    """``inspect.signature`` of a loss class (its hyperparameters) and of a loss object (its call: the arrays,
    then ``sample_weight``, ``reduction`` and ``normalizer``), for tools that bind a call's arguments by
    signature (``tf.function``)."""

    def __get__(self, loss, cls):
        if loss is None:
            P = inspect.Parameter
            return inspect.Signature([P(n, P.KEYWORD_ONLY, default=p.default) for n, p in cls._params.items()])
        return inspect.Signature(_array_parameters(loss.info.inputs) + _call_parameters(loss.reduction))


class Loss:
    """Base class of every loss; see the module docstring and ``docs/design.md``."""

    info: ClassVar[LossInfo]
    inputs: ClassVar[tuple] = (target("y_true"), prediction("y_pred"))
    reduction = Param("mean", _check_reduction, "{'mean', 'sum', 'none'}", "The reduction of calls that do not name one.")
    #: ``(f(x), f'(x))`` applied to the reduced value (each example's loss with "none"), for a loss that
    #: is not a weighted sum of per-example losses (RMSE's root); None for every other loss.
    _outer = None
    #: True for a loss whose examples share predictions (every key is a negative of every other query):
    #: its ``_math`` returns the per-example losses and a pullback, which the reduction's per-example
    #: scale turns into the gradients. A weight drops an example's loss, not its embeddings.
    batch_coupled = False
    #: False where ``info.tags`` may leave out properties that hold (a compound's are those its terms share).
    tags_complete = True
    __signature__ = _Signature()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._params = declared(cls)
        if "info" in cls.__dict__:
            check_declaration(cls.info.name, cls.inputs)
            cls.info = cls.info.with_inputs(cls.inputs)
            cls.__doc__ = _document(cls)
            cls._positions = tuple(i for i, spec in enumerate(cls.inputs) if spec.is_prediction)
            cls._first = cls._positions[0]

    def __new__(cls, *args, **kwargs):
        if "from_logits" in kwargs:
            info = cls.info
            advice = f"{info.name} takes {info.input_space}"
            if info.twin:
                advice += f"; for {other_side(info.predictions[0])} use {info.twin} instead"
            raise InputTypeError(f"{info.name}: no from_logits argument: the input space is in the loss's name. {advice}.")
        return super().__new__(cls)

    def __init__(self, **hyperparameters):
        name = self.info.name
        values = {key: param.validate(name, hyperparameters.pop(key, param.default)) for key, param in self._params.items()}
        object.__setattr__(self, "_hyperparameters", values)
        if hyperparameters:
            unknown = ", ".join(map(repr, hyperparameters))
            raise InputTypeError(
                f"{name}: unexpected keyword {unknown}; its hyperparameters are: {', '.join(self._params)}."
            )
        self._check_hyperparameters()
        info = self._specialise(type(self).info)
        if info is not type(self).info:
            check_declaration(name, info.inputs)
            object.__setattr__(self, "info", info)

    def _check_hyperparameters(self) -> None:
        """Checks that involve several hyperparameters (a subclass's)."""

    def _specialise(self, info: LossInfo) -> LossInfo:
        """This loss's metadata where its hyperparameters change it (a subclass's): inputs whose shapes
        or domains depend on them, tags that hold only for some. The class's ``info`` otherwise."""
        return info

    # --- the math: subclasses ---------------------------------------------------------------------

    def _math(self, xp, order: int, *arrays):
        raise NotImplementedError

    def _counted_weight(self, xp, weight, *arrays):
        """The weights the mean counts, when they differ from ``weight`` (class weights); None otherwise."""
        return None

    def _optimal_constant(self, targets, weight):
        """The constant raw prediction(s) minimising the mean cost, from NumPy float64 targets."""
        from ._optimal import numeric_constant

        return numeric_constant(self, targets, weight)

    def kinks(self) -> tuple[float, ...]:
        """Values of ``info.variable`` where the loss or its derivatives jump (for tests and plots)."""
        return ()

    # --- public face ------------------------------------------------------------------------------

    def __call__(self, *arrays, sample_weight=None, reduction=DEFAULT, normalizer=None, **named):
        """The cost (or the per-example losses with ``reduction="none"``); see the class docstring."""
        arrays = self._arrays(arrays, named)
        with _quiet(self, arrays):
            batch = prepare(self, arrays, sample_weight, reduction, normalizer)
            return self._value(batch, self._compute(batch, 0).value)

    def value_and_grad(self, *arrays, sample_weight=None, reduction=DEFAULT, normalizer=None, **named):
        """The value and its gradient with respect to each prediction, in one pass.

        The gradient has the shape of its prediction; with several predictions it is a tuple, one per
        prediction. With ``reduction="none"`` it is the gradient of the sum of the returned losses.
        """
        arrays = self._arrays(arrays, named)
        with _quiet(self, arrays):
            batch = prepare(self, arrays, sample_weight, reduction, normalizer)
            result = self._compute(batch, 1)
            return self._value(batch, result.value), self._per_prediction(batch, result.grads)

    def grad(self, *arrays, sample_weight=None, reduction=DEFAULT, normalizer=None, **named):
        """The gradient of the value with respect to each prediction, in closed form."""
        return self.value_and_grad(
            *arrays, sample_weight=sample_weight, reduction=reduction, normalizer=normalizer, **named
        )[1]

    def grad_and_hessian(self, *arrays, sample_weight=None, reduction=DEFAULT, normalizer=None, **named):
        """The gradient and the diagonal of the Hessian with respect to each prediction.

        Both are scaled through the reduction like the gradient: with ``"mean"`` each example's
        second derivative is divided by the count (or the total weight). ``info.hessian_kind`` says
        what the diagonal is: the exact one, the expected (Fisher) one, or a positive stand-in.
        """
        kind = self.info.hessian_kind
        if kind is None:
            why = self.info.hessian or "its cost is not a weighted sum of per-example losses. Use a loss that is, such as mse"
            raise InputError(f"{self.info.name} has no diagonal Hessian (info.hessian_kind is None): {why}.")
        arrays = self._arrays(arrays, named)
        with _quiet(self, arrays):
            batch = prepare(self, arrays, sample_weight, reduction, normalizer)
            result = self._compute(batch, 2)
            return self._per_prediction(batch, result.grads), self._per_prediction(batch, result.hessians)

    def optimal_constant(self, *targets, sample_weight=None):
        """The constant raw prediction that minimises the mean cost over ``targets``: boosting's start score.

        Returns NumPy float64: a 0-d array for an elementwise prediction, one entry per class for a
        class axis, a tuple for several predictions. The mean for mse, the median for mae, the
        logit of the mean for sigmoid cross-entropy, the log of the mean for log-rate Poisson;
        a one-dimensional search for losses without a closed form.
        """
        from ._optimal import prepare_targets

        return self._optimal_constant(*prepare_targets(self, targets, sample_weight))

    # --- computing ---------------------------------------------------------------------------------

    def _arrays(self, arrays, named) -> tuple:
        """The call's arrays in declaration order, given by position or by name."""
        if not named:
            return arrays
        specs = self.info.inputs
        arrays = list(arrays)
        for spec in specs[len(arrays):]:
            if spec.name not in named:
                break
            arrays.append(named.pop(spec.name))
        if named:
            raise InputTypeError(
                f"{self.info.name}: unexpected keyword {', '.join(map(repr, named))}; its arrays are "
                f"{', '.join(s.name for s in specs)} and its call keywords {', '.join(CALL_KEYWORDS)}."
            )
        return tuple(arrays)

    def _compute(self, batch: Batch, order: int) -> Result:
        result = engines.serve(self, batch, order)
        return result if result is not None else self.reference(batch, order)

    def reference(self, batch: Batch, order: int) -> Result:
        """The reference formulas: ``_math`` reduced by the batch's reduction (every engine's definition)."""
        xp, red = batch.xp, batch.reduction
        if self.batch_coupled:
            return _coupled(self, batch, order)
        arrays = _dropped_zeroed(batch) if red.drops else batch.arrays
        losses, grads, hessians = (tuple(self._math(xp, order, *arrays)) + (None, None))[:3]
        predictions = [batch.arrays[i] for i in batch.predictions]
        events = [batch.specs[i].event != 0 for i in batch.predictions]
        slope = None
        if self._outer is not None and red.kind == "none":
            losses, slope = self._outer(xp, losses)
        value = red.value(losses)
        scale = None
        if self._outer is not None and red.kind != "none":
            value, outer_slope = self._outer(xp, value)
            scale = red.scale * outer_slope
        if order == 0:
            return Result(value)

        def chain(terms):
            terms = terms if isinstance(terms, tuple) else (terms,)
            out = []
            for term, pred, event in zip(terms, predictions, events):
                if not hasattr(term, "shape"):
                    term = term * xp.ones_like(pred)
                if slope is not None:
                    term = (slope[..., None] if event else slope) * term
                out.append(red.chain(term, event, scale))
            return tuple(out)

        return Result(value, chain(grads), chain(hessians) if order == 2 else None)

    def _value(self, batch: Batch, value):
        xp = batch.xp
        return as_result(xp, xp.astype(value, batch.out_dtype, copy=False))

    def _per_prediction(self, batch: Batch, arrays):
        out = tuple(batch.restore(i, a) for i, a in zip(batch.predictions, arrays))
        return out[0] if len(out) == 1 else out

    # --- configuration ----------------------------------------------------------------------------

    @classmethod
    def hyperparameters(cls) -> tuple[str, ...]:
        """Names of the keyword arguments that configure the loss (``reduction`` last)."""
        return tuple(cls._params)

    @classmethod
    def defaults(cls) -> dict:
        """The default value of each hyperparameter."""
        return {name: param.default for name, param in cls._params.items()}

    def config(self) -> dict:
        """A plain dict that ``lk.get`` turns back into an equal loss."""
        return {"name": self.info.name, **{p: getattr(self, p) for p in self._params}}

    def __eq__(self, other):
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self):
        return hash((type(self), tuple(self.config().items())))

    def __repr__(self):
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._params)
        return f"{type(self).__name__}({args})"

    def __reduce__(self):
        """Pickled as its class and hyperparameters: the metadata is rebuilt, not stored."""
        return _rebuilt, (type(self), dict(self._hyperparameters))

    @classmethod
    def as_function(cls):
        """The function form: ``f(*arrays, **hyperparameters_and_call_keywords)``."""
        name = cls.info.name

        def loss_function(*arrays, **kwargs):
            call = {k: kwargs.pop(k) for k in CALL_KEYWORDS if k in kwargs}
            named = {s.name: kwargs.pop(s.name) for s in cls.info.inputs if s.name in kwargs}
            return cls(**kwargs)(*arrays, **call, **named)

        hyperparameters = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=p.default)
                           for n, p in cls._params.items() if n != "reduction"]  # fmt: skip
        loss_function.__signature__ = inspect.Signature(
            _array_parameters(cls.info.inputs) + hyperparameters + _call_parameters(cls._params["reduction"].default)
        )
        loss_function.__name__ = loss_function.__qualname__ = name
        loss_function.__doc__ = cls.__doc__
        loss_function.__module__ = cls.__module__
        loss_function.loss_class = cls
        setattr(loss_function, _AS_IS, None)
        return loss_function


#: TensorFlow's AutoGraph calls a loss, its methods and its function form as they are (the mark that
#: ``tf.autograph.experimental.do_not_convert`` sets): the formulas branch on no tensor's value, and
#: converting the library's code would cost seconds at a ``tf.function``'s first trace.
_AS_IS = "autograph_info__"
setattr(Loss, _AS_IS, None)
for _method in (Loss.__call__, Loss.value_and_grad, Loss.grad, Loss.grad_and_hessian):
    setattr(_method, _AS_IS, None)


def _rebuilt(cls, hyperparameters):
    return cls(**hyperparameters)


def _coupled(loss, batch: Batch, order: int) -> Result:
    """The reference of a batch-coupled loss: its examples' embeddings stay (they are others' negatives),
    and each example's scale in the reduction (0 for a weight of 0) pulls the gradients back."""
    xp, red = batch.xp, batch.reduction
    losses, pullback = loss._math(xp, order, *batch.arrays)
    value = red.value(losses)
    if order == 0:
        return Result(value)
    scale = red.scale * xp.ones_like(losses)
    if red.weight is not None:
        scale = xp.where(red.weight == 0, xp.zeros_like(losses), scale)
    grads = pullback(scale)
    return Result(value, grads if isinstance(grads, tuple) else (grads,))


def _dropped_zeroed(batch: Batch) -> tuple:
    """The arrays with the predictions of weight-0 examples replaced by 0.

    Their losses never reach the value; replacing them also keeps autodiff through the formulas from
    turning a NaN or inf there (padding) into a NaN gradient: ``where``'s slope to a replaced entry is 0.
    """
    xp, red = batch.xp, batch.reduction
    dropped = red.weight == 0
    arrays = list(batch.arrays)
    for i in batch.predictions:
        x = arrays[i]
        arrays[i] = xp.where(trailing_axes(dropped, x.ndim - dropped.ndim), xp.zeros_like(x), x)
    return tuple(arrays)


# --- the docstring ------------------------------------------------------------------------------------


def _document(cls) -> str:
    """The class docstring: the author's summary and description, then the formulas, inputs and
    hyperparameters from the declaration (written nowhere else), then the author's examples."""
    info = cls.info
    doc = inspect.cleandoc(cls.__doc__ or info.summary)
    text, marker, examples = doc.partition("Examples\n--------")
    math = [f"Value of one example: ``{info.formula}``", f"Gradient: ``{info.gradient}``"]
    if info.hessian_kind is None:
        math.append("No diagonal Hessian.")
    elif info.hessian:
        math.append(f"Hessian diagonal ({info.hessian_kind}): ``{info.hessian}``")
    inputs = ["Inputs", "------"]
    for spec in info.inputs:
        event = {0: "", 1: ", one example per row over the event axis", SAMPLE: ", one example per sample"}[spec.event]
        role = "prediction" if spec.is_prediction else "target"
        inputs += [f"{spec.name} : {role}, {spec.space}{event}", f"    {spec.description}."]
    params = ["Parameters", "----------"] + [p.docstring() for p in cls._params.values()]
    parts = [text.strip(), "\n\n".join(math), "\n".join(inputs), "\n".join(params)]
    if marker:
        parts.append(marker + examples.rstrip())
    return "\n\n".join(parts) + "\n"


__all__ = ["Loss", "REDUCTIONS"]
