"""The lab's grid on Ray (``--runner ray``), where Ray is installed: it is documented, not required, and not in the
pinned test set-up."""

from __future__ import annotations

import pytest

pytest.importorskip("ray")

from losskit.lab import run  # noqa: E402


def test_a_grid_on_a_local_ray_cluster_equals_the_local_run_and_keeps_each_run(tmp_path):
    settings = dict(model="linear", backend="numpy", epochs=3, seeds=2, losses="mse,huber,cauchy")
    on_ray = run("outliers", runner="ray", jobs=2, out=tmp_path, **settings)
    here = run("outliers", **settings)
    assert on_ray.settings["runner"] == "ray" and len(list((tmp_path / "runs").glob("*.json"))) == 6
    for a, b in zip(on_ray.runs, here.runs):
        assert (a.label, a.seed) == (b.label, b.seed)
        assert {k: v for k, v in a.history.items() if k != "wall_time"} == \
               {k: v for k, v in b.history.items() if k != "wall_time"}  # fmt: skip
