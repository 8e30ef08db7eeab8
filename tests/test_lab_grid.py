"""Experiment files (losskit.lab.grid) and sweeps (losskit.lab.sweeps): a TOML grid runs the labs that separate
runs would, and a sweep draws each metric against its hyperparameter, checked against the runs' own numbers."""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from losskit.lab import LabError, grid, run, runner, sweeps  # noqa: E402
from test_lab import _one_error_line, _renders, cli  # noqa: E402, F401  (cli: the lab command, a fixture)

FAST = dict(model="linear", backend="numpy", epochs=2, seeds=2)


def _numbers(record) -> dict:
    """A run's history without its wall time: what two equal runs share exactly."""
    return {key: values for key, values in record.history.items() if key != "wall_time"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- experiment files ---------------------------------------------------------------------------------------


def test_a_grid_file_runs_every_combination_with_the_numbers_of_separate_runs(tmp_path):
    path = _write(tmp_path / "grid.toml", """
experiment = ["outliers", "heteroscedastic"]
label-noise = 0.0
lr = [0.003, 0.03]
losses = ["mse", "huber(delta=2)"]
model = "linear"
backend = "numpy"
seeds = 2
epochs = 2
out = "results"
report = false
""")
    results = grid.run_grid(path)
    assert [r.settings["experiment"] for r in results] == ["outliers", "outliers", "heteroscedastic", "heteroscedastic"]
    names = ["outliers_lr0.003", "outliers_lr0.03", "heteroscedastic_lr0.003", "heteroscedastic_lr0.03"]
    for name, result in zip(names, results):
        folder = tmp_path / "results" / name  # relative to the file's folder
        assert Path(result.files["results"]) == folder / "results.json" and "report" not in result.files
        assert len(list((folder / "runs").glob("*.json"))) == 4
        alone = run(result.settings["experiment"], losses="mse,huber(delta=2)", lr=result.settings["lr"], **FAST)
        assert list(alone.losses) == list(result.losses) == ["mse", "huber(delta=2)"]
        for a, b in zip(alone.runs, result.runs):
            assert (a.label, a.seed) == (b.label, b.seed) and _numbers(a) == _numbers(b)
    index = (tmp_path / "results" / "index.html").read_text(encoding="utf-8")  # one page over the labs
    for name, result in zip(names, results):
        assert f'href="{name}/results.json"' in index
        assert f"MAE: {result.best['mae']} (" in index


def test_mistakes_in_a_grid_file_are_one_clear_line(tmp_path):
    cases = {
        "seeds = [1, 2]": "seeds takes one value; lists of values make the axes of a grid",
        "epoch = 3": "unknown option 'epoch'; the options are: experiment, model",
        "model = []": "model is an empty list",
        "seeds = ": "is not valid TOML",
        "experiment = 'noise'": "unknown experiment 'noise'",
    }
    for text, message in cases.items():
        with pytest.raises(LabError, match=message):
            grid.run_grid(_write(tmp_path / "bad.toml", text))
    with pytest.raises(LabError, match="cannot read the experiment file"):
        grid.run_grid(tmp_path / "missing.toml")
    every = {"experiment": ["binary", "outliers"], "losses": "hinge", **FAST, "out": tmp_path / "labs"}
    with pytest.raises(LabError, match="^outliers: hinge is a binary loss, but this is a regression task"):
        grid.run_grid(every)  # every lab is planned before any trains: nothing has trained
    assert list((tmp_path / "labs").rglob("*.json")) == []


def test_the_command_line_runs_a_grid_file_and_its_options_replace_the_files(cli, tmp_path):
    path = _write(tmp_path / "grid.toml", "experiment = ['outliers', 'binary']\nmodel = 'linear'\nbackend = 'numpy'\n"
                                          "seeds = 3\nepochs = 1\nreport = false\n")  # fmt: skip
    out = tmp_path / "out"
    result = cli("run", str(path), "--seeds", "1", "--epochs", "2", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("outliers", "binary"):
        assert f"results: {out / name / 'results.json'}  (with history.csv)" in result.stdout
        settings = json.loads((out / name / "results.json").read_text())["settings"]
        assert (settings["seeds"], settings["epochs"], settings["model"]) == ([0], 2, "linear")
    assert f"the labs: {out / 'index.html'}" in result.stdout
    _renders(out / "index.html", tmp_path)  # opens in Chromium without an error
    _one_error_line(cli("run"), "losskit lab run takes one experiment file")
    _one_error_line(cli("run", str(tmp_path / "nothing.toml")), "cannot read the experiment file")
    _one_error_line(cli("outliers", "extra"), "unexpected argument 'extra'")
    _one_error_line(cli("outliers", "--param", "delta=1"), "--param goes with a sweep")


# --- sweeps -------------------------------------------------------------------------------------------------


def test_a_sweep_compares_one_loss_per_value_beside_the_named_losses():
    result = run(sweep={"huber": {"delta": [0.3, 1, 3]}, "cauchy": {"scale": [0.5, 2]}}, losses="mse", **FAST)
    assert result.settings["experiment"] == "outliers"  # the experiment that compares huber and cauchy
    assert list(result.losses) == ["mse", "huber(delta=0.3)", "huber", "huber(delta=3)", "cauchy(scale=0.5)",
                                   "cauchy(scale=2)"]  # fmt: skip
    assert result.losses["huber"]["delta"] == 1 and len(result.runs) == 6 * 2
    assert result.settings["sweep"] == {"huber": {"delta": [0.3, 1, 3]}, "cauchy": {"scale": [0.5, 2]}}
    both = run(sweep={"general_robust": {"alpha": [0, 2], "scale": [0.5, 2]}}, **{**FAST, "seeds": 1})
    assert [(c["alpha"], c["scale"]) for c in both.losses.values()] == [(0, 0.5), (0, 2), (2, 0.5), (2, 2)]


def test_sweep_mistakes_are_one_clear_line():
    cases = [
        ({"huber": {"delta": [1, 1]}}, "huber delta=1 is given twice"),
        ({"huber": {"scale": [1]}}, "huber has no parameter 'scale'; its parameters are: delta"),
        ({"nope": {"delta": [1]}}, "sweep: unknown loss 'nope'"),
        ({"huber": {"delta": []}}, "huber delta has no values"),
        ({"huber": {"delta": [-1]}}, "delta"),
        ({"sigmoid_focal": {"gamma": [1, 2]}}, "sigmoid_focal is a binary loss, but this is a regression task"),
    ]
    for sweep, message in cases:
        with pytest.raises(LabError, match=message):
            run("outliers", sweep=sweep, **FAST)
    with pytest.raises(LabError, match="huber and pseudo_huber have no parameter 'scale'"):
        sweeps.from_options(["huber,pseudo_huber"], {"scale": [1]})
    with pytest.raises(LabError, match="cauchy is not one of the swept losses"):
        sweeps.from_options(["huber"], {"cauchy.scale": [1]})
    with pytest.raises(LabError, match="no --param names a hyperparameter of cauchy"):
        sweeps.from_options(["huber", "cauchy"], {"huber.delta": [1]})
    assert sweeps.from_options(["huber", "cauchy"], {"huber.delta": [1, 2], "scale": [3]}) == {
        "huber": {"delta": [1, 2]}, "cauchy": {"scale": [3]}}  # fmt: skip


def test_the_sweep_figure_draws_each_seeds_mean_and_spread():
    from losskit.lab import figures

    result = run(sweep={"huber": {"delta": [0.1, 1, 10]}}, losses="mse,cauchy", **{**FAST, "seeds": 3})
    fig = figures.sweep(result)
    axes = fig.axes
    assert len(axes) == len(result.metrics) == 3
    for ax, metric in zip(axes, result.metrics):
        line = ax.lines[0]
        assert list(line.get_xdata()) == [0.1, 1, 10] and ax.get_xscale() == "log"
        finals = np.asarray([[run.final[metric.key] for run in result.runs_of(label)]
                             for label in ("huber(delta=0.1)", "huber", "huber(delta=10)")])  # fmt: skip
        np.testing.assert_allclose(line.get_ydata(), finals.mean(axis=1), rtol=1e-12)
        band = ax.collections[0].get_paths()[0].vertices[:, 1]
        assert band.min() == pytest.approx(finals.min()) and band.max() == pytest.approx(finals.max())
        levels = {line.get_label(): line.get_ydata()[0] for line in ax.lines[1:]}  # the compared losses
        for label in ("mse", "cauchy"):
            assert levels[label] == pytest.approx(np.mean([run.final[metric.key] for run in result.runs_of(label)]))
    assert figures.sweep(run("outliers", losses="mse", **FAST)) is None


def test_a_sweep_from_the_command_line_to_the_browser(cli, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "huber", "--param", "delta=0.3,1,3", "--losses", "mse", "--model", "linear", "--backend",
            "numpy", "--epochs", "2", "--seeds", "2", "--out", str(out), "--quiet"]  # fmt: skip
    result = cli(*args)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert list(results["losses"]) == ["mse", "huber(delta=0.3)", "huber", "huber(delta=3)"]
    page = _renders(out / "report.html", tmp_path)
    assert "<h2>Sweep</h2>" in page and 'alt="sweep"' in page
    repeated = shlex.split(html.unescape(re.search(r"<pre>(.*?)</pre>", page).group(1)))  # it repeats the sweep
    assert repeated[:6] == ["losskit", "lab", "sweep", "huber", "--param", "huber.delta=0.3,1,3"]
    again = cli(*repeated[2:], "--out", str(tmp_path / "again"), "--quiet")
    assert again.exit_code == 0, again.output
    rerun = json.loads((tmp_path / "again" / "results.json").read_text())
    assert rerun["losses"] == results["losses"] and rerun["summary"] == {
        label: {**cells, "wall_time": rerun["summary"][label]["wall_time"]} for label, cells in
        results["summary"].items()}  # fmt: skip
    _one_error_line(cli("sweep", "huber"), "give the values to sweep with --param")
    _one_error_line(cli("sweep", "--param", "delta=1"), "name the losses to sweep")
    _one_error_line(cli("sweep", "huber", "--param", "delta"), "--param 'delta': expected NAME=VALUE")


def test_a_sweep_without_an_experiment_runs_on_one_that_fits():
    assert sweeps.default_experiment({"huber": {"delta": [1]}}) == "outliers"
    assert sweeps.default_experiment({"hinge": {"reduction": ["sum"]}}) == "binary"
    assert sweeps.default_experiment({"sigmoid_focal": {"gamma": [1]}}) == "imbalanced"
    assert sweeps.default_experiment({"log_tweedie_deviance": {"power": [1.2]}}) == "counts"
    assert sweeps.default_experiment({"mse": {"reduction": ["sum"]}, "log_cosh": {"reduction": ["sum"]}}) == "outliers"


def test_a_grid_of_many_runs_shows_one_bar_of_runs_done_and_running(monkeypatch):
    import io

    from rich.console import Console

    seen = []
    monkeypatch.setattr(runner, "BARS_PER_RUN", 3)
    real = runner._Tally.advance
    monkeypatch.setattr(runner._Tally, "advance", lambda self, i, e: seen.append((i, len(self.running))) or
                        real(self, i, e))  # fmt: skip
    stream = io.StringIO()
    run("outliers", losses="mse,huber", progress=True, console=Console(file=stream, force_terminal=True, width=100),
        **FAST)  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue())  # without the terminal's colours
    assert "0/4 done" in text and "4/4 done, 0 running" in text
    starts = [i for i, _ in seen]
    assert sorted(set(starts)) == [0, 1, 2, 3]
