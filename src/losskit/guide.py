"""The guide: recommend a loss for a problem, explain any loss, and catch mismatched pairings.

Everything here reads the registry and each loss's metadata; no list of losses is kept here. The
recommendations follow the maximum-likelihood view: the noise model of the target picks the loss,
and the loss's input space picks the output activation (Gaussian -> identity + MSE, Bernoulli ->
sigmoid + binary cross-entropy, categorical -> softmax + cross-entropy, ...).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict, dataclass, field

import numpy as np

from . import registry
from ._base import Loss
from ._checks import Interval, Simplex
from .data import stray_text
from .errors import InputError
from .links import ACTIVATIONS, IDENTITY, activation

#: Tasks the guide can recommend for (the registry's tasks, plus counts and distillation).
TASKS = ("regression", "count", "binary", "multiclass", "multilabel", "distribution", "distillation", "embedding",
         "metric_learning", "ranking", "segmentation")  # fmt: skip

#: Metrics to report beside the loss (kept apart from it), per task.
METRICS = {
    "regression": ("MAE", "RMSE", "R^2"),
    "count": ("mean Poisson deviance", "MAE", "RMSE"),
    "binary": ("accuracy", "F1", "ROC AUC"),
    "multiclass": ("accuracy", "macro F1"),
    "multilabel": ("micro F1", "macro F1", "Hamming loss"),
    "distribution": ("KL divergence", "total variation distance"),
    "distillation": ("accuracy", "agreement with the teacher", "KL to the teacher"),
    "embedding": ("recall@k", "mean average precision"),
    "metric_learning": ("recall@k", "mean average precision"),
    "ranking": ("NDCG@k", "mean reciprocal rank"),
    "segmentation": ("IoU (Jaccard index)", "Dice score"),
}
#: Tasks ``infer_task`` can read off the targets (the others are named).
INFERRED = ("regression", "binary", "multiclass", "multilabel", "distribution")
#: A foreground share of the pixels under this is tiny: overlap terms, and recall weighed up.
TINY_FOREGROUND = 0.05

#: Integer targets with at most this many distinct values read as class labels.
MAX_CLASSES = 20
#: Class ids cover at least this share of the integers between the smallest and the largest.
CONSECUTIVE = 0.8
#: With this many rows or more, every class id must have at least 2 (a value seen once is a count's tail).
FEW_ROWS = 30
#: Targets more skewed than this, and a quarter as skewed after a log, call for a relative error.
SKEWED = 2.0
#: Robust z-score beyond which a target is an outlier (Iglewicz and Hoaglin, 1993).
OUTLIER_Z = 3.5
#: Share of outliers from which a robust loss is recommended.
OUTLIER_SHARE = 0.01
#: Huber's constant: delta = 1.345 sigma gives 95% efficiency under Gaussian noise (Huber, 1964).
HUBER_EFFICIENCY = 1.345
#: MAD / 0.6745 estimates the standard deviation of Gaussian data.
MAD_TO_SIGMA = 1.0 / 0.6745
#: The interquartile range / 1.349 estimates the standard deviation of Gaussian data.
IQR_TO_SIGMA = 1.0 / 1.349
#: A minority class under this share counts as imbalanced.
IMBALANCE_SHARE = 0.2
#: A multi-label column with fewer positives than this share is a rare label.
RARE_LABEL_SHARE = 0.05
#: Labels that confident learning flags above this share suggest label noise.
NOISY_LABEL_SHARE = 0.1
#: GCE's q for noisy labels (Zhang and Sabuncu's choice on CIFAR with 20-40% flipped labels).
NOISY_Q = 0.7
#: Positive targets more skewed than this are right-skewed (Bulmer's "highly skewed"): a Gamma likelihood.
RIGHT_SKEWED = 1.0
#: Non-negative, non-integer targets with at least this share of exact zeros: a Tweedie likelihood.
ZERO_SHARE = 0.05
#: The Tweedie power recommended for positive targets with exact zeros (scikit-learn's default).
TWEEDIE_POWER = 1.5
#: Cauchy's scale for 95% efficiency on Gaussian noise: 2.3849 sigma for log(1 + (r/k)^2) (Holland and
#: Welsch, 1977), divided by sqrt(2) for losskit's log(1 + (r/c)^2 / 2).
CAUCHY_EFFICIENCY = 2.3849 / math.sqrt(2.0)
#: Tukey's biweight constant for 95% efficiency on Gaussian noise (Beaton and Tukey, 1974).
TUKEY_EFFICIENCY = 4.685
#: Outliers this many robust standard deviations out are gross: a redescending loss is worth its price.
GROSS_Z = 10.0



# --- recommend ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    loss: str
    hyperparameters: dict
    reason: str


@dataclass(frozen=True)
class Recommendation:
    """A loss for a problem: what to use, with what activation, what to report beside it, and why."""

    task: str
    loss: str
    hyperparameters: dict
    output_activation: str
    metrics: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    reasons: tuple[str, ...]
    facts: dict = field(default_factory=dict)

    def loss_object(self) -> Loss:
        """The recommended loss, configured."""
        return registry.get(self.loss, **self.hyperparameters)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"task: {self.task}",
            f"loss: {call_text(self.loss, self.hyperparameters)}",
            f"output activation: {self.output_activation}",
            f"metrics to report: {', '.join(self.metrics)}",
            "why:",
            *(f"  - {reason}" for reason in self.reasons),
        ]
        if self.alternatives:
            lines.append("alternatives:")
            lines += [f"  - {call_text(a.loss, a.hyperparameters)}: {a.reason}" for a in self.alternatives]
        return "\n".join(lines)


def call_text(name: str, hyperparameters: dict) -> str:
    """How a configured loss reads in text: ``huber(delta=2.0)``."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in hyperparameters.items())})"


def _as_array(y, images: bool = False) -> np.ndarray:
    """``y`` as a column or a table (or, with ``images``, masks of any rank)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not images:
        y = y[:, 0]
    if (y.ndim not in (1, 2) and not (images and y.ndim > 2)) or y.size == 0:
        raise InputError(f"recommend: y must be a non-empty 1-D column or a 2-D table; got shape {y.shape}.")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y.reshape(-1)))
        positions = (tuple(int(k) for k in np.unravel_index(i, y.shape)) for i in bad[:3])
        shown = ", ".join(f"{y.reshape(-1)[i]} at {p}" for i, p in zip(bad[:3], positions))
        raise InputError(
            f"recommend: y must be finite numbers; got {bad.size} NaN or inf value{'s' if bad.size != 1 else ''}: "
            f"{shown}{', ...' if bad.size > 3 else ''}. Drop or fill the missing targets first."
        )
    return y


def _is_integral(y: np.ndarray) -> bool:
    """Integers, or floats that hold integers below 2^53 (past it every float is one: 1e300 is no count)."""
    if y.dtype.kind in "biu":
        return True
    return y.dtype.kind == "f" and bool(np.all(y == np.round(y))) and float(np.max(np.abs(y))) < 2.0**53


def _check_numeric_text(y: np.ndarray) -> None:
    """Refuse text targets that are numbers but for a few cells ("n/a" among 200 values), naming them."""
    rows = stray_text(y)
    if rows is not None:
        shown = ", ".join(f"{str(y[i])!r} at row {i}" for i in rows[:3]) + (", ..." if rows.size > 3 else "")
        raise InputError(
            f"recommend: y is numeric except {rows.size} cell{'s' if rows.size != 1 else ''} ({shown}); "
            "fix or drop those rows: they would turn every value into a class of its own."
        )


def _looks_like_class_ids(y: np.ndarray, distinct: np.ndarray, counts: np.ndarray) -> bool:
    """Small non-negative integers, (nearly) consecutive from 0 or 1, with several rows per value.

    Below ``FEW_ROWS`` rows a value seen once is no evidence of a count's tail, so it is not asked for.
    """
    low, high = distinct[0], distinct[-1]
    return bool(
        low in (0, 1)
        and high < MAX_CLASSES
        and distinct.size >= CONSECUTIVE * (high - low + 1)
        and (y.size < FEW_ROWS or counts.min() >= 2)
    )


def _looks_like_counts(y: np.ndarray) -> bool:
    """Non-negative integers that start near 0 with a long right tail: counts, not measurements."""
    median = float(np.median(y))
    return bool((y >= 0).all() and (y.min() <= 1 or np.percentile(y, 5) < 0.25 * median) and y.max() > median)


def infer_task(y) -> str:
    """Read the task off the targets.

    - real values: ``"regression"`` (also integers that are neither class ids nor counts: years, weights);
    - two distinct values: ``"binary"``;
    - strings, or what looks like class ids: small non-negative integers, (nearly) consecutive from 0
      or 1, with several rows per value: ``"multiclass"``;
    - other non-negative integers that start near 0 with a long right tail: ``"count"``;
    - a 2-D 0/1 matrix: ``"multiclass"`` with exactly one 1 per row (one-hot), ``"multilabel"`` otherwise;
    - non-negative rows summing to 1: ``"distribution"``.

    >>> infer_task([0.3, 1.7, -2.2, 0.9])
    'regression'
    >>> infer_task(["spam", "ham", "spam"])
    'binary'
    >>> infer_task([[1, 0, 1], [0, 1, 0]])
    'multilabel'
    >>> infer_task([1990, 1994, 1991, 1999, 1995, 1992])
    'regression'
    """
    y = _as_array(y)
    numeric = y.dtype.kind in "biuf"
    if not numeric and y.ndim == 1:
        _check_numeric_text(y)
    if y.ndim == 2:
        if not numeric:
            raise InputError(f"recommend: a 2-D y must be numbers; got dtype {y.dtype}.")
        if np.isin(y, (0, 1)).all():
            return "multiclass" if bool(np.all(y.sum(axis=1) == 1)) else "multilabel"
        if (y >= 0).all() and np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
            return "distribution"
        return "regression"
    distinct = np.unique(y)
    if distinct.size < 2:
        raise InputError(
            f"recommend: y has a single distinct value ({distinct[0].item()!r}); there is nothing to learn from a one-class target."
        )
    if distinct.size == 2:
        return "binary"
    if not numeric:
        return "multiclass"
    if _is_integral(y):
        distinct, counts = np.unique(y, return_counts=True)
        if _looks_like_class_ids(y, distinct, counts):
            return "multiclass"
        if _looks_like_counts(y):
            return "count"
    return "regression"


def _robust_scale(y: np.ndarray) -> float:
    """The standard deviation a Gaussian would have, from the MAD; from the IQR when over half the
    targets are equal (the MAD is 0 then), and from the mean absolute deviation as a last resort."""
    median = np.median(y)
    for scale in (
        np.median(np.abs(y - median)) * MAD_TO_SIGMA,
        np.subtract(*np.percentile(y, [75, 25])) * IQR_TO_SIGMA,
        np.mean(np.abs(y - median)) * math.sqrt(math.pi / 2),
    ):
        if scale > 0:
            return float(scale)
    return 0.0


def _regression(y, outliers):
    if y is not None and y.dtype.kind not in "biuf":
        raise InputError(f"recommend: regression needs numeric targets; got values such as {y[0].item()!r}.")
    reasons = ["Gaussian noise on the target makes the mean squared error the maximum-likelihood loss, with a linear (identity) output."]
    facts, delta, asked = {}, None, outliers
    if y is not None and y.ndim == 1:
        median = float(np.median(y))
        scale = _robust_scale(y)
        share = float(np.mean(np.abs(y - median) > OUTLIER_Z * scale)) if scale > 0 else 0.0
        facts = {"n": int(y.size), "median": median, "robust_scale": scale, "outlier_share": share}
        if scale > 0:
            facts["largest_z"] = float(np.max(np.abs(y - median)) / scale)
        if scale > 0:
            delta = float(f"{HUBER_EFFICIENCY * scale:.3g}")
        detected = share >= OUTLIER_SHARE
        if outliers is None:
            outliers = detected
            if detected:
                reasons.append(
                    f"{share:.1%} of the targets lie more than {OUTLIER_Z} robust standard deviations from the median "
                    f"(robust z-scores on the median and MAD): heavy tails or outliers, which MSE would let dominate."
                )
        elif outliers != detected:
            reasons.append(f"You said outliers={outliers}; the data suggest {detected} ({share:.1%} beyond {OUTLIER_Z} robust sd).")
        if (y > 0).all() and y.max() / y.min() >= 100:
            facts["dynamic_range"] = float(y.max() / y.min())
    delta = delta or 1.0
    shape = _positive_shape(y) if y is not None and asked is None else None
    if shape is not None:
        return _positive_targets(y, shape, delta, facts)
    if outliers:
        reasons.append(
            f"Huber is quadratic within delta and linear beyond: delta = {HUBER_EFFICIENCY} x robust scale = {delta:g} "
            "keeps 95% efficiency on Gaussian noise while bounding each point's influence (the target's robust "
            "spread stands in for the noise's until a first model gives residuals)."
        )
        primary, hyper = "huber", {"delta": delta}
        alternatives = [
            Alternative("pseudo_huber", {"delta": delta}, "the same robustness with smooth derivatives of every order"),
            Alternative("log_cosh", {}, "smooth and parameter-free, switching from quadratic to linear near |r| = 1"
                        + (f"; divide the target by about {delta:g} first" if not 0.1 <= delta <= 10 else "")),
            Alternative("mae", {}, "the conditional median: the most robust, but its gradient never shrinks"),
            *_redescending(facts, reasons),
            Alternative("mse", {}, "if the outliers are real signal you must fit"),
        ]
    else:
        primary, hyper = "mse", {}
        alternatives = [
            Alternative("huber", {"delta": delta}, "if some targets turn out to be outliers"),
            Alternative("mae", {}, "to fit the conditional median instead of the mean"),
        ]
    if "dynamic_range" in facts:
        alternatives.insert(0, Alternative("msle", {}, f"positive targets spanning a factor {facts['dynamic_range']:.0f}: relative error may matter more"))
    counts = _count_loss()
    if y is not None and counts and y.ndim == 1 and _is_integral(y) and (y >= 0).all():
        alternatives.append(Alternative(counts, {}, "if the non-negative integer targets are counts: the Poisson likelihood"))
    return primary, hyper, "identity", alternatives, reasons, facts


def _redescending(facts: dict, reasons: list) -> list[Alternative]:
    """Cauchy and Tukey's biweight, scaled for 95% Gaussian efficiency, with their price; a reason when the
    outliers are gross (``GROSS_Z`` robust standard deviations out)."""
    scale = facts.get("robust_scale") or 1.0
    price = "non-convex, so start it from a huber or mse fit: from a bad start it can settle on a bad answer"
    if facts.get("largest_z", 0.0) >= GROSS_Z:
        reasons.append(
            f"Some targets lie {facts['largest_z']:.0f} robust standard deviations out: gross errors. Huber still lets "
            f"each pull with force delta; a redescending loss (cauchy, tukey_biweight) lets them stop pulling, at a "
            f"price: it is {price}."
        )
    return [
        Alternative("cauchy", {"scale": float(f"{CAUCHY_EFFICIENCY * scale:.3g}")},
                    f"redescending: a gross outlier's pull fades like 1/r; {price}"),
        Alternative("tukey_biweight", {"c": float(f"{TUKEY_EFFICIENCY * scale:.3g}")},
                    "redescending: targets beyond c stop pulling at all; non-convex too"),
    ]  # fmt: skip


def _positive_shape(y: np.ndarray) -> str | None:
    """``"zeros"`` for non-negative measurements (not integers) with exact zeros, ``"skewed"`` for positive,
    right-skewed ones; None otherwise."""
    if y.ndim != 1 or y.dtype.kind != "f" or _is_integral(y) or not (y >= 0).all():
        return None
    zeros = float(np.mean(y == 0))
    if zeros >= ZERO_SHARE:
        return "zeros"
    return "skewed" if zeros == 0 and _skewness(y) > RIGHT_SKEWED else None


def _positive_targets(y, shape, delta, facts):
    """Positive right-skewed targets (Gamma) or non-negative ones with exact zeros (Tweedie), from log-means."""
    facts["skewness"] = _skewness(y[y > 0])
    if shape == "zeros":
        facts["zero_share"] = float(np.mean(y == 0))
        name, hyper = "log_tweedie_deviance", {"power": TWEEDIE_POWER}
        reasons = [
            f"{facts['zero_share']:.1%} of the targets are exactly 0 and the rest are positive and continuous "
            f"(skewness {facts['skewness']:.2g}): the Tweedie distribution with 1 < power < 2, a Poisson number of "
            "Gamma amounts, is the likelihood of such data. Its deviance from a log-mean takes a linear output; "
            f"power {TWEEDIE_POWER:g} sits between Poisson (1) and Gamma (2): tune it on validation deviance."
        ]
        alternatives = [
            Alternative("log_tweedie_deviance", {"power": 1.2}, "nearer Poisson: more weight on the zeros"),
            Alternative("log_poisson_deviance", {}, "the Poisson deviance also takes non-integer targets >= 0"),
            Alternative("huber", {"delta": delta}, "on the raw targets, for the mean without a noise model"),
        ]
    else:
        name, hyper = "log_gamma_deviance", {}
        reasons = [
            f"The targets are positive and right-skewed (skewness {facts['skewness']:.2g}): their spread grows with "
            "their size, as a Gamma distribution's does (standard deviation proportional to the mean). Its deviance "
            "from a log-mean is a relative error and takes a linear output."
        ]
        alternatives = [
            Alternative("msle", {}, "compares log(1 + y): a relative error without a noise model"),
            Alternative("mse", {}, "on log(y): the log-normal view, with the transform outside the loss"),
            Alternative("huber", {"delta": delta}, "on the raw targets, if the large values are outliers after all"),
        ]
        if _log_normal_like(y):
            facts["log_skewness"] = _skewness(np.log(y))
            reasons.append(f"On a log scale they are nearly symmetric (skewness {facts['log_skewness']:.2g}): "
                           "the errors are relative, not outliers.")  # fmt: skip
    return name, hyper, activation_text(registry.get(name, **hyper)), alternatives, reasons, facts


def _skewness(y: np.ndarray) -> float:
    y = y / np.max(np.abs(y))  # the skewness does not change with the scale, and y^3 cannot overflow now
    spread = float(np.std(y))
    return float(np.mean((y - np.mean(y)) ** 3) / spread**3) if spread > 0 else 0.0


def _log_normal_like(y: np.ndarray) -> bool:
    """Positive targets, strongly right-skewed, nearly symmetric after a log: relative errors, not outliers."""
    if y.ndim != 1 or y.dtype.kind not in "f" or not (y > 0).all():
        return False
    return _skewness(y) > SKEWED and abs(_skewness(np.log(y))) < SKEWED / 4


def _count_loss() -> str | None:
    for name in registry.list_losses():
        if "poisson" in (registry.get(name).info.likelihood or "").lower():
            return name
    return None


FOCAL_REASON = ("hard-example mining: down-weights the many easy examples by (1 - p_t)^gamma; its probabilities are "
                "not calibrated (they lean towards 1/2), so recalibrate them or choose the threshold on held-out data")
BRIER_REASON = ("the squared error of the probability, also a strictly proper scoring rule and bounded: scores "
                "(or fine-tunes) calibration, but gives confident mistakes little gradient from scratch")
NOISE_REASON = "Some labels look wrong: cross-entropy's unbounded loss lets each of them pull hard on the model."
GCE_REASON = ("generalized cross-entropy is bounded by 1/q, so a wrong label costs at most that; between "
              "cross-entropy (q -> 0) and MAE on probabilities (q = 1), robust to noisy labels")


def _binary(y, imbalance, calibrated, output_activation, label_noise=None):
    if output_activation == "softmax":  # a fixed softmax: two outputs, one per class
        primary, hyper, act, alternatives, reasons, facts, metrics = _multiclass(y, imbalance, output_activation,
                                                                               label_noise)  # fmt: skip
        reasons = ["Two classes through a softmax you must keep: a two-unit softmax output with cross-entropy on its "
                   "probabilities is the same Bernoulli likelihood as sigmoid cross-entropy on one logit.", *reasons]
        return primary, hyper, act, alternatives, reasons, facts, METRICS["binary"]
    facts, hyper = {}, {}
    probabilities = output_activation == "sigmoid"
    primary = "binary_cross_entropy" if probabilities else "sigmoid_cross_entropy"
    reasons = [
        "Two outcomes follow a Bernoulli distribution: its negative log-likelihood is binary cross-entropy, "
        + (
            "here on the sigmoid probabilities your model outputs."
            if probabilities
            else "computed from logits (a linear output) with the sigmoid inside the loss, exact for any logit."
        )
    ]
    if y is not None:
        values, counts = np.unique(y, return_counts=True)
        if values.size != 2 or y.ndim != 1:
            raise InputError(
                "recommend: a binary target has exactly 2 distinct values in one column; y has "
                + (f"{values.size}" if y.ndim == 1 else f"{y.shape[1]} columns")
                + ". Use task='multiclass' or 'regression', or let y decide."
            )
        positive = values[-1]
        share = float(counts[-1] / counts.sum())
        facts = {"n": int(counts.sum()), "positive_label": positive.item(), "positive_share": share}
        if not set(values.tolist()) <= {0, 1}:
            reasons.append(f"Encode the labels {values.tolist()} as 0/1 (here {positive.item()!r} -> 1) before computing the loss.")
        minority = min(share, 1 - share)
        if imbalance is None:
            imbalance = minority < IMBALANCE_SHARE
        if imbalance and calibrated:
            reasons.append(
                f"The classes are imbalanced ({share:.1%} positive), but re-weighting them would shift the "
                "probabilities away from calibration: keep the plain loss and choose the decision threshold instead."
            )
        elif imbalance and not probabilities:
            hyper = {"pos_weight": float(f"{counts[0] / counts[-1]:.3g}")}
            reasons.append(
                f"The classes are imbalanced ({share:.1%} positive): pos_weight = n_negative / n_positive = "
                f"{hyper['pos_weight']:g} weighs the positives as much as the negatives."
            )
        elif imbalance:
            reasons.append(f"The classes are imbalanced ({share:.1%} positive): pass sample_weight to balance them.")
    alternatives = [
        Alternative("hinge", {}, "a max-margin classifier when you need decisions, not probabilities"),
        Alternative("squared_hinge", {}, "a differentiable max-margin loss"),
    ]
    if imbalance and not calibrated:
        alternatives.insert(0, Alternative("binary_focal" if probabilities else "sigmoid_focal", {"gamma": 2.0},
                                           FOCAL_REASON))  # fmt: skip
    if label_noise and not probabilities:
        hyper = {**hyper, "label_smoothing": 0.1}
        reasons.append(NOISE_REASON + " Label smoothing (0.1) caps how far a wrong label can pull a logit.")
        alternatives.insert(0, Alternative("generalized_cross_entropy", {"q": NOISY_Q}, GCE_REASON + " (two logits)"))
    elif label_noise:
        reasons.append(NOISE_REASON + " Smooth the targets, y (1 - 0.1) + 0.05, to cap the pull of a wrong label.")
    if calibrated:
        reasons.append("Cross-entropy is a strictly proper scoring rule: it is minimised by calibrated probabilities; hinge losses are not.")
        alternatives = [Alternative("brier", {}, BRIER_REASON)]
    elif calibrated is False:
        reasons.append("You do not need calibrated probabilities, so a margin loss is a fair alternative.")
    metrics = METRICS["binary"] + (("balanced accuracy", "PR AUC") if imbalance else ())
    return primary, hyper, "sigmoid" if probabilities else "identity (logits; the sigmoid is inside the loss)", alternatives, reasons, facts, metrics


def _multiclass(y, imbalance, output_activation, label_noise=None):
    one_hot = y is not None and y.ndim == 2
    probabilities = output_activation == "softmax"
    if probabilities:
        primary = "categorical_cross_entropy" if one_hot else "sparse_categorical_cross_entropy"
    else:
        primary = "softmax_cross_entropy" if one_hot else "sparse_softmax_cross_entropy"
    reasons = [
        "One of several classes follows a categorical distribution: its negative log-likelihood is cross-entropy, "
        + ("here on the softmax probabilities your model outputs." if probabilities else "computed from logits with the softmax inside the loss."),
        "One-hot targets: the dense form." if one_hot else "Integer class ids: the sparse form, which never builds one-hot rows.",
    ]
    facts = {}
    if y is not None:
        counts = y.sum(axis=0) if one_hot else np.unique(y, return_counts=True)[1]
        shares = counts / counts.sum()
        facts = {"n": int(counts.sum()), "classes": int(len(counts)), "smallest_class_share": float(shares.min())}
        if not one_hot and y.dtype.kind not in "biuf":
            reasons.append("Map the class names to ids 0 .. C-1 before computing the loss.")
        if imbalance is None:
            imbalance = bool(shares.min() < IMBALANCE_SHARE / len(counts) * 2)
        if imbalance:
            reasons.append(
                f"The classes are imbalanced (smallest {shares.min():.1%}): pass sample_weight = n / (C x count of the example's class)."
            )
    alternatives, hyper = [], {}
    if imbalance:
        focal = "categorical_focal" if probabilities else ("softmax_focal" if one_hot else "sparse_softmax_focal")
        alternatives.append(Alternative(focal, {"gamma": 2.0}, FOCAL_REASON))
    if label_noise and not probabilities:
        reasons.append(NOISE_REASON + " Generalized cross-entropy bounds what one label can cost"
                       + (" (it takes class ids: the argmax of each one-hot row)." if one_hot else "."))  # fmt: skip
        alternatives.insert(0, Alternative(primary, {"label_smoothing": 0.1}, "label smoothing: the cheaper remedy, "
                                           "which caps how far a wrong label can pull the logits"))  # fmt: skip
        primary, hyper = "generalized_cross_entropy", {"q": NOISY_Q}
    elif not probabilities:
        alternatives.append(Alternative(primary, {"label_smoothing": 0.1}, "label smoothing regularises over-confident logits"))
    if label_noise and probabilities:
        reasons.append(NOISE_REASON + " Smooth the target rows, y (1 - 0.1) + 0.1 / C, to cap the pull of a wrong label.")
    metrics = METRICS["multiclass"] + (("balanced accuracy",) if imbalance else ())
    activation = "softmax" if probabilities else "identity (logits; the softmax is inside the loss)"
    return primary, hyper, activation, alternatives, reasons, facts, metrics


def _multilabel(y, imbalance, output_activation):
    """Multi-label: a Bernoulli per label; ASL when some labels are rare."""
    probabilities = output_activation == "sigmoid"
    primary, hyper, facts = ("binary_cross_entropy" if probabilities else "sigmoid_cross_entropy"), {}, {}
    act = "sigmoid" if probabilities else "identity (logits; one sigmoid per label inside the loss)"
    reasons = ["Each label is its own Bernoulli outcome: sigmoid cross-entropy on each label's logit, averaged over labels."]
    alternatives = []
    if y is not None:
        if y.ndim != 2 or not np.all((y == 0) | (y == 1)):
            raise InputError("recommend: multi-label targets are a 2-D table of 0s and 1s, one column per label.")
        shares = y.mean(axis=0)
        facts = {"n": int(y.shape[0]), "labels": int(y.shape[1]), "rarest_label_share": float(shares.min())}
        if imbalance is None:
            imbalance = bool(shares.min() < RARE_LABEL_SHARE)
        positives = np.maximum(y.sum(axis=0), 1.0)
        pos_weight = tuple(float(f"{w:.3g}") for w in (y.shape[0] - positives) / positives)
    else:
        pos_weight = None
    if imbalance and not probabilities:
        primary, hyper = "asymmetric", {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.05}
        rare = f" (the rarest {facts['rarest_label_share']:.1%} positive)" if facts else ""
        reasons = [
            f"Each label is its own yes/no outcome, and some are rare{rare}: most of each example's labels are easy "
            "negatives, whose summed gradient drowns the few positives. The asymmetric loss (ASL) focuses the "
            "negatives with (p - clip)^4 and drops those below the shift, leaving positives as cross-entropy, one "
            "sigmoid per label inside the loss; its probabilities are not calibrated."
        ]
        alternatives = [
            Alternative("sigmoid_cross_entropy", {"pos_weight": pos_weight} if pos_weight else {},
                        "per-label pos_weight = n_negative / n_positive: keeps a likelihood, up-weighting each label's positives"),
        ]  # fmt: skip
    elif imbalance:
        reasons.append("Some labels are rare: pass sample_weight, or drop the sigmoid and use asymmetric on logits.")
    return primary, hyper, act, alternatives, reasons, facts


def _metric_learning(y):
    """Embeddings: the labels say which loss can use them (pairs, or classes shared within a batch)."""
    facts = {}
    normalised = "L2 normalisation (unit-length embeddings: distances and margins in those units)"
    pairs = y is not None and y.ndim == 1 and -1 in y and set(np.unique(y).tolist()) <= {-1.0, 0.0, 1.0}
    if pairs:
        facts = {"pairs": int(y.size), "similar_share": float(np.mean(y > 0))}
        primary, hyper, act = "contrastive", {"margin": 1.0}, "identity (raw embeddings; the margin is a distance)"
        reasons = ["Pairs labelled similar (+1) or dissimilar (-1): the contrastive loss pulls similar pairs together "
                   "and pushes dissimilar ones out to the margin (Hadsell et al.)."]  # fmt: skip
        alternatives = [
            Alternative("cosine_embedding", {"margin": 0.2}, "when directions, not lengths, carry the meaning"),
            Alternative("ntxent", {"temperature": 0.1}, "with class labels instead of pairs: every other row of a "
                        "batch becomes a negative, far more signal per batch"),
        ]  # fmt: skip
        return primary, hyper, act, alternatives, reasons, facts
    if y is not None:
        if y.ndim != 1:
            raise InputError("recommend: metric learning reads one label per example: class labels, or +1/-1 pairs.")
        facts = {"n": int(y.size), "classes": int(np.unique(y).size)}
    primary, hyper = ("ntxent", {"temperature": 0.1}) if y is not None else ("triplet_margin", {"margin": 0.2})
    reasons = [
        "Class labels: NT-Xent (supervised contrastive) treats the rows of a batch with the same label as positives and "
        "every other row as a negative, on cosine similarities; large batches give it many negatives."
        if y is not None else
        "Triplets of an anchor, a positive and a negative: the triplet loss pulls the positive in and pushes the "
        "negative out until they are a margin apart (FaceNet: margin 0.2 on unit-length embeddings)."
    ]  # fmt: skip
    alternatives = [
        Alternative("triplet_margin", {"margin": 0.2}, "when the data comes as triplets, or to mine hard negatives")
        if y is not None else
        Alternative("ntxent", {"temperature": 0.1}, "with class labels for whole batches: every other row a negative"),
        Alternative("info_nce", {"temperature": 0.1}, "self-supervised or paired data (two views, an image and its "
                    "caption): each query's own key is its positive; symmetric=True is CLIP's loss"),
        Alternative("contrastive", {"margin": 1.0}, "pairs labelled similar or dissimilar"),
    ]  # fmt: skip
    return primary, hyper, normalised, alternatives, reasons, facts


def _ranking(y):
    """Lists with graded relevance: a listwise softmax, with the order's likelihood and pairs as alternatives."""
    facts = {}
    if y is not None:
        if y.ndim != 2 or np.any(y < 0):
            raise InputError("recommend: ranking reads the relevance of each list: a 2-D table of grades >= 0, one "
                             "row per list (pad short lists and pass where= to the loss).")  # fmt: skip
        facts = {"lists": int(y.shape[0]), "items": int(y.shape[1]), "grades": int(np.unique(y).size)}
    reasons = ["Graded relevance per list: ListNet's softmax cross-entropy between the relevance shares and the "
               "softmax of the scores is convex, cheap and a strong baseline; the model emits one raw score per item."]  # fmt: skip
    alternatives = [
        Alternative("pairwise_logistic", {}, "RankNet: preferences between pairs; binary relevance or click data"),
        Alternative("listmle", {}, "the likelihood of the whole order: distinct grades, where ties are few"),
    ]
    if facts and facts["grades"] <= 2:
        reasons.append("The relevance is binary: many ties, so ListMLE's order among equal items is arbitrary.")
    return "listnet", {}, "identity (one raw score per item)", alternatives, reasons, facts


def _segmentation(y):
    """Masks: overlap plus per-pixel cross-entropy; recall weighed up where the foreground is tiny."""
    facts = {}
    if y is not None:
        if y.ndim < 2 or not np.all((y == 0) | (y == 1)):
            raise InputError("recommend: segmentation reads the masks: 0s and 1s, one image per row (N, H, W).")
        facts = {"images": int(y.shape[0]), "foreground_share": float(y.mean())}
    terms = ((0.5, "dice"), (0.5, "binary_cross_entropy"))
    reasons = [
        "Dice scores the overlap of each predicted mask with its own, so a small object counts as much as a large "
        "one; per-pixel cross-entropy adds calibrated, stable gradients where Dice's are weak. Their sum is the most "
        "robust choice across segmentation benchmarks (Ma et al., 2021), on sigmoid probabilities."
    ]
    tiny = bool(facts) and facts["foreground_share"] < TINY_FOREGROUND
    alternatives = [
        Alternative("tversky", {"alpha": 0.3, "beta": 0.7}, "beta > alpha weighs missed foreground above false "
                    "alarms: recall for tiny or thin structures"),
        Alternative("focal_tversky", {"alpha": 0.3, "beta": 0.7}, "Tversky raised to 1/gamma: more weight on the "
                    "images segmented fairly well"),
        Alternative("jaccard", {"smooth": 1.0}, "when the score is IoU"),
        Alternative("dice", {"smooth": 1.0}, "alone: no cross-entropy term, probabilities not calibrated"),
    ]  # fmt: skip
    if tiny:
        reasons.append(f"The foreground is tiny ({facts['foreground_share']:.1%} of the pixels): per-pixel "
                       "cross-entropy alone would be dominated by the background; the Dice term is not, and Tversky "
                       "with beta > alpha (the first alternative) trades precision for the recall small objects need.")  # fmt: skip
    elif facts:
        alternatives.append(Alternative("binary_cross_entropy", {}, "alone, where the foreground is not rare "
                                        f"({facts['foreground_share']:.0%} of the pixels): calibrated probabilities"))  # fmt: skip
    return "weighted_sum", {"terms": terms}, "sigmoid", alternatives, reasons, facts


def suspect_label_share(y, predictions) -> float:
    """The share of labels that confident learning flags: a label ``i`` is suspect when some other class
    ``j``'s predicted probability reaches ``t_j``, the mean probability of ``j`` over the examples labelled
    ``j``, and is the largest such (Northcutt, Jiang and Chuang, Confident learning, JAIR 70, 2021).

    ``predictions`` are out-of-fold probabilities: one column per class, or one column, the probability of
    the larger label of a binary ``y``.

    >>> import numpy as np, losskit.guide as guide
    >>> guide.suspect_label_share([0, 0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
    0.25
    """
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    values, ids = np.unique(y, return_inverse=True)
    p = np.asarray(predictions, dtype=np.float64)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        p = p.reshape(-1)
        p = np.stack([1.0 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] != y.shape[0] or p.shape[1] != values.size or not np.all(np.isfinite(p)):
        raise InputError(
            f"recommend: predictions must be finite probabilities, one row per label of y ({y.shape[0]}) and one column "
            f"per class ({values.size}); got shape {p.shape}."
        )
    if np.any(p < 0) or np.any(p > 1):
        raise InputError("recommend: predictions must be probabilities in [0, 1] (apply the softmax or sigmoid first).")
    thresholds = np.array([p[ids == j, j].mean() for j in range(values.size)])
    confident = p >= thresholds
    best = np.where(confident, p, -1.0).argmax(axis=1)
    suspect = confident.any(axis=1) & (best != ids)
    return float(suspect.mean())


def activation_text_of(spec) -> str:
    """The output activation a model pairs with a prediction, in words."""
    if spec.link is not IDENTITY:
        return f"identity ({spec.link.space}; the {spec.link.inverse} is inside the loss)"
    return spec.activation


def activation_text(loss: Loss) -> str:
    """The output activation a model pairs with a loss: ``identity (logits; the sigmoid is inside the loss)``."""
    return loss.info.per_prediction(activation_text_of)


def _beyond_the_mean(primary, hyper, alternatives, quantile, uncertainty):
    """Regression that asks for quantiles or for the noise level, instead of the mean alone."""
    if isinstance(quantile, tuple):
        loss = registry.get("pinball", quantile=quantile)
        low, high = min(loss.quantile), max(loss.quantile)
        reasons = [
            f"Quantiles {', '.join(f'{q:g}' for q in loss.quantile)} of the target: the pinball loss at each is "
            "minimised by that conditional quantile (an asymmetric Laplace likelihood), so one network with one "
            f"linear output per quantile gives a {high - low:.0%} prediction interval, from the {low:g} to the {high:g} "
            "quantile, without a noise model. Check its coverage on held-out data: learned quantiles can cross.",
        ]
        alternatives = [
            Alternative("gaussian_nll_log_var", {}, "a Gaussian interval from a predicted mean and variance"),
            Alternative(primary, hyper, "for the conditional mean instead"),
        ]
        return "pinball", {"quantile": loss.quantile}, activation_text(loss), alternatives, reasons
    if quantile is not None:
        loss = registry.get("pinball", quantile=quantile)
        reasons = [
            f"A quantile of the target, not its mean: the pinball loss at {loss.quantile:g} is minimised by the "
            f"conditional {loss.quantile:g}-quantile (an asymmetric Laplace likelihood).",
        ]
        alternatives = [Alternative(primary, hyper, "for the conditional mean instead")]
        if uncertainty:
            reasons.append("For a whole predictive distribution, fit gaussian_nll_log_var instead (or several quantiles).")
        return "pinball", {"quantile": loss.quantile}, activation_text(loss), alternatives, reasons
    reasons = [
        "Predicting the noise level as well as the mean: the Gaussian negative log-likelihood with a predicted "
        "variance, whose spread may grow with the mean or with any feature. The network emits the mean and the "
        "log-variance from a linear layer; the exp is inside the loss.",
    ]
    alternatives = [
        Alternative("gaussian_nll", {}, "if the network already emits a positive variance (softplus or exp)"),
        Alternative("laplace_nll", {}, "the robust twin: a median and a log-scale, for heavy-tailed noise"),
        Alternative(primary, hyper, "for the mean alone"),
    ]
    name = "gaussian_nll_log_var"
    if primary == "huber":  # outliers, detected or declared
        name, alternatives[1] = "laplace_nll", Alternative("gaussian_nll_log_var", {}, "if the noise is Gaussian after all")
        reasons = [
            "Predicting the noise level of targets with outliers: the Laplace negative log-likelihood with a "
            "predicted log-scale, the robust twin of the Gaussian one (a Gaussian variance would chase the "
            "outliers). The network emits a location (a median) and a log-scale from a linear layer.",
        ]
    return name, {}, activation_text(registry.get(name)), alternatives, reasons


def _count(y):
    """Counts: the Poisson likelihood of a log-rate."""
    facts = {}
    if y is not None:
        if y.dtype.kind not in "biuf" or y.ndim != 1 or np.any(y < 0):
            raise InputError("recommend: counts must be one column of numbers >= 0.")
        mean, variance = float(np.mean(y)), float(np.var(y))
        facts = {"n": int(y.size), "mean": mean, "variance": variance}
    loss = registry.get("log_poisson_nll")
    reasons = [
        "Counts follow a Poisson distribution: its negative log-likelihood of a log-rate, with the exp inside the "
        "loss, takes a linear output and keeps every predicted rate positive."
    ]
    if facts and facts["mean"] > 0 and facts["variance"] > 2 * facts["mean"]:
        reasons.append(
            f"The variance ({facts['variance']:.3g}) is well above the mean ({facts['mean']:.3g}): the counts are "
            "overdispersed, so the Poisson model understates the noise."
        )
    alternatives = [
        Alternative("poisson_nll", {}, "if the network already emits a non-negative rate (exp or softplus)"),
        Alternative("mse", {}, "if the counts are large and roughly Gaussian"),
    ]
    return loss.info.name, {}, activation_text(loss), alternatives, reasons, facts


def recommend(
    task: str | None = None,
    y=None,
    *,
    output_activation: str | None = None,
    outliers: bool | None = None,
    imbalance: bool | None = None,
    calibrated_probabilities: bool | None = None,
    quantile: float | None = None,
    quantiles=None,
    uncertainty: bool = False,
    label_noise: bool | None = None,
    predictions=None,
) -> Recommendation:
    """Recommend a loss, the output activation to pair it with, and the metrics to report beside it.

    Parameters
    ----------
    task : {"regression", "count", "binary", "multiclass", "multilabel", "distribution", "distillation", "embedding", \
"metric_learning", "ranking", "segmentation"}, optional
        Inferred from ``y`` when omitted (see ``infer_task``; counts, embeddings, ranking and segmentation
        are never inferred: name them). "metric learning" is "metric_learning", the same as "embedding".
    y : array-like, optional
        The training targets: a column (values, labels, class ids) or a 2-D table (one-hot, multi-label,
        distributions); for metric learning, class labels or +1/-1 pair labels; for ranking, the graded
        relevance of each list (one row per list); for segmentation, the masks (one per image). Used to infer the task, detect outliers (robust z-scores on the median and MAD,
        then Huber's delta = 1.345 x MAD / 0.6745) and class imbalance (then ``pos_weight``).
    output_activation : str, optional
        The activation your model must end with, if fixed ("sigmoid", "softmax", ...); the loss then
        takes that space. By default the model emits logits or values and the loss does the rest.
    outliers, imbalance, calibrated_probabilities : bool, optional
        What you know; None lets the data decide.
    quantile : float in (0, 1), optional
        Regression: fit this quantile of the target instead of its mean (the pinball loss).
    quantiles : sequence of floats in (0, 1), optional
        Regression: fit these quantiles in one model, one output each, such as ``(0.05, 0.95)`` for a
        90% prediction interval (a multi-quantile pinball loss).
    uncertainty : bool, default False
        Regression: predict the noise level of each example too (a Gaussian likelihood of a mean and a
        log-variance; a Laplace one when the targets have outliers).
    label_noise : bool, optional
        Classification: some training labels are wrong (then a loss bounded per example, or label
        smoothing). None lets ``predictions`` decide.
    predictions : array-like, optional
        Classification: a model's out-of-fold probabilities for ``y`` (one column per class, or the
        positive class's for a binary task). Labels that disagree with a confident prediction are
        counted by confident learning (Northcutt et al., 2021: a label is suspect when another class's
        probability reaches that class's own mean confidence); over 10% of them suggests label noise.

    Examples
    --------
    >>> import losskit as lk
    >>> rec = lk.recommend(y=[0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    >>> rec.task, rec.loss, rec.hyperparameters
    ('binary', 'sigmoid_cross_entropy', {'pos_weight': 9.0})
    """
    images = isinstance(task, str) and task.strip() == "segmentation"
    y_array = None if y is None else _as_array(y, images)
    if task is None:
        if y_array is None:
            raise InputError("recommend: give a task or the targets y to infer it from.")
        task = infer_task(y_array)
    if isinstance(task, str):
        task = task.strip().replace(" ", "_").replace("-", "_")  # "metric learning"
    if task not in TASKS:
        raise InputError(f"recommend: task must be one of {TASKS}; got {task!r}.")
    activation = None if output_activation is None else _activation(output_activation).name
    if quantiles is not None:
        if quantile is not None:
            raise InputError("recommend: give quantile (one) or quantiles (several), not both.")
        try:
            quantile = tuple(registry.get("pinball", quantile=quantiles).quantile)
        except InputError:
            raise InputError(f"recommend: quantiles must be a sequence of numbers in (0, 1); got {quantiles!r}.") from None
    if (quantile is not None or uncertainty) and task != "regression":
        raise InputError(f"recommend: quantile(s) and uncertainty are for regression targets; the task is {task}.")
    metrics = METRICS[task]
    notes = []
    noise_facts = {}
    if predictions is not None:
        if task not in ("binary", "multiclass") or y_array is None:
            raise InputError("recommend: predictions are read against the labels y of a binary or multiclass task.")
        noise_facts = {"suspect_label_share": suspect_label_share(y_array, predictions)}
        if label_noise is None:
            label_noise = noise_facts["suspect_label_share"] > NOISY_LABEL_SHARE
            if label_noise:
                notes.append(f"{noise_facts['suspect_label_share']:.1%} of the labels disagree with a confident "
                             "out-of-fold prediction (confident learning): suspect label noise.")  # fmt: skip
    if y_array is not None and task in INFERRED:
        inferred = infer_task(y_array)
        if inferred != task:
            notes.append(f"The targets look like a {inferred} task, not {task}: check the task or the column.")
    if task == "regression":
        primary, hyper, act, alternatives, reasons, facts = _regression(y_array, outliers)
        if quantile is not None or uncertainty:
            primary, hyper, act, alternatives, reasons = _beyond_the_mean(primary, hyper, alternatives, quantile, uncertainty)
            if isinstance(quantile, tuple):
                metrics = ("pinball loss", "interval coverage: the share of targets inside", "mean interval width")
            elif quantile is not None:
                metrics = ("pinball loss", "coverage: the share of targets below the prediction")
            else:
                metrics = ("negative log-likelihood", "MAE", "coverage of the predicted intervals")
        if y_array is not None and inferred in ("binary", "multiclass"):
            notes.append("A squared error on class labels treats them as numbers on a line; a cross-entropy is the likelihood of labels.")
    elif task == "count":
        primary, hyper, act, alternatives, reasons, facts = _count(y_array)
    elif task == "binary":
        primary, hyper, act, alternatives, reasons, facts, metrics = _binary(y_array, imbalance, calibrated_probabilities,
                                                                             activation, label_noise)  # fmt: skip
    elif task == "multiclass":
        primary, hyper, act, alternatives, reasons, facts, metrics = _multiclass(y_array, imbalance, activation,
                                                                                 label_noise)  # fmt: skip
    elif task == "multilabel":
        primary, hyper, act, alternatives, reasons, facts = _multilabel(y_array, imbalance, activation)
    elif task == "distillation":
        primary, hyper, facts = "distillation", {"temperature": 4.0}, {}
        act = activation_text(registry.get(primary))
        reasons = [
            "A student learns the teacher's whole distribution, not only its top class: the KL divergence between "
            "their softmaxes at a temperature T > 1 (which brings out the teacher's small probabilities), times T^2 "
            "so that its gradient keeps its size when T changes; add it to the cross-entropy on the true labels."
        ]
        alternatives = [
            Alternative("distillation", {"temperature": 4.0, "teacher": "probabilities"},
                        "when the teacher gives probabilities, not logits"),
            Alternative("softmax_cross_entropy", {}, "with the teacher's probabilities as soft targets: the same "
                        "gradient at T = 1"),
        ]  # fmt: skip
    elif task == "distribution":
        primary, hyper, act, facts = "softmax_cross_entropy", {}, "identity (logits; the softmax is inside the loss)", {}
        reasons = [
            "Soft targets: cross-entropy on logits has the same gradient as the KL divergence and is exact for any logit."
        ]
        alternatives = [Alternative("kl_divergence", {}, "on softmax probabilities: the same minimiser, 0 at a perfect match")]
        if activation == "softmax":
            primary, act, alternatives = "kl_divergence", "softmax", []
    elif task in ("embedding", "metric_learning"):
        primary, hyper, act, alternatives, reasons, facts = _metric_learning(y_array)
    elif task == "ranking":
        primary, hyper, act, alternatives, reasons, facts = _ranking(y_array)
    else:
        primary, hyper, act, alternatives, reasons, facts = _segmentation(y_array)
    if activation is not None:
        for finding in check_pairing(activation, registry.get(primary, **hyper)):
            notes.append(f"{finding.message} {finding.fix}")
    if label_noise and task not in ("binary", "multiclass"):
        notes.append("label_noise is read for classification tasks; it changes nothing here.")
    return Recommendation(
        task=task,
        loss=primary,
        hyperparameters=hyper,
        output_activation=act,
        metrics=tuple(metrics),
        alternatives=tuple(alternatives),
        reasons=tuple(reasons + notes),
        facts={**facts, **noise_facts},
    )


# --- explain --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """What a loss is, in words: everything its metadata and its declared inputs say."""

    name: str
    aliases: tuple[str, ...]
    summary: str
    task: str
    formula: str
    gradient: str
    hessian: str
    hessian_kind: str | None
    inputs: tuple[dict, ...]
    input_space: str
    target: str
    activation: str
    likelihood: str | None
    properties: tuple[str, ...]
    use_when: str
    avoid_when: str
    hyperparameters: dict
    references: tuple[str, ...]
    peers: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        predictions = [spec for spec in self.inputs if spec["role"] == "prediction"]
        gradient = self.gradient if len(predictions) != 1 else f"d/d {predictions[0]['name']} = {self.gradient}"
        if self.hessian_kind is None:
            hessian = f"none ({self.hessian or 'the cost is not a weighted sum of per-example losses'})"
        else:
            hessian = f"{self.hessian} ({self.hessian_kind})" if self.hessian else self.hessian_kind
        rows = [("task", self.task), ("value", self.formula), ("gradient", gradient), ("hessian", hessian)]
        for spec in self.inputs:
            if spec["role"] == "prediction":
                rows.append((spec["name"], f"{spec['space']}; output activation: {spec['activation']}"))
            else:
                rows.append((spec["name"], spec["domain"]))
        rows += [
            ("likelihood", self.likelihood or "none (not the log-likelihood of a distribution)"),
            ("properties", ", ".join(self.properties) or "none of the listed ones"),
            ("hyperparameters", ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())),
            ("use it when", self.use_when),
            ("avoid it when", self.avoid_when),
            ("aliases", ", ".join(self.aliases) or "none"),
        ]
        lines = [f"{self.name}: {self.summary}", ""]
        for label, text in rows:
            wrapped = textwrap.wrap(text, 78, initial_indent=f"{label:>16}  ", subsequent_indent=" " * 18)
            lines += wrapped or [f"{label:>16}"]
        lines += ["", "references:", *(f"  - {ref}" for ref in self.references)]
        if self.peers:
            lines += ["", "elsewhere:", *(f"  - {p['library']}: {p['name']}" + (f" ({p['note']})" if p["note"] else "")
                                         for p in self.peers)]  # fmt: skip
        return "\n".join(lines)


def explain(name) -> Explanation:
    """Explain a loss: formulas, inputs, likelihood, properties, when to use it and when not, references.

    >>> import losskit as lk
    >>> print(lk.explain("l1").formula)
    |y_pred - y_true|
    """
    loss = registry.get(name)
    info = loss.info
    config = loss.config()  # plain values (a compound's terms as configs)
    defaults = {p: config[p] for p in loss.hyperparameters()}
    inputs = tuple(
        {"name": spec.name, "role": spec.role, "space": spec.space, "domain": spec.description,
         "activation": activation_text_of(spec) if spec.is_prediction else None, "event": spec.event}
        for spec in info.inputs
    )  # fmt: skip
    return Explanation(
        name=info.name,
        aliases=info.aliases,
        summary=info.summary,
        task=info.task,
        formula=info.formula,
        gradient=info.gradient,
        hessian=info.hessian,
        hessian_kind=info.hessian_kind,
        inputs=inputs,
        input_space=info.input_space,
        target=info.target,
        activation=info.activation,
        likelihood=info.likelihood,
        properties=info.properties,
        use_when=info.use_when,
        avoid_when=info.avoid_when,
        hyperparameters=defaults,
        references=info.references,
        peers=tuple({"library": p.library, "name": p.name, "note": p.note} for p in info.peers),
    )


# --- check_pairing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem with an activation-loss pairing: how bad, what is wrong, what to change."""

    severity: str  # "error": wrong numbers or gradients; "warning": works, but likely a mistake
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message} {self.fix}"


def _activation(name):
    return activation(name)


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _bounded(domain) -> bool:
    return isinstance(domain, Simplex) or all(math.isfinite(b) for b in domain.bounds)


def _pairing(info, spec, act) -> list[Finding]:
    """The findings of activation ``act`` before prediction ``spec`` of a loss; rules over links, domains and images."""
    name, link, domain = info.name, spec.link, spec.domain
    if link is not IDENTITY:  # the loss applies the inverse link itself: it needs the raw, unconstrained output
        if act.name == "identity" or act.name in link.absorbs:
            return []
        twice = "applies it twice" if act.name == link.inverse else f"puts {_an(act.name)} before it"
        verb = "squashing" if _bounded(act.image) else "distorting"
        other = f"a loss that takes {link.quantity}" + (f", such as {info.twin}" if info.twin else "")
        return [Finding(
            "error",
            f"{name} applies the {link.inverse} itself; {_an(act.name)} output {twice}, {verb} the {link.space} and the gradients.",
            f"End the model with a linear layer (raw {link.space}), or keep the {act.name} and use {other}.",
        )]  # fmt: skip
    wanted = spec.activation
    if act.needs_axis and spec.event == 0 and _bounded(domain):
        return [Finding(
            "error",
            f"{name} expects {_an(wanted)} output: {_an(act.name)} over one output is always "
            f"{'1' if act.name == 'softmax' else '0'}.",
            f"End the model with {_an(wanted)}.",
        )]  # fmt: skip
    if not domain.contains(act.image):
        if isinstance(domain, Simplex) and isinstance(act.image, Interval) and domain.entries().contains(act.image):
            return [Finding(
                "error", f"{name} expects {_an(wanted)} output: {act.name} outputs do not sum to 1 over the classes.",
                f"End the model with {_an(wanted)}.",
            )]  # fmt: skip
        if _bounded(domain):
            instead = f"Use {info.twin} on the raw outputs (stable and exact), or end" if info.twin else "End"
            return [Finding(
                "error",
                f"{name} takes {spec.space}, but {_an(act.name)} output is not {domain.description}: it gives {act.gives}.",
                f"{instead} the model with {_an(wanted)}.",
            )]  # fmt: skip
        fitting = [a for a in dict.fromkeys((wanted, "softplus", "exp")) if domain.contains(ACTIVATIONS[a].image)]
        return [Finding(
            "warning",
            f"{name} needs {spec.name} to be {domain.description}; {_an(act.name)} output can leave that range and "
            "make the loss undefined.",
            f"End the model with {' or '.join(fitting)}, which keep {spec.name} in range.",
        )]  # fmt: skip
    if act.name == "identity" or not math.isinf(domain.bounds[0]) or not math.isinf(domain.bounds[1]):
        return []
    if info.task == "regression" and act.image.bounds[0] >= 0 and act.image.bounds[1] <= 1:
        return [Finding(
            "warning",
            f"{name} on {act.name} outputs treats probabilities as numbers: squared or absolute errors on class "
            "probabilities have vanishing gradients where the model is confidently wrong.",
            "For class labels use a cross-entropy (sigmoid_cross_entropy or softmax_cross_entropy on logits); for bounded "
            "regression targets this can be intended.",
        )]  # fmt: skip
    if info.task == "regression":
        return [Finding(
            "warning",
            f"A {act.name} output is {act.gives}: {name} cannot fit targets outside that range.",
            "Use an identity output unless the targets are known to lie in that range.",
        )]  # fmt: skip
    if info.variable == "margin":
        return [Finding(
            "error",
            f"{name} wants raw scores around +-1; {_an(act.name)} output cannot reach the margin on both sides.",
            "End the model with a linear layer.",
        )]  # fmt: skip
    return []


def check_pairing(output_activation, loss) -> list[Finding]:
    """Diagnose an output activation paired with a loss; an empty list means the pairing is sound.

    ``output_activation`` applies to the loss's first prediction; a dict maps prediction names to
    activations (``{"mean": "identity", "variance": "softplus"}``). The rules read each prediction's
    link and domain and each activation's image: no pair of names has a rule of its own.

    >>> import losskit as lk
    >>> [f.severity for f in lk.check_pairing("softmax", "softmax_cross_entropy")]
    ['error']
    >>> lk.check_pairing("identity", "sigmoid_cross_entropy")
    []
    >>> print(lk.check_pairing("exp", "log_poisson_nll")[0].message)
    log_poisson_nll applies the exp itself; an exp output applies it twice, distorting the log-values and the gradients.
    """
    info = registry.get(loss).info
    predictions = {spec.name: spec for spec in info.predictions}
    if isinstance(output_activation, dict):
        unknown = [key for key in output_activation if key not in predictions]
        if unknown:
            raise InputError(f"check_pairing: {info.name} has no prediction {unknown[0]!r}; its predictions: {', '.join(predictions)}.")
        pairs = [(predictions[key], activation(value)) for key, value in output_activation.items()]
    else:
        pairs = [(info.predictions[0], activation(output_activation))]
    return [finding for spec, act in pairs for finding in _pairing(info, spec, act)]
