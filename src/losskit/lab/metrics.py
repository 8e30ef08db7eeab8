"""Task metrics on the clean validation set, computed by scikit-learn, never by the losses themselves.

Binary models emit a score ``s`` (a logit for cross-entropy, a margin score for hinge losses): the
predicted class is ``s > 0``; ROC AUC ranks by ``s``; log-loss reads ``sigmoid(s)`` as the
probability of class 1. Hinge losses do not calibrate ``sigmoid(s)``, so their log-loss is a
calibration check rather than a fair comparison: the report marks it and leaves it out of the "best"
mark (see :func:`calibrated`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import need


@dataclass(frozen=True)
class Metric:
    """A metric: its key in results files, its label in tables, and which direction is better."""

    key: str
    label: str
    higher_is_better: bool
    bounds: tuple[float, float]

    def best(self, values):
        """Index of the best of ``values`` (NaN never wins); None when all are NaN."""
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).any():
            return None
        filled = np.where(np.isfinite(values), values, -np.inf if self.higher_is_better else np.inf)
        return int(np.argmax(filled) if self.higher_is_better else np.argmin(filled))


_INF = float("inf")
METRICS = {
    "regression": (
        Metric("mae", "MAE", False, (0.0, _INF)),
        Metric("rmse", "RMSE", False, (0.0, _INF)),
        Metric("r2", "R²", True, (-_INF, 1.0)),
    ),
    "binary": (
        Metric("accuracy", "accuracy", True, (0.0, 1.0)),
        Metric("f1", "F1", True, (0.0, 1.0)),
        Metric("roc_auc", "ROC AUC", True, (0.0, 1.0)),
        Metric("log_loss", "log-loss", False, (0.0, _INF)),
    ),
    "multiclass": (
        Metric("accuracy", "accuracy", True, (0.0, 1.0)),
        Metric("macro_f1", "macro F1", True, (0.0, 1.0)),
    ),
}

#: Metrics that need calibrated probabilities: only losses that are proper scoring rules compete.
NEEDS_PROBABILITIES = ("log_loss",)


def calibrated(loss) -> bool:
    """Whether a loss trains calibrated probabilities: a strictly proper scoring rule, not re-weighted
    (``pos_weight``) nor smoothed (``label_smoothing``)."""
    return (
        "proper_scoring_rule" in loss.info.tags
        and getattr(loss, "pos_weight", 1.0) == 1.0
        and getattr(loss, "label_smoothing", 0.0) == 0.0
    )


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * s) + 0.5


def evaluate(task: str, y_true: np.ndarray, output: np.ndarray) -> dict[str, float]:
    """The task's metrics of a model's validation output.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
    y_true : numpy.ndarray
        Regression: the clean targets in their own units; classification: class ids.
    output : numpy.ndarray
        Regression: predictions in the target's units, shape (n,); binary: scores, shape (n,);
        multi-class: logits, shape (n, C).

    Returns
    -------
    dict
        ``{metric.key: value}`` for ``METRICS[task]``; NaN everywhere if ``output`` is not finite.

    Examples
    --------
    >>> evaluate("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mae"]
    0.3333333333333333
    """
    sklearn = need("sklearn", "the task metrics")
    output = np.asarray(output, dtype=np.float64)
    if not np.isfinite(output).all():
        return {m.key: float("nan") for m in METRICS[task]}
    # The inputs are ours and checked above: skip scikit-learn's per-call checks (they cost more than the metric).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return _evaluate(task, np.asarray(y_true), output)


def _evaluate(task: str, y_true: np.ndarray, output: np.ndarray) -> dict[str, float]:
    from sklearn import metrics

    if task == "regression":  # on values scaled by the largest one, so that no square over- or underflows
        scale = float(max(np.abs(y_true).max(), np.abs(output).max())) or 1.0
        y_true, output = y_true / scale, output / scale
        return {
            "mae": scale * float(metrics.mean_absolute_error(y_true, output)),
            "rmse": scale * float(np.sqrt(metrics.mean_squared_error(y_true, output))),
            "r2": float(metrics.r2_score(y_true, output)),
        }
    if task == "binary":
        predicted = (output > 0).astype(np.int64)
        probability = np.clip(_sigmoid(output), 1e-15, 1.0 - 1e-15)
        both = np.unique(y_true).size == 2
        return {
            "accuracy": float(metrics.accuracy_score(y_true, predicted)),
            "f1": float(metrics.f1_score(y_true, predicted, zero_division=0.0)),
            "roc_auc": float(metrics.roc_auc_score(y_true, output)) if both else float("nan"),
            "log_loss": float(metrics.log_loss(y_true, probability, labels=[0, 1])),
        }
    predicted = np.argmax(output, axis=1)
    return {
        "accuracy": float(metrics.accuracy_score(y_true, predicted)),
        "macro_f1": float(metrics.f1_score(y_true, predicted, average="macro", zero_division=0.0)),
    }
