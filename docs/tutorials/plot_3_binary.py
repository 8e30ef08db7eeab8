"""
Binary classification: margins and cross-entropy
================================================

A binary classifier outputs a score ``z``; with labels ``t`` in {-1, +1} its *margin* is ``t z``, positive when the
example is on the right side. Margin losses (hinge, squared hinge) stop pushing once the margin passes 1;
cross-entropy never quite stops. Cross-entropy can be computed from probabilities ``p = sigmoid(z)`` or straight
from the logits, and the second is the one to use.
"""

import numpy as np

import losskit as lk

# %%
# The losses against the margin
# -----------------------------
lk.plot.plot_losses(["hinge", "squared_hinge", "soft_margin", "exponential"])

# %%
# ``soft_margin`` on labels in {-1, +1} is binary cross-entropy on labels in {0, 1}: ``log(1 + exp(-t z))``.
z = np.array([-3.0, -0.5, 0.0, 2.0, 4.0])
t = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
y = (t + 1) / 2
print(lk.soft_margin(t, z), lk.sigmoid_cross_entropy(y, z))
assert np.isclose(lk.soft_margin(t, z), lk.sigmoid_cross_entropy(y, z))

# %%
# From probabilities or from logits
# ---------------------------------
# The same loss, two ways. On probabilities, a confident wrong answer needs ``log(1 - p)`` with ``p`` rounded to
# 1.0 in floating point: the log is clamped (at -100, as PyTorch does) and the gradient vanishes. On logits,
# ``softplus`` keeps every digit.
z = np.array([40.0])
y = np.array([0.0])
p = 1 / (1 + np.exp(-z))
print("from probabilities:", lk.binary_cross_entropy(y, p), " gradient:", lk.get("binary_cross_entropy").grad(y, p))
print("from logits:       ", lk.sigmoid_cross_entropy(y, z), " gradient:", lk.get("sigmoid_cross_entropy").grad(y, z))

# %%
# The guide catches the pairing mistake of feeding logits to a loss of probabilities:
for finding in lk.check_pairing("identity", "binary_cross_entropy"):
    print(finding.severity, "-", finding.message, finding.fix)
