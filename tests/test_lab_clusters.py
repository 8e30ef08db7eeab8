"""The lab's grid on a Dask cluster (losskit.lab.clusters): a local cluster of two workers bound to 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from losskit.lab import LabError, run

pytest.importorskip("distributed")


def test_a_grid_on_a_local_dask_cluster_equals_the_local_run(monkeypatch):
    from rich.console import Console

    from losskit.lab import runner

    started = []  # the runs the workers announce as they begin: the progress bar's "running"
    advance = runner._Tally.advance
    monkeypatch.setattr(runner._Tally, "advance", lambda self, i, epoch: started.append(i) or advance(self, i, epoch))
    settings = dict(model="linear", backend="numpy", epochs=3, seeds=2, losses="mse,huber,cauchy")
    stream = io.StringIO()
    on_dask = run("outliers", runner="dask", jobs=2, progress=True,
                  console=Console(file=stream, force_terminal=True, width=100), **settings)  # fmt: skip
    shown = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue())  # without the terminal's colours
    assert sorted(started) == list(range(6)) and "runs" in shown and "6/6 done, 0 running" in shown
    here = run("outliers", **settings)
    assert on_dask.settings["runner"] == "dask" and len(on_dask.runs) == len(here.runs) == 6
    for a, b in zip(on_dask.runs, here.runs):  # the same runs, in grid order, seeded: the same numbers
        assert (a.label, a.seed, a.initial_weights) == (b.label, b.seed, b.initial_weights)
        for key in a.history:
            if key != "wall_time":
                assert a.history[key] == b.history[key], (a.label, key)


def test_a_local_dask_cluster_leaves_malloc_trim_unset():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers by default; the lab's local cluster does not."""
    from losskit.lab import clusters

    with clusters.dask_client(None, 1) as client:
        assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}


def test_runner_mistakes_are_one_clear_line():
    with pytest.raises(LabError, match="unknown runner 'spark'"):
        run("outliers", runner="spark", epochs=1, seeds=1)
    with pytest.raises(LabError, match="--scheduler is the address of a Dask or Ray cluster"):
        run("outliers", scheduler="tcp://127.0.0.1:8786", epochs=1, seeds=1)


def test_each_run_is_kept_as_it_ends_and_a_rerun_trains_only_the_missing_ones(tmp_path, monkeypatch):
    from losskit.lab import runner

    settings = dict(model="linear", backend="numpy", epochs=2, seeds=2, losses="mse,cauchy", out=tmp_path)
    first = run("outliers", **settings)
    kept = sorted((tmp_path / "runs").glob("*.json"))
    assert len(kept) == 4
    kept[1].unlink()  # a run lost, as if the grid had stopped before it ended
    trained = []
    real = runner.train
    monkeypatch.setattr(runner, "train", lambda spec, *a: trained.append(spec.label) or real(spec, *a))
    again = run("outliers", **settings)
    assert len(trained) == 1 and len(list((tmp_path / "runs").glob("*.json"))) == 4
    for a, b in zip(first.runs, again.runs):
        assert (a.index, a.label, a.seed) == (b.index, b.label, b.seed)
        assert {k: v for k, v in a.history.items() if k != "wall_time"} == \
               {k: v for k, v in b.history.items() if k != "wall_time"}  # fmt: skip
    trained.clear()
    run("outliers", **{**settings, "losses": "mse,cauchy,huber"})  # a loss more: only its runs train
    assert trained == ["huber", "huber"]
    run("outliers", **{**settings, "epochs": 3})  # other settings: other runs
    assert len(trained) == 2 + 4


def test_a_grid_on_a_scheduler_address_survives_a_killed_worker(tmp_path, monkeypatch):
    """An existing cluster reached by its address; one of its two workers killed as the first run ends: the grid
    finishes with every run once (Dask gives a lost task to another worker), and the numbers of the local run."""
    import distributed

    from losskit.lab import finished

    settings = dict(model="linear", backend="numpy", epochs=3, seeds=2, losses="mse,huber,cauchy")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
        save, killed = finished.Finished.save, []

        def save_then_kill(self, spec, record):
            save(self, spec, record)
            if not killed:  # the first run has ended: kill a worker, perhaps in the middle of another
                killed.append(next(iter(cluster.workers.values())).process.process.pid)
                os.kill(killed[0], 9)

        monkeypatch.setattr(finished.Finished, "save", save_then_kill)
        on_cluster = run("outliers", runner="dask", scheduler=cluster.scheduler_address, out=tmp_path, **settings)
    assert killed and len(list((tmp_path / "runs").glob("*.json"))) == 6
    here = run("outliers", **settings)
    assert [r.index for r in on_cluster.runs] == list(range(6))
    for a, b in zip(on_cluster.runs, here.runs):
        assert {k: v for k, v in a.history.items() if k != "wall_time"} == \
               {k: v for k, v in b.history.items() if k != "wall_time"}  # fmt: skip


def test_the_readmes_grid_file_on_a_scheduler_address_from_the_command_line(tmp_path):
    """The README's experiment file, ``losskit lab run grid.toml --runner dask --scheduler ADDRESS`` (made small by
    options that replace the file's): four labs on an existing cluster, with the numbers of the grid run here."""
    import distributed
    from typer.testing import CliRunner

    from losskit.cli import app
    from losskit.lab import grid

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    path = tmp_path / "grid.toml"
    path.write_text("report = false\n" + re.search(r"```toml\n(# grid.toml.*?)```", readme, re.S).group(1))
    small = dict(seeds=1, epochs=2, model="linear", backend="numpy")
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
        result = CliRunner().invoke(app, [
            "lab", "run", str(path), "--runner", "dask", "--scheduler", cluster.scheduler_address, "--out", str(out),
            *(arg for key, value in small.items() for arg in (f"--{key}", str(value)))])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"results: {out / 'outliers_lr0.003' / 'results.json'}  (with history.csv)" in result.stdout
    here = grid.run_grid(path, **small)
    names = ["outliers_lr0.003", "outliers_lr0.01", "heteroscedastic_lr0.003", "heteroscedastic_lr0.01"]
    assert [folder.name for folder in sorted(out.iterdir()) if folder.is_dir()] == sorted(names)
    assert (out / "index.html").is_file()
    for name, lab in zip(names, here):
        saved = json.loads((out / name / "results.json").read_text())
        assert list(saved["losses"]) == list(lab.losses) == ["mse", "huber", "cauchy(scale=0.3)", "cauchy",
                                                             "cauchy(scale=3)"]  # fmt: skip
        assert saved["settings"]["runner"] == "dask" and len(saved["runs"]) == len(lab.runs) == 5
        for a, b in zip(saved["runs"], lab.runs):
            assert (a["label"], a["seed"]) == (b.label, b.seed)
            assert {k: v for k, v in a["history"].items() if k != "wall_time"} == \
                   {k: v for k, v in b.history.items() if k != "wall_time"}  # fmt: skip
