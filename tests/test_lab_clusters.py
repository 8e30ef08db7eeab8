"""The lab's grid on a Dask cluster (losskit.lab.clusters): a local cluster of two workers bound to 127.0.0.1."""

from __future__ import annotations

import os

import pytest

from losskit.lab import LabError, run

pytest.importorskip("distributed")


def test_a_grid_on_a_local_dask_cluster_equals_the_local_run():
    settings = dict(model="linear", backend="numpy", epochs=3, seeds=2, losses="mse,huber,cauchy")
    on_dask = run("outliers", runner="dask", jobs=2, **settings)
    here = run("outliers", **settings)
    assert on_dask.settings["runner"] == "dask" and len(on_dask.runs) == len(here.runs) == 6
    for a, b in zip(on_dask.runs, here.runs):  # the same runs, in grid order, seeded: the same numbers
        assert (a.label, a.seed, a.initial_weights) == (b.label, b.seed, b.initial_weights)
        for key in a.history:
            if key != "wall_time":
                assert a.history[key] == b.history[key], (a.label, key)


def test_a_local_dask_cluster_leaves_malloc_trim_unset():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers by default; the lab's local cluster does not."""
    import distributed

    from losskit.lab import clusters

    with clusters.backend("dask", None, 1):
        assert set(distributed.get_client().run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}


def test_runner_mistakes_are_one_clear_line():
    with pytest.raises(LabError, match="unknown runner 'spark'"):
        run("outliers", runner="spark", epochs=1, seeds=1)
    with pytest.raises(LabError, match="--scheduler is the address of a Dask or Ray cluster"):
        run("outliers", scheduler="tcp://127.0.0.1:8786", epochs=1, seeds=1)
