"""Reading a user's CSV file: the dialects people's tools write, and the cells that must be refused."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from losskit import data

ROWS = [["a", "b", "y"], ["1", "2", "3.5"], ["4", "5", "6"], ["7", "8", "9"]]


def _expected(path):
    """What Python's own csv module reads from the plain file: the reference table."""
    with open(path, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return {name: [float(row[j]) for row in rows] for j, name in enumerate(header)}


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("\n".join(",".join(row) for row in ROWS) + "\n")
    return path


@pytest.mark.parametrize(
    "write",
    [
        lambda path, text: path.write_bytes(b"\xef\xbb\xbf" + text.encode()),  # Excel's "CSV UTF-8"
        lambda path, text: path.write_text(text.replace(",", ";")),  # a locale whose decimal mark is ","
        lambda path, text: path.write_text(text.replace(",", "\t")),
        lambda path, text: path.write_bytes(gzip.compress(text.encode())),  # .gz, or gzip bytes under a .csv name
    ],
    ids=["utf-8-bom", "semicolons", "tabs", "gzip"],
)
def test_the_dialects_people_write_read_like_the_plain_file(tmp_path, plain, write):
    path = tmp_path / "other.csv"
    write(path, plain.read_text())
    table = data.read_csv(path)
    assert list(table) == ["a", "b", "y"]
    assert {name: column.tolist() for name, column in table.items()} == _expected(plain)


def test_a_column_of_numbers_with_a_few_text_cells_names_them_and_their_lines(tmp_path):
    values = np.round(np.random.default_rng(0).normal(size=200), 3).astype(str)
    values[5] = "n/a"
    path = tmp_path / "y.csv"
    path.write_text("y\n" + "\n".join(values) + "\n")
    with pytest.raises(data.DataError, match=r"column 'y' is numeric except 1 cell \('n/a' on line 7\)"):
        data.read_csv(path)


def test_a_column_of_labels_stays_text(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("y\n" + "\n".join(["1", "2", "x"] * 20) + "\n")
    assert data.read_csv(path)["y"].tolist() == ["1", "2", "x"] * 20


def test_an_empty_cell_after_rows_of_numbers_is_nan_and_the_rows_before_it_stay(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("a,y\n1,2.5\n3,\n5,6\n")
    table = data.read_csv(path)
    assert table["a"].tolist() == [1.0, 3.0, 5.0]
    np.testing.assert_array_equal(table["y"], [2.5, np.nan, 6.0])


def test_names_a_message_cannot_show_are_shown_as_repr(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b,y\x00\n1,2,3\n")
    with pytest.raises(data.DataError, match=r"its columns are: a, b, 'y\\x00'"):
        data.read_column(path, "y")


def test_a_folder_is_not_taken_for_a_missing_file(tmp_path):
    (tmp_path / "adir.csv").mkdir()
    with pytest.raises(data.DataError, match="is a folder, not a CSV file"):
        data.read_csv(tmp_path / "adir.csv")


def test_non_finite_cells_are_named_by_line(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("y\n1\n2\ninf\n1e400\n\n")
    column = data.read_column(path, "y")
    with pytest.raises(data.DataError, match=r"column 'y' has 2 empty, NaN or infinite cells \(lines 4, 5\)"):
        data.require_finite(path, "y", column)


def test_numbers_are_stored_as_float64_arrays(plain):
    table = data.read_csv(plain)
    assert all(column.dtype == np.float64 and column.flags.c_contiguous for column in table.values())
