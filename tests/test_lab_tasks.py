"""The lab's image experiments: segmentation of generated shapes and retrieval of digit embeddings.

Each runs from the command line on small settings (fewer images, two epochs, one seed) to a report
checked in headless Chromium (test_lab's helper); the data are checked for reproducibility and the
foreground share, and the metrics against independent computations (scikit-learn, SciPy).
"""

from __future__ import annotations

import html as html_module
import json
import re
import shlex

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("typer")
torch = pytest.importorskip("torch")

import losskit as lk  # noqa: E402
from losskit.lab import LabError, candidates, datasets, metrics, run, training  # noqa: E402
from test_lab import _one_error_line, _renders, cli  # noqa: E402, F401  (cli: the lab command, a fixture)

SEGMENTATION = ["binary_cross_entropy", "dice", "0.5 dice + 0.5 binary_cross_entropy", "tversky(alpha=0.3, beta=0.7)",
                "focal_tversky"]  # fmt: skip
RETRIEVAL = ["triplet_margin", "contrastive", "info_nce(temperature=0.1)"]


@pytest.fixture
def few_shapes(monkeypatch):
    """The segmentation experiment on 80 generated images instead of 400 (the same generator)."""
    monkeypatch.setitem(datasets.LOADERS, "small_shapes", lambda: datasets.small_shapes(n=80))


def _run(cli, tmp_path, experiment, *extra):
    out = tmp_path / experiment
    result = cli(experiment, "--epochs", "2", "--seeds", "1", "--out", str(out), "--quiet", "--predictions", *extra)
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads((out / "results.json").read_text()), out / "report.html"


def _check_runs(results, labels, keys, epochs=2):
    assert list(results["losses"]) == labels
    assert len({record["initial_weights"] for record in results["runs"]}) == 1  # one seed: the same start
    for record in results["runs"]:
        history = record["history"]
        assert history["epoch"] == list(range(epochs + 1))
        for key in ("train_cost", "val_cost", "grad_norm", *keys):
            assert len(history[key]) == epochs + 1 and np.isfinite(history[key]).all(), (record["label"], key)
        for key in keys:
            assert all(0.0 <= value <= 1.0 for value in history[key])


# --- segmentation -------------------------------------------------------------------------------------------


def test_segmentation_from_the_command_line_to_the_browser(cli, tmp_path, few_shapes):
    stdout, results, page = _run(cli, tmp_path, "segmentation")
    for column in ("IoU", "Dice score", "focal_tversky", "0.5 dice + 0.5 binary_cross_entropy"):
        assert column in stdout
    assert results["task"] == "segmentation" and results["settings"]["model"] == "cnn"
    assert results["settings"]["hidden"] == 16  # the experiment's channels, not the mlp's 32 units
    _check_runs(results, SEGMENTATION, ("iou", "dice"))
    data = results["data"][0]
    assert data["train_rows"] + data["validation_rows"] == 80 and data["image_size"] == [24, 24]
    assert 0.02 <= data["foreground_share"] <= 0.05
    shown = np.asarray(data["y_val"])
    masks = np.asarray(results["runs"][0]["outputs"]["val"])
    assert shown.shape == masks.shape == (training.SHOWN_IMAGES, 24, 24) and set(np.unique(masks)) <= {0, 1}
    compound = results["losses"]["0.5 dice + 0.5 binary_cross_entropy"]
    assert lk.get(compound) == lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy"))
    html = _renders(page, tmp_path)
    assert "Predicted masks</h2>" in html and "predicted masks" in html
    repeat = shlex.split(html_module.unescape(re.search(r"To repeat it:</p><pre>([^<]*)</pre>", html).group(1)))
    written = candidates.parse(repeat[repeat.index("--losses") + 1])  # the labels read back into the losses
    assert [loss.config() for loss in written] == list(results["losses"].values())


def test_the_shapes_are_reproducible_and_three_percent_foreground():
    first, again = datasets.small_shapes(), datasets.small_shapes()
    np.testing.assert_array_equal(first.X, again.X)
    np.testing.assert_array_equal(first.y, again.y)
    assert first.X.shape == first.y.shape == (400, 24, 24) and set(np.unique(first.y)) == {0.0, 1.0}
    assert 0.02 <= first.y.mean() <= 0.05
    assert (first.y.sum(axis=(1, 2)) > 0).all()  # every image holds a shape
    other = datasets.small_shapes(seed=1)
    assert not np.array_equal(first.y, other.y) and 0.02 <= other.y.mean() <= 0.05
    split, same = (datasets.make_split(first, seed=3) for _ in range(2))
    np.testing.assert_array_equal(split.X_val, same.X_val)
    assert split.X_train.shape[1:] == (1, 24, 24) and split.y_val.shape[1:] == (24, 24)
    assert abs(float(split.X_train.mean())) < 1e-5 and abs(float(split.X_train.std()) - 1.0) < 1e-4
    assert not np.array_equal(split.y_val, datasets.make_split(first, seed=4).y_val)  # a new split per seed


def test_overlap_scores_match_scikit_learn():
    from sklearn.metrics import f1_score, jaccard_score

    rng = np.random.default_rng(0)
    truth = rng.random((12, 9, 9)) < 0.08
    predicted = rng.random((12, 9, 9)) < 0.1
    truth[0], predicted[0] = False, False  # both empty: 1
    truth[1], predicted[1] = False, True  # a prediction with no foreground: 0
    predicted[2] = truth[2]  # perfect
    iou, dice = metrics.overlap_scores(truth, predicted)
    for k in range(12):
        t, p = truth[k].ravel(), predicted[k].ravel()
        assert iou[k] == pytest.approx(jaccard_score(t, p, zero_division=1.0), abs=1e-12)
        assert dice[k] == pytest.approx(f1_score(t, p, zero_division=1.0), abs=1e-12)
    assert (iou[0], iou[1], iou[2]) == (1.0, 0.0, 1.0)
    logits = np.where(predicted, 2.0, -2.0)  # the lab thresholds the logit at 0: the probability at 0.5
    scores = metrics.evaluate("segmentation", truth.astype(float), logits)
    assert scores == pytest.approx({"iou": iou.mean(), "dice": dice.mean()}, abs=1e-12)


def test_losses_of_probabilities_get_the_sigmoid_and_losses_of_logits_the_logit():
    seen = {}
    for name in ("dice", "sigmoid_cross_entropy", "tversky"):
        objective = training.objective_for(lk.get(name), "segmentation", seed=0)
        seen[name] = objective.activation.name
        logits = torch.tensor([[[-3.0, 0.5], [2.0, -1.0]]], dtype=torch.float64)
        masks = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64)
        expected = lk.get(name)(masks, torch.sigmoid(logits) if seen[name] == "sigmoid" else logits)
        assert float(objective(masks, logits)) == pytest.approx(float(expected), rel=1e-12)
    assert seen == {"dice": "sigmoid", "sigmoid_cross_entropy": "identity", "tversky": "sigmoid"}
    chosen = candidates.check(candidates.parse("sigmoid_cross_entropy,jaccard,sigmoid_focal"), "segmentation")
    assert [loss.info.name for loss in chosen] == ["sigmoid_cross_entropy", "jaccard", "sigmoid_focal"]


# --- retrieval ------------------------------------------------------------------------------------------------


def test_retrieval_from_the_command_line_to_the_browser(cli, tmp_path):
    stdout, results, page = _run(cli, tmp_path, "retrieval")
    for column in ("recall@1", "recall@5", *RETRIEVAL):
        assert column in stdout
    _check_runs(results, RETRIEVAL, ("recall_at_1", "recall_at_5"))
    data = results["data"][0]
    assert data["embedding_size"] == 16 and data["train_rows"] + data["validation_rows"] == 1797
    for record in results["runs"]:
        final = record["final"]
        assert final["recall_at_5"] >= final["recall_at_1"] > 0.5  # far above chance (0.1) after two epochs
        assert np.asarray(record["outputs"]["projection"]).shape == (data["validation_rows"], 2)
    html = _renders(page, tmp_path)
    assert "Embeddings</h2>" in html and "principal components" in html
    assert "The compared losses</h2>" not in html  # embedding losses have no curve of one example
    assert "--losses &#x27;triplet_margin,contrastive,info_nce(temperature=0.1)&#x27;" in html


def test_recall_at_k_matches_a_brute_force_count():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(1)
    x = rng.normal(size=(25, 4))
    labels = rng.integers(0, 4, size=25)
    distance = cdist(x, x, metric="cosine")
    expected = {}
    for k in (1, 3, 5):
        hits = 0
        for i in range(25):
            others = [j for j in range(25) if j != i]
            nearest = sorted(others, key=lambda j: distance[i, j])[:k]
            hits += any(labels[j] == labels[i] for j in nearest)
        expected[k] = hits / 25
    assert metrics.recall_at_k(x, labels, (1, 3, 5)) == pytest.approx(expected, abs=1e-15)
    scores = metrics.evaluate("retrieval", labels, x)
    assert scores == pytest.approx({"recall_at_1": expected[1], "recall_at_5": expected[5]}, abs=1e-15)


def test_pairs_and_triplets_are_drawn_from_the_labels_with_the_seed():
    labels = np.array([0, 1, 0, 2, 1, 0, 3])
    same = training.partners(labels, np.random.default_rng(0), same=True)
    other = training.partners(labels, np.random.default_rng(0), same=False)
    np.testing.assert_array_equal(same, training.partners(labels, np.random.default_rng(0), same=True))
    for row in range(labels.size):
        if (labels == labels[row]).sum() == 1:
            assert same[row] == -1  # alone in its class: no positive
        else:
            assert same[row] != row and labels[same[row]] == labels[row]
        assert labels[other[row]] != labels[row]
    embeddings = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    costs = []
    for name in ("triplet_margin", "contrastive", "info_nce", "ntxent"):
        objective = training.objective_for(lk.get(name), "retrieval", seed=0)
        with objective.fixed_draws():
            first = objective(torch.from_numpy(labels), embeddings)
        with objective.fixed_draws():  # the same draws: the same cost, epoch after epoch
            assert objective(torch.from_numpy(labels), embeddings).item() == first.item()
        first.backward()
        costs.append(first.item())
    assert np.isfinite(costs).all() and embeddings.grad is not None


# --- what they refuse ------------------------------------------------------------------------------------------


def test_flags_that_do_not_apply_are_refused_in_one_line(cli):
    _one_error_line(cli("segmentation", "--label-noise", "0.1"), "--label-noise", "segmentation")
    _one_error_line(cli("segmentation", "--outliers", "0.1"), "--outliers", "segmentation")
    _one_error_line(cli("segmentation", "--model", "mlp"), "--model mlp", "cnn")
    _one_error_line(cli("segmentation", "--backend", "numpy"), "--backend numpy", "PyTorch")
    _one_error_line(cli("segmentation", "--losses", "mse"), "mse", "segmentation", "dice")
    _one_error_line(cli("segmentation", "--losses", "dice(reduction=none)"), "reduction")
    _one_error_line(cli("segmentation", "--task", "binary"), "segmentation task, not binary")
    _one_error_line(cli("retrieval", "--losses", "hinge_embedding"), "hinge_embedding", "triplet_margin")
    _one_error_line(cli("retrieval", "--model", "cnn"), "--model cnn", "mlp or linear")
    _one_error_line(cli("retrieval", "--outliers", "0.2"), "--outliers", "--label-noise")
    _one_error_line(cli("binary", "--model", "cnn"), "--model cnn", "segmentation")
    with pytest.raises(LabError, match="size"):
        datasets.small_shapes(size=4)


def test_the_lab_lists_the_new_experiments(cli):
    helped = cli("--help")
    assert helped.exit_code == 0 and "segmentation" in helped.stdout and "retrieval" in helped.stdout
    _one_error_line(cli("nonsense"), "segmentation, retrieval")
    for name, task in (("segmentation", "segmentation"), ("retrieval", "retrieval")):
        exp = datasets.experiment(name)
        assert exp.task == task
        chosen = candidates.check(candidates.parse(list(exp.losses)), task)  # registered, and fit for the task
        assert len(chosen) == len(exp.losses)
    assert datasets.experiment("shapes").name == "segmentation"


def test_the_same_seed_gives_the_same_numbers(few_shapes):
    first, again = (run("segmentation", losses="dice", epochs=1, seeds=1) for _ in range(2))
    for key, values in first.runs[0].history.items():
        if key != "wall_time":
            assert values == again.runs[0].history[key], key
    assert first.runs[0].outputs == again.runs[0].outputs
