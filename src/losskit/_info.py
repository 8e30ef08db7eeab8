"""What every loss knows about itself: the metadata that the guide, docs, CLI and plots read."""

from __future__ import annotations

from dataclasses import dataclass

TASKS = ("regression", "binary", "multiclass", "distribution")
INPUT_SPACES = ("values", "probabilities", "logits")


@dataclass(frozen=True)
class LossInfo:
    """Metadata of a registered loss.

    Attributes
    ----------
    name, aliases
        The registry name and the other names ``lk.get`` accepts.
    task
        One of ``TASKS``.
    input_space
        What ``y_pred`` holds: ``"values"``, ``"probabilities"`` or ``"logits"``.
    target
        The targets ``y_true`` accepts, in words.
    activation
        The output activation of the maximum-likelihood pairing (identity, sigmoid, softmax, ...). A
        logits loss applies it inside, so a model trained with it ends linear.
    likelihood
        The distribution whose negative log-likelihood the loss is, or None.
    variable
        What the loss is a function of when plotted: ``"residual"`` (y_pred - y_true),
        ``"margin"`` (t * y_pred with t in {-1, +1}), ``"probability"`` or ``"logit"``
        (of the true class).
    formula, gradient
        The value of one example and its derivative with respect to ``y_pred``.
    convex, robust, differentiable, bounded, proper_scoring_rule
        Properties: convex in ``y_pred``; robust to outliers (bounded influence);
        differentiable everywhere; bounded above; a strictly proper scoring rule.
    logits_twin
        For a probability-space loss, the loss that takes logits instead.
    summary, use_when, avoid_when, references
        One sentence on what it is for; when to choose it and when not; sources of the definition.
    """

    name: str
    task: str
    input_space: str
    target: str
    activation: str
    formula: str
    gradient: str
    summary: str
    variable: str
    use_when: str
    avoid_when: str
    aliases: tuple[str, ...] = ()
    likelihood: str | None = None
    convex: bool = True
    robust: bool = False
    differentiable: bool = True
    bounded: bool = False
    proper_scoring_rule: bool = False
    logits_twin: str | None = None
    references: tuple[str, ...] = ()

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"LossInfo.task must be one of {TASKS}; got {self.task!r}.")
        if self.input_space not in INPUT_SPACES:
            raise ValueError(f"LossInfo.input_space must be one of {INPUT_SPACES}; got {self.input_space!r}.")

    @property
    def properties(self) -> tuple[str, ...]:
        """The names of the properties that hold, for tables."""
        names = ("convex", "robust", "differentiable", "bounded", "proper_scoring_rule")
        return tuple(name for name in names if getattr(self, name))
