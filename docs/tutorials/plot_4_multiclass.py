"""
Multi-class: cross-entropy, its sparse form, and the KL divergence
==================================================================

With ``C`` classes, a model outputs ``C`` logits per example and softmax turns them into probabilities. The
cross-entropy of one-hot targets is minus the log-probability of the true class; its sparse form takes the class
ids instead of one-hot rows, with the same numbers. Against soft targets (a teacher's probabilities, smoothed
labels) the cross-entropy is the KL divergence plus the targets' entropy, a constant: both give the same gradients.
"""

import numpy as np

import losskit as lk

logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
labels = np.array([0, 2, 1])
onehot = np.eye(3)[labels]

# %%
# One-hot rows or class ids
# -------------------------
dense = lk.softmax_cross_entropy(onehot, logits)
sparse = lk.sparse_softmax_cross_entropy(labels, logits)
print(dense, sparse)
assert np.isclose(dense, sparse)

# %%
# The gradient with respect to the logits is ``softmax(z) - y``, divided by the batch size under the mean.
probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
gradient = lk.get("sparse_softmax_cross_entropy").grad(labels, logits)
print(gradient)
assert np.allclose(gradient, (probabilities - onehot) / len(labels))

# %%
# Cross-entropy and the KL divergence
# -----------------------------------
# Against soft targets ``q``, cross-entropy ``-sum q log p`` equals ``KL(q || p)`` plus the entropy of ``q``.
q = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
cross_entropy = lk.categorical_cross_entropy(q, probabilities)
kl = lk.kl_divergence(q, probabilities)
entropy = -np.mean(np.sum(q * np.log(q), axis=1))
print(cross_entropy, kl + entropy)
assert np.isclose(cross_entropy, kl + entropy)

# %%
# The losses of the true class's probability, side by side:
lk.plot.plot_losses(["sparse_softmax_cross_entropy", "sparse_softmax_focal", "generalized_cross_entropy"])
