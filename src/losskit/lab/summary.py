"""Numbers across seeds: mean and spread per loss, the best loss per metric, and a written reading.

Spread is the sample standard deviation over seeds (0 with one seed); min and max are kept too. A
difference between two losses is called clear when it is larger than the standard deviation of
either, and "within the spread" otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from .. import registry
from .metrics import NEEDS_PROBABILITIES, Metric, calibrated

#: Numbers aggregated besides the metrics (regression adds ``bias``).
EXTRA_KEYS = ("train_cost", "val_cost", "grad_norm", "wall_time")


def fmt(value: float, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, ``n/a`` for NaN."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def stats(values) -> dict:
    """Mean, sample standard deviation, min, max and the values themselves (NaN-aware)."""
    values = [float(v) for v in values]
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "min": nan, "max": nan, "values": values}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std(ddof=1)) if finite.size > 1 else 0.0,
        "min": float(finite.min()),
        "max": float(finite.max()),
        "values": values,
    }


def aggregate(labels, runs, metrics: tuple[Metric, ...]) -> dict:
    """``{label: {key: stats}}`` of each loss's final numbers over its seeds."""
    keys = [m.key for m in metrics] + list(EXTRA_KEYS)
    if any("bias" in run.final for run in runs):
        keys.append("bias")
    return {
        label: {key: stats(run.final.get(key, float("nan")) for run in runs if run.label == label) for key in keys}
        for label in labels
    }


def eligible(losses: dict, metric: Metric) -> list[str]:
    """The losses ranked on a metric: on log-loss only those that calibrate probabilities, if any do."""
    labels = list(losses)
    if metric.key in NEEDS_PROBABILITIES:
        proper = [label for label in labels if calibrated(registry.get(losses[label]))]
        return proper or labels
    return labels


def best(losses: dict, table: dict, metrics: tuple[Metric, ...]) -> dict:
    """``{metric key: label}`` of the best mean per metric (None when no loss has a number)."""
    winners = {}
    for metric in metrics:
        labels = eligible(losses, metric)
        index = metric.best([table[label][metric.key]["mean"] for label in labels])
        winners[metric.key] = None if index is None else labels[index]
    return winners


def words(items) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def ties(losses: dict, table: dict, metric: Metric) -> list[str]:
    """Every ranked loss whose mean equals the best one's (the winner first): all are marked best."""
    winner = best(losses, table, (metric,))[metric.key]
    if winner is None:
        return []
    top = table[winner][metric.key]["mean"]
    return [winner] + [
        label for label in eligible(losses, metric)
        if label != winner and math.isclose(table[label][metric.key]["mean"], top, rel_tol=1e-12, abs_tol=1e-15)
    ]  # fmt: skip


def _gap_words(metric: Metric, first: dict, second: dict, seeds: int) -> str:
    gap = abs(first["mean"] - second["mean"])
    relative = gap / abs(second["mean"]) if second["mean"] else float("nan")
    text = f"by {fmt(gap, 3)}" + (f" ({relative:.1%})" if math.isfinite(relative) and relative >= 0.0005 else "")
    if seeds < 2:
        return text + "; one seed gives no spread to judge by (repeat with more seeds)"
    spread = max(first["std"], second["std"])
    if gap > spread:
        return text + ", more than the seed-to-seed spread"
    return text + ", within the seed-to-seed spread: no clear winner between them"


def reading(result) -> list[str]:
    """A short written reading of a result: who won which metric, by how much, over how many seeds.

    Parameters
    ----------
    result : LabResult

    Returns
    -------
    list of str
        Paragraphs, plain text.
    """
    table, seeds = result.summary, len(result.seeds)
    labels = list(result.losses)
    seed_words = f"{seeds} seed{'s' if seeds != 1 else ''}"
    lines = []
    wins = {label: 0 for label in labels}
    for metric in result.metrics:
        ranked = eligible(result.losses, metric)
        means = [table[label][metric.key]["mean"] for label in ranked]
        winner = result.best.get(metric.key)
        direction = "higher" if metric.higher_is_better else "lower"
        if winner is None:
            lines.append(f"{metric.label}: no loss produced a number.")
            continue
        order = sorted(
            (i for i, v in enumerate(means) if math.isfinite(v)),
            key=lambda i: -means[i] if metric.higher_is_better else means[i],
        )
        top = table[winner][metric.key]
        tied = ties(result.losses, table, metric)
        for label in tied:
            wins[label] += 1
        if len(tied) > 1:
            text = f"{metric.label} ({direction} is better): {words(tied)} tie for best at {fmt(top['mean'])}"
        else:
            text = (
                f"{metric.label} ({direction} is better): {winner} is best with {fmt(top['mean'])} "
                f"± {fmt(top['std'], 2)}"
            )
        if len(ranked) == 1 and len(labels) > 1:
            text += " (the only proper scoring rule compared)"
        if len(order) > len(tied):
            runner = ranked[order[len(tied)]]
            second = table[runner][metric.key]
            text += f", ahead of {runner} ({fmt(second['mean'])}) {_gap_words(metric, top, second, seeds)}"
            if len(order) > len(tied) + 1:
                worst = ranked[order[-1]]
                last = table[worst][metric.key]
                text += f"; the worst is {worst} ({fmt(last['mean'])})"
        lines.append(text + ".")
    if "bias" in next(iter(table.values())):
        biases = sorted(((table[label]["bias"]["mean"], label) for label in labels), key=lambda t: -abs(t[0]))
        parts = ", ".join(f"{label} {value:+.3g}" for value, label in biases if math.isfinite(value))
        corrupted = result.settings.get("outliers", 0)
        cause = "The outliers pull the fits" if corrupted else "Systematic error of the fits"
        lines.append(
            f"{cause}: the mean error of the predictions on the clean validation set (prediction minus truth, "
            f"in the target's units) is {parts}."
        )
    excluded = [
        label for metric in result.metrics if metric.key in NEEDS_PROBABILITIES
        for label in labels if label not in eligible(result.losses, metric)
    ]  # fmt: skip
    if excluded:
        lines.append(
            f"Log-loss of {words(excluded)} is computed on sigmoid(score), which "
            f"{'this loss does' if len(excluded) == 1 else 'these losses do'} not calibrate (marked †); only the "
            "proper scoring rules are ranked on it."
        )
    times = [(table[label]["wall_time"]["mean"], label) for label in labels]
    times = [(seconds, label) for seconds, label in times if math.isfinite(seconds)]
    if times:
        fastest, slowest = min(times), max(times)
        lines.append(
            f"Training time per run (optimisation steps only): {fmt(fastest[0], 2)} s ({fastest[1]}) to "
            f"{fmt(slowest[0], 2)} s ({slowest[1]})."
        )
    diverged = sorted({run.label for run in result.runs if run.diverged_at is not None})
    if diverged:
        lines.append(f"Training diverged (a non-finite cost) for {', '.join(diverged)}: lower the learning rate.")
    leader = max(labels, key=lambda label: wins[label])
    metric_count = len(result.metrics)
    if wins[leader]:
        lines.insert(
            0,
            f"Over {seed_words}, {leader} is best on {wins[leader]} of {metric_count} "
            f"metric{'s' if metric_count != 1 else ''} measured on the clean validation set.",
        )
    return lines
