"""The lab: every experiment end to end on small settings, the files it writes, its errors, its reports.

The report's browser check needs Debian's chromium (installed by the test set-up); without it the
test is skipped, except under CI, where it must run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
typer = pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

import losskit as lk  # noqa: E402
from losskit.lab import LabError, datasets, models, register, run, train  # noqa: E402
from losskit.lab.training import RunSpec  # noqa: E402
from browser import console_messages, open_page  # noqa: E402

ROBUST = ("mae", "huber", "pseudo_huber", "log_cosh", "cauchy", "tukey_biweight", "general_robust(alpha=0.5)")


# --- shared runs (small settings) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def outliers(tmp_path_factory):
    """The default experiment on a linear model, few epochs, 3 seeds, with its files written."""
    out = tmp_path_factory.mktemp("lab") / "outliers"
    return run("outliers", model="linear", lr=0.01, epochs=12, seeds=3, out=out)


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    return run("counts", model="linear", lr=0.01, epochs=2, seeds=1, out=tmp_path_factory.mktemp("lab") / "counts")


@pytest.fixture(scope="module")
def quantiles(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "quantiles"
    return run("quantiles", model="linear", lr=0.02, epochs=15, seeds=1, out=out)


@pytest.fixture(scope="module")
def heteroscedastic(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "heteroscedastic"
    return run("heteroscedastic", model="linear", lr=0.03, epochs=10, seeds=1, out=out)


@pytest.fixture(scope="module")
def binary():
    return run("binary", epochs=3, seeds=2)


@pytest.fixture(scope="module")
def multiclass():
    return run("multiclass", epochs=3, seeds=1, label_noise=0.2)


def _check_common(result, experiment: str, epochs: int, seeds: int):
    expected = [lk.lab.candidates.label(lk.get(spec)) for spec in datasets.EXPERIMENTS[experiment].losses]
    assert list(result.losses) == expected  # every loss present, in order
    assert len(result.runs) == len(expected) * seeds
    assert result.seeds == list(range(seeds))
    keys = [m.key for m in result.metrics]
    for run_ in result.runs:
        history = run_.history
        assert history["epoch"] == list(range(epochs + 1))
        for key in ("train_cost", "val_cost", "grad_norm", "wall_time", *keys):
            assert len(history[key]) == epochs + 1
            assert all(math.isfinite(v) for v in history[key]), (run_.label, key)
        assert history["train_cost"][-1] < history["train_cost"][0], run_.label  # the cost went down
        assert all(g >= 0 for g in history["grad_norm"])
        assert history["wall_time"][0] == 0 and np.all(np.diff(history["wall_time"]) > 0)
        for metric in result.metrics:
            low, high = metric.bounds
            assert all(low <= v <= high for v in history[metric.key]), (run_.label, metric.key)
    for seed in result.seeds:  # the same initial weights for every loss of a seed
        weights = {run_.initial_weights for run_ in result.runs if run_.seed == seed}
        assert len(weights) == 1
    assert len({run_.initial_weights for run_ in result.runs}) == seeds  # and new ones per seed


# --- the three experiments ---------------------------------------------------------------------------


def test_outliers_experiment_records_every_epoch(outliers):
    _check_common(outliers, "outliers", epochs=12, seeds=3)
    for run_ in outliers.runs:
        final = run_.final
        assert final["rmse"] >= final["mae"] > 0
        assert -1 < final["r2"] <= 1
    first = outliers.data[0]
    assert first["corrupted_train_rows"] == round(0.1 * first["train_rows"])
    assert sum(first["corrupted"]) == first["corrupted_train_rows"]


def test_robust_losses_beat_mse_on_clean_mae(outliers):
    mae = {label: outliers.summary[label]["mae"]["mean"] for label in outliers.losses}
    for label in ROBUST:
        assert mae[label] < 0.85 * mae["mse"], mae
    assert outliers.best["mae"] in ROBUST
    bias = {label: outliers.summary[label]["bias"]["mean"] for label in outliers.losses}
    assert bias["mse"] > max(bias[label] for label in ROBUST) > 0  # the outliers pull mse up the most


def test_binary_experiment(binary):
    _check_common(binary, "binary", epochs=3, seeds=2)
    assert set(binary.best) == {"accuracy", "f1", "roc_auc", "log_loss"}
    assert binary.best["log_loss"] == "sigmoid_cross_entropy"  # margin losses are not ranked on log-loss
    assert binary.marked("hinge", "log_loss") == "†" and binary.marked("sigmoid_cross_entropy", "log_loss") == ""
    assert binary.summary["sigmoid_cross_entropy"]["accuracy"]["mean"] > 0.85


def test_multiclass_experiment_with_label_noise(multiclass):
    _check_common(multiclass, "multiclass", epochs=3, seeds=1)
    first = multiclass.data[0]
    assert first["corrupted_train_rows"] == round(0.2 * first["train_rows"])
    assert len(first["classes"]) == 10
    smoothed = "sparse_softmax_cross_entropy(label_smoothing=0.1)"
    assert set(multiclass.losses) == {"sparse_softmax_cross_entropy", smoothed}
    for label in multiclass.losses:
        assert multiclass.summary[label]["accuracy"]["mean"] > 0.5


def test_counts_experiment_on_statsmodels_rand_health_insurance_data(counts):
    """Doctor visits (statsmodels' randhie, read as it ships): mse against the Poisson and Tweedie likelihoods
    of a log-mean. Targets stay counts; the metrics score exp(log-mean); the report adds a calibration plot."""
    from sklearn.metrics import mean_poisson_deviance
    from statsmodels.datasets import randhie

    result = counts
    _check_common(result, "counts", epochs=2, seeds=1)
    assert [m.key for m in result.metrics] == ["poisson_deviance", "mae", "rmse"]
    first = result.data[0]
    assert first["target_center"] == 0.0 and first["target_scale"] == 1.0
    assert all(float(y).is_integer() and y >= 0 for y in first["y_val"])
    poisson = next(r for r in result.runs if r.label == "log_poisson_nll")
    assert min(poisson.outputs["val"]) > 0  # exp of a log-mean: a positive mean
    source = datasets.load_builtin(datasets.experiment("counts"))
    table = randhie.load().data
    np.testing.assert_array_equal(source.y, table["mdvis"].to_numpy())
    assert source.X.shape == (20190, 9)
    y, p = np.array([0.0, 2.0, 5.0]), np.array([-1.0, 1.5, 4.0])  # mse may predict <= 0: floored at 1e-6
    expected = mean_poisson_deviance(y, np.maximum(p, 1e-6))
    assert lk.lab.metrics.evaluate("regression", y, p, metrics="counts")["poisson_deviance"] == expected
    page = Path(result.files["report"]).read_text()
    assert "<h2>Calibration</h2>" in page and page.count('<img class="figure"') == 5


def test_quantiles_experiment_scores_each_interval(quantiles):
    """Three quantiles in one linear model (three outputs) against mse with a Gaussian interval: the
    coverage and width are those of the intervals the runs record, on every validation row."""
    result = quantiles
    _check_common(result, "quantiles", epochs=15, seeds=1)
    truth = np.asarray(result.data[0]["y_val"])
    assert len(truth) == result.data[0]["validation_rows"]  # every row is drawn
    for run_ in result.runs:
        low, high = np.asarray(run_.outputs["low"]), np.asarray(run_.outputs["high"])
        assert run_.final["coverage"] == np.mean((low <= truth) & (truth <= high))
        np.testing.assert_allclose(run_.final["width"], np.mean(high - low), rtol=1e-12)
        assert 0.6 < run_.final["coverage"] <= 1.0
    mse = next(r for r in result.runs if r.label == "mse")
    np.testing.assert_allclose(np.ptp(np.subtract(mse.outputs["high"], mse.outputs["low"])), 0.0, atol=1e-9)
    head = next(r for r in result.runs if r.label != "mse")
    assert np.all(np.asarray(head.outputs["low"]) <= np.asarray(head.outputs["val"]))  # 0.05 below the median
    assert result.best["coverage"] == min(result.losses, key=lambda l: abs(result.summary[l]["coverage"]["mean"] - 0.9))
    page = Path(result.files["report"]).read_text()
    assert "<h2>Prediction intervals</h2>" in page and "→0.9 closest to 0.9 is best" in page


def test_heteroscedastic_experiment_learns_the_spread(heteroscedastic):
    """Noise whose sd grows with x0 from 0.05 to 0.95: the Gaussian with a log-variance head follows the true
    sd and beats mse's constant interval on NLL; the NLL is the Gaussian's, recomputed with SciPy."""
    from scipy import stats

    result = heteroscedastic
    _check_common(result, "heteroscedastic", epochs=10, seeds=1)
    truth = result.data[0]
    gaussian = next(r for r in result.runs if r.label == "gaussian_nll_log_var")
    sd, mean, y = (np.asarray(v) for v in (gaussian.outputs["sd"], gaussian.outputs["val"], truth["y_val"]))
    assert np.corrcoef(sd, truth["noise_sd"])[0, 1] > 0.9
    np.testing.assert_allclose(gaussian.final["nll"], -np.mean(stats.norm.logpdf(y, mean, sd)), rtol=1e-10)
    assert gaussian.final["nll"] < result.summary["mse"]["nll"]["mean"]
    laplace = next(r for r in result.runs if r.label == "laplace_nll")
    b = np.asarray(laplace.outputs["sd"]) / np.sqrt(2)
    np.testing.assert_allclose(laplace.final["nll"], -np.mean(stats.laplace.logpdf(y, laplace.outputs["val"], b)),
                               rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(lk.lab.predictive.GAUSSIAN_Z, stats.norm.ppf(0.95), rtol=1e-12)
    np.testing.assert_allclose(lk.lab.predictive.LAPLACE_Z, stats.laplace.ppf(0.95), rtol=1e-12)


def test_quantiles_and_a_predicted_variance_train_on_the_users_data(tmp_path):
    x1, x2, y = _table(n=300, seed=3)
    path = _write_csv(tmp_path / "noisy.csv", {"a": x1, "b": x2, "y": y})
    result = run(data=path, target="y", losses="pinball(quantile=0.1),pinball(quantile=0.9),gaussian_nll_log_var",
                 model="linear", lr=0.05, epochs=25, seeds=1)  # fmt: skip
    low, high = (np.asarray(r.outputs["val"]) for r in result.runs[:2])
    truth = np.asarray(result.data[0]["y_val"])
    assert np.mean(truth < low) < 0.3 and np.mean(truth < high) > 0.7  # about 10% and 90% below
    assert result.runs[2].final["r2"] > 0.8  # the Gaussian's mean fits


def test_a_variance_output_cannot_follow_a_linear_layer():
    with pytest.raises(LabError, match=r"gaussian_nll cannot train the lab's models.*variance to be real numbers >= 0"):
        run(losses="gaussian_nll", epochs=1, seeds=1)


def test_best_is_marked_and_the_reading_names_it(binary, outliers):
    for result in (binary, outliers):
        for metric in result.metrics:
            winner = result.best[metric.key]
            ranked = lk.lab.summary.eligible(result.losses, metric)
            means = [result.summary[label][metric.key]["mean"] for label in ranked]
            expected = max(means) if metric.higher_is_better else min(means)
            assert result.summary[winner][metric.key]["mean"] == expected
            rows = {row["loss"]: row for row in result.rows()}
            cell = next(c for c in rows[winner]["cells"] if c["key"] == metric.key)
            assert cell["best"]
        text = " ".join(result.reading)
        assert f"Over {len(result.seeds)} seeds" in text
        for metric in result.metrics:
            assert metric.label in text
    from rich.console import Console

    console = Console(record=True, width=160)
    console.print(outliers.table())
    table = console.export_text()
    assert "★" in table and all(label in table for label in outliers.losses)


def test_reproducible_with_a_fixed_seed():
    from rich.console import Console

    kwargs = dict(model="mlp", epochs=2, seeds=1, seed=7)
    stream = io.StringIO()
    first = run("binary", progress=True, console=Console(file=stream, force_terminal=True, width=120), **kwargs)
    second = run("binary", **kwargs)
    assert "squared_hinge seed 7" in stream.getvalue()  # a progress bar per run
    for a, b in zip(first.runs, second.runs):
        assert a.initial_weights == b.initial_weights
        for key in a.history:
            if key != "wall_time":
                assert a.history[key] == b.history[key], key
    other = run("binary", **{**kwargs, "seed": 8})
    assert other.runs[0].initial_weights != first.runs[0].initial_weights


def test_only_the_loss_differs_between_runs():
    """Dense and sparse softmax cross-entropy are one loss: with all else equal, they train identically."""
    result = run("multiclass", losses="softmax_cross_entropy,sparse_softmax_cross_entropy", epochs=2, seeds=1)
    dense, sparse = result.runs
    assert dense.initial_weights == sparse.initial_weights
    np.testing.assert_allclose(dense.history["train_cost"], sparse.history["train_cost"], rtol=1e-5)
    np.testing.assert_allclose(dense.history["accuracy"], sparse.history["accuracy"])


def test_a_diverging_run_is_reported_not_fatal(tmp_path):
    result = run("outliers", model="linear", optimizer="sgd", lr=50.0, epochs=3, seeds=1, out=tmp_path, report=False)
    mse = result.runs_of("mse")[0]
    assert mse.diverged_at is not None and math.isnan(mse.final["mae"])
    assert len(mse.history["train_cost"]) == 4  # later epochs are NaN, not missing
    assert any("diverged" in line and "mse" in line for line in result.reading)
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["final"]["mae"] is None


# --- files ---------------------------------------------------------------------------------------------


def test_files_hold_every_number(outliers):
    files = {key: Path(path) for key, path in outliers.files.items()}
    assert set(files) == {"results", "history", "report"}
    results = json.loads(files["results"].read_text())
    assert list(results["losses"]) == list(outliers.losses)
    assert len(results["runs"]) == 24
    assert results["runs"][0]["history"]["mae"] == outliers.runs[0].history["mae"]
    assert results["summary"]["mse"]["mae"]["values"] == outliers.summary["mse"]["mae"]["values"]
    with files["history"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 * 3 * 13  # loss x seed x epoch (0 to 12)
    columns = {"loss", "seed", "epoch", "train_cost", "val_cost", "mae", "rmse", "r2", "grad_norm", "wall_time"}
    assert set(rows[0]) >= columns
    assert {row["loss"] for row in rows} == set(outliers.losses)
    page = files["report"].read_text()
    assert page.count('<img class="figure"') == 4  # learning curves, losses, outlier pull, predictions
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing to fetch
    assert "★" in page and "losskit lab outliers" in page


# --- runs as tasks, the NumPy fallback, parallel jobs --------------------------------------------------


def _spec(loss="huber", backend="torch", epochs=2):
    source = datasets.load_builtin(datasets.experiment("outliers"))
    split = datasets.make_split(source, seed=0, outliers=0.1)
    return RunSpec(index=0, loss={"name": loss}, label=loss, seed=0, data=split, model="linear", backend=backend,
                   epochs=epochs, lr=0.01)  # fmt: skip


def test_a_run_is_a_picklable_task():
    spec = _spec()
    again = pickle.loads(pickle.dumps(spec))
    a, b = train(spec), train(again)
    assert a.history["train_cost"] == b.history["train_cost"]


def test_numpy_backend_trains_linear_models_without_torch(monkeypatch):
    monkeypatch.setattr(models, "torch_available", lambda: False)
    assert models.resolve_backend("auto", "linear") == "numpy"
    with pytest.raises(LabError, match="needs PyTorch"):
        models.resolve_backend("auto", "mlp")
    regression = run("outliers", model="linear", lr=0.01, epochs=8, seeds=2)
    assert regression.settings["backend"] == "numpy"
    assert {r.backend for r in regression.runs} == {"numpy"}
    mae = {label: regression.summary[label]["mae"]["mean"] for label in regression.losses}
    assert all(mae[label] < mae["mse"] for label in ROBUST)
    for experiment in ("binary", "multiclass"):
        result = run(experiment, lr=0.01, epochs=3, seeds=1)
        assert result.settings["model"] == "linear"  # the default model without PyTorch
        for run_ in result.runs:
            assert run_.history["train_cost"][-1] < run_.history["train_cost"][0]
            assert run_.final["accuracy"] > 0.85


def test_parallel_jobs_match_serial_runs_and_report_progress():
    from rich.console import Console

    kwargs = dict(model="linear", backend="numpy", epochs=2, seeds=2)
    serial = run("binary", **kwargs)
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120)
    parallel = run("binary", jobs=2, progress=True, console=console, **kwargs)
    for a, b in zip(serial.runs, parallel.runs):
        assert (a.label, a.seed) == (b.label, b.seed)
        assert a.history["train_cost"] == b.history["train_cost"]
    shown = stream.getvalue()
    assert "hinge seed 1" in shown and "2/2" in shown


# --- your own data -------------------------------------------------------------------------------------


def _write_csv(path: Path, columns: dict) -> Path:
    names = list(columns)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*columns.values()))
    return path


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return x1, x2, 3.0 * x1 - 2.0 * x2 + rng.normal(scale=0.5, size=n)


def test_user_csv_regression_with_chosen_losses(tmp_path):
    x1, x2, y = _table()
    path = _write_csv(tmp_path / "prices.csv", {"a": x1, "b": x2, "price": y})
    result = run(data=path, target="price", epochs=4, seeds=1)
    assert result.task == "regression"  # inferred by the guide
    assert "mse" in result.losses and len(result.losses) >= 2
    for label, config in result.losses.items():
        assert lk.get(config).info.task == "regression"
    result = run(data=path, target="price", losses="mse,huber(delta=2)", epochs=2, seeds=1)
    assert list(result.losses) == ["mse", "huber(delta=2)"]


def test_user_csv_binary_with_text_labels(tmp_path):
    x1, x2, y = _table()
    labels = np.where(y > 0, "yes", "no")
    path = _write_csv(tmp_path / "clicks.csv", {"a": x1, "b": x2, "clicked": labels})
    result = run(data=path, target="clicked", model="linear", lr=0.05, epochs=10, seeds=1)
    assert result.task == "binary"
    assert "sigmoid_cross_entropy" in {lk.get(c).info.name for c in result.losses.values()}
    assert result.data[0]["classes"] == ["no", "yes"]
    assert all(r.final["accuracy"] > 0.8 for r in result.runs)


# --- the command ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer()

    @app.callback()
    def root():
        """losskit."""

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["lab", *args])


def _one_error_line(result, *fragments):
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_bad_input_is_one_clear_line_and_status_2(cli, tmp_path):
    x1, x2, y = _table(30)
    good = _write_csv(tmp_path / "good.csv", {"a": x1, "b": x2, "y": y})
    _one_error_line(cli("--losses", "hinge"), "hinge is a binary loss", "regression")
    _one_error_line(cli("binary", "--losses", "binary_cross_entropy"), "binary_cross_entropy", "linear layer")
    _one_error_line(cli("--losses", "hubr"), "unknown loss 'hubr'", "huber")
    _one_error_line(cli("--losses", "huber(delt=2)"), "no parameter 'delt'")
    _one_error_line(cli("--data", str(good), "--target", "price"), "no column 'price'", "a, b, y")
    _one_error_line(cli("--data", str(tmp_path / "missing.csv"), "--target", "y"), "not found")
    text = _write_csv(tmp_path / "text.csv", {"a": x1, "city": ["Paris"] * 30, "y": y})
    _one_error_line(cli("--data", str(text), "--target", "y"), "'city'", "not numeric")
    flat = _write_csv(tmp_path / "flat.csv", {"a": x1, "b": x2, "y": [1] * 30})
    _one_error_line(cli("--data", str(flat), "--target", "y"), "single value")
    _one_error_line(cli("nonsense"), "unknown experiment", "outliers, binary, multiclass")
    _one_error_line(cli("--model", "mlp", "--backend", "numpy"), "the numpy backend trains only the linear model")


def test_the_command_writes_the_report_and_says_where(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("binary", "--model", "linear", "--epochs", "2", "--seeds", "1", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.stdout
    assert "★" in result.stdout and "sigmoid_cross_entropy" in result.stdout
    # runs/: each run's record, kept as it ends
    assert {p.name for p in out.iterdir()} == {"results.json", "history.csv", "report.html", "runs"}


@pytest.mark.parametrize("experiment, column", [("quantiles", "90% coverage"), ("heteroscedastic", "NLL")])
def test_the_new_experiments_run_from_the_command_line(cli, tmp_path, experiment, column):
    out = tmp_path / experiment
    result = cli(experiment, "--model", "linear", "--epochs", "2", "--seeds", "1", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert column in result.stdout and (out / "report.html").is_file()


def test_help_has_an_example(cli):
    result = cli("--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and "losskit lab --data" in result.stdout


# --- the report in a real browser ------------------------------------------------------------------------

def _page_state(dom: str) -> dict:
    tag = re.search(r"<html[^>]*>", dom)
    assert tag, dom[:500]
    return dict(re.findall(r'data-(figures|rendered|errors)="(\d+)"', tag.group(0)))


@pytest.mark.parametrize("experiment", ["outliers", "counts", "quantiles", "heteroscedastic"])
def test_report_renders_in_headless_chromium(experiment, request, tmp_path):
    page = Path(request.getfixturevalue(experiment).files["report"])
    figures = page.read_text().count('<img class="figure"')
    shown = open_page(page, tmp_path, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    state = _page_state(shown.stdout)
    assert state == {"figures": str(figures), "rendered": str(figures), "errors": "0"}, state
    assert console_messages(shown.stderr) == []
    if experiment != "outliers":
        return  # one screenshot is enough to show that the page paints
    screenshot = tmp_path / "report.png"
    shot = open_page(page, tmp_path, f"--screenshot={screenshot}", "--window-size=1280,4000", "--hide-scrollbars")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000


def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The same check on a page with a script error and an image that cannot render."""
    from losskit.lab.report import _CHECK_SCRIPT

    page = tmp_path / "broken.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><script>{_CHECK_SCRIPT}</script></head><body>"
        '<img class="figure" src="data:image/svg+xml;base64,bm90IGFuIHN2Zw==">'
        "<script>undefinedFunction();</script></body></html>"
    )
    shown = open_page(page, tmp_path, "--dump-dom")
    state = _page_state(shown.stdout)
    assert state["figures"] == "1" and state["rendered"] == "0" and state["errors"] != "0"
    assert any("undefinedFunction" in line for line in console_messages(shown.stderr))


# --- imbalance, noisy labels, margins: from the command line to the browser ---------------------------------


def _command_line_run(cli, tmp_path, experiment, *extra):
    out = tmp_path / experiment
    result = cli(experiment, "--epochs", "2", "--seeds", "1", "--out", str(out), "--quiet", *extra)
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads((out / "results.json").read_text()), out / "report.html"


def _renders(page: Path, tmp_path: Path) -> str:
    """The report opens in headless Chromium with every figure drawn and no console message; its text."""
    html = page.read_text()
    figures = html.count('<img class="figure"')
    shown = open_page(page, tmp_path, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert _page_state(shown.stdout) == {"figures": str(figures), "rendered": str(figures), "errors": "0"}
    assert console_messages(shown.stderr) == []
    return html


def test_imbalanced_experiment_from_the_command_line_to_the_browser(cli, tmp_path):
    """Breast cancer cut to 5% malignant: PR AUC, balanced accuracy, Brier and ECE, calibration metrics ranked
    only among proper scoring rules, and a reliability diagram in the report."""
    stdout, results, page = _command_line_run(cli, tmp_path, "imbalanced")
    for column in ("PR AUC", "balanced accuracy", "Brier", "ECE", "sigmoid_focal", "asymmetric"):
        assert column in stdout
    data = results["data"][0]
    assert data["classes"] == ["benign", "malignant"]
    assert np.mean(datasets.rare_malignant().y == "malignant") == pytest.approx(0.05, abs=1e-3)
    assert results["best"]["brier"] == results["best"]["ece"] == "sigmoid_cross_entropy"
    html = _renders(page, tmp_path)
    assert "Calibration</h2>" in html and "reliability diagram" in html and "not ranked" in html
    assert "decision boundaries" not in html  # 30 features: no picture of the boundary


def test_noisy_labels_experiment_records_the_memorised_noise(cli, tmp_path):
    stdout, results, page = _command_line_run(cli, tmp_path, "noisy-labels", "--label-noise", "0.4")
    assert "flipped labels fitted" in stdout and "generalized_cross_entropy(q=0.7)" in stdout
    assert results["settings"]["label_noise"] == 0.4
    assert results["data"][0]["corrupted_train_rows"] == round(0.4 * results["data"][0]["train_rows"])
    for run_record in results["runs"]:
        fitted = run_record["history"]["memorised"]
        assert len(fitted) == 3 and all(0.0 <= value <= 1.0 for value in fitted)
    html = _renders(page, tmp_path)
    assert "measured on the training set" in html


def test_margins_experiment_draws_each_decision_boundary(cli, tmp_path):
    stdout, results, page = _command_line_run(cli, tmp_path, "margins", "--epochs", "10", "--predictions")
    assert results["settings"]["model"] == "linear"  # the experiment's model, not the lab's default
    assert list(results["losses"]) == ["hinge", "squared_hinge", "soft_margin", "exponential", "modified_huber",
                                       "perceptron"]  # fmt: skip
    html = _renders(page, tmp_path)
    assert "Decision boundaries</h2>" in html
    # the grid the figure contours: the linear model's scores are a plane over it
    grid = results["runs"][0]["outputs"]["grid"]
    scores = np.asarray(grid["scores"])
    assert scores.shape == (len(grid["y"]), len(grid["x"])) and scores.min() < 0 < scores.max()
    xs, ys = np.meshgrid(grid["x"], grid["y"])
    design = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=1)
    plane, *_ = np.linalg.lstsq(design, scores.ravel(), rcond=None)
    np.testing.assert_allclose(design @ plane, scores.ravel(), atol=1e-4)


def test_the_expected_calibration_error_by_hand():
    from losskit.lab.metrics import expected_calibration_error

    # bins [0.1, 0.2): y 0, p 0.1; [0.7, 0.8): y 1, p 0.7; [0.9, 1]: y 1, 1 and p 0.9, 0.95 -> (0.1 + 0.3 + 0.15) / 4
    y, p = np.array([0, 1, 1, 1]), np.array([0.1, 0.7, 0.9, 0.95])
    assert expected_calibration_error(y, p) == pytest.approx((0.1 + 0.3 + 0.15) / 4, abs=1e-15)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
