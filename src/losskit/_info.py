"""What every loss knows about itself: the metadata that the guide, docs, CLI and plots read.

Written by hand: the name, task, formulas, tags, likelihood and advice. Derived from the loss's
declared inputs (``LossInfo.inputs``, set by the base): the input space of each prediction, the
output activation it pairs with, and the targets it takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

TASKS = ("regression", "binary", "multiclass", "multilabel", "distribution", "ranking", "embedding", "segmentation")

#: The properties a loss may be tagged with, and what each one promises.
TAGS = {
    "convex": "convex in its predictions (jointly)",
    "robust": "bounded influence: the gradient stays bounded as a residual grows",
    "redescending": "the gradient goes back to 0 for large residuals (outliers are ignored)",
    "differentiable": "differentiable everywhere in its domain",
    "bounded": "bounded above",
    "proper_scoring_rule": "a strictly proper scoring rule: minimised in expectation by the true distribution",
}
#: What ``hessian_kind`` may be; None means no diagonal Hessian.
HESSIAN_KINDS = ("exact", "fisher", "approximate")
#: The variables a loss of one example is plotted against (``losskit.plot``).
VARIABLES = ("residual", "margin", "logit", "probability", "prediction", "none")


#: The libraries a loss's peers come from.
LIBRARIES = ("Keras", "PyTorch", "Optax", "scikit-learn", "XGBoost", "kornia", "MONAI", "statsmodels")


@dataclass(frozen=True)
class Peer:
    """The same loss in another library.

    Attributes
    ----------
    library
        One of ``LIBRARIES``.
    name
        Its importable name, ``"torch.nn.functional.huber_loss"`` (the tests import every one).
    note
        How it differs beyond the library's own conventions (argument order, reduction; see the migration pages):
        other defaults, clipping, input spaces, parameter names. Empty where it computes the same numbers.
    """

    library: str
    name: str
    note: str = ""


@dataclass(frozen=True)
class LossInfo:
    """Metadata of a registered loss.

    Attributes
    ----------
    name, aliases
        The registry name and the other names ``lk.get`` accepts.
    task
        One of ``TASKS``.
    summary, use_when, avoid_when
        One sentence on what it is for; when to choose it and when not.
    formula, gradient, hessian
        The value of one example and its derivatives with respect to each prediction, in plain text:
        the one place these formulas are written (the class docstring shows them).
    hessian_kind
        ``"exact"`` (the true diagonal of the Hessian), ``"fisher"`` (its expectation),
        ``"approximate"`` (a positive stand-in for each prediction whose true second derivative is 0
        almost everywhere, as boosting needs h > 0; the exact one for the others) or None (no
        diagonal Hessian).
    variable
        What one example's loss is plotted against: ``"residual"`` (first prediction minus target),
        ``"margin"`` (t * y_pred, t in {-1, +1}), ``"logit"`` or ``"probability"`` (of the true
        class), ``"prediction"`` (the first prediction itself, at a fixed target), or ``"none"``.
    likelihood
        The distribution whose negative log-likelihood the loss is, or None.
    tags
        Properties from ``TAGS``.
    twin
        The same loss on the other side of its link (probabilities and logits, rates and log-rates).
    references
        Sources of the definition.
    peers
        The same loss in other libraries (``Peer``), and how each differs.
    inputs
        The declared inputs (``losskit.inputs.Input``), set by the base from the class.
    """

    name: str
    task: str
    summary: str
    formula: str
    gradient: str
    use_when: str
    avoid_when: str
    hessian: str = ""
    hessian_kind: str | None = "exact"
    variable: str = "residual"
    aliases: tuple[str, ...] = ()
    likelihood: str | None = None
    tags: tuple[str, ...] = ()
    twin: str | None = None
    references: tuple[str, ...] = ()
    peers: tuple[Peer, ...] = ()
    inputs: tuple = field(default=(), repr=False)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"LossInfo.task must be one of {TASKS}; got {self.task!r}.")
        unknown = [tag for tag in self.tags if tag not in TAGS]
        if unknown:
            raise ValueError(f"LossInfo.tags: unknown {unknown}; the vocabulary is {tuple(TAGS)}.")
        if self.hessian_kind is not None and self.hessian_kind not in HESSIAN_KINDS:
            raise ValueError(f"LossInfo.hessian_kind must be one of {HESSIAN_KINDS} or None; got {self.hessian_kind!r}.")
        if self.variable not in VARIABLES:
            raise ValueError(f"LossInfo.variable must be one of {VARIABLES}; got {self.variable!r}.")

    def with_inputs(self, inputs) -> LossInfo:
        return replace(self, inputs=tuple(inputs))

    def without(self, *tags: str) -> LossInfo:
        """This metadata without ``tags`` (for a configuration where they fail)."""
        return replace(self, tags=tuple(tag for tag in self.tags if tag not in tags))

    @property
    def properties(self) -> tuple[str, ...]:
        """The tags, in the vocabulary's order, for tables."""
        return tuple(tag for tag in TAGS if tag in self.tags)

    @property
    def predictions(self) -> tuple:
        return tuple(spec for spec in self.inputs if spec.is_prediction)

    @property
    def targets(self) -> tuple:
        return tuple(spec for spec in self.inputs if not spec.is_prediction)

    def per_prediction(self, describe) -> str:
        """``describe(spec)`` of the prediction; with several, ``"name: ..., name: ..."``."""
        predictions = self.predictions
        if len(predictions) == 1:
            return describe(predictions[0])
        return ", ".join(f"{spec.name}: {describe(spec)}" for spec in predictions)

    @property
    def input_space(self) -> str:
        """What the predictions hold: ``"logits"``; with several, ``"mean: values, variance: ..."``."""
        return self.per_prediction(lambda spec: spec.space)

    @property
    def activation(self) -> str:
        """The output activation of the maximum-likelihood pairing (a loss with a link applies it itself)."""
        return self.per_prediction(lambda spec: spec.activation)

    @property
    def target(self) -> str:
        """The targets, in words (or that there are none)."""
        targets = self.targets
        if not targets:
            return "none: every input is a prediction"
        if len(targets) == 1:
            return targets[0].description
        return "; ".join(f"{spec.name}: {spec.description}" for spec in targets)

    def to_dict(self) -> dict:
        """Plain data (for JSON): the written metadata and what the declaration derives."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "task": self.task,
            "summary": self.summary,
            "inputs": [
                {"name": s.name, "role": s.role, "space": s.space, "event": s.event, "kind": s.kind,
                 "link": s.link.name, "domain": s.description}
                for s in self.inputs
            ],  # fmt: skip
            "input_space": self.input_space,
            "activation": self.activation,
            "target": self.target,
            "formula": self.formula,
            "gradient": self.gradient,
            "hessian": self.hessian,
            "hessian_kind": self.hessian_kind,
            "variable": self.variable,
            "likelihood": self.likelihood,
            "tags": list(self.properties),
            "twin": self.twin,
            "use_when": self.use_when,
            "avoid_when": self.avoid_when,
            "references": list(self.references),
            "peers": [{"library": p.library, "name": p.name, "note": p.note} for p in self.peers],
        }
