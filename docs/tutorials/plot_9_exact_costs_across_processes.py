"""
Exact costs across processes
============================

With data parallelism each process computes the loss of its share of the batch, and the gradients are averaged
(PyTorch DDP) or summed (``tf.distribute``, JAX's ``psum``). If each process takes the mean over its own valid
items, an item on a process with few of them weighs more than one on a process with many: a mean of means, not
the mean of the batch.
"""

import numpy as np

import losskit as lk

# %%
# The exact mean divides every share's sum by the global count, which ``lk.distributed.global_normalizer``
# all-reduces across the processes. Two shares of one batch, as two processes would hold them:
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
