"""The guide: recommendation scenarios with their expected answers, explain, and pairing diagnostics.

Expected answers come from the maximum-likelihood pairing (DESIGN.md section 4) and from independent
computations: SciPy's ``median_abs_deviation(scale="normal")`` for Huber's delta (1.345 sigma, Huber
1964), NumPy counts for ``pos_weight`` (PyTorch's definition: n_negative / n_positive), and
scikit-learn's bundled datasets for real targets.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy.stats import median_abs_deviation
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris

import losskit as lk

rng = np.random.default_rng(0)


def huber_delta(y):
    """Huber's 95%-efficiency delta on the MAD-based scale, computed with SciPy."""
    return 1.345 * median_abs_deviation(y, scale="normal")


#: The guide reports delta to 3 significant digits: at most half a unit in the third digit off.
DELTA_ROUNDING = 5e-3


def with_outliers(n=400, share=0.05, seed=1):
    r = np.random.default_rng(seed)
    y = r.normal(10.0, 2.0, size=n)
    y[: int(share * n)] += r.choice([-1, 1], size=int(share * n)) * 60.0
    return y


# --- inference rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, task",
    [
        (rng.normal(size=50), "regression"),
        (load_diabetes().target, "regression"),
        (rng.poisson(30.0, size=200), "regression"),  # counts with many distinct values
        ([0, 1, 1, 0], "binary"),
        (["yes", "no", "no"], "binary"),
        ([-1.0, 1.0, 1.0], "binary"),
        (load_breast_cancer().target, "binary"),
        (load_iris().target, "multiclass"),
        (load_digits().target, "multiclass"),
        (["cat", "dog", "bird", "cat"], "multiclass"),
        (np.eye(3)[[0, 2, 1, 1]], "multiclass"),  # one-hot rows
        ([[1, 0, 1], [0, 1, 1], [0, 0, 1]], "multilabel"),
        (rng.dirichlet(np.ones(4), size=6), "distribution"),
    ],
    ids=["normal", "diabetes", "counts", "0/1", "yes/no", "-1/+1", "breast-cancer", "iris", "digits",
         "names", "one-hot", "multilabel", "distribution"],
)  # fmt: skip
def test_infer_task(y, task):
    assert lk.infer_task(y) == task
    assert lk.recommend(y=y).task == task


def test_one_class_target_is_refused():
    with pytest.raises(ValueError, match=r"single distinct value \(1\).*one-class target"):
        lk.recommend(y=[1, 1, 1])


def test_task_or_targets_are_needed():
    with pytest.raises(ValueError, match="give a task or the targets y"):
        lk.recommend()
    with pytest.raises(ValueError, match=r"task must be one of .*got 'clustering'"):
        lk.recommend("clustering")


# --- regression -------------------------------------------------------------------------------------


def test_clean_regression_gets_mse_with_identity():
    rec = lk.recommend(y=rng.normal(5.0, 1.0, size=500))
    assert (rec.loss, rec.hyperparameters, rec.output_activation) == ("mse", {}, "identity")
    assert rec.metrics == ("MAE", "RMSE", "R^2")
    assert rec.facts["outlier_share"] < 0.01


def test_outliers_get_huber_with_delta_from_the_mad():
    y = with_outliers()
    rec = lk.recommend("regression", y)
    assert rec.loss == "huber"
    assert rec.hyperparameters["delta"] == pytest.approx(huber_delta(y), rel=DELTA_ROUNDING)
    assert rec.facts["outlier_share"] == pytest.approx(0.05)
    assert [a.loss for a in rec.alternatives][:1] == ["pseudo_huber"]
    assert rec.alternatives[0].hyperparameters == rec.hyperparameters
    assert any("robust z-scores" in reason for reason in rec.reasons)


def test_heavy_tails_get_a_robust_loss():
    y = np.random.default_rng(2).standard_t(df=1.2, size=1000)
    rec = lk.recommend(y=y)
    assert rec.loss == "huber"
    assert rec.hyperparameters["delta"] == pytest.approx(huber_delta(y), rel=DELTA_ROUNDING)


def test_what_the_user_knows_overrides_the_data():
    rec = lk.recommend(y=with_outliers(), outliers=False)
    assert rec.loss == "mse"
    assert any("You said outliers=False; the data suggest True" in reason for reason in rec.reasons)
    assert lk.recommend(y=rng.normal(size=300), outliers=True).loss == "huber"
    assert lk.recommend("regression", outliers=True).hyperparameters == {"delta": 1.0}


def test_positive_targets_over_orders_of_magnitude_suggest_msle():
    y = np.exp(np.random.default_rng(3).uniform(0, 8, size=300))
    rec = lk.recommend(y=y)
    assert "msle" in [rec.loss, *(a.loss for a in rec.alternatives)]


def test_regression_on_labels_is_flagged():
    rec = lk.recommend("regression", [0, 1, 1, 0, 1])
    assert any("look like a binary task" in reason for reason in rec.reasons)
    assert any("squared error on class labels" in reason for reason in rec.reasons)


# --- binary -----------------------------------------------------------------------------------------


def test_balanced_binary_gets_sigmoid_cross_entropy_on_logits():
    y = load_breast_cancer().target  # 357 benign (1) of 569: 63% positive
    rec = lk.recommend(y=y)
    assert (rec.loss, rec.hyperparameters) == ("sigmoid_cross_entropy", {})
    assert rec.output_activation.startswith("identity")
    assert rec.metrics == ("accuracy", "F1", "ROC AUC")
    assert rec.facts["positive_share"] == pytest.approx(np.mean(y))


def test_imbalanced_binary_gets_pos_weight():
    y = np.r_[np.zeros(190), np.ones(10)]
    rec = lk.recommend(y=y)
    n_pos = np.count_nonzero(y == 1)
    assert rec.hyperparameters == {"pos_weight": pytest.approx((y.size - n_pos) / n_pos)}
    assert "balanced accuracy" in rec.metrics and "PR AUC" in rec.metrics
    assert lk.recommend(y=y, imbalance=False).hyperparameters == {}


def test_string_labels_are_told_to_be_encoded():
    rec = lk.recommend(y=["spam", "ham", "ham", "ham"])
    assert rec.task == "binary"
    assert any("as 0/1 (here 'spam' -> 1)" in reason for reason in rec.reasons)


def test_sigmoid_outputs_get_probability_cross_entropy():
    rec = lk.recommend("binary", output_activation="sigmoid")
    assert (rec.loss, rec.output_activation) == ("binary_cross_entropy", "sigmoid")


def test_calibration_decides_the_margin_alternatives():
    assert [a.loss for a in lk.recommend("binary", calibrated_probabilities=True).alternatives] == ["brier"]
    names = [a.loss for a in lk.recommend("binary", calibrated_probabilities=False).alternatives]
    assert names == ["hinge", "squared_hinge"]


# --- multi-class, multi-label, distributions --------------------------------------------------------


def test_class_ids_get_sparse_softmax_cross_entropy():
    rec = lk.recommend(y=load_iris().target)
    assert rec.loss == "sparse_softmax_cross_entropy"
    assert rec.metrics == ("accuracy", "macro F1")
    assert rec.facts["classes"] == 3
    assert rec.alternatives[0].hyperparameters == {"label_smoothing": 0.1}


def test_one_hot_targets_get_the_dense_form():
    assert lk.recommend(y=np.eye(4)[[0, 1, 2, 3, 1]]).loss == "softmax_cross_entropy"


def test_softmax_outputs_get_probability_cross_entropy():
    rec = lk.recommend(y=[0, 1, 2, 2, 1], output_activation="softmax")
    assert (rec.loss, rec.output_activation) == ("sparse_categorical_cross_entropy", "softmax")


def test_multilabel_gets_one_sigmoid_per_label():
    rec = lk.recommend(y=[[1, 0, 1], [0, 1, 1]])
    assert rec.loss == "sigmoid_cross_entropy"
    assert rec.metrics == ("micro F1", "macro F1", "Hamming loss")


def test_distributions_get_cross_entropy_or_kl():
    y = rng.dirichlet(np.ones(3), size=10)
    assert lk.recommend(y=y).loss == "softmax_cross_entropy"
    assert lk.recommend(y=y, output_activation="softmax").loss == "kl_divergence"


@pytest.mark.parametrize("task", lk.guide.TASKS)
def test_every_recommendation_is_a_registered_loss_and_serialises(task):
    rec = lk.recommend(task)
    assert rec.loss in lk.list_losses()
    assert rec.loss_object() == lk.get(rec.loss, **rec.hyperparameters)
    for alternative in rec.alternatives:
        lk.get(alternative.loss, **alternative.hyperparameters)
    assert json.loads(json.dumps(rec.to_dict()))["loss"] == rec.loss
    text = str(rec)
    assert f"loss: {rec.loss}(" in text and rec.reasons[0] in text


# --- explain ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", lk.list_losses())
def test_explain_every_loss(name):
    info = lk.get(name).info
    explanation = lk.explain(name)
    assert explanation.formula == info.formula and explanation.gradient == info.gradient
    assert explanation.properties == info.properties
    assert explanation.hyperparameters == {p: lk.get(name).config()[p] for p in lk.get(name).hyperparameters()}
    text = str(explanation)
    for part in (info.summary, *info.references, "use it when", "avoid it when"):
        assert part in text
    assert info.formula.split(" ")[0] in text
    assert json.loads(json.dumps(explanation.to_dict()))["name"] == name


def test_explain_accepts_aliases_and_refuses_unknown_names():
    assert lk.explain("bce").name == "binary_cross_entropy"
    with pytest.raises(ValueError, match="Did you mean 'mse'"):
        lk.explain("mes")


# --- check_pairing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "activation, loss, severity, says",
    [
        ("softmax", "softmax_cross_entropy", "error", "applies it twice"),
        ("softmax", "sparse_softmax_cross_entropy", "error", "applies it twice"),
        ("sigmoid", "sigmoid_cross_entropy", "error", "applies it twice"),
        ("linear", "binary_cross_entropy", "error", "use sigmoid_cross_entropy"),
        ("identity", "categorical_cross_entropy", "error", "use softmax_cross_entropy"),
        ("log_softmax", "sparse_categorical_cross_entropy", "error", "log-probabilities (negative numbers)"),
        ("sigmoid", "categorical_cross_entropy", "error", "do not sum to 1"),
        ("softmax", "binary_cross_entropy", "error", "always 1"),
        ("sigmoid", "hinge", "error", "linear layer"),
        ("softmax", "mse", "warning", "use a cross-entropy"),
        ("relu", "mae", "warning", "non-negative"),
        ("identity", "msle", "warning", "softplus or exp"),
        ("exp", "log_poisson_nll", "error", "applies the exp itself; an exp output applies it twice"),
        ("softplus", "log_poisson_nll", "error", "puts a softplus before it"),
        ("identity", "poisson_nll", "warning", "end the model with exp or softplus"),
        ("identity", "dice", "error", "end the model with a sigmoid"),
        ("identity", "nll", "error", "log_softmax"),
        ({"mean": "identity", "variance": "identity"}, "gaussian_nll", "warning", "variance to be real numbers >= 0"),
        ({"mean": "identity", "log_variance": "exp"}, "gaussian_nll_log_var", "error", "applies it twice"),
    ],
)
def test_mismatched_pairings_are_found(activation, loss, severity, says):
    findings = lk.check_pairing(activation, loss)
    assert [f.severity for f in findings] == [severity]
    assert says.lower() in str(findings[0]).lower()


@pytest.mark.parametrize(
    "activation, loss",
    [("identity", "sigmoid_cross_entropy"), ("sigmoid", "binary_cross_entropy"), ("softmax", "kl_divergence"),
     ("softmax", "sparse_categorical_cross_entropy"), ("linear", "softmax_cross_entropy"), ("identity", "huber"),
     ("softplus", "msle"), ("identity", "squared_hinge")],
)  # fmt: skip
def test_sound_pairings_pass(activation, loss):
    assert lk.check_pairing(activation, loss) == []


@pytest.mark.parametrize("name", lk.list_losses())
def test_each_loss_pairs_with_its_own_activation(name):
    info = lk.get(name).info
    # A loss with a link applies its inverse (sigmoid, softmax, exp) inside: the model itself ends linear.
    own = {spec.name: "identity" if spec.link.name != "identity" else spec.activation for spec in info.predictions}
    assert lk.check_pairing(own, name) == []


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match=r"output_activation must be one of .*got 'swish'"):
        lk.check_pairing("swish", "mse")


def test_recommend_warns_about_a_fixed_activation():
    rec = lk.recommend("regression", output_activation="sigmoid")
    assert any("use a cross-entropy" in reason.lower() for reason in rec.reasons)


def test_zero_inflated_targets_still_show_their_outliers():
    # Over half the targets are 0, so the MAD is 0; the IQR (/1.349, the Gaussian ratio) takes over.
    y = np.r_[np.zeros(60), np.arange(1.0, 31.0) + 0.5, np.full(5, 1000.0)]  # not integers: not counts
    rec = lk.recommend(y=y)
    q75, q25 = np.percentile(y, [75, 25])
    assert rec.loss == "log_tweedie_deviance"  # exact zeros and positive amounts
    assert rec.facts["robust_scale"] == pytest.approx((q75 - q25) / 1.349)
    assert lk.recommend(y=y, outliers=True).loss == "huber"


def test_calibration_wins_over_reweighting():
    rec = lk.recommend(y=[0] * 9 + [1], calibrated_probabilities=True)
    assert rec.hyperparameters == {}
    assert any("choose the decision threshold" in reason for reason in rec.reasons)


def test_regression_on_text_is_refused():
    with pytest.raises(ValueError, match=r"regression needs numeric targets; got values such as 'cat'"):
        lk.recommend("regression", ["cat", "dog", "bird"])


# --- the pilots: counts, quantiles, uncertainty, embeddings, segmentation ---------------------------


def test_counts_get_the_poisson_likelihood_of_a_log_rate():
    y = rng.poisson(30.0, size=200)
    rec = lk.recommend("count", y)
    assert (rec.loss, rec.output_activation) == ("log_poisson_nll", "identity (log-values; the exp is inside the loss)")
    assert rec.facts["mean"] == pytest.approx(np.mean(y)) and "poisson_nll" in [a.loss for a in rec.alternatives]
    overdispersed = rng.negative_binomial(2, 0.05, size=500)
    assert any("overdispersed" in r for r in lk.recommend("count", overdispersed).reasons)
    # counts read as regression still offer the Poisson likelihood, last
    assert lk.recommend(y=y).alternatives[-1].loss == "log_poisson_nll"


def test_a_quantile_gets_the_pinball_loss():
    rec = lk.recommend("regression", rng.normal(size=100), quantile=0.9)
    assert (rec.loss, rec.hyperparameters) == ("pinball", {"quantile": 0.9})
    assert "pinball loss" in rec.metrics
    with pytest.raises(lk.InputError, match=r"quantile must be in \(0, 1\); got 1\.5"):
        lk.recommend("regression", quantile=1.5)
    with pytest.raises(lk.InputError, match=r"quantile\(s\) and uncertainty are for regression"):
        lk.recommend("binary", quantile=0.5)


# --- the regression catalogue: counts, positive targets, intervals, spread, gross outliers ------------


def test_counts_with_many_zeros_get_the_poisson_likelihood_of_a_log_rate():
    visits = np.random.default_rng(11).negative_binomial(0.5, 0.1, size=2000)  # 30% zeros, a long tail
    rec = lk.recommend(y=visits)
    assert (rec.task, rec.loss, rec.output_activation) == (
        "count", "log_poisson_nll", "identity (log-values; the exp is inside the loss)")
    assert any("overdispersed" in reason for reason in rec.reasons)


@pytest.mark.parametrize("shape", [1.0, 2.0])
def test_positive_right_skewed_targets_get_the_gamma_deviance_of_a_log_mean(shape):
    y = np.random.default_rng(12).gamma(shape, 3.0, size=500)  # skewness 2 / sqrt(shape)
    rec = lk.recommend(y=y)
    assert (rec.loss, rec.hyperparameters) == ("log_gamma_deviance", {})
    assert rec.output_activation == "identity (log-values; the exp is inside the loss)"
    assert "spread grows with their size" in rec.reasons[0]
    assert lk.recommend(y=np.random.default_rng(12).normal(10.0, 1.0, 500)).loss == "mse"  # positive, symmetric


def test_positive_targets_with_exact_zeros_get_the_tweedie_deviance():
    rng = np.random.default_rng(13)
    claims = np.where(rng.random(1000) < 0.6, 0.0, rng.gamma(2.0, 500.0, 1000))  # a Poisson number of Gamma amounts
    rec = lk.recommend(y=claims)
    assert (rec.loss, rec.hyperparameters) == ("log_tweedie_deviance", {"power": 1.5})
    assert rec.facts["zero_share"] == pytest.approx(np.mean(claims == 0))
    assert "1 < power < 2" in rec.reasons[0]
    assert lk.check_pairing("identity", rec.loss_object()) == []


def test_quantiles_get_one_multi_quantile_pinball_loss():
    rec = lk.recommend("regression", rng.normal(size=100), quantiles=(0.05, 0.95))
    assert (rec.loss, rec.hyperparameters) == ("pinball", {"quantile": (0.05, 0.95)})
    assert "90% prediction interval" in rec.reasons[0]
    assert "interval coverage: the share of targets inside" in rec.metrics
    assert rec.loss_object()([0.0], [[-1.0, 1.0]]) == pytest.approx(0.05 * 1.0 + 0.05 * 1.0)
    with pytest.raises(lk.InputError, match=r"recommend: quantiles must be a sequence of numbers in \(0, 1\); got \(0\.05, 1\.5\)"):
        lk.recommend("regression", quantiles=(0.05, 1.5))
    with pytest.raises(lk.InputError, match="quantile \\(one\\) or quantiles \\(several\\), not both"):
        lk.recommend("regression", quantile=0.5, quantiles=(0.1, 0.9))


def test_uncertainty_with_outliers_gets_the_laplace_likelihood():
    y = np.r_[rng.normal(size=300), rng.normal(60.0, 5.0, 15)]
    rec = lk.recommend(y=y, uncertainty=True)
    assert rec.loss == "laplace_nll"
    assert rec.output_activation == "location: identity, log_scale: identity (log-values; the exp is inside the loss)"
    assert "gaussian_nll_log_var" in [a.loss for a in rec.alternatives]


def test_gross_outliers_offer_redescending_losses_at_their_price():
    y = np.r_[rng.normal(size=300), rng.normal(60.0, 5.0, 15)]
    rec = lk.recommend(y=y)
    scale = rec.facts["robust_scale"]
    offered = {a.loss: a for a in rec.alternatives}
    # 95% Gaussian efficiency: Cauchy k = 2.3849 sigma for log(1 + (r/k)^2) (Holland and Welsch 1977), over
    # sqrt(2) for losskit's log(1 + (r/c)^2 / 2); Tukey c = 4.685 sigma (Beaton and Tukey 1974)
    assert offered["cauchy"].hyperparameters["scale"] == pytest.approx(2.3849 / np.sqrt(2) * scale, rel=DELTA_ROUNDING)
    assert offered["tukey_biweight"].hyperparameters["c"] == pytest.approx(4.685 * scale, rel=DELTA_ROUNDING)
    assert "non-convex" in offered["cauchy"].reason
    assert any("gross errors" in reason and "redescending" in reason for reason in rec.reasons)
    mild = lk.recommend(y=np.r_[rng.normal(size=300), rng.normal(6.0, 0.5, 15)])  # outliers, 6 sd out
    assert mild.loss == "huber" and not any("gross errors" in reason for reason in mild.reasons)


def test_uncertainty_gets_the_gaussian_likelihood_of_a_log_variance():
    rec = lk.recommend("regression", uncertainty=True)
    assert rec.loss == "gaussian_nll_log_var"
    assert rec.output_activation == "mean: identity, log_variance: identity (log-values; the exp is inside the loss)"
    assert [a.loss for a in rec.alternatives][:1] == ["gaussian_nll"]


def test_metric_learning_reads_its_labels():
    rec = lk.recommend("metric learning")
    assert (rec.task, rec.loss, rec.hyperparameters) == ("metric_learning", "triplet_margin", {"margin": 0.2})
    assert rec.output_activation.startswith("L2 normalisation") and rec.metrics[0] == "recall@k"
    assert lk.recommend("embedding").loss == "triplet_margin"
    assert {a.loss for a in rec.alternatives} == {"ntxent", "info_nce", "contrastive"}
    classes = lk.recommend("metric_learning", y=[0, 1, 2, 1, 0, 3])
    assert (classes.loss, classes.facts) == ("ntxent", {"n": 6, "classes": 4})
    assert not any("look like" in r for r in classes.reasons)  # class labels are expected here
    pairs = lk.recommend("metric_learning", y=[1, -1, -1, 1])
    assert (pairs.loss, pairs.facts["similar_share"]) == ("contrastive", 0.5)
    with pytest.raises(lk.InputError, match="one label per example"):
        lk.recommend("metric_learning", y=np.ones((3, 2)))


def test_ranking_gets_a_listwise_softmax_and_knows_binary_relevance():
    rec = lk.recommend("ranking", y=[[0, 1, 3], [2, 0, 0]])
    assert (rec.loss, rec.output_activation, rec.metrics[0]) == ("listnet", "identity (one raw score per item)", "NDCG@k")
    assert [a.loss for a in rec.alternatives] == ["pairwise_logistic", "listmle"]
    assert rec.facts == {"lists": 2, "items": 3, "grades": 4}
    assert any("binary" in r for r in lk.recommend("ranking", y=[[0, 1, 1], [1, 0, 0]]).reasons)
    with pytest.raises(lk.InputError, match="grades >= 0"):
        lk.recommend("ranking", y=[[0, -1]])


@pytest.mark.parametrize("share, tiny", [(0.02, True), (0.3, False)])
def test_segmentation_gets_dice_plus_cross_entropy_and_tversky_for_tiny_foregrounds(share, tiny):
    masks = (rng.random((20, 16, 16)) < share).astype(float)
    rec = lk.recommend("segmentation", y=masks)
    assert rec.loss_object() == lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy"))
    assert (rec.output_activation, rec.metrics) == ("sigmoid", ("IoU (Jaccard index)", "Dice score"))
    assert rec.facts["foreground_share"] == masks.mean()
    first = rec.alternatives[0]
    assert (first.loss, first.hyperparameters["beta"] > first.hyperparameters["alpha"]) == ("tversky", True)
    assert any("tiny" in r for r in rec.reasons) == tiny
    assert ("binary_cross_entropy" in [a.loss for a in rec.alternatives]) == (not tiny)
    assert lk.check_pairing("sigmoid", rec.loss_object()) == []
    with pytest.raises(lk.InputError, match="0s and 1s"):
        lk.recommend("segmentation", y=masks * 0.5)


def test_nan_or_inf_targets_are_refused_not_dropped():
    with pytest.raises(lk.InputError, match=r"y must be finite numbers; got 1 NaN or inf value: nan at \(1,\)"):
        lk.recommend(y=[1.0, np.nan, 2.0])
    with pytest.raises(lk.InputError, match=r"got 2 NaN or inf values"):
        lk.infer_task([np.inf, 0.0, -np.inf, 1.0])


def test_pairing_names_unknown_predictions():
    with pytest.raises(lk.InputError, match=r"gaussian_nll has no prediction 'sigma'; its predictions: mean, variance"):
        lk.check_pairing({"sigma": "softplus"}, "gaussian_nll")


def test_explain_shows_every_input_and_the_hessian():
    text = " ".join(str(lk.explain("gaussian_nll")).split())
    for line in ("mean values; output activation: identity", "variance non-negative values; output activation: exp",
                 "y_true real numbers", "hessian mean: 1 / v"):  # fmt: skip
        assert line in text, line
    assert "none (the cost is not a weighted sum" in str(lk.explain("rmse"))


# --- reading integers: class ids, counts or measurements ----------------------------------------------


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.random.default_rng(0).integers(1990, 2000, 100), "regression"),  # years
        (np.random.default_rng(1).integers(138, 248, 20), "regression"),  # body weights in pounds
        (np.random.default_rng(2).poisson(np.exp(np.random.default_rng(3).normal(1.0, 1.0, 442))), "count"),
        (np.repeat([0, 1, 2], 50), "multiclass"),
        (np.random.default_rng(4).integers(1, 6, 200), "multiclass"),  # ratings 1 to 5
        ([0, 1, 2, 2, 1], "multiclass"),
    ],
)
def test_integers_are_classes_only_when_they_look_like_class_ids(y, task):
    assert lk.infer_task(y) == task


def test_a_numeric_column_with_a_few_text_cells_is_an_error_naming_them():
    y = np.round(np.random.default_rng(5).normal(size=200), 3).astype(str)
    y[6] = "n/a"
    with pytest.raises(lk.InputError, match=r"numeric except 1 cell \('n/a' at row 6\)"):
        lk.recommend(y=y)


def test_a_forced_binary_task_needs_two_values():
    with pytest.raises(lk.InputError, match="a binary target has exactly 2 distinct values in one column; y has 230"):
        lk.recommend("binary", y=np.arange(230.0))


def test_a_softmax_the_user_must_keep_is_honoured_for_two_classes():
    rec = lk.recommend("binary", y=[0, 1, 1, 0, 1], output_activation="softmax")
    assert (rec.loss, rec.output_activation) == ("sparse_categorical_cross_entropy", "softmax")
    assert lk.check_pairing("softmax", rec.loss) == []


def test_log_normal_targets_call_for_a_relative_error_not_for_huber():
    rec = lk.recommend(y=np.random.default_rng(6).lognormal(0.0, 2.0, 1000))
    assert rec.loss == "log_gamma_deviance"
    assert [a.loss for a in rec.alternatives][:2] == ["msle", "mse"]
    assert "nearly symmetric" in rec.reasons[1]


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_recommend_on_targets_of_any_scale_warns_about_nothing(scale):
    rng = np.random.default_rng(7)
    for y in (np.abs(rng.normal(size=100)) * scale, rng.lognormal(0.0, 2.0, 100) * scale, rng.normal(size=100) * scale):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert lk.recommend(y=y).task == "regression"  # huge floats are all integers, but no counts


# --- imbalance, label noise, rare labels, distillation ----------------------------------------------------


def test_imbalance_offers_focal_with_its_calibration_cost():
    binary = lk.recommend(y=[0] * 18 + [1] * 2)
    assert (binary.loss, binary.hyperparameters) == ("sigmoid_cross_entropy", {"pos_weight": 9.0})
    assert (binary.alternatives[0].loss, binary.alternatives[0].hyperparameters) == ("sigmoid_focal", {"gamma": 2.0})
    assert "not calibrated" in binary.alternatives[0].reason
    multiclass = lk.recommend(y=[0] * 40 + [1] * 40 + [2] * 3)
    assert multiclass.alternatives[0].loss == "sparse_softmax_focal"
    assert lk.recommend(y=np.eye(3)[[0] * 40 + [1] * 40 + [2] * 3]).alternatives[0].loss == "softmax_focal"
    assert lk.recommend(y=[0] * 18 + [1] * 2, output_activation="sigmoid").alternatives[0].loss == "binary_focal"
    # wanting calibrated probabilities rules focal out
    assert "sigmoid_focal" not in [a.loss for a in lk.recommend(y=[0] * 18 + [1] * 2, calibrated_probabilities=True)
                                   .alternatives]  # fmt: skip


def test_label_noise_gets_a_bounded_loss_or_label_smoothing():
    rec = lk.recommend("multiclass", label_noise=True)
    assert (rec.loss, rec.hyperparameters) == ("generalized_cross_entropy", {"q": 0.7})
    assert rec.alternatives[0].hyperparameters == {"label_smoothing": 0.1}
    assert any("wrong" in reason for reason in rec.reasons)
    binary = lk.recommend("binary", label_noise=True)
    assert (binary.loss, binary.hyperparameters) == ("sigmoid_cross_entropy", {"label_smoothing": 0.1})
    assert binary.alternatives[0].loss == "generalized_cross_entropy"
    assert lk.recommend("multiclass", label_noise=False).loss == "sparse_softmax_cross_entropy"
    both = lk.recommend(y=[0] * 40 + [1] * 40 + [2] * 3, label_noise=True)  # imbalanced too: focal stays
    assert [a.loss for a in both.alternatives] == ["sparse_softmax_cross_entropy", "sparse_softmax_focal"]
    for rec in (rec, binary):
        rec.loss_object()  # a valid configuration


def test_label_noise_is_measured_from_out_of_fold_predictions():
    """Confident learning on iris: clean labels flag none; with 30% of them flipped it flags about that share
    and the guide suspects noise."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    x, y = load_iris(return_X_y=True)
    noisy = y.copy()
    flip = np.random.default_rng(0).random(y.size) < 0.3
    noisy[flip] = (noisy[flip] + 1) % 3
    for labels, expected in ((y, "sparse_softmax_cross_entropy"), (noisy, "generalized_cross_entropy")):
        p = cross_val_predict(LogisticRegression(max_iter=1000), x, labels, cv=5, method="predict_proba")
        rec = lk.recommend(y=labels, predictions=p)
        assert rec.loss == expected, rec.facts
    assert 0.2 < rec.facts["suspect_label_share"] < 0.4
    # a binary task takes the positive class's probability
    assert lk.guide.suspect_label_share([0, 0, 1, 1], [0.1, 0.8, 0.7, 0.9]) == 0.25
    with pytest.raises(lk.InputError, match="one column per class"):
        lk.recommend(y=y, predictions=p[:, :2])
    with pytest.raises(lk.InputError, match="binary or multiclass"):
        lk.recommend("regression", y=[1.0, 2.0], predictions=[0.1, 0.2])


def test_rare_labels_get_the_asymmetric_loss():
    rng = np.random.default_rng(3)
    rare = (rng.random((400, 6)) < [0.01, 0.02, 0.2, 0.3, 0.3, 0.5]).astype(float)
    rec = lk.recommend(y=rare)
    assert (rec.loss, rec.hyperparameters) == ("asymmetric", {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.05})
    assert rec.alternatives[0].loss == "sigmoid_cross_entropy" and len(rec.alternatives[0].hyperparameters["pos_weight"]) == 6
    assert rec.facts["labels"] == 6
    lk.get(rec.alternatives[0].loss, **rec.alternatives[0].hyperparameters)  # a valid configuration
    common = (rng.random((400, 6)) < 0.3).astype(float)
    assert lk.recommend(y=common).loss == "sigmoid_cross_entropy"
    assert lk.recommend("multilabel", imbalance=True).loss == "asymmetric"


def test_distillation_gets_the_temperature_scaled_kl():
    rec = lk.recommend("distillation")
    assert (rec.loss, rec.hyperparameters) == ("distillation", {"temperature": 4.0})
    assert "T^2" in rec.reasons[0]
    assert rec.loss_object() == lk.Distillation(temperature=4.0)


@pytest.mark.parametrize(
    "activation, loss, severity",
    [("log_softmax", "nll", None), ("softmax", "nll", "error"), ("sparsemax", "nll", "error"),
     ("identity", "sparsemax_loss", None), ("sparsemax", "sparsemax_loss", "error"), ("softmax", "sparsemax_loss", "error"),
     ("sparsemax", "kl_divergence", None)],
)  # fmt: skip
def test_pairing_knows_sparsemax_and_log_softmax_outputs(activation, loss, severity):
    findings = lk.check_pairing(activation, loss)
    assert [f.severity for f in findings] == ([] if severity is None else [severity])
