"""The command line against hostile and random input: exit 0, or one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("typer")
pytest.importorskip("sklearn")

from typer.testing import CliRunner  # noqa: E402

import losskit as lk  # noqa: E402
from losskit import plot  # noqa: E402
from losskit.cli import app  # noqa: E402
from losskit.lab import runner as lab_runner  # noqa: E402

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "COLUMNS": "80"})


class ReachedTraining(Exception):
    """Raised instead of training: the lab accepted every argument."""


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *fragments):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# --- the findings, one by one ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("lsit",), "No such command 'lsit'. Did you mean 'list'? See losskit --help."),
        (("plot", "huber"), "Missing option '--output' / '-o'. See losskit plot --help."),
        (("explain",), "Missing argument 'name'"),
        (("lab", "--seeds", "1e20"), "Invalid value for '--seeds'"),
        (("lab", "--seeds", "99999999999999999999"), "seeds must be at most 1000"),
        (("lab", "--jobs", "1000000", "--seeds", "1000000000"), "seeds must be at most 1000"),
        (("tour", "--seed", "-1"), "--seed must be a whole number >= 0"),
        (("plot", "huber", "-o", "x.png", "--dpi", "inf"), "--dpi must be a number in (0, 2400]"),
        (("plot", "huber", "-o", "x.png", "--dpi", "5000"), "--dpi must be a number in (0, 2400]"),
        (("plot", "huber", "-o", "x.png", "--size", "90x90", "--dpi", "1000"), "pixels; at most 5e+07"),
        (("plot", "huber", "-o", "x.png", "--range", "1,1"), "two finite numbers with LOW < HIGH"),
        (("plot", "huber", "-o", "x.png", "--range", "-1e308,1e308"), "two finite numbers with LOW < HIGH"),
        (("plot", "huber", "-o", "."), "that is a folder; give a file name"),
        (("explain", "hubber"), "unknown loss 'hubber'. Did you mean 'huber'? losskit list names them all."),
        (("plot", "bce", "hinge", "-o", "x.png"), "different variables"),
    ],
)
def test_user_errors_are_one_line(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(invoke(*args), fragment)
    assert not line.startswith(("error: get:", "error: plot_losses:", "error: list_losses:"))


def test_help_shows_no_python_types():
    for command in ("--help", "plot --help", "compute --help", "lab --help", "list --help"):
        text = invoke(*command.split()).stdout
        assert not any(word in text for word in ("<bool>", "<list[str]>", "<str>", "<float", "<int>", "[x>=")), command
    assert "lab" in invoke("--help").stdout.split("Examples")[1] and "tour" in invoke("--help").stdout


def test_the_list_keeps_every_name_and_property_at_80_columns():
    text = invoke("list").stdout
    assert "…" not in text
    flat = " ".join(text.split())
    for name in lk.list_losses():
        assert name in text
        for tag in lk.get(name).info.properties:
            assert tag in flat


def test_task_names_are_case_insensitive():
    assert invoke("list", "--task", "Regression").stdout == invoke("list", "--task", "regression").stdout
    assert "sigmoid_cross_entropy" in invoke("recommend", "--task", "BINARY").stdout


def test_json_never_holds_infinity_or_nan(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("y_true,y_pred\n0,1e308\n1,-1e308\n")
    text = invoke("compute", "mse", "--data", path, "--y-true", "y_true", "--y-pred", "y_pred", "--json").stdout
    assert json.loads(text)["value"] is None and "Infinity" not in text


def test_compute_takes_reduction_from_its_option_only(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("y,y_hat\n0,1\n0,3\n")
    args = ("compute", "pseudo_huber", "--data", path, "--y-true", "y", "--y-pred", "y_hat")
    one_line_error(invoke(*args, "--param", "reduction=sum"), "with --reduction")
    expected = float(lk.pseudo_huber([0.0, 0.0], [1.0, 3.0], reduction="sum"))
    assert float(invoke(*args, "--reduction", "sum").stdout) == pytest.approx(expected, rel=1e-15)


def test_compute_reads_class_names_and_sample_weights(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("label,cat,dog,w\ncat,2.0,0.5,1\ndog,0.1,1.5,3\ncat,1.0,1.0,0\n")
    args = ("compute", "sparse_softmax_cross_entropy", "--data", path, "--y-true", "label",
            "--y-pred", "cat", "--y-pred", "dog", "--sample-weight", "w")  # fmt: skip
    logits = np.array([[2.0, 0.5], [0.1, 1.5], [1.0, 1.0]])
    expected = float(lk.sparse_softmax_cross_entropy([0, 1, 0], logits, sample_weight=[1, 3, 0]))
    assert float(invoke(*args).stdout) == pytest.approx(expected, rel=1e-15)
    swapped = float(lk.sparse_softmax_cross_entropy([1, 0, 1], logits, sample_weight=[1, 3, 0]))
    assert float(invoke(*args, "--classes", "dog,cat").stdout) == pytest.approx(swapped, rel=1e-15)
    one_line_error(invoke(*args, "--classes", "cat,bird"), "class names not in --classes: 'dog'")


def test_recommend_names_the_line_of_a_non_finite_target(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("y\n" + "\n".join(["1.5", "2.5", "inf", "3.0", "1e400"]) + "\n")
    one_line_error(invoke("recommend", "--data", path, "--target", "y"), "(lines 4, 6)")


def test_margins_and_logits_share_one_score_axis():
    fig = plot.plot_losses(["hinge", "squared_hinge", "sigmoid_cross_entropy"])
    assert fig.axes[0].get_xlabel().startswith("score s of a positive example")
    for line, name in zip(fig.axes[0].get_lines(), ["hinge", "squared_hinge", "sigmoid_cross_entropy"]):
        x = line.get_xdata()
        np.testing.assert_array_equal(line.get_ydata(), plot.curve(name, x)[0])
    np.testing.assert_allclose(plot.curve("sigmoid_cross_entropy", np.array([0.0]))[0], [np.log(2.0)])  # softplus(0)
    assert plot.plot_losses("huber", params={"delta": [1.0, 2.0]})._suptitle.get_text().startswith(
        "huber for several values of delta"
    )


# --- a fuzz of every command ------------------------------------------------------------------------

HOSTILE = ["", "0", "-1", "1e400", "nan", "inf", "-inf", "1e-320", "x", "'", "..", "../../etc/passwd", "a" * 300,
           "日本", "--", "-o", "1,2,3", "0x10", "__import__('os')", "huber(delta=", "2,1", "1x", "0x0"]  # fmt: skip
OPTIONS = {
    "list": ["--task", "--tag"],
    "explain": [],
    "recommend": ["--task", "--data", "--target", "--output-activation", "--quantile"],
    "plot": ["--param", "--range", "--size", "--dpi", "-o"],
    "compute": ["--data", "--y-true", "--y-pred", "--param", "--reduction", "--input", "--sample-weight", "--classes"],
    "tour": ["--seed"],
    "lab": ["--data", "--target", "--task", "--losses", "--model", "--hidden", "--optimizer", "--lr", "--batch-size",
            "--epochs", "--seeds", "--seed", "--jobs", "--outliers", "--label-noise", "--val-fraction", "--backend",
            "--out"],
}  # fmt: skip
FLAGS = {"list": ["--json"], "explain": ["--json"], "recommend": ["--json", "--uncertainty", "--outliers"],
         "plot": ["--no-gradient", "--influence"], "compute": ["--json"], "tour": ["--bogus"],
         "lab": ["--quiet", "--predictions"]}  # fmt: skip


def _files(folder):
    """Hostile data files, by name."""
    rng = np.random.default_rng(0)
    files = {
        "empty.csv": b"",
        "header.csv": b"y,y_hat\n",
        "good.csv": ("y,y_hat,a\n" + "\n".join(f"{v:.4f},{v + 0.3:.4f},{i % 3}" for i, v in enumerate(rng.normal(size=40)))).encode(),
        "bom.csv": b"\xef\xbb\xbfy,y_hat\n1,2\n3,4\n",
        "semi.csv": b"y;y_hat\n1;2\n3;4\n",
        "nul.csv": b"y,y_hat\x00\n1,2\n",
        "binary.csv": bytes(rng.integers(0, 256, 300, dtype=np.uint8)),
        "ragged.csv": b"y,y_hat\n1,2,3\n",
        "text.csv": b"y,y_hat\nn/a,1\n2,x\n",
        "inf.csv": b"y,y_hat\ninf,1\n1e400,2\n3,nan\n",
    }  # fmt: skip
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (folder / "folder.csv").mkdir()
    return [*files, "folder.csv", "missing.csv"]


def _value(rng, option, names, files):
    if option in ("--data",):
        return "good.csv" if rng.random() < 0.5 else str(rng.choice(files))
    if option in ("--y-true", "--y-pred", "--target", "--sample-weight"):
        return str(rng.choice(["y", "y_hat", "a", "nope", ""]))
    if option in ("-o", "--out"):
        return str(rng.choice(["out.png", "out.svg", "x.jpg", ".", "sub/pic.png", "folder.csv", "empty.csv"]))
    pool = HOSTILE + names if option in ("--losses", "--task", "--param", "--input") else HOSTILE
    return str(rng.choice(pool))


def test_random_and_hostile_command_lines_never_end_in_a_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lab_runner, "execute", lambda *a, **k: (_ for _ in ()).throw(ReachedTraining()))
    files = _files(tmp_path)
    rng = np.random.default_rng(20261128)
    names = ["mse", "huber", "hinge", "sparse_softmax_cross_entropy", "gaussian_nll", "dice", "nope", "delta=2",
             "reduction=none", "mean=y", "regression", "binary"]  # fmt: skip
    for _ in range(150):
        command = str(rng.choice(list(OPTIONS)))
        args = [command]
        if command in ("explain", "compute") or (command == "plot" and rng.random() < 0.8):
            args.append(str(rng.choice(names)))
        for _ in range(int(rng.integers(0, 5))):
            if OPTIONS[command] and rng.random() < 0.8:
                option = str(rng.choice(OPTIONS[command]))
                args += [option, _value(rng, option, names, files)]
            else:
                args.append(str(rng.choice(FLAGS[command])))
        if command == "compute" and rng.random() < 0.7:  # columns that exist, so that some computations run
            args += ["--data", "good.csv", "--y-true", "y", "--y-pred", "y_hat"]
        if command == "plot" and "-o" not in args:
            args += ["-o", "pic.png"]
        if command == "plot" and "--dpi" not in args:
            args += ["--dpi", "20"]  # keep the pictures small: the fuzz is about arguments
        result = invoke(*args)
        if isinstance(result.exception, ReachedTraining):
            continue
        assert result.exit_code in (0, 2), (args, result.exit_code, result.exception, result.stderr[-500:])
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)


def test_the_fuzz_reaches_every_outcome(tmp_path, monkeypatch):
    """The fuzz is not vacuous: on its seed it runs commands to success, to user errors and to the lab's training."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lab_runner, "execute", lambda *a, **k: (_ for _ in ()).throw(ReachedTraining()))
    _files(tmp_path)
    outcomes = {
        "ok": invoke("compute", "mse", "--data", "good.csv", "--y-true", "y", "--y-pred", "y_hat").exit_code,
        "error": invoke("compute", "mse", "--data", "binary.csv", "--y-true", "y", "--y-pred", "y_hat").exit_code,
    }
    training = invoke("lab", "--data", "good.csv", "--target", "y", "--epochs", "1")
    assert outcomes == {"ok": 0, "error": 2} and isinstance(training.exception, ReachedTraining)


def test_names_in_a_script_the_font_lacks_draw_without_a_warning_per_glyph(tmp_path):
    import warnings

    fig = plot.plot_losses("huber", gradient=False, title="目標 ✓ 日本語")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot.save(fig, tmp_path / "cjk.png")
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_the_tour_is_a_table_like_the_lists():
    tour, listing = invoke("tour").stdout, invoke("list").stdout
    rule = next(line.strip()[:3] for line in listing.splitlines() if line.strip().startswith("─"))
    assert any(line.strip().startswith(rule) for line in tour.splitlines())
    assert all(name in tour for name in lk.list_losses())
