"""The losses a lab compares: parsed from the command line, checked against the task, or chosen.

Every loss comes from the registry. The lab's models end with a linear layer (values, scores or
logits), so a candidate must take values or logits and pair soundly with an identity output
(``losskit.check_pairing``): probability-space losses and MSLE are refused with the reason.

The image experiments have their own rules (:func:`check`): a segmentation model's per-pixel logit goes
through the sigmoid before a loss of probabilities, so any segmentation loss and any elementwise binary
loss of logits or probabilities fits; a retrieval model trains the embedding losses whose inputs the lab
draws from a batch (``training.EMBEDDING_INPUTS``).
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

    A compound loss is its weighted terms, a spec string that reads back into it:

    >>> import losskit as lk
    >>> label(lk.get("huber")), label(lk.get("huber", delta=2.0))
    ('huber', 'huber(delta=2)')
    >>> label(lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy")))
    '0.5 dice + 0.5 binary_cross_entropy'
    """
    if is_compound(loss):
        return " + ".join(f"{weight:g} {label(term)}" for weight, term in loss.terms)
    defaults = loss.defaults()
    shown = [
        f"{name}={shown_value(getattr(loss, name))}"
        for name in loss.hyperparameters()
        if name not in _LAYOUT and getattr(loss, name) != defaults.get(name)
    ]
    return f"{loss.info.name}({', '.join(shown)})" if shown else loss.info.name


def is_compound(loss: Loss) -> bool:
    """Whether a loss is a weighted sum of losses (``lk.compound``): its label is its weighted terms, as a spec
    string writes them ("0.5 dice + 0.5 binary_cross_entropy")."""
    return "terms" in loss.hyperparameters()


def shown_value(value) -> str:
    """A hyperparameter's value as a label writes it: ``2.0`` as ``2``."""
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
        if task in ("segmentation", "retrieval"):
            _check_beyond_tables(loss, task)
        elif info.task != task and not _one_label_of_many(loss, task):
            fitting = ", ".join(name for name in registry.list_losses(task=task) if _fits(registry.get(name)))
            raise LabError(
                f"{info.name} is a {info.task} loss, but this is a {task} task; {task} losses the lab can train "
                f"with: {fitting}."
            )
        problems = [] if task in ("segmentation", "retrieval") else guide.check_pairing(_linear(loss), loss)
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


def fits_segmentation(loss: Loss) -> bool:
    """A loss of one mask per image or one pixel at a time, of logits or of probabilities (after a sigmoid)."""
    info = loss.info
    if info.task not in ("segmentation", "binary") and not _one_label_of_many(loss, "binary"):
        return False
    return len(info.predictions) == 1 and len(info.targets) == 1 and all(
        spec.event in (0, "sample") and spec.domain.activation in ("identity", "sigmoid")
        and (spec.domain.activation == "sigmoid" or spec.link.inverse == "sigmoid")
        for spec in info.predictions
    )  # fmt: skip


def fits_retrieval(loss: Loss) -> bool:
    """An embedding loss whose inputs the lab draws from a batch of embeddings and labels."""
    from .training import embedding_inputs

    return loss.info.task == "embedding" and embedding_inputs(loss) is not None


def _check_beyond_tables(loss: Loss, task: str) -> None:
    fits = fits_segmentation if task == "segmentation" else fits_retrieval
    if not fits(loss):
        kinds = ("segmentation" if task == "segmentation" else "embedding",)
        names = [name for kind in kinds for name in registry.list_losses(task=kind)]
        fitting = ", ".join(name for name in names if fits(registry.get(name)))
        more = " and per-pixel binary losses such as binary_cross_entropy" if task == "segmentation" else ""
        raise LabError(
            f"{loss.info.name} ({loss.info.task}) cannot train the {task} experiment; it trains {fitting}{more}."
        )


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
