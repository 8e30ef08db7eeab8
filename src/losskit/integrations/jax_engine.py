r"""The JAX engine: a loss's value with its closed-form gradient attached (``jax.custom_jvp``).

Autodiff through the stable formulas can pick a side at a kink that depends on how the formula is
written (the max/abs form of sigmoid cross-entropy gives -y at logit 0, where the derivative is 1/2 - y);
with the rule attached, ``jax.grad`` gives losskit's gradient everywhere, the same as ``loss.grad``.

The rule is a JVP, :math:`\dot v = \sum_k \langle g_k, \dot p_k \rangle` (summed per example for
``reduction="none"``), linear in the tangents, so JAX transposes it for reverse mode, and the gradient
itself is computed by the reference formulas, so ``jax.hessian`` (forward over reverse) works: it
differentiates the closed-form gradient. It serves traced calls (``jit``, ``grad``, ``vmap``); the
switch ``lk.fast_path("never")`` leaves JAX to differentiate the formulas instead.
"""

from __future__ import annotations

import jax

from jax.custom_derivatives import SymbolicZero

from .. import engines
from ..engines import Result


def serve(loss, batch, order: int) -> Result | None:
    """The value with the closed-form JVP attached (order 0), or None: ``grad`` and ``grad_and_hessian``
    calls take the reference formulas, which give those directly."""
    if order != 0 or engines.get_fast_path() == "never":
        return None
    if loss.batch_coupled and batch.reduction.kind == "none":  # each loss depends on every example: no JVP per example
        return None
    xp = batch.xp
    # every array is an argument (none closed over), so that JAX may differentiate targets and weights too
    args, rebuilt = batch.as_arguments()

    @jax.custom_jvp
    def value(*args):
        return loss.reference(rebuilt(args), 0).value

    def jvp(primals, tangents):
        result = loss.reference(rebuilt(primals), 1)
        out, tangent = result.value, xp.zeros_like(result.value)
        for g, i in zip(result.grads, batch.predictions):
            if not isinstance(tangents[i], SymbolicZero):
                axes = tuple(range(out.ndim, g.ndim))  # an example's event axes (all of them for a reduced value)
                tangent = tangent + (xp.sum(g * tangents[i], axis=axes) if axes else g * tangents[i])
        others = [i for i, t in enumerate(tangents) if i not in batch.predictions and not isinstance(t, SymbolicZero)]
        if others:  # targets or weights being differentiated: autodiff of the formulas
            def by_others(*xs):
                args = list(primals)
                for i, x in zip(others, xs):
                    args[i] = x
                return loss.reference(rebuilt(args), 0).value

            tangent = tangent + jax.jvp(by_others, [primals[i] for i in others], [tangents[i] for i in others])[1]
        return out, tangent

    value.defjvp(jvp, symbolic_zeros=True)
    return Result(value(*args))
