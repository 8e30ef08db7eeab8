"""Losses as XGBoost and LightGBM objectives (losskit.boosting), proved against the libraries' built-in objectives.

Trained side by side with a built-in objective (same data, seed, depth, rounds and start score), a losskit
objective must give the same margins to 1e-5: the trees see the same gradients and Hessians up to float32
rounding. The traps of hand-written objectives (weights, the multi-class layout, the start score) each have a
test, and beside it the naive version, which the test tells apart.
"""

import numpy as np
import pytest
from scipy import special

import losskit as lk

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
boosting = lk.boosting

N, ROUNDS = 1500, 20
XGB = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
LGB = {"max_depth": 3, "num_leaves": 8, "learning_rate": 0.3, "num_threads": 1, "seed": 0, "verbose": -1,
       "deterministic": True}  # fmt: skip


def features(n=N, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 5))


def regression_targets(X, seed=1):
    """A smooth signal with Student-t(4) noise, residuals within about seven units.

    (Far larger residuals than pseudo-Huber's delta make its Newton steps, -g/h = -r (1 + r^2 / delta^2),
    overshoot with a growing amplitude, which magnifies float32 rounding round after round: no two
    implementations agree there, and the built-in and losskit part after ten rounds at residuals of 15.)
    """
    return X[:, 0] * 1.5 + np.sin(X[:, 1]) + 0.5 * np.random.default_rng(seed).standard_t(4, len(X))


def binary_targets(X, seed=1):
    p = special.expit(X[:, 0] + X[:, 1] ** 2 - 1)
    return (np.random.default_rng(seed).random(len(X)) < p).astype(np.float64)


def class_targets(X, classes=3, seed=1):
    noise = np.random.default_rng(seed).gumbel(size=(len(X), classes))
    return np.argmax(X[:, :classes] + noise, axis=1).astype(np.float64)


def count_targets(X, seed=1):
    return np.random.default_rng(seed).poisson(np.exp(0.5 * X[:, 0] + 0.3)).astype(np.float64)


def weights(n=N, seed=2):
    return np.random.default_rng(seed).integers(1, 4, n).astype(np.float64)


def xgb_margins(params, X, y, w=None, *, obj=None, rounds=ROUNDS, base_margin=None):
    data = xgb.DMatrix(X, label=y, weight=w, base_margin=base_margin)
    booster = xgb.train({**XGB, **params}, data, rounds, obj=obj)
    return booster.predict(data, output_margin=True)


def lgb_margins(params, X, y, w=None, *, init_score=None, rounds=ROUNDS):
    booster = lgb.train({**LGB, **params}, lgb.Dataset(X, y, weight=w, init_score=init_score), rounds)
    margins = booster.predict(X, raw_score=True)
    return margins if init_score is None else margins + init_score


# --- the built-in objectives, side by side --------------------------------------------------------------


@pytest.mark.parametrize("delta", [1.0, 2.5])
def test_pseudo_huber_is_xgboost_pseudohubererror(delta):
    X = features()
    y = regression_targets(X)
    loss = lk.get("pseudo_huber", delta=delta)
    start = boosting.start_score(loss, y)
    ours = xgb_margins({"base_score": start}, X, y, obj=boosting.xgboost_objective(loss))
    theirs = xgb_margins({"objective": "reg:pseudohubererror", "huber_slope": delta, "base_score": start}, X, y)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def three_classes(X):
    return class_targets(X, 3)


def five_classes(X):
    return class_targets(X, 5)


#: (loss, targets, the built-in objective's parameters), each trained with weights, from the built-in's own start.
XGBOOST_BUILT_INS = [
    ("sigmoid_cross_entropy", binary_targets, {"objective": "binary:logistic"}),  # the logit of the weighted mean
    ("sparse_softmax_cross_entropy", three_classes, {"objective": "multi:softprob", "num_class": 3}),  # centred
    ("sparse_softmax_cross_entropy", five_classes, {"objective": "multi:softprob", "num_class": 5}),  # log shares
    # max_delta_step 0: the built-in's Hessian is exp(F + max_delta_step), 0.7 by default
    ("log_poisson_nll", count_targets, {"objective": "count:poisson", "max_delta_step": 0.0}),  # the log of the mean
]
LIGHTGBM_BUILT_INS = [
    ("sigmoid_cross_entropy", binary_targets, {"objective": "binary"}),
    ("sparse_softmax_cross_entropy", three_classes, {"objective": "multiclass", "num_class": 3}),
    ("sparse_softmax_cross_entropy", five_classes, {"objective": "multiclass", "num_class": 5}),
    # the Hessian is exp(F + poisson_max_delta_step), which must be > 0: 1e-12 leaves exp(F)
    ("log_poisson_nll", count_targets, {"objective": "poisson", "poisson_max_delta_step": 1e-12}),
]


def ids(case):
    return f"{case[0]}-{case[2]['objective']}-{case[1].__name__}"


@pytest.mark.parametrize("loss, targets, builtin", XGBOOST_BUILT_INS, ids=map(ids, XGBOOST_BUILT_INS))
def test_xgboost_built_in_objectives_with_weights(loss, targets, builtin):
    X = features()
    y, w = targets(X), weights()
    params = {key: value for key, value in builtin.items() if key != "objective"}
    ours = xgb_margins({**params, "base_score": boosting.start_score(loss, y, w)}, X, y, w,
                       obj=boosting.xgboost_objective(loss))  # fmt: skip
    theirs = xgb_margins(builtin, X, y, w)
    assert ours.shape == theirs.shape == ((N,) if "num_class" not in params else (N, params["num_class"]))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("loss, targets, builtin", LIGHTGBM_BUILT_INS, ids=map(ids, LIGHTGBM_BUILT_INS))
def test_lightgbm_built_in_objectives_with_weights(loss, targets, builtin):
    X = features()
    y, w = targets(X), weights()
    params = {key: value for key, value in builtin.items() if key != "objective"}
    ours = lgb_margins({**params, "objective": boosting.lightgbm_objective(loss)}, X, y, w,
                       init_score=boosting.init_score(loss, y, w))  # fmt: skip
    theirs = lgb_margins(builtin, X, y, w)  # boost_from_average: the built-in's own start
    if "num_class" in params:  # its start, log shares uncentred, moves each row by one constant: centred, the same
        ours, theirs = (m - m.mean(axis=1, keepdims=True) for m in (ours, theirs))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_scikit_learn_estimators_take_the_objective_and_the_weights():
    """XGBoost passes sample_weight by keyword, LightGBM by position: both reach the objective."""
    X = features()
    y, w = binary_targets(X), weights()
    loss = "sigmoid_cross_entropy"
    model = xgb.XGBRegressor(objective=boosting.xgboost_objective(loss), base_score=boosting.start_score(loss, y, w),
                             n_estimators=ROUNDS, max_depth=3, learning_rate=0.3, n_jobs=1, random_state=0)  # fmt: skip
    model.fit(X, y, sample_weight=w)
    theirs = xgb_margins({"objective": "binary:logistic"}, X, y, w)
    np.testing.assert_allclose(model.predict(X, output_margin=True), theirs, rtol=0, atol=1e-5)

    model = lgb.LGBMRegressor(objective=boosting.lightgbm_objective(loss), n_estimators=ROUNDS, max_depth=3,
                              num_leaves=8, learning_rate=0.3, n_jobs=1, random_state=0, verbose=-1,
                              deterministic=True)  # fmt: skip
    start = boosting.init_score(loss, y, w)
    model.fit(X, y, sample_weight=w, init_score=start)
    theirs = lgb_margins({"objective": "binary"}, X, y, w)
    np.testing.assert_allclose(model.predict(X, raw_score=True) + start, theirs, rtol=0, atol=1e-5)


def test_xgboost_classifier_with_the_softmax_objective_and_metric_is_multi_softprob():
    X = features()
    y, w = class_targets(X).astype(np.int64), weights()
    loss = "sparse_softmax_cross_entropy"
    model = xgb.XGBClassifier(objective=boosting.xgboost_objective(loss), base_score=boosting.start_score(loss, y, w),
                              eval_metric=boosting.xgboost_metric(loss), n_estimators=ROUNDS, max_depth=3,
                              learning_rate=0.3, n_jobs=1, random_state=0)  # fmt: skip
    model.fit(X, y, sample_weight=w, eval_set=[(X, y)], sample_weight_eval_set=[w], verbose=False)
    margins = model.predict(X, output_margin=True)
    theirs = xgb_margins({"objective": "multi:softprob", "num_class": 3}, X, y, w)
    np.testing.assert_allclose(margins, theirs, rtol=0, atol=1e-5)
    metric = model.evals_result()["validation_0"][loss]  # the weighted mean log loss after each round
    expected = pytest.importorskip("sklearn.metrics").log_loss(y, special.softmax(margins, axis=1), sample_weight=w)
    assert len(metric) == ROUNDS and metric[-1] == pytest.approx(expected, rel=1e-5)


def test_xgboost_base_margin_is_the_start_score_row_by_row():
    X = features()
    y = count_targets(X)
    objective = boosting.xgboost_objective("log_poisson_nll")
    by_score = xgb_margins({"base_score": boosting.start_score("log_poisson_nll", y)}, X, y, obj=objective)
    by_rows = xgb_margins({}, X, y, obj=objective, base_margin=boosting.init_score("log_poisson_nll", y))
    np.testing.assert_allclose(by_rows, by_score, rtol=0, atol=1e-5)


@pytest.mark.parametrize("loss", ["pseudo_huber", "sigmoid_cross_entropy", "cauchy"])
def test_the_gradient_and_hessian_come_from_the_fast_path(loss, monkeypatch):
    from losskit import engines
    from losskit.fast import _impl

    served = []
    kernel = _impl.IMPLS[loss]

    def spy(*args):
        served.append(kernel(*args))
        return served[-1]

    spy.hessian, spy.params = kernel.hessian, kernel.params
    monkeypatch.setitem(_impl.IMPLS, loss, spy)
    X = features(engines.AUTO_MIN_SIZE)  # a size the engines serve
    y = binary_targets(X) if loss.startswith("sigmoid") else regression_targets(X)
    raw = np.random.default_rng(7).normal(size=len(y))
    got = boosting.xgboost_objective(loss)(y, raw)
    assert len(served) == 1 and served[0] is not None  # one pass: value, gradient and Hessian
    with lk.fast_path("never"):
        expected = boosting.xgboost_objective(loss)(y, raw)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_xgboost_binary_classifier_starts_from_base_margin():
    """XGBClassifier with two classes reads base_score as a probability: the start goes in as base_margin."""
    X = features()
    y, w = binary_targets(X).astype(np.int64), weights()
    loss = "sigmoid_cross_entropy"
    model = xgb.XGBClassifier(objective=boosting.xgboost_objective(loss), n_estimators=ROUNDS, max_depth=3,
                              learning_rate=0.3, n_jobs=1, random_state=0)  # fmt: skip
    start = boosting.init_score(loss, y, w)
    model.fit(X, y, sample_weight=w, base_margin=start)
    theirs = xgb_margins({"objective": "binary:logistic"}, X, y, w)
    np.testing.assert_allclose(model.predict(X, output_margin=True, base_margin=start), theirs, rtol=0, atol=1e-5)


def test_estimators_holding_the_objective_clone_and_pickle():
    import pickle

    from sklearn.base import clone

    X = features()
    y = regression_targets(X)
    for model in (xgb.XGBRegressor(objective=boosting.xgboost_objective("huber"), n_estimators=5, n_jobs=1),
                  lgb.LGBMRegressor(objective=boosting.lightgbm_objective("huber"), n_estimators=5, n_jobs=1,
                                    verbose=-1)):  # fmt: skip
        fitted = clone(model).fit(X, y)
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
        assert again.get_params()["objective"].loss == lk.get("huber")


def test_lightgbm_cross_validation_and_scikit_learn_eval_metric_are_the_built_in_log_loss():
    X = features()
    y, w = binary_targets(X), weights()
    loss = "sigmoid_cross_entropy"
    start = boosting.init_score(loss, y, w)
    ours = lgb.cv({**LGB, "objective": boosting.lightgbm_objective(loss), "metric": "None"},
                  lgb.Dataset(X, y, weight=w, init_score=start), 5, nfold=3, stratified=False,
                  feval=boosting.lightgbm_metric(loss))  # fmt: skip
    theirs = lgb.cv({**LGB, "objective": "binary", "metric": "binary_logloss"},
                    lgb.Dataset(X, y, weight=w, init_score=start), 5, nfold=3, stratified=False)  # fmt: skip
    np.testing.assert_allclose(ours[f"valid {loss}-mean"], theirs["valid binary_logloss-mean"], rtol=1e-6)

    model = lgb.LGBMRegressor(objective=boosting.lightgbm_objective(loss), n_estimators=5, verbose=-1, n_jobs=1)
    model.fit(X, y, sample_weight=w, init_score=start, eval_X=(X,), eval_y=(y,), eval_sample_weight=[w],
              eval_init_score=[start], eval_metric=boosting.lightgbm_metric(loss))  # fmt: skip
    expected = pytest.importorskip("sklearn.metrics").log_loss(
        y, special.expit(model.predict(X, raw_score=True) + start), sample_weight=w)  # fmt: skip
    assert model.evals_result_["training"][loss][-1] == pytest.approx(expected, rel=1e-6)


def test_labels_that_lack_a_class_start_from_num_class_classes():
    X = features()
    y = (X[:, 0] > 0).astype(np.float64)  # classes 0 and 1 of three
    loss = "sparse_softmax_cross_entropy"
    assert boosting.outputs(loss, y) == 2
    start = np.array(boosting.start_score(loss, y, num_class=3))
    assert start.shape == (3,) and start[2] < start[:2].min() - 20  # the clipped share of an absent class
    np.testing.assert_allclose(special.softmax(start)[:2], [np.mean(y == 0), np.mean(y == 1)], rtol=1e-9)
    margins = xgb_margins({"num_class": 3, "base_score": start.tolist()}, X, y, obj=boosting.xgboost_objective(loss))
    assert margins.shape == (N, 3) and np.all(special.softmax(margins, axis=1)[:, 2] < 1e-6)
    init = boosting.init_score(loss, y, num_class=3)
    margins = lgb_margins({"objective": boosting.lightgbm_objective(loss), "num_class": 3}, X, y, init_score=init)
    assert margins.shape == (N, 3)
    with pytest.raises(lk.InputError, match="class ids 0 to 1"):
        boosting.start_score(loss, y + 1, num_class=2)
    with pytest.raises(lk.InputError, match="must be class ids"):
        boosting.xgboost_objective(loss)(np.array([0.0, 0.9999999]), np.zeros((2, 2)))


# --- the traps -------------------------------------------------------------------------------------------


def repeated_rows(w):
    """The row of each copy when row i is repeated w[i] times."""
    return np.repeat(np.arange(len(w)), w.astype(np.int64))


def coarse_features(n=600, seed=0):
    """Features of ten values each: the histograms' bins are the values, with weights or repeated rows alike."""
    return (np.random.default_rng(seed).integers(0, 10, size=(n, 4)) - 4.5) / 3


def unweighted(objective):
    """The naive objective: the loss's derivatives, the data set's weights never applied."""
    return lambda raw, data: objective.derivatives(data.get_label(), raw)


def trained(library, loss, objective, start, X, y, w=None):
    """Margins of one library's model for ``objective`` on the coarse data, from the start score ``start``."""
    if library == "xgboost":
        params = {"num_class": 3} if loss.startswith("sparse") else {}
        return xgb_margins({**params, "base_score": start}, X, y, w, obj=objective)
    # LightGBM counts rows (min_data_in_leaf, and estimates of counts from Hessians), which repeating changes and
    # weighting does not; lambda_l2 = 1 is XGBoost's default, which damps the Newton steps of losses whose
    # Hessian is clipped
    params = {"num_class": 3} if loss.startswith("sparse") else {}
    params.update(min_data_in_leaf=0, min_data_in_bin=1, lambda_l2=1.0, objective=objective)
    return lgb_margins(params, X, y, w, init_score=np.tile(start, (len(y),) + (1,) * np.ndim(start)))


@pytest.mark.parametrize("library, loss", [
    ("xgboost", "cauchy"), ("xgboost", "sparse_softmax_cross_entropy"),
    ("lightgbm", "tukey_biweight"), ("lightgbm", "sparse_softmax_cross_entropy"),
])  # fmt: skip
def test_weights_equal_repeated_rows(library, loss):
    X = coarse_features()
    y = class_targets(X) if loss.startswith("sparse") else regression_targets(X)
    w = weights(len(y))
    copies = repeated_rows(w)
    # the weighted data's start is the repeated data's own (up to the tolerance of the search of Cauchy's)
    start = boosting.start_score(loss, y, w)
    np.testing.assert_allclose(start, boosting.start_score(loss, y[copies]), rtol=1e-7)
    objective = boosting.Objective(loss, library)
    weighted = trained(library, loss, objective, start, X, y, w)
    repeated = trained(library, loss, objective, start, X[copies], y[copies])
    np.testing.assert_allclose(weighted, repeated[np.cumsum(w).astype(np.int64) - 1], rtol=0, atol=1e-5)
    naive = trained(library, loss, unweighted(objective), start, X, y, w)
    assert np.abs(naive - weighted).max() > 1e-3


def test_lightgbm_reads_a_flat_gradient_class_major():
    """The objective returns (n, K); the naive flat sample-major array trains something else."""
    X = features()
    y = class_targets(X)
    loss = "sparse_softmax_cross_entropy"
    objective = boosting.lightgbm_objective(loss)
    grad, hess = objective(y, np.zeros((N, 3)))
    assert grad.shape == hess.shape == (N, 3)
    start = boosting.init_score(loss, y)
    theirs = lgb_margins({"objective": "multiclass", "num_class": 3}, X, y, init_score=start)

    def flat(raw, data, order):
        g, h = objective(raw, data)
        return g.ravel(order=order), h.ravel(order=order)

    class_major = lgb_margins({"objective": lambda r, d: flat(r, d, "F"), "num_class": 3}, X, y, init_score=start)
    np.testing.assert_allclose(class_major, theirs, rtol=0, atol=1e-5)
    sample_major = lgb_margins({"objective": lambda r, d: flat(r, d, "C"), "num_class": 3}, X, y, init_score=start)
    assert np.abs(sample_major - theirs).max() > 1e-2


def recording(objective):
    """The objective, keeping in ``.first`` the margins it is first called with (a function: LightGBM deep-copies
    its parameters, and a copy of a function is the function)."""
    first = []

    def record(raw, data):
        if not first:
            first.append(np.array(raw))
        return objective(raw, data)

    record.first = first
    return record


@pytest.mark.parametrize("loss, builtin, targets", [
    ("sigmoid_cross_entropy", {"objective": "binary:logistic"}, binary_targets),
    ("log_poisson_nll", {"objective": "count:poisson", "max_delta_step": 0.0}, count_targets),
])  # fmt: skip
def test_xgboost_starts_a_custom_objective_at_one_half_and_the_built_in_at_its_best_constant(loss, builtin, targets):
    X = features()
    y = targets(X)
    params = {k: v for k, v in builtin.items() if k != "objective"}
    theirs = xgb_margins(builtin, X, y)
    naive = recording(boosting.xgboost_objective(loss))
    naive_margins = xgb_margins(params, X, y, obj=naive)
    np.testing.assert_array_equal(naive.first[0], 0.5)
    assert np.abs(naive_margins - theirs).max() > 1e-2
    ours = recording(boosting.xgboost_objective(loss))
    margins = xgb_margins({**params, "base_score": boosting.start_score(loss, y)}, X, y, obj=ours)
    np.testing.assert_allclose(ours.first[0], boosting.start_score(loss, y), rtol=1e-6)
    np.testing.assert_allclose(margins, theirs, rtol=0, atol=1e-5)


def test_lightgbm_starts_a_custom_objective_at_zero():
    X = features()
    y = count_targets(X)
    theirs = lgb_margins({"objective": "poisson", "poisson_max_delta_step": 1e-12}, X, y)  # boost_from_average
    naive = recording(boosting.lightgbm_objective("log_poisson_nll"))
    naive_margins = lgb_margins({"objective": naive}, X, y)
    np.testing.assert_array_equal(naive.first[0], 0.0)
    assert np.abs(naive_margins - theirs).max() > 1e-2
    start = boosting.init_score("log_poisson_nll", y)
    ours = lgb_margins({"objective": boosting.lightgbm_objective("log_poisson_nll")}, X, y, init_score=start)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


# --- losses the libraries lack ------------------------------------------------------------------------


def quantile_targets(X, seed=1):
    return X[:, 0] + np.random.default_rng(seed).gamma(2.0, 1.0, len(X))  # skewed noise


def tweedie_targets(X, seed=1):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.exp(0.4 * X[:, 0]))
    return np.array([rng.gamma(2.0, 0.5, k).sum() for k in counts])  # compound Poisson-gamma, exact zeros


LACKING = [
    (lk.get("cauchy"), regression_targets),
    (lk.get("tukey_biweight"), regression_targets),
    (lk.get("sigmoid_focal"), binary_targets),
    (lk.get("pinball", quantile=(0.1, 0.5, 0.9)), quantile_targets),
    (lk.get("log_tweedie_deviance", power=1.5), tweedie_targets),
]


@pytest.mark.parametrize("loss, targets", LACKING, ids=lambda v: getattr(v, "__name__", None) or repr(v))
def test_losses_the_libraries_lack_train_and_reduce_their_own_loss(loss, targets):
    X = features()
    y = targets(X)
    k = boosting.outputs(loss, y)  # 3 for the quantiles, else 1
    extra = {"xgboost": {"num_target": k}, "lightgbm": {"num_class": k}} if k > 1 else {"xgboost": {}, "lightgbm": {}}
    history = {}
    data = xgb.DMatrix(X, label=y)
    xgb.train({**XGB, **extra["xgboost"], "base_score": boosting.start_score(loss, y),
               "disable_default_eval_metric": 1},
              data, ROUNDS, obj=boosting.xgboost_objective(loss), custom_metric=boosting.xgboost_metric(loss),
              evals=[(data, "train")], evals_result=history, verbose_eval=False)  # fmt: skip
    xgb_curve = history["train"][loss.info.name]
    history = {}
    lgb.train({**LGB, **extra["lightgbm"], "objective": boosting.lightgbm_objective(loss), "lambda_l2": 1.0},
              lgb.Dataset(X, y, init_score=boosting.init_score(loss, y)), ROUNDS, feval=boosting.lightgbm_metric(loss),
              valid_sets=[lgb.Dataset(X, y, init_score=boosting.init_score(loss, y))], valid_names=["train"],
              callbacks=[lgb.record_evaluation(history)])  # fmt: skip
    lgb_curve = history["train"][loss.info.name]
    start = float(loss(y, boosting.init_score(loss, y)))
    for curve in (xgb_curve, lgb_curve):
        assert len(curve) == ROUNDS and np.all(np.isfinite(curve))
        assert curve[-1] < 0.9 * start and curve[-1] <= min(curve[:5])


def test_pinball_rows_of_quantiles_cover_their_shares():
    """Boosted on several quantiles at once, each output leaves about its share of the targets below it."""
    X = features(4000)
    y = quantile_targets(X)
    loss = lk.get("pinball", quantile=(0.1, 0.5, 0.9))
    booster = xgb.train({**XGB, "num_target": 3, "base_score": boosting.start_score(loss, y)}, xgb.DMatrix(X, label=y),
                        60, obj=boosting.xgboost_objective(loss))  # fmt: skip
    margins = booster.predict(xgb.DMatrix(X), output_margin=True)
    np.testing.assert_allclose(np.mean(y[:, None] <= margins, axis=0), [0.1, 0.5, 0.9], atol=0.03)
    assert np.all(np.diff(margins.mean(axis=0)) > 0)


# --- the objective's numbers -------------------------------------------------------------------------


def test_multiclass_hessian_factors():
    """XGBoost's 2 p (1 - p) and LightGBM's K / (K - 1) p (1 - p), from SciPy's softmax; weights times both."""
    rng = np.random.default_rng(3)
    raw, y, w = rng.normal(size=(50, 4)), rng.integers(0, 4, 50).astype(np.float64), rng.uniform(0.5, 2, 50)
    p = special.softmax(raw, axis=1)
    grad = (p - np.eye(4)[y.astype(int)]) * w[:, None]
    for objective, factor in ((boosting.xgboost_objective("sparse_softmax_cross_entropy"), 2.0),
                              (boosting.lightgbm_objective("sparse_softmax_cross_entropy"), 4 / 3)):  # fmt: skip
        g, h = objective(y, raw, w)
        np.testing.assert_allclose(g, grad, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h, factor * p * (1 - p) * w[:, None], rtol=1e-12)
    # a row of quantiles is no row of classes: no factor
    g, h = boosting.xgboost_objective(lk.get("pinball", quantile=(0.2, 0.8)))(y[:4], np.zeros((4, 2)))
    np.testing.assert_array_equal(h, 1.0)


def test_min_hessian_clips_non_convex_losses_only():
    """Cauchy's log(1 + r^2 / 2) (c = 1; shared/CATALOGUE.md 1.4) has the slope 2r / (2 + r^2) and the second
    derivative (4 - 2r^2) / (2 + r^2)^2, negative past |r| = sqrt(2): clipped at the floor there."""
    r = np.array([0.0, 0.5, 1.0, 3.0, 30.0])
    w = np.array([1.0, 2.0, 1.0, 2.0, 0.5])
    exact = (4 - 2 * r**2) / (2 + r**2) ** 2
    g, h = boosting.xgboost_objective("cauchy")(np.zeros(5), r, w)
    np.testing.assert_allclose(g, w * 2 * r / (2 + r**2), rtol=1e-12)
    np.testing.assert_allclose(h, w * np.maximum(exact, boosting.MIN_HESSIAN), rtol=1e-12, atol=1e-15)
    _, h = boosting.lightgbm_objective("cauchy", min_hessian=0.05)(np.zeros(5), r, w)
    np.testing.assert_allclose(h, w * np.maximum(exact, 0.05), rtol=1e-12)
    # not convex, whatever its class's tags say of the default power: the floor applies
    z = np.array([0.0, 3.0])
    _, h = boosting.xgboost_objective(lk.get("log_tweedie_deviance", power=3.0))(np.ones(2), z)
    exact = 2 * (-np.exp(-z) + 2 * np.exp(-2 * z))  # 2 ((2 - p) mu^(2 - p) - (1 - p) y mu^(1 - p)), p = 3, y = 1
    np.testing.assert_allclose(h, np.maximum(exact, boosting.MIN_HESSIAN), rtol=1e-12)
    assert exact[1] < 0
    objective = boosting.xgboost_objective("sigmoid_cross_entropy")  # convex: no floor
    assert objective.min_hessian == 0.0
    _, h = objective(np.ones(2), np.array([0.0, 800.0]))
    np.testing.assert_allclose(h, special.expit([0.0, 800.0]) * special.expit([0.0, -800.0]), rtol=1e-12)
    for bad in (-1.0, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(lk.InputError, match="min_hessian"):
            boosting.xgboost_objective("cauchy", min_hessian=bad)


@pytest.mark.parametrize("name, words", [
    ("poisson_nll", "twin log_poisson_nll"),
    ("binary_cross_entropy", "twin sigmoid_cross_entropy"),
    ("rmse", "no Hessian"),
    ("gaussian_nll", "its variance takes real numbers >= 0"),
    ("triplet_margin", "one target per row"),
    ("ntxent", "one target per row"),
    ("dice", "whole sample"),
])  # fmt: skip
def test_losses_that_cannot_be_boosted_say_why(name, words):
    for make in (boosting.xgboost_objective, boosting.lightgbm_objective, boosting.xgboost_metric,
                 boosting.lightgbm_metric, lambda loss: boosting.predict(loss, [0.0])):  # fmt: skip
        with pytest.raises(lk.InputError, match=words):
            make(name)


def test_predict_maps_margins_through_the_inverse_link():
    raw = np.random.default_rng(4).normal(size=(6, 3)) * 3
    np.testing.assert_allclose(boosting.predict("sigmoid_cross_entropy", raw[:, 0]), special.expit(raw[:, 0]))
    np.testing.assert_allclose(boosting.predict("sparse_softmax_cross_entropy", raw), special.softmax(raw, axis=1))
    np.testing.assert_allclose(boosting.predict("log_poisson_nll", raw[:, 0]), np.exp(raw[:, 0]))
    np.testing.assert_array_equal(boosting.predict("huber", raw[:, 0]), raw[:, 0])


def test_metrics_are_the_weighted_mean_loss_on_margins():
    """Checked against scikit-learn's log_loss and LightGBM's own binary_logloss."""
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    X = features()
    y, w = binary_targets(X), weights()
    raw = np.random.default_rng(5).normal(size=N)
    expected = sklearn_metrics.log_loss(y, special.expit(raw), sample_weight=w)
    data = xgb.DMatrix(X, label=y, weight=w)
    native = boosting.xgboost_metric("sigmoid_cross_entropy")(raw, data)
    assert native == ("sigmoid_cross_entropy", pytest.approx(expected))
    for other in (boosting.lightgbm_metric("sigmoid_cross_entropy"),
                  boosting.lightgbm_objective("sigmoid_cross_entropy")):
        with pytest.raises(lk.InputError, match="called by xgboost with its DMatrix: use lk.boosting's xgboost one"):
            other(raw, data)
    metric = boosting.xgboost_metric("sigmoid_cross_entropy")
    assert metric.__name__ == "sigmoid_cross_entropy" and metric(y, raw, sample_weight=w) == pytest.approx(expected)
    name, value, higher = boosting.lightgbm_metric("sigmoid_cross_entropy")(y, raw, w)
    assert (name, higher) == ("sigmoid_cross_entropy", False) and value == pytest.approx(expected)

    history = {}
    train = lgb.Dataset(X, y, weight=w, init_score=boosting.init_score("sigmoid_cross_entropy", y, w))
    lgb.train({**LGB, "objective": "binary", "metric": "binary_logloss"}, train, 5, valid_sets=[train],
              valid_names=["train"], callbacks=[lgb.record_evaluation(history)])  # fmt: skip
    history_ours = {}
    train = lgb.Dataset(X, y, weight=w, init_score=boosting.init_score("sigmoid_cross_entropy", y, w))
    lgb.train({**LGB, "objective": boosting.lightgbm_objective("sigmoid_cross_entropy"), "metric": "None"}, train, 5,
              valid_sets=[train], valid_names=["train"], feval=boosting.lightgbm_metric("sigmoid_cross_entropy"),
              callbacks=[lgb.record_evaluation(history_ours)])  # fmt: skip
    np.testing.assert_allclose(history_ours["train"]["sigmoid_cross_entropy"], history["train"]["binary_logloss"],
                               rtol=1e-6)  # fmt: skip


# --- several predictions: one margin column each ----------------------------------------------------------


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_a_mean_and_a_log_variance_boosted_together_find_the_spread(library):
    """gaussian_nll_log_var on two margin columns: the predicted spread follows the true one."""
    X = features(4000)
    sd = np.exp(0.6 * X[:, 1])
    y = X[:, 0] + sd * np.random.default_rng(6).normal(size=len(X))
    loss = "gaussian_nll_log_var"
    assert boosting.outputs(loss, y) == 2
    if library == "xgboost":
        booster = xgb.train({**XGB, "num_target": 2, "base_score": boosting.start_score(loss, y)},
                            xgb.DMatrix(X, label=y), 60, obj=boosting.xgboost_objective(loss))  # fmt: skip
        margins = booster.predict(xgb.DMatrix(X), output_margin=True)
    else:
        start = boosting.init_score(loss, y)
        booster = lgb.train({**LGB, "num_class": 2, "objective": boosting.lightgbm_objective(loss), "lambda_l2": 1.0},
                            lgb.Dataset(X, y, init_score=start), 60)  # fmt: skip
        margins = booster.predict(X, raw_score=True) + start
    mean, variance = boosting.predict(loss, margins).T
    np.testing.assert_allclose(variance, np.exp(np.float64(margins[:, 1])), rtol=1e-12)
    assert np.corrcoef(np.sqrt(variance), sd)[0, 1] > 0.9
    assert np.corrcoef(mean, X[:, 0])[0, 1] > 0.9


# --- the lab ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_the_lab_tree_model_is_the_librarys_own_boosting(library):
    """The lab's tree model with sigmoid cross-entropy grows the trees of the built-in logistic objective."""
    from losskit.lab import datasets, models, training

    split = datasets.make_split(datasets.load_builtin(datasets.experiment("binary")), seed=0, val_fraction=0.3)
    X, y, X_val = split.X_train, split.y_train.astype(np.float64), split.X_val
    tree = models.build("numpy", library, X.shape[1], 1, hidden=32, seed=0, optimizer="adam", lr=0.1)
    objective = training.Objective(lk.get("sigmoid_cross_entropy"))
    tree.start(objective, X, y)
    for _ in range(10):
        tree.step(objective, X, y)
    if library == "xgboost":
        params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "lambda": 1.0, "nthread": 1}
        theirs = xgb.train(params, xgb.DMatrix(X, label=y), 10).predict(xgb.DMatrix(X_val), output_margin=True)
    else:
        params = {"objective": "binary", "max_depth": 4, "num_leaves": 15, "learning_rate": 0.1, "lambda_l2": 1.0,
                  "num_threads": 1, "verbose": -1, "deterministic": True}  # fmt: skip
        theirs = lgb.train(params, lgb.Dataset(X, y), 10).predict(X_val, raw_score=True)
    np.testing.assert_allclose(tree.predict(X_val), theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("model, experiment, seeds", [
    ("xgboost", "outliers", 2), ("lightgbm", "quantiles", 1), ("xgboost", "multiclass", 1),
    ("xgboost", "heteroscedastic", 1), ("lightgbm", "imbalanced", 1),
])  # fmt: skip
def test_the_lab_runs_its_experiments_on_tree_models(model, experiment, seeds, tmp_path):
    from losskit.lab import run

    result = run(experiment, model=model, epochs=6, seeds=seeds, out=tmp_path if seeds > 1 else None)
    assert result.settings["model"] == model and result.settings["lr"] == 0.1
    assert len(result.runs) == seeds * len(result.losses)
    for record in result.runs:
        costs = record.history["train_cost"]
        assert record.diverged_at is None and np.all(np.isfinite(costs))
        assert costs[-1] < costs[0], record.label  # every loss reduces its own training cost
    if seeds > 1:
        page = (tmp_path / "report.html").read_text()
        assert "gradient-boosted trees" in page and "one round on the whole training set per epoch" in page
        assert f"--model {model}" in page


def test_the_lab_refuses_what_a_tree_model_cannot_train():
    from losskit.lab import LabError, run

    with pytest.raises(LabError, match="rmse cannot be a boosting objective"):
        run("outliers", model="xgboost", losses="mse,rmse", epochs=1, seeds=1)
    with pytest.raises(LabError, match="--model lightgbm cannot train the segmentation experiment"):
        run("segmentation", model="lightgbm", epochs=1, seeds=1)
    with pytest.raises(LabError, match="NumPy arrays"):
        run("outliers", model="xgboost", backend="torch", epochs=1, seeds=1)
