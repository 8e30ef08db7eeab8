"""The ``losskit`` command line: thin commands over the registry, the metadata and the guide.

Every fact printed here comes from the library (``lk.list_losses``, each loss's ``info``,
``lk.explain``, ``lk.recommend``, ``losskit.data``, ``losskit.plot``); no loss is named in this module.

User errors (an unknown loss, a missing file or column, a bad parameter, inputs the library refuses)
print one line on stderr and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from . import __version__, data, guide, registry
from ._json import dumps
from .cli_errors import CLIError, CommandGroup, parse_params, user_errors
from .lab import command as lab_command
from ._info import TAGS, TASKS

app = typer.Typer(
    name="losskit",
    cls=CommandGroup,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- small helpers -----------------------------------------------------------------------------------


#: Width of tables and text written to a pipe or a file when COLUMNS does not say otherwise.
PLAIN_WIDTH = 100
#: Narrower than this, ``losskit list`` puts everything but the name in one column.
WIDE_LIST = 100
#: Bounds of a picture: inches per side, dots per inch, and pixels in all (about 200 MB of RGBA).
MAX_INCHES, MAX_DPI, MAX_PIXELS = 100.0, 2400.0, 5e7


def _stdout() -> Console:
    """A console on the current stdout: coloured on a terminal; plain text, PLAIN_WIDTH wide, otherwise."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PLAIN_WIDTH
    return console


def _print_json(value) -> None:
    typer.echo(dumps(value))


def _check_hyperparameters(name: str, params: dict) -> None:
    """Name the loss's own parameters when an option names one it does not have."""
    cls = registry.loss_class(name)
    known = cls.hyperparameters()
    for key in params:
        if key not in known:
            raise CLIError(f"{cls.info.name} has no parameter {key!r}; its parameters are: {', '.join(known)}.")


def _info_row(name: str) -> dict:
    """Everything the registry knows about one loss, as plain data."""
    loss = registry.get(name)
    info = loss.info
    return {
        **info.to_dict(),
        "properties": list(info.properties),
        "hyperparameters": {p: loss.config()[p] for p in loss.hyperparameters()},
    }


# --- the app -----------------------------------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losskit {__version__}")
        raise typer.Exit()


@app.callback(
    epilog=(
        "Examples:\n"
        "  losskit lab --data train.csv --target price\n"
        "  losskit list --task binary\n"
        "  losskit explain huber\n"
        "  losskit recommend --data train.csv --target price\n"
        "  losskit plot mse mae huber -o regression.png\n"
        "  losskit compute mse --data preds.csv --y-true y --y-pred y_hat\n"
        "  losskit tour\n\n"
        "losskit COMMAND --help shows each command's options and examples."
    )
)
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Loss functions of deep learning: compare them on your data (lab), list, explain, recommend, plot and
    compute them, or take a tour of them all."""


# --- list --------------------------------------------------------------------------------------------


@app.command("list", epilog="Examples:\n  losskit list\n  losskit list --task regression --json\n  losskit list --tag robust")
@user_errors
def list_command(
    task: Annotated[
        str | None, typer.Option("--task", "-t", help=f"Only the losses of one task: {', '.join(TASKS)}.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", help=f"Only the losses with a property: {', '.join(TAGS)}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of objects (all the metadata).")] = False,
) -> None:
    """List the registered losses: task, what the predictions hold, the output activation, properties."""
    task, tag = (None if x is None else x.strip().lower() for x in (task, tag))
    names = registry.list_losses(task=task, tag=tag)
    if as_json:
        _print_json([_info_row(name) for name in names])
        return
    chosen = ", ".join(x for x in (task, tag) if x)
    title = f"losskit losses{f' ({chosen})' if chosen else ''}: losskit explain NAME for the formulas"
    console = _stdout()
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("name", no_wrap=True, style="bold")
    rows = [(name, registry.get(name).info) for name in names]
    if console.width < WIDE_LIST:  # narrow: the name, then everything else in one cell that wraps between words
        table.add_column("task; predictions; output activation; properties", overflow="fold")
        for name, info in rows:
            table.add_row(name, f"{info.task}; {info.input_space}; {info.activation}; {', '.join(info.properties)}")
    else:
        table.add_column("task", no_wrap=True)
        table.add_column("predictions", ratio=2, min_width=12, overflow="fold")
        table.add_column("activation", ratio=2, min_width=8, overflow="fold")
        table.add_column("properties", ratio=2, min_width=19, overflow="fold")
        for name, info in rows:
            table.add_row(name, info.task, info.input_space, info.activation, ", ".join(info.properties))
    console.print(table)


# --- explain -----------------------------------------------------------------------------------------


@app.command(epilog="Examples:\n  losskit explain huber\n  losskit explain bce --json")
@user_errors
def explain(
    name: Annotated[str, typer.Argument(help="A loss name or alias (see losskit list).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as a JSON object.")] = False,
) -> None:
    """Explain a loss: its formula and gradient, spaces, likelihood, properties, when to use it."""
    explanation = guide.explain(name)
    if as_json:
        _print_json(explanation.to_dict())
    else:
        typer.echo(str(explanation))


# --- recommend ---------------------------------------------------------------------------------------


def _bullets(items) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in items:
        grid.add_row("  -", item)
    return grid


def _render_recommendation(rec: guide.Recommendation) -> Group:
    """A readable rendering: the choice first, then the reasons, the alternatives and the data facts."""
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column()
    summary.add_row("task", Text(rec.task))
    summary.add_row("loss", Text(guide.call_text(rec.loss, rec.hyperparameters), style="bold green"))
    summary.add_row("output activation", Text(rec.output_activation))
    summary.add_row("metrics to report", Text(", ".join(rec.metrics)))
    if rec.facts:
        facts = (f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in rec.facts.items())
        summary.add_row("read from the data", Text(", ".join(facts)))
    parts = [summary, Text(""), Text("why", style="bold"), _bullets(Text(reason) for reason in rec.reasons)]
    if rec.alternatives:
        alternatives = (
            Text.assemble((guide.call_text(a.loss, a.hyperparameters), "cyan"), f": {a.reason}") for a in rec.alternatives
        )
        parts += [Text("alternatives", style="bold"), _bullets(alternatives)]
    return Group(*parts)


@app.command(
    epilog=(
        "Examples:\n"
        "  losskit recommend --task multiclass\n"
        "  losskit recommend --task count\n"
        "  losskit recommend --data train.csv --target price --quantile 0.9\n"
        "  losskit recommend --data train.csv --target price --quantiles 0.05,0.95\n"
        "  losskit recommend --data train.csv --target price\n"
        "  losskit recommend --data train.csv --target clicked --output-activation sigmoid --json"
    )
)
@user_errors
def recommend(
    task: Annotated[
        str | None,
        typer.Option("--task", "-t", help=f"The task: {', '.join(guide.TASKS)}; inferred from --data if omitted."),
    ] = None,
    data_file: Annotated[
        Path | None, typer.Option("--data", "-d", help="A CSV file with a header row holding the training targets.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", "-y", help="The target column of --data.")] = None,
    output_activation: Annotated[
        str | None,
        typer.Option(
            "--output-activation",
            "-a",
            help="The activation your model must end with, if fixed (sigmoid, softmax, ...).",
        ),
    ] = None,
    outliers: Annotated[
        bool | None,
        typer.Option(
            "--outliers/--no-outliers", help="Whether the targets have outliers (default: read from the data)."
        ),
    ] = None,
    imbalance: Annotated[
        bool | None,
        typer.Option(
            "--imbalance/--no-imbalance", help="Whether the classes are imbalanced (default: read from the data)."
        ),
    ] = None,
    quantile: Annotated[
        float | None,
        typer.Option("--quantile", "-q", help="Regression: fit this quantile of the target (0 < q < 1), not its mean."),
    ] = None,
    quantiles: Annotated[
        str | None,
        typer.Option("--quantiles", help="Regression: fit these quantiles in one model, such as 0.05,0.95 for a 90% interval."),
    ] = None,
    uncertainty: Annotated[
        bool, typer.Option("--uncertainty", help="Regression: predict each example's noise level too.")
    ] = False,
    label_noise: Annotated[
        bool | None,
        typer.Option("--label-noise/--no-label-noise", help="Classification: some training labels are wrong."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the recommendation as a JSON object.")] = False,
) -> None:
    """Recommend a loss, its output activation and the metrics to report, for a task or for your targets.

    With --data and --target the column is read to infer the task, outliers (then Huber's delta) and imbalance.

    --task, if given as well, overrides the task inferred from the column.
    """
    if (data_file is None) != (target is None):
        raise CLIError("give --data FILE.csv and --target COLUMN together.")
    if task is None and data_file is None:
        raise CLIError("give --task TASK or --data FILE.csv --target COLUMN.")
    y = None if data_file is None else data.read_column(data_file, target)
    if y is not None:
        data.require_finite(data_file, target, y)
    if quantiles is not None:
        try:
            quantiles = tuple(float(q) for q in quantiles.split(","))
        except ValueError:
            raise CLIError(f"--quantiles {quantiles!r}: expected numbers in (0, 1) separated by commas, such as 0.05,0.95.") from None
    rec = guide.recommend(
        None if task is None else task.strip().lower(), y, output_activation=output_activation, outliers=outliers,
        imbalance=imbalance, quantile=quantile, quantiles=quantiles, uncertainty=uncertainty, label_noise=label_noise,
    )
    if as_json:
        _print_json(rec.to_dict())
    else:
        _stdout().print(_render_recommendation(rec))


# --- plot ------------------------------------------------------------------------------------------


def _pair(text: str | None, option: str, separator: str) -> tuple[float, float] | None:
    """``"-5,5"`` -> ``(-5.0, 5.0)``; None stays None."""
    if text is None:
        return None
    parts = text.split(separator)
    try:
        first, second = (float(part) for part in parts)
    except ValueError:
        raise CLIError(f"{option} {text!r}: expected two numbers separated by {separator!r}.") from None
    return first, second


def _configured(names: list[str], params: dict[str, list]) -> list:
    """Every loss of ``names`` with every combination of the ``params`` values."""
    for name in names:
        _check_hyperparameters(name, params)
    combos = [dict(zip(params, values)) for values in itertools.product(*params.values())]
    return [registry.get(name, **combo) for name in names for combo in combos]


@app.command(
    epilog=(
        "Examples:\n"
        "  losskit plot mse mae huber -o regression.png\n"
        "  losskit plot pseudo_huber --param delta=0.5,1,2 --no-gradient -o deltas.svg\n"
        "  losskit plot general_robust --param alpha=-inf,-2,0,1,2 --hessian -o barron.png\n"
        "  losskit plot --influence -o influence.png\n"
        "  losskit plot huber pseudo_huber --influence --param delta=1,3 -o influence.pdf"
    )
)
@user_errors
def plot(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Loss names or aliases, with the same plot variable (see losskit list).", show_default=False
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write: .png, .svg or .pdf.")] = ...,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Hyperparameter values NAME=V1,V2,...: one curve per value; repeatable."),
    ] = None,
    gradient: Annotated[bool, typer.Option("--gradient/--no-gradient", help="Also draw the derivative.")] = True,
    hessian: Annotated[bool, typer.Option("--hessian", help="Also draw the second derivative (the Hessian).")] = False,
    influence: Annotated[
        bool,
        typer.Option(
            "--influence", help="Draw how hard one outlier pulls on the fit (regression losses; default set)."
        ),
    ] = False,
    x_range: Annotated[
        str | None, typer.Option("--range", help="The x range LOW,HIGH (default: the loss's plot variable's).")
    ] = None,
    size: Annotated[str | None, typer.Option("--size", help="The figure's size in inches, WIDTHxHEIGHT.")] = None,
    dpi: Annotated[float, typer.Option("--dpi", help="Dots per inch: a PNG is size x dpi pixels (at most 5e7).")] = 100.0,
) -> None:
    """Draw losses and their gradients against their plot variable, and write the picture to a file.

    --param sweeps a hyperparameter: --param delta=0.5,1,2 draws one curve per value.
    """
    from . import plot as plots  # matplotlib is imported only by the command that draws

    params = parse_params(param)
    figsize = _pair(size, "--size", "x")
    if figsize is not None and not all(0 < side <= MAX_INCHES for side in figsize):
        raise CLIError(f"--size {size!r}: the width and height must be numbers of inches in (0, {MAX_INCHES:g}].")
    if not 0 < dpi <= MAX_DPI:
        raise CLIError(f"--dpi must be a number in (0, {MAX_DPI:g}]; got {dpi:g}.")
    width, height = figsize or plots.default_size(2 if influence else 1 + gradient + hessian)
    if width * height * dpi * dpi > MAX_PIXELS:
        raise CLIError(f"--size {width:g}x{height:g} at --dpi {dpi:g} makes {width * height * dpi * dpi:.3g} pixels; "
                       f"at most {MAX_PIXELS:.0e} (lower --dpi or --size).")  # fmt: skip
    bounds = _pair(x_range, "--range", ",")
    if bounds is not None and not (all(np.isfinite(bounds)) and bounds[0] < bounds[1] and np.isfinite(bounds[1] - bounds[0])):
        raise CLIError(f"--range {x_range!r}: expected LOW,HIGH, two finite numbers with LOW < HIGH.")
    if output.is_dir():
        raise CLIError(f"-o {output}: that is a folder; give a file name such as {output / 'losses.png'}.")
    output.parent.mkdir(parents=True, exist_ok=True)
    if influence:
        if params and not names:
            raise CLIError("--param with --influence needs the loss names to set it on.")
        losses = _configured(names, params) if names else plots.DEFAULT_INFLUENCE_LOSSES
        residuals = None if bounds is None else np.linspace(*bounds, 501)
        figure = plots.plot_outlier_influence(losses, residuals=residuals, figsize=figsize, dpi=dpi)
    else:
        if not names:
            raise CLIError("name at least one loss to plot (see losskit list), or pass --influence.")
        x = None if bounds is None else np.linspace(*bounds, plots.DEFAULT_POINTS)
        figure = plots.plot_losses(names, params=params or None, x=x, gradient=gradient, hessian=hessian,
                                   figsize=figsize, dpi=dpi)  # fmt: skip
    typer.echo(str(plots.save(figure, output)))


# --- compute -----------------------------------------------------------------------------------------


def _columns(table: dict[str, np.ndarray], path: Path, names: list[str], option: str) -> np.ndarray:
    """One column as is, or several stacked on a last (class) axis."""
    for name in names:
        if name not in table:
            raise data.DataError(f"{path} has no column {name!r} ({option}); its columns are: {', '.join(table)}.")
        column = table[name]
        if column.dtype.kind == "f" and np.isnan(column).any():
            line = int(np.flatnonzero(np.isnan(column))[0]) + 2  # the header is line 1
            raise data.DataError(f"{path}, line {line}: column {name!r} ({option}) has an empty cell.")
    if len(names) == 1:
        return table[names[0]]
    return np.stack([table[name] for name in names], axis=-1)


def _single_values(params: dict[str, list]) -> dict:
    for key, values in params.items():
        if len(values) != 1:
            raise CLIError(f"--param {key}: compute takes one value per parameter; got {len(values)}.")
    return {key: values[0] for key, values in params.items()}


def _input_columns(loss, y_true, y_pred, inputs) -> dict[str, list[str]]:
    """Columns per declared input: --y-true and --y-pred name y_true and y_pred; --input NAME=COL[,COL...] any."""
    declared = [spec.name for spec in loss.info.inputs]
    columns: dict[str, list[str]] = {}
    for option, name, given in (("--y-true", "y_true", y_true), ("--y-pred", "y_pred", y_pred)):
        if given:
            if name not in declared:
                raise CLIError(f"{loss.info.name} has no input {name} ({option}); its inputs are: {', '.join(declared)}. "
                               "Give them with --input NAME=COLUMN.")
            columns[name] = list(given)
    for item in inputs or ():
        name, sep, cols = item.partition("=")
        name = name.strip()
        if not sep or not name or not cols.strip():
            raise CLIError(f"--input {item!r}: expected NAME=COLUMN or NAME=COL1,COL2,... (for example --input mean=mu).")
        if name not in declared:
            raise CLIError(f"{loss.info.name} has no input {name!r}; its inputs are: {', '.join(declared)}.")
        if name in columns:
            raise CLIError(f"the input {name} is given twice.")
        columns[name] = [c.strip() for c in cols.split(",")]
    missing = [name for name in declared if name not in columns]
    if missing:
        raise CLIError(f"{loss.info.name} needs the columns of {', '.join(missing)}: give --input NAME=COLUMN "
                       f"(its inputs, in order: {', '.join(declared)}).")
    return columns


@app.command(
    epilog=(
        "Examples:\n"
        "  losskit compute mse --data preds.csv --y-true y --y-pred y_hat\n"
        "  losskit compute huber --data preds.csv --y-true y --y-pred y_hat --param delta=2 --reduction none\n"
        "  losskit compute sparse_softmax_cross_entropy --data preds.csv --y-true label \\\n"
        "      --y-pred logit_0 --y-pred logit_1 --y-pred logit_2\n"
        "  losskit compute gaussian_nll --data preds.csv --input y_true=y --input mean=mu --input variance=var"
    )
)
@user_errors
def compute(
    name: Annotated[str, typer.Argument(help="A loss name or alias (see losskit list).")],
    data_file: Annotated[Path, typer.Option("--data", "-d", help="A CSV file with a header row.")],
    y_true: Annotated[
        list[str] | None,
        typer.Option("--y-true", help="The target column; repeat for several columns (one-hot or soft targets)."),
    ] = None,
    y_pred: Annotated[
        list[str] | None,
        typer.Option("--y-pred", help="The prediction column; repeat for several columns, stacked as the class axis."),
    ] = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="Any declared input: NAME=COLUMN or NAME=COL1,COL2 (a class or "
                     "embedding axis); repeatable. See losskit explain NAME for a loss's inputs."),
    ] = None,
    reduction: Annotated[
        str, typer.Option("--reduction", "-r", help="mean, sum, or none (the loss of each row).")
    ] = "mean",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A hyperparameter NAME=VALUE; repeatable.")
    ] = None,
    sample_weight: Annotated[
        str | None, typer.Option("--sample-weight", "-w", help="A column of weights, one per row.")
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Class names in id order, comma-separated, for a --y-true column of names "
                     "(default: the names sorted)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON object: the loss, its config and the value.")
    ] = False,
) -> None:
    """Compute a loss on saved predictions: columns of a CSV file, one per declared input.

    Repeat --y-pred to stack several columns as the class axis, one column per class. A loss with other
    inputs (a mean and a variance, anchor/positive/negative embeddings) takes them with --input NAME=COLUMN.

    For losses on class ids (sparse_*, nll) --y-true is the id column (ids, or class names: see --classes); for
    one-hot or soft targets repeat it too. With --reduction none the loss of each row is printed as CSV lines.
    """
    params = _single_values(parse_params(param))
    if "reduction" in params:
        raise CLIError("give the reduction with --reduction (mean, sum or none), not --param reduction.")
    _check_hyperparameters(name, params)
    loss = registry.get(name, **params)
    columns = _input_columns(loss, y_true, y_pred, inputs)
    table = data.read_csv(data_file)
    arrays = []
    for spec in loss.info.inputs:
        option = {"y_true": "--y-true", "y_pred": "--y-pred"}.get(spec.name, f"--input {spec.name}")
        array = _columns(table, data_file, columns[spec.name], option)
        if spec.kind == "class_index" and array.dtype.kind == "U":
            array = _class_ids(array, classes, option)
        arrays.append(array.astype(bool) if spec.kind == "mask" else array)
    weight = None if sample_weight is None else _columns(table, data_file, [sample_weight], "--sample-weight")
    value = np.asarray(loss(*arrays, sample_weight=weight, reduction=reduction))
    if as_json:
        config = loss.config()
        config.pop("reduction", None)
        _print_json(
            {"loss": config.pop("name"), "hyperparameters": config, "reduction": reduction, "value": value.tolist()}
        )
    elif value.ndim == 0:
        typer.echo(repr(float(value)))
    else:
        _print_rows(value.reshape(-1))


def _class_ids(names: np.ndarray, classes: str | None, option: str) -> np.ndarray:
    """A column of class names as ids: in the order --classes gives, or sorted."""
    order = [c.strip() for c in classes.split(",")] if classes else sorted(set(names.tolist()))
    ids = {label: k for k, label in enumerate(order)}
    unknown = sorted(set(names.tolist()) - set(ids))
    if unknown:
        raise CLIError(f"{option} holds class names not in --classes: {', '.join(map(repr, unknown[:5]))}.")
    return np.asarray([ids[label] for label in names.tolist()], dtype=np.int64)


def _print_rows(losses: np.ndarray, chunk: int = 65536) -> None:
    """The loss of each row as CSV lines ``row,loss`` on stdout, written in chunks (millions of rows in seconds)."""
    import sys

    out = sys.stdout
    out.write("row,loss\n")
    for start in range(0, losses.size, chunk):
        part = losses[start : start + chunk]
        out.write("".join(f"{start + i},{v!r}\n" for i, v in enumerate(part.tolist())))
    out.flush()


# --- tour and lab ------------------------------------------------------------------------------------


@app.command(epilog="Example:\n  losskit tour --seed 1")
@user_errors
def tour(seed: Annotated[int, typer.Option(help="Seed of the sample inputs, >= 0.")] = 0) -> None:
    """Compute every registered loss on a sample of its own inputs: a table of costs and gradient norms."""
    from ._tour import HEADER
    from ._tour import tour as rows

    if seed < 0:
        raise CLIError(f"--seed must be a whole number >= 0; got {seed}.")
    console = _stdout()
    title = f"every registered loss on 16 sample examples (reduction='mean', seed {seed})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    narrow = console.width < WIDE_LIST  # as losskit list: the words in one column that wraps
    columns = ("loss", "cost", "|grad|", "; ".join(HEADER[1:4])) if narrow else HEADER
    for column in columns:
        table.add_column(column, justify="right" if column in ("cost", "|grad|") else "left", overflow="fold",
                         no_wrap=column in ("loss", "task", "cost", "|grad|"))  # fmt: skip
    for name, task, space, activation, cost, norm in rows(seed):
        table.add_row(*((name, cost, norm, f"{task}; {space}; {activation}") if narrow
                        else (name, task, space, activation, cost, norm)))  # fmt: skip
    console.print(table)


lab_command.register(app)


def main() -> None:
    """The ``losskit`` console script."""
    app(prog_name="losskit")


if __name__ == "__main__":
    main()
