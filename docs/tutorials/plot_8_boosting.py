"""
Losses as boosting objectives
=============================

A gradient-boosting library grows each tree from the gradient and the Hessian of the loss at the current
predictions. ``lk.boosting`` gives XGBoost and LightGBM both, for every loss that takes a raw margin, so a
loss the library lacks becomes its objective in one line.
"""

import numpy as np

import losskit as lk

import xgboost as xgb

# %%
# The Cauchy loss, which XGBoost lacks, against its built-in squared error, on data with outliers
# -----------------------------------------------------------------------------------------------

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(400, 3))
y = np.sin(2 * X[:, 0]) + 0.3 * X[:, 1] + rng.normal(0, 0.1, 400)
noisy = y.copy()
noisy[:40] += rng.uniform(5, 10, 40)  # 10% gross outliers in the training targets
train, test = slice(0, 300), slice(300, 400)
params = {"max_depth": 3, "eta": 0.1, "base_score": float(np.median(noisy[train]))}
dtrain = xgb.DMatrix(X[train], label=noisy[train])
errors = {}
for name, objective in (("squared error (built-in)", None), ("cauchy", lk.boosting.xgboost_objective("cauchy"))):
    booster = xgb.train({**params, **({"objective": "reg:squarederror"} if objective is None else {})}, dtrain,
                        num_boost_round=100, obj=objective)
    prediction = booster.predict(xgb.DMatrix(X[test]), output_margin=True)
    errors[name] = np.mean(np.abs(prediction - y[test]))
    print(f"{name:26} test MAE against the clean targets: {errors[name]:.3f}")
assert errors["cauchy"] < errors["squared error (built-in)"]

# %%
# The same loss in LightGBM
# -------------------------
# LightGBM takes the objective among its parameters, and starts from 0 unless told otherwise:
# ``lk.boosting.start_score`` gives the loss's best constant, the start a built-in objective would take.
import lightgbm as lgb

start = lk.boosting.start_score("cauchy", noisy[train], None)
data = lgb.Dataset(X[train], label=noisy[train], init_score=np.full(300, start))
booster = lgb.train({"objective": lk.boosting.lightgbm_objective("cauchy"), "learning_rate": 0.1, "max_depth": 3,
                     "num_leaves": 8, "verbose": -1}, data, num_boost_round=100)
prediction = start + booster.predict(X[test], raw_score=True)
print(f"LightGBM, cauchy: test MAE against the clean targets {np.mean(np.abs(prediction - y[test])):.3f}")

# %%
# What the library receives
# -------------------------
# Per row, the gradient and the Hessian of the loss at the current margins (times the row's weight). The Cauchy
# loss is not convex: its second derivative turns negative far from the fit (below), and the objective floors it at a
# small positive number (``min_hessian``) so that a tree's Newton step stays a descent step.
margins, targets = np.array([0.0, 0.0, 0.0]), np.array([0.5, 2.0, 8.0])
gradient, hessian = lk.get("cauchy", reduction="none").grad_and_hessian(targets, margins)
print("gradient:", gradient, " Hessian:", hessian)
