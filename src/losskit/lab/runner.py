"""``lk.lab.run``: plan a lab's runs (loss x seed), train them, gather the result.

:func:`plan` checks a request and builds its runs, a list of picklable :class:`~losskit.lab.training.RunSpec`,
beside the records of those that finished before; :func:`train_plans` trains what several plans still need in
one go (:func:`execute`: here, in joblib worker processes or on a cluster, with progress bars); each
:class:`Plan` then gathers its :class:`~losskit.lab.result.LabResult`.
"""

from __future__ import annotations

import os
import queue as queue_module
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import candidates, clusters, datasets, models, sweeps
from .errors import LabError, need
from .finished import Finished
from .result import LabResult
from .training import RunSpec, train

#: Defaults shared by every experiment (epochs are the experiment's own).
DEFAULTS = {"hidden": 32, "optimizer": "adam", "lr": 0.003, "batch_size": 32, "seeds": 3}
#: Epochs for the user's own data.
USER_EPOCHS = 30
#: The largest values the options take: beyond them a run would exhaust memory, not answer a question.
LIMITS = {"seeds": 1000, "hidden": 65536, "epochs": 10**6, "batch_size": 10**7}
#: Worker processes per core at most (``jobs`` is also capped at the number of runs).
JOBS_PER_CORE = 2
#: The most runs that get a progress bar each; a larger grid gets one bar that counts runs.
BARS_PER_RUN = 16


def _positive_int(name: str, value, *, allow=()) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (value < 1 and value not in allow):
        raise LabError(f"{name} must be a whole number >= 1; got {value!r}.")
    if value > LIMITS.get(name, value):
        raise LabError(f"{name} must be at most {LIMITS[name]}; got {value}.")
    return value


def workers(jobs: int, runs: int) -> int:
    """Processes to start: ``jobs`` (-1: one per core), at most one per run and JOBS_PER_CORE per core."""
    cores = os.cpu_count() or 1
    wanted = cores if jobs == -1 else jobs
    return max(1, min(wanted, runs, JOBS_PER_CORE * cores))


def check_out(out) -> Path:
    """The output folder, created and checked writable before any training; LabError otherwise."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LabError(f"--out {out} is a file; give a folder for results.json, history.csv and report.html.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LabError(f"cannot create the output folder {out}: {error.strerror or error}.") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise LabError(f"cannot write into the output folder {out}: permission denied or read-only.")
    return out


def run(
    experiment=None,
    y=None,
    *,
    data=None,
    target: str | None = None,
    task: str | None = None,
    losses=None,
    sweep=None,
    model: str | None = None,
    hidden: int | None = None,
    optimizer: str = DEFAULTS["optimizer"],
    lr: float | None = None,
    batch_size: int = DEFAULTS["batch_size"],
    epochs: int | None = None,
    seeds: int = DEFAULTS["seeds"],
    seed: int = 0,
    jobs: int = 1,
    outliers: float | None = None,
    label_noise: float | None = None,
    val_fraction: float = 0.3,
    backend: str = "auto",
    runner: str = "local",
    scheduler: str | None = None,
    out=None,
    report: bool = True,
    predictions: bool = False,
    progress: bool = False,
    console=None,
) -> LabResult:
    """Train one model per candidate loss, everything else equal, and compare them.

    For each seed, every loss gets the same data split, the same corrupted training targets, the same
    initial weights, the same optimiser settings and the same order of mini-batches; only the
    criterion differs. Metrics are measured on a clean validation set.

    Parameters
    ----------
    experiment : {"outliers", "binary", "multiclass", "counts", "quantiles", "heteroscedastic"} or array-like, optional
        A built-in experiment (default ``"outliers"``, see ``datasets.EXPERIMENTS``): scikit-learn's
        bundled diabetes data with gross outliers in the training targets (mse, mae, huber,
        pseudo_huber, log_cosh and the redescending cauchy, tukey_biweight, general_robust); breast
        cancer (sigmoid_cross_entropy, hinge, squared_hinge); digits (sparse softmax cross-entropy
        with and without label smoothing 0.1); statsmodels' RAND doctor visits (mse against Poisson
        and Tweedie log-means, with the Poisson deviance and a calibration plot); diabetes prediction
        intervals (three quantiles in one model against mse's Gaussian interval: coverage and
        width); generated noise that grows with a feature (Gaussian and Laplace likelihoods with a
        predicted spread against mse: NLL, coverage, width); ``"segmentation"``: masks of small shapes
        on generated images (a small CNN; per-pixel cross-entropy against dice, tversky and
        focal_tversky: IoU and Dice score); ``"retrieval"``: embeddings of the digits (triplet_margin,
        contrastive and info_nce: recall@1 and recall@5). Or your features ``X`` (an array or a
        DataFrame), with the targets as ``y``: ``run(X, y)``, as scikit-learn's ``fit(X, y)``.
    y : array-like, optional
        The targets of ``X``.
    data : str or os.PathLike, optional
        A CSV file of your own instead; every column but ``target`` must be numeric.
    target : str, optional
        The column of ``data`` to predict.
    task : {"regression", "binary", "multiclass"}, optional
        The task of ``data``; inferred from the target column by the guide when omitted.
    losses : str or sequence, optional
        The losses to compare: ``"mse,huber(delta=2)"``, or names, config dicts or Loss objects.
        Default: the experiment's; for your data, the guide's recommendation and its alternatives; with
        ``sweep``, none: the swept losses only.
    sweep : dict, optional
        Hyperparameters to sweep, ``{"huber": {"delta": [0.1, 1, 10]}}``: one loss per value (per combination of
        values, for several hyperparameters of a loss), compared beside ``losses``; the report draws every metric
        against each swept hyperparameter (:mod:`~losskit.lab.sweeps`).
    model : {"mlp", "linear", "cnn", "xgboost", "lightgbm"}, optional
        A small MLP (one hidden ReLU layer of ``hidden`` units) or a linear model; ``"cnn"`` (two 3x3
        convolutions of ``hidden`` channels) for the segmentation experiment, the only one it trains;
        gradient-boosted trees of depth 4 with the loss as their objective (``losskit.boosting``), one
        boosting round per epoch (100 unless ``epochs`` says otherwise), for tabular tasks.
        Default: the experiment's (linear for margins, cnn for segmentation), else the MLP, or the linear
        model where PyTorch is missing (or ``backend="numpy"``).
    hidden : int, optional
        Hidden units of the mlp, channels of the cnn; default the experiment's (16 for segmentation), else 32.
    optimizer : {"adam", "sgd"}
        Adam, or SGD with momentum 0.9.
    lr : float, optional
        The learning rate: 0.003 by default, the tree models' shrinkage 0.1.
    batch_size : int
    epochs : int, optional
        Default: the experiment's (30 for your data).
    seeds : int
        Repeat every run with seeds ``seed, seed + 1, ...``; the summary gives mean and spread.
    seed : int
    jobs : int
        Runs in parallel (joblib worker processes, or the workers of a local Dask or Ray cluster); -1 for one
        per core.
    outliers : float, optional
        Regression: share of training targets shifted up by 5 to 10 standard deviations
        (default 0.1 for the outliers experiment, else 0).
    label_noise : float, optional
        Classification and retrieval: share of training labels flipped to another class (default 0).
    val_fraction : float
        Share of rows held out, clean, for validation.
    backend : {"auto", "torch", "numpy"}
        ``"numpy"`` trains the linear model through the losses' closed-form gradients, without
        PyTorch; ``"auto"`` uses PyTorch when it is installed.
    runner : {"local", "dask", "ray"}
        Where the runs train: here and in local processes (``jobs``), or on a cluster
        (:mod:`~losskit.lab.clusters`): the one at ``scheduler``, or a local one of ``jobs`` workers.
    scheduler : str, optional
        The Dask scheduler's address (``tcp://HOST:8786``) or the Ray cluster's.
    out : str or os.PathLike, optional
        A folder to write results.json, history.csv and report.html into (and each run's record, to
        ``runs/``, as it ends: a rerun trains only the runs not found there); nothing is written
        without it (see ``LabResult.save``). It is created and checked before training.
    report : bool
        Write report.html (with ``out``).
    predictions : bool
        Also write into results.json the validation predictions the report's figures draw (up to
        ``datasets.SHOWN_ROWS`` rows per seed); without it results.json holds no per-row numbers.
    progress : bool
        Show a Rich progress bar per run.
    console : rich.console.Console, optional
        Where the progress bars go.

    Returns
    -------
    LabResult

    Raises
    ------
    LabError, losskit.data.DataError
        A request that cannot run, said in one line.
    """
    planned = plan(**{name: value for name, value in locals().items() if name not in ("progress", "console")})
    train_plans([planned], jobs=jobs, runner=runner, scheduler=scheduler, progress=progress, console=console)
    return planned.result()


def plan(
    experiment=None,
    y=None,
    *,
    data=None,
    target: str | None = None,
    task: str | None = None,
    losses=None,
    sweep=None,
    model: str | None = None,
    hidden: int | None = None,
    optimizer: str = DEFAULTS["optimizer"],
    lr: float | None = None,
    batch_size: int = DEFAULTS["batch_size"],
    epochs: int | None = None,
    seeds: int = DEFAULTS["seeds"],
    seed: int = 0,
    jobs: int = 1,
    outliers: float | None = None,
    label_noise: float | None = None,
    val_fraction: float = 0.3,
    backend: str = "auto",
    runner: str = "local",
    scheduler: str | None = None,
    out=None,
    report: bool = True,
    predictions: bool = False,
) -> Plan:
    """The runs of :func:`run` (same arguments) and how to gather them, before any training."""
    for name, value in (("epochs", epochs), ("hidden", hidden), ("batch_size", batch_size), ("seeds", seeds)):
        if value is not None:
            _positive_int(name, value)
    jobs = _positive_int("jobs", jobs, allow=(-1,))
    clusters.check(runner, scheduler)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise LabError(f"seed must be a whole number >= 0; got {seed!r}.")
    swept = sweeps.check(sweep)
    if swept and experiment is None and data is None:
        experiment = sweeps.default_experiment(swept)
    builtin = datasets.experiment(experiment) if isinstance(experiment, str) and data is None else None
    if model is None and builtin is not None:
        model = builtin.model  # the model a built-in experiment is drawn for, if any
    if hidden is None:
        hidden = (builtin.hidden if builtin is not None else None) or DEFAULTS["hidden"]
    if model is None:
        model = "mlp" if backend != "numpy" and models.torch_available() else "linear"
    if builtin is not None and builtin.task in datasets.IMAGE_TASKS:
        _check_image_task(builtin, model, backend)
    backend = models.resolve_backend(backend, model)
    if model == "cnn" and (builtin is None or builtin.task != "segmentation"):
        raise LabError("--model cnn segments images: it trains only the segmentation experiment (use mlp or linear).")
    if lr is None:
        lr = models.TREE_LR if model in models.TREE_MODELS else DEFAULTS["lr"]
    models.check_optimizer(optimizer, lr)
    if out is not None:
        out = check_out(out)
    if experiment is not None and not isinstance(experiment, str):  # run(X, y)
        if y is None or data is not None:
            raise LabError("run(X, y) takes the features X and the targets y (and no --data).")
        features = [str(c) for c in experiment.columns] if hasattr(experiment, "columns") else None
        source = datasets.from_arrays(experiment, y, task, features=features, target=target or "y")
        exp, title, name = None, "Your data: arrays", "arrays"
    elif y is not None:
        raise LabError("y goes with features X: run(X, y).")
    elif data is not None:
        if experiment is not None:
            raise LabError(f"give a built-in experiment ({experiment!r}) or --data, not both.")
        if not target:
            raise LabError("--data needs --target COLUMN: the column to predict.")
        source = datasets.load_csv(data, target, task)
        exp, title, name = None, f"Your data: {source.name}", Path(data).stem
    else:
        if target is not None:
            raise LabError("--target names a column of --data; give --data FILE.csv as well.")
        exp = datasets.experiment(experiment or datasets.DEFAULT_EXPERIMENT)
        if task is not None and task != exp.task:
            raise LabError(f"the {exp.name} experiment is a {exp.task} task, not {task}.")
        source = datasets.load_builtin(exp)
        title, name = exp.title, exp.name
    outliers = float(outliers if outliers is not None else (exp.outliers if exp else 0.0))
    label_noise = float(label_noise if label_noise is not None else (exp.label_noise if exp else 0.0))
    trees = model in models.TREE_MODELS
    epochs = epochs or (models.TREE_EPOCHS if trees else exp.epochs if exp else USER_EPOCHS)
    seed_list = list(range(seed, seed + seeds))
    splits = [
        datasets.make_split(source, seed=s, val_fraction=val_fraction, outliers=outliers, label_noise=label_noise)
        for s in seed_list
    ]
    if losses is not None or swept:
        chosen = candidates.parse(losses) if losses is not None else []
        chosen = candidates.check([*chosen, *(candidates.parse(sweeps.losses(swept)) if swept else [])], source.task)
    elif exp is not None:
        chosen = candidates.parse(list(exp.losses))
    else:
        chosen = candidates.for_task(source.task, splits[0].y_train)
    if model in models.TREE_MODELS:
        _check_boostable(chosen, model)
    if source.task == "regression" and candidates.needs_raw_targets(chosen):
        splits = [
            datasets.make_split(source, seed=s, val_fraction=val_fraction, outliers=outliers, scale_targets=False)
            for s in seed_list
        ]
    labels = {candidates.label(loss): loss.config() for loss in chosen}
    settings = {
        "experiment": name, "model": model, "hidden": hidden if model in ("mlp", "cnn") else None,
        "optimizer": None if trees else optimizer, "lr": lr, "batch_size": None if trees else batch_size,
        "epochs": epochs, "seeds": seed_list, "jobs": jobs,
        "outliers": outliers, "label_noise": label_noise, "val_fraction": val_fraction, "backend": backend,
        "runner": runner, "sweep": swept or None,
        "data": None if data is None else str(data), "target": target, "metrics": exp.metrics if exp else None,
    }  # fmt: skip
    grid = [(label, config, s, split) for label, config in labels.items() for s, split in zip(seed_list, splits)]
    specs = [
        RunSpec(
            index=i, loss=config, label=label, seed=s, data=split, model=model, optimizer=optimizer,
            backend=backend, hidden=hidden, batch_size=batch_size, epochs=epochs, lr=float(lr), threads=1,
            metrics=settings["metrics"],
        )  # fmt: skip
        for i, (label, config, s, split) in enumerate(grid)
    ]

    def gather(records: list) -> LabResult:
        result = LabResult(
            task=source.task,
            title=title,
            source={
                "name": source.name, "description": source.description, "target": source.target_name,
                "features": list(source.feature_names),
            },  # fmt: skip
            settings=settings,
            losses=labels,
            runs=records,
            data=[_truth(s, split) for s, split in zip(seed_list, splits)],
        )
        if out is not None:
            result.save(out, report=report, predictions=predictions)
        return result

    return Plan(specs, Finished(out), gather, name)


@dataclass
class Plan:
    """One lab's runs before training: their specs, the records of those that finished before (kept under the
    output folder's ``runs/``), and how the records become the :class:`LabResult` (saved with an output folder);
    ``name`` tells its runs apart from other labs' in the progress bars of a grid."""

    specs: list[RunSpec]
    finished: Finished
    gather: Callable[[list], LabResult]
    name: str = ""
    done: dict = field(default_factory=dict)

    def __post_init__(self):
        self.done = {spec.index: self.finished.load(spec) for spec in self.specs}

    @property
    def todo(self) -> list[RunSpec]:
        """The runs still to train."""
        return [spec for spec in self.specs if self.done[spec.index] is None]

    def record(self, spec: RunSpec, record) -> None:
        """Keep the record of a run that ended (on disk at once, so that a grid stopped later resumes after it)."""
        record = replace(record, index=spec.index, label=spec.label)
        self.finished.save(spec, record)
        self.done[spec.index] = record

    def result(self) -> LabResult:
        return self.gather([self.done[spec.index] for spec in self.specs])


def _check_boostable(chosen, model: str) -> None:
    """LabError naming a loss that cannot be the objective of a tree model, and why."""
    from .. import boosting
    from ..errors import InputError

    for loss in chosen:
        try:
            boosting.boostable(loss)
        except InputError as error:
            raise LabError(f"--model {model}: {error}") from None


def _check_image_task(exp: datasets.Experiment, model: str, backend: str) -> None:
    """The segmentation experiment trains the cnn, the retrieval one an mlp or a linear embedding, both on PyTorch."""
    fitting = ("cnn",) if exp.task == "segmentation" else ("mlp", "linear")
    if model not in fitting:
        raise LabError(f"--model {model} cannot train the {exp.name} experiment; it trains {' or '.join(fitting)}.")
    if backend == "numpy" or not models.torch_available():
        raise LabError(f"--backend numpy trains tables through closed-form gradients; the {exp.name} experiment "
                       "trains on PyTorch (--backend torch or auto).")  # fmt: skip


def _truth(seed: int, split: datasets.Split) -> dict:
    """One seed's sizes and validation truth (and corrupted training targets), in the raw units."""
    out = {"seed": seed, **split.describe()}
    if split.task == "segmentation":  # the first validation images and their masks, for the report
        from .training import SHOWN_IMAGES

        out["shown_validation_rows"] = min(SHOWN_IMAGES, len(split.y_val))
        out["images"] = np.round(split.X_val[:SHOWN_IMAGES, 0].astype(np.float64), 3).tolist()
        out["y_val"] = split.y_val[:SHOWN_IMAGES].astype(np.int8).tolist()
        return out
    val_rows = datasets.shown_rows(len(split.y_val), seed)
    out["shown_validation_rows"] = int(val_rows.size)
    if split.task == "regression":
        train_rows = datasets.shown_rows(len(split.y_train), seed)
        out["y_val"] = split.to_raw(split.y_val[val_rows]).tolist()
        out["y_train"] = split.to_raw(split.y_train[train_rows]).tolist()
        out["corrupted"] = split.corrupted[train_rows].tolist()
        if split.noise_sd_val is not None:  # generated data: the true spread, against the first feature
            out["noise_sd"] = split.noise_sd_val[val_rows].tolist()
            out["x_val"] = split.X_val[val_rows, 0].astype(float).tolist()
    else:
        out["y_val"] = split.y_val[val_rows].tolist()
        if split.X_val.shape[1] == 2:  # two features: the points of the decision-boundary figure
            out["x_val"] = split.X_val[val_rows].astype(float).tolist()
    return out


# --- execution ---------------------------------------------------------------------------------------


def train_plans(plans: list[Plan], *, jobs: int = 1, runner: str = "local", scheduler: str | None = None,
                progress: bool = False, console=None) -> None:  # fmt: skip
    """Train the runs that every plan still needs, all of them together (one pool, one cluster session), each
    record kept by its plan as its run ends."""
    todo, owners = [], {}
    for planned in plans:
        for spec in planned.todo:
            owners[len(todo)] = planned, spec
            name = f"{planned.name}: {spec.label}" if len(plans) > 1 else spec.label
            todo.append(replace(spec, index=len(todo), label=name))

    def ended(record):
        planned, spec = owners[record.index]
        planned.record(spec, record)

    execute(todo, jobs=workers(jobs, max(len(todo), 1)), progress=progress, console=console, runner=runner,
            scheduler=scheduler, on_record=ended)  # fmt: skip


def execute(specs: list[RunSpec], *, jobs: int = 1, progress: bool = False, console=None, runner: str = "local",
            scheduler: str | None = None, on_record=None) -> list:  # fmt: skip
    """Run a grid of specs, here (``jobs=1``), in joblib worker processes, or on a Dask or Ray cluster
    (:mod:`~losskit.lab.clusters`); records in grid order, each passed to ``on_record`` as its run ends.

    With ``progress``, a bar per run shows its epochs, or, on a cluster or for more than ``BARS_PER_RUN`` runs,
    one bar counts the runs done and running."""
    on_record = on_record or (lambda record: None)
    bars = None
    if progress and specs:
        bars = _Bars(specs, console) if runner == "local" and len(specs) <= BARS_PER_RUN else _Tally(specs, console)
    advance = None if bars is None else bars.advance

    def ended(record):
        on_record(record)
        if bars is not None:
            bars.ended(record)
        return record

    with bars or nullcontext():
        if runner != "local":
            return clusters.train_all(specs, train, runner=runner, scheduler=scheduler, workers=jobs, done=ended,
                                      started=advance)  # fmt: skip
        if jobs == 1 or len(specs) <= 1:
            return [ended(train(spec, advance)) for spec in specs]
        joblib = need("joblib", "running in parallel (--jobs)")
        parallel = joblib.Parallel(n_jobs=jobs, return_as="generator")
        if bars is None:
            return [ended(record) for record in parallel(joblib.delayed(train)(spec) for spec in specs)]
        return _with_updates(parallel, joblib, specs, ended, advance)


def _with_updates(parallel, joblib, specs, ended, advance) -> list:
    """The parallel runs, their workers sending ``(index, epoch)`` after each epoch to ``advance`` here."""
    import multiprocessing

    # "spawn": forking a process that runs threads (PyTorch's, JAX's) can deadlock the child.
    with multiprocessing.get_context("spawn").Manager() as manager:
        updates = manager.Queue()
        outcome = {}

        def work():
            try:
                outcome["records"] = [ended(record) for record in
                                      parallel(joblib.delayed(_train_reporting)(spec, updates) for spec in specs)]
            except BaseException as error:  # re-raised in the calling thread below
                outcome["error"] = error
            finally:
                updates.put(None)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        while True:
            try:
                update = updates.get(timeout=0.2)
            except queue_module.Empty:
                continue
            if update is None:
                break
            advance(*update)
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return list(outcome["records"])


def _train_reporting(spec: RunSpec, updates):
    """Train in a worker, sending ``(index, epoch)`` after each epoch to the parent's progress bars."""
    return train(spec, lambda index, epoch: updates.put((index, epoch)))


class _Bars:
    """A Rich progress bar per run: its loss, its seed and its epochs."""

    def __init__(self, specs: list[RunSpec], console=None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        width = max(len(spec.label) for spec in specs)
        self.progress = Progress(
            TextColumn(f"{{task.description:<{width + 8}}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epochs"),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks = {
            spec.index: self.progress.add_task(f"{spec.label} seed {spec.seed}", total=spec.epochs, start=False)
            for spec in specs
        }

    def advance(self, index: int, epoch: int) -> None:
        task = self.tasks[index]
        if epoch == 0:
            self.progress.start_task(task)
        self.progress.update(task, completed=epoch)

    def ended(self, record) -> None:
        self.progress.start_task(self.tasks[record.index])
        self.progress.update(self.tasks[record.index], completed=len(record.history["epoch"]) - 1)

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


class _Tally(_Bars):
    """One Rich progress bar for a whole grid: the runs done, and how many are running (those that began their
    first epoch and have not ended; a run a lost worker had begun counts once, on the worker that retrains it)."""

    def __init__(self, specs: list[RunSpec], console=None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.running: set[int] = set()
        self.progress = Progress(
            TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TextColumn("done, {task.fields[running]} running"),
            TimeElapsedColumn(), console=console,
        )  # fmt: skip
        self.task = self.progress.add_task("runs", total=len(specs), running=0)

    def advance(self, index: int, epoch: int) -> None:
        if epoch == 0:
            self.running.add(index)
            self.progress.update(self.task, running=len(self.running))

    def ended(self, record) -> None:
        self.running.discard(record.index)
        self.progress.update(self.task, advance=1, running=len(self.running))
