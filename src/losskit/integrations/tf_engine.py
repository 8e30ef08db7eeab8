r"""The TensorFlow engine: a loss's value with its closed-form gradient attached (``tf.custom_gradient``).

``tf.GradientTape`` then gives losskit's gradient, the same as ``loss.grad``, also at kinks where
autodiff through the formulas picks a side (the max/abs form of sigmoid cross-entropy gives 1 - y at
logit 0, where the derivative is 1/2 - y). The value and the gradient come from one pass of the
reference formulas, made of TensorFlow operations, so the engine serves ``tf.function`` (inside a graph
an unused gradient is pruned) and XLA (``jit_compile=True``), and a tape over the tape differentiates the
closed-form gradient (second derivatives). Targets and weights being differentiated get autodiff of the
formulas. The switch ``lk.fast_path("never")`` leaves TensorFlow to differentiate the formulas instead.
"""

from __future__ import annotations

import tensorflow as tf

from .. import engines
from ..engines import Result


def serve(loss, batch, order: int) -> Result | None:
    """The value with the closed-form gradient attached (order 0), or None: ``grad`` and
    ``grad_and_hessian`` calls take the reference formulas, which give those directly."""
    if order != 0 or engines.get_fast_path() == "never":
        return None
    if loss.batch_coupled and batch.reduction.kind == "none":  # each loss depends on every example
        return None
    args, rebuilt = batch.as_arguments()

    @tf.custom_gradient
    def value(*args):
        result = loss.reference(rebuilt(args), 1)

        def grad(upstream):
            out = [None] * len(args)
            for g, i in zip(result.grads, batch.predictions):
                seed = upstream
                for _ in range(g.ndim - upstream.ndim):  # an example's event axes take its seed
                    seed = seed[..., None]
                out[i] = seed * g
            others = [i for i, a in enumerate(args) if i not in batch.predictions and a.dtype.is_floating]
            if others:  # targets or weights: autodiff of the formulas (pruned in a graph when unused)
                with tf.GradientTape() as tape:
                    tape.watch([args[i] for i in others])
                    formulas = loss.reference(rebuilt(args), 0).value
                grads = tape.gradient(formulas, [args[i] for i in others], output_gradients=upstream)
                for i, g in zip(others, grads):
                    out[i] = g
            return out

        return result.value, grad

    return Result(value(*args))
