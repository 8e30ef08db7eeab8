"""
Boosting objectives and exact costs across processes
====================================================

Two places where a loss leaves the training loop you wrote: a gradient-boosting library that asks for the
gradient and Hessian of the loss at its current predictions, and a data-parallel run where each process sees only
its share of the batch.
"""

import numpy as np

import losskit as lk

# %%
# A loss as an XGBoost objective
# ------------------------------
# ``lk.boosting.xgboost_objective(loss)`` gives XGBoost the per-row gradient and Hessian of any loss that takes a
# raw margin; here the Cauchy loss, which XGBoost lacks, against its built-in squared error on data with outliers.
import xgboost as xgb

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(400, 3))
y = np.sin(2 * X[:, 0]) + 0.3 * X[:, 1] + rng.normal(0, 0.1, 400)
noisy = y.copy()
noisy[:40] += rng.uniform(5, 10, 40)  # 10% gross outliers in the training targets
train, test = slice(0, 300), slice(300, 400)
params = {"max_depth": 3, "eta": 0.1, "base_score": float(np.median(noisy[train]))}
dtrain = xgb.DMatrix(X[train], label=noisy[train])
for name, objective in (("squared error (built-in)", None), ("cauchy", lk.boosting.xgboost_objective("cauchy"))):
    booster = xgb.train({**params, **({"objective": "reg:squarederror"} if objective is None else {})}, dtrain,
                        num_boost_round=100, obj=objective)
    prediction = booster.predict(xgb.DMatrix(X[test]), output_margin=True)
    print(f"{name:26} test MAE against the clean targets: {np.mean(np.abs(prediction - y[test])):.3f}")

# %%
# Exact costs across processes
# ----------------------------
# With data parallelism each process computes the loss of its share and the gradients are averaged (PyTorch DDP)
# or summed (``tf.distribute``, JAX's ``psum``). If each process takes the mean over its own valid items, an item
# on a process with few of them weighs more: a mean of means. The exact mean divides every share's sum by the
# global count, which ``lk.distributed.global_normalizer`` all-reduces. Two shares of one batch, as two processes
# would hold them:
y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
y_pred = np.array([1.5, 2.0, 2.0, 4.0, 7.0, 6.5])
shares = [slice(0, 1), slice(1, 6)]  # uneven: 1 item and 5 items
mean_of_means = np.mean([lk.mse(y_true[s], y_pred[s]) for s in shares])
exact = sum(lk.mse(y_true[s], y_pred[s], normalizer=6) for s in shares)
print("mean of the shares' means:", mean_of_means)
print("each share's sum over the global count:", exact, " the whole batch's mean:", lk.mse(y_true, y_pred))
assert np.isclose(exact, lk.mse(y_true, y_pred))

# %%
# In a PyTorch DDP step, where gradients are averaged over the W processes, the normalizer is the global count
# divided by W (``convention="average"``, the default)::
#
#     count = (labels != -100).sum()
#     k = lk.distributed.global_normalizer(count)        # all-reduced, detached
#     loss = lk.sparse_softmax_cross_entropy(labels, logits, ignore_index=-100, normalizer=k)
#     loss.backward()
