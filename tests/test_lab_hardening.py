"""The lab under odd data, hostile paths and unbounded options: one clear error up front, or a bounded, honest answer."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
typer = pytest.importorskip("typer")

from rich.console import Console  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from losskit.lab import LabError, register, run, runner  # noqa: E402
from losskit.lab import summary as lab_summary  # noqa: E402
from losskit.lab.command import default_out  # noqa: E402
from losskit.lab.metrics import evaluate  # noqa: E402


def _csv(path: Path, columns: dict, raw: dict | None = None) -> Path:
    """Write columns of numbers; ``raw`` replaces single cells by text: ``{(column, row): text}``."""
    names = list(columns)
    rows = [[repr(float(v)) for v in values] for values in zip(*columns.values())]
    for (name, row), text in (raw or {}).items():
        rows[row][names.index(name)] = text
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(rows)
    return path


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return {"a": x1, "b": x2, "y": 3.0 * x1 - 2.0 * x2 + rng.normal(scale=0.5, size=n)}


@pytest.fixture
def trained(monkeypatch):
    """Fails a test that reaches training: the errors must come before it."""
    calls = []
    monkeypatch.setattr(runner, "execute", lambda *a, **k: calls.append(1) or pytest.fail("training started"))
    return calls


# --- data: one clear error up front ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("inf", "y", r"target column 'y' of .* has 1 empty, NaN or infinite cell \(lines 8\)"),
        ("1e400", "y", r"target column 'y' of .* has 1 empty, NaN or infinite cell \(lines 8\)"),
        ("inf", "b", r"feature column 'b' of .* has 1 empty, NaN or infinite cell \(lines 8\)"),
        ("", "b", r"feature column 'b' of .* has 1 empty, NaN or infinite cell \(lines 8\)"),
    ],
)
def test_non_finite_cells_are_refused_before_training(tmp_path, trained, cell, column, message):
    path = _csv(tmp_path / "d.csv", _data(), {(column, 6): cell})
    with pytest.raises(LabError, match=message):
        run(data=path, target="y", seeds=1, epochs=1)


def test_arrays_and_data_frames_train_like_a_csv_file():
    table = _data()
    X, y = np.column_stack([table["a"], table["b"]]), table["y"]
    result = run(X, y, model="linear", epochs=3, seeds=1)
    assert result.task == "regression" and result.source["features"] == ["x0", "x1"]

    class Frame:  # what a pandas DataFrame offers the lab: columns and to_numpy()
        columns = ["size", "age"]

        def to_numpy(self):
            return X

    assert run(Frame(), y, model="linear", epochs=3, seeds=1).source["features"] == ["size", "age"]
    with pytest.raises(LabError, match="run\\(X, y\\)"):
        run(X, model="linear")


def test_counts_train_as_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    counts = rng.poisson(np.exp(1.0 + 0.5 * X[:, 0]))
    assert run(X, counts, model="linear", epochs=2, seeds=1).task == "regression"


# --- paths -------------------------------------------------------------------------------------------


def test_names_from_the_data_file_stay_inside_the_lab_folder():
    assert default_out("...") == Path("losskit-lab/data")
    assert default_out("..").resolve().parent == Path("losskit-lab").resolve()
    assert default_out("a/../../b").parent == Path("losskit-lab")


def test_a_link_in_the_output_folder_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").symlink_to(victim)
    (out / "history.csv").symlink_to(victim)
    run("outliers", model="linear", epochs=1, seeds=1, out=out, report=False)  # report.html is written the same way
    assert victim.read_text() == "keep me"
    assert not (out / "results.json").is_symlink() and (out / "results.json").read_text().startswith("{")


def test_dot_dot_in_an_explicit_out_is_the_users_choice(tmp_path):
    (tmp_path / "sub").mkdir()
    run("outliers", model="linear", epochs=1, seeds=1, out=tmp_path / "sub" / ".." / "chosen", report=False)
    assert (tmp_path / "chosen" / "results.json").is_file()


def test_an_output_path_that_cannot_be_written_fails_before_training(tmp_path, trained):
    existing = tmp_path / "existing.txt"
    existing.write_text("a file")
    with pytest.raises(LabError, match="is a file; give a folder"):
        run("outliers", model="linear", epochs=1, seeds=1, out=existing)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: nothing to check here
            pytest.skip("running as root")
        with pytest.raises(LabError, match="cannot (write into|create)"):
            run("outliers", model="linear", epochs=1, seeds=1, out=locked / "out")
    finally:
        locked.chmod(0o700)
    assert not trained


# --- bounded resources -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"), [("seeds", 10**9), ("seeds", 10**20), ("hidden", 10**8)]
)  # fmt: skip
def test_options_beyond_their_bound_are_refused_before_anything_is_built(trained, option, value):
    with pytest.raises(LabError, match=f"{option} must be at most"):
        run("outliers", **{option: value})


def test_workers_never_outnumber_runs_or_cores():
    cores = os.cpu_count() or 1
    assert runner.workers(64, 3) == 3
    assert runner.workers(99999, 10**6) == runner.JOBS_PER_CORE * cores
    assert runner.workers(-1, 100) == min(cores, 100)


def test_a_large_data_set_gives_a_small_report(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20_000, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_t(3, size=20_000)
    result = run(X, y, losses="mse,huber", model="linear", epochs=1, seeds=1, out=tmp_path, backend="numpy")
    report = (tmp_path / "report.html").read_text()
    assert (tmp_path / "report.html").stat().st_size < 5_000_000
    assert "2,000 of 6,000 validation rows drawn at random" in report
    saved = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.json").stat().st_size < 200_000
    assert "y_val" not in saved["data"][0] and saved["runs"][0]["outputs"] == {}
    result.save(tmp_path / "with", predictions=True, report=False)
    saved = json.loads((tmp_path / "with" / "results.json").read_text())
    assert len(saved["data"][0]["y_val"]) == len(saved["runs"][0]["outputs"]["val"]) == 2000


# --- honest readings ----------------------------------------------------------------------------------


def test_the_headline_counts_only_wins_beyond_the_spread():
    result = run("binary", model="linear", epochs=2, seeds=2)
    metric_lines = result.reading[1 : 1 + len(result.metrics)]
    clear = [line for line in metric_lines if "more than the seed-to-seed spread" in line]
    if clear:
        assert "is clearly best" in result.reading[0]
    else:
        assert "no loss is clearly best" in result.reading[0]


def test_unconverged_training_small_validation_sets_and_units_are_said(tmp_path):
    path = _csv(tmp_path / "small.csv", _data(n=40))
    result = run(data=path, target="y", losses="mse,huber", model="linear", epochs=3, seeds=1)
    text = " ".join(result.reading)
    assert "still falling at the last epoch" in text and "raise --epochs" in text
    assert "Only 12 validation rows" in text
    assert "delta are in robust standard deviations of the training targets" in text
    assert "One seed gives no spread" in result.reading[0]


def test_user_data_is_not_called_corrupted_or_clean(tmp_path):
    path = _csv(tmp_path / "plain.csv", _data())
    run(data=path, target="y", losses="mse,mae", model="linear", epochs=2, seeds=1, out=tmp_path / "out")
    report = (tmp_path / "out" / "report.html").read_text()
    assert "corrupt" not in report.lower() and "clean validation" not in report


def test_one_seed_shows_no_spread_and_the_table_keeps_every_number_at_80_columns(tmp_path):
    result = run("outliers", model="linear", epochs=2, seeds=1)
    console = Console(width=80, record=True, file=open(os.devnull, "w"))
    console.print(result.table())
    text = console.export_text()
    assert "±" not in text
    for row in result.rows():
        for cell in row["cells"]:
            assert lab_summary.fmt(cell["mean"]) in text.replace("\n", "")
    wide = run("binary", model="linear", epochs=1, seeds=2).table()
    console = Console(width=80, record=True, file=open(os.devnull, "w"))
    console.print(wide)
    assert "…" not in console.export_text()


def test_a_diverging_binary_run_is_explained_not_a_traceback(tmp_path):
    result = run("binary", model="linear", lr=10.0, optimizer="sgd", epochs=3, seeds=1, out=tmp_path)
    assert any("Training diverged" in line for line in result.reading)
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_metrics_hold_at_any_scale_of_the_target(scale):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y, prediction = np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.5, 2.0, 2.5, 4.0])
    got = evaluate("regression", y * scale, prediction * scale)
    assert got["r2"] == pytest.approx(r2_score(y, prediction))  # no underflow to a "perfect" 1
    assert got["mae"] == pytest.approx(mean_absolute_error(y, prediction) * scale)
    assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, prediction)) * scale)


def test_the_cli_refuses_a_seed_count_it_cannot_parse_in_one_line():
    app = typer.Typer()

    @app.callback()
    def root():
        """losskit."""

    register(app)
    result = CliRunner().invoke(app, ["lab", "--seeds", "1000000000"])
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: seeds must be at most")
