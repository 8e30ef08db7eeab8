"""The losses a lab compares: parsed from the command line, checked against the task, or chosen.

Every loss comes from the registry. The lab's models end with a linear layer (values, scores or
logits), so a candidate must take values or logits and pair soundly with an identity output
(``losskit.check_pairing``): probability-space losses and MSLE are refused with the reason.
"""

from __future__ import annotations

import math

from .. import guide, registry, specs
from .._base import Loss
from ..errors import InputError
from .errors import LabError

#: Hyperparameters that change the layout of the inputs, not the loss: never part of a label.
_LAYOUT = ("reduction", "axis")


def label(loss: Loss) -> str:
    """A short, unique display name: the loss's name and the hyperparameters set off their default.

    >>> import losskit as lk
    >>> label(lk.get("huber")), label(lk.get("huber", delta=2.0))
    ('huber', 'huber(delta=2)')
    """
    defaults = loss.defaults()
    shown = [
        f"{name}={_number(getattr(loss, name))}"
        for name in loss.hyperparameters()
        if name not in _LAYOUT and getattr(loss, name) != defaults.get(name)
    ]
    return f"{loss.info.name}({', '.join(shown)})" if shown else loss.info.name


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def build(spec) -> Loss:
    """One loss from a name, ``"name(key=value)"``, a config dict or a Loss; LabError if it fails."""
    if isinstance(spec, str):
        try:
            spec = specs.parse(spec)
        except InputError as error:
            raise LabError(str(error)) from None
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        try:
            known = registry.loss_class(spec["name"]).hyperparameters()
        except InputError as error:
            raise LabError(str(error).removeprefix("get: ")) from None
        unknown = [key for key in spec if key != "name" and key not in known]
        if unknown:
            raise LabError(
                f"{spec['name']} has no parameter {unknown[0]!r}; its parameters are: {', '.join(known)}."
            )
    try:
        return registry.get(spec)
    except InputError as error:
        message = str(error).removeprefix("get: ")
        raise LabError(message) from None


def parse(losses) -> list[Loss]:
    """Losses from ``"mse,huber(delta=2)"`` or a sequence of names, config dicts or Loss objects."""
    if isinstance(losses, (str, dict, Loss)):
        losses = specs.split(losses) if isinstance(losses, str) else [losses]
    built = [build(spec) for spec in losses]
    if not built:
        raise LabError("no losses to compare: name at least one, for example --losses mse,huber.")
    return built


def check(losses: list[Loss], task: str) -> list[Loss]:
    """Refuse losses of another task, losses that cannot follow a linear output, and repeats."""
    seen = {}
    for loss in losses:
        info = loss.info
        if info.task != task and not _one_label_of_many(loss, task):
            fitting = ", ".join(name for name in registry.list_losses(task=task) if _fits(registry.get(name)))
            raise LabError(
                f"{info.name} is a {info.task} loss, but this is a {task} task; {task} losses the lab can train "
                f"with: {fitting}."
            )
        problems = guide.check_pairing(_linear(loss), loss)
        if problems:
            finding = problems[0]
            raise LabError(
                f"{info.name} cannot train the lab's models, which end with a linear layer: "
                f"{finding.message} {finding.fix}"
            )
        if loss.reduction == "none":
            raise LabError(
                f"{info.name}: the lab trains on one cost per batch; use reduction 'mean' or 'sum', not 'none'."
            )
        name = label(loss)
        if name in seen:
            raise LabError(f"{name} is listed twice; give each loss once.")
        seen[name] = loss
    return losses


def needs_raw_targets(losses) -> bool:
    """Whether a compared loss takes targets of a bounded domain (counts >= 0): then no loss gets them centred."""
    return any(spec.domain.bounds != (-math.inf, math.inf) for loss in losses for spec in loss.info.targets)


def _linear(loss: Loss) -> dict:
    """A linear output for every prediction of a loss (what the lab's models emit)."""
    return {spec.name: "identity" for spec in loss.info.predictions}


def _one_label_of_many(loss: Loss, task: str) -> bool:
    """An elementwise multi-label loss (asymmetric) trains a binary task too: one label per example."""
    return task == "binary" and loss.info.task == "multilabel" and all(spec.event == 0 for spec in loss.info.inputs)


def _fits(loss: Loss) -> bool:
    return not guide.check_pairing(_linear(loss), loss)


def for_task(task: str, y_train) -> list[Loss]:
    """The guide's recommendation for these targets and its alternatives that fit a linear output.

    Parameters
    ----------
    task : {"regression", "binary", "multiclass"}
    y_train : numpy.ndarray
        The training targets in training units (regression) or class ids: the guide reads outliers
        (then Huber's delta) and class imbalance (then ``pos_weight``) from them.

    Returns
    -------
    list of Loss
        The recommendation first; for regression ``mse`` is always included, as the baseline. Losses
        that need raw targets (counts for a Poisson likelihood) are left to ``--losses``.
    """
    rec = guide.recommend(task, y_train)
    choices = [(rec.loss, rec.hyperparameters)] + [(a.loss, a.hyperparameters) for a in rec.alternatives]
    if task == "regression":
        choices.append(("mse", {}))
    losses, seen = [], set()
    for name, hyperparameters in choices:
        loss = registry.get(name, **hyperparameters)
        # the guide's choices are sized on centred targets: a loss that needs raw counts is asked for by name
        raw = task == "regression" and needs_raw_targets([loss])
        if loss.info.task == task and _fits(loss) and not raw and label(loss) not in seen:
            seen.add(label(loss))
            losses.append(loss)
    return losses
