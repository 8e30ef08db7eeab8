"""Reading a user's table: columns of a CSV file as NumPy arrays, with errors a person can act on."""

from __future__ import annotations

import csv
import gzip
import math
import warnings
from array import array
from pathlib import Path

import numpy as np

from .errors import InputError


class DataError(InputError):
    """A problem with the user's data file: missing, malformed, or without the asked-for column."""


#: A text column is numbers with a few bad cells when at most this share of its cells is not a number.
NUMERIC_EXCEPT = 0.05
#: ... and it holds at least this many distinct numbers (fewer may well be class labels such as "1", "2", "x").
MANY_NUMBERS = 20


def _open(path: Path):
    """The file as text: gzip when it starts with gzip's magic bytes; a UTF-8 byte-order mark is dropped."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _delimiter(header_line: str) -> str:
    """"," unless the header has no comma but semicolons or tabs (Excel's CSV in many locales)."""
    if "," not in header_line:
        for candidate in (";", "\t"):
            if candidate in header_line:
                return candidate
    return ","


def _shown(names) -> str:
    """Column names as a message shows them: plain when printable, repr otherwise (a NUL, a stray mark)."""
    return ", ".join(name if name.isprintable() else repr(name) for name in names)


class _Column:
    """One column being read: float64 numbers until a cell is not a number, then text."""

    def __init__(self, numbers=()):
        self.numbers, self.text = array("d", numbers), None

    def add(self, cell: str) -> None:
        cell = cell.strip()
        if self.text is None:
            try:
                self.numbers.append(float(cell) if cell else math.nan)
                return
            except ValueError:
                self.text = [format(v, "g") if not math.isnan(v) else "" for v in self.numbers]
        self.text.append(cell)

    def array(self) -> np.ndarray:
        return np.frombuffer(self.numbers, dtype=np.float64).copy() if self.text is None else np.asarray(self.text, dtype=str)


def read_csv(path) -> dict[str, np.ndarray]:
    """Read a CSV file with a header row into ``{column: array}``.

    A column whose every non-empty cell is a number becomes a float64 array (empty cells are NaN);
    any other column stays an array of strings. The file is read row by row into typed columns, so
    the memory it takes is about that of the numbers. A UTF-8 byte-order mark, gzip compression and
    ``;`` or tab separators are recognised. A column of numbers with a few text cells ("n/a") is an
    error naming them and their lines.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("x,label\\n1.5,cat\\n2,dog\\n")
    >>> table = read_csv(path)
    >>> table["x"].tolist(), table["label"].tolist()
    ([1.5, 2.0], ['cat', 'dog'])
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a CSV file.")
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        with _open(path) as handle:
            first = handle.readline()
            header_rows = list(csv.reader([first], delimiter=_delimiter(first)))
            if not first.strip() or not header_rows:
                raise DataError(f"{path} is empty: expected a header row and data rows.")
            header = [name.strip() for name in header_rows[0]]
            if len(set(header)) != len(header) or not all(header):
                raise DataError(f"{path}: the header row must name every column once; got {header}.")
            numbers = _all_numbers(handle, _delimiter(first), len(header))
            if numbers is not None:  # the common case, at NumPy's speed: every cell a number
                return {name: column for name, column in zip(header, numbers.T.copy())}
            handle.seek(0)
            handle.readline()
            rows, columns, lines = array("d"), None, array("l")  # rows: row-major numbers while every cell is one
            for line, row in enumerate(csv.reader(handle, delimiter=_delimiter(first)), start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path}, line {line}: {len(row)} fields, but the header has {len(header)}.")
                lines.append(line)
                if columns is None:
                    try:
                        rows.extend(list(map(float, row)))
                        continue
                    except ValueError:  # an empty or text cell: column by column from here on
                        columns = [_Column(c) for c in np.frombuffer(rows, dtype=np.float64).reshape(-1, len(header)).T]
                for column, cell in zip(columns, row):
                    column.add(cell)
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable CSV file: {error}") from None
    if not lines:
        raise DataError(f"{path} has a header but no data rows.")
    if columns is None:
        numbers = np.frombuffer(rows, dtype=np.float64).reshape(-1, len(header))
        table = {name: numbers[:, j].copy() for j, name in enumerate(header)}
    else:
        table = {name: column.array() for name, column in zip(header, columns)}
    for name, values in table.items():
        _check_numeric_except(path, name, values, lines)
    return table


def _all_numbers(handle, delimiter: str, width: int):
    """The data rows as a float64 array of ``width`` columns, or None if any cell is not a number (or none is there)."""
    start = handle.tell()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data"
            numbers = np.loadtxt(handle, delimiter=delimiter, dtype=np.float64, ndmin=2, quotechar='"')
    except ValueError:
        return None
    finally:
        handle.seek(start)
    return numbers if numbers.shape[0] and numbers.shape[1] == width else None


def stray_text(values: np.ndarray) -> np.ndarray | None:
    """The positions of the text cells of a column that is numbers but for a few of them ("n/a" among
    200 values), or None when it is not such a column (all numbers, or labels such as "1", "2", "x")."""
    if values.dtype.kind != "U" or values.ndim != 1:
        return None
    cells = np.char.strip(values)
    is_text = np.array([not _is_number(cell) for cell in cells])
    if not is_text.any() or is_text.mean() > NUMERIC_EXCEPT or np.unique(cells[~is_text]).size < MANY_NUMBERS:
        return None
    return np.flatnonzero(is_text)


def _check_numeric_except(path: Path, name: str, values: np.ndarray, lines) -> None:
    """Refuse a text column that is numbers but for a few cells, naming those cells and their lines."""
    where = stray_text(values)
    if where is None:
        return
    shown = ", ".join(f"{str(values[i])!r} on line {lines[i]}" for i in where[:3]) + (", ..." if where.size > 3 else "")
    raise DataError(
        f"{path}: column {name!r} is numeric except {where.size} cell{'s' if where.size != 1 else ''} ({shown}): "
        "fix or drop those rows."
    )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return not cell


def require_finite(path, name: str, values: np.ndarray) -> np.ndarray:
    """``values`` if every cell is a finite number; DataError naming the empty, NaN or infinite cells' lines."""
    bad = ~np.isfinite(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(str(i + 2) for i in where[:5]) + (", ..." if where.size > 5 else "")
        raise DataError(
            f"{path}: column {name!r} has {where.size} empty, NaN or infinite cell{'s' if where.size != 1 else ''} "
            f"(line{'s' if where.size != 1 else ''} {shown}): fill or drop them first."
        )
    return values


def read_column(path, column: str) -> np.ndarray:
    """One column of a CSV file; DataError naming the columns there are if it is missing."""
    table = read_csv(path)
    if column not in table:
        raise DataError(f"{path} has no column {column!r}; its columns are: {_shown(table)}.")
    return table[column]
