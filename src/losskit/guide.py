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

#: Tasks the guide can recommend for (the registry's tasks plus multi-label, served per label).
TASKS = ("regression", "binary", "multiclass", "multilabel", "distribution")

#: Metrics to report beside the loss (kept apart from it), per task.
METRICS = {
    "regression": ("MAE", "RMSE", "R^2"),
    "binary": ("accuracy", "F1", "ROC AUC"),
    "multiclass": ("accuracy", "macro F1"),
    "multilabel": ("micro F1", "macro F1", "Hamming loss"),
    "distribution": ("KL divergence", "total variation distance"),
}

#: Integer targets with at most this many distinct values read as class labels.
MAX_CLASSES = 20
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

_ACTIVATIONS = {
    "identity": "identity", "linear": "identity", "none": "identity", "logits": "identity",
    "sigmoid": "sigmoid", "logistic": "sigmoid",
    "softmax": "softmax",
    "log_softmax": "log_softmax", "logsoftmax": "log_softmax",
    "relu": "relu", "tanh": "tanh", "exp": "exp", "softplus": "softplus",
}  # fmt: skip


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


def _as_array(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2) or y.size == 0:
        raise ValueError(f"recommend: y must be a non-empty 1-D column or a 2-D table; got shape {y.shape}.")
    if y.dtype.kind in "fc" and np.isnan(y).any():
        y = y[~np.isnan(y).any(axis=-1)] if y.ndim == 2 else y[~np.isnan(y)]
    return y


def _is_integral(y: np.ndarray) -> bool:
    return y.dtype.kind in "biu" or (y.dtype.kind == "f" and bool(np.all(y == np.round(y))))


def infer_task(y) -> str:
    """Read the task off the targets.

    - real values: ``"regression"`` (also non-negative integer counts with many distinct values);
    - two distinct values: ``"binary"``;
    - a few (3 to 20) distinct integer values, or strings: ``"multiclass"``;
    - a 2-D 0/1 matrix: ``"multiclass"`` with exactly one 1 per row (one-hot), ``"multilabel"`` otherwise;
    - non-negative rows summing to 1: ``"distribution"``.

    >>> infer_task([0.3, 1.7, -2.2, 0.9])
    'regression'
    >>> infer_task(["spam", "ham", "spam"])
    'binary'
    >>> infer_task([[1, 0, 1], [0, 1, 0]])
    'multilabel'
    """
    y = _as_array(y)
    numeric = y.dtype.kind in "biuf"
    if y.ndim == 2:
        if not numeric:
            raise ValueError(f"recommend: a 2-D y must be numbers; got dtype {y.dtype}.")
        if np.isin(y, (0, 1)).all():
            return "multiclass" if bool(np.all(y.sum(axis=1) == 1)) else "multilabel"
        if (y >= 0).all() and np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
            return "distribution"
        return "regression"
    distinct = np.unique(y)
    if distinct.size < 2:
        raise ValueError(
            f"recommend: y has a single distinct value ({distinct[0].item()!r}); there is nothing to learn from a one-class target."
        )
    if distinct.size == 2:
        return "binary"
    if not numeric:
        return "multiclass"
    if _is_integral(y) and distinct.size <= MAX_CLASSES:
        return "multiclass"
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
        raise ValueError(f"recommend: regression needs numeric targets; got values such as {y[0].item()!r}.")
    reasons = ["Gaussian noise on the target makes the mean squared error the maximum-likelihood loss, with a linear (identity) output."]
    facts, delta = {}, None
    if y is not None and y.ndim == 1:
        median = float(np.median(y))
        scale = _robust_scale(y)
        share = float(np.mean(np.abs(y - median) > OUTLIER_Z * scale)) if scale > 0 else 0.0
        facts = {"n": int(y.size), "median": median, "robust_scale": scale, "outlier_share": share}
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
        alternatives.insert(0, Alternative(counts, {}, "non-negative integer targets look like counts: Poisson likelihood"))
    return primary, hyper, "identity", alternatives, reasons, facts


def _count_loss() -> str | None:
    for name in registry.list_losses():
        if "poisson" in (registry.get(name).info.likelihood or "").lower():
            return name
    return None


def _binary(y, imbalance, calibrated, output_activation):
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
    if calibrated:
        reasons.append("Cross-entropy is a strictly proper scoring rule: it is minimised by calibrated probabilities; hinge losses are not.")
        alternatives = []
    elif calibrated is False:
        reasons.append("You do not need calibrated probabilities, so a margin loss is a fair alternative.")
    metrics = METRICS["binary"] + (("balanced accuracy", "PR AUC") if imbalance else ())
    return primary, hyper, "sigmoid" if probabilities else "identity (logits; the sigmoid is inside the loss)", alternatives, reasons, facts, metrics


def _multiclass(y, imbalance, output_activation):
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
    alternatives = []
    if not probabilities:
        name = primary
        alternatives.append(Alternative(name, {"label_smoothing": 0.1}, "label smoothing regularises over-confident logits"))
    metrics = METRICS["multiclass"] + (("balanced accuracy",) if imbalance else ())
    activation = "softmax" if probabilities else "identity (logits; the softmax is inside the loss)"
    return primary, {}, activation, alternatives, reasons, facts, metrics


def recommend(
    task: str | None = None,
    y=None,
    *,
    output_activation: str | None = None,
    outliers: bool | None = None,
    imbalance: bool | None = None,
    calibrated_probabilities: bool | None = None,
) -> Recommendation:
    """Recommend a loss, the output activation to pair it with, and the metrics to report beside it.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass", "multilabel", "distribution"}, optional
        Inferred from ``y`` when omitted (see ``infer_task``).
    y : array-like, optional
        The training targets: a column (values, labels, class ids) or a 2-D table (one-hot, multi-label,
        distributions). Used to infer the task, detect outliers (robust z-scores on the median and MAD,
        then Huber's delta = 1.345 x MAD / 0.6745) and class imbalance (then ``pos_weight``).
    output_activation : str, optional
        The activation your model must end with, if fixed ("sigmoid", "softmax", ...); the loss then
        takes that space. By default the model emits logits or values and the loss does the rest.
    outliers, imbalance, calibrated_probabilities : bool, optional
        What you know; None lets the data decide.

    Examples
    --------
    >>> import losskit as lk
    >>> rec = lk.recommend(y=[0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    >>> rec.task, rec.loss, rec.hyperparameters
    ('binary', 'sigmoid_cross_entropy', {'pos_weight': 9.0})
    """
    y_array = None if y is None else _as_array(y)
    if task is None:
        if y_array is None:
            raise ValueError("recommend: give a task or the targets y to infer it from.")
        task = infer_task(y_array)
    if task not in TASKS:
        raise ValueError(f"recommend: task must be one of {TASKS}; got {task!r}.")
    activation = None if output_activation is None else _activation(output_activation)
    metrics = METRICS[task]
    notes = []
    if y_array is not None:
        inferred = infer_task(y_array)
        if inferred != task:
            notes.append(f"The targets look like a {inferred} task, not {task}: check the task or the column.")
    if task == "regression":
        primary, hyper, act, alternatives, reasons, facts = _regression(y_array, outliers)
        if y_array is not None and inferred in ("binary", "multiclass"):
            notes.append("A squared error on class labels treats them as numbers on a line; a cross-entropy is the likelihood of labels.")
    elif task == "binary":
        primary, hyper, act, alternatives, reasons, facts, metrics = _binary(y_array, imbalance, calibrated_probabilities, activation)
    elif task == "multiclass":
        primary, hyper, act, alternatives, reasons, facts, metrics = _multiclass(y_array, imbalance, activation)
    elif task == "multilabel":
        primary, hyper, alternatives, facts = "sigmoid_cross_entropy", {}, [], {}
        act = "identity (logits; one sigmoid per label inside the loss)"
        reasons = ["Each label is its own Bernoulli outcome: sigmoid cross-entropy on each label's logit, averaged over labels."]
        if activation == "sigmoid":
            primary, act = "binary_cross_entropy", "sigmoid"
    else:
        primary, hyper, act, facts = "softmax_cross_entropy", {}, "identity (logits; the softmax is inside the loss)", {}
        reasons = [
            "Soft targets: cross-entropy on logits has the same gradient as the KL divergence and is exact for any logit."
        ]
        alternatives = [Alternative("kl_divergence", {}, "on softmax probabilities: the same minimiser, 0 at a perfect match")]
        if activation == "softmax":
            primary, act, alternatives = "kl_divergence", "softmax", []
    if activation is not None:
        for finding in check_pairing(activation, registry.get(primary, **hyper)):
            notes.append(f"{finding.message} {finding.fix}")
    return Recommendation(
        task=task,
        loss=primary,
        hyperparameters=hyper,
        output_activation=act,
        metrics=tuple(metrics),
        alternatives=tuple(alternatives),
        reasons=tuple(reasons + notes),
        facts=facts,
    )


# --- explain --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """What a loss is, in words: everything its metadata and docstring say."""

    name: str
    aliases: tuple[str, ...]
    summary: str
    task: str
    formula: str
    gradient: str
    input_space: str
    target: str
    activation: str
    likelihood: str | None
    properties: tuple[str, ...]
    use_when: str
    avoid_when: str
    hyperparameters: dict
    references: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        rows = [
            ("task", self.task),
            ("value", self.formula),
            ("gradient", f"d/d y_pred = {self.gradient}"),
            ("y_pred", f"{self.input_space}; output activation: {self.activation}"),
            ("y_true", self.target),
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
        return "\n".join(lines)


def explain(name) -> Explanation:
    """Explain a loss: formulas, spaces, likelihood, properties, when to use it and when not, references.

    >>> import losskit as lk
    >>> print(lk.explain("l1").formula)
    |y_pred - y_true|
    """
    loss = registry.get(name)
    info = loss.info
    defaults = {p: getattr(loss, p) for p in loss.hyperparameters()}
    return Explanation(
        name=info.name,
        aliases=info.aliases,
        summary=info.summary,
        task=info.task,
        formula=info.formula,
        gradient=info.gradient,
        input_space=info.input_space,
        target=info.target,
        activation=info.activation,
        likelihood=info.likelihood,
        properties=info.properties,
        use_when=info.use_when,
        avoid_when=info.avoid_when,
        hyperparameters=defaults,
        references=info.references,
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


def _activation(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_")
    if key not in _ACTIVATIONS:
        raise ValueError(f"output_activation must be one of {sorted(set(_ACTIVATIONS))}; got {name!r}.")
    return _ACTIVATIONS[key]


def check_pairing(output_activation: str, loss) -> list[Finding]:
    """Diagnose an output activation paired with a loss; an empty list means the pairing is sound.

    >>> import losskit as lk
    >>> [f.severity for f in lk.check_pairing("softmax", "softmax_cross_entropy")]
    ['error']
    >>> lk.check_pairing("identity", "sigmoid_cross_entropy")
    []
    """
    activation = _activation(output_activation)
    info = registry.get(loss).info
    expected = info.activation.split(" ")[0]  # identity, sigmoid, softmax
    findings = []
    if info.input_space == "logits" and activation in ("sigmoid", "softmax"):
        twice = "applies it twice" if activation == expected else f"puts a {activation} before it"
        findings.append(Finding(
            "error",
            f"{info.name} applies the {expected} itself; a {activation} output {twice}, squashing the logits and the gradients.",
            f"End the model with a linear layer (raw logits), or keep the {activation} and use a loss that takes probabilities.",
        ))
    elif info.input_space == "probabilities" and activation != expected:
        twin = info.logits_twin or "a loss that takes logits"
        if activation in ("identity", "relu", "tanh", "exp", "softplus", "log_softmax"):
            findings.append(Finding(
                "error",
                f"{info.name} takes probabilities, but a {activation} output is not a probability"
                + (" (log-probabilities are negative)." if activation == "log_softmax" else "."),
                f"Use {twin} on the raw outputs (stable and exact), or end the model with a {expected}.",
            ))
        else:
            reason = ("sigmoid outputs do not sum to 1 over the classes" if activation == "sigmoid"
                      else "a softmax over one binary output is always 1")
            findings.append(Finding("error", f"{info.name} expects a {expected} output: {reason}.", f"End the model with a {expected}."))
    elif info.task == "regression" and activation in ("sigmoid", "softmax"):
        findings.append(Finding(
            "warning",
            f"{info.name} on {activation} outputs treats probabilities as numbers: squared or absolute errors on class "
            "probabilities have vanishing gradients where the model is confidently wrong.",
            "For class labels use a cross-entropy (sigmoid_cross_entropy or softmax_cross_entropy on logits); for bounded "
            "regression targets this can be intended.",
        ))
    elif info.task == "regression" and activation in ("relu", "tanh"):
        bound = "non-negative" if activation == "relu" else "in (-1, 1)"
        findings.append(Finding(
            "warning",
            f"A {activation} output is {bound}: {info.name} cannot fit targets outside that range.",
            "Use an identity output unless the targets are known to lie in that range.",
        ))
    elif info.variable == "margin" and activation != "identity":
        findings.append(Finding(
            "error",
            f"{info.name} wants raw scores around +-1; a {activation} output cannot reach the margin on both sides.",
            "End the model with a linear layer.",
        ))
    if info.name == "msle" and activation == "identity":
        findings.append(Finding(
            "warning",
            "msle needs predictions > -1; a linear output can go below and make the loss undefined.",
            "End the model with softplus or exp, which keep predictions positive.",
        ))
    return findings
