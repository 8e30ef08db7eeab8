"""Numbers across seeds: mean and spread per loss, the best loss per metric, and a written reading.

Spread is the sample standard deviation over seeds (NaN, "n/a", with one seed); min and max are kept too. A
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
        "std": float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
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
    top = metric.badness(table[winner][metric.key]["mean"])
    return [winner] + [
        label for label in eligible(losses, metric)
        if label != winner
        and math.isclose(metric.badness(table[label][metric.key]["mean"]), top, rel_tol=1e-12, abs_tol=1e-15)
    ]  # fmt: skip


#: Below this many validation rows the metrics are too noisy to compare losses by.
FEW_VALIDATION_ROWS = 30
#: A validation cost that fell by more than this share of its whole fall in the last tenth of the epochs is still falling.
STILL_FALLING = 0.02


def clear(first: dict, second: dict, seeds: int) -> bool:
    """Whether the gap between two losses' means is larger than the seed-to-seed spread of either."""
    return seeds >= 2 and abs(first["mean"] - second["mean"]) > max(first["std"], second["std"])


def still_falling(history: list) -> bool:
    """Whether a validation cost was still falling at the last epoch: its fall over the last tenth of the
    epochs (one at least) is more than ``STILL_FALLING`` of its fall since epoch 0."""
    values = np.asarray(history, dtype=np.float64)
    if values.size < 3 or not np.isfinite(values).all():
        return False
    whole = values[0] - values[-1]
    recent = values[-1 - max(1, (values.size - 1) // 10)] - values[-1]
    return bool(whole > 0 and recent > STILL_FALLING * whole)


def _gap_words(metric: Metric, first: dict, second: dict, seeds: int) -> str:
    gap = abs(first["mean"] - second["mean"])
    relative = gap / abs(second["mean"]) if second["mean"] else float("nan")
    text = f"by {fmt(gap, 3)}" + (f" ({relative:.1%})" if math.isfinite(relative) and relative >= 0.0005 else "")
    if seeds < 2:
        return text + "; one seed gives no spread to judge by (repeat with more seeds)"
    if clear(first, second, seeds):
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
    wins = {label: 0 for label in labels}  # metrics won by more than the seed-to-seed spread
    for metric in result.metrics:
        ranked = eligible(result.losses, metric)
        means = [table[label][metric.key]["mean"] for label in ranked]
        winner = result.best.get(metric.key)
        if winner is None:
            lines.append(f"{metric.label}: no loss produced a number.")
            continue
        badness = metric.badness(means)
        order = sorted((i for i, v in enumerate(means) if math.isfinite(v)), key=lambda i: badness[i])
        top = table[winner][metric.key]
        tied = ties(result.losses, table, metric)
        if len(tied) > 1:
            text = f"{metric.label} ({metric.direction}): {words(tied)} tie for best at {fmt(top['mean'])}"
        else:
            text = (
                f"{metric.label} ({metric.direction}): {winner} is best with {fmt(top['mean'])} "
                f"± {fmt(top['std'], 2)}"
            )
        if len(ranked) == 1 and len(labels) > 1:
            text += " (the only proper scoring rule compared)"
        if len(order) > len(tied):
            runner = ranked[order[len(tied)]]
            second = table[runner][metric.key]
            text += f", ahead of {runner} ({fmt(second['mean'])}) {_gap_words(metric, top, second, seeds)}"
            if len(tied) == 1 and clear(top, second, seeds):
                wins[winner] += 1
            if len(order) > len(tied) + 1:
                worst = ranked[order[-1]]
                last = table[worst][metric.key]
                text += f"; the worst is {worst} ({fmt(last['mean'])})"
        lines.append(text + ".")
    if any(metric.key == "width" for metric in result.metrics):
        lines.append("A narrower interval is better only at its nominal coverage: read each width beside its coverage "
                     "(an interval that covers less is narrower for that reason alone).")  # fmt: skip
    if "bias" in next(iter(table.values())):
        biases = sorted(((table[label]["bias"]["mean"], label) for label in labels), key=lambda t: -abs(t[0]))
        parts = ", ".join(f"{label} {value:+.3g}" for value, label in biases if math.isfinite(value))
        corrupted = result.settings.get("outliers", 0)
        cause = "The outliers pull the fits" if corrupted else "Systematic error of the fits"
        lines.append(
            f"{cause}: the mean error of the predictions on {result.validation_set} (prediction minus truth, "
            f"in the target's units) is {parts}."
        )
    needing = [metric for metric in result.metrics if metric.key in NEEDS_PROBABILITIES]
    excluded = list(dict.fromkeys(
        label for metric in needing for label in labels if label not in eligible(result.losses, metric)
    ))  # fmt: skip
    if excluded:
        named = words([metric.label for metric in needing])
        lines.append(
            f"{named[0].upper() + named[1:]} of {words(excluded)} {'is' if len(needing) == 1 else 'are'} computed on "
            f"sigmoid(score), which {'this loss does' if len(excluded) == 1 else 'these losses do'} not calibrate "
            f"(marked †); only the proper scoring rules are ranked on {'it' if len(needing) == 1 else 'them'}."
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
    falling = [label for label in labels if any(still_falling(run.history["val_cost"]) for run in result.runs_of(label))]
    if falling:
        lines.append(
            f"The validation cost of {words(falling)} was still falling at the last epoch: training has not "
            "converged, so the comparison may change; raise --epochs (or stop early on the validation cost)."
        )
    rows = min(seed.get("validation_rows", FEW_VALIDATION_ROWS) for seed in result.data)
    if rows < FEW_VALIDATION_ROWS:
        lines.append(
            f"Only {rows} validation rows: the metrics are too noisy to rank losses by; use more data or a larger "
            "--val-fraction."
        )
    scaled = result.data[0].get("target_scale", 1.0) != 1.0
    if result.task == "regression" and scaled and any("delta" in config for config in result.losses.values()):
        lines.append(
            "Hyperparameters such as delta are in robust standard deviations of the training targets (the lab "
            "scales them by MAD / 0.6745 for training), not in the target's own units."
        )
    metric_count = len(result.metrics)
    measured = f"metric{'s' if metric_count != 1 else ''} measured on {result.validation_set}"
    leader = max(labels, key=lambda label: wins[label])
    if wins[leader]:
        headline = (f"Over {seed_words}, {leader} is clearly best (by more than the seed-to-seed spread) on "
                    f"{wins[leader]} of {metric_count} {measured}.")  # fmt: skip
    elif seeds < 2:
        headline = f"One seed gives no spread to judge by, so no loss is called best on the {metric_count} {measured}."
    else:
        headline = (f"Over {seed_words}, no loss is clearly best on any of the {metric_count} {measured}: every gap "
                    "is within the seed-to-seed spread.")  # fmt: skip
    lines.insert(0, headline)
    return lines
