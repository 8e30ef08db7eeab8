"""Reading a user's table: columns of a CSV file as NumPy arrays, with errors a person can act on."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import InputError


class DataError(InputError):
    """A problem with the user's data file: missing, malformed, or without the asked-for column."""


def read_csv(path) -> dict[str, np.ndarray]:
    """Read a CSV file with a header row into ``{column: array}``.

    A column whose every non-empty cell is a number becomes a float64 array (empty cells are NaN);
    any other column stays an array of strings.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("x,label\\n1.5,cat\\n2,dog\\n")
    >>> table = read_csv(path)
    >>> table["x"].tolist(), table["label"].tolist()
    ([1.5, 2.0], ['cat', 'dog'])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} is not a readable CSV file: {error}") from None
    rows = [row for row in rows if row]
    if not rows:
        raise DataError(f"{path} is empty: expected a header row and data rows.")
    header = [name.strip() for name in rows[0]]
    if len(set(header)) != len(header) or not all(header):
        raise DataError(f"{path}: the header row must name every column once; got {header}.")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} fields, but the header has {len(header)}.")
    if len(rows) < 2:
        raise DataError(f"{path} has a header but no data rows.")
    columns = zip(*rows[1:])
    return {name: _column(cells) for name, cells in zip(header, columns)}


def _column(cells) -> np.ndarray:
    cells = [cell.strip() for cell in cells]
    try:
        return np.asarray([float(cell) if cell else np.nan for cell in cells], dtype=np.float64)
    except ValueError:
        return np.asarray(cells, dtype=str)


def read_column(path, column: str) -> np.ndarray:
    """One column of a CSV file; DataError naming the columns there are if it is missing."""
    table = read_csv(path)
    if column not in table:
        raise DataError(f"{path} has no column {column!r}; its columns are: {', '.join(table)}.")
    return table[column]
