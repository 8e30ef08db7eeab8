"""The ``losskit lab`` command: :func:`register` adds it to a Typer app (Typer is imported here only).

Progress bars go to stderr; the summary table, the reading and the report's path to stdout. A
request that cannot run prints one line on stderr and exits with status 2, without a traceback.
"""

import os
import re
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli_errors import user_errors

#: Where results go without --out: ``losskit-lab/<experiment or data file name>``.
DEFAULT_OUT = Path("losskit-lab")


def default_out(name: str) -> Path:
    """``losskit-lab/<name>`` with ``name`` made a plain folder name: letters, digits, ``-``, ``_`` and inner dots.

    A data file called ``...csv`` must not send the outputs to ``losskit-lab/..``, the current folder.

    >>> default_out("..."), default_out("my data (v2)"), default_out("../../etc")
    (PosixPath('losskit-lab/data'), PosixPath('losskit-lab/my_data_v2'), PosixPath('losskit-lab/etc'))
    """
    safe = re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._-") or "data"
    return DEFAULT_OUT / safe

EPILOG = (
    "Examples:\n"
    "  losskit lab\n"
    "  losskit lab binary --model linear --seeds 5 --jobs 2\n"
    "  losskit lab multiclass --label-noise 0.2\n"
    "  losskit lab noisy-labels --label-noise 0.4\n"
    "  losskit lab quantiles --seeds 5\n"
    "  losskit lab segmentation --epochs 30\n"
    "  losskit lab retrieval --losses 'triplet_margin(margin=0.5),ntxent(temperature=0.1)'\n"
    "  losskit lab --data train.csv --target price --losses 'mse,huber(delta=2)'"
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
        experiment: Annotated[
            Optional[str],
            typer.Argument(help="A built-in experiment: outliers (the default), binary, multiclass, counts, "
                                "quantiles, heteroscedastic, imbalanced, imbalanced-digits, noisy-labels, margins, "
                                "segmentation (masks of small shapes, a CNN) or retrieval (digit embeddings)."),
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

        from .datasets import DEFAULT_EXPERIMENT
        from .datasets import experiment as builtin
        from .runner import run

        start = time.perf_counter()
        name = data_file.stem if data_file is not None else builtin(experiment or DEFAULT_EXPERIMENT).name
        folder = out if out is not None else default_out(name)
        stdout, errors = Console(highlight=False), Console(stderr=True)
        if not stdout.is_terminal and "COLUMNS" not in os.environ:
            stdout.width = 110
        result = run(
            experiment, data=data_file, target=target, task=None if task is None else task.strip().lower(),
            losses=losses, model=model, hidden=hidden,
            optimizer=optimizer, lr=lr, batch_size=batch_size, epochs=epochs, seeds=seeds, seed=seed, jobs=jobs,
            outliers=outliers, label_noise=label_noise, val_fraction=val_fraction, backend=backend, runner=runner,
            scheduler=scheduler, out=folder,
            predictions=predictions, progress=not quiet and errors.is_terminal, console=errors,
        )  # fmt: skip
        stdout.print(result.table())
        for line in result.reading:
            stdout.print(f"- {line}", soft_wrap=True)
        stdout.print()
        files = result.files
        stdout.print(
            f"report: {files['report']}  (with {Path(files['results']).name} and {Path(files['history']).name})",
            soft_wrap=True,
        )
        stdout.print(f"done in {time.perf_counter() - start:.1f} s")

    app.command("lab", epilog=EPILOG)(user_errors(lab))
