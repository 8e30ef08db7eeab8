"""The lab's runs on a cluster: Dask or Ray, reached through joblib's backend system.

``runner="local"`` (the default) runs here or in local worker processes (:func:`runner.execute`);
``"dask"`` sends each run to a Dask cluster, the one at ``scheduler`` (``tcp://HOST:8786``) or, without an
address, a local cluster of ``workers`` single-threaded processes bound to 127.0.0.1 and closed after the
grid; ``"ray"`` does the same on Ray (``scheduler``: the address ``ray.init`` takes). A run is a picklable
:class:`~losskit.lab.training.RunSpec` (its data included) and returns its record, so the cluster needs only
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
def backend(runner: str, scheduler: str | None, workers: int):
    """joblib's name for the runner's backend, with its cluster connected for the block (and a local one
    started and closed)."""
    if runner == "dask":
        with _dask(scheduler, workers):
            yield "dask"
    else:
        with _ray(scheduler, workers):
            yield "ray"


@contextmanager
def _dask(scheduler, workers):
    dask = need("dask", "--runner dask")
    distributed = need("distributed", "--runner dask")
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except OSError as error:
            raise LabError(f"cannot reach the Dask scheduler at {scheduler}: {error}.") from None
        with client:
            yield
        return
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)  # fmt: skip
    with cluster, distributed.Client(cluster):
        yield


@contextmanager
def _ray(scheduler, workers):
    ray = need("ray", "--runner ray")
    from ray.util.joblib import register_ray

    register_ray()
    if scheduler is not None:
        ray.init(address=scheduler, log_to_driver=False)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


#: The topic on which a Dask worker announces each run it begins (its index), for the progress bar.
STARTED = "losskit-lab-started"


def train_all(specs, train, *, runner: str, scheduler: str | None, workers: int, done=None, started=None) -> list:
    """Every spec trained on the cluster, records in grid order; ``done(record)`` as each run ends, and on Dask
    ``started(index, 0)`` as each begins (a worker's event: its grid order is the cluster's)."""
    if not specs:
        return []
    joblib = need("joblib", f"--runner {runner}")
    with backend(runner, scheduler, workers) as name, joblib.parallel_backend(name):
        if started is not None and runner == "dask":
            from distributed import get_client

            get_client().subscribe_topic(STARTED, lambda event: started(event[1], 0))
        results = joblib.Parallel(n_jobs=-1, return_as="generator_unordered")(
            joblib.delayed(_announced)(train, spec) for spec in specs)  # fmt: skip
        records = []
        for record in results:
            records.append(record)
            if done is not None:
                done(record)
    return sorted(records, key=lambda record: record.index)


def _announced(train, spec):
    """``train(spec)``, announced first on a Dask worker (:data:`STARTED`)."""
    try:
        from distributed import get_worker

        get_worker().log_event(STARTED, spec.index)
    except (ImportError, ValueError):  # not on a Dask worker
        pass
    return train(spec)
