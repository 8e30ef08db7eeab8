"""report.html: one self-contained page (figures inline as SVG, no network) that reads a lab result.

Sections: the written reading, the final metrics with the best value per metric marked, the
learning curves, the compared losses and their gradients, the fitted predictions, every run, and
the settings with the command that reproduces them.

A small inline script records, on the ``<html>`` element, how many figures the page has
(``data-figures``), how many the browser rendered with a non-zero size (``data-rendered``) and how
many script or loading errors it saw (``data-errors``): the test suite reads them in headless
Chromium.
"""

from __future__ import annotations

import base64
import html
import io
import shlex
from pathlib import Path

from .. import __version__
from ..plot import missing_glyphs_quiet
from . import figures
from .candidates import shown_value
from .models import TREE_MODELS, BoostedTrees
from .metrics import COVERAGE
from .files import write_file
from .summary import fmt

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a; margin: 0;
       background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #dde1e6; }
.sub { color: #56606b; margin: 0; }
ul.reading li { margin: 4px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e4e7eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f2f5; }
td.best { background: #e3f6e8; font-weight: 600; color: #0d6b2c; }
.note { color: #56606b; font-size: 13.5px; }
figure { margin: 16px 0 24px; } figcaption { color: #56606b; font-size: 13.5px; margin-top: 4px; }
img.figure { display: block; width: 100%; height: auto; border: 1px solid #eceef1; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 13px; }
pre { background: #f3f4f6; padding: 10px 12px; white-space: pre; overflow-x: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: #56606b; }
details summary { cursor: pointer; color: #31517a; }
"""

_CHECK_SCRIPT = """
(function () {
  var root = document.documentElement, errors = 0;
  window.addEventListener("error", function () {
    errors += 1;
    root.setAttribute("data-errors", String(errors));
  }, true);
  window.addEventListener("load", function () {
    var figures = document.querySelectorAll("img.figure"), rendered = 0;
    for (var i = 0; i < figures.length; i++) {
      var img = figures[i], box = img.getBoundingClientRect();
      if (img.complete && img.naturalWidth > 0 && box.width > 0 && box.height > 0) { rendered += 1; }
    }
    root.setAttribute("data-figures", String(figures.length));
    root.setAttribute("data-rendered", String(rendered));
    root.setAttribute("data-errors", String(errors));
  });
})();
"""


def svg_data_uri(fig) -> str:
    """A matplotlib figure as an inline ``data:image/svg+xml`` URI (text as paths: no fonts needed)."""
    buffer = io.BytesIO()
    with missing_glyphs_quiet():
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _figure(fig, alt: str, caption: str) -> str:
    width = round(fig.get_figwidth() * 96)  # its natural size in CSS pixels: never blown up beyond it
    return (
        f'<figure><img class="figure" alt="{_e(alt)}" style="max-width: {width}px" src="{svg_data_uri(fig)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _metrics_table(result) -> str:
    head = "".join(
        f"<th>{_e(m.label)} {_e(m.arrow)}</th>" for m in result.metrics
    )
    body = []
    for row in result.rows():
        cells = []
        for cell in row["cells"]:
            text = f"{fmt(cell['mean'])} ± {fmt(cell['std'], 2)}{cell['mark']}"
            if cell["best"]:
                cells.append(f'<td class="best" title="best">★ {_e(text)}</td>')
            else:
                cells.append(f"<td>{_e(text)}</td>")
        body.append(f"<tr><td>{_e(row['loss'])}</td>{''.join(cells)}<td>{_e(fmt(row['wall_time'], 2))}</td></tr>")
    return (
        f'<table class="metrics"><thead><tr><th>loss</th>{head}<th>train s</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _runs_table(result) -> str:
    keys = [m.key for m in result.metrics]
    head = "".join(f"<th>{_e(m.label)}</th>" for m in result.metrics)
    rows = []
    for label in result.losses:
        for run in result.runs_of(label):
            cells = "".join(f"<td>{_e(fmt(run.final[key]))}</td>" for key in keys)
            diverged = f" (diverged at epoch {run.diverged_at})" if run.diverged_at is not None else ""
            rows.append(
                f"<tr><td>{_e(label)}{_e(diverged)}</td><td>{run.seed}</td>{cells}"
                f"<td>{_e(fmt(run.final['train_cost']))}</td><td>{_e(fmt(run.final['val_cost']))}</td>"
                f"<td>{_e(fmt(run.final['wall_time'], 2))}</td><td><code>{_e(run.initial_weights)}</code></td></tr>"
            )
    return (
        f"<table><thead><tr><th>loss</th><th>seed</th>{head}<th>train cost</th><th>val cost</th><th>train s</th>"
        f"<th>initial weights</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def command(result) -> str:
    """The ``losskit lab`` command line that repeats this result."""
    s = result.settings
    swept = s.get("sweep") or {}
    args = ["losskit", "lab", *(["sweep", *swept] if swept else [])]
    for loss, params in swept.items():
        args += [arg for param, values in params.items()
                 for arg in ("--param", f"{loss}.{param}={','.join(map(shown_value, values))}")]  # fmt: skip
    if s.get("data"):
        args += ["--data", s["data"], "--target", s["target"], "--task", result.task]
    else:
        args += ["--on", s["experiment"]] if swept else [s["experiment"]]
    compared = [label for label, config in result.losses.items() if config.get("name") not in swept]
    if compared:  # a compound loss's label is its spec: "0.5 dice + 0.5 ..."
        args += ["--losses", ",".join(compared)]
    args += ["--model", s["model"]]
    if s["model"] in ("mlp", "cnn"):
        args += ["--hidden", str(s["hidden"])]
    if s["model"] not in TREE_MODELS:
        args += ["--optimizer", s["optimizer"], "--batch-size", str(s["batch_size"])]
    args += ["--lr", f"{s['lr']:g}"]
    args += ["--epochs", str(s["epochs"]), "--seeds", str(len(s["seeds"])), "--seed", str(s["seeds"][0])]
    if s["outliers"]:
        args += ["--outliers", f"{s['outliers']:g}"]
    if s["label_noise"]:
        args += ["--label-noise", f"{s['label_noise']:g}"]
    args += ["--val-fraction", f"{s['val_fraction']:g}", "--backend", s["backend"]]
    return shlex.join(args)


def _rows(result) -> str:
    return "images" if result.task in ("segmentation", "retrieval") else "rows"


def _architecture(result) -> str:
    """The model in words, after its name."""
    s = result.settings
    if s["model"] in TREE_MODELS:
        return (f": gradient-boosted trees of depth {BoostedTrees.DEPTH} with an L2 penalty of {BoostedTrees.L2:g} on "
                "their leaves, the loss as their objective (its gradient and Hessian), from its best constant")
    if s["model"] == "cnn":
        return (f", two 3x3 convolutions of {s['hidden']} channels with ReLU and a 1x1 convolution to one logit per "
                "pixel")  # fmt: skip
    text = f", one hidden ReLU layer of {s['hidden']} units" if s["model"] == "mlp" else ""
    if result.task == "retrieval":
        text += f", to embeddings of {result.data[0]['embedding_size']} numbers, L2-normalised"
    return text


def _outputs(result) -> str:
    """How the model's outputs meet each loss, for the image experiments."""
    if result.task == "segmentation":
        return ("a loss of probabilities (binary_cross_entropy, dice, tversky) takes the sigmoid of each pixel's "
                "logit, a loss of logits the logit itself; the overlap losses take one mask per image; the metrics "
                "score the mask of probabilities above 0.5, per image (both masks empty: 1), averaged over the images")
    return ("in each mini-batch every image gets another image of its class (a positive) and one of another class "
            "(a negative), drawn from the labels with a generator of the seed: triplet_margin takes (image, positive, "
            "negative), contrastive the pairs (image, positive) labelled +1 and (image, negative) labelled -1, "
            "info_nce the images as queries and their positives as keys (the other keys are its negatives), ntxent "
            "the batch and its labels; recall@k: the share of validation images with one of their own class among "
            "their k nearest other validation images by cosine similarity")


def _settings(result) -> str:
    s, first = result.settings, result.data[0]
    trees = s["model"] in TREE_MODELS
    corrupted = ""
    if s["outliers"]:
        corrupted = f"{s['outliers']:.0%} of the training targets shifted up by 5 to 10 standard deviations"
    elif s["label_noise"]:
        corrupted = f"{s['label_noise']:.0%} of the training labels flipped to another class"
    items = [
        ("data", result.source["description"]),
        ("split", f"{first['train_rows']} training {_rows(result)}, {first['validation_rows']} "
                  f"{'clean ' if result.corrupted else ''}validation {_rows(result)} "
                  f"({s['val_fraction']:.0%} held out, a new split per seed)"),
        ("corruption", corrupted) if corrupted else None,
        ("model", f"{s['model']}" + _architecture(result) + f"; backend {s['backend']}"),
        ("outputs", _outputs(result)) if result.task in ("segmentation", "retrieval") else None,
        ("optimiser", f"{s['optimizer']}, learning rate {s['lr']:g}, batch size {s['batch_size']}, "
                      f"{s['epochs']} epochs") if not trees else
        ("boosting", f"learning rate (shrinkage) {s['lr']:g}, one round on the whole training set per epoch, "
                     f"{s['epochs']} rounds"),
        ("seeds", ", ".join(map(str, s["seeds"])) + ": each fixes the split"
                  + (", the corruption" if result.corrupted else "")
                  + (", the initial weights and the batch order" if not trees else "") + ", the same for every loss"),
        ("regression units", "targets centred on the training median and scaled by the training robust standard "
                             "deviation (MAD / 0.6745) for training, so loss hyperparameters such as delta are in "
                             "those units; metrics are in the target's own units")
        if result.task == "regression" else None,
    ]  # fmt: skip
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for item in items if item for k, v in [item])
    return f"<dl>{rows}</dl><p>To repeat it:</p><pre>{_e(command(result))}</pre>"


def render(result) -> str:
    """The report as an HTML string."""
    seeds = len(result.seeds)
    sections = [
        f"<header><h1>losskit lab: {_e(result.title)}</h1><p class=\"sub\">{_e(result.source['description'])}. "
        f"{len(result.losses)} losses × {seeds} seed{'s' if seeds != 1 else ''}, {result.settings['epochs']} epochs, "
        f"{_e(result.settings['model'])} model.</p></header>",
        "<h2>Reading</h2><ul class=\"reading\">" + "".join(f"<li>{_e(line)}</li>" for line in result.reading) + "</ul>",
        f"<h2>Final metrics</h2><p class=\"note\">Measured on {result.validation_set} after the last epoch: "
        + (f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed, so no spread")
        + "; ★ marks the best value of each metric ("
        + ", ".join(dict.fromkeys(f"{m.arrow} {m.direction}" for m in result.metrics)) + ")."
        + "".join(f" {_e(m.label[0].upper() + m.label[1:])} is measured on the training set: the share of its "
                  "flipped labels that the model reproduces, the noise it memorised."
                  for m in result.metrics if m.measured_on == "training")  # fmt: skip
        + "</p>"
        + _metrics_table(result),
    ]
    if any(cell["mark"] for row in result.rows() for cell in row["cells"]):
        sections.append(
            "<p class=\"note\">† calibration metrics computed on sigmoid(score), which only a proper scoring rule "
            "calibrates: margin losses, re-weighted (pos_weight), smoothed and focusing losses (focal, asymmetric) do "
            "not, so their numbers are shown but not ranked.</p>"
        )
    sections.append("<h2>Learning curves</h2>")
    sections.append(_figure(
        figures.learning_curves(result), "learning curves",
        f"Each loss's own cost on the training set{' (with its corruption)' if result.corrupted else ''} and on "
        f"{result.validation_set}, the task metrics on {result.validation_set}, and the norm of the gradient of the "
        "training cost with respect to the "
        + ("model's outputs (a tree model has no weights)" if result.settings["model"] in TREE_MODELS else "weights")
        + ", after every epoch (epoch 0: the untrained model). Costs of different losses are on different "
        "scales: compare their shapes, and compare the losses on the metrics.",
    ))  # fmt: skip
    swept = figures.sweep(result)
    if swept is not None:
        sections.append("<h2>Sweep</h2>")
        sections.append(_figure(
            swept, "sweep",
            f"Every metric on {result.validation_set} after the last epoch against each swept hyperparameter: the "
            "mean over seeds (points), with the seeds' spread as a band; the losses compared beside the sweep as "
            "dashed levels. A flat curve says the hyperparameter hardly matters here; a sharp optimum says tune it.",
        ))  # fmt: skip
    curves = figures.loss_curves(result)
    if curves is not None:  # embedding losses have no loss of one example to draw
        missing = figures.undrawn(result)
        sections.append("<h2>The compared losses</h2>")
        sections.append(_figure(
            curves, "loss and gradient curves",
            "The loss of a single example and its derivative, computed by losskit (losskit.plot). The gradient is "
            "what each example contributes to a training step."
            + (" An overlap loss (dice, tversky) is drawn on an image of one foreground pixel." if result.task ==
               "segmentation" else "")
            + (f" Not drawn (no curve of one variable): {', '.join(missing)}." if missing else ""),
        ))  # fmt: skip
    influence = figures.outlier_influence(result) if result.task == "regression" else None
    if influence is not None:
        sections.append(_figure(
            influence, "outlier influence",
            "Why outliers pull the fit: a point's pull grows without bound under MSE and stays bounded under the "
            "robust losses.",
        ))  # fmt: skip
    outliers = " and the corrupted training points (crosses, at their corrupted target)" if result.corrupted else ""
    titles = {
        "regression": ("Fitted predictions against the truth", f"Validation points{outliers}, for the first seed."),
        "binary": ("Fitted scores", "Histograms of the validation scores by true class, for the first seed."),
        "multiclass": ("Fitted classes", f"Confusion matrices on {result.validation_set}, for the first seed."),
        "segmentation": ("Predicted masks", "The first validation images of the first seed, their true masks, and "
                         "each loss's predicted mask (pixels whose probability exceeds 0.5, in its colour) with the "
                         "true outline in black and the image's IoU below it."),
        "retrieval": ("Embeddings", "Each loss's validation embeddings of the first seed, L2-normalised, on their "
                      "first two principal components (scikit-learn's PCA), coloured by the true class: a loss that "
                      "retrieves well puts each class in a cluster of its own."),
    }  # fmt: skip
    heading, caption = titles[result.task]
    if result.task not in ("multiclass", "segmentation"):  # the confusion matrices count every row
        caption = caption.rstrip(".") + figures.shown_words(result.data[0]) + "."
    sections.append(f"<h2>{heading}</h2>")
    sections.append(_figure(figures.predictions(result), heading.lower(), caption))
    keys = {m.key for m in result.metrics}
    if "poisson_deviance" in keys:
        sections.append("<h2>Calibration</h2>")
        sections.append(_figure(
            figures.calibration(result), "calibration",
            "The validation rows of the first seed in ten bins of equal size by each loss's prediction: the mean "
            "observed count against the mean predicted one. On the dashed diagonal, a model's counts are right on "
            "average wherever it predicts them.",
        ))  # fmt: skip
    if "coverage" in keys:
        sections.append("<h2>Prediction intervals</h2>")
        sections.append(_figure(
            figures.intervals(result), "prediction intervals",
            f"Each loss's {COVERAGE:.0%} interval (the band) and point prediction (the line) on the validation rows "
            "of the first seed, sorted by the point prediction, with the truth (dots; crimson outside). A loss with "
            "one output gets a Gaussian interval of its training residuals' standard deviation; a quantile head "
            "its outer quantiles; a Gaussian or Laplace likelihood its own spread."
            + (" Last panel: the predicted standard deviation against the feature that drives the noise, and the "
               "true one." if "nll" in keys else ""),
        ))  # fmt: skip
    if "ece" in keys:
        sections.append("<h2>Calibration</h2>")
        sections.append(_figure(
            figures.reliability(result), "reliability diagram",
            "The validation rows of every seed in ten bins of equal width of the predicted probability, sigmoid(score): "
            "the observed share of positives against the mean prediction (left), and how many rows each bin holds "
            "(right). Re-weighting and focusing move the probabilities off the diagonal, towards the rare class or "
            "towards 1/2 (†: not a proper scoring rule).",
        ))  # fmt: skip
    if result.task == "binary" and all("grid" in run.outputs for run in result.runs):
        sections.append("<h2>Decision boundaries</h2>")
        sections.append(_figure(
            figures.decision_boundaries(result), "decision boundaries",
            "Where each loss puts the line between the classes on the two features (solid) and its margins "
            "(dashed, scores of -1 and +1), over the validation points of the first seed. Margin losses stop "
            "pushing once a point is past the margin; the exponential loss keeps pushing, so far, wrong points "
            "pull its line; the perceptron stops at the first separating line it finds.",
        ))  # fmt: skip
    sections.append(
        "<h2>Every run</h2><details><summary>Final numbers of each loss and seed, with a hash of the initial weights "
        "(equal within a seed)</summary>" + _runs_table(result) + "</details>"
    )
    sections.append("<h2>Settings</h2>" + _settings(result))
    beside = ("results.json (every number)", "history.csv (one row per loss, seed and epoch)")
    files = ", ".join(f"<code>{_e(name)}</code>" for name in beside)
    sections.append(f"<p class=\"note\">Beside this page: {files}. losskit {_e(__version__)}.</p>")
    return _page(f"losskit lab: {result.title}", sections)


def _page(title: str, sections: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style><script>{_CHECK_SCRIPT}</script>"
        "</head><body><main>\n" + "\n".join(sections) + "\n</main></body></html>\n"
    )


def render_index(labs: list[tuple[str, object]], title: str) -> str:
    """The page of a grid of several labs: one row per lab (its folder, experiment, model, seeds) with a link to its
    report (or its results.json), and the best loss on each metric."""
    rows = []
    for name, result in labs:
        s = result.settings
        target = "report.html" if "report" in result.files else "results.json"
        winners = [(metric, result.best[metric.key]) for metric in result.metrics if metric.key in result.best]
        best = "; ".join(f"{metric.label}: {label} ({fmt(result.summary[label][metric.key]['mean'])})"
                         for metric, label in winners)  # fmt: skip
        rows.append(f"<tr><td><a href=\"{_e(name)}/{target}\">{_e(name)}</a></td><td>{_e(s['experiment'])}</td>"
                    f"<td>{_e(s['model'])}</td><td>{len(s['seeds'])}</td><td>{len(result.losses)}</td>"
                    f"<td style=\"text-align: left; white-space: normal\">{_e(best)}</td></tr>")  # fmt: skip
    table = ("<table><thead><tr><th>lab</th><th>experiment</th><th>model</th><th>seeds</th><th>losses</th>"
             "<th style=\"text-align: left\">best loss per metric (mean over seeds)</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    return _page(f"losskit lab: {title}", [
        f"<header><h1>losskit lab: {_e(title)}</h1><p class=\"sub\">{len(labs)} labs, each in the folder of its "
        "name with its report, results.json and history.csv.</p></header>", table,
        f"<p class=\"note\">losskit {_e(__version__)}.</p>",
    ])  # fmt: skip


def write(result, path) -> Path:
    """Write the report of ``result`` to ``path`` (replacing, never following, a link there); returns the path."""
    return write_file(Path(path), render(result))
