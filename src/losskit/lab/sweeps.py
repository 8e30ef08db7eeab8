"""Sweeps: one run per value of a loss's hyperparameter, and per seed, drawn against the value.

A sweep is ``{loss: {hyperparameter: [values]}}``: ``{"huber": {"delta": [0.1, 1, 10]}}`` compares
``huber(delta=0.1)``, ``huber(delta=1)`` and ``huber(delta=10)``; several hyperparameters of one loss make every
combination of their values, and several losses are swept side by side. The report draws every metric against
each swept hyperparameter, the mean over seeds with the band of the seeds' spread (``figures.sweep``).

>>> check({"Huber": {"delta": [1, 0.1]}})
{'huber': {'delta': [1, 0.1]}}
>>> losses({"huber": {"delta": [0.1, 1]}, "cauchy": {"scale": [2]}})
[{'name': 'huber', 'delta': 0.1}, {'name': 'huber', 'delta': 1}, {'name': 'cauchy', 'scale': 2}]
"""

from __future__ import annotations

import itertools

from .. import registry
from ..errors import InputError
from .errors import LabError


def check(sweep) -> dict[str, dict[str, list]]:
    """The sweep with the registry's loss names and a list of values per hyperparameter (a TOML or JSON array
    inside them read as a tuple, ``quantile = [[0.1, 0.9]]``); LabError for an unknown loss or hyperparameter,
    a hyperparameter without values, or a value given twice."""
    if not sweep:
        return {}
    if not isinstance(sweep, dict):
        raise LabError(f"sweep must map losses to their hyperparameters' values, such as "
                       f"{{'huber': {{'delta': [0.1, 1, 10]}}}}; got {sweep!r}.")  # fmt: skip
    checked: dict[str, dict[str, list]] = {}
    for name, params in sweep.items():
        try:
            cls = registry.loss_class(name)
        except InputError as error:
            raise LabError(f"sweep: {str(error).removeprefix('get: ')}") from None
        known = cls.hyperparameters()
        if not isinstance(params, dict) or not params:
            raise LabError(f"sweep {name}: give its hyperparameters' values, such as {{'{known[0]}': [...]}}"
                           if known else f"sweep {name}: {cls.info.name} has no hyperparameter to sweep.")
        loss = checked.setdefault(cls.info.name, {})
        for param, values in params.items():
            if param not in known:
                raise LabError(f"sweep: {cls.info.name} has no parameter {param!r}; its parameters are: "
                               f"{', '.join(known)}.")  # fmt: skip
            values = [_value(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
            if not values:
                raise LabError(f"sweep: {cls.info.name} {param} has no values.")
            repeated = [v for i, v in enumerate(values) if v in values[:i]]
            if repeated:
                raise LabError(f"sweep: {cls.info.name} {param}={repeated[0]!r} is given twice.")
            loss[param] = values
    return checked


def _value(value):
    return tuple(_value(v) for v in value) if isinstance(value, (list, tuple)) else value


def losses(sweep: dict) -> list[dict]:
    """The config of every swept loss: one per combination of its hyperparameters' values, in the order given."""
    configs = []
    for name, params in sweep.items():
        for values in itertools.product(*params.values()):
            configs.append({"name": name, **dict(zip(params, values))})
    return configs


def from_options(names, params: dict[str, list]) -> dict[str, dict[str, list]]:
    """The sweep of ``losskit lab sweep LOSS... --param NAME=V1,V2``: ``NAME`` is swept for every named loss that
    has it, ``LOSS.NAME`` for that loss only.

    >>> from_options(["huber", "pseudo_huber"], {"delta": [0.5, 2]})
    {'huber': {'delta': [0.5, 2]}, 'pseudo_huber': {'delta': [0.5, 2]}}
    """
    names = [part.strip() for name in names for part in name.split(",") if part.strip()]
    if not names:
        raise LabError("losskit lab sweep: name the losses to sweep, such as: losskit lab sweep huber "
                       "--param delta=0.1,1,10")  # fmt: skip
    if not params:
        raise LabError("losskit lab sweep: give the values to sweep with --param NAME=V1,V2,... "
                       "(e.g. --param delta=0.1,1,10).")  # fmt: skip
    sweep: dict[str, dict[str, list]] = {name: {} for name in names}
    for key, values in params.items():
        loss, _, param = key.rpartition(".")
        targets = [loss] if loss else names
        if loss and loss not in sweep:
            raise LabError(f"--param {key}: {loss} is not one of the swept losses ({', '.join(names)}).")
        having = [name for name in targets if param in _hyperparameters(name)]
        if not having:
            raise LabError(f"--param {key}: {' and '.join(targets)} ha{'s' if len(targets) == 1 else 've'} no "
                           f"parameter {param!r}; {_parameters_words(targets)}.")  # fmt: skip
        for name in having:
            sweep[name][param] = values
    unswept = [name for name, swept in sweep.items() if not swept]
    if unswept:
        raise LabError(f"losskit lab sweep: no --param names a hyperparameter of {unswept[0]}; "
                       f"{_parameters_words(unswept[:1])}.")  # fmt: skip
    return check(sweep)


def _hyperparameters(name: str) -> tuple:
    try:
        return registry.loss_class(name).hyperparameters()
    except InputError as error:
        raise LabError(str(error).removeprefix("get: ")) from None


def _parameters_words(names) -> str:
    return "; ".join(f"{name}'s parameters are: {', '.join(_hyperparameters(name)) or 'none'}" for name in names)


def default_experiment(sweep: dict) -> str:
    """The built-in experiment a sweep runs on when none is named: the first that compares every swept loss,
    else the first whose task they all fit.

    >>> default_experiment({"huber": {"delta": [1]}}), default_experiment({"tversky": {"alpha": [0.3]}})
    ('outliers', 'segmentation')
    """
    from . import candidates
    from .datasets import EXPERIMENTS

    swept = candidates.parse(losses(sweep))
    for name, exp in EXPERIMENTS.items():
        if set(sweep) <= {loss.info.name for loss in candidates.parse(list(exp.losses))}:
            return name
    for name, exp in EXPERIMENTS.items():
        try:
            candidates.check(swept, exp.task)
        except LabError:
            continue
        return name
    raise LabError(f"no built-in experiment trains {' and '.join(sweep)}; give --data FILE.csv --target COLUMN.")
