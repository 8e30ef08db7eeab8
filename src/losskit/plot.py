r"""Pictures of losses: the loss of one example and its gradient as functions of one variable.

Everything here reads the registry and each loss's metadata (``info.variable``, ``info.task``); no
list of losses is kept here. Every number drawn is computed by the loss itself
(``loss(..., reduction="none")`` and ``loss.grad(..., reduction="none")``), so a picture shows
exactly what the library computes. matplotlib is imported inside the functions that draw, never
by ``import losskit`` nor by ``import losskit.plot``; figures are built as
``matplotlib.figure.Figure`` objects, without pyplot and its global state.

The example of each loss is read off its declared inputs: the first prediction is ``x`` (or the row
built from ``x``), each target takes a typical value of its domain (0 for real numbers, +1 for
labels, 1 for [0, 1], 2 for counts) and any other prediction stands aside (a variance of 1, a
log-variance of 0). The plot variable of each loss and the example it stands for (see :func:`curve`):

========================  ================================================================
``info.variable``         one example at ``x``
========================  ================================================================
``"residual"``            ``y_true = 0``, ``y_pred = x`` (so ``x = y_pred - y_true``)
``"margin"``              ``y_true = +1``, ``y_pred = x`` (so ``x = t * y_pred``)
``"logit"``               binary: ``y_true = 1``, ``y_pred = x``; with a class axis: 3
                          classes, true class 0, logits ``[x, 0, 0]``
``"probability"``         binary: ``y_true = 1``, ``y_pred = x``; with a class axis: 3
                          classes, true class 0 gets ``x``, the other two ``(1 - x) / 2``
                          each; a ``"distribution"`` loss (KL divergence) has the target
                          row ``DISTRIBUTION_TARGET = (0.7, 0.15, 0.15)`` instead of a class
``"prediction"``          the prediction itself at a typical target (a count of 2 for
                          Poisson), over its own space
``"none"``                no curve of one variable (embeddings, log-probability rows)
========================  ================================================================
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from pathlib import Path

import numpy as np

from . import registry
from ._base import Loss
from ._samples import neutral_prediction, typical_target
from .errors import InputError

#: Classes of the example that class-axis losses are plotted on.
N_CLASSES = 3
#: The class the example belongs to (class-id and one-hot targets).
TRUE_CLASS = 0
#: Target row of ``"distribution"`` losses (KL divergence): the curve is 0 where ``x`` = 0.7.
DISTRIBUTION_TARGET = (0.7, 0.15, 0.15)
#: Default x range per plot variable.
DEFAULT_RANGES = {
    "residual": (-3.0, 3.0),
    "margin": (-4.0, 4.0),
    "logit": (-4.0, 4.0),
    "probability": (0.001, 0.999),
    "prediction": (-3.0, 3.0),
    "score": (-4.0, 4.0),
}
#: Points of a default x grid (601 from -3 to 3 puts a point on every multiple of 0.01).
DEFAULT_POINTS = 601
#: Default residuals of :func:`plot_outlier_influence`.
DEFAULT_INFLUENCE_RESIDUALS = (0.0, 10.0)
#: Default losses of :func:`plot_outlier_influence`.
DEFAULT_INFLUENCE_LOSSES = ("mse", "mae", "huber", "pseudo_huber", "log_cosh")
#: Formats :func:`save` writes, by file suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

_SYMBOLS = {"residual": "r", "margin": "m", "logit": "z", "probability": "p", "prediction": "y_pred", "score": "s"}
#: Variables that are one score for a positive example: the logit z is the margin t * y_pred with t = +1.
SCORES = ("margin", "logit")
_LABELS = {
    "score": "score s of a positive example\n(its logit, or its margin t * y_pred with t = +1)",
    "residual": "residual  r = y_pred - y_true",
    "margin": "margin  m = t * y_pred  (label t = +1)",
    "logit": "logit of the true class  z  (other logits 0)",
    "probability": "predicted probability of the true class  p",
    "prediction": "the prediction y_pred",
}
#: Hyperparameters that change the layout of the inputs, not the curve: never in legend labels.
_LAYOUT = ("reduction", "axis")


# --- the numbers ----------------------------------------------------------------------------------


def _as_loss(loss) -> Loss:
    return registry.get(loss)


def _variable(loss: Loss) -> str:
    variable = loss.info.variable
    if variable not in _LABELS:
        raise InputError(
            f"{loss.info.name} has no curve of one variable to draw (info.variable is {variable!r}); the plots "
            f"draw losses of a {', '.join(repr(v) for v in _LABELS)}."
        )
    return variable


def _first(loss: Loss):
    return loss.info.predictions[0]


def _depends_on_target(loss: Loss) -> bool:
    """Whether a loss of a residual changes with the target at a fixed residual (MSLE does, MSE does not)."""
    if _variable(loss) != "residual" or len(loss.info.inputs) != 2:
        return False
    r = np.linspace(-0.5, 0.5, 5)
    target = typical_target(loss.info.targets[0])
    with np.errstate(all="ignore"):
        at, beside = (np.asarray(loss(np.full(5, t), t + r, reduction="none")) for t in (target, target + 1.0))
    return not np.allclose(at, beside, equal_nan=True)


def default_range(loss) -> tuple[float, float]:
    """The x range of a loss's curve: its variable's, or for ``"prediction"`` the prediction's own space."""
    loss = _as_loss(loss)
    variable = _variable(loss)
    low = _first(loss).domain.bounds[0]
    if variable == "prediction" and np.isfinite(low) and _first(loss).link.name == "identity":
        return (low, low + 6.0)
    return DEFAULT_RANGES[variable]


def axis_label(loss) -> str:
    """The x-axis label of a loss's curve: its plot variable and the example it stands for.

    Parameters
    ----------
    loss : str, dict or Loss
        A name or alias, a config dict, or a Loss (anything ``lk.get`` takes).

    Examples
    --------
    >>> from losskit import plot
    >>> plot.axis_label("huber")
    'residual  r = y_pred - y_true'
    >>> plot.axis_label("hinge")
    'margin  m = t * y_pred  (label t = +1)'
    >>> plot.axis_label("log_poisson_nll")
    'the prediction y_pred  (log-values; y_true = 2)'
    """
    loss = _as_loss(loss)
    note = _note(loss)
    if note and loss.info.task == "distribution":  # no true class, a target row
        return f"predicted probability of class 0  p  ({note})"
    variable = _variable(loss)
    if variable == "prediction":
        targets = ", ".join(f"{spec.name} = {typical_target(spec):g}" for spec in loss.info.targets)
        return f"{_LABELS[variable]}  ({_first(loss).space}; {targets})"
    return _LABELS[variable]


def _note(loss: Loss) -> str:
    """What sets a loss's example apart from the others of its variable ("" when nothing does): a
    distribution's target row, or the target of a loss that is not a function of the residual alone."""
    if _first(loss).event == 1 and loss.info.variable == "probability" and loss.info.task == "distribution":
        return "target row [" + ", ".join(f"{v:g}" for v in DISTRIBUTION_TARGET) + "]"
    if _depends_on_target(loss):
        return ", ".join(f"{spec.name} = {typical_target(spec):g}" for spec in loss.info.targets)
    return ""


def _example(loss: Loss, x: np.ndarray):
    """``(arrays, direction)`` of the examples at ``x`` (1-D), event axes last, in declaration order.

    ``direction`` maps the gradient with respect to the first prediction to the derivative along
    ``x``: None for elementwise predictions, else the row ``d y_pred / d x``.
    """
    variable, n = _variable(loss), x.shape[0]
    first = _first(loss)
    direction = None
    if first.event != 1:
        y_pred = x.copy()
    elif variable == "logit":
        y_pred = np.zeros((n, N_CLASSES))
        y_pred[:, TRUE_CLASS] = x
        direction = np.zeros(N_CLASSES)
        direction[TRUE_CLASS] = 1.0
    elif variable == "probability":
        others = N_CLASSES - 1
        y_pred = np.repeat(((1.0 - x) / others)[:, None], N_CLASSES, axis=1)
        y_pred[:, TRUE_CLASS] = x
        direction = np.full(N_CLASSES, -1.0 / others)
        direction[TRUE_CLASS] = 1.0
    else:
        raise InputError(f"{loss.info.name}: a class-axis loss plotted against its {variable} is not supported.")
    arrays = []
    for spec in loss.info.inputs:
        if spec is first:
            arrays.append(y_pred)
        elif spec.kind == "class_index":
            arrays.append(np.full(n, TRUE_CLASS, dtype=np.int64))
        elif spec.event == 1 and loss.info.task == "distribution":
            arrays.append(np.tile(np.asarray(DISTRIBUTION_TARGET, dtype=np.float64), (n, 1)))
        elif spec.event == 1:
            row = np.zeros((n, N_CLASSES))
            row[:, TRUE_CLASS] = 1.0
            arrays.append(row)
        else:
            value = typical_target(spec) if not spec.is_prediction else neutral_prediction(spec)
            arrays.append(np.full(n, value))
    return arrays, direction


def _outside_domain(loss: Loss, y_pred: np.ndarray) -> np.ndarray:
    """Mark the examples whose first prediction lies outside its declared domain."""
    domain = _first(loss).domain
    bad = np.zeros(y_pred.shape[0], dtype=bool)
    parts = [domain]
    if hasattr(domain, "entries"):  # probability rows: each entry in [0, 1], and rows summing to 1
        parts.append(domain.entries())
    for part in parts:
        marks = part.bad(np, y_pred)
        if marks is not None:
            marks = np.asarray(marks)
            bad |= marks.reshape(y_pred.shape[0], -1).any(axis=1)
    return bad


def curve(loss, x, *, hessian: bool = False) -> tuple[np.ndarray, ...]:
    r"""The loss of one example and its derivative (and second derivative), as functions of the loss's plot variable.

    The example at each ``x`` depends on ``loss.info.variable`` (and on the loss having a class
    axis):

    - ``"residual"``: ``y_true = 0``, ``y_pred = x``; ``x`` is the residual ``y_pred - y_true``.
      (For MSLE, whose value depends on ``y_true`` too, this is the curve at ``y_true = 0``.)
    - ``"margin"``: ``y_true = +1``, ``y_pred = x``; ``x`` is the margin ``t * y_pred``.
    - ``"logit"``: binary, ``y_true = 1`` and ``y_pred = x``; with a class axis, 3 classes, true
      class 0 (a class id or a one-hot row) and logits ``[x, 0, 0]``.
    - ``"probability"``: binary, ``y_true = 1`` and ``y_pred = x``; with a class axis, true class
      0 gets probability ``x`` and the two others ``(1 - x) / 2`` each. A ``"distribution"`` loss
      (KL divergence) has the target row ``DISTRIBUTION_TARGET = (0.7, 0.15, 0.15)``, so its curve
      is 0 at ``x = 0.7``, where the prediction matches the target.

    The derivative is that of the returned value along ``x``: ``loss.grad`` (with
    ``reduction="none"``) for one-number examples; for logit rows the entry of the true class; for
    probability rows the derivative along the row ``[x, (1 - x)/2, (1 - x)/2]``, i.e.
    ``g[0] - (g[1] + g[2]) / 2`` with ``g = loss.grad(...)``. That equals ``g[0]`` when the other
    two partial derivatives are 0, as for cross-entropy with a one-hot target.

    With ``hessian``, the second derivative along ``x`` too: the Hessian diagonal of
    ``loss.grad_and_hessian`` (its ``info.hessian_kind``: "approximate" draws the stand-in that
    boosting uses), for elementwise predictions and logit rows, where the diagonal is that
    derivative.

    Where ``x`` falls outside the loss's domain (a probability outside [0, 1], an MSLE prediction
    <= -1), the arrays hold NaN, which matplotlib leaves undrawn.

    Parameters
    ----------
    loss : str, dict or Loss
        A name or alias, a config dict, or a configured Loss (anything ``lk.get`` takes).
    x : array_like of float
        Values of the plot variable.
    hessian : bool, default False
        Also return the second derivative.

    Returns
    -------
    values, grads : numpy.ndarray of float64, shaped like ``x``
        And ``hessians`` with ``hessian``.

    Raises
    ------
    InputError
        ``hessian`` for a loss without a Hessian diagonal (``hessian_kind`` None) or along a row of
        probabilities (where the diagonal is not the second derivative along ``x``).

    Examples
    --------
    >>> from losskit import plot
    >>> values, grads = plot.curve("mse", [-1.0, 0.0, 2.0])
    >>> values.tolist(), grads.tolist()
    ([1.0, 0.0, 4.0], [-2.0, 0.0, 4.0])
    >>> values, grads = plot.curve({"name": "huber", "delta": 1.0}, [0.5, 3.0])
    >>> values.tolist(), grads.tolist()
    ([0.125, 2.5], [0.5, 1.0])
    """
    loss = _as_loss(loss)
    if hessian:
        _check_hessian(loss)
    x = np.asarray(x, dtype=np.float64)
    shape, x = x.shape, x.reshape(-1)
    out = [np.full(x.shape, np.nan) for _ in range(3 if hessian else 2)]
    arrays, direction = _example(loss, x)
    first = loss.info.inputs.index(_first(loss))
    keep = ~_outside_domain(loss, arrays[first])
    if keep.any():
        axis = getattr(loss, "axis", -1)
        arrays = [
            np.moveaxis(a[keep], -1, axis) if spec.event == 1 else a[keep]
            for spec, a in zip(loss.info.inputs, arrays)
        ]
        numbers = [loss(*arrays, reduction="none")]
        numbers += loss.grad_and_hessian(*arrays, reduction="none") if hessian else [loss.grad(*arrays, reduction="none")]
        for k, number in enumerate(numbers):
            number = np.asarray(number[0] if isinstance(number, tuple) else number, dtype=np.float64)
            if k and direction is not None:  # logit rows: the true class's entry; probability rows: along x
                number = np.moveaxis(number, axis, -1) @ direction
            out[k][keep] = number.reshape(-1)
    return tuple(a.reshape(shape) for a in out)


def _check_hessian(loss: Loss) -> None:
    if loss.info.hessian_kind is None:
        raise InputError(f"{loss.info.name} has no Hessian diagonal to draw (its hessian_kind is None).")
    if _first(loss).event == 1 and _variable(loss) == "probability":
        raise InputError(f"{loss.info.name}: its second derivative along a row of probabilities needs the "
                         "off-diagonal Hessian, which losskit does not give; draw its value and gradient.")  # fmt: skip


# --- the pictures ---------------------------------------------------------------------------------


def default_size(panels: int) -> tuple[float, float]:
    """A figure's size in inches when none is given: 5 inches per panel, 4.5 high."""
    return (5.0 * panels + 0.5, 4.5)


def _figure(panels: int, figsize, dpi):
    from matplotlib.figure import Figure

    if figsize is None:
        figsize = default_size(panels)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def _axes(ax, panels: int, figsize, dpi, caller: str):
    """Axes to draw into: new ones on a new figure, or those given (one per panel, same figure)."""
    if ax is None:
        return _figure(panels, figsize, dpi)
    axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
    if len(axes) != panels:
        raise InputError(
            f"{caller}: needs {panels} Axes (one per panel: the value, then the gradient and the Hessian if drawn); "
            f"got {len(axes)}. Pass gradient=False to draw the values alone on one Axes."
        )
    return axes[0].figure, axes


def _number(value) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return str(value)


def _label(loss: Loss, named=()) -> str:
    """``"huber (delta=2)"``: the name, with the hyperparameters named in ``params`` or set off their default."""
    defaults = loss.defaults()
    shown = [
        f"{name}={_number(getattr(loss, name))}"
        for name in loss.hyperparameters()
        if name not in _LAYOUT and (name in named or getattr(loss, name) != defaults.get(name))
    ]
    return f"{loss.info.name} ({', '.join(shown)})" if shown else loss.info.name


def _varying(entries, loss: Loss) -> tuple[str, ...]:
    """The hyperparameters that differ between the drawn losses of ``loss``'s name: each curve names its value."""
    same = [other for other, _ in entries if other.info.name == loss.info.name]
    return tuple(p for p in loss.hyperparameters() if len({getattr(other, p) for other in same}) > 1)


def _single(losses) -> bool:
    return isinstance(losses, (str, dict, Loss))


def _entries(losses, params, caller: str) -> list[tuple[Loss, tuple[str, ...]]]:
    """The configured losses to draw, with the hyperparameter names ``params`` set on each."""
    bases = [losses] if _single(losses) else list(losses)
    if not bases:
        raise InputError(f"{caller}: no losses to plot.")
    params = dict(params or {})
    swept = {k: (list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]) for k, v in params.items()}
    for name, values in swept.items():
        if not values:
            raise InputError(f"{caller}: params[{name!r}] is empty; give at least one value.")
    entries = []
    for base in bases:
        base = _as_loss(base)
        own = [p for p in base.hyperparameters() if p not in _LAYOUT]
        for name in swept:
            if name not in own:
                listed = ", ".join(own) if own else "none"
                raise InputError(
                    f"{caller}: {base.info.name} has no hyperparameter {name!r} to vary; its hyperparameters: {listed}."
                )
        for combo in itertools.product(*swept.values()):
            entries.append((registry.get(base, **dict(zip(swept, combo))), tuple(swept)))
    return entries


def _common_variable(entries, caller: str) -> str:
    """The one x axis of the losses: their variable, or "score" for margins and logits of a positive example."""
    def key(loss):
        variable = _variable(loss)
        return f"{variable} ({_first(loss).space})" if variable == "prediction" else variable

    variables = {key(loss) for loss, _ in entries}
    if variables == set(SCORES) and all(loss.info.task == "binary" for loss, _ in entries):
        return "score"
    if len(variables) > 1:
        which = ", ".join(dict.fromkeys(f"{loss.info.name}: {key(loss)}" for loss, _ in entries))
        raise InputError(
            f"{caller}: these losses are functions of different variables ({which}), so they have no common "
            "x axis. Plot each variable on its own figure: one call per group of losses that share "
            "loss.info.variable (and, for predictions, their space)."
        )
    return _variable(entries[0][0])


def _colors(n: int, sweep: bool):
    if sweep:
        from matplotlib import colormaps

        return [colormaps["viridis"](t) for t in np.linspace(0.0, 0.85, n)] if n > 1 else ["C0"]
    return [f"C{i % 10}" for i in range(n)]


_STYLES = ("-", "--", "-.", ":")


def _style(i: int, colors, sweep: bool) -> dict:
    """Line ``i``'s color and dash: a sweep varies the color only; a set of losses varies both, so
    curves that coincide (MAE and RMSE per example, BCE and CE at a one-hot target) stay visible."""
    return {"color": colors[i], "linestyle": "-" if sweep else _STYLES[i % len(_STYLES)], "linewidth": 1.8}


def _robust_ylim(ax, x, arrays) -> None:
    """Zoom in when a pole (a log near 0, a slope near a domain's edge) would flatten every other curve.

    The bulk of each curve is its values away from the ends of the x range where it is defined (5%
    of that range at each end); when all the data spans more than 3 times the bulk of all curves, the
    y axis shows the bulk (plus a margin) and the pole runs off the panel. The data are not changed.
    """
    full, bulk = [], []
    for y in arrays:
        finite = np.isfinite(y)
        if not finite.any():
            continue
        xs, ys = x[finite], y[finite]
        low, high = xs.min(), xs.max()
        trim = 0.05 * (high - low)
        inner = ys[(xs >= low + trim) & (xs <= high - trim)]
        full.append(ys)
        bulk.append(inner if inner.size else ys)
    if not full:
        return
    full, bulk = np.concatenate(full), np.concatenate(bulk)
    span = max(float(bulk.max() - bulk.min()), 1e-12)
    if float(full.max() - full.min()) > 3.0 * span:
        ax.set_ylim(float(bulk.min()) - 0.1 * span, float(bulk.max()) + 0.1 * span)


def plot_losses(
    losses,
    *,
    params=None,
    x=None,
    gradient: bool = True,
    hessian: bool = False,
    ax=None,
    figsize=None,
    dpi: float = 100,
    title: str | None = None,
):
    r"""Draw the loss of one example (and its gradient and Hessian) for a set of losses, on one figure.

    The curves are those of :func:`curve`: every loss must have the same plot variable
    (``info.variable``), which is the x axis. Each drawn line carries exactly the arrays that
    :func:`curve` returns (``line.get_xdata()``, ``line.get_ydata()``) and the legend label of its
    loss; lines whose labels start with ``_`` are guides (the zero line).

    Parameters
    ----------
    losses : str, dict, Loss, or a sequence of them
        The losses to draw (anything ``lk.get`` takes, or a list of such).
    params : dict, optional
        Hyperparameter values to sweep, applied to every loss: ``{"delta": [0.5, 1, 2]}`` draws one
        curve per value (all combinations when several are given); a single value sets it.
    x : array_like, optional
        Values of the plot variable. Default: 601 points over ``DEFAULT_RANGES[variable]``
        (residual -3..3, margin and logit -4..4, probability 0.001..0.999).
    gradient : bool, default True
        Also draw the derivatives, on a second panel.
    hessian : bool, default False
        Also draw the second derivatives (the Hessian diagonal, see :func:`curve`), on a last panel.
    ax : matplotlib Axes, or a sequence of them, optional
        Draw into these (the value panel, then the gradient and Hessian panels) instead of a new figure.
    figsize, dpi : optional
        Size in inches and resolution of a new figure.
    title : str, optional
        The figure's title; by default it names the losses and the variable.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        The losses have different plot variables (no common x axis), a swept hyperparameter does
        not belong to a loss, or ``ax`` does not hold one Axes per panel.

    Examples
    --------
    >>> from losskit import plot
    >>> fig = plot.plot_losses("pseudo_huber", params={"delta": [0.5, 1, 2]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['pseudo_huber (delta=0.5)', 'pseudo_huber (delta=1)', 'pseudo_huber (delta=2)']
    >>> fig = plot.plot_losses(["huber", "mse", "mae"], gradient=False)
    >>> len(fig.axes)
    1
    """
    caller = "plot_losses"
    entries = _entries(losses, params, caller)
    variable = _common_variable(entries, caller)
    if x is None:
        x = np.linspace(*default_range(entries[0][0]), DEFAULT_POINTS)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    panels = ["values"] + (["gradients"] if gradient else []) + (["hessians"] if hessian else [])
    fig, axes = _axes(ax, len(panels), figsize, dpi, caller)
    labels = {axis_label(loss) for loss, _ in entries}
    xlabel = labels.pop() if len(labels) == 1 else _LABELS[variable]
    sweep = len({loss.info.name for loss, _ in entries}) == 1 and len(entries) > 1
    colors = _colors(len(entries), sweep)
    symbol = _SYMBOLS[variable]
    drawn = {panel: [] for panel in panels}
    for i, (loss, named) in enumerate(entries):
        numbers = dict(zip(("values", "gradients", "hessians"), curve(loss, x, hessian=hessian)))
        label = _label(loss, named)
        note = _note(loss)
        if note and note not in xlabel:  # a different example from the x label's: say which
            label = f"{label}, {note}"
        style = _style(i, colors, sweep)
        for panel, axis in zip(panels, axes):
            kind = loss.info.hessian_kind
            shown = f"{label} ({kind})" if panel == "hessians" and kind != "exact" else label
            axis.plot(x, numbers[panel], label=shown, **style)
            drawn[panel].append(numbers[panel])
    titles = {"values": ("loss of one example", "loss"),
              "gradients": ("its derivative (the gradient)", f"d loss / d {symbol}"),
              "hessians": ("its second derivative (the Hessian)", f"d^2 loss / d {symbol}^2")}  # fmt: skip
    for panel, axis in zip(panels, axes):
        if panel != "values":
            axis.axhline(0.0, color="0.6", linewidth=0.8, zorder=0, label="_zero")
        axis.set_title(titles[panel][0])
        axis.set_ylabel(titles[panel][1])
        _robust_ylim(axis, x, drawn[panel])
    for panel in axes:
        panel.set_xlabel(xlabel)
        panel.grid(True, alpha=0.3)
    axes[0].legend(fontsize="small")
    if title is None:
        names = ", ".join(dict.fromkeys(loss.info.name for loss, _ in entries))
        swept = ", ".join(params) if params else ""
        title = f"{names} for several values of {swept}" if sweep and swept else names
        title = f"{title}, against the {variable}"
    fig.suptitle(title)
    return fig


def plot_outlier_influence(
    losses=DEFAULT_INFLUENCE_LOSSES,
    *,
    residuals=None,
    batch_size: int = 20,
    figsize=None,
    dpi: float = 100,
    title: str | None = None,
):
    r"""How hard one point pulls on the fit as its residual grows: why one outlier can dominate MSE.

    Left panel: the influence of one example, the derivative of its loss with respect to its
    prediction, at residual ``r`` (the gradient curve of :func:`curve`, ``y_true = 0``). MSE's grows
    as ``2 r`` without bound; MAE's is 1, Huber's stops at ``delta``, pseudo-Huber's and
    log-cosh's level off: a far point pulls no harder than a near one.

    Right panel: the share of the batch's gradient that the one point takes, in a batch of
    ``batch_size`` examples where all the others have residual 1: ``|g_0| / sum_i |g_i|`` with
    ``g = loss.grad(zeros, [r, 1, ..., 1])`` (``reduction="mean"``, so losses whose cost is not a
    mean of per-example losses, such as RMSE, are shown as they really train). ``1 / batch_size``
    (dotted) is a fair share.

    Parameters
    ----------
    losses : sequence of str, dict or Loss, default ("mse", "mae", "huber", "pseudo_huber", "log_cosh")
        Regression losses (``info.task == "regression"``).
    residuals : array_like, optional
        Residuals of the point; default 501 points from 0 to 10.
    batch_size : int, default 20
        Examples in the batch of the right panel, the point included.
    figsize, dpi, title : optional
        Size in inches and resolution of the figure; its title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        A loss is not a regression loss, or ``batch_size < 2``.

    Examples
    --------
    >>> from losskit import plot
    >>> fig = plot.plot_outlier_influence(("mse", "huber"), residuals=[0.0, 1.0, 5.0])
    >>> [line.get_ydata().tolist() for line in fig.axes[0].get_lines()[:2]]
    [[0.0, 2.0, 10.0], [0.0, 1.0, 1.0]]
    """
    caller = "plot_outlier_influence"
    entries = _entries(losses, None, caller)
    wrong = [loss.info.name for loss, _ in entries if not residual_loss(loss)]
    if wrong:
        kinds = ", ".join(f"{name} ({registry.get(name).info.task}, {registry.get(name).info.variable})"
                          for name in dict.fromkeys(wrong))  # fmt: skip
        raise InputError(
            f"{caller}: takes regression losses of a residual only, whose gradient is a pull on it; got {kinds}. "
            f"Those losses: {', '.join(n for n in registry.list_losses(task='regression') if residual_loss(n))}."
        )
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 2:
        raise InputError(f"{caller}: batch_size must be an integer >= 2 (the point and others); got {batch_size!r}.")
    if residuals is None:
        residuals = np.linspace(*DEFAULT_INFLUENCE_RESIDUALS, 501)
    r = np.asarray(residuals, dtype=np.float64).reshape(-1)
    fig, axes = _figure(2, figsize, dpi)
    colors = _colors(len(entries), sweep=False)
    for i, (loss, named) in enumerate(entries):
        label = _label(loss, named + _varying(entries, loss))
        style = _style(i, colors, sweep=False)
        _, grads = curve(loss, r)
        axes[0].plot(r, grads, label=label, **style)
        share = np.full(r.shape, np.nan)
        for k, residual in enumerate(r):
            y_pred = np.ones(batch_size)
            y_pred[0] = residual
            g = loss.grad(*_example(loss, y_pred)[0])
            g = np.abs(np.asarray(g[0] if isinstance(g, tuple) else g, dtype=np.float64))
            total = g.sum()
            share[k] = g[0] / total if total > 0 else np.nan
        axes[1].plot(r, share, label=label, **style)
    axes[1].axhline(1.0 / batch_size, color="0.4", linestyle=":", linewidth=1.2, label="_fair share")
    axes[0].set_title("influence of one point")
    axes[0].set_ylabel("d loss / d y_pred  (the pull on the fit)")
    axes[1].set_title(f"its share of the gradient: 1 point at r, {batch_size - 1} at r = 1")
    axes[1].set_ylabel("|g of the point| / sum |g|")
    top = max([float(np.nanmax(line.get_ydata())) for line in axes[1].get_lines()[:-1] if line.get_ydata().size]
              + [1.0 / batch_size], default=1.0)  # fmt: skip
    axes[1].set_ylim(0.0, min(1.0, 1.15 * top) if np.isfinite(top) else 1.0)
    axes[1].text(
        0.02, 0.97, f"dotted: a fair share, 1/{batch_size}", transform=axes[1].transAxes,
        ha="left", va="top", fontsize="small", color="0.3",
    )  # fmt: skip
    for panel in axes:
        panel.set_xlabel("residual of the point  r = y_pred - y_true")
        panel.grid(True, alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle(title or "One outlier's pull on the fit, per loss")
    return fig


def residual_loss(loss) -> bool:
    """Whether a loss is a regression loss of a residual (the outlier-influence picture's losses)."""
    info = _as_loss(loss).info
    return info.task == "regression" and info.variable == "residual"


def save(fig, path) -> Path:
    """Write a figure to ``path`` as PNG, SVG or PDF, chosen by the file's suffix.

    PNGs are written at the figure's own resolution, so their size in pixels is
    ``figsize * dpi``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Ends in ``.png``, ``.svg`` or ``.pdf`` (any case).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        Another suffix; the message names the allowed ones.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from losskit import plot
    >>> fig = plot.plot_losses(["mse", "mae"], gradient=False, figsize=(4, 3), dpi=50)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = plot.save(fig, pathlib.Path(folder) / "losses.png")
    ...     path.stat().st_size > 0
    True
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"save: cannot write {path.name!r}: the suffix must be one of {', '.join(FORMATS)}; "
            f"got {path.suffix or 'no suffix'!r}."
        )
    with missing_glyphs_quiet():
        fig.savefig(path, format=fmt, dpi=fig.dpi)
    return path


@contextlib.contextmanager
def missing_glyphs_quiet():
    """Draw without one warning per character the font lacks (CJK names in DejaVu Sans): they show as boxes."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        yield
