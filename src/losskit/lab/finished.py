"""The runs of a grid that have finished, kept on disk so that a grid resumes where it stopped.

Each run's record is written as the run ends, to ``<out>/runs/<key>.json``, where the key is a hash of the
run's whole configuration: its loss, seed and training settings, and the bytes of its data split. Running
the grid again reads the records found there and trains only the other runs, so a grid stopped by a crash,
a killed worker or an interrupt goes on where it stopped, and a grid extended by a loss or a seed trains
only what is new. A record that cannot be read is trained again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from .files import write_file
from .training import RunRecord, RunSpec

#: RunSpec fields that do not change a run's numbers: its place in the grid, its display name, its threads.
_NOT_CONFIGURATION = {"index", "label", "threads", "data"}


def key(spec: RunSpec) -> str:
    """A hash of everything that decides the run's numbers."""
    digest = hashlib.sha256()
    settings = {f.name: getattr(spec, f.name) for f in fields(spec) if f.name not in _NOT_CONFIGURATION}
    data = asdict(spec.data)
    arrays = {name: value for name, value in data.items() if isinstance(value, np.ndarray)}
    settings["data"] = {name: value for name, value in data.items() if name not in arrays}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:32]


class Finished:
    """The records of finished runs under ``out/runs`` (nothing is kept without an output folder)."""

    def __init__(self, out):
        self.folder = None if out is None else Path(out) / "runs"
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def load(self, spec: RunSpec) -> RunRecord | None:
        """The record of this run if it finished before, placed at the spec's index; None otherwise."""
        if self.folder is None:
            return None
        path = self.folder / f"{key(spec)}.json"
        try:
            record = RunRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        record.index, record.label = spec.index, spec.label
        return record

    def save(self, spec: RunSpec, record: RunRecord) -> None:
        if self.folder is not None:  # NaN and infinities kept (as JSON's NaN and Infinity tokens)
            write_file(self.folder / f"{key(spec)}.json", json.dumps(record.to_dict(), default=_plain))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")
