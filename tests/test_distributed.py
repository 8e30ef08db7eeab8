"""Exact costs under data parallelism (losskit.distributed): two PyTorch processes on gloo bound to 127.0.0.1, and
JAX's shard_map over two host CPU devices, against the single-process loss of the whole batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from contextlib import nullcontext
from datetime import timedelta

import numpy as np
import pytest

import losskit as lk

IGNORE = -100
#: Rows of each micro-batch, per rank: uneven sizes, and uneven numbers of valid labels (below).
MICRO_BATCHES = {0: (5, 9, 2), 1: (7, 3, 6)}
CLASSES, FEATURES = 3, 4


def global_batch():
    """Features and labels of every micro-batch of every rank, in rank order, with ignored labels spread unevenly."""
    rng = np.random.default_rng(0)
    n = sum(sum(sizes) for sizes in MICRO_BATCHES.values())
    X = rng.normal(size=(n, FEATURES))
    y = rng.integers(0, CLASSES, n)
    y[rng.random(n) < np.linspace(0.1, 0.7, n)] = IGNORE  # later rows: more ignored ones
    return X, y


def micro_batches(rank):
    """(start, stop) rows of this rank's micro-batches in the global batch."""
    start = sum(sum(MICRO_BATCHES[r]) for r in range(rank))
    bounds = []
    for size in MICRO_BATCHES[rank]:
        bounds.append((start, start + size))
        start += size
    return bounds


def embedding_rows(rank):
    """This rank's embeddings and group labels for the all-gather test: 3 rows on rank 0, 5 on rank 1."""
    rng = np.random.default_rng(10 + rank)
    rows = 3 if rank == 0 else 5
    return rng.normal(size=(rows, 6)), rng.integers(0, 2, rows)


def _ddp_worker(rank, world, port, out):
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=60))  # fmt: skip
    try:
        X, y = (torch.from_numpy(a) for a in global_batch())
        torch.manual_seed(0)
        model = torch.nn.Linear(FEATURES, CLASSES, dtype=torch.float64)
        ddp = DistributedDataParallel(model)
        bounds = micro_batches(rank)
        result = {}
        for name in ("exact", "naive"):
            model.zero_grad()
            counts = [(y[a:b] != IGNORE).sum() for a, b in bounds]
            if name == "exact":  # the step's global count over the micro-batches of every rank
                k = lk.distributed.global_normalizer(counts)
            else:  # the per-rank mean of its own valid labels: a mean of means
                k = float(sum(counts))
            for m, (a, b) in enumerate(bounds):
                with ddp.no_sync() if m < len(bounds) - 1 else nullcontext():  # gradients all-reduced once
                    cost = lk.sparse_softmax_cross_entropy(y[a:b], ddp(X[a:b]), ignore_index=IGNORE, normalizer=k)
                    cost.backward()
            result[name] = [model.weight.grad.numpy().tolist(), model.bias.grad.numpy().tolist()]
        z, labels = (torch.from_numpy(a) for a in embedding_rows(rank))
        z.requires_grad_(True)
        gathered = lk.distributed.all_gather(z)
        lk.ntxent(lk.distributed.all_gather(labels), gathered).backward()
        result["gathered"] = gathered.detach().numpy().tolist()
        result["local_grad"] = z.grad.numpy().tolist()
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump(result, f)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    torch_mp = pytest.importorskip("torch.multiprocessing")
    out = tmp_path_factory.mktemp("ddp")
    context = torch_mp.start_processes(_ddp_worker, args=(2, free_port(), str(out)), nprocs=2, join=False,
                                       start_method="spawn")  # fmt: skip
    for _ in range(120):  # at most two minutes; the workers end by themselves
        if context.join(timeout=1):
            break
    else:
        for process in context.processes:
            process.kill()
        pytest.fail("the two gloo processes did not finish")
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in (0, 1)]


def test_ddp_with_gradient_accumulation_is_the_whole_batch_mean(ddp_results):
    """Uneven valid labels per rank and per micro-batch, no_sync on all but the last: the gradients equal PyTorch's
    cross_entropy(ignore_index) mean over the whole batch in one process, to 1e-12; the per-rank mean does not."""
    import torch

    X, y = (torch.from_numpy(a) for a in global_batch())
    torch.manual_seed(0)
    model = torch.nn.Linear(FEATURES, CLASSES, dtype=torch.float64)
    torch.nn.functional.cross_entropy(model(X), y, ignore_index=IGNORE).backward()
    expected = [model.weight.grad.numpy(), model.bias.grad.numpy()]
    for result in ddp_results:
        for got, want in zip(result["exact"], expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        naive = np.concatenate([np.ravel(g) for g in result["naive"]])
        assert np.abs(naive - np.concatenate([np.ravel(e) for e in expected])).max() > 1e-3


def test_all_gather_keeps_the_local_rows_gradient_of_the_global_loss(ddp_results):
    """Every rank computes ntxent over the gathered batch; the gradient of its own rows is the global loss's."""
    import torch

    parts = [embedding_rows(rank) for rank in (0, 1)]
    z = torch.from_numpy(np.concatenate([p[0] for p in parts])).requires_grad_(True)
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    lk.ntxent(labels, z).backward()
    for rank, result in enumerate(ddp_results):
        np.testing.assert_array_equal(result["gathered"], z.detach().numpy())
        rows = slice(0, 3) if rank == 0 else slice(3, 8)
        np.testing.assert_allclose(result["local_grad"], z.grad[rows].numpy(), rtol=1e-12, atol=1e-15)


JAX_SCRIPT = """
import json
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, PartitionSpec as P
jax.config.update("jax_enable_x64", True)
import losskit as lk
from test_distributed import IGNORE, global_batch

X, y = global_batch()
X, y = X[:24], y[:24]  # two shards of 12 rows, with uneven valid labels
W = np.random.default_rng(1).normal(size=(X.shape[1], 3))
mesh = Mesh(np.array(jax.devices()[:2]), ("batch",))

def step(k_of):
    def local(W, x, t):
        k = k_of(t)
        grad = jax.grad(lambda W: lk.sparse_softmax_cross_entropy(t, x @ W, ignore_index=IGNORE, normalizer=k))(W)
        return grad  # the gradient of a replicated W: shard_map's transpose sums it over the devices
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P(), P("batch"), P("batch")), out_specs=P()))

exact = step(lambda t: lk.distributed.global_normalizer(jnp.sum(t != IGNORE), group="batch", convention="sum"))
naive = step(lambda t: jnp.sum(t != IGNORE).astype(jnp.float64))
print(json.dumps({"devices": len(jax.devices()), "exact": np.asarray(exact(W, X, y)).tolist(),
                  "naive": np.asarray(naive(W, X, y)).tolist()}))
"""


TF_SCRIPT = """
import json
import numpy as np, tensorflow as tf
import losskit as lk
from test_distributed import IGNORE, global_batch

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
X, y = global_batch()
X, y = X[:24], y[:24]
W0 = np.random.default_rng(1).normal(size=(X.shape[1], 3))
shards = strategy.experimental_distribute_values_from_function(
    lambda context: (tf.constant(X[12 * context.replica_id_in_sync_group:][:12]),
                     tf.constant(y[12 * context.replica_id_in_sync_group:][:12])))
with strategy.scope():
    W = tf.Variable(W0)

def gradients(exact):
    def replica(x, t):
        count = tf.reduce_sum(tf.cast(t != IGNORE, tf.float64))
        k = lk.distributed.global_normalizer(count, convention="sum") if exact else count
        with tf.GradientTape() as tape:
            cost = lk.sparse_softmax_cross_entropy(t, x @ W, ignore_index=IGNORE, normalizer=k)
        return tape.gradient(cost, W)
    per_replica = strategy.run(tf.function(replica), args=shards)
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy().tolist()

print(json.dumps({"replicas": strategy.num_replicas_in_sync, "exact": gradients(True), "naive": gradients(False)}))
"""


@pytest.mark.parametrize("framework", ["jax", "tensorflow"])
def test_summed_gradients_over_two_devices_are_the_whole_batch_mean(framework):
    """Two host CPU devices, the gradients summed over them (JAX's shard_map, TensorFlow's MirroredStrategy with
    a SUM reduce): the "sum" convention gives Optax's mean over the whole batch to 1e-12; each shard's own mean
    does not."""
    optax = pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
           "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    script = JAX_SCRIPT if framework == "jax" else TF_SCRIPT
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result.get("devices", result.get("replicas")) == 2
    X, y = global_batch()
    X, y = X[:24], y[:24]
    valid = y != IGNORE
    assert valid[:12].sum() != valid[12:].sum()
    W = np.random.default_rng(1).normal(size=(X.shape[1], 3))
    reference = jax.grad(lambda W: jnp.sum(jnp.where(  # float64: conftest.py enables JAX's x64
        valid, optax.softmax_cross_entropy_with_integer_labels(X @ W, np.where(valid, y, 0)), 0.0)) / valid.sum())(W)
    np.testing.assert_allclose(result["exact"], reference, rtol=1e-12, atol=1e-15)
    assert np.abs(np.subtract(result["naive"], reference)).max() > 1e-3


def test_global_normalizer_in_one_process():
    """Without a process group: the micro-batches' counts summed; a step without a valid item gives 1 (its cost is
    a sum over nothing, 0); a bad count or convention is refused."""
    assert lk.distributed.global_normalizer([3, 5]) == 8.0
    assert lk.distributed.global_normalizer(np.float64(2.5), convention="sum") == 2.5
    assert lk.distributed.global_normalizer([0, 0]) == 1.0
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(lk.InputError, match="finite number >= 0"):
            lk.distributed.global_normalizer(bad)
    with pytest.raises(lk.InputError, match="convention"):
        lk.distributed.global_normalizer(3, convention="mean")
    with pytest.raises(lk.InputError, match="axis name"):
        import jax.numpy as jnp

        lk.distributed.global_normalizer(jnp.asarray(3.0))
