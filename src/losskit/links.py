r"""Links and output activations: how a network's raw output relates to what a loss models.

A :class:`Link` is attached to a prediction (``losskit.inputs.prediction(link=...)``). It is the
function :math:`g` from the modelled quantity (a probability, a rate, a variance) to what the loss
takes: a loss with the logit link takes logits and applies the sigmoid, :math:`g^{-1}`, itself; a
loss with the identity link takes the quantity as it is. The input space of a prediction, the output
activation a model pairs with it, and the guide's pairing rules are all derived from its link and
domain.

An :class:`Activation` is what a model ends with; its image (a domain) says which values it can
produce. ``check_pairing`` compares the two: an activation equal to the link's inverse is applied
twice; one whose image does not lie in a prediction's domain gives values the loss refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._checks import LOG_SIMPLEX, NONNEGATIVE, POSITIVE, REAL, SIMPLEX, Domain, Interval
from .errors import InputError
from .numerics import log_softmax, sigmoid, softplus, sparsemax_parts


@dataclass(frozen=True)
class Link:
    """A link :math:`\\eta = g(\\mu)` between a modelled quantity :math:`\\mu` and a loss's input :math:`\\eta`.

    Attributes
    ----------
    name : str
        The link function ("identity", "logit", "log", "softmax").
    inverse : str
        The activation that is its inverse, which a loss with this link applies itself.
    space : str
        What a prediction with this link holds ("logits", "log-values"); for the identity link the
        domain names it.
    quantity : str
        What the link maps from: what the inverse gives back ("probabilities", "positive values").
    forward, backward : callable
        :math:`g(xp, \\mu)` and :math:`g^{-1}(xp, \\eta)` (``backward`` over the last axis for softmax).
    absorbs : tuple of str
        Activations the inverse makes harmless (``log_softmax`` before a softmax shifts each row).
    """

    name: str
    inverse: str
    space: str
    quantity: str = "values"
    forward: Callable = None
    backward: Callable = None
    absorbs: tuple = ()

    def __repr__(self):
        return f"Link({self.name!r})"


def _log(xp, x):
    return xp.log(x)


def _logit(xp, p):
    return xp.log(p) - xp.log1p(-p)


def _centred_log(xp, p):
    """A row of logits whose softmax is ``p``: the log, shifted to mean 0 over the row."""
    logs = xp.log(p)
    return logs - xp.mean(logs, axis=-1, keepdims=True)


IDENTITY = Link("identity", "identity", "values", "values", lambda xp, x: x, lambda xp, x: x)
LOGIT = Link("logit", "sigmoid", "logits", "probabilities", _logit, sigmoid)
SOFTMAX = Link("softmax", "softmax", "logits", "probabilities", _centred_log, lambda xp, z: xp.exp(log_softmax(xp, z)),
               absorbs=("log_softmax",))  # fmt: skip
LOG = Link("log", "exp", "log-values", "positive values", _log, lambda xp, x: xp.exp(x))
#: A probability row is its own sparsemax, so the forward map is the identity.
SPARSEMAX = Link("sparsemax", "sparsemax", "scores", "probabilities", lambda xp, p: p,
                 lambda xp, z: sparsemax_parts(xp, z)[0])  # fmt: skip
LINKS = (IDENTITY, LOGIT, SOFTMAX, LOG, SPARSEMAX)


def sparsemax(scores, axis: int = -1):
    r"""Sparsemax: the Euclidean projection of each row of ``scores`` onto the probability simplex.

    :math:`\mathrm{sparsemax}(z) = \max(z - \tau(z), 0)` with the threshold :math:`\tau` that makes the
    row sum to 1 (Martins and Astudillo, 2016): a softmax whose small entries are exactly 0. The output
    to pair with ``sparsemax_loss`` at prediction time (the loss takes the raw scores). Works on
    NumPy, PyTorch and JAX arrays.

    Examples
    --------
    >>> import losskit as lk
    >>> lk.sparsemax([[1.0, 1.5, 0.2], [0.2, -1.0, 3.0]]).tolist()
    [[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]]
    """
    from ._xp import is_floating, namespace_of

    xp, z = namespace_of(scores)
    z = z if is_floating(xp, z.dtype) else xp.astype(z, xp.float64)
    z = xp.moveaxis(z, axis, -1) if axis not in (-1, z.ndim - 1) else z
    p = SPARSEMAX.backward(xp, z)
    return xp.moveaxis(p, -1, axis) if axis not in (-1, z.ndim - 1) else p


def other_side(spec) -> str:
    """What the same quantity is called on the other side of a prediction's link (for messages):
    "logits" for probabilities, "probabilities" for logits, "log-values" for rates."""
    if spec.link is not IDENTITY:
        return spec.link.quantity
    for link in LINKS[1:]:
        if link.inverse == spec.domain.activation:
            return link.space
    return "raw outputs"


@dataclass(frozen=True)
class Activation:
    """An output activation and its image: the values it can produce."""

    name: str
    image: Domain
    #: What its values are, in words.
    gives: str
    #: ``apply(xp, x)``: the activation itself (over the last axis for softmax and log_softmax).
    apply: Callable
    #: The activation needs an axis to act over (a softmax over one output is always 1).
    needs_axis: bool = False


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("identity", REAL, "any real number", lambda xp, x: x),
        Activation("sigmoid", Interval("probabilities in (0, 1)", 0.0, 1.0, open_low=True, open_high=True),
                   "probabilities in (0, 1)", sigmoid),
        Activation("softmax", SIMPLEX, "probability rows", SOFTMAX.backward, needs_axis=True),
        Activation("sparsemax", SIMPLEX, "probability rows with exact zeros", SPARSEMAX.backward, needs_axis=True),
        Activation("log_softmax", LOG_SIMPLEX, "log-probabilities (negative numbers)", log_softmax, needs_axis=True),
        Activation("exp", POSITIVE, "positive", lambda xp, x: xp.exp(x)),
        Activation("softplus", POSITIVE, "positive", softplus),
        Activation("relu", NONNEGATIVE, "non-negative", lambda xp, x: xp.where(x > 0, x, xp.zeros_like(x))),
        Activation("tanh", Interval("values in (-1, 1)", -1.0, 1.0, open_low=True, open_high=True), "in (-1, 1)",
                   lambda xp, x: xp.tanh(x)),
    )
}
#: Other spellings of the activations.
ACTIVATION_ALIASES = {"linear": "identity", "none": "identity", "logits": "identity", "logistic": "sigmoid",
                      "logsoftmax": "log_softmax"}  # fmt: skip


def activation(name) -> Activation:
    """The activation called ``name`` (or an alias); InputError naming them otherwise."""
    if isinstance(name, Activation):
        return name
    key = str(name).strip().lower().replace("-", "_")
    key = ACTIVATION_ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        names = sorted(set(ACTIVATIONS) | set(ACTIVATION_ALIASES))
        raise InputError(f"output_activation must be one of {names}; got {name!r}.")
    return ACTIVATIONS[key]
