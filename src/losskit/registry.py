"""The registry: every loss by name and alias, and ``lk.get`` / ``lk.list_losses`` over it."""

from __future__ import annotations

import difflib
import re

from . import specs
from ._base import Loss
from ._info import TAGS, TASKS
from .errors import InputError, InputTypeError

_LOSSES: dict[str, type[Loss]] = {}
_NAMES: dict[str, str] = {}  # every accepted spelling -> registry name


def _key(name: str) -> str:
    """A spelling without case, spaces, hyphens or underscores: Keras's ``MeanSquaredError`` is ``mean_squared_error``."""
    return re.sub(r"[\s_\-]+", "", name.lower())


#: Other libraries' names of losses the catalogue does not hold yet, and what to use meanwhile.
NOT_YET = {
    **dict.fromkeys(("CosineSimilarity", "cosine_similarity"), "cosine_embedding on matching pairs (1 - cosine)"),
    "MultiLabelMarginLoss": "multilabel_soft_margin or asymmetric",
    "TripletMarginWithDistanceLoss": "triplet_margin, with distance='cosine' for 1 - cosine similarity",
    **dict.fromkeys(
        ("CategoricalHinge", "categorical_hinge"),
        "crammer_singer_hinge on class ids (Keras's categorical_hinge counts the true class's 0 as a rival when "
        "every score is negative)",
    ),
    **dict.fromkeys(("LovaszHingeLoss", "lovasz_hinge", "LovaszSoftmaxLoss"), "jaccard (a smooth surrogate of the IoU)"),
    **dict.fromkeys(("CTC", "CTCLoss", "ctc", "ctc_loss"), "no substitute yet"),
}
_NOT_YET = {_key(name): meanwhile for name, meanwhile in NOT_YET.items()}


def register(cls: type[Loss]) -> type[Loss]:
    """Class decorator: add a loss to the registry under its name, aliases and class name."""
    info = cls.info
    for spelling in (info.name, *info.aliases, cls.__name__):
        key = _key(spelling)
        if _NAMES.get(key, info.name) != info.name:
            raise ValueError(f"register: the name {spelling!r} of {info.name} is taken by {_NAMES[key]}.")
        _NAMES[key] = info.name
    _LOSSES[info.name] = cls
    return cls


def is_registered(loss) -> bool:
    """Whether ``loss`` is an instance of the class registered under its own name (not a user's subclass)."""
    return _LOSSES.get(loss.info.name) is type(loss)


def loss_class(name: str) -> type[Loss]:
    """The class registered under ``name`` or one of its aliases; InputError with suggestions otherwise."""
    if not isinstance(name, str):
        raise InputTypeError(f"get: expected a loss name, a config dict or a Loss; got {type(name).__name__}.")
    key = _key(name)
    if key in _NOT_YET and key not in _NAMES:  # a loss registered since wins over the note
        meanwhile = _NOT_YET[key]
        raise InputError(f"get: {name!r} is not in losskit yet; meanwhile: {meanwhile}.")
    if key not in _NAMES:
        close = difflib.get_close_matches(key, list(_NAMES), n=3, cutoff=0.6)
        names = dict.fromkeys(_NAMES[c] for c in close)
        hint = f" Did you mean {' or '.join(map(repr, names))}?" if names else ""
        raise InputError(f"get: unknown loss {name!r}.{hint} lk.list_losses() (or: losskit list) names them all.")
    return _LOSSES[_NAMES[key]]


def _twin(name: str) -> str:
    """The loss on logits that ``name`` (on probabilities) is the twin of: Keras's ``from_logits=True``."""
    info = loss_class(name).info
    if info.twin is None or info.inputs[-1].space == "logits":
        if info.inputs[-1].space == "logits":
            return info.name
        raise InputError(f"get: {info.name} has no form on logits; from_logits=True does not apply.")
    return info.twin


def get(identifier, **hyperparameters) -> Loss:
    """Return a configured loss from a name or alias, a spec string, a config dict, or a Loss.

    Names are read without case, spaces or underscores, and other libraries' names resolve too
    (PyTorch's ``MSELoss``, Keras's ``MeanSquaredError``). A config dict is ``Loss.config()``'s or
    Keras's (``{"class_name": ..., "config": {...}}``); a spec string is ``"name(key=value, ...)"``.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.get("huber", delta=2.0)
    Huber(delta=2.0, reduction='mean')
    >>> lk.get({"name": "l2", "reduction": "sum"})
    MSE(reduction='sum')
    >>> lk.get("huber(delta=2)")
    Huber(delta=2.0, reduction='mean')
    >>> lk.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True, "reduction": "sum"}})
    SigmoidCrossEntropy(pos_weight=1.0, label_smoothing=0.0, reduction='sum')
    """
    if isinstance(identifier, Loss):
        if not hyperparameters:
            return identifier
        return type(identifier)(**{**_without_name(identifier.config()), **hyperparameters})
    if isinstance(identifier, str) and ("(" in identifier or "+" in identifier):
        identifier = specs.parse(identifier)
    if isinstance(identifier, dict) and "class_name" in identifier and "name" not in identifier:
        identifier = specs.from_keras(identifier, _twin, lambda name: loss_class(name).hyperparameters())
    if isinstance(identifier, dict):
        if "name" not in identifier:
            raise InputError(f"get: a config dict needs a 'name' key; got keys {sorted(identifier)}.")
        return loss_class(identifier["name"])(**{**_without_name(identifier), **hyperparameters})
    return loss_class(identifier)(**hyperparameters)


def _without_name(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "name"}


def list_losses(task: str | None = None, tag: str | None = None) -> list[str]:
    """The registered loss names, in registration order, optionally only those of one task or tag.

    >>> import losskit as lk
    >>> lk.list_losses(task="binary")[:4]
    ['hinge', 'squared_hinge', 'binary_cross_entropy', 'sigmoid_cross_entropy']
    >>> lk.list_losses(task="regression", tag="robust")[:3]
    ['mae', 'mape', 'huber']
    """
    if task is not None and task not in TASKS:
        raise InputError(f"list_losses: task must be one of {TASKS}; got {task!r}.")
    if tag is not None and tag not in TAGS:
        raise InputError(f"list_losses: tag must be one of {tuple(TAGS)}; got {tag!r}.")
    return [
        name
        for name, cls in _LOSSES.items()
        if (task is None or cls.info.task == task) and (tag is None or tag in cls.info.tags)
    ]
