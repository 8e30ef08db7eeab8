"""The ``losskit`` command line, through Typer's CliRunner.

Expected values come from the registry and the metadata (what the commands must show), from
independent computations (NumPy for Huber's delta = 1.345 x MAD / 0.6745 and for
pos_weight = n_negative / n_positive; scikit-learn's metrics for the computed losses; the PNG header
for the picture's size), and from the library called directly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error
from typer.testing import CliRunner

import losskit as lk
from losskit import guide, plot
from losskit.cli import app
from losskit.cli_errors import cli_words

#: Colour and terminal settings off, whatever the environment running the tests says.
runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "COLUMNS": "100"})

ANSI = "\x1b["
#: The guide rounds delta and pos_weight to 3 significant digits: at most half a unit in the third digit off.
ROUNDING = 5e-3


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert ANSI not in result.output  # plain text when not a terminal
    return result


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def squeezed(text: str) -> str:
    return "".join(text.split())


def _cell(v) -> str:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


def write_csv(path, columns: dict) -> str:
    """Write columns to a CSV file, numbers at full precision (so the file holds exactly these floats)."""
    names = list(columns)
    n = len(columns[names[0]])
    rows = [",".join(names)] + [",".join(_cell(columns[c][i]) for c in names) for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def command_names() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands]


# --- help -----------------------------------------------------------------------------------------


def test_the_commands():
    assert set(command_names()) == {"list", "explain", "recommend", "plot", "compute", "tour", "lab"}


@pytest.mark.parametrize("command", [[], *([name] for name in command_names())], ids=lambda c: " ".join(c) or "losskit")
def test_help_shows_an_example(command):
    result = ok(*command, "--help")
    assert "Example" in result.stdout
    assert "Usage: losskit" in result.stdout


def examples(command: str) -> list[list[str]]:
    """The example command lines of a command's help, or of ``losskit --help`` (continued lines joined)."""
    if command == "losskit":
        epilog = app.registered_callback.epilog
    else:
        epilog = next(c for c in app.registered_commands if (c.name or c.callback.__name__) == command).epilog
    lines = epilog.replace("\\\n", " ").splitlines()
    lab = "  losskit lab"  # the lab trains: tests/test_lab.py runs it on small settings
    return [shlex.split(line)[1:] for line in lines if line.startswith("  losskit ") and not line.startswith(lab)]


# The lab's examples train full experiments; tests/test_lab.py runs each experiment on small settings.
@pytest.mark.parametrize("command", ["losskit", *(name for name in command_names() if name != "lab")])
def test_the_help_examples_run(command, tmp_path, monkeypatch):
    """Every example in the help runs as written, in a folder holding the data files they name."""
    rng = np.random.default_rng(5)
    n = 50
    write_csv(tmp_path / "train.csv", {"price": rng.lognormal(3.0, 0.5, n), "clicked": rng.integers(0, 2, n)})
    preds = {"y": rng.normal(size=n), "y_hat": rng.normal(size=n), "label": rng.integers(0, 3, n),
             "mu": rng.normal(size=n), "var": rng.uniform(0.5, 2.0, size=n)}  # fmt: skip
    write_csv(tmp_path / "preds.csv", {**preds, **{f"logit_{k}": rng.normal(size=n) for k in range(3)}})
    monkeypatch.chdir(tmp_path)
    assert examples(command)
    for args in examples(command):
        ok(*args)


def test_no_arguments_prints_the_help():
    result = invoke()
    assert "Usage" in result.output and "recommend" in result.output


def test_python_dash_m_runs_the_app():
    done = subprocess.run(
        [sys.executable, "-m", "losskit.cli", "list", "--task", "binary"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")},
    )
    assert done.returncode == 0, done.stderr
    assert set(lk.list_losses(task="binary")) <= words(done.stdout)
    assert ANSI not in done.stdout  # a pipe: no colour codes


# --- list -----------------------------------------------------------------------------------------


def test_list_shows_every_registered_loss():
    shown = words(ok("list").stdout)
    for name in lk.list_losses():
        assert name in shown, name
        assert words(lk.get(name).info.input_space) <= shown


@pytest.mark.parametrize("task", sorted({lk.get(name).info.task for name in lk.list_losses()}))
def test_list_task_filters(task):
    shown = words(ok("list", "--task", task).stdout)
    for name in lk.list_losses():
        assert (name in shown) == (lk.get(name).info.task == task), name


def test_list_tag_filters():
    shown = words(ok("list", "--tag", "robust").stdout)
    for name in lk.list_losses():
        assert (name in shown) == ("robust" in lk.get(name).info.tags), name


def test_list_json_matches_the_registry_metadata():
    rows = json.loads(ok("list", "--json").stdout)
    assert [row["name"] for row in rows] == lk.list_losses()
    for row in rows:
        loss = lk.get(row["name"])
        info = loss.info
        assert row["task"] == info.task
        assert row["input_space"] == info.input_space
        assert row["activation"] == info.activation
        assert row["properties"] == list(info.properties)
        assert row["formula"] == info.formula and row["gradient"] == info.gradient
        assert row["aliases"] == list(info.aliases)
        assert row["likelihood"] == info.likelihood
        assert row["hyperparameters"] == {p: loss.config()[p] for p in loss.hyperparameters()}


def test_list_json_task_filter():
    rows = json.loads(ok("list", "--task", "regression", "--json").stdout)
    assert [row["name"] for row in rows] == lk.list_losses(task="regression")
    assert {row["task"] for row in rows} == {"regression"}


# --- explain --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", lk.list_losses())
def test_explain_every_loss_shows_its_formula(name):
    info = lk.get(name).info
    text = ok("explain", name).stdout
    assert text.startswith(f"{name}: ")
    assert squeezed(info.formula) in squeezed(text)  # the str form wraps long formulas
    assert squeezed(info.gradient) in squeezed(text)
    assert text.strip() == str(lk.explain(name)).strip()


@pytest.mark.parametrize("name", lk.list_losses())
def test_explain_json(name):
    data = json.loads(ok("explain", name, "--json").stdout)
    info = lk.get(name).info
    assert data["name"] == name
    assert data["formula"] == info.formula and data["gradient"] == info.gradient
    assert data == json.loads(json.dumps(lk.explain(name).to_dict()))


def test_explain_takes_aliases():
    for name in lk.list_losses():
        for alias in lk.get(name).info.aliases:
            assert json.loads(ok("explain", alias, "--json").stdout)["name"] == name


# --- recommend ------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", guide.TASKS)
def test_recommend_for_each_task(task):
    expected = lk.recommend(task=task)
    text = ok("recommend", "--task", task).stdout
    assert task in words(text)
    assert f"{expected.loss}(" in text
    for metric in expected.metrics:
        assert metric in text
    data = json.loads(ok("recommend", "--task", task, "--json").stdout)
    assert data["task"] == task
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["loss"] in lk.list_losses()


@pytest.fixture
def regression_csv(tmp_path):
    """A Gaussian regression target with 5% gross outliers."""
    rng = np.random.default_rng(1)
    y = rng.normal(5.0, 2.0, 300)
    y[:15] += rng.choice([-1.0, 1.0], 15) * rng.uniform(40.0, 80.0, 15)
    rng.shuffle(y)
    path = write_csv(tmp_path / "regression.csv", {"x": rng.normal(size=300), "y": y})
    return path, y


@pytest.fixture
def binary_csv(tmp_path):
    """An imbalanced 0/1 target: 23 positives, 277 negatives."""
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(23, dtype=int), np.zeros(277, dtype=int)]
    rng.shuffle(y)
    path = write_csv(tmp_path / "binary.csv", {"x": rng.normal(size=300), "y": y})
    return path, y


def test_recommend_data_with_outliers_gives_huber_with_the_robust_delta(regression_csv):
    path, y = regression_csv
    mad = np.median(np.abs(y - np.median(y)))
    delta = 1.345 * mad / 0.6745
    data = json.loads(ok("recommend", "--data", path, "--target", "y", "--json").stdout)
    assert data["task"] == "regression"
    assert data["loss"] == "huber"
    assert data["hyperparameters"]["delta"] == pytest.approx(delta, rel=ROUNDING)
    text = ok("recommend", "--data", path, "--target", "y").stdout
    assert f"huber(delta={data['hyperparameters']['delta']!r})" in text


def test_recommend_outlier_flags_override_the_data(regression_csv, tmp_path):
    path, _ = regression_csv
    assert (
        json.loads(ok("recommend", "--data", path, "--target", "y", "--no-outliers", "--json").stdout)["loss"] == "mse"
    )
    clean = write_csv(tmp_path / "clean.csv", {"y": np.random.default_rng(3).normal(size=200)})
    assert json.loads(ok("recommend", "--data", clean, "--target", "y", "--json").stdout)["loss"] == "mse"
    assert (
        json.loads(ok("recommend", "--data", clean, "--target", "y", "--outliers", "--json").stdout)["loss"] == "huber"
    )


def test_recommend_data_imbalanced_binary_gives_pos_weight(binary_csv):
    path, y = binary_csv
    pos_weight = np.sum(y == 0) / np.sum(y == 1)
    data = json.loads(ok("recommend", "--data", path, "--target", "y", "--json").stdout)
    assert data["task"] == "binary"
    assert data["loss"] == "sigmoid_cross_entropy"
    assert data["hyperparameters"]["pos_weight"] == pytest.approx(pos_weight, rel=ROUNDING)
    text = ok("recommend", "--data", path, "--target", "y").stdout
    assert f"sigmoid_cross_entropy(pos_weight={data['hyperparameters']['pos_weight']!r})" in text
    balanced = json.loads(ok("recommend", "--data", path, "--target", "y", "--no-imbalance", "--json").stdout)
    assert balanced["hyperparameters"] == {}


def test_recommend_output_activation(binary_csv):
    path, _ = binary_csv
    args = ("recommend", "--data", path, "--target", "y", "--output-activation", "sigmoid", "--json")
    assert json.loads(ok(*args).stdout)["loss"] == "binary_cross_entropy"


def test_recommend_json_round_trips(regression_csv, binary_csv):
    for path, y in (regression_csv, binary_csv):
        text = ok("recommend", "--data", path, "--target", "y", "--json").stdout
        data = json.loads(text)
        assert json.loads(json.dumps(data)) == data
        expected = lk.recommend(y=y.astype(np.float64))  # read_csv gives float64 columns
        assert data == json.loads(json.dumps(expected.to_dict()))
        assert lk.get(data["loss"], **data["hyperparameters"]) == expected.loss_object()


def test_recommend_string_labels(tmp_path):
    path = write_csv(tmp_path / "labels.csv", {"y": ["cat", "dog", "bird", "dog", "cat", "cat"]})
    data = json.loads(ok("recommend", "--data", path, "--target", "y", "--json").stdout)
    assert data["task"] == "multiclass"


# --- plot -----------------------------------------------------------------------------------------


def png_size(path) -> tuple[int, int]:
    with open(path, "rb") as handle:
        header = handle.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def drawn(monkeypatch):
    """The figures the command saves (plot.save, spied on)."""
    figures = []
    save = plot.save

    def spy(fig, path):
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plot, "save", spy)
    return figures


def curves(axes):
    return [line for line in axes.get_lines() if not line.get_label().startswith("_")]


def test_plot_writes_a_png_of_the_asked_size(tmp_path):
    out = tmp_path / "losses.png"
    result = ok("plot", "mse", "mae", "huber", "--size", "6x4", "--dpi", "50", "-o", out)
    assert result.stdout.strip() == str(out)
    assert png_size(out) == (6 * 50, 4 * 50)


def test_plot_param_draws_one_line_per_value(tmp_path, drawn):
    out = tmp_path / "deltas.png"
    ok("plot", "pseudo_huber", "--param", "delta=0.5,1,2", "-o", out)
    assert out.stat().st_size > 0
    (fig,) = drawn
    assert len(fig.axes) == 2  # the loss and its gradient
    lines = curves(fig.axes[0])
    assert len(lines) == 3
    assert [line.get_label() for line in lines] == [f"pseudo_huber (delta={d})" for d in ("0.5", "1", "2")]
    for line, delta in zip(lines, (0.5, 1.0, 2.0)):
        values, _ = plot.curve(lk.get("pseudo_huber", delta=delta), line.get_xdata())
        np.testing.assert_allclose(line.get_ydata(), values)


def test_plot_hessian_across_alpha(tmp_path, drawn):
    ok("plot", "general_robust", "--param", "alpha=-inf,-2,0,1,2", "--hessian", "-o", tmp_path / "barron.png")
    (fig,) = drawn
    assert len(fig.axes) == 3  # the loss, its gradient and its Hessian
    assert [line.get_label() for line in curves(fig.axes[2])][0] == "general_robust (alpha=-inf)"


def test_plot_no_gradient_and_formats(tmp_path, drawn):
    for suffix in ("svg", "pdf"):
        out = tmp_path / f"losses.{suffix}"
        ok("plot", "hinge", "squared_hinge", "--no-gradient", "-o", out)
        assert out.stat().st_size > 0
    assert [len(fig.axes) for fig in drawn] == [1, 1]
    assert len(curves(drawn[0].axes[0])) == 2


def test_plot_range(tmp_path, drawn):
    ok("plot", "mse", "--range", "-10,10", "-o", tmp_path / "wide.png")
    x = curves(drawn[0].axes[0])[0].get_xdata()
    assert (x.min(), x.max()) == (-10.0, 10.0)


def test_plot_influence(tmp_path, drawn):
    ok("plot", "--influence", "-o", tmp_path / "influence.png")
    ok("plot", "huber", "pseudo_huber", "--influence", "--param", "delta=1,3", "-o", tmp_path / "huber.png")
    assert png_size(tmp_path / "huber.png")[0] > 0
    labels = [line.get_label() for line in curves(drawn[1].axes[0])]
    assert labels == ["huber (delta=1)", "huber (delta=3)", "pseudo_huber (delta=1)", "pseudo_huber (delta=3)"]
    # a parameter that one of the losses lacks is refused, as for the curves
    result = invoke("plot", "mse", "huber", "--influence", "--param", "delta=1,3", "-o", tmp_path / "x.png")
    assert result.exit_code == 2 and "mse has no parameter 'delta'" in result.stderr


# --- compute --------------------------------------------------------------------------------------


@pytest.fixture
def predictions(tmp_path):
    """Saved predictions: a regression pair, binary probabilities, and 3-class probabilities and logits."""
    rng = np.random.default_rng(4)
    n = 40
    logits = rng.normal(size=(n, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    columns = {
        "y": rng.normal(size=n),
        "y_hat": rng.normal(size=n),
        "label": rng.integers(0, 2, n),
        "p": rng.uniform(0.02, 0.98, n),
        "cls": np.r_[0, 1, 2, rng.integers(0, 3, n - 3)],
        **{f"logit_{c}": logits[:, c] for c in range(3)},
        **{f"prob_{c}": probs[:, c] for c in range(3)},
    }
    path = write_csv(tmp_path / "preds.csv", columns)
    return path, columns, logits, probs


def value(*args) -> float:
    return float(ok("compute", *args).stdout)


def test_compute_regression_matches_the_library_and_sklearn(predictions):
    path, c, _, _ = predictions
    cols = ("--data", path, "--y-true", "y", "--y-pred", "y_hat")
    mse = value("mse", *cols)
    assert mse == pytest.approx(float(lk.mse(c["y"], c["y_hat"])), rel=1e-12)
    assert mse == pytest.approx(mean_squared_error(c["y"], c["y_hat"]), rel=1e-12)
    mae = value("mae", *cols)
    assert mae == pytest.approx(float(lk.mae(c["y"], c["y_hat"])), rel=1e-12)
    assert mae == pytest.approx(mean_absolute_error(c["y"], c["y_hat"]), rel=1e-12)
    assert value("mse", *cols, "--reduction", "sum") == pytest.approx(len(c["y"]) * mse, rel=1e-12)


def test_compute_huber_param_and_reduction_none(predictions):
    path, c, _, _ = predictions
    r = np.abs(c["y_hat"] - c["y"])
    by_hand = np.where(r <= 0.5, 0.5 * r**2, 0.5 * (r - 0.25))  # Huber (1964), delta = 0.5
    args = ("huber", "--data", path, "--y-true", "y", "--y-pred", "y_hat", "--param", "delta=0.5")
    assert value(*args) == pytest.approx(by_hand.mean(), rel=1e-12)
    data = json.loads(ok("compute", *args, "--reduction", "none", "--json").stdout)
    assert data["loss"] == "huber" and data["hyperparameters"] == {"delta": 0.5} and data["reduction"] == "none"
    np.testing.assert_allclose(data["value"], by_hand, rtol=1e-12)
    np.testing.assert_allclose(data["value"], lk.huber(c["y"], c["y_hat"], delta=0.5, reduction="none"), rtol=1e-12)
    lines = ok("compute", *args, "--reduction", "none").stdout.splitlines()
    assert lines[0] == "row,loss" and len(lines) == len(r) + 1  # CSV: one line per example
    np.testing.assert_allclose([float(line.split(",")[1]) for line in lines[1:]], by_hand, rtol=1e-12)


def test_a_picture_in_a_missing_folder_creates_it(tmp_path):
    ok("plot", "mse", "-o", tmp_path / "new" / "x.png")
    assert png_size(tmp_path / "new" / "x.png")[0] > 0


def test_compute_binary_log_loss(predictions):
    path, c, _, _ = predictions
    bce = value("binary_cross_entropy", "--data", path, "--y-true", "label", "--y-pred", "p")
    assert bce == pytest.approx(log_loss(c["label"], c["p"]), rel=1e-12)
    assert bce == pytest.approx(float(lk.binary_cross_entropy(c["label"], c["p"])), rel=1e-12)


def test_compute_multiclass_from_several_columns(predictions):
    path, c, logits, probs = predictions
    expected = log_loss(c["cls"], probs, labels=[0, 1, 2])
    logit_cols = [a for k in range(3) for a in ("--y-pred", f"logit_{k}")]
    prob_cols = [a for k in range(3) for a in ("--y-pred", f"prob_{k}")]
    sparse = value("sparse_softmax_cross_entropy", "--data", path, "--y-true", "cls", *logit_cols)
    assert sparse == pytest.approx(expected, rel=1e-9)
    assert sparse == pytest.approx(float(lk.sparse_softmax_cross_entropy(c["cls"].astype(np.int64), logits)), rel=1e-12)
    probabilities = value("sparse_categorical_cross_entropy", "--data", path, "--y-true", "cls", *prob_cols)
    assert probabilities == pytest.approx(expected, rel=1e-9)


def test_compute_one_hot_targets_from_several_columns(tmp_path, predictions):
    _, c, logits, probs = predictions
    one_hot = np.eye(3)[c["cls"]]
    path = write_csv(
        tmp_path / "one_hot.csv",
        {**{f"t{k}": one_hot[:, k] for k in range(3)}, **{f"z{k}": logits[:, k] for k in range(3)}},
    )
    args = [a for k in range(3) for a in ("--y-true", f"t{k}", "--y-pred", f"z{k}")]
    result = value("softmax_cross_entropy", "--data", path, *args)
    assert result == pytest.approx(log_loss(c["cls"], probs, labels=[0, 1, 2]), rel=1e-9)


def test_compute_several_predictions_by_input_name(tmp_path):
    rng = np.random.default_rng(9)
    y, mu, var = rng.normal(size=20), rng.normal(size=20), rng.uniform(0.5, 2.0, size=20)
    path = write_csv(tmp_path / "gauss.csv", {"y": y, "mu": mu, "var": var})
    got = value("gaussian_nll", "--data", path, "--input", "y_true=y", "--input", "mean=mu", "--input", "variance=var")
    import torch

    expected = torch.nn.functional.gaussian_nll_loss(torch.tensor(mu), torch.tensor(y), torch.tensor(var))
    assert got == pytest.approx(float(expected), rel=1e-12)


def test_compute_embeddings_from_comma_separated_columns(tmp_path):
    rng = np.random.default_rng(10)
    a, p, n = (rng.normal(size=(15, 2)) for _ in range(3))
    columns = {f"{k}{j}": x[:, j] for k, x in (("a", a), ("p", p), ("n", n)) for j in range(2)}
    path = write_csv(tmp_path / "triplets.csv", columns)
    got = value("triplet_margin", "--data", path, "--input", "anchor=a0,a1", "--input", "positive=p0,p1",
                "--input", "negative=n0,n1")  # fmt: skip
    import torch

    expected = torch.nn.functional.triplet_margin_loss(torch.tensor(a), torch.tensor(p), torch.tensor(n), eps=0.0)
    assert got == pytest.approx(float(expected), rel=1e-12)


def test_recommend_quantile_uncertainty_and_counts():
    assert "pinball(quantile=0.9)" in ok("recommend", "--task", "regression", "--quantile", "0.9").stdout
    assert "gaussian_nll_log_var()" in ok("recommend", "--task", "regression", "--uncertainty").stdout
    assert "log_poisson_nll()" in ok("recommend", "--task", "count").stdout
    assert "pinball(quantile=(0.05, 0.95))" in ok("recommend", "--task", "regression", "--quantiles", "0.05,0.95").stdout


def test_user_errors_are_told_by_class_not_by_file():
    from losskit import cli_errors

    assert cli_errors.is_user_error(lk.InputError("x")) and cli_errors.is_user_error(cli_errors.CLIError("x"))
    assert cli_errors.is_user_error(FileNotFoundError("x"))
    assert not cli_errors.is_user_error(ValueError("raised by a library check? no: by a bug"))


# --- errors: one line on stderr, exit status 2, no traceback ---------------------------------------


def library_message(call) -> str:
    with pytest.raises((ValueError, TypeError)) as caught:
        call()
    return " ".join(str(caught.value).split())


@pytest.fixture
def files(tmp_path):
    good = write_csv(tmp_path / "good.csv", {"y": [1.0, 2.0, 3.0], "y_hat": [1.5, 2.0, 2.0], "name": ["a", "b", "c"]})
    bad = tmp_path / "bad.csv"
    bad.write_text("y,y_hat\n1,2\n3\n4,5\n")  # line 3 has one field
    gap = tmp_path / "gap.csv"
    gap.write_text("y,y_hat,name\n1,2,a\n,3,b\n")  # line 3 has an empty y
    return {"good": good, "bad": str(bad), "gap": str(gap), "missing": str(tmp_path / "nowhere.csv"), "dir": tmp_path}


def error_cases(f):
    cols = ("--data", f["good"], "--y-true", "y", "--y-pred", "y_hat")
    return {
        "unknown loss (explain)": (("explain", "hubr"), "Did you mean 'huber'"),
        "unknown loss (compute)": (("compute", "mean_sqared_error", *cols), "Did you mean 'mse'"),
        "unknown loss (plot)": (("plot", "pseudo_hubr", "-o", f["dir"] / "x.png"), "Did you mean 'pseudo_huber'"),
        "missing column (compute)": (
            ("compute", "mse", "--data", f["good"], "--y-true", "nope", "--y-pred", "y_hat"),
            "no column 'nope'",
        ),
        "missing column (recommend)": (("recommend", "--data", f["good"], "--target", "price"), "no column 'price'"),
        "bad parameter value": (
            ("compute", "huber", *cols, "--param", "delta=-1"),
            library_message(lambda: lk.get("huber", delta=-1)),
        ),
        "bad parameter value (plot)": (
            ("plot", "huber", "--param", "delta=0,1", "-o", f["dir"] / "x.png"),
            library_message(lambda: lk.get("huber", delta=0)),
        ),
        "parameter without =": (("compute", "huber", *cols, "--param", "nonsense"), "NAME=VALUE"),
        "parameter without = (plot)": (
            ("plot", "huber", "--param", "nonsense", "-o", f["dir"] / "x.png"),
            "NAME=VALUE",
        ),
        "unknown parameter": (("compute", "mse", *cols, "--param", "delta=1"), "mse has no parameter 'delta'"),
        "file not found (compute)": (
            ("compute", "mse", "--data", f["missing"], "--y-true", "y", "--y-pred", "y_hat"),
            "not found",
        ),
        "file not found (recommend)": (("recommend", "--data", f["missing"], "--target", "y"), "not found"),
        "malformed CSV": (
            ("compute", "mse", "--data", f["bad"], "--y-true", "y", "--y-pred", "y_hat"),
            "line 3: 1 fields",
        ),
        "malformed CSV (recommend)": (("recommend", "--data", f["bad"], "--target", "y"), "line 3: 1 fields"),
        "empty cell": (
            ("compute", "mse", "--data", f["gap"], "--y-true", "y", "--y-pred", "y_hat"),
            "line 3: column 'y' (--y-true) has an empty cell",
        ),
        "class axis out of range": (("compute", "softmax_cross_entropy", *cols, "--param", "axis=5"), "axis=5"),
        "regression on text": (
            ("recommend", "--task", "regression", "--data", f["good"], "--target", "name"),
            "regression needs numeric targets",
        ),
        "strings as predictions": (
            ("compute", "mse", "--data", f["good"], "--y-true", "y", "--y-pred", "name"),
            "y_pred must be a floating-point array",
        ),
        "probabilities out of range": (("compute", "binary_cross_entropy", *cols), "y_true must be targets in [0, 1]"),
        "bad reduction": (("compute", "mse", *cols, "--reduction", "avg"), "reduction must be one of"),
        "unknown task (list)": (("list", "--task", "retrieval"), "task must be one of"),
        "unknown task (recommend)": (("recommend", "--task", "rankings"), "task must be one of"),
        "bad activation": (
            ("recommend", "--task", "binary", "--output-activation", "swish"),
            "output_activation must be one of",
        ),
        "nothing to recommend from": (("recommend",), "give --task"),
        "data without target": (("recommend", "--data", f["good"]), "together"),
        "different plot variables": (("plot", "mse", "hinge", "-o", f["dir"] / "x.png"), "different variables"),
        "bad picture suffix": (("plot", "mse", "-o", f["dir"] / "x.jpg"), ".png"),
        "nothing to plot": (("plot", "-o", f["dir"] / "x.png"), "name at least one loss"),
        "bad size": (("plot", "mse", "--size", "big", "-o", f["dir"] / "x.png"), "--size"),
        "bad loss parameter (lab)": (
            ("lab", "--losses", "huber(delta=-1)", "--out", f["dir"] / "lab"),
            library_message(lambda: lk.get("huber", delta=-1)),
        ),
        "file not found (lab)": (("lab", "--data", f["missing"], "--target", "y", "--out", f["dir"] / "lab"), "not found"),
        "an input the loss lacks": (("compute", "gaussian_nll", *cols), "gaussian_nll has no input y_pred"),
        "a missing input": (
            ("compute", "gaussian_nll", "--data", f["good"], "--input", "y_true=y", "--input", "mean=y_hat"),
            "gaussian_nll needs the columns of variance",
        ),
        "a malformed input": (("compute", "mse", "--data", f["good"], "--input", "y_true"), "NAME=COLUMN"),
        "a bad quantile": (("recommend", "--task", "regression", "--quantile", "2"), "quantile must be in (0, 1)"),
        "bad quantiles": (("recommend", "--task", "regression", "--quantiles", "0.1,x"), "--quantiles '0.1,x': expected numbers"),
        "a curve of no variable": (("plot", "triplet_margin", "-o", f["dir"] / "x.png"), "no curve of one variable"),
        "negative size": (("plot", "mse", "--size", "-4x3", "-o", f["dir"] / "x.png"), "numbers of inches in (0, 100]"),
    }


#: The case names (the paths in them are filled in per test).
ERROR_CASES = list(error_cases({"good": "", "bad": "", "gap": "", "missing": "", "dir": Path()}))


@pytest.mark.parametrize("case", ERROR_CASES)
def test_user_errors_give_one_line_and_status_2(case, files):
    args, expected = error_cases(files)[case]
    result = invoke(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


def test_unknown_loss_message_is_the_registrys_in_cli_words(files):
    result = invoke("explain", "hubr")
    assert cli_words(library_message(lambda: lk.get("hubr"))) in result.stderr
    assert result.stderr == "error: unknown loss 'hubr'. Did you mean 'huber'? losskit list names them all.\n"


def test_a_bug_is_not_reported_as_a_user_error(monkeypatch):
    """An exception the library did not raise as a check keeps its traceback (CliRunner records it)."""

    def broken(name):
        raise ValueError("a bug, not a user error")

    monkeypatch.setattr(guide, "explain", broken)
    result = invoke("explain", "mse")
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)
    assert "error: " not in result.stderr
