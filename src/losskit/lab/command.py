"""The ``losskit lab`` command: :func:`register` adds it to a Typer app (Typer is imported here only).

Progress bars go to stderr; the summary table, the reading and the report's path to stdout. A
request that cannot run prints one line on stderr and exits with status 2, without a traceback.
"""

import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli_errors import parse_params, user_errors
from .files import folder_name

#: Where results go without --out: ``losskit-lab/<experiment or data file name>``.
DEFAULT_OUT = Path("losskit-lab")


def default_out(name: str) -> Path:
    """``losskit-lab/<name>`` with ``name`` made a plain folder name: a data file called ``...csv`` must not send
    the outputs to ``losskit-lab/..``, the current folder.

    >>> default_out("..."), default_out("my data (v2)"), default_out("../../etc")
    (PosixPath('losskit-lab/data'), PosixPath('losskit-lab/my_data_v2'), PosixPath('losskit-lab/etc'))
    """
    return DEFAULT_OUT / folder_name(name)


EPILOG = (
    "Examples:\n"
    "  losskit lab\n"
    "  losskit lab binary --model linear --seeds 5 --jobs 2\n"
    "  losskit lab multiclass --label-noise 0.2\n"
    "  losskit lab noisy-labels --label-noise 0.4\n"
    "  losskit lab quantiles --seeds 5\n"
    "  losskit lab segmentation --epochs 30\n"
    "  losskit lab retrieval --losses 'triplet_margin(margin=0.5),ntxent(temperature=0.1)'\n"
    "  losskit lab --data train.csv --target price --losses 'mse,huber(delta=2)'\n"
    "  losskit lab outliers --seeds 2 --runner dask --jobs 2\n"
    "  losskit lab run grid.toml --runner dask --scheduler tcp://HOST:8786\n"
    "  losskit lab sweep huber --param delta=0.1,0.3,1,3,10"
)


def register(app) -> None:
    """Add the ``lab`` command to a Typer app.

    Parameters
    ----------
    app : typer.Typer

    Examples
    --------
    >>> import typer
    >>> from losskit.lab import register
    >>> app = typer.Typer()
    >>> register(app)
    """

    def lab(
        ctx: typer.Context,
        experiment: Annotated[
            Optional[str],
            typer.Argument(metavar="EXPERIMENT|run|sweep", show_default=False,
                           help="A built-in experiment: outliers (the default), binary, multiclass, counts, "
                                "quantiles, heteroscedastic, imbalanced, imbalanced-digits, noisy-labels, margins, "
                                "segmentation (masks of small shapes, a CNN) or retrieval (digit embeddings). Or "
                                "'run FILE.toml': the grid of an experiment file (options given here replace the "
                                "file's); or 'sweep LOSS...' with --param: one run per value."),
        ] = None,
        words: Annotated[
            Optional[list[str]],
            typer.Argument(metavar="FILE|LOSS", help="The experiment file of run, the losses of sweep.",
                           show_default=False),
        ] = None,
        data_file: Annotated[
            Optional[Path],
            typer.Option("--data", "-d", help="Your own CSV file (numeric features and a target column)."),
        ] = None,
        target: Annotated[
            Optional[str], typer.Option("--target", "-y", help="The column of --data to predict.")
        ] = None,
        task: Annotated[
            Optional[str],
            typer.Option(
                "--task", "-t", help="regression, binary or multiclass; inferred from the target column if omitted."
            ),
        ] = None,
        losses: Annotated[
            Optional[str],
            typer.Option("--losses", "-l", help="Losses to compare, comma-separated, e.g. 'mse,huber(delta=2)'."),
        ] = None,
        param: Annotated[
            Optional[list[str]],
            typer.Option("--param", "-p", help="sweep: a hyperparameter's values, NAME=V1,V2,... (LOSS.NAME=... for "
                                               "one of the swept losses); repeat for several."),
        ] = None,
        on: Annotated[
            Optional[str],
            typer.Option("--on", help="sweep: the built-in experiment (default: one that compares the swept losses)."),
        ] = None,
        model: Annotated[
            Optional[str],
            typer.Option("--model", "-m", help="mlp (one hidden ReLU layer; the default), linear (without PyTorch), "
                                               "cnn (segmentation's default and only model), or gradient-boosted "
                                               "trees: xgboost or lightgbm (one boosting round per epoch)."),
        ] = None,
        hidden: Annotated[
            Optional[int],
            typer.Option("--hidden", help="Hidden units of the mlp, channels of the cnn (32; segmentation: 16)."),
        ] = None,
        optimizer: Annotated[str, typer.Option("--optimizer", help="adam, or sgd (momentum 0.9).")] = "adam",
        lr: Annotated[
            Optional[float], typer.Option("--lr", help="Learning rate (0.003; the tree models' shrinkage: 0.1).")
        ] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Mini-batch size.")] = 32,
        epochs: Annotated[
            Optional[int],
            typer.Option("--epochs", "-e", help="Training epochs (default: the experiment's; 30 for --data; "
                                                "100 boosting rounds for the tree models)."),
        ] = None,
        seeds: Annotated[int, typer.Option("--seeds", "-s", help="Repeat each run with this many seeds.")] = 3,
        seed: Annotated[int, typer.Option("--seed", help="The first seed.")] = 0,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Runs in parallel (processes); -1: one per core.")] = 1,
        outliers: Annotated[
            Optional[float],
            typer.Option(
                "--outliers", help="Regression: share of training targets made gross outliers (outliers: 0.1)."
            ),
        ] = None,
        label_noise: Annotated[
            Optional[float],
            typer.Option("--label-noise", help="Classification and retrieval: share of training labels flipped."),
        ] = None,
        val_fraction: Annotated[float, typer.Option("--val-fraction", help="Share of rows held out, clean.")] = 0.3,
        backend: Annotated[
            str, typer.Option("--backend", help="auto, torch, or numpy (linear model, no PyTorch needed).")
        ] = "auto",
        runner: Annotated[
            str,
            typer.Option("--runner", help="local (this machine's processes, --jobs), dask or ray: the runs go to a "
                                          "cluster, the one at --scheduler or a local one of --jobs workers."),
        ] = "local",
        scheduler: Annotated[
            Optional[str],
            typer.Option("--scheduler", help="The address of the Dask scheduler (tcp://HOST:8786) or Ray cluster."),
        ] = None,
        out: Annotated[
            Optional[Path],
            typer.Option(
                "--out", "-o", help="Folder for results.json, history.csv and report.html (default: losskit-lab/NAME)."
            ),
        ] = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="No progress bars (shown only on a terminal).")
        ] = False,
        predictions: Annotated[
            bool,
            typer.Option("--predictions", help="Also write the predictions the figures draw into results.json."),
        ] = False,
    ) -> None:
        """Train the same model with different losses and compare learning dynamics and metrics.

        One model per loss, everything else equal (split, initial weights, optimiser, batches, seeds);
        writes results.json, history.csv and a self-contained report.html.

        Example: losskit lab --data train.csv --target price
        """
        from rich.console import Console

        from .grid import run_grid

        start = time.perf_counter()
        options = dict(
            data=data_file, target=target, task=None if task is None else task.strip().lower(), losses=losses,
            model=model, hidden=hidden, optimizer=optimizer, lr=lr, batch_size=batch_size, epochs=epochs, seeds=seeds,
            seed=seed, jobs=jobs, outliers=outliers, label_noise=label_noise, val_fraction=val_fraction,
            backend=backend, runner=runner, scheduler=scheduler, out=out, predictions=predictions,
        )  # fmt: skip
        grid, name = _grid(ctx, experiment, list(words or ()), param, on, options)
        if grid.get("out") is None:
            grid["out"] = default_out(name)
        stdout, errors = Console(highlight=False), Console(stderr=True)
        if not stdout.is_terminal and "COLUMNS" not in os.environ:
            stdout.width = 110
        results = run_grid(grid, progress=not quiet and errors.is_terminal, console=errors)
        for result in results:
            files = {key: Path(path) for key, path in result.files.items()}
            if len(results) > 1:
                stdout.print(f"[bold]{files['results'].parent.name}[/]")
            stdout.print(result.table())
            for line in result.reading:
                stdout.print(f"- {line}", soft_wrap=True)
            stdout.print()
            shown = "report" if "report" in files else "results"
            beside = [files[key].name for key in ("results", "history") if key != shown]
            stdout.print(f"{shown}: {files[shown]}  (with {' and '.join(beside)})", soft_wrap=True)
        if len(results) > 1:
            stdout.print(f"the labs: {Path(grid['out']) / 'index.html'}", soft_wrap=True)
        stdout.print(f"done in {time.perf_counter() - start:.1f} s")

    app.command("lab", epilog=EPILOG)(user_errors(lab))


def _grid(ctx, experiment, words, param, on, options) -> tuple[dict, str]:
    """The grid the command line asks for, and the name of its default output folder."""
    from .datasets import DEFAULT_EXPERIMENT
    from .datasets import experiment as builtin
    from .errors import LabError
    from .grid import load
    from .sweeps import from_options

    if experiment == "run":
        if len(words) != 1:
            raise LabError("losskit lab run takes one experiment file: losskit lab run grid.toml")
        given = {key: value for key, value in options.items() if _given(ctx, "data_file" if key == "data" else key)}
        return {**load(words[0]), **given}, Path(words[0]).stem
    if experiment == "sweep":
        sweep = from_options(words, parse_params(param))
        return {**options, "experiment": on, "sweep": sweep}, f"sweep-{'-'.join(sweep)}"
    if words:
        raise LabError(f"unexpected argument {words[0]!r}: losskit lab takes one experiment "
                       "(or: losskit lab run FILE.toml, losskit lab sweep LOSS... --param NAME=V1,V2).")  # fmt: skip
    if param or on:
        raise LabError(f"{'--param' if param else '--on'} goes with a sweep: losskit lab sweep LOSS --param NAME=V1,V2")
    name = options["data"].stem if options["data"] is not None else builtin(experiment or DEFAULT_EXPERIMENT).name
    return {**options, "experiment": experiment}, name


def _given(ctx, name: str) -> bool:
    """Whether the command line (or the environment) gave this option, rather than its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")
