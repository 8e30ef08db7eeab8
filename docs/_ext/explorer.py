"""A Sphinx extension: the data of the loss explorer, computed by losskit when the site builds.

For every loss with a curve of one variable (``lk.plot.curve``), its value, gradient and second derivative over
the plot variable's range, at its defaults and at each point of a grid of every numeric hyperparameter (the
others at their defaults). For every loss of the residual, the pull of each point of a small data set with
outliers on the one-parameter fit (the best constant, ``Loss.optimal_constant``): the point's negative
gradient at the fit. Written as one script per loss under ``_static/explorer/`` (pages opened from disk cannot
fetch JSON), with ``index.js`` naming them; the page loads a loss's script when it is picked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import losskit as lk
from losskit import plot, registry
from losskit.errors import InputError

#: Points of each curve along the plot variable.
POINTS = 161
#: Values of each hyperparameter's grid: its default times 10^-1 .. 10^1 (0 .. 1 for a default of 0).
GRID = 17
#: Hyperparameters that set up the computation rather than shape the loss.
NOT_SWEPT = {"reduction", "eps", "ignore_index", "axis"}
#: The one-parameter fit: 17 points of noise around 0 and 3 gross outliers.
FIT_POINTS = np.concatenate([np.random.default_rng(20261129).normal(0.0, 1.0, 17), [7.0, 8.5, 10.0]])


def setup(app):
    app.connect("build-finished", write)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def write(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        write_data(Path(app.outdir) / "_static" / "explorer")


def write_data(folder: Path) -> list[str]:
    """One script per loss with a curve, and ``index.js``; the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for name in lk.list_losses():
        data = loss_data(name)
        if data is None:
            continue
        (folder / f"{name}.js").write_text(f"window.LOSS_DATA[{json.dumps(name)}] = {_json(data)};\n", encoding="utf-8")
        index.append({"name": name, "variable": data["variable"], "label": data["label"],
                      "params": list(data["params"]), "fit": data["fit"] is not None})  # fmt: skip
    (folder / "index.js").write_text(f"window.LOSS_INDEX = {_json(index)};\n", encoding="utf-8")
    return [entry["name"] for entry in index]


def loss_data(name: str) -> dict | None:
    """A loss's curves over the grid of each hyperparameter, and its pulls; None without a curve of one variable."""
    loss = registry.get(name)
    try:
        label = plot.axis_label(loss)
        low, high = plot.default_range(loss)
    except InputError:
        return None
    x = np.linspace(low, high, POINTS)
    for hessian in (loss.info.hessian_kind is not None, False):  # the second derivative where it has one
        base = _curves(loss, x, hessian)
        if base is not None:
            break
    else:
        return None
    params = {}
    for param in loss.hyperparameters():
        default = getattr(loss, param)
        if param in NOT_SWEPT or isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        grid = _grid(float(default))
        points = [(value, _curves_at(name, {param: value}, x, hessian)) for value in grid]
        points = [(value, curves) for value, curves in points if curves is not None]
        if len(points) > 1:
            params[param] = {"default": float(default), "values": [v for v, _ in points],
                             "curves": [c for _, c in points]}  # fmt: skip
    return {"variable": loss.info.variable, "label": label, "x": x.tolist(), "hessian": hessian, "base": base,
            "params": params, "fit": _fit(name, params)}  # fmt: skip


def _grid(default: float) -> list[float]:
    if default == 0.0:
        return np.linspace(0.0, 1.0, GRID).tolist()
    return (default * np.logspace(-1.0, 1.0, GRID)).tolist()


def _curves_at(name: str, params: dict, x, hessian: bool) -> dict | None:
    try:
        return _curves(registry.get(name, **params), x, hessian)
    except InputError:  # a value outside the hyperparameter's domain (a quantile above 1)
        return None


def _curves(loss, x, hessian: bool) -> dict | None:
    try:
        arrays = plot.curve(loss, x, hessian=hessian)
    except InputError:
        return None
    return dict(zip(("value", "gradient", "hessian"), (np.asarray(a, dtype=np.float64).tolist() for a in arrays)))


def _fit(name: str, params: dict) -> dict | None:
    """For a loss of the residual: the best constant and each point's pull, at the defaults and over each grid."""
    loss = registry.get(name)
    if loss.info.variable != "residual" or len(loss.info.predictions) != 1:
        return None
    base = _pulls(name, {})
    if base is None:
        return None
    grids = {param: [_pulls(name, {param: value}) for value in grid["values"]] for param, grid in params.items()}
    return {"points": FIT_POINTS.tolist(), "outliers": [False] * 17 + [True] * 3, "base": base, "params": grids}


def _pulls(name: str, params: dict) -> dict | None:
    try:
        theta = float(np.asarray(registry.get(name, **params).optimal_constant(FIT_POINTS)))
        each = registry.get(name, **params, reduction="none")
        gradient = np.asarray(each.grad(FIT_POINTS, np.full_like(FIT_POINTS, theta)), dtype=np.float64)
    except (InputError, NotImplementedError):
        return None
    return {"theta": theta, "pull": (-gradient).tolist()}


def _json(data) -> str:
    """Compact JSON with 5 significant digits; NaN and infinities (outside a domain) as null, which charts skip."""

    def rounded(value):
        if isinstance(value, float):
            return float(f"{value:.5g}") if np.isfinite(value) else None
        if isinstance(value, dict):
            return {key: rounded(v) for key, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    return json.dumps(rounded(data), separators=(",", ":"), allow_nan=False)
