"""The lab: train the same model with different losses and compare their learning and their results.

>>> import losskit as lk
>>> result = lk.lab.run("binary", model="linear", epochs=2, seeds=1)   # doctest: +SKIP
>>> result.best["accuracy"]                                            # doctest: +SKIP
'sigmoid_cross_entropy'

``lk.lab.run`` (or ``losskit lab`` on the command line) trains one model per candidate loss with
everything else equal: the data split, the initial weights, the optimiser and its settings, the
mini-batch order and the seeds. Every epoch it records the training and validation cost, the task
metrics on a clean validation set (computed by scikit-learn), the gradient norm and the wall time,
and it can write results.json, history.csv and a self-contained report.html.

Modules, one idea each:

- :mod:`~losskit.lab.datasets`: built-in experiments, the user's CSV file, one seed's split;
- :mod:`~losskit.lab.candidates`: which losses to compare, parsed and checked against the task;
- :mod:`~losskit.lab.models`: PyTorch models, the NumPy fallback and gradient-boosted trees;
- :mod:`~losskit.lab.training`: one run (a picklable :class:`RunSpec`) and what it records;
- :mod:`~losskit.lab.metrics`: the task metrics;
- :mod:`~losskit.lab.runner`: :func:`run`, the grid and its (parallel) execution;
- :mod:`~losskit.lab.grid`: :func:`run_grid`, experiment files: a grid of labs in TOML;
- :mod:`~losskit.lab.sweeps`: one loss per value of its hyperparameters, drawn against the value;
- :mod:`~losskit.lab.clusters`: the grid on a Dask or Ray cluster, through joblib's backends;
- :mod:`~losskit.lab.finished`: each run's record kept as it ends, so that a grid resumes;
- :mod:`~losskit.lab.summary`: mean and spread over seeds, the best per metric, the written reading;
- :mod:`~losskit.lab.result`: :class:`LabResult`, its table and its files;
- :mod:`~losskit.lab.figures`, :mod:`~losskit.lab.report`: the report's figures and page;
- :mod:`~losskit.lab.command`: :func:`register`, the ``lab`` command of a Typer app.
"""

from __future__ import annotations

from .datasets import EXPERIMENTS, TASKS
from .errors import LabError
from .metrics import METRICS
from .result import LabResult
from .grid import run_grid
from .runner import execute, run
from .training import RunRecord, RunSpec, train

__all__ = [
    "run", "run_grid", "register", "LabError", "LabResult", "RunSpec", "RunRecord", "train", "execute",
    "EXPERIMENTS", "METRICS", "TASKS",
]  # fmt: skip


def register(app) -> None:
    """Add the ``lab`` command to a Typer app (see :func:`losskit.lab.command.register`).

    >>> import typer
    >>> app = typer.Typer()
    >>> register(app)
    """
    from .command import register as add_command

    add_command(app)
