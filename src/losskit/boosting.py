r"""Losses as gradient-boosting objectives and metrics for XGBoost and LightGBM.

A boosted model predicts a raw margin :math:`F(x)` per row (a row of ``K`` margins for ``K`` classes or
quantiles, or one per prediction of a loss of several, such as a mean and a log-variance), which a loss
with a link takes as its prediction: the logit of a probability, the log of a rate, a row of softmax
logits. Each round fits a tree to the per-row gradient :math:`g_i = w_i\,\partial
\ell / \partial F_i` and Hessian :math:`h_i = w_i\,\partial^2 \ell / \partial F_i^2`, and its leaves take
the Newton step :math:`-\sum g / (\sum h + \lambda)`.

>>> import numpy as np, losskit as lk
>>> objective = lk.boosting.xgboost_objective("pseudo_huber")
>>> grad, hess = objective(np.array([0.0, 1.0]), np.array([1.0, 1.0]))     # (y_true, raw margin)
>>> grad.tolist(), hess.round(4).tolist()
([0.7071067811865475, 0.0], [0.3536, 1.0])

Three traps of hand-written objectives are handled here:

- **Weights.** Neither library weighs what a custom objective returns: the gradient and Hessian are
  multiplied by the data set's weights here (XGBoost's keyword ``sample_weight``, LightGBM's positional
  weight, or the ``DMatrix``'s and ``Dataset``'s own).
- **Layout.** Gradients of ``K`` outputs are returned as ``(n, K)`` arrays, which both libraries read
  correctly (a flat array is read row-major by XGBoost and class-major by LightGBM).
- **The start score.** Neither library fits an intercept for a custom objective (XGBoost starts at 0.5,
  LightGBM at 0): :func:`start_score` is the loss's best constant raw prediction
  (``Loss.optimal_constant``) for XGBoost's ``base_score``, :func:`init_score` the same per row for
  LightGBM's ``init_score`` (or XGBoost's ``base_margin``). LightGBM's ``predict(raw_score=True)`` leaves
  the ``init_score`` out: add the start score back before :func:`predict`.

Multi-class losses (a softmax row, or class ids against a row of scores) scale their Hessian by each
library's own factor, so that a tree sees what the built-in objective gives it: 2 for XGBoost
(``multi:softprob``'s :math:`2p(1-p)`) and :math:`K/(K-1)` for LightGBM (``multiclass``).

The gradient and Hessian come from ``Loss.grad_and_hessian``, served by the NumPy fast path where the
loss has a kernel. Losses that are not convex (Cauchy, Tukey's biweight, focal) have negative or zero
second derivatives far from the target; their Hessian is clipped at ``min_hessian`` times the weight
(``MIN_HESSIAN`` by default, 0 for convex losses), so that every Newton step points downhill.
"""

from __future__ import annotations

import numpy as np

from ._checks import REAL
from .errors import InputError
from .registry import get

#: The default Hessian floor of losses that are not convex (times each row's weight).
MIN_HESSIAN = 1e-6
LIBRARIES = ("xgboost", "lightgbm")


def boostable(loss):
    """``loss`` (a name, config or Loss) as a Loss, or an InputError that says why it cannot be boosted.

    A boosting objective needs one target per row, predictions that take any real margin (through their
    links), one example per row (a row of classes or quantiles, or several predictions of one value each),
    and a Hessian diagonal.
    """
    loss = get(loss)
    info = loss.info
    name, twin = info.name, f" Its twin {info.twin} takes raw margins: use it." if info.twin else ""
    if len(info.targets) != 1 or loss.batch_coupled:
        raise InputError(f"{name} cannot be a boosting objective: a tree ensemble fits one target per row with "
                         f"raw predictions, and {name} takes {', '.join(s.name for s in info.inputs)}.")  # fmt: skip
    events = {prediction.event for prediction in info.predictions}
    if not events <= {0, 1} or (len(info.predictions) > 1 and events != {0}):
        raise InputError(f"{name} cannot be a boosting objective: its example is a whole sample, not a row.")
    for prediction in info.predictions:
        if not prediction.domain.contains(REAL):
            raise InputError(f"{name} cannot be a boosting objective: a boosted model's raw margins are any real "
                             f"numbers, and its {prediction.name} takes {prediction.domain.description}.{twin}")
    if info.hessian_kind is None:
        raise InputError(f"{name} cannot be a boosting objective: it has no Hessian diagonal ({info.hessian}).")
    return loss


def _multiclass(loss) -> bool:
    """Whether the loss's outputs are one row of class scores (a softmax row, or scores against class ids)."""
    prediction, target = loss.info.predictions[0], loss.info.targets[0]
    return prediction.event == 1 and (prediction.link.name in ("softmax", "sparsemax") or target.kind == "class_index")


def _arrays(loss, y, raw: np.ndarray) -> tuple:
    """The loss's arrays in declared order: the target, then the margins (one column per prediction of several)."""
    predictions = iter([raw] if len(loss.info.predictions) == 1 else [raw[:, k] for k in range(raw.shape[1])])
    return tuple(y if spec.role == "target" else next(predictions) for spec in loss.info.inputs)


def _columns(values) -> np.ndarray:
    """One derivative per prediction, as the margins' columns."""
    return np.stack(values, axis=1) if isinstance(values, tuple) else np.asarray(values, dtype=np.float64)


def _targets(loss, y, rows: int | None = None) -> np.ndarray:
    """The library's labels as the loss takes them: class ids as integers (checked whole, as the libraries
    store them as floats), rows of targets reshaped."""
    y = np.asarray(y)
    if loss.info.targets[0].kind == "class_index":
        if y.dtype.kind not in "iub":
            bad = ~np.isfinite(y) | (y != np.round(y)) if y.dtype.kind == "f" else np.ones(y.shape, dtype=bool)
            if bad.any():
                raise InputError(f"{loss.info.name}: the labels must be class ids 0, 1, ..., K - 1; got "
                                 f"{y[bad][:3].tolist()} at rows {np.flatnonzero(bad)[:3].tolist()}.")  # fmt: skip
        return y.astype(np.int64)
    y = y.astype(np.float64)
    if rows is not None and y.ndim == 1 and y.size != rows:  # a flat matrix of targets
        y = y.reshape(rows, -1)
    return y


def _weights(weight) -> np.ndarray | None:
    """The data set's weights, or None where it has none (XGBoost gives an empty array, LightGBM None)."""
    if weight is None:
        return None
    weight = np.asarray(weight, dtype=np.float64)
    return weight if weight.size else None


def _boosted(loss, library: str) -> tuple:
    if library not in LIBRARIES:
        raise InputError(f"library must be one of {LIBRARIES}; got {library!r}.")
    return boostable(loss), library


def _call(library: str, first, second, weight) -> tuple:
    """``(y_true, raw, weight, native)`` from a call of the native API, ``(raw, data set)``, or of the
    scikit-learn API, ``(y_true, raw, weight)``: told apart by the type of the second argument."""
    if hasattr(second, "get_label") and hasattr(second, "get_weight"):  # a data set: the native API
        module = type(second).__module__.split(".")[0]
        if module != library:
            raise InputError(f"this is a {library} objective or metric, called by {module} with its "
                             f"{type(second).__name__}: use lk.boosting's {module} one.")  # fmt: skip
        return second.get_label(), first, _weights(second.get_weight()), True
    return first, second, _weights(weight), False


class Objective:
    """A loss as the custom objective of XGBoost or LightGBM, for both their native and scikit-learn APIs.

    Called as ``objective(raw, data_set)`` by ``xgboost.train(obj=)`` and ``lightgbm.train`` (with
    ``params["objective"]``), and as ``objective(y_true, raw, sample_weight)`` by the scikit-learn
    estimators (XGBoost passes the weight by keyword, LightGBM by position). Returns the per-row
    gradient and Hessian with respect to the raw margins, times the weights, in the margins' shape.

    Parameters
    ----------
    loss : str, dict or Loss
    library : {"xgboost", "lightgbm"}
        Whose multi-class Hessian factor to apply (2, or K/(K-1)).
    min_hessian : float, optional
        The Hessian's floor, times each row's weight; ``MIN_HESSIAN`` for losses that are not convex and
        0 for convex losses by default.
    """

    def __init__(self, loss, library: str, min_hessian: float | None = None):
        self.loss, self.library = _boosted(loss, library)
        if min_hessian is None:
            min_hessian = 0.0 if "convex" in self.loss.info.tags else MIN_HESSIAN
        if isinstance(min_hessian, bool) or not isinstance(min_hessian, (int, float)) or not 0 <= min_hessian < np.inf:
            raise InputError(f"min_hessian must be a finite number >= 0; got {min_hessian!r}.")
        self.min_hessian = float(min_hessian)
        self.__name__ = self.loss.info.name

    def __call__(self, first, second, sample_weight=None):
        y, raw, weight, _ = _call(self.library, first, second, sample_weight)
        return self.derivatives(y, raw, weight)

    def derivatives(self, y, raw, sample_weight=None) -> tuple[np.ndarray, np.ndarray]:
        """The weighted gradient and Hessian of the loss at the raw margins ``raw`` (NumPy float64)."""
        raw, sample_weight = np.asarray(raw, dtype=np.float64), _weights(sample_weight)
        y = _targets(self.loss, y, raw.shape[0])
        arrays = _arrays(self.loss, y, raw)
        grad, hess = (_columns(d) for d in self.loss.grad_and_hessian(*arrays, sample_weight=sample_weight,
                                                                        reduction="sum"))  # fmt: skip
        if _multiclass(self.loss):
            classes = raw.shape[-1]
            hess = hess * (2.0 if self.library == "xgboost" else classes / max(classes - 1, 1))
        # a negative Hessian never helps a Newton step: 0 at least, whatever the loss's tags say
        floor = self.min_hessian if sample_weight is None else self.min_hessian * sample_weight
        hess = np.maximum(hess, floor if np.ndim(floor) < 1 or hess.ndim == 1 else floor[:, None])
        return grad, hess

    def __repr__(self):
        return f"{self.library}_objective({self.loss!r}, min_hessian={self.min_hessian})"


class Metric:
    """The loss's weighted mean on raw margins, as an XGBoost or LightGBM evaluation metric.

    XGBoost's native API (``custom_metric=``) gets ``(name, value)``, its scikit-learn API
    (``eval_metric=``) the value and reads the name from ``__name__``; LightGBM gets ``(name, value,
    False)``, lower being better. Use it beside the loss's objective: with a built-in objective the
    libraries pass transformed predictions, not margins.
    """

    def __init__(self, loss, library: str):
        self.loss, self.library = _boosted(loss, library)
        self.__name__ = self.loss.info.name

    def __call__(self, first, second, sample_weight=None):
        y, raw, weight, native = _call(self.library, first, second, sample_weight)
        raw = np.asarray(raw, dtype=np.float64)
        arrays = _arrays(self.loss, _targets(self.loss, y, raw.shape[0]), raw)
        value = float(self.loss(*arrays, sample_weight=weight))
        if self.library == "lightgbm":
            return self.__name__, value, False
        return (self.__name__, value) if native else value

    def __repr__(self):
        return f"{self.library}_metric({self.loss!r})"


def xgboost_objective(loss, *, min_hessian: float | None = None) -> Objective:
    """``loss`` as an XGBoost objective: ``xgboost.train(params, dtrain, obj=...)`` or ``XGBRegressor(objective=...)``.

    Pass :func:`start_score` as ``base_score`` (XGBoost starts a custom objective at 0.5 otherwise), and
    ``num_class`` or ``num_target`` for a loss of ``K`` outputs (:func:`outputs`). See :class:`Objective`.
    """
    return Objective(loss, "xgboost", min_hessian)


def lightgbm_objective(loss, *, min_hessian: float | None = None) -> Objective:
    """``loss`` as a LightGBM objective: ``params["objective"]`` of ``lightgbm.train``, or ``LGBMRegressor(objective=)``.

    Give the data set :func:`init_score` (LightGBM starts a custom objective at 0 otherwise), validation
    sets included, and ``num_class`` for a loss of ``K`` outputs (:func:`outputs`; the scikit-learn
    regressor with ``num_class`` also needs ``metric="None"``). LightGBM's labels are one per row: a loss
    of target rows (one-hot, soft labels) needs its sparse twin. See :class:`Objective`.
    """
    return Objective(loss, "lightgbm", min_hessian)


def xgboost_metric(loss) -> Metric:
    """The loss's weighted mean on raw margins, for ``xgboost.train(custom_metric=)`` or ``eval_metric=``."""
    return Metric(loss, "xgboost")


def lightgbm_metric(loss) -> Metric:
    """The loss's weighted mean on raw margins, for ``lightgbm.train(feval=)`` or ``fit(eval_metric=)``."""
    return Metric(loss, "lightgbm")


def start_score(loss, y, sample_weight=None, *, num_class: int | None = None):
    """The best constant raw margin for ``y``: XGBoost's ``base_score`` for the loss's objective.

    A float, or one entry per output (classes, quantiles, predictions) as a list. ``Loss.optimal_constant``:
    the logit of the weighted mean for logistic losses, the log of the mean for log-rate losses, centred
    log class shares for softmax losses, the median for mae. A loss of class ids counts the classes of
    ``y`` unless ``num_class`` says how many there are (a class the labels lack gets the clipped share).

    XGBoost's scikit-learn classifier with two classes reads ``base_score`` as a probability (it sets
    ``binary:logistic`` beside a custom objective): give it ``fit(base_margin=init_score(...))`` instead.
    """
    loss = boostable(loss)
    y = _targets(loss, y)
    if num_class is not None:
        y, sample_weight = _with_classes(loss, y, sample_weight, num_class)
    constant = loss.optimal_constant(y, sample_weight=sample_weight)
    constant = np.asarray(np.stack(constant) if isinstance(constant, tuple) else constant, dtype=np.float64)
    return float(constant) if constant.ndim == 0 else constant.tolist()


def _with_classes(loss, y, weight, num_class: int):
    """Class ids and weights with a row of weight 0 in class ``num_class - 1``: ``num_class`` classes counted."""
    if loss.info.targets[0].kind != "class_index":
        raise InputError(f"num_class is for losses of class ids; {loss.info.name} takes {loss.info.targets[0].name} "
                         "as values.")  # fmt: skip
    if isinstance(num_class, bool) or not isinstance(num_class, (int, np.integer)) or num_class < 1:
        raise InputError(f"num_class must be a whole number >= 1; got {num_class!r}.")
    if y.size and (y.min() < 0 or y.max() >= num_class):
        raise InputError(f"{loss.info.name}: the labels must be class ids 0 to {num_class - 1} "
                         f"(num_class={num_class}); got {int(y.min())} to {int(y.max())}.")  # fmt: skip
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    return np.append(y, num_class - 1), np.append(weight, 0.0)


def init_score(loss, y, sample_weight=None, *, num_class: int | None = None) -> np.ndarray:
    """:func:`start_score` repeated for every row: LightGBM's ``init_score``, XGBoost's ``base_margin``.

    Shape ``(n,)``, or ``(n, K)`` for ``K`` outputs.
    """
    constant = np.asarray(start_score(loss, y, sample_weight, num_class=num_class))
    return np.tile(constant, (len(y),) + (1,) * constant.ndim)


def outputs(loss, y) -> int:
    """The margins per row the loss takes: 1, the classes of ``y`` (class ids: the largest id plus 1), the
    quantiles, the columns of target rows, or one per prediction. XGBoost's ``num_class`` for class ids
    (``num_target`` otherwise), LightGBM's ``num_class``, where it is more than 1."""
    loss = boostable(loss)
    if len(loss.info.predictions) > 1:
        return len(loss.info.predictions)
    return int(np.size(start_score(loss, y)))


def predict(loss, raw) -> np.ndarray:
    """Raw margins through the inverse of each prediction's link: probabilities (logit, softmax), means or
    scales (log), or the margins themselves (identity).

    >>> predict("sigmoid_cross_entropy", [0.0, 2.0]).round(4).tolist()
    [0.5, 0.8808]
    """
    predictions = boostable(loss).info.predictions
    raw = np.asarray(raw, dtype=np.float64)
    if len(predictions) == 1:
        return np.asarray(predictions[0].link.backward(np, raw))
    return np.stack([spec.link.backward(np, raw[:, k]) for k, spec in enumerate(predictions)], axis=1)
