"""
Loss against cost: reductions and weights
=========================================

A *loss* scores one example: how far one prediction is from its target. The *cost* a model is trained on is one
number for a whole batch, and a *reduction* turns the losses into it. The usual one is the mean, because it keeps
the cost (and the size of its gradient) independent of the batch size: a learning rate tuned on batches of 32
still works on batches of 256.
"""

import numpy as np

import losskit as lk

y_true = np.array([3.0, -0.5, 2.0, 7.0])
y_pred = np.array([2.5, 0.0, 2.0, 8.0])

# %%
# The three reductions
# --------------------
# ``reduction="none"`` keeps one loss per example; ``"sum"`` adds them; ``"mean"`` (the default) divides the sum
# by the number of examples.

each = lk.mse(y_true, y_pred, reduction="none")
print("per example:", each)
print("sum:        ", lk.mse(y_true, y_pred, reduction="sum"))
print("mean:       ", lk.mse(y_true, y_pred))
assert np.isclose(lk.mse(y_true, y_pred), each.mean())

# %%
# Weights
# -------
# ``sample_weight`` multiplies each example's loss. The weighted mean divides by the sum of the weights, so a
# weight of 2 counts an example twice, exactly as if it were repeated, and a weight of 0 leaves it out.

weights = np.array([1.0, 1.0, 2.0, 0.0])
weighted = lk.mse(y_true, y_pred, sample_weight=weights)
repeated = lk.mse(np.array([3.0, -0.5, 2.0, 2.0]), np.array([2.5, 0.0, 2.0, 2.0]))
print("weighted mean:", weighted, " the same rows repeated:", repeated)
assert np.isclose(weighted, repeated)

# %%
# The gradient of the cost
# ------------------------
# The gradient of the mean is each example's derivative divided by the number of examples; losskit computes it
# in closed form, beside the value.

value, gradient = lk.get("mse").value_and_grad(y_true, y_pred)
print("cost:", value, " gradient:", gradient)
assert np.allclose(gradient, 2 * (y_pred - y_true) / len(y_true))

# %%
# A fixed denominator
# -------------------
# When batches hold different numbers of valid items (padding, ignored labels), the mean of each batch weighs
# their items differently. ``normalizer=`` divides the sum by a number you choose instead: the count over the
# whole optimiser step, so that every item weighs the same.

first, second = lk.mse(y_true[:1], y_pred[:1]), lk.mse(y_true[1:], y_pred[1:])
print("mean of the two batch means:", (first + second) / 2)
exact = lk.mse(y_true[:1], y_pred[:1], normalizer=4) + lk.mse(y_true[1:], y_pred[1:], normalizer=4)
print("sum over a normalizer of 4: ", exact, " the mean over all:", lk.mse(y_true, y_pred))
assert np.isclose(exact, lk.mse(y_true, y_pred))
