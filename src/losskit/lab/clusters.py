"""The lab's runs on a cluster: Dask, reached through joblib's backend system, or Ray, through its tasks.

``runner="local"`` (the default) runs here or in local worker processes (``runner.execute``);
``"dask"`` sends each run to a Dask cluster, the one at ``scheduler`` (``tcp://HOST:8786``) or, without an
address, a local cluster of ``workers`` single-threaded processes bound to 127.0.0.1 and closed after the
grid; ``"ray"`` does the same on Ray (``scheduler``: the address ``ray.init`` takes). A run is a picklable
``RunSpec`` (its data included) and returns its record, so the cluster needs only
losskit and its lab dependencies on every worker.

Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's adaptive
``mmap`` threshold: every array of the training loop is then mapped and unmapped afresh, and small NumPy
training loops ran several times slower. A local cluster leaves the variable unset; a remote cluster's
workers take their own configuration (``distributed.nanny.pre-spawn-environ``).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from .errors import LabError, need

RUNNERS = ("local", "dask", "ray")


def check(runner: str, scheduler: str | None) -> None:
    """LabError for an unknown runner, or a scheduler address without a cluster runner."""
    if runner not in RUNNERS:
        raise LabError(f"unknown runner {runner!r}; choose one of: {', '.join(RUNNERS)}.")
    if scheduler is not None and runner == "local":
        raise LabError("--scheduler is the address of a Dask or Ray cluster: give --runner dask or --runner ray.")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise LabError(f"--scheduler must be an address such as tcp://HOST:8786; got {scheduler!r}.")


@contextmanager
def dask_client(scheduler, workers):
    """A Dask client for the block: of the cluster at ``scheduler``, or of a local cluster started and closed."""
    dask = need("dask", "--runner dask")
    distributed = need("distributed", "--runner dask")
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except OSError as error:
            raise LabError(f"cannot reach the Dask scheduler at {scheduler}: {error}.") from None
        with client:
            yield client
        return
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)  # fmt: skip
    with cluster, distributed.Client(cluster) as client:
        yield client


@contextmanager
def ray_session(scheduler, workers):
    """Ray connected for the block: to the cluster at ``scheduler``, or to a local one started and shut down."""
    ray = need("ray", "--runner ray")
    if scheduler is not None:
        ray.init(address=scheduler, log_to_driver=False)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()


#: The topic on which a Dask worker announces each run it begins (its index), for the progress bar.
STARTED = "losskit-lab-started"


def train_all(specs, train, *, runner: str, scheduler: str | None, workers: int, done=None, started=None) -> list:
    """Every spec trained on the cluster, records in grid order; ``done(record)`` as each run ends, and on Dask
    ``started(index, 0)`` as each begins (a worker's event: its grid order is the cluster's)."""
    if not specs:
        return []
    records = []
    with (dask_client if runner == "dask" else ray_session)(scheduler, workers) as cluster:
        ended = _on_dask(cluster, specs, train, started) if runner == "dask" else _on_ray(cluster, specs, train)
        for record in ended:
            records.append(record)
            if done is not None:
                done(record)
    return sorted(records, key=lambda record: record.index)


def _on_dask(client, specs, train, started):
    """The records as their runs end, through joblib's Dask backend (a lost worker's runs go to another)."""
    joblib = need("joblib", "--runner dask")
    if started is not None:
        client.subscribe_topic(STARTED, lambda event: started(event[1], 0))
    with joblib.parallel_backend("dask"):
        yield from joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(
            joblib.delayed(_announced)(train, spec) for spec in specs)  # fmt: skip


def _on_ray(ray, specs, train):
    """The records as their runs end, as Ray tasks of one CPU each (Ray's joblib backend returns only a whole list;
    a task whose worker dies is retried, as Ray does by default)."""
    task = ray.remote(num_cpus=1)(train)
    pending = [task.remote(spec) for spec in specs]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


def _announced(train, spec):
    """``train(spec)``, announced first on a Dask worker (:data:`STARTED`)."""
    try:
        from distributed import get_worker

        get_worker().log_event(STARTED, spec.index)
    except (ImportError, ValueError):  # not on a Dask worker
        pass
    return train(spec)
