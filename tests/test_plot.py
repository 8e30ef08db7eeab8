"""The pictures: curves equal the library's numbers and hand formulas; figures, sweeps, files, errors."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import losskit as lk
from losskit import plot

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

#: The losses with a curve of one variable (embeddings and log-probability rows have none).
NAMES = [name for name in lk.list_losses() if lk.get(name).info.variable != "none"]
VARIABLES = sorted({lk.get(name).info.variable for name in NAMES})
#: Where the other predictions stand in a picture of the first one (plot.curve's docstring).
ASIDE = {"variance": 1.0, "log_variance": 0.0, "log_scale": 0.0}


def drawn(ax):
    """The lines of the losses on an Axes (guide lines have labels starting with '_')."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def direct(name, x, **hyper):
    """The loss and its derivative at ``x``, built here from the convention in plot.curve's docstring.

    Elementwise: y_true = 0 (residual), 2 (prediction: a count) or 1 (margin, logit, probability),
    the first prediction x, a variance 1 and a log-variance 0. Class axis: 3 classes, true class 0;
    logits [x, 0, 0]; probabilities [x, (1-x)/2, (1-x)/2], target row (0.7, 0.15, 0.15) for a
    distribution loss; the derivative along x.
    """
    loss = lk.get(name, **hyper)
    x = np.asarray(x, dtype=np.float64)
    n, info = x.size, loss.info
    if loss.info.predictions[0].event != 1:
        y_true = np.full(n, {"residual": 0.0, "prediction": 2.0}.get(info.variable, 1.0))
        arrays = [y_true, x] + [np.full(n, ASIDE[spec.name]) for spec in info.predictions[1:]]
        grad = loss.grad(*arrays, reduction="none")
        return np.asarray(loss(*arrays, reduction="none")), np.asarray(grad[0] if isinstance(grad, tuple) else grad)
    if info.variable == "logit":
        y_pred = np.stack([x, np.zeros(n), np.zeros(n)], axis=1)
        direction = np.array([1.0, 0.0, 0.0])
    else:
        y_pred = np.stack([x, (1 - x) / 2, (1 - x) / 2], axis=1)
        direction = np.array([1.0, -0.5, -0.5])
    if loss.info.inputs[0].kind == "class_index":
        y_true = np.zeros(n, dtype=np.int64)
    elif info.task == "distribution":
        y_true = np.tile([0.7, 0.15, 0.15], (n, 1))
    else:
        y_true = np.tile([1.0, 0.0, 0.0], (n, 1))
    value = np.asarray(loss(y_true, y_pred, reduction="none"))
    return value, np.asarray(loss.grad(y_true, y_pred, reduction="none")) @ direction


def inside(name, n=41):
    """Points of the plot variable inside the loss's domain."""
    low, high = plot.default_range(name)
    low = {"msle": -0.9, "poisson_nll": 0.1}.get(name, low)
    if getattr(lk.get(name).info.predictions[0].domain, "open_low", False):
        low += 0.1  # an open end, such as a mean > 0
    return np.linspace(low, high, n)


# --- curve -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_curve_equals_the_loss_computed_directly(name):
    x = inside(name)
    values, grads = plot.curve(name, x)
    expected_values, expected_grads = direct(name, x)
    assert values.dtype == grads.dtype == np.float64
    assert values.shape == grads.shape == x.shape
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-15, atol=0)


def softplus(t):
    return np.logaddexp(0.0, t)


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


# (name, x, value by hand, derivative by hand)
HAND = [
    ("mse", np.linspace(-3, 3, 13), lambda r: r**2, lambda r: 2 * r),
    ("mae", np.linspace(-3, 3, 13), np.abs, np.sign),  # sign(0) = 0: the lowest-norm subgradient
    ("rmse", np.linspace(-3, 3, 13), np.abs, np.sign),  # per example, reduction="none": |r|
    ("huber", np.linspace(-3, 3, 13), lambda r: np.where(np.abs(r) <= 1, r**2 / 2, np.abs(r) - 0.5),
     lambda r: np.clip(r, -1, 1)),
    ("log_cosh", np.linspace(-3, 3, 13), lambda r: np.log(np.cosh(r)), np.tanh),
    ("msle", np.linspace(-0.5, 3, 8), lambda r: np.log1p(r) ** 2, lambda r: 2 * np.log1p(r) / (1 + r)),
    ("hinge", np.linspace(-4, 4, 17), lambda m: np.maximum(0.0, 1 - m), lambda m: np.where(m < 1, -1.0, 0.0)),
    ("squared_hinge", np.linspace(-4, 4, 17), lambda m: np.maximum(0.0, 1 - m) ** 2,
     lambda m: -2 * np.maximum(0.0, 1 - m)),
    ("sigmoid_cross_entropy", np.linspace(-4, 4, 17), lambda z: softplus(-z), lambda z: sigmoid(z) - 1),
    ("binary_cross_entropy", np.linspace(0.05, 0.95, 10), lambda p: -np.log(p), lambda p: -1 / p),
    ("categorical_cross_entropy", np.linspace(0.05, 0.95, 10), lambda p: -np.log(p), lambda p: -1 / p),
    # -log softmax([z, 0, 0])_0 = log(e^z + 2) - z; its derivative softmax_0 - 1
    ("softmax_cross_entropy", np.linspace(-4, 4, 17), lambda z: np.logaddexp(z, np.log(2.0)) - z,
     lambda z: np.exp(z) / (np.exp(z) + 2) - 1),
    ("sparse_softmax_cross_entropy", np.linspace(-4, 4, 17), lambda z: np.logaddexp(z, np.log(2.0)) - z,
     lambda z: np.exp(z) / (np.exp(z) + 2) - 1),
    # sum p log(p / q) with p = (0.7, 0.15, 0.15), q = (x, (1-x)/2, (1-x)/2): a binary KL in x
    ("kl_divergence", np.linspace(0.05, 0.95, 10),
     lambda x: 0.7 * np.log(0.7 / x) + 0.3 * np.log(0.3 / (1 - x)), lambda x: -0.7 / x + 0.3 / (1 - x)),
    # quantile 0.5: half the absolute error
    ("pinball", np.linspace(-3, 3, 13), lambda r: 0.5 * np.abs(r), lambda r: 0.5 * np.sign(r)),
    # a count of 2 against the log-rate z: e^z - 2 z; against the rate mu: mu - 2 log(mu + 1e-8)
    ("log_poisson_nll", np.linspace(-3, 3, 13), lambda z: np.exp(z) - 2 * z, lambda z: np.exp(z) - 2),
    ("poisson_nll", np.linspace(0.1, 6, 12), lambda m: m - 2 * np.log(m + 1e-8), lambda m: 1 - 2 / (m + 1e-8)),
    # variance 1 (log-variance 0): (log 1 + r^2) / 2
    ("gaussian_nll", np.linspace(-3, 3, 13), lambda r: r**2 / 2, lambda r: r),
    ("gaussian_nll_log_var", np.linspace(-3, 3, 13), lambda r: r**2 / 2, lambda r: r),
    # one pixel of target 1 with probability p, smooth 1: 1 - (2p + 1) / (p + 2)
    ("dice", np.linspace(0.05, 0.95, 10), lambda p: 1 - (2 * p + 1) / (p + 2), lambda p: -3 / (p + 2) ** 2),
]  # fmt: skip


@pytest.mark.parametrize("name, x, value, derivative", HAND, ids=[row[0] for row in HAND])
def test_curve_matches_the_formula_by_hand(name, x, value, derivative):
    values, grads = plot.curve(name, x)
    np.testing.assert_allclose(values, value(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads, derivative(x), rtol=1e-12, atol=1e-14)


def test_kl_divergence_curve_is_zero_where_the_prediction_matches_the_target():
    values, grads = plot.curve("kl_divergence", [0.7])
    np.testing.assert_allclose(values, [0.0], atol=1e-15)
    np.testing.assert_allclose(grads, [0.0], atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_curve_gradient_is_the_slope_of_the_curve(name):
    loss = lk.get(name)
    x, h = inside(name, 61)[1:-1], 1e-6
    x = x[np.all(np.abs(x[:, None] - np.asarray(loss.kinks() or [np.inf])) > 10 * h, axis=1)]
    values, grads = plot.curve(name, x)
    up, _ = plot.curve(name, x + h)
    down, _ = plot.curve(name, x - h)
    np.testing.assert_allclose(grads, (up - down) / (2 * h), rtol=1e-5, atol=1e-7)


#: Losses whose second derivative along their plot variable is their Hessian diagonal.
WITH_HESSIAN = [n for n in NAMES if lk.get(n).info.hessian_kind == "exact" and lk.get(n).info.variable != "none"
                and not (lk.get(n).info.predictions[0].event == 1 and lk.get(n).info.variable == "probability")]  # fmt: skip


@pytest.mark.parametrize("name", WITH_HESSIAN)
def test_curve_hessian_is_the_slope_of_the_gradient(name):
    loss = lk.get(name)
    x, h = inside(name, 61)[1:-1], 1e-6
    x = x[np.all(np.abs(x[:, None] - np.asarray(loss.kinks() or [np.inf])) > 10 * h, axis=1)]
    values, grads, hessians = plot.curve(name, x, hessian=True)
    np.testing.assert_array_equal([values, grads], plot.curve(name, x))
    up, down = plot.curve(name, x + h)[1], plot.curve(name, x - h)[1]
    np.testing.assert_allclose(hessians, (up - down) / (2 * h), rtol=1e-5, atol=1e-6)


def test_hessian_panels_say_when_they_are_approximate_and_refuse_none():
    fig = plot.plot_losses(["mae", "huber"], hessian=True)
    assert [ax.get_title() for ax in fig.axes][2] == "its second derivative (the Hessian)"
    assert [line.get_label() for line in drawn(fig.axes[2])] == ["mae (approximate)", "huber"]
    np.testing.assert_array_equal(drawn(fig.axes[2])[0].get_ydata(), 1.0)  # mae's stand-in: 1
    assert len(plot.plot_losses("mse", gradient=False, hessian=True).axes) == 2
    with pytest.raises(lk.InputError, match="rmse has no Hessian diagonal"):
        plot.plot_losses("rmse", hessian=True)
    with pytest.raises(lk.InputError, match="off-diagonal Hessian"):
        plot.curve("categorical_cross_entropy", [0.5], hessian=True)


def test_barrons_family_across_alpha_with_its_hessian():
    alphas = [-np.inf, -2.0, 0.0, 1.0, 2.0]
    fig = plot.plot_losses("general_robust", params={"alpha": alphas}, hessian=True)
    assert [line.get_label() for line in drawn(fig.axes[0])] == [f"general_robust (alpha={a})" for a in
                                                                ("-inf", "-2", "0", "1", "2")]  # fmt: skip
    x = drawn(fig.axes[2])[0].get_xdata()
    for line, alpha in zip(drawn(fig.axes[2]), alphas):
        assert np.isfinite(line.get_ydata()).all()
        np.testing.assert_array_equal(line.get_ydata(), plot.curve(lk.get("general_robust", alpha=alpha), x, hessian=True)[2])
    # negative where the loss is concave: beyond sqrt((2 - alpha) / (1 - alpha)) for alpha < 1 (CATALOGUE.md 1.3)
    assert (drawn(fig.axes[2])[2].get_ydata()[np.abs(x) > np.sqrt(2) + 0.01] < 0).all()


def test_curve_hyperparameters_and_configured_losses():
    r = np.linspace(-3, 3, 13)
    for loss in ("huber", {"name": "huber", "delta": 2.0}, lk.get("huber", delta=2.0), lk.Huber(delta=2.0)):
        delta = 1.0 if loss == "huber" else 2.0
        values, grads = plot.curve(loss, r)
        np.testing.assert_allclose(
            values, np.where(np.abs(r) <= delta, r**2 / 2, delta * (np.abs(r) - delta / 2)), rtol=1e-15
        )
        np.testing.assert_allclose(grads, np.clip(r, -delta, delta), rtol=1e-15)


def test_curve_keeps_the_shape_of_x_and_takes_scalars():
    values, grads = plot.curve("mse", [[1.0, 2.0], [3.0, -1.0]])
    assert values.shape == grads.shape == (2, 2)
    np.testing.assert_array_equal(values, [[1.0, 4.0], [9.0, 1.0]])
    values, grads = plot.curve("mae", -2.0)
    assert values.shape == () and float(values) == 2.0 and float(grads) == -1.0


def test_curve_is_nan_outside_the_domain():
    values, grads = plot.curve("msle", [-2.0, -1.0, 0.0])
    assert np.isnan(values[:2]).all() and np.isnan(grads[:2]).all()
    assert values[2] == 0.0
    values, _ = plot.curve("binary_cross_entropy", [-0.5, 0.5, 1.5])
    assert np.isnan(values[[0, 2]]).all() and values[1] == pytest.approx(np.log(2))
    values, _ = plot.curve("categorical_cross_entropy", [-0.5, 0.5, 1.5])
    assert np.isnan(values[[0, 2]]).all() and values[1] == pytest.approx(np.log(2))


def test_curve_does_not_depend_on_the_class_axis():
    x = np.linspace(-4, 4, 9)
    for name in ("softmax_cross_entropy", "sparse_softmax_cross_entropy"):
        last = plot.curve(lk.get(name), x)
        first = plot.curve(lk.get(name, axis=0), x)
        np.testing.assert_array_equal(first[0], last[0])
        np.testing.assert_array_equal(first[1], last[1])


def test_axis_label_names_the_variable():
    assert plot.axis_label("mse") == "residual  r = y_pred - y_true"
    assert plot.axis_label("l1") == plot.axis_label("huber")
    for name in NAMES:
        label = plot.axis_label(name)
        assert lk.get(name).info.variable in label
    assert "0.7" in plot.axis_label("kl_divergence")


@pytest.mark.parametrize("name", [n for n in lk.list_losses() if lk.get(n).info.variable == "none"])
def test_losses_without_a_curve_say_so(name):
    with pytest.raises(lk.InputError, match=rf"{name} has no curve of one variable"):
        plot.curve(name, [0.0])


def test_predictions_in_different_spaces_share_no_axis():
    with pytest.raises(lk.InputError, match=r"different variables.*log_poisson_nll: prediction \(log-values\)"):
        plot.plot_losses(["log_poisson_nll", "poisson_nll"])


# --- plot_losses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_loss_can_be_plotted_with_its_exact_numbers(name):
    fig = plot.plot_losses(name)
    assert isinstance(fig, Figure)
    value_ax, grad_ax = fig.axes
    (value_line,), (grad_line,) = drawn(value_ax), drawn(grad_ax)
    note = ", y_true = 0" if name in ("msle", "mape") else ""  # they change with the target at a fixed residual
    assert value_line.get_label() == grad_line.get_label() == name + note
    x = value_line.get_xdata()
    low, high = plot.default_range(name)
    assert x[0] == low and x[-1] == high and x.size == plot.DEFAULT_POINTS
    values, grads = plot.curve(name, x)
    np.testing.assert_array_equal(value_line.get_ydata(), values)
    np.testing.assert_array_equal(grad_line.get_ydata(), grads)
    finite = np.isfinite(values)
    expected_values, expected_grads = direct(name, x[finite])
    np.testing.assert_array_equal(value_line.get_ydata()[finite], expected_values)
    np.testing.assert_allclose(grad_line.get_ydata()[finite], expected_grads, rtol=1e-15)
    assert value_ax.get_xlabel() == plot.axis_label(name)
    assert value_ax.get_legend() is not None


@pytest.mark.parametrize("label", sorted({plot.axis_label(n) for n in NAMES}))
def test_all_losses_of_one_variable_on_one_figure(label):
    names = [n for n in NAMES if plot.axis_label(n) == label]
    x = np.linspace(*plot.default_range(names[0]), 25)
    fig = plot.plot_losses(names, x=x)
    for ax, which in zip(fig.axes, (0, 1)):
        lines = drawn(ax)
        assert [line.get_label().split(",")[0] for line in lines] == names
        for name, line in zip(names, lines):
            np.testing.assert_array_equal(line.get_xdata(), x)
            np.testing.assert_array_equal(line.get_ydata(), plot.curve(name, x)[which])


def test_plot_regression_losses_matches_their_formulas():
    r = np.linspace(-3, 3, 61)
    fig = plot.plot_losses(["huber", "mse", "mae"], x=r)
    huber, mse, mae = drawn(fig.axes[0])
    assert [line.get_label() for line in (huber, mse, mae)] == ["huber", "mse", "mae"]
    np.testing.assert_allclose(mse.get_ydata(), r**2, rtol=1e-15)
    np.testing.assert_allclose(mae.get_ydata(), np.abs(r), rtol=1e-15)
    np.testing.assert_allclose(huber.get_ydata(), np.where(np.abs(r) <= 1, r**2 / 2, np.abs(r) - 0.5), rtol=1e-15)
    np.testing.assert_allclose(drawn(fig.axes[1])[1].get_ydata(), 2 * r, rtol=1e-15)


def test_a_hyperparameter_sweep_draws_one_labelled_line_per_value():
    r = np.linspace(-3, 3, 61)
    fig = plot.plot_losses("pseudo_huber", params={"delta": [0.5, 1, 2]}, x=r)
    for ax, which in zip(fig.axes, (0, 1)):
        lines = drawn(ax)
        assert [line.get_label() for line in lines] == [
            "pseudo_huber (delta=0.5)", "pseudo_huber (delta=1)", "pseudo_huber (delta=2)",
        ]  # fmt: skip
        for delta, line in zip((0.5, 1.0, 2.0), lines):
            library = lk.pseudo_huber(np.zeros_like(r), r, delta=delta, reduction="none")
            hand = (delta**2 * (np.sqrt(1 + (r / delta) ** 2) - 1), r / np.sqrt(1 + (r / delta) ** 2))
            if which == 0:
                np.testing.assert_array_equal(line.get_ydata(), library)
            np.testing.assert_allclose(line.get_ydata(), hand[which], rtol=1e-12, atol=1e-15)
    assert "pseudo_huber" in fig.get_suptitle() and "delta" in fig.get_suptitle()


def test_a_sweep_of_two_hyperparameters_draws_every_combination():
    fig = plot.plot_losses(
        "sigmoid_cross_entropy", params={"pos_weight": [1, 3], "label_smoothing": 0.1}, gradient=False
    )
    assert [line.get_label() for line in drawn(fig.axes[0])] == [
        "sigmoid_cross_entropy (pos_weight=1, label_smoothing=0.1)",
        "sigmoid_cross_entropy (pos_weight=3, label_smoothing=0.1)",
    ]
    z = drawn(fig.axes[0])[1].get_xdata()
    y = 1 * 0.9 + 0.05  # the smoothed target
    np.testing.assert_allclose(drawn(fig.axes[0])[1].get_ydata(), 3 * y * softplus(-z) + (1 - y) * softplus(z))


def test_a_sweep_applies_to_every_loss_given():
    fig = plot.plot_losses(["huber", "pseudo_huber"], params={"delta": [1, 2]}, gradient=False)
    assert [line.get_label() for line in drawn(fig.axes[0])] == [
        "huber (delta=1)", "huber (delta=2)", "pseudo_huber (delta=1)", "pseudo_huber (delta=2)",
    ]  # fmt: skip


def test_labels_show_hyperparameters_off_their_default():
    fig = plot.plot_losses([lk.get("huber", delta=2.0), "huber", {"name": "l2"}], gradient=False)
    assert [line.get_label() for line in drawn(fig.axes[0])] == ["huber (delta=2)", "huber", "mse"]


def test_a_distribution_loss_says_its_target_beside_other_probability_losses():
    fig = plot.plot_losses(["categorical_cross_entropy", "kl_divergence"], gradient=False)
    cce, kld = drawn(fig.axes[0])
    assert cce.get_label() == "categorical_cross_entropy"
    assert kld.get_label().startswith("kl_divergence") and "0.7" in kld.get_label()
    assert fig.axes[0].get_xlabel() == plot.axis_label("categorical_cross_entropy")


def test_gradient_false_draws_one_panel():
    fig = plot.plot_losses("mse", gradient=False)
    assert len(fig.axes) == 1 and len(drawn(fig.axes[0])) == 1


def test_draws_into_given_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot.plot_losses("mse", ax=(left, right)) is fig
    assert len(drawn(left)) == len(drawn(right)) == 1
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.plot_losses(["mse", "mae"], ax=ax, gradient=False) is fig
    assert len(drawn(ax)) == 2
    with pytest.raises(ValueError, match=r"needs 2 Axes .*got 1.*gradient=False"):
        plot.plot_losses("mse", ax=ax)


def test_steep_poles_do_not_flatten_the_other_curves():
    fig = plot.plot_losses(["mse", "msle"])
    low, high = fig.axes[1].get_ylim()
    grads = drawn(fig.axes[1])[1].get_ydata()
    assert np.nanmin(grads) < low  # the pole of MSLE's slope at r -> -1 runs off the panel
    assert high >= 6.0  # MSE's slope 2r, up to 6, stays in view
    fig = plot.plot_losses("mse")
    assert fig.axes[1].get_ylim()[0] <= -6.0 and fig.axes[1].get_ylim()[1] >= 6.0


def test_mixing_plot_variables_is_refused():
    with pytest.raises(ValueError, match=r"different variables \(mse: residual, hinge: margin\).*no common x axis"):
        plot.plot_losses(["mse", "hinge"])
    with pytest.raises(ValueError, match="logit.*probability|probability.*logit"):
        plot.plot_losses(["sigmoid_cross_entropy", "binary_cross_entropy"])


def test_bad_params_are_refused():
    with pytest.raises(ValueError, match=r"mse has no hyperparameter 'delta'.*hyperparameters: none"):
        plot.plot_losses("mse", params={"delta": [1, 2]})
    with pytest.raises(ValueError, match=r"huber has no hyperparameter 'deltaa'.*delta"):
        plot.plot_losses("huber", params={"deltaa": [1, 2]})
    with pytest.raises(ValueError, match=r"params\['delta'\] is empty"):
        plot.plot_losses("huber", params={"delta": []})
    with pytest.raises(ValueError, match=r"huber: delta must be a finite number > 0; got -1.0"):
        plot.plot_losses("huber", params={"delta": [-1.0]})
    with pytest.raises(ValueError, match="no losses"):
        plot.plot_losses([])
    with pytest.raises(ValueError, match="unknown loss 'hubber'"):
        plot.plot_losses("hubber")


# --- plot_outlier_influence ----------------------------------------------------------------------------


def test_outlier_influence_mse_grows_linearly_robust_losses_are_bounded():
    fig = plot.plot_outlier_influence()
    influence, share = fig.axes
    lines = {line.get_label(): line for line in drawn(influence)}
    assert list(lines) == ["mse", "mae", "huber", "pseudo_huber", "log_cosh"]
    r = lines["mse"].get_xdata()
    assert r[0] == 0.0 and r[-1] == 10.0
    np.testing.assert_allclose(lines["mse"].get_ydata(), 2 * r, rtol=1e-15)
    np.testing.assert_array_equal(lines["mae"].get_ydata()[1:], 1.0)  # constant 1 for r > 0
    assert lines["mae"].get_ydata()[0] == 0.0  # the lowest-norm subgradient at r = 0
    np.testing.assert_allclose(lines["huber"].get_ydata(), np.minimum(r, 1.0), rtol=1e-15)  # capped at delta
    for name in ("pseudo_huber", "log_cosh"):
        y = lines[name].get_ydata()
        assert np.all(np.diff(y) >= 0) and np.all(y < 1.0) and y[-1] > 0.99
    np.testing.assert_allclose(lines["pseudo_huber"].get_ydata(), r / np.sqrt(1 + r**2), rtol=1e-12)
    np.testing.assert_allclose(lines["log_cosh"].get_ydata(), np.tanh(r), rtol=1e-12)


def test_outlier_share_of_the_batch_gradient():
    r = np.array([0.5, 1.0, 2.0, 5.0, 10.0])
    fig = plot.plot_outlier_influence(("mse", "mae", "huber", "rmse"), residuals=r, batch_size=20)
    shares = {line.get_label(): line.get_ydata() for line in drawn(fig.axes[1])}
    # 1 point at r, 19 at residual 1: MSE's gradients 2r and 2 -> r / (r + 19)
    np.testing.assert_allclose(shares["mse"], r / (r + 19), rtol=1e-12)
    np.testing.assert_allclose(shares["mae"], np.full(r.shape, 1 / 20), rtol=1e-12)
    np.testing.assert_allclose(shares["huber"], np.minimum(r, 1) / (np.minimum(r, 1) + 19), rtol=1e-12)
    # RMSE's batch gradient r_i / (n * value) is proportional to r_i, like MSE's, whatever its per-example curve
    np.testing.assert_allclose(shares["rmse"], r / (r + 19), rtol=1e-12)
    assert all(line.get_label().startswith("_") for line in fig.axes[1].get_lines() if line not in drawn(fig.axes[1]))


def test_outlier_influence_takes_configured_losses():
    r = np.linspace(0, 10, 21)
    fig = plot.plot_outlier_influence([lk.get("huber", delta=2.0), "mse"], residuals=r)
    huber, mse = drawn(fig.axes[0])
    assert huber.get_label() == "huber (delta=2)"
    np.testing.assert_allclose(huber.get_ydata(), np.minimum(r, 2.0), rtol=1e-15)


def test_outlier_influence_refuses_other_tasks():
    with pytest.raises(ValueError, match=r"regression losses of a residual only.*hinge \(binary, margin\).*Those losses: mse"):
        plot.plot_outlier_influence(["mse", "hinge"])
    with pytest.raises(ValueError, match=r"softmax_cross_entropy \(multiclass, logit\)"):
        plot.plot_outlier_influence("softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"log_poisson_nll \(regression, prediction\)"):
        plot.plot_outlier_influence("log_poisson_nll")
    fig = plot.plot_outlier_influence(["mse", "gaussian_nll_log_var"], residuals=[0.0, 2.0])  # a variance of 1
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), [0.0, 2.0])
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2"):
        plot.plot_outlier_influence(batch_size=1)


# --- save ------------------------------------------------------------------------------------------


def test_save_png_has_the_figure_size_in_pixels(tmp_path):
    from matplotlib.image import imread
    from PIL import Image

    fig = plot.plot_losses(["huber", "mse", "mae"], figsize=(6, 4), dpi=50)
    path = plot.save(fig, tmp_path / "losses.png")
    assert path == tmp_path / "losses.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (300, 200)
    assert imread(path).shape[:2] == (200, 300)
    path = plot.save(plot.plot_outlier_influence(dpi=80), tmp_path / "influence.PNG")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (round(10.5 * 80), round(4.5 * 80))


def test_save_svg_parses_as_xml(tmp_path):
    path = plot.save(plot.plot_losses("pseudo_huber", params={"delta": [0.5, 1, 2]}), str(tmp_path / "sweep.svg"))
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "pseudo_huber (delta=0.5)" in path.read_text()  # legend text is kept as text


def test_save_pdf(tmp_path):
    path = plot.save(plot.plot_outlier_influence(), tmp_path / "influence.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("name", ["losses.jpg", "losses", "losses.png.txt"])
def test_save_refuses_other_formats(tmp_path, name):
    with pytest.raises(ValueError, match=r"suffix must be one of \.png, \.svg, \.pdf"):
        plot.save(plot.plot_losses("mse", gradient=False), tmp_path / name)
    assert not (tmp_path / name).exists()


# --- imports -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["losskit", "losskit.plot"])
def test_importing_losskit_does_not_import_matplotlib(module):
    code = f"import {module}, sys; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
