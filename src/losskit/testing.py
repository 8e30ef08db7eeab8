r"""The contract every loss meets, runnable on any loss object: ``check_loss(loss)``.

Like scikit-learn's ``check_estimator``, :func:`check_loss` runs every property on a loss, a user's
own included, and raises ``AssertionError`` naming the first property that fails. Inputs come from
the loss's declared inputs (``losskit._samples``). The references are mathematical: finite
differences, autodiff, the reduction laws, and the promises of the metadata (tags, Hessian kind,
twin, optimal constant); independent reference values live in each project's own tests.

>>> import losskit as lk
>>> from losskit.testing import check_loss
>>> check_loss(lk.Huber(delta=2.0), backends=("numpy",))

Checks run on NumPy; ``backends`` adds PyTorch (autograd, the closed-form backward, double
backward, ``torch.compile``), JAX (autodiff and ``jax.jit``) and array-api-strict (the standard
alone) where they are installed. :data:`CHECKS` names every check, so a test suite can run them one
by one (``run_check(loss, name)``).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from . import registry
from ._checks import Interval, LogSimplex, OneOf, Simplex, validation
from ._samples import neutral_prediction, sample_inputs, typical_target
from .engines import fast_path
from .errors import InputError, InputTypeError
from .inputs import prepare
from .links import ACTIVATIONS, IDENTITY, LOG

#: Examples and classes of the sample inputs.
N, C = 5, 3
REDUCTIONS = ("mean", "sum", "none")
#: Steps of the finite differences (fourth order, at h and h / 2).
STEP = 1e-4
#: Closed forms against finite differences (float64).
FD_RTOL, FD_ATOL = 1e-7, 1e-9
#: Closed forms against autodiff and against other backends (float64).
AD_RTOL, AD_ATOL = 1e-10, 1e-12
#: A loss whose values stay below this at every extreme input is bounded.
BOUND = 50.0
ALL_BACKENDS = ("numpy", "torch", "jax", "tensorflow", "array_api_strict")


# --- helpers -------------------------------------------------------------------------------------------


def _layout(loss):
    """The loss with its class axis last (the layout of the sample inputs)."""
    if getattr(loss, "axis", -1) == -1:
        return loss
    return type(loss)(**{**_config(loss), "axis": -1})


def _config(loss) -> dict:
    return {k: v for k, v in loss.config().items() if k != "name"}


def _positions(loss) -> list[int]:
    return [i for i, spec in enumerate(loss.info.inputs) if spec.is_prediction]


def _tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)


def _value(loss, arrays, **kw) -> np.ndarray:
    return np.asarray(_np(loss(*arrays, **kw)), dtype=np.float64)


def _grads(loss, arrays, **kw) -> tuple:
    return tuple(np.asarray(_np(g), dtype=np.float64) for g in _tuple(loss.grad(*arrays, **kw)))


def _replace(arrays, index, value) -> list:
    arrays = list(arrays)
    arrays[index] = value
    return arrays


def _inputs(loss, seed=0, n=N):
    return list(sample_inputs(loss, np.random.default_rng(seed), n=n, classes=C))


def _weights(seed=1, n=N):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=n)


def _derivatives(f, x, h=STEP):
    """Fourth-order central differences of ``f(shifted, index)`` (a number) with respect to ``x[index]``,
    for every entry, at steps ``h`` and ``h / 2``, and the entries where the two agree (``f`` is smooth
    there, away from kinks). Values are not checked: the steps may leave a domain by a hair."""

    def at_step(step):
        out = np.empty_like(x)
        for index in np.ndindex(x.shape):
            def at(t):
                shifted = x.copy()
                shifted[index] += t
                with validation(False):
                    return f(shifted, index)

            out[index] = (-at(2 * step) + 8 * at(step) - 8 * at(-step) + at(-2 * step)) / (12 * step)
        return out

    coarse, fine = at_step(h), at_step(h / 2)
    smooth = np.abs(coarse - fine) <= 1e-6 * (1.0 + np.abs(fine))
    return coarse, smooth


def _assert_close_where_smooth(actual, numeric, smooth, what):
    assert smooth.mean() >= 0.5, f"{what}: the loss is not smooth at most sample points (a kink at every point?)"
    np.testing.assert_allclose(actual[smooth], numeric[smooth], rtol=FD_RTOL, atol=FD_ATOL, err_msg=what)


def _settings():
    return [(r, w) for r in REDUCTIONS for w in (False, True)]


def _call_kw(reduction, weighted):
    return {"reduction": reduction, **({"sample_weight": _weights()} if weighted else {})}


# --- the checks ---------------------------------------------------------------------------------------


def check_declaration(loss) -> None:
    """The metadata is complete, the configuration round-trips, the function form fits the declaration."""
    info = loss.info
    for field in ("summary", "formula", "gradient", "use_when", "avoid_when"):
        assert getattr(info, field).strip(), f"info.{field} is empty"
    assert info.references, "info.references: cite where the definition comes from"
    if info.hessian_kind is not None:
        assert info.hessian.strip(), "info.hessian is empty although info.hessian_kind says there is one"
    if info.twin:
        twin = registry.loss_class(info.twin).info
        assert twin.predictions[0].space != info.predictions[0].space, f"twin {info.twin} takes the same space"
    rebuilt = type(loss)(**_config(loss))
    assert rebuilt == loss and hash(rebuilt) == hash(loss), "config() does not rebuild an equal loss"
    if registry.is_registered(loss):
        import losskit

        assert registry.get(loss.config()) == loss
        assert eval(repr(loss), vars(losskit)) == loss, "repr() does not rebuild an equal loss"
        function = getattr(losskit, info.name)
        if getattr(function, "loss_class", None) is not type(loss):  # a builder of that name (lk.compound)
            function = type(loss).as_function()
        import inspect

        names = list(inspect.signature(function).parameters)
        declared = type(loss).info.inputs  # the function form's, a compound's default terms' for a compound
        assert names[: len(declared)] == [s.name for s in declared], "the function form's arrays"
        assert set(loss.hyperparameters()) | {"sample_weight", "normalizer"} <= set(names)


def check_gradient(loss) -> None:
    """The closed-form gradient of every prediction equals finite differences of the value."""
    loss = _layout(loss)
    arrays = _inputs(loss)
    for reduction, weighted in _settings():
        kw = _call_kw(reduction, weighted)
        grads = _grads(loss, arrays, **kw)
        for grad, index in zip(grads, _positions(loss)):
            numeric, smooth = _derivatives(
                lambda x, _, index=index: _value(loss, _replace(arrays, index, x), **kw).sum(), arrays[index]
            )
            what = f"d/d {loss.info.inputs[index].name}, reduction={reduction}, weighted={weighted}"
            _assert_close_where_smooth(grad, numeric, smooth, what)


def check_hessian(loss) -> None:
    """The Hessian diagonal is what ``info.hessian_kind`` promises, and its gradient is ``grad``'s."""
    loss = _layout(loss)
    kind = loss.info.hessian_kind
    arrays = _inputs(loss)
    if kind is None:
        try:
            loss.grad_and_hessian(*arrays)
        except InputError:
            return
        raise AssertionError("hessian_kind is None, but grad_and_hessian did not raise InputError")
    for reduction, weighted in (("sum", False), ("mean", True), ("none", True)):
        kw = _call_kw(reduction, weighted)
        grads, hessians = (_tuple(x) for x in loss.grad_and_hessian(*arrays, **kw))
        for g, expected in zip(grads, _grads(loss, arrays, **kw)):
            np.testing.assert_allclose(_np(g), expected, rtol=1e-12, atol=1e-15, err_msg="grad_and_hessian's gradient")
        for position, (hessian, index) in enumerate(zip(hessians, _positions(loss))):
            hessian = np.asarray(_np(hessian), dtype=np.float64)
            name = loss.info.inputs[index].name
            assert hessian.shape == arrays[index].shape, f"the Hessian of {name} has shape {hessian.shape}"

            def entry(x, at, index=index, position=position):  # d(gradient entry at) / d(x at)
                return _grads(loss, _replace(arrays, index, x), **kw)[position][at]

            numeric, smooth = _derivatives(entry, arrays[index])
            what = f"Hessian of {name} ({kind}), reduction={reduction}, weighted={weighted}"
            flat = np.allclose(numeric[smooth], 0.0, atol=FD_ATOL)
            if kind == "exact" or (kind == "approximate" and not flat):  # a stand-in only for a flat prediction
                _assert_close_where_smooth(hessian, numeric, smooth, what)
                continue
            assert np.all(hessian[_kept(kw, hessian)] > 0), f"{what}: a {kind} Hessian must be positive"


def _kept(kw, hessian):
    """Entries of examples whose weight is not 0."""
    if "sample_weight" not in kw:
        return np.ones(hessian.shape, dtype=bool)
    w = kw["sample_weight"].reshape((-1,) + (1,) * (hessian.ndim - 1))
    return np.broadcast_to(w != 0, hessian.shape)


def check_value_and_grad(loss) -> None:
    """``value_and_grad`` is ``(value, grad)``; shapes follow the declaration."""
    loss = _layout(loss)
    arrays = _inputs(loss)
    for reduction, weighted in _settings():
        kw = _call_kw(reduction, weighted)
        value, grads = loss.value_and_grad(*arrays, **kw)
        np.testing.assert_array_equal(_np(value), _value(loss, arrays, **kw))
        grads = _tuple(grads)
        assert len(grads) == len(_positions(loss)), "one gradient per prediction"
        for g, expected, index in zip(grads, _grads(loss, arrays, **kw), _positions(loss)):
            assert g.shape == arrays[index].shape, f"the gradient of {loss.info.inputs[index].name} has shape {g.shape}"
            np.testing.assert_array_equal(_np(g), expected)
        shape = () if reduction != "none" else (N,)
        assert np.shape(value) == shape, f"reduction={reduction!r} gives shape {np.shape(value)}, expected {shape}"


def check_reductions(loss) -> None:
    """The weight and reduction laws: unit weights, zero weights drop rows, integer weights repeat them,
    (not for a batch-coupled loss, whose rows are each other's negatives), the mean is scale-invariant in the
    weights, zero total weight gives 0, normalizer divides the sum,
    ``"none"`` weighs each example, (N, 1) weights are (N,) weights, permuting examples permutes gradients."""
    loss = _layout(loss)
    arrays = _inputs(loss)
    take = _taker(arrays)
    for reduction in REDUCTIONS:
        for f in (_value, _grads):
            plain = f(loss, arrays, reduction=reduction)
            ones = f(loss, arrays, reduction=reduction, sample_weight=np.ones(N))
            column = f(loss, arrays, reduction=reduction, sample_weight=_weights()[:, None])
            flat = f(loss, arrays, reduction=reduction, sample_weight=_weights())
            _all_close(ones, plain, 1e-14, "unit weights change the result")
            _all_close(column, flat, 1e-14, "(N, 1) weights differ from (N,) weights")
    if not loss.batch_coupled:  # there every row is the others' negative: no row can be dropped or repeated
        _check_rows_independent(loss, arrays, take)
    weights = _weights()
    # the mean's denominator: the total weight, or of the weights it counts (class weights, ignored ids)
    weighted_count = float(prepare(loss, arrays, sample_weight=weights).reduction.denominator)
    unweighted = prepare(loss, arrays).reduction
    plain_count = float(unweighted.denominator)
    for f in (_value, _grads):
        _all_close(f(loss, arrays, sample_weight=7.5 * weights), f(loss, arrays, sample_weight=weights), 1e-13,
                   "the mean depends on the scale of the weights")  # fmt: skip
        _all_close(f(loss, arrays, sample_weight=weights, normalizer=weighted_count),
                   f(loss, arrays, sample_weight=weights), 1e-13, "normalizer=sum(w) is not the weighted mean")
        _all_close(f(loss, arrays, normalizer=1), f(loss, arrays, reduction="sum"), 1e-13, "normalizer=1 is not the sum")
        _all_close(f(loss, arrays, normalizer=plain_count), f(loss, arrays), 1e-13, "normalizer=N is not the mean")
    if unweighted.weight is None and unweighted.counted is None:
        assert plain_count == N, f"the plain mean divides by {plain_count}, not by the {N} examples"
    value, grads = loss.value_and_grad(*arrays, sample_weight=np.zeros(N))
    assert float(_np(value)) == 0.0, "all weights 0: the value must be 0"
    for g in _tuple(grads):
        np.testing.assert_array_equal(_np(g), 0.0, err_msg="all weights 0: the gradient must be 0")
    plain = _value(loss, arrays, reduction="none")
    np.testing.assert_allclose(_value(loss, arrays, reduction="none", sample_weight=weights), weights * plain,
                               rtol=1e-14, err_msg="'none' must be w * loss")  # fmt: skip
    if loss._outer is None and plain_count == N:
        np.testing.assert_allclose(_value(loss, arrays), plain.mean(), rtol=1e-13, err_msg="mean of 'none'")
        np.testing.assert_allclose(_value(loss, arrays, reduction="sum"), plain.sum(), rtol=1e-13, err_msg="sum of 'none'")
    order = np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(_value(loss, take(order), sample_weight=weights[order]),
                               _value(loss, arrays, sample_weight=weights), rtol=1e-13)  # fmt: skip
    for permuted, grad in zip(_grads(loss, take(order), sample_weight=weights[order]),
                              _grads(loss, arrays, sample_weight=weights)):  # fmt: skip
        np.testing.assert_allclose(permuted, grad[order], rtol=1e-13)


def _check_rows_independent(loss, arrays, take):
    """Zero weights drop their rows; integer weights repeat them."""
    w = np.array([1.0, 0.0, 2.0, 0.0, 0.5])
    kept = w > 0
    for reduction in ("mean", "sum"):
        full = _value(loss, arrays, sample_weight=w, reduction=reduction)
        subset = _value(loss, take(kept), sample_weight=w[kept], reduction=reduction)
        np.testing.assert_allclose(full, subset, rtol=1e-13, err_msg="zero weights must drop their rows")
        for grad, sub in zip(_grads(loss, arrays, sample_weight=w, reduction=reduction),
                             _grads(loss, take(kept), sample_weight=w[kept], reduction=reduction)):  # fmt: skip
            np.testing.assert_array_equal(grad[~kept], 0.0, err_msg="a dropped row has a gradient")
            np.testing.assert_allclose(grad[kept], sub, rtol=1e-13)
    counts = np.array([2, 1, 3, 1, 2])
    repeated = np.repeat(np.arange(N), counts)
    for reduction in ("mean", "sum"):
        np.testing.assert_allclose(
            _value(loss, arrays, sample_weight=counts, reduction=reduction),
            _value(loss, take(repeated), reduction=reduction), rtol=1e-13, err_msg="integer weights repeat rows",
        )  # fmt: skip
        for grad, copies in zip(_grads(loss, arrays, sample_weight=counts, reduction=reduction),
                                _grads(loss, take(repeated), reduction=reduction)):  # fmt: skip
            summed = np.zeros_like(grad)
            np.add.at(summed, repeated, copies)
            np.testing.assert_allclose(grad, summed, rtol=1e-12, atol=1e-15)


def _taker(arrays):
    return lambda rows: [a[rows] for a in arrays]


def _all_close(a, b, rtol, what):
    for x, y in zip(_tuple(a), _tuple(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-300, err_msg=what)


def check_dtypes(loss) -> None:
    """Results keep the predictions' dtype (float16 computed in float32) and the shapes of the declaration."""
    loss = _layout(loss)
    arrays = _inputs(loss)
    for dtype, rtol in (("float32", 1e-5), ("float16", 3e-3)):
        cast = [a.astype(dtype) if spec.kind == "real" else a for spec, a in zip(loss.info.inputs, arrays)]
        value, grads = loss.value_and_grad(*cast)
        assert value.dtype == np.dtype(dtype) and value.shape == (), f"{dtype}: value {value.dtype} {value.shape}"
        for g, index in zip(_tuple(grads), _positions(loss)):
            assert g.dtype == np.dtype(dtype) and g.shape == arrays[index].shape, f"{dtype}: gradient {g.dtype}"
        assert _np(loss(*cast, reduction="none")).shape == (N,)
        exact = _value(loss, [a.astype(np.float64) if a.dtype.kind == "f" else a for a in cast])
        np.testing.assert_allclose(value.astype(np.float64), exact, rtol=rtol, err_msg=f"{dtype} value")


def _outside(spec):
    """A value outside ``spec``'s domain (None if every real number is inside)."""
    domain = spec.domain
    if isinstance(domain, OneOf):
        return max(domain.values) + 0.5
    if isinstance(domain, Simplex):
        return "rows"
    low, high = domain.bounds
    if math.isfinite(low):
        return low - 1.0
    if math.isfinite(high):
        return high + 1.0
    return None


def check_input_errors(loss) -> None:
    """Bad arrays raise ``lk.InputError`` naming the argument: a value outside a domain, a shape that does not
    pair, an integer prediction, a negative weight, a missing array (an optional mask may be left out)."""
    loss = _layout(loss)
    arrays = _inputs(loss)
    name = loss.info.name
    for index, spec in enumerate(loss.info.inputs):
        if spec.kind == "class_index":
            bad = arrays[index].copy()
            bad[0] = C
        elif spec.kind == "mask":
            continue
        else:
            outside = _outside(spec)
            if outside is None:
                continue
            bad = arrays[index].copy()
            if outside == "rows":
                bad[0] = bad[0] * 0.5 if not isinstance(spec.domain, LogSimplex) else bad[0] - 1.0
            else:
                bad.reshape(-1)[0] = outside
        _expect(InputError, spec.name, loss, _replace(arrays, index, bad))
        _expect(InputError, spec.name, loss, _replace(arrays, index, np.concatenate([arrays[index], arrays[index][:1]])))
    for index in _positions(loss):
        _expect(InputTypeError, loss.info.inputs[index].name, loss, _replace(arrays, index, arrays[index].astype(np.int64)))
    _expect(InputError, "sample_weight", loss, arrays, sample_weight=-_weights())
    required = sum(not spec.optional for spec in loss.info.inputs)
    try:
        loss(*arrays[: required - 1])
    except InputTypeError as error:
        assert name in str(error)
    else:
        raise AssertionError("a missing array did not raise InputTypeError")


def _expect(error, argument, loss, arrays, **kw):
    try:
        loss(*arrays, **kw)
    except error as raised:
        message = str(raised)
        assert message.startswith(f"{loss.info.name}:") and argument in message, f"the message does not name {argument}: {message}"
        return
    raise AssertionError(f"{loss.info.name}: a bad {argument} did not raise {error.__name__}")


# --- metadata --------------------------------------------------------------------------------------------


def _example(loss, x, n):
    """Arrays of ``n`` one-number examples: targets typical, other predictions aside, the first prediction ``x``."""
    first = _positions(loss)[0]
    arrays = []
    for i, spec in enumerate(loss.info.inputs):
        if i == first:
            arrays.append(np.asarray(x, dtype=np.float64))
        elif spec.is_prediction:
            arrays.append(np.full(n, neutral_prediction(spec)))
        else:
            arrays.append(np.full(n, typical_target(spec)))
    return arrays


def _one_variable(loss) -> bool:
    info = loss.info
    return (
        info.variable in ("residual", "margin", "logit", "probability")
        and info.predictions[0].event == 0
        and all(spec.event == 0 and spec.kind == "real" for spec in info.inputs)
    )


def check_tags(loss) -> None:
    """The tags tell the truth about the loss at its hyperparameters: convex, robust, bounded and
    differentiable are checked both ways where the loss's shape allows; a proper scoring rule's best
    constant is the targets' own distribution. Where the tags may be incomplete (``Loss.tags_complete``: a
    compound has the tags all its terms share), only the tags given are checked."""
    tags, complete = loss.info.tags, loss.tags_complete
    violation = _convexity_violation(loss)
    if "convex" in tags:
        assert violation is None, f"tagged convex, but not convex: {violation}"
    elif complete:
        assert violation is not None, "not tagged convex, but every midpoint test holds: tag it convex"
    if loss.info.variable == "residual" and _one_variable(loss) and loss._outer is None:
        near, far = _influence(loss)
        if "robust" in tags:
            assert far <= 2 * near, f"tagged robust, but the gradient grows from {near:g} to {far:g} far out"
        elif complete:
            assert far > 2 * near, f"not tagged robust, but the gradient stays bounded ({near:g}, {far:g}): tag it"
    highest = _highest_value(loss)
    if "bounded" in tags:
        assert highest < BOUND, f"tagged bounded, but reaches {highest:g}"
    elif complete:
        assert highest >= BOUND, f"not tagged bounded, but stays below {BOUND:g} at extreme inputs: tag it"
    if _one_variable(loss) and loss.kinks():
        jumps = _jumps(loss)
        if "differentiable" in tags:
            assert max(jumps) < 1e-4, f"tagged differentiable, but its slope jumps at a declared kink: {jumps}"
        elif complete:
            assert max(jumps) > 1e-3, f"not tagged differentiable, yet no declared kink has a jump: {jumps}"
    if "proper_scoring_rule" in tags:
        _check_proper(loss)


def _convexity_violation(loss, pairs: int = 300):
    """A midpoint of two prediction sets where a per-example loss lies above the chord, or None."""
    rng = np.random.default_rng(5)
    base = _inputs(loss, seed=5)
    positions = _positions(loss)
    with validation(False):
        for k in range(pairs):
            a, b = (list(sample_inputs(loss, rng, n=N, classes=C)) for _ in range(2))
            spread = 1.0 + 3.0 * (k % 3)
            for i in positions:
                if type(loss.info.inputs[i].domain).__name__ == "Domain":
                    a[i], b[i] = spread * a[i], spread * b[i]
            left = [a[i] if i in positions else base[i] for i in range(len(base))]
            right = [b[i] if i in positions else base[i] for i in range(len(base))]
            middle = [(left[i] + right[i]) / 2 if i in positions else base[i] for i in range(len(base))]
            fa, fb, fm = (_value(loss, arrays, reduction="none") for arrays in (left, right, middle))
            gap = fm - (fa + fb) / 2
            tolerance = 1e-9 * (1.0 + np.abs(fa) + np.abs(fb))
            if np.any(np.isfinite(gap) & (gap > tolerance)):
                return f"pair {k}: the loss at the midpoint exceeds the chord by {float(np.nanmax(gap)):.3g}"
    return None


def _influence(loss):
    """The largest |gradient| of one example at residuals of 1e3 and at residuals of 1e9 or near a domain edge."""
    spec = loss.info.predictions[0]
    centre = typical_target(loss.info.targets[0]) if loss.info.targets else 0.0
    low, high = spec.domain.bounds

    def largest(points):
        points = np.asarray([p for p in points if low < p < high], dtype=np.float64)
        if not points.size:
            return 0.0
        grad = _grads(loss, _example(loss, points, points.size), reduction="none")[0]
        return float(np.max(np.abs(grad)))

    near = largest(centre + np.array([-1e3, 1e3]))
    edges = [low + 1e-9] if math.isfinite(low) else []
    edges += [high - 1e-9] if math.isfinite(high) else []
    far = largest(list(centre + np.array([-1e9, 1e9])) + edges)
    return near, far


def _extreme(spec, shape, rng):
    domain = spec.domain
    if isinstance(domain, Simplex):
        rows = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        return np.log(rows + 1e-300) if isinstance(domain, LogSimplex) else rows
    low, high = domain.bounds
    low = low if math.isfinite(low) else -1e150
    high = high if math.isfinite(high) else 1e150
    if isinstance(domain, Interval) and domain.open_low:
        low = low + 1e-6
    return np.where(rng.random(shape) < 0.5, low, high)


def _highest_value(loss) -> float:
    rng = np.random.default_rng(7)
    highest = -np.inf
    with validation(False):
        for _ in range(20):
            arrays = _inputs(loss, seed=int(rng.integers(1 << 30)))
            for i, spec in enumerate(loss.info.inputs):
                # every prediction, and distributions as targets too (a divergence unbounded in its target)
                if spec.is_prediction or (isinstance(spec.domain, Simplex) and rng.random() < 0.5):
                    arrays[i] = _extreme(spec, arrays[i].shape, rng)
            values = _value(loss, arrays, reduction="none")
            highest = max(highest, float(np.max(np.where(np.isnan(values), -np.inf, values))))
    return highest


def _jumps(loss):
    """How much the slope of one example's loss jumps at each declared kink of its plot variable."""
    h = 1e-6
    jumps = []
    for kink in loss.kinks():
        if loss.info.variable == "residual":
            centre = typical_target(loss.info.targets[0]) if loss.info.targets else 0.0
            x = centre + kink
        else:
            x = kink
        points = np.array([x - h, x, x + h])
        values = _value(loss, _example(loss, points, 3), reduction="none")
        left, right = (values[1] - values[0]) / h, (values[2] - values[1]) / h
        jumps.append(abs(right - left))
    return jumps


def _targets_mean(loss, targets, weight):
    """The distribution the targets show: their weighted mean, or class shares from class ids."""
    from ._optimal import class_frequencies, weighted_mean

    spec = loss.info.targets[0]
    if spec.kind == "class_index":
        return class_frequencies(loss, targets, weight, C)
    return weighted_mean(targets[0], weight, rows=spec.event == 1)


def _check_proper(loss):
    """A proper scoring rule's best constant, through its link, is the targets' mean (or class shares)."""
    arrays = _inputs(loss, seed=3, n=40)
    targets = [a for spec, a in zip(loss.info.inputs, arrays) if not spec.is_prediction]
    weight = _weights(seed=4, n=40)
    constant = _tuple(loss.optimal_constant(*targets, sample_weight=weight))[0]
    spec = loss.info.predictions[0]
    quantity = spec.link.backward(np, np.asarray(constant, dtype=np.float64))
    if spec.link is IDENTITY and spec.activation == "log_softmax":
        quantity = np.exp(quantity)
    expected = _targets_mean(loss, targets, weight)
    np.testing.assert_allclose(quantity, expected, rtol=1e-6, atol=1e-7,
                               err_msg="tagged a proper scoring rule, but its best constant is not the targets' mean")


def check_twin(loss) -> None:
    """The twin is the same loss on the other side of the link: this loss on the activated raw output
    equals the twin on the raw output."""
    twin_name = loss.info.twin
    spec = loss.info.predictions[0]
    if not twin_name or spec.link is not IDENTITY:
        return
    ours, twin = type(loss)(), registry.get(twin_name)
    arrays = _inputs(twin, seed=9)
    first = _positions(twin)[0]
    raw = arrays[first]
    activated = ACTIVATIONS[spec.activation].apply(np, raw)
    np.testing.assert_allclose(
        _value(ours, _replace(arrays, first, activated), reduction="none"),
        _value(twin, arrays, reduction="none"), rtol=1e-6, atol=1e-9,
        err_msg=f"{loss.info.name} on {spec.activation}(raw) differs from its twin {twin_name} on raw",
    )  # fmt: skip


def check_optimal_constant(loss) -> None:
    """``optimal_constant`` minimises the mean cost over constant predictions (or says there is none: a loss
    without targets, of embedding rows, or of ranked lists)."""
    loss = _layout(loss)
    if not loss.info.targets:
        try:
            loss.optimal_constant()
        except InputError:
            return
        raise AssertionError("a loss without targets must refuse optimal_constant with InputError")
    arrays = _inputs(loss, seed=6, n=12)
    weight = _weights(seed=7, n=12)
    targets = [a for spec, a in zip(loss.info.inputs, arrays) if not spec.is_prediction]
    if loss.info.task in ("embedding", "ranking") and any(spec.event != 0 for spec in loss.info.predictions):
        try:  # a constant embedding or list of scores: its size is not in the targets, and it would mean nothing
            loss.optimal_constant(*targets, sample_weight=weight)
        except InputError:
            return
        raise AssertionError("a loss of embedding rows or lists must refuse optimal_constant with InputError")
    constants = [np.asarray(c, dtype=np.float64) for c in _tuple(loss.optimal_constant(*targets, sample_weight=weight))]
    assert len(constants) == len(_positions(loss)), "one constant per prediction"

    def cost(values):
        filled = list(arrays)
        for value, i in zip(values, _positions(loss)):
            filled[i] = np.broadcast_to(value, arrays[i].shape).copy()
        with validation(False):
            return float(_value(loss, filled, sample_weight=weight))

    best = cost(constants)
    assert np.isfinite(best), f"the cost at the optimal constant is {best}"
    for k, (constant, i) in enumerate(zip(constants, _positions(loss))):
        for moved in _moves(loss.info.inputs[i], constant):
            values = list(constants)
            values[k] = moved
            worse = cost(values)
            assert worse >= best - 1e-10 * (1 + abs(best)), (
                f"moving the constant of {loss.info.inputs[i].name} from {constant} to {moved} lowers the cost "
                f"from {best!r} to {worse!r}"
            )


def _moves(spec, constant):
    """Small moves of a constant that stay in the prediction's domain."""
    domain = spec.domain
    step = 1e-3 * (1.0 + np.abs(constant))
    if isinstance(domain, Simplex):
        p = np.exp(constant) if isinstance(domain, LogSimplex) else constant
        for i in range(p.size):
            for j in range(p.size):
                if i != j and p[j] > 1e-3:
                    q = p.copy()
                    q[i] += 1e-3
                    q[j] -= 1e-3
                    yield np.log(q) if isinstance(domain, LogSimplex) else q
        return
    low, high = domain.bounds
    for index in np.ndindex(constant.shape):
        for sign in (-1.0, 1.0):
            moved = constant.copy()
            moved[index] += sign * step[index]
            if low <= moved[index] <= high and not (getattr(domain, "open_low", False) and moved[index] == low):
                yield moved


def check_class_axis(loss) -> None:
    """``axis=0`` on transposed inputs gives the value of ``axis=-1`` and the transposed gradient."""
    if "axis" not in loss.hyperparameters():
        return
    last = _layout(loss)
    first = type(loss)(**{**_config(loss), "axis": 0})
    arrays = _inputs(last)
    moved = [a.T.copy() if spec.event == 1 else a for spec, a in zip(last.info.inputs, arrays)]
    kw = {"reduction": "none", "sample_weight": _weights()}
    np.testing.assert_allclose(_value(first, moved, **kw), _value(last, arrays, **kw), rtol=1e-12)
    for a, b in zip(_grads(first, moved, **kw), _grads(last, arrays, **kw)):
        np.testing.assert_allclose(a.T, b, rtol=1e-12)


# --- other backends ---------------------------------------------------------------------------------


def check_torch(loss) -> None:
    """PyTorch: autograd through the formulas and the closed-form backward equal ``grad``; double backward
    through both equals the exact Hessian diagonal."""
    import torch

    loss = _layout(loss)
    arrays = _inputs(loss)
    positions = _positions(loss)
    kw_np = _call_kw("mean", True)
    kw = {**kw_np, "sample_weight": torch.from_numpy(kw_np["sample_weight"])}
    for mode in ("never", "always"):  # autograd through the reference formulas, then the closed-form Function
        for reduction in REDUCTIONS:
            call = {**kw, "reduction": reduction}
            tensors = [torch.from_numpy(a).requires_grad_(i in positions) for i, a in enumerate(arrays)]
            with fast_path(mode):
                value = loss(*tensors, **call)
            auto = torch.autograd.grad(value.sum(), [tensors[i] for i in positions])
            for a, b in zip(auto, _grads(loss, arrays, **{**kw_np, "reduction": reduction})):
                np.testing.assert_allclose(a.numpy(), b, rtol=AD_RTOL, atol=AD_ATOL,
                                           err_msg=f"torch autograd ({mode}), reduction={reduction}")  # fmt: skip
        if loss.info.hessian_kind == "exact":
            _check_double_backward(loss, arrays, positions, kw, kw_np, mode)


def check_torch_compile(loss) -> None:
    """``torch.compile(fullgraph=True)`` traces the value: no check reads a value, no graph breaks."""
    import torch

    loss = _layout(loss)
    arrays = _inputs(loss)
    torch._dynamo.reset()
    compiled = torch.compile(lambda *a: loss(*a), fullgraph=True, backend="eager")
    tensors = [torch.from_numpy(a) for a in arrays]
    np.testing.assert_allclose(compiled(*tensors).numpy(), _value(loss, arrays), rtol=1e-13)


def _check_double_backward(loss, arrays, positions, kw, kw_np, mode):
    import torch

    hessians = _tuple(loss.grad_and_hessian(*arrays, **kw_np)[1])
    tensors = [torch.from_numpy(a).requires_grad_(i in positions) for i, a in enumerate(arrays)]
    with fast_path(mode):
        value = loss(*tensors, **kw)
    predictions = [tensors[i] for i in positions]
    grads = torch.autograd.grad(value, predictions, create_graph=True)
    for k, (grad, prediction) in enumerate(zip(grads, predictions)):
        diagonal = np.zeros(prediction.shape)
        flat = grad.reshape(-1)
        for j in range(flat.numel() if flat.requires_grad else 0):  # a constant gradient: a zero Hessian
            (row,) = torch.autograd.grad(flat[j], prediction, retain_graph=True, allow_unused=True)
            diagonal.reshape(-1)[j] = 0.0 if row is None else row.reshape(-1)[j].item()
        np.testing.assert_allclose(diagonal, _np(hessians[k]), rtol=1e-8, atol=1e-10,
                                   err_msg=f"torch double backward ({mode}) against the Hessian diagonal")  # fmt: skip


def check_jax(loss) -> None:
    """JAX: ``jax.grad`` through the formulas equals ``grad`` (away from kinks), and under ``jax.jit`` the
    value and ``jax.grad``, which then takes the closed-form gradient (``jax.custom_jvp``), equal losskit's
    without reading values (no checks while tracing). Runs in float64 (``jax.enable_x64``)."""
    import jax

    with jax.enable_x64(True):
        _check_jax(loss)


def _check_jax(loss):
    import jax
    import jax.numpy as jnp

    loss = _layout(loss)
    arrays = _inputs(loss)
    positions = _positions(loss)
    kw_np = _call_kw("mean", True)
    jarrays = [jnp.asarray(a) for a in arrays]
    w = jnp.asarray(kw_np["sample_weight"])

    def value(*predictions):
        full = list(jarrays)
        for i, p in zip(positions, predictions):
            full[i] = p
        return loss(*full, sample_weight=w)

    argnums, predictions = tuple(range(len(positions))), [jarrays[i] for i in positions]
    with fast_path("never"):  # autodiff through the formulas (compiled whole: operation by operation costs more)
        auto = jax.jit(jax.grad(value, argnums=argnums))(*predictions)
    for a, b in zip(auto, _grads(loss, arrays, **kw_np)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=AD_RTOL, atol=AD_ATOL, err_msg="jax.grad")
    # the closed-form gradient attached (jax.custom_jvp), traced by jax.jit without reading values
    v, g = jax.jit(jax.value_and_grad(value, argnums=argnums))(*predictions)
    np.testing.assert_allclose(np.asarray(v), _value(loss, arrays, **kw_np), rtol=1e-13)
    for a, b in zip(_tuple(g), _grads(loss, arrays, **kw_np)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-15, err_msg="jax.jit(jax.grad) gradient")


def check_tensorflow(loss, jit_compile: bool = False) -> None:
    """TensorFlow: ``loss.grad`` and ``tf.GradientTape`` through the formulas (``fast_path("never")``) and
    through the closed-form gradient attached (``tf.custom_gradient``) equal NumPy's gradient; inside
    ``tf.function`` with every batch size unknown (``None``), and with XLA if ``jit_compile``, the value and
    the tape's gradient are the same, without reading values."""
    import tensorflow as tf

    loss = _layout(loss)
    arrays = _inputs(loss)
    positions = _positions(loss)
    kw_np = _call_kw("mean", True)
    value, grads = _value(loss, arrays, **kw_np), _grads(loss, arrays, **kw_np)
    tensors, w = [tf.constant(a) for a in arrays], tf.constant(kw_np["sample_weight"])

    def taped(*args):
        *xs, weight = args
        with tf.GradientTape() as tape:
            tape.watch([xs[i] for i in positions])
            v = loss(*xs, sample_weight=weight)
        return v, tape.gradient(v, [xs[i] for i in positions])

    for a, b in zip(_tuple(loss.grad(*tensors, sample_weight=w)), grads):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-13, atol=1e-300, err_msg="loss.grad on tf.Tensor")
    with fast_path("never"):  # autodiff through the formulas
        v, auto = taped(*tensors, w)
    for a, b in zip(auto, grads):
        np.testing.assert_allclose(a.numpy(), b, rtol=AD_RTOL, atol=AD_ATOL, err_msg="tf.GradientTape")
    unknown = [tf.TensorSpec([None, *a.shape[1:]] if a.ndim else [], tf.as_dtype(a.dtype)) for a in (*arrays, w)]
    compiled = tf.function(taped, input_signature=unknown, jit_compile=jit_compile, autograph=False)
    for what, (v, attached) in {"eager": taped(*tensors, w), "tf.function": compiled(*tensors, w)}.items():
        np.testing.assert_allclose(v.numpy(), value, rtol=1e-13, err_msg=f"{what} value")
        for a, b in zip(attached, grads):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15, err_msg=f"{what} tf.GradientTape")


def check_array_api_strict(loss) -> None:
    """The standard alone (array-api-strict): value, gradient and Hessian equal NumPy's."""
    import array_api_strict as xps

    loss = _layout(loss)
    arrays = _inputs(loss)
    kw_np = _call_kw("mean", True)
    strict = [xps.asarray(a) for a in arrays]
    w = xps.asarray(kw_np["sample_weight"])
    np.testing.assert_allclose(_np(loss(*strict, sample_weight=w)), _value(loss, arrays, **kw_np), rtol=1e-13)
    for a, b in zip(_tuple(loss.grad(*strict, sample_weight=w)), _grads(loss, arrays, **kw_np)):
        np.testing.assert_allclose(_np(a), b, rtol=1e-13, atol=1e-300)
    if loss.info.hessian_kind is not None:
        for a, b in zip(_tuple(loss.grad_and_hessian(*strict, sample_weight=w)[1]),
                        _tuple(loss.grad_and_hessian(*arrays, **kw_np)[1])):  # fmt: skip
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-13, atol=1e-300)


#: Every check, by name, with the backend it needs ("numpy" needs nothing more).
CHECKS = {
    "declaration": (check_declaration, "numpy"),
    "gradient": (check_gradient, "numpy"),
    "hessian": (check_hessian, "numpy"),
    "value_and_grad": (check_value_and_grad, "numpy"),
    "reductions": (check_reductions, "numpy"),
    "dtypes": (check_dtypes, "numpy"),
    "input_errors": (check_input_errors, "numpy"),
    "tags": (check_tags, "numpy"),
    "twin": (check_twin, "numpy"),
    "optimal_constant": (check_optimal_constant, "numpy"),
    "class_axis": (check_class_axis, "numpy"),
    "torch": (check_torch, "torch"),
    "torch_compile": (check_torch_compile, "torch"),
    "jax": (check_jax, "jax"),
    "tensorflow": (check_tensorflow, "tensorflow"),
    "array_api_strict": (check_array_api_strict, "array_api_strict"),
}


def with_examples(loss):
    """``loss`` with each hyperparameter that declares an ``example`` (``losskit.params.Param``) set to it:
    the non-default formula, for running the contract a second time."""
    examples = {name: p.example for name, p in loss._params.items() if p.example is not None}
    return type(loss)(**{**loss._hyperparameters, **examples})


def available(backend: str) -> bool:
    """Whether a backend's library is installed."""
    return backend == "numpy" or importlib.util.find_spec(backend) is not None


def run_check(loss, name: str) -> None:
    """Run one check of :data:`CHECKS` on ``loss``; AssertionError names the loss and the check."""
    check, _ = CHECKS[name]
    try:
        check(loss)
    except AssertionError as error:
        raise AssertionError(f"{loss!r} fails the {name!r} check: {error}") from error


def check_loss(loss, *, backends=ALL_BACKENDS) -> None:
    """Run every check of the contract on ``loss`` (and its backends that are installed).

    Parameters
    ----------
    loss : Loss
        Any loss object: a registered one, configured or not, or a user's own subclass of ``lk.Loss``.
    backends : sequence of str
        Of "numpy", "torch", "jax", "tensorflow", "array_api_strict"; those not installed are skipped.

    Raises
    ------
    AssertionError
        Naming the loss and the first check that fails.
    """
    for name, (_, backend) in CHECKS.items():
        if backend in backends and available(backend):
            run_check(loss, name)


__all__ = ["check_loss", "run_check", "with_examples", "CHECKS", "available", *(check.__name__ for check, _ in CHECKS.values())]
