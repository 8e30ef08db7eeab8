"""Task metrics on the clean validation set, computed by scikit-learn, never by the losses themselves.

Regression experiments may score more than the point prediction (``METRIC_SETS``): the Poisson
deviance of predicted counts, and the 90% prediction interval and the negative log-likelihood of the
predictive distribution each model gives (:mod:`losskit.lab.predictive`).

Binary models emit a score ``s`` (a logit for cross-entropy, a margin score for hinge losses): the
predicted class is ``s > 0``; ROC AUC ranks by ``s``; log-loss reads ``sigmoid(s)`` as the
probability of class 1, and so do the Brier score and the expected calibration error. Hinge losses
do not calibrate ``sigmoid(s)``, nor do re-weighted or focusing ones, so for them these are a
calibration check rather than a fair comparison: the report marks them and leaves them out of the
"best" mark (see :func:`calibrated`).

Segmentation models emit a logit per pixel: the predicted mask is ``logit > 0`` (a probability above
0.5), scored per image by its IoU and Dice score against the true mask, then averaged over the images
(:func:`overlap_scores`). Retrieval models emit embeddings: recall@k is the share of the validation
images whose k nearest other validation images by cosine similarity include one of the same class
(:func:`recall_at_k`).
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
    #: The ideal value, when the best is the closest to it (a coverage of 0.9) rather than the highest or lowest.
    target: float | None = None
    #: The data it is measured on: the (clean) validation set, or the training set.
    measured_on: str = "validation"

    def badness(self, values) -> np.ndarray:
        """How far from the best each value is, lower being better (NaN stays NaN)."""
        values = np.asarray(values, dtype=np.float64)
        if self.target is not None:
            return np.abs(values - self.target)
        return -values if self.higher_is_better else values

    def best(self, values):
        """Index of the best of ``values`` (NaN never wins); None when all are NaN."""
        badness = self.badness(values)
        if not np.isfinite(badness).any():
            return None
        return int(np.argmin(np.where(np.isfinite(badness), badness, np.inf)))

    @property
    def arrow(self) -> str:
        """``↑`` higher is better, ``↓`` lower is better, ``→0.9`` closest to 0.9 is best."""
        if self.target is not None:
            return f"→{self.target:g}"
        return "↑" if self.higher_is_better else "↓"

    @property
    def direction(self) -> str:
        """The arrow in words."""
        if self.target is not None:
            return f"closest to {self.target:g} is best"
        return f"{'higher' if self.higher_is_better else 'lower'} is better"


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
    "segmentation": (
        Metric("iou", "IoU", True, (0.0, 1.0)),
        Metric("dice", "Dice score", True, (0.0, 1.0)),
    ),
    "retrieval": (
        Metric("recall_at_1", "recall@1", True, (0.0, 1.0)),
        Metric("recall_at_5", "recall@5", True, (0.0, 1.0)),
    ),
}

#: The nominal coverage of the prediction intervals the lab scores.
COVERAGE = 0.9
#: Predictions are floored here for the Poisson deviance, which needs a positive mean (mse may predict <= 0).
DEVIANCE_FLOOR = 1e-6
_MAE, _RMSE = METRICS["regression"][:2]
_INTERVAL = (
    Metric("coverage", f"{COVERAGE:.0%} coverage", True, (0.0, 1.0), target=COVERAGE),
    Metric("width", f"{COVERAGE:.0%} width", False, (-_INF, _INF)),  # negative where learned quantiles cross
)
#: Bins of equal width of the predicted probability, for the expected calibration error.
ECE_BINS = 10
#: The metrics of an experiment, by the name its ``Experiment.metrics`` gives; the task's otherwise.
METRIC_SETS = {
    **METRICS,
    "counts": (Metric("poisson_deviance", "Poisson deviance", False, (0.0, _INF)), _MAE, _RMSE),
    "intervals": (*_INTERVAL, _MAE, _RMSE),
    "uncertainty": (Metric("nll", "NLL", False, (-_INF, _INF)), *_INTERVAL, _MAE),
    "imbalanced": (
        Metric("pr_auc", "PR AUC", True, (0.0, 1.0)),
        Metric("balanced_accuracy", "balanced accuracy", True, (0.0, 1.0)),
        Metric("brier", "Brier", False, (0.0, 1.0)),
        Metric("ece", "ECE", False, (0.0, 1.0)),
    ),
    "noisy": (
        *METRICS["multiclass"],
        # the share of flipped training labels the model reproduces: memorised noise
        Metric("memorised", "flipped labels fitted", False, (0.0, 1.0), measured_on="training"),
    ),
}

#: Metrics that need calibrated probabilities: only losses that are proper scoring rules compete.
NEEDS_PROBABILITIES = ("log_loss", "brier", "ece")


def calibrated(loss) -> bool:
    """Whether a loss trains calibrated probabilities: a strictly proper scoring rule as configured (a
    ``pos_weight`` or ``label_smoothing`` drops the tag from the loss's metadata)."""
    return "proper_scoring_rule" in loss.info.tags


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * s) + 0.5


def evaluate(task: str, y_true: np.ndarray, output: np.ndarray, *, metrics: str | None = None,
             predictive=None) -> dict[str, float]:  # fmt: skip
    """The metrics of a model's validation output.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
    y_true : numpy.ndarray
        Regression: the clean targets in their own units; classification: class ids.
    output : numpy.ndarray
        Regression: predictions in the target's units, shape (n,); binary: scores, shape (n,);
        multi-class: logits, shape (n, C).
    metrics : str, optional
        The name of a set of ``METRIC_SETS``; the task's by default.
    predictive : losskit.lab.predictive.Predictive, optional
        Regression: the model's interval and likelihood in the target's units, for the interval
        metrics and the NLL (NaN without it).

    Returns
    -------
    dict
        ``{metric.key: value}`` for the set; NaN everywhere if ``output`` is not finite.

    Examples
    --------
    >>> evaluate("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mae"]
    0.3333333333333333
    """
    sklearn = need("sklearn", "the task metrics")
    chosen = METRIC_SETS[metrics or task]
    output = np.asarray(output, dtype=np.float64)
    if not np.isfinite(output).all():
        return {m.key: float("nan") for m in chosen}
    if task == "segmentation":
        iou, dice = overlap_scores(np.asarray(y_true) > 0.5, output > 0)
        return {"iou": float(iou.mean()), "dice": float(dice.mean())}
    if task == "retrieval":
        return {f"recall_at_{k}": value for k, value in recall_at_k(output, y_true, (1, 5)).items()}
    # The inputs are ours and checked above: skip scikit-learn's per-call checks (they cost more than the metric).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        scores = _evaluate(task, np.asarray(y_true), output)
        if task == "regression":
            scores.update(_beyond_the_point(np.asarray(y_true, dtype=np.float64), output, predictive))
    return {m.key: scores.get(m.key, float("nan")) for m in chosen}  # "memorised" comes from the training set


def overlap_scores(true_masks, predicted_masks) -> tuple[np.ndarray, np.ndarray]:
    """The IoU (Jaccard index) and the Dice score (F1) of each image's predicted mask.

    Parameters
    ----------
    true_masks, predicted_masks : numpy.ndarray of bool, shape (n, H, W)

    Returns
    -------
    iou, dice : numpy.ndarray, shape (n,)
        ``|A & B| / |A | B|`` and ``2 |A & B| / (|A| + |B|)``; 1 where both masks are empty.

    Examples
    --------
    >>> t = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]]], dtype=bool)
    >>> p = np.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]], dtype=bool)
    >>> [a.tolist() for a in overlap_scores(t, p)]
    [[0.5, 1.0], [0.6666666666666666, 1.0]]
    """
    true_masks, predicted_masks = np.asarray(true_masks, dtype=bool), np.asarray(predicted_masks, dtype=bool)
    if true_masks.shape != predicted_masks.shape or true_masks.ndim < 2:
        raise ValueError(f"overlap_scores: masks of one shape (n, H, W) expected; got {true_masks.shape} and "
                         f"{predicted_masks.shape}.")  # fmt: skip
    axes = tuple(range(1, true_masks.ndim))
    both = np.sum(true_masks & predicted_masks, axis=axes)
    either = np.sum(true_masks | predicted_masks, axis=axes)
    sizes = np.sum(true_masks, axis=axes) + np.sum(predicted_masks, axis=axes)
    empty = either == 0
    iou = np.where(empty, 1.0, both / np.maximum(either, 1))
    dice = np.where(empty, 1.0, 2.0 * both / np.maximum(sizes, 1))
    return iou, dice


def recall_at_k(embeddings, labels, ks=(1, 5)) -> dict[int, float]:
    """Recall@k of embeddings: the share of rows whose k nearest other rows include one of the same label.

    Nearest by cosine similarity (the rows are L2-normalised first); a row is never its own neighbour.
    Ties are broken by the row order.

    Parameters
    ----------
    embeddings : numpy.ndarray, shape (n, d)
    labels : numpy.ndarray, shape (n,)
    ks : sequence of int

    Returns
    -------
    dict
        ``{k: recall}``.

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> recall_at_k(x, np.array([0, 1, 1, 0]), ks=(1, 2))
    {1: 0.0, 2: 0.5}
    """
    x = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    largest = min(max(ks), x.shape[0] - 1)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :largest]
    same = labels[nearest] == labels[:, None]
    return {k: float(np.mean(same[:, :k].any(axis=1))) for k in ks}


def expected_calibration_error(y_true, probability, bins: int = ECE_BINS) -> float:
    r"""The expected calibration error of the positive class's probability: :math:`\sum_b \frac{n_b}{n}
    |\bar y_b - \bar p_b|` over ``bins`` bins of equal width of the probability (Naeini et al., AAAI 2015).

    >>> expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.1, 0.9, 0.9, 0.7]))
    0.15
    """
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(probability, dtype=np.float64)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=y, minlength=bins) - np.bincount(which, weights=p, minlength=bins))
    return float(gap.sum() / max(counts.sum(), 1))


def _beyond_the_point(y_true: np.ndarray, output: np.ndarray, predictive) -> dict[str, float]:
    """The Poisson deviance of the predictions, and the interval's coverage and width and the NLL."""
    from sklearn import metrics

    nan = float("nan")
    scores = {"coverage": nan, "width": nan, "nll": nan, "poisson_deviance": nan}
    if (y_true >= 0).all():
        scores["poisson_deviance"] = float(metrics.mean_poisson_deviance(y_true, np.maximum(output, DEVIANCE_FLOOR)))
    if predictive is not None:
        low, high = predictive.low, predictive.high
        if np.isfinite(low).all() and np.isfinite(high).all():
            scores["coverage"] = float(np.mean((low <= y_true) & (y_true <= high)))
            scores["width"] = float(np.mean(high - low))
        if predictive.nll is not None:
            scores["nll"] = float(np.mean(predictive.nll(y_true)))
    return scores


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
            "pr_auc": float(metrics.average_precision_score(y_true, output)) if both else float("nan"),
            "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, predicted)),
            "brier": float(metrics.brier_score_loss(y_true, probability, pos_label=1)),
            "ece": expected_calibration_error(y_true, probability),
        }
    predicted = np.argmax(output, axis=1)
    return {
        "accuracy": float(metrics.accuracy_score(y_true, predicted)),
        "macro_f1": float(metrics.f1_score(y_true, predicted, average="macro", zero_division=0.0)),
    }
