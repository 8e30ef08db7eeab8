"""
Reporting performance with metrics kept apart from the loss
===========================================================

The loss is what the optimiser needs: differentiable, matched to the output, perhaps re-weighted or smoothed.
The metric is what a reader needs: accuracy, ROC AUC, the Brier score, MAE in the target's units. Losses of
different kinds are on different scales and cannot be compared with each other; metrics can. Here two linear
classifiers of scikit-learn's breast cancer data, one trained with the cross-entropy and one with the hinge loss,
are compared on the same held-out metrics (computed by scikit-learn).
"""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import losskit as lk

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def train(loss, targets, steps=500, lr=0.5):
    """A linear score X w + b fitted by gradient descent on the loss's closed-form gradient."""
    w, b = np.zeros(X_train.shape[1]), 0.0
    for _ in range(steps):
        _, g = loss.value_and_grad(targets, X_train @ w + b)
        w, b = w - lr * (X_train.T @ g), b - lr * g.sum()
    return w, b


models = {
    "sigmoid_cross_entropy": train(lk.get("sigmoid_cross_entropy"), y_train.astype(float)),
    "hinge": train(lk.get("hinge"), 2.0 * y_train - 1.0),  # labels in {-1, +1}
}

# %%
# The losses themselves are not comparable
# ----------------------------------------
for name, (w, b) in models.items():
    targets = y_test.astype(float) if name == "sigmoid_cross_entropy" else 2.0 * y_test - 1.0
    print(f"{name}: its own test loss {float(lk.get(name)(targets, X_test @ w + b)):.4f}")

# %%
# The metrics are
# ---------------
# Accuracy and ROC AUC only need the order of the scores. The Brier score needs probabilities: the cross-entropy
# is a proper scoring rule, so the sigmoid of its score estimates one; nothing in the hinge loss makes the sigmoid
# of its score a probability, so its Brier score says how well the score happens to be scaled, not how well it
# was trained. The guide's metrics for a task (``lk.recommend(...).metrics``) follow these rules.
for name, (w, b) in models.items():
    score = X_test @ w + b
    probability = 1 / (1 + np.exp(-score))
    print(f"{name:22} accuracy {accuracy_score(y_test, score > 0):.3f}  ROC AUC {roc_auc_score(y_test, score):.3f}"
          f"  Brier {brier_score_loss(y_test, probability):.3f}")
