"""The report's figures, as matplotlib ``Figure`` objects (no pyplot, no global state).

- :func:`learning_curves`: every recorded number per epoch, one line per loss (mean over seeds, the
  band spans the seeds' min to max);
- :func:`loss_curves`: the loss of one example and its gradient, drawn by ``losskit.plot``;
- :func:`outlier_influence`: regression: how hard one point pulls on the fit (``losskit.plot``);
- :func:`predictions`: regression: predictions against the truth, the outliers visible; binary:
  validation scores by class; multi-class: confusion matrices;
- :func:`calibration`: counts: the mean predicted against the mean observed, by bins of the prediction;
- :func:`intervals`: the 90% prediction intervals against the truth, and their spread against the first
  feature beside the true spread where the data are generated;
- :func:`reliability`: binary: the observed share of positives against the predicted probability;
- :func:`decision_boundaries`: binary on two features: where each loss puts the boundary and its margins;
- segmentation (in :func:`predictions`): the first validation images, their true masks and each loss's
  predicted mask; retrieval: each loss's validation embeddings on two principal components, by class.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import plot
from ..errors import InputError
from .candidates import shown_value
from .metrics import COVERAGE, NEEDS_PROBABILITIES, overlap_scores

COLORS = [f"C{i}" for i in range(10)]
#: Panel width and height, in inches.
PANEL = (4.2, 3.2)


def _figure(panels: int, ncols: int, size=PANEL):
    from matplotlib.figure import Figure

    ncols = min(ncols, panels)
    nrows = math.ceil(panels / ncols)
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows + 0.4), dpi=100, layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(panels)]
    return fig, axes


def _wrap(label: str) -> str:
    """A long label broken before its hyperparameters, for panel titles."""
    return label.replace("(", "\n(", 1) if len(label) > 28 else label


def _headline(result, run) -> str:
    """The run's first metric, for a panel title: "accuracy 0.947"."""
    metric = result.metrics[0]
    return f"{metric.label} {run.final[metric.key]:.3f}"


def _color(result, label: str) -> str:
    return COLORS[list(result.losses).index(label) % len(COLORS)]


def learning_curves(result):
    """Training and validation cost, every metric, and the gradient norm against the epoch."""
    panels = [
        ("train_cost", "training cost (its own loss)", True),
        ("val_cost", "validation cost (its own loss)", True),
        *((m.key, f"{m.measured_on} {m.label} ({m.direction})", False) for m in result.metrics),
        ("grad_norm", "gradient norm (training set)", True),
    ]  # fmt: skip
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    fig, axes = _figure(len(panels), 4 if len(panels) in (7, 8) else 3)
    for ax, (key, title, log) in zip(axes, panels):
        for label in result.losses:
            runs = result.runs_of(label)
            values = np.asarray([run.history[key] for run in runs], dtype=np.float64)
            epochs = np.asarray(runs[0].history["epoch"])
            with warnings.catch_warnings():  # epochs after a divergence are NaN in every seed: left undrawn
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(values, axis=0)
                low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            color = _color(result, label)
            ax.plot(epochs, mean, color=color, linewidth=1.8, label=label)
            if len(runs) > 1:
                ax.fill_between(epochs, low, high, color=color, alpha=0.15, linewidth=0)
        finite = np.concatenate([np.asarray(run.history[key], dtype=np.float64) for run in result.runs])
        finite = finite[np.isfinite(finite)]
        if log and finite.size and finite.min() > 0:
            ax.set_yscale("log")
            # Ticks at 1, 2, 5 x 10^k, written 0.2 rather than 2 x 10^-1 (no mathtext: faster to draw).
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        if key in NEEDS_PROBABILITIES:
            title = title.replace("(", "† (", 1)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize="small")
    seeds = len(result.seeds)
    band = f"; bands span the {seeds} seeds (min to max)" if seeds > 1 else ""
    fig.suptitle(f"Learning curves: mean over seeds{band}")
    return fig


def _drawn(result) -> list[tuple[str, dict]]:
    """``(label, config)`` of each curve to draw: a multi-quantile head as one pinball per quantile."""
    drawn = []
    for label, config in result.losses.items():
        quantiles = config.get("quantile") if config.get("name") == "pinball" else None
        if isinstance(quantiles, (tuple, list)):
            drawn += [(label, {**config, "quantile": q}) for q in quantiles]
        else:
            drawn.append((label, config))
    return drawn


def _axis(config) -> str | None:
    """The x axis of a loss's curve (``losskit.plot.axis_label``), None if it has no curve of one variable."""
    try:
        return plot.axis_label(config)
    except InputError:  # an embedding loss, a compound one: no curve of one example
        return None


def _groups(result) -> dict:
    """The curves to draw (``_drawn``) by their x axis (``losskit.plot.axis_label``); losses without one left out."""
    groups: dict = {}
    for label, config in _drawn(result):
        axis = _axis(config)
        if axis is not None:
            groups.setdefault(axis, []).append((label, config))
    return groups


def undrawn(result) -> list[str]:
    """The compared losses that have no curve of one example (a compound loss, an embedding loss)."""
    return [label for label, config in result.losses.items() if _axis(config) is None]


def loss_curves(result):
    """The compared losses as functions of one example, with their gradients (None when none has a curve).

    Losses of one plot variable are drawn by ``losskit.plot.plot_losses``, one row of panels per
    variable. Binary losses mix the margin (hinge) and the logit (cross-entropy): for a positive
    example both are the model's score, so they share that x axis, each computed by ``losskit.plot.curve``.
    """
    groups = _groups(result)
    if not groups:  # embedding losses: no loss of one example to draw
        return None
    if result.task == "binary" and len(groups) > 1:
        return _score_curves(result)
    fig, axes = _figure(2 * len(groups), 2, size=(5.5, 4.2))
    axes = np.asarray(axes, dtype=object).reshape(len(groups), 2)
    for row, entries in zip(axes, groups.values()):
        plot.plot_losses([config for _, config in entries], ax=list(row))
        for ax in row:  # the colours of the learning curves, one per loss
            curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
            for (label, config), line in zip(entries, curves):
                line.set_color(_color(result, label))
                if "terms" in config:  # a compound loss: its weighted terms, as in the tables
                    line.set_label(label)
        row[0].legend(fontsize="small")
    fig.suptitle("The compared losses: one example's loss and gradient")
    return fig


#: The loss axis of the binary losses' figure stops here (the squared hinge reaches 25 at a score of -4).
SCORE_LOSS_CAP = 6.0


def _score_curves(result):
    x = np.linspace(-4.0, 4.0, 401)
    fig, axes = _figure(2, 2, size=(5.5, 4.2))
    for label, config in result.losses.items():
        values, grads = plot.curve(config, x)
        color = _color(result, label)
        axes[0].plot(x, values, color=color, linewidth=1.8, label=label)
        axes[1].plot(x, grads, color=color, linewidth=1.8, label=label)
    axes[1].axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    top = min(max(line.get_ydata().max() for line in axes[0].get_lines()), SCORE_LOSS_CAP)
    axes[0].set_ylim(-0.05 * top, 1.05 * top)  # a squared hinge would flatten the others: cut it off
    axes[0].set_title("loss of one example" + (f" (cut off at {SCORE_LOSS_CAP:g})" if top == SCORE_LOSS_CAP else ""))
    axes[1].set_title("its derivative (the gradient)")
    axes[0].set_ylabel("loss")
    axes[1].set_ylabel("d loss / d score")
    for ax in axes:
        ax.set_xlabel("score of a positive example (its logit, or its margin t * score)")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle("The compared losses: one example's loss and gradient")
    return fig


def outlier_influence(result):
    """Regression: the pull of one point on the fit as its residual grows (``losskit.plot``), for the compared
    losses of a residual; None when there is none."""
    configs = [config for config in result.losses.values() if plot.residual_loss(config)]
    return plot.plot_outlier_influence(configs, figsize=(11, 4.2)) if configs else None


def shown_words(truth) -> str:
    """What share of the validation set a figure draws, in words (empty when all of it)."""
    shown, total = truth.get("shown_validation_rows"), truth.get("validation_rows")
    return f" ({shown:,} of {total:,} validation rows drawn at random)" if shown and total and shown < total else ""


def predictions(result, seed: int | None = None):
    """The fitted model's outputs on one seed: a figure per task (see the module docstring)."""
    seed = result.seeds[0] if seed is None else seed
    truth = next(d for d in result.data if d["seed"] == seed)
    labels = list(result.losses)
    runs = {label: next(r for r in result.runs_of(label) if r.seed == seed) for label in labels}
    if result.task == "regression":
        return _regression_predictions(result, truth, runs, seed)
    if result.task == "segmentation":
        return _masks(result, truth, runs, seed)
    if result.task == "retrieval":
        return _embeddings(result, truth, runs, seed)
    if result.task == "binary":
        return _binary_scores(result, truth, runs, seed)
    return _confusion(result, truth, runs, seed)


def _regression_predictions(result, truth, runs, seed):
    fig, axes = _figure(len(runs), 3, size=(4.2, 3.5))
    y_val = np.asarray(truth["y_val"])
    y_train = np.asarray(truth["y_train"])
    corrupted = np.asarray(truth["corrupted"], dtype=bool)
    # Both axes span the validation targets and the predictions: outliers far off are drawn at the edge.
    low, high = y_val.min(), y_val.max()
    # The y axis spans the predictions and the clean targets, not the outliers: the fits stay readable.
    outputs = np.concatenate([np.asarray(run.outputs["val"] + run.outputs["train"]) for run in runs.values()])
    outputs = outputs[np.isfinite(outputs)]
    y_low = min(y_val.min(), outputs.min() if outputs.size else y_val.min())
    y_high = max(y_val.max(), outputs.max() if outputs.size else y_val.max())
    for ax, (label, run) in zip(axes, runs.items()):
        val = np.asarray(run.outputs["val"])
        train = np.asarray(run.outputs["train"])
        ax.plot([low, high], [low, high], color="0.5", linewidth=1, linestyle="--", zorder=0)
        ax.scatter(y_val, val, s=9, color=_color(result, label), alpha=0.7, label="validation", rasterized=True)
        if corrupted.any():
            edge = high + 0.02 * (high - low)
            ax.scatter(np.minimum(y_train[corrupted], edge), train[corrupted], s=22, marker="x", color="crimson",
                       linewidths=1.2, label="training outliers (off the axis: at its edge)", rasterized=True)  # fmt: skip
        bias = run.final.get("bias", float("nan"))
        mae = run.final.get("mae", float("nan"))
        ax.set_title(f"{_wrap(label)}\nbias {bias:+.3g}, MAE {mae:.3g}", fontsize="medium")
        ax.set_xlabel(f"true {result.source['target']}")
        ax.set_xlim(low - 0.03 * (high - low), high + 0.03 * (high - low))
        ax.set_ylim(y_low - 0.05 * (y_high - y_low), y_high + 0.05 * (y_high - y_low))
        ax.grid(True, alpha=0.3)
    for ax in axes[:: min(3, len(axes))]:
        ax.set_ylabel("prediction")
    axes[0].legend(fontsize="small", loc="lower right")
    crosses = ";\ncrosses are training targets turned into outliers, at their corrupted value" if corrupted.any() else ""
    fig.suptitle(f"Predictions against the truth (seed {seed}){shown_words(truth)}: dots on the dashed line are perfect{crosses}")
    return fig


def _binary_scores(result, truth, runs, seed):
    fig, axes = _figure(len(runs), 4, size=(3.8, 3.2))
    y = np.asarray(truth["y_val"])
    classes = truth.get("classes") or [0, 1]
    for ax, (label, run) in zip(axes, runs.items()):
        scores = np.asarray(run.outputs["val"], dtype=np.float64)
        finite = np.isfinite(scores)
        if not finite.any():  # a diverged run: nothing to draw
            ax.text(0.5, 0.5, "no finite scores:\ntraining diverged", ha="center", va="center", transform=ax.transAxes)
        else:
            low, high = scores[finite].min(), scores[finite].max()
            bins = np.linspace(low, high, 31) if high > low else np.linspace(low - 0.5, high + 0.5, 31)
            for k, color in ((0, "tab:blue"), (1, "tab:orange")):
                ax.hist(scores[finite & (y == k)], bins=bins, color=color, alpha=0.6, label=f"class {classes[k]}")
        ax.axvline(0.0, color="0.3", linewidth=1)
        ax.set_title(f"{_wrap(label)}\n{_headline(result, run)}", fontsize="medium")
        ax.set_xlabel("validation score (decision at 0)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("examples")
    axes[0].legend(fontsize="small")
    fig.suptitle(f"Validation scores by true class (seed {seed}){shown_words(truth)}")
    return fig


def _confusion(result, truth, runs, seed):
    fig, axes = _figure(len(runs), 3, size=(4.0, 4.8))
    n = len(truth.get("classes") or np.unique(truth["y_val"]))
    for ax, (label, run) in zip(axes, runs.items()):
        matrix = np.asarray(run.outputs["confusion"])  # of every validation row
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                        color="white" if count > matrix.max() / 2 else "black")  # fmt: skip
        ax.set_title(f"{_wrap(label)}\n{_headline(result, run)}", fontsize="medium")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
    fig.suptitle(f"Confusion matrices on {result.validation_set} (seed {seed})")
    return fig


#: Validation images the masks figure shows, at most (one row each).
MASK_ROWS = 4


def _masks(result, truth, runs, seed):
    """A row per validation image: the image, its true mask, and each loss's predicted mask with the true outline."""
    from matplotlib.colors import ListedColormap

    images = np.asarray(truth["images"], dtype=np.float64)[:MASK_ROWS]
    masks = np.asarray(truth["y_val"], dtype=bool)[: len(images)]
    columns = 2 + len(runs)
    fig, axes = _figure(columns * len(images), columns, size=(1.75, 1.75))
    axes = np.asarray(axes, dtype=object).reshape(len(images), columns)
    for row, (image, mask) in enumerate(zip(images, masks)):
        axes[row, 0].imshow(image, cmap="gray", interpolation="nearest")
        axes[row, 1].imshow(mask, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        for column, (label, run) in enumerate(runs.items(), start=2):
            predicted = np.asarray(run.outputs["val"], dtype=bool)[row]
            iou, _ = overlap_scores(mask[None], predicted[None])
            ax = axes[row, column]
            ax.imshow(predicted, cmap=ListedColormap(["white", _color(result, label)]), vmin=0, vmax=1,
                      interpolation="nearest")  # fmt: skip
            ax.contour(mask.astype(float), levels=[0.5], colors="black", linewidths=0.8)
            ax.set_xlabel(f"IoU {iou[0]:.2f}", fontsize="small", labelpad=1)
            if row == 0:
                ax.set_title(_wrap(label), fontsize="small")
    axes[0, 0].set_title("image", fontsize="small")
    axes[0, 1].set_title("true mask", fontsize="small")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Predicted masks (probability > 0.5) of the first validation images (seed {seed}); black: the "
                 "true outline")  # fmt: skip
    return fig


def _embeddings(result, truth, runs, seed):
    """Each loss's validation embeddings on their first two principal components, coloured by class."""
    labels = np.asarray(truth["y_val"])
    classes = truth.get("classes") or sorted(set(labels.tolist()))
    fig, axes = _figure(len(runs), 3, size=(4.2, 4.0))
    for ax, (label, run) in zip(axes, runs.items()):
        points = np.asarray(run.outputs["projection"], dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(points).all():
            ax.text(0.5, 0.5, "no finite embeddings:\ntraining diverged", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
        else:
            for k, name in enumerate(classes):
                chosen = labels == k
                ax.scatter(points[chosen, 0], points[chosen, 1], s=6, color=COLORS[k % len(COLORS)], alpha=0.7,
                           label=str(name), rasterized=True)  # fmt: skip
        ax.set_title(f"{_wrap(label)}\n{_headline(result, run)}", fontsize="medium")
        ax.set_xlabel("first principal component")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("second principal component")
    axes[0].legend(fontsize="x-small", title=result.source["target"], markerscale=2, ncols=2)
    fig.suptitle(f"Validation embeddings (L2-normalised) on their first two principal components (seed {seed})"
                 f"{shown_words(truth)}")  # fmt: skip
    return fig


def calibration(result, bins: int = 10):
    """Counts: the mean observed target against the mean prediction in bins of equal size of each loss's
    predictions (validation rows of the first seed): a calibrated model lies on the diagonal."""
    seed = result.seeds[0]
    truth = np.asarray(next(d for d in result.data if d["seed"] == seed)["y_val"], dtype=np.float64)
    fig, (ax,) = _figure(1, 1, size=(5.6, 4.6))
    top = 0.0
    for label in result.losses:
        predicted = np.asarray(next(r for r in result.runs_of(label) if r.seed == seed).outputs["val"], dtype=np.float64)
        if not np.isfinite(predicted).all():
            continue
        groups = np.array_split(np.argsort(predicted, kind="stable"), bins)
        means = np.asarray([(predicted[g].mean(), truth[g].mean()) for g in groups if g.size])
        ax.plot(means[:, 0], means[:, 1], marker="o", color=_color(result, label), label=label)
        top = max(top, float(means.max()))
    ax.plot([0.0, top], [0.0, top], color="0.5", linestyle="--", linewidth=1, zorder=0, label="_calibrated")
    ax.set_xlabel(f"mean predicted {result.source['target']} (bins of the prediction)")
    ax.set_ylabel(f"mean observed {result.source['target']}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.suptitle(f"Calibration on {result.validation_set} (seed {seed}), {bins} bins of equal size")
    return fig


def intervals(result):
    """The 90% interval of each loss against the truth (validation rows of the first seed, sorted by the
    point prediction) and, for generated data, the predicted spread against the first feature."""
    seed = result.seeds[0]
    data = next(d for d in result.data if d["seed"] == seed)
    truth = np.asarray(data["y_val"], dtype=np.float64)
    runs = {label: next(r for r in result.runs_of(label) if r.seed == seed) for label in result.losses}
    spread = "noise_sd" in data and any("sd" in run.outputs for run in runs.values())
    fig, axes = _figure(len(runs) + spread, 3, size=(4.4, 3.6))
    for ax, (label, run) in zip(axes, runs.items()):
        point, low, high = (np.asarray(run.outputs[key], dtype=np.float64) for key in ("val", "low", "high"))
        order = np.argsort(point, kind="stable")
        rank = np.arange(point.size)
        inside = (low <= truth) & (truth <= high)
        ax.fill_between(rank, low[order], high[order], color=_color(result, label), alpha=0.25, linewidth=0)
        ax.plot(rank, point[order], color=_color(result, label), linewidth=1)
        ax.scatter(rank, truth[order], s=5, c=np.where(inside[order], "0.25", "crimson"), rasterized=True)
        ax.set_title(f"{_wrap(label)}\n{inside.mean():.0%} of the truth inside", fontsize="medium")
        ax.set_xlabel("validation rows, by prediction")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(result.source["target"])
    if spread:
        ax = axes[-1]
        x = np.asarray(data["x_val"], dtype=np.float64)
        order = np.argsort(x, kind="stable")
        for label, run in runs.items():
            if "sd" in run.outputs:
                sd = np.asarray(run.outputs["sd"], dtype=np.float64)
                ax.scatter(x, sd, s=5, color=_color(result, label), alpha=0.6, label=label, rasterized=True)
        ax.plot(x[order], np.asarray(data["noise_sd"])[order], color="black", linewidth=1.5, label="true sd")
        ax.set_title("predicted spread (standard deviation)", fontsize="medium")
        ax.set_xlabel(f"{result.source['features'][0]} (standardised)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", markerscale=3)
    fig.suptitle(f"{COVERAGE:.0%} prediction intervals on {result.validation_set} (seed {seed}){shown_words(data)}: "
                 "crimson dots fall outside")  # fmt: skip
    return fig


def _sigmoid(s):
    return 0.5 * np.tanh(0.5 * np.asarray(s, dtype=np.float64)) + 0.5


def reliability(result, bins: int = 10):
    """Binary: the reliability diagram of sigmoid(score), pooled over the seeds' validation rows: the observed
    share of positives in bins of equal width of the predicted probability, and how many rows each bin holds."""
    from sklearn.calibration import calibration_curve

    truth = {d["seed"]: np.asarray(d["y_val"]) for d in result.data}
    fig, (ax, counts) = _figure(2, 2, size=(5.2, 4.4))
    edges = np.linspace(0.0, 1.0, bins + 1)
    for label in result.losses:
        runs = result.runs_of(label)
        p = np.concatenate([_sigmoid(run.outputs["val"]) for run in runs])
        y = np.concatenate([truth[run.seed] for run in runs])
        if not np.isfinite(p).all():
            continue
        observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
        mark = " †" if label in _uncalibrated(result) else ""
        ax.plot(predicted, observed, marker="o", color=_color(result, label), label=label + mark)
        counts.hist(p, bins=edges, histtype="step", linewidth=1.5, color=_color(result, label), label=label)
    ax.plot([0.0, 1.0], [0.0, 1.0], color="0.5", linestyle="--", linewidth=1, zorder=0)
    ax.set_xlabel("predicted probability, sigmoid(score)")
    ax.set_ylabel("observed share of positives")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    counts.set_yscale("log")
    counts.set_xlabel("predicted probability")
    counts.set_ylabel("validation rows")
    counts.grid(True, alpha=0.3)
    seeds = len(result.seeds)
    fig.suptitle(f"Reliability on {result.validation_set} ({seeds} seed{'s' if seeds != 1 else ''} pooled), "
                 f"{bins} bins of equal width: a calibrated model lies on the diagonal")  # fmt: skip
    return fig


def _uncalibrated(result) -> set:
    from .summary import eligible

    ece = next((m for m in result.metrics if m.key in NEEDS_PROBABILITIES), None)
    return set(result.losses) - set(eligible(result.losses, ece)) if ece is not None else set()


def decision_boundaries(result):
    """Binary on two features: each loss's decision boundary (score 0) and margins (scores -1 and +1) over the
    validation points of the first seed, and every boundary together in the last panel."""
    seed = result.seeds[0]
    data = next(d for d in result.data if d["seed"] == seed)
    x, y = np.asarray(data["x_val"], dtype=np.float64), np.asarray(data["y_val"])
    runs = {label: next(r for r in result.runs_of(label) if r.seed == seed) for label in result.losses}
    fig, axes = _figure(len(runs) + 1, 4, size=(3.6, 3.4))
    together = axes[-1]
    for ax in axes:
        for k, color in ((0, "tab:blue"), (1, "tab:orange")):
            ax.scatter(x[y == k, 0], x[y == k, 1], s=8, color=color, alpha=0.5, linewidths=0, rasterized=True)
    for ax, (label, run) in zip(axes, runs.items()):
        grid = run.outputs["grid"]
        scores = np.asarray(grid["scores"], dtype=np.float64)
        if not np.isfinite(scores).all() or scores.min() > 0 or scores.max() < 0:
            ax.set_title(f"{_wrap(label)}\nno boundary in view", fontsize="medium")
            continue
        color = _color(result, label)
        ax.contour(grid["x"], grid["y"], scores, levels=[-1.0, 0.0, 1.0], colors=[color], linewidths=[0.8, 2.0, 0.8],
                   linestyles=["dashed", "solid", "dashed"])  # fmt: skip
        together.contour(grid["x"], grid["y"], scores, levels=[0.0], colors=[color], linewidths=1.6)
        together.plot([], [], color=color, label=label)
        ax.set_title(f"{_wrap(label)}\n{_headline(result, run)}", fontsize="medium")
    together.set_title("every boundary", fontsize="medium")
    together.legend(fontsize="x-small", loc="best")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Decision boundaries (solid: score 0) and margins (dashed: scores -1 and +1) over {result.validation_set} "
                 f"(seed {seed}): blue and orange are the true classes")  # fmt: skip
    return fig


def sweep(result):
    """A sweep's metrics against each swept hyperparameter: one row of panels per swept loss and hyperparameter,
    one panel per metric; the mean over seeds with the band of the seeds (min to max), a line per combination of
    the loss's other swept hyperparameters; the losses compared beside it as dashed levels. None without a sweep."""
    swept = result.settings.get("sweep") or {}
    rows = [(name, param) for name, params in swept.items() for param in params]
    if not rows:
        return None
    metrics = result.metrics
    fig, axes = _figure(len(rows) * len(metrics), len(metrics), size=(3.6, 3.0))
    others = [label for label, config in result.losses.items() if config.get("name") not in swept]
    for row, (name, param) in enumerate(rows):
        series: dict = {}
        for label, config in result.losses.items():
            if config.get("name") == name:
                rest = ", ".join(f"{p}={shown_value(config[p])}" for p in swept[name] if p != param)
                series.setdefault(rest, []).append((config[param], label))
        values = [value for points in series.values() for value, _ in points]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        order = sorted(set(values)) if numeric else list(dict.fromkeys(map(str, values)))
        for col, metric in enumerate(metrics):
            ax = axes[row * len(metrics) + col]
            for k, (rest, points) in enumerate(series.items()):
                points = sorted(points, key=lambda point: order.index(point[0] if numeric else str(point[0])))
                x = [v if numeric else order.index(str(v)) for v, _ in points]
                cells = [result.summary[label][metric.key] for _, label in points]
                color = COLORS[k % len(COLORS)]
                ax.plot(x, [c["mean"] for c in cells], marker="o", color=color, label=rest or name)
                if len(result.seeds) > 1:
                    ax.fill_between(x, [c["min"] for c in cells], [c["max"] for c in cells], color=color,
                                    alpha=0.15, linewidth=0)  # fmt: skip
            for k, label in enumerate(others):
                cell = result.summary[label][metric.key]
                ax.axhline(cell["mean"], color=f"{0.2 + 0.5 * k / max(len(others), 1):.2f}", linestyle="--",
                           linewidth=1.2, label=label)  # fmt: skip
            if numeric and min(order) > 0 and max(order) / min(order) >= 20:
                ax.set_xscale("log")
            if not numeric:
                ax.set_xticks(range(len(order)), order)
            ax.set_title(f"{metric.label} ({metric.direction})", fontsize="medium")
            ax.set_xlabel(f"{name} {param}")
            ax.grid(True, alpha=0.3)
        axes[row * len(metrics)].legend(fontsize="small")
    seeds = len(result.seeds)
    fig.suptitle("Sweep: mean over seeds" + (f"; bands span the {seeds} seeds (min to max)" if seeds > 1 else ""))
    return fig
