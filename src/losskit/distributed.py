r"""Exact costs when training is spread over processes: the global normalizer, and gathered embeddings.

A mean over a batch is the mean a user means only when its denominator counts the whole global batch:
every micro-batch of an optimiser step, on every rank. With :math:`N` valid items in the step over all
ranks, the cost is :math:`\sum_i w_i \ell_i / N`; each rank computes its own part with ``normalizer=``,

.. math:: \text{cost}_r = \sum_{i \in r} w_i \ell_i / k,

and the framework combines the ranks' gradients. Which ``k`` makes the combination exact depends on how:

============================================  ==============  =====================
framework                                     gradients are   ``convention``, ``k``
============================================  ==============  =====================
PyTorch DDP and FSDP                          averaged        ``"average"``: N / W
``tf.distribute`` (MirroredStrategy, ...)     summed          ``"sum"``: N
JAX with ``psum`` (``shard_map``, ``pmap``)   summed          ``"sum"``: N
============================================  ==============  =====================

(W: the number of ranks.) The per-rank mean, ``k`` the local count, weighs a rank's items by the inverse
of its own count: a "mean of means", biased wherever ranks or micro-batches hold different numbers of
valid items (padding, ignored tokens, weights).

>>> import losskit as lk
>>> lk.distributed.global_normalizer([3, 5])   # one process: the micro-batches' counts, summed
8.0
"""

from __future__ import annotations

import numbers
import sys

from .errors import InputError

CONVENTIONS = ("average", "sum")


def _library(value) -> str:
    module = type(value).__module__.split(".", 1)[0]
    return {"jaxlib": "jax"}.get(module, module)


def _total(local_count):
    """The local count: a number, a 0-d array, or a sequence of them (the micro-batches of a step), summed."""
    if isinstance(local_count, (list, tuple)):
        if not local_count:
            raise InputError("local_count: an empty sequence; give the count of each micro-batch of the step.")
        total = local_count[0]
        for count in local_count[1:]:
            total = total + count
        return total
    return local_count


def global_normalizer(local_count, *, group=None, convention: str = "average"):
    """The ``normalizer=`` that makes each rank's gradient contribution exact: the global count of valid
    items (or the global weight sum) over every rank, divided by the number of ranks for ``"average"``.

    Parameters
    ----------
    local_count : number, 0-d tensor or array, or a sequence of them
        This rank's count of valid items (or sum of weights) in the optimiser step; a sequence is the
        count of each micro-batch of the step (gradient accumulation), summed. It is not differentiated.
    group : optional
        PyTorch: the process group (the default group if None). JAX: the axis name of ``shard_map`` or
        ``pmap`` (required). TensorFlow: unused (the current replica context's all-reduce).
    convention : {"average", "sum"}
        How the framework combines the ranks' gradients: averaged (PyTorch DDP, FSDP) or summed
        (``tf.distribute``, JAX with ``psum``).

    Returns
    -------
    PyTorch and plain numbers: a float (one all-reduce, a synchronisation, per step; without an
    initialised process group, the local count). JAX and TensorFlow: a 0-d array of the count's dtype
    (float), for use inside the traced step.
    """
    if convention not in CONVENTIONS:
        raise InputError(f"convention must be one of {CONVENTIONS}; got {convention!r}.")
    total = _total(local_count)
    library = _library(total)
    if library == "jax":
        return _jax(total, group, convention)
    if library == "tensorflow":
        return _tensorflow(total, convention)
    if library == "torch" or isinstance(total, numbers.Real) or hasattr(total, "shape"):
        return _torch(total, group, convention)
    raise InputError(f"local_count must be a number or a 0-d tensor; got {type(total).__name__}.")


def _check_count(value) -> float:
    """The global count; 1 for a step without a valid item (whose cost, a sum over nothing, is then 0, as a
    mean over nothing is)."""
    if not 0 <= value < float("inf"):
        raise InputError(f"the global count must be a finite number >= 0 (every rank's valid items together); "
                         f"got {value!r}.")  # fmt: skip
    return value if value > 0 else 1.0


def _torch(total, group, convention) -> float:
    """PyTorch's process group (when one is initialised), or this process alone; never imports PyTorch for a
    plain number."""
    torch = sys.modules.get("torch")
    if torch is None:
        return _check_count(float(total))
    count = torch.as_tensor(total.detach() if hasattr(total, "detach") else total, dtype=torch.float64).reshape(())
    distributed = torch.distributed
    world = 1
    if distributed.is_available() and distributed.is_initialized():
        count = count.to(_device(distributed, group))
        distributed.all_reduce(count, op=distributed.ReduceOp.SUM, group=group)
        world = distributed.get_world_size(group)
    value = _check_count(float(count))
    return value / world if convention == "average" else value


def _device(distributed, group):
    """The device collectives of ``group`` run on: CUDA for NCCL, the CPU otherwise."""
    import torch

    return torch.device("cuda", torch.cuda.current_device()) if distributed.get_backend(group) == "nccl" else "cpu"


def _jax(total, axis_name, convention):
    import jax
    import jax.numpy as jnp

    if axis_name is None:
        raise InputError("global_normalizer in JAX needs group=<the axis name of shard_map or pmap>, whose "
                         "devices hold the shards.")  # fmt: skip
    count = jax.lax.stop_gradient(jnp.asarray(total, dtype=jnp.result_type(float)))
    summed = jax.lax.psum(count, axis_name)
    summed = jnp.where(summed > 0, summed, 1.0)  # a step without a valid item: its cost, a sum over nothing, is 0
    return summed / jax.lax.psum(1, axis_name) if convention == "average" else summed


def _tensorflow(total, convention):
    import tensorflow as tf

    count = tf.stop_gradient(tf.cast(total, tf.float64 if total.dtype == tf.float64 else tf.float32))
    context = tf.distribute.get_replica_context()
    if context is None:
        raise InputError("global_normalizer in TensorFlow runs inside strategy.run (a replica context).")
    summed = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
    summed = tf.where(summed > 0, summed, tf.ones_like(summed))  # a step without a valid item: its cost is 0
    return summed / context.num_replicas_in_sync if convention == "average" else summed


def all_gather(embeddings, *, group=None):
    """Every rank's rows, concatenated along the first axis in rank order, with this rank's rows the tensor
    given (so they keep their gradient) and the others' rows constants (PyTorch).

    For contrastive losses (``ntxent``, ``info_nce``) whose negatives should come from the global batch, as
    pytorch-metric-learning's distributed wrapper does: every rank computes the loss over the gathered batch
    (``lk.ntxent(all_gather(labels), all_gather(z))``), so every rank holds the global loss, and its backward
    reaches only its own rows, where it is the global loss's gradient (the other rows are constants here and
    their own rank's variables there). Summed over the ranks, these are the global loss's gradients; DDP
    averages them, so multiply the loss by the world size under DDP. Ranks may hold different numbers of
    rows of one trailing shape. Without an initialised process group, the rows themselves.
    """
    import torch

    distributed = torch.distributed
    if not (distributed.is_available() and distributed.is_initialized()):
        return embeddings
    world, rank = distributed.get_world_size(group), distributed.get_rank(group)
    rows = torch.tensor([embeddings.shape[0]], device=embeddings.device)
    sizes = [torch.zeros_like(rows) for _ in range(world)]
    distributed.all_gather(sizes, rows, group=group)
    most = int(max(int(size) for size in sizes))
    padded = embeddings.detach().new_zeros((most, *embeddings.shape[1:]))
    padded[: embeddings.shape[0]] = embeddings.detach()
    gathered = [torch.zeros_like(padded) for _ in range(world)]
    distributed.all_gather(gathered, padded, group=group)
    parts = [part[: int(size)] for part, size in zip(gathered, sizes)]
    parts[rank] = embeddings
    return torch.cat(parts, dim=0)
