"""What a lab run returns: every run's record, the summary over seeds, and ways to show or save them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._json import dumps
from .files import write_file
from . import summary
from .metrics import METRIC_SETS, NEEDS_PROBABILITIES, Metric
from .models import TREE_MODELS
from .training import HISTORY_COLUMNS, RunRecord


@dataclass
class LabResult:
    """The outcome of :func:`losskit.lab.run`.

    Attributes
    ----------
    task : str
    title : str
        What the experiment is, in one line.
    source : dict
        The data: name, description, target, feature names.
    settings : dict
        Everything that was asked (model, optimiser, epochs, seeds, corruption, ...).
    losses : dict
        ``{label: config}`` of the compared losses, in table order (the first is the baseline).
    runs : list of RunRecord
        One per loss and seed.
    data : list of dict
        Per seed: sizes and the validation truth (and for regression the corrupted training
        targets), for the report's figures.
    summary : dict
        ``{label: {key: {"mean", "std", "min", "max", "values"}}}`` over seeds.
    best : dict
        ``{metric key: label}``.
    reading : list of str
        The written reading.
    files : dict
        ``{"results": path, "history": path, "report": path}`` once saved.
    """

    task: str
    title: str
    source: dict
    settings: dict
    losses: dict
    runs: list[RunRecord]
    data: list[dict]
    summary: dict = field(default_factory=dict)
    best: dict = field(default_factory=dict)
    reading: list[str] = field(default_factory=list)
    files: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.summary:
            self.summary = summary.aggregate(self.losses, self.runs, self.metrics)
            self.best = summary.best(self.losses, self.summary, self.metrics)
            self.reading = summary.reading(self)

    @property
    def corrupted(self) -> bool:
        """Whether the training targets were corrupted (outliers, flipped labels): the validation set is "clean"."""
        return bool(self.settings.get("outliers") or self.settings.get("label_noise"))

    @property
    def validation_set(self) -> str:
        """How the text names the validation set: "the clean validation set" only beside corrupted training data."""
        return "the clean validation set" if self.corrupted else "the validation set"

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The metrics, in table order: the experiment's set (``settings["metrics"]``) or the task's."""
        return METRIC_SETS[self.settings.get("metrics") or self.task]

    @property
    def seeds(self) -> list[int]:
        return sorted({run.seed for run in self.runs})

    def runs_of(self, label: str) -> list[RunRecord]:
        """The runs of one loss, by seed."""
        return sorted((run for run in self.runs if run.label == label), key=lambda run: run.seed)

    def marked(self, label: str, key: str) -> str:
        """``"†"`` where a number is shown but not ranked (log-loss of a margin loss), else ``""``."""
        if key in NEEDS_PROBABILITIES and label not in summary.eligible(self.losses, _metric(self.metrics, key)):
            return "†"
        return ""

    # --- tables -------------------------------------------------------------------------------------

    def rows(self) -> list[dict]:
        """The final table: one row per loss, each metric's mean and spread, and whether it is best."""
        tied = {metric.key: summary.ties(self.losses, self.summary, metric) for metric in self.metrics}
        rows = []
        for label in self.losses:
            row = {"loss": label, "cells": []}
            for metric in self.metrics:
                s = self.summary[label][metric.key]
                row["cells"].append({
                    "key": metric.key, "mean": s["mean"], "std": s["std"],
                    "best": label in tied[metric.key], "mark": self.marked(label, metric.key),
                })  # fmt: skip
            row["wall_time"] = self.summary[label]["wall_time"]["mean"]
            rows.append(row)
        return rows

    def table(self):
        """The summary as a ``rich.table.Table``: mean ± sd per metric, the best marked ★."""
        from rich import box
        from rich.table import Table

        seeds = len(self.seeds)
        spread = f"mean ± sd over {seeds} seeds" if seeds > 1 else "one seed, so no spread"
        title = (
            f"{self.title}: metrics on {self.validation_set} after {self.settings['epochs']} epochs"
            f"{' (boosting rounds)' if self.settings['model'] in TREE_MODELS else ''}, "
            f"{spread} (★ best)"
        )
        # A cell wraps between its mean and its spread rather than lose a digit: the numbers are the product.
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("loss", overflow="fold", style="bold", min_width=6)
        for metric in self.metrics:
            table.add_column(f"{metric.label} {metric.arrow}", justify="right", overflow="fold")
        table.add_column("train s", justify="right", overflow="fold")
        for row in self.rows():
            cells = []
            for cell in row["cells"]:
                text = summary.fmt(cell["mean"]) + (f" ± {summary.fmt(cell['std'], 2)}" if seeds > 1 else "")
                text += cell["mark"]
                cells.append(f"[bold green]★ {text}[/]" if cell["best"] else text)
            table.add_row(row["loss"], *cells, summary.fmt(row["wall_time"], 2))
        return table

    # --- files --------------------------------------------------------------------------------------

    def history_rows(self) -> list[dict]:
        """One row per loss, seed and epoch: everything recorded (the rows of history.csv)."""
        keys = [*HISTORY_COLUMNS, *(m.key for m in self.metrics)]
        rows = []
        for label in self.losses:
            for run in self.runs_of(label):
                for i in range(len(run.history["epoch"])):
                    rows.append({"loss": label, "seed": run.seed, **{key: run.history[key][i] for key in keys}})
        return rows

    def to_dict(self, predictions: bool = True) -> dict:
        """Every number, as plain data (what results.json holds); without ``predictions``, no per-row numbers."""
        data, runs = self.data, [run.to_dict() for run in self.runs]
        if not predictions:
            rowwise = ("y_val", "y_train", "corrupted", "noise_sd", "x_val", "images")
            data = [{k: v for k, v in seed.items() if k not in rowwise} for seed in data]
            runs = [{**run, "outputs": {k: v for k, v in run["outputs"].items() if k == "confusion"}} for run in runs]
        return {
            "title": self.title,
            "task": self.task,
            "source": self.source,
            "settings": self.settings,
            "losses": self.losses,
            "metrics": [
                {"key": m.key, "label": m.label, "higher_is_better": m.higher_is_better, "target": m.target}
                for m in self.metrics
            ],
            "seeds": self.seeds,
            "summary": self.summary,
            "best": self.best,
            "reading": self.reading,
            "data": data,
            "runs": runs,
        }

    def save(self, out, *, report: bool = True, predictions: bool = False) -> dict:
        """Write results.json, history.csv and (with ``report``) report.html into the folder ``out``.

        Each file is written beside its place and then renamed into it, so that a link already there
        is replaced, never followed. results.json holds the figures' predictions only with
        ``predictions``.

        Returns
        -------
        dict
            ``{"results": Path, "history": Path, "report": Path}`` (no report without ``report``).
        """
        from . import report as report_module

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {"results": out / "results.json", "history": out / "history.csv"}
        write_file(files["results"], dumps(self.to_dict(predictions), indent=1) + "\n")
        write_file(files["history"], _csv_text(self.history_rows()))
        if report:
            files["report"] = write_file(out / "report.html", report_module.render(self))
        self.files = {key: str(path) for key, path in files.items()}
        return files


def _metric(metrics, key: str) -> Metric:
    return next(m for m in metrics if m.key == key)


def _csv_text(rows: list[dict]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()
