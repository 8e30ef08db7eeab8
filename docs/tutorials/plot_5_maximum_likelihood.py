"""
Choosing the loss and the output activation by maximum likelihood
=================================================================

Most losses are the negative log-likelihood of a distribution of the target given the model's output: squared
error of Gaussian noise, cross-entropy of a Bernoulli or categorical label, the Poisson deviance of counts.
Choosing the distribution chooses both the loss and the output activation that maps the model's raw output into
the distribution's parameter: identity for a Gaussian mean, sigmoid for a Bernoulli probability, softmax for
categorical ones, exp for a Poisson rate. The guide knows these pairings.
"""

import numpy as np
from scipy import stats

import losskit as lk

# %%
# Squared error is the Gaussian negative log-likelihood
# ------------------------------------------------------
# With unit variance, ``-log N(y; mu, 1) = (y - mu)^2 / 2 + log(2 pi) / 2``: half the squared error plus a constant,
# so both have the same minimiser.
rng = np.random.default_rng(0)
y, mu = rng.normal(size=5), rng.normal(size=5)
nll = -stats.norm.logpdf(y, loc=mu, scale=1.0)
print(nll)
print(lk.mse(y, mu, reduction="none") / 2 + np.log(2 * np.pi) / 2)
assert np.allclose(nll, lk.mse(y, mu, reduction="none") / 2 + np.log(2 * np.pi) / 2)

# %%
# Every loss says its likelihood and its activation
# -------------------------------------------------
for name in ("mse", "sigmoid_cross_entropy", "sparse_softmax_cross_entropy", "log_poisson_nll", "huber"):
    e = lk.explain(name)
    print(f"{name:30} {e.likelihood or 'none'}  ->  activation: {e.activation}")

# %%
# Poisson counts through a log link
# ---------------------------------
# ``log_poisson_nll`` takes the log-rate ``z`` and is ``exp(z) - y z``: the Poisson negative log-likelihood with the
# ``log(y!)`` term left out (``full=True`` adds it).
counts, log_rate = np.array([0.0, 2.0, 5.0]), np.array([0.1, 0.5, 1.7])
print(lk.log_poisson_nll(counts, log_rate, full=True, reduction="none"))
print(-stats.poisson.logpmf(counts, np.exp(log_rate)))

# %%
# Asking the guide
# ----------------
# ``lk.recommend`` turns what you know about the target into a loss, an output activation and the metrics to
# report; ``lk.check_pairing`` checks a pairing you already have.
print(lk.recommend("binary", imbalance=True))
print(lk.check_pairing("softmax", "sparse_softmax_cross_entropy"))
