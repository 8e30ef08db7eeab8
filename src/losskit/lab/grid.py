"""Experiment files: a grid of labs in one TOML file, the unit of work of ``losskit lab run FILE``.

The file's keys are the options of :func:`losskit.lab.run` (``label_noise`` or ``label-noise``). A list of values
for one of :data:`AXES` makes an axis: the grid is every combination of the axes' values, each a lab of its own
(its losses x its seeds) with its results and report in a folder of the output folder named after the values that
vary. A ``[sweep.LOSS]`` table sweeps a loss's hyperparameters (:mod:`~losskit.lab.sweeps`). Paths in the file
(``data``, ``out``) are relative to the file's folder::

    experiment = ["outliers", "counts"]
    model = ["mlp", "linear"]
    seeds = 3
    epochs = 20

    [sweep.huber]
    delta = [0.1, 0.3, 1, 3, 10]

The options of ``losskit lab`` are a shorthand for a grid of one lab: :func:`run_grid` runs both, every run of
every lab in one pool or one cluster session, each run kept under its lab's ``runs/`` as it ends.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

from . import runner
from .errors import LabError
from .files import folder_name, write_file

#: Options that take a list of values, one lab per value.
AXES = ("experiment", "model", "hidden", "optimizer", "lr", "batch_size", "epochs", "outliers", "label_noise",
        "val_fraction")  # fmt: skip
#: Options that every lab of the grid shares.
SHARED = ("losses", "sweep", "data", "target", "task", "seeds", "seed", "backend", "report", "predictions")
#: Options of the grid's execution: where and how its runs train, where its results go.
EXECUTION = ("runner", "scheduler", "jobs", "out")
OPTIONS = (*AXES, *SHARED, *EXECUTION)


def load(path) -> dict:
    """The grid of a TOML file: its options, with ``data`` and ``out`` relative to the file's folder.

    Raises
    ------
    LabError
        A file that cannot be read, is not TOML (with the line of the mistake), or names an unknown option.
    """
    tomllib = _tomllib()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise LabError(f"cannot read the experiment file {path}: {reason}.") from None
    try:
        grid = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LabError(f"{path} is not valid TOML: {error}.") from None
    grid = check(grid, source=str(path))
    for key in ("data", "out"):
        if isinstance(grid.get(key), str):
            grid[key] = path.parent / grid[key]
    return grid


def _tomllib():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        from .errors import need

        tomllib = need("tomli", "experiment files on Python 3.10")
    return tomllib


def check(grid: dict, source: str = "the grid") -> dict:
    """The grid with its option names as Python spells them; LabError for an unknown option, a list where one
    value is taken, or an empty axis."""
    if not isinstance(grid, dict):
        raise LabError(f"{source} must map the lab's options to their values; got {type(grid).__name__}.")
    checked = {}
    for key, value in grid.items():
        name = key.replace("-", "_")
        if name not in OPTIONS:
            raise LabError(f"{source}: unknown option {key!r}; the options are: {', '.join(OPTIONS)}.")
        if name in checked:
            raise LabError(f"{source}: {key!r} is given twice.")
        if isinstance(value, list) and name not in (*AXES, "losses"):
            raise LabError(f"{source}: {key} takes one value; lists of values make the axes of a grid: "
                           f"{', '.join(AXES)}.")  # fmt: skip
        if isinstance(value, list) and not value:
            raise LabError(f"{source}: {key} is an empty list; give it at least one value.")
        checked[name] = value
    return checked


def cells(grid: dict) -> list[tuple[str, dict]]:
    """Every lab of the grid: ``(name, options)``, the name made of the values of the axes that vary.

    >>> [name for name, _ in cells({"experiment": ["outliers", "counts"], "lr": [0.01, 0.1], "seeds": 2})]
    ['outliers_lr0.01', 'outliers_lr0.1', 'counts_lr0.01', 'counts_lr0.1']
    """
    axes = {key: value for key, value in grid.items() if key in AXES and isinstance(value, list)}
    fixed = {key: value for key, value in grid.items() if key not in axes}
    labs = []
    for values in itertools.product(*axes.values()):
        chosen = dict(zip(axes, values))
        parts = [str(v) if key in ("experiment", "model") else f"{key}{v}" for key, v in chosen.items() if
                 len(axes[key]) > 1]  # fmt: skip
        labs.append((folder_name("_".join(parts)) if parts else "", {**fixed, **chosen}))
    return labs


def run_grid(grid, *, progress: bool = False, console=None, **options) -> list:
    """Run every lab of a grid, all their runs together; the results in the grid's order.

    Parameters
    ----------
    grid : str, os.PathLike or dict
        A TOML experiment file, or its options as a dict.
    progress : bool
        Show progress bars (one per run, or one that counts the runs of a larger grid or of a cluster).
    console : rich.console.Console, optional
        Where the progress bars go.
    **options
        Options of :func:`losskit.lab.run` that replace the grid's (the command line's, over its file's).

    Returns
    -------
    list of LabResult
        One per lab; with ``out``, each saved into ``out`` (a grid of one lab) or ``out/<its name>``, with
        ``out/index.html`` linking them.
    """
    grid = load(grid) if isinstance(grid, (str, os.PathLike)) else check(grid)
    grid = {**grid, **check(options, source="the options")}
    execution = {key: grid.pop(key) for key in EXECUTION if key in grid}
    out = execution.pop("out", None)
    labs = cells(grid)
    plans = []
    for name, settings in labs:
        folder = None if out is None else Path(out) / name if name else Path(out)
        experiment = settings.pop("experiment", None)
        try:
            plans.append(runner.plan(experiment, **settings, **execution, out=folder))
        except LabError as error:
            raise LabError(f"{name}: {error}" if name else str(error)) from None
        plans[-1].name = name
    runner.train_plans(plans, jobs=execution.get("jobs", 1), runner=execution.get("runner", "local"),
                       scheduler=execution.get("scheduler"), progress=progress, console=console)  # fmt: skip
    results = [planned.result() for planned in plans]
    if out is not None and len(labs) > 1:  # one page over the labs, linking each one's report
        from .report import render_index

        page = render_index([(name, result) for (name, _), result in zip(labs, results)], Path(out).name)
        write_file(Path(out) / "index.html", page)
    return results
