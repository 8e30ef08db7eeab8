"""
Regression losses and outliers
==============================

Squared error (L2) fits the conditional mean and absolute error (L1) the median. Under L2 every point pulls on the
fit in proportion to its residual, so a few gross outliers drag it; under L1 every point pulls with the same
force, so they cannot. Huber's loss is L2 for small residuals and L1 beyond ``delta``; pseudo-Huber is its smooth
version. We fit a line to data with outliers under each loss, by gradient descent on losskit's closed-form
gradients.
"""

import matplotlib.pyplot as plt
import numpy as np

import losskit as lk

rng = np.random.default_rng(0)
x = rng.uniform(-3, 3, 60)
y = 1.5 * x + 0.5 + rng.normal(0, 0.5, 60)
y[:6] += rng.uniform(8, 12, 6)  # six gross outliers, all above the line


def fit_line(loss, steps=3000, lr=0.05):
    """Slope and intercept that minimise the loss's mean over the data (plain gradient descent)."""
    w = np.zeros(2)
    for _ in range(steps):
        _, g = loss.value_and_grad(y, w[0] * x + w[1])  # d cost / d prediction, per point
        w -= lr * np.array([np.sum(g * x), np.sum(g)])
    return w


# %%
# L2 against L1
# -------------
fits = {name: fit_line(lk.get(name)) for name in ("mse", "mae")}
for name, (slope, intercept) in fits.items():
    print(f"{name}: slope {slope:.3f}, intercept {intercept:.3f}  (truth: 1.5, 0.5)")

# %%
# Huber and pseudo-Huber across delta
# -----------------------------------
# A small delta behaves like L1, a large one like L2: the outliers' pull grows with delta.
deltas = [0.1, 0.3, 1.0, 3.0, 10.0]
for name in ("huber", "pseudo_huber"):
    for delta in deltas:
        fits[f"{name}(delta={delta:g})"] = fit_line(lk.get(name, delta=delta))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
grid = np.linspace(-3, 3, 2)
left.scatter(x[6:], y[6:], s=10, color="0.4", label="data")
left.scatter(x[:6], y[:6], s=25, marker="x", color="crimson", label="outliers")
for name in ("mse", "mae", "huber(delta=1)"):
    slope, intercept = fits[name]
    left.plot(grid, slope * grid + intercept, label=name)
left.legend()
left.set_title("fitted lines")
for name in ("huber", "pseudo_huber"):
    right.plot(deltas, [fits[f"{name}(delta={d:g})"][1] for d in deltas], marker="o", label=name)
right.axhline(fits["mse"][1], color="0.3", linestyle="--", label="mse")
right.axhline(fits["mae"][1], color="0.6", linestyle="--", label="mae")
right.set_xscale("log")
right.set_xlabel("delta")
right.set_title("fitted intercept (truth 0.5)")
right.legend()

# %%
# Why: the influence of one point
# -------------------------------
# ``lk.plot.plot_outlier_influence`` draws how hard one point pulls on a fit as its residual grows: without
# bound under MSE, capped under Huber, fading under the redescending Cauchy loss.
lk.plot.plot_outlier_influence(("mse", "mae", "huber", "pseudo_huber", "cauchy"))
