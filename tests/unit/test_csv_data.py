"""Bring-your-own CSV data (core.csv_data): every refused file says where and why in one line,
every accepted file becomes the Dataset its rows describe."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import string
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_tui.core import csv_data
from dropout_tui.core.csv_data import (
    DEFAULT_TEST_FRACTION, MAX_CLASSES, MAX_FILE_BYTES, MIN_TRAIN_PER_CLASS, CsvDataError, CsvDataset,
    load_csv, parse_csv_bytes, read_csv_bytes, read_csv_table, split_table,
)
from dropout_tui.core.data import Dataset

DATA = Path(__file__).resolve().parents[1] / "data"
IRIS = DATA / "iris.csv"
IRIS_PETALS = DATA / "iris-petals.csv"

# 3 rows per class of 2 classes: enough for the default split (2 test rows, 2 training rows per class).
GOOD = "a,b,y\n1,2,u\n3,4,u\n5,6,u\n7,8,v\n9,10,v\n11,12,v\n"


def write(tmp_path, content, name="d.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def load(path, seed=0, **kw) -> CsvDataset:
    return load_csv(path, rng=np.random.default_rng(seed), **kw)


def error(path, **kw) -> CsvDataError:
    with pytest.raises(CsvDataError) as info:
        load(path, **kw)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return info.value


# --- refused files: one line naming the file, the line and the column ------------------------


def test_empty_file(tmp_path):
    p = write(tmp_path, "")
    assert str(error(p)) == f"{p}: is empty"


def test_blank_lines_only(tmp_path):
    p = write(tmp_path, "\n  \n\n")
    assert str(error(p)) == f"{p}: has no rows (only blank lines)"


def test_header_only(tmp_path):
    p = write(tmp_path, "a,b,label\n")
    assert str(error(p)) == f"{p}: has a header but no data rows"


def test_ragged_row(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,u\n3,4,5,u\n")
    e = error(p)
    assert str(e) == f"{p}: line 3: 4 cells, expected 3 (as on line 1)"
    assert (e.line, e.column) == (3, None)


def test_short_row(tmp_path):
    p = write(tmp_path, "1,2,u\n3,4,v\n5,u\n")
    assert str(error(p)) == f"{p}: line 3: 2 cells, expected 3 (as on line 1)"


def test_non_numeric_feature_names_line_column_and_header(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,u\n3,abc,v\n")
    e = error(p)
    assert str(e) == f"{p}: line 3, column 2 (b): 'abc' is not a number"
    assert (e.line, e.column, e.column_name) == (3, 2, "b")


def test_non_numeric_feature_without_header_has_no_name(tmp_path):
    p = write(tmp_path, "1,2,u\n3,4,v\n5,x7,v\n")
    assert str(error(p)) == f"{p}: line 3, column 2: 'x7' is not a number"


def test_empty_feature_cell(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,u\n3,,v\n")
    assert str(error(p)).startswith(f"{p}: line 3, column 2 (b): empty cell")


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    p = write(tmp_path, 'a,b,y\n\n1,2,"two\nlines"\n\n3,oops,v\n')
    assert str(error(p)) == f"{p}: line 6, column 2 (b): 'oops' is not a number"


@pytest.mark.parametrize("cell, word", [("nan", "NaN"), ("NaN", "NaN"), ("inf", "an infinite value"),
                                        ("-Infinity", "an infinite value"), ("1e999", "an infinite value")])
def test_nan_or_inf_feature(tmp_path, cell, word):
    p = write(tmp_path, f"a,b,y\n1,2,u\n3,4,u\n5,{cell},v\n")
    assert str(error(p)) == (f"{p}: line 4, column 2 (b): {word} is not allowed: features must be finite "
                             f"numbers (fill or drop missing values first)")


def test_missing_label(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,u\n3,4, \n")
    assert str(error(p)) == f"{p}: line 3, column 3 (y): missing label (empty cell)"


def test_one_class(tmp_path):
    p = write(tmp_path, "a,y\n1,u\n2,u\n3,u\n")
    assert str(error(p)) == f"{p}: every row has the label 'u': classification needs at least 2 classes"


def test_more_classes_than_the_limit(tmp_path):
    rows = "".join(f"{i},c{i}\n" for i in range(MAX_CLASSES + 5))
    p = write(tmp_path, "x,y\n" + rows)
    e = error(p)
    # the 21st distinct label is on line 22 (the header is line 1)
    assert (e.line, e.column, e.column_name) == (MAX_CLASSES + 2, 2, "y")
    assert f"more than {MAX_CLASSES} distinct labels" in str(e) and "--task regression" in str(e)


def test_exactly_the_class_limit_loads(tmp_path):
    rows = "".join(f"{i}.5,c{i % MAX_CLASSES}\n" for i in range(MAX_CLASSES * 3))
    d = load(write(tmp_path, "x,y\n" + rows))
    assert d.n_classes == MAX_CLASSES


def test_class_with_one_row(tmp_path):
    p = write(tmp_path, "a,y\n1,u\n2,u\n3,u\n4,v\n")
    assert str(error(p)) == f"{p}: class 'v' has 1 row; training needs at least {MIN_TRAIN_PER_CLASS} per class"


def test_too_few_rows_for_a_test_row(tmp_path):
    # two rows per class: both must train, none is left to test on
    p = write(tmp_path, "a,y\n1,u\n2,u\n3,v\n4,v\n")
    assert str(error(p)) == (f"{p}: 4 rows are too few to split: need 1 test row and 2 training rows in each "
                             f"of 2 classes; add rows or give a separate test file")


def test_directory(tmp_path):
    assert str(error(tmp_path)) == f"{tmp_path}: is a directory, not a CSV file"


def test_unreadable_file(tmp_path, monkeypatch):
    p = write(tmp_path, GOOD)
    p.chmod(0)
    if os.access(p, os.R_OK):  # root reads anything: make the open fail as it would for a user
        def refuse(path, *args, **kw):
            raise PermissionError(13, "Permission denied", os.fspath(path))

        monkeypatch.setattr(csv_data.os, "open", refuse)
    assert str(error(p)) == f"{p}: cannot read it: Permission denied"


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    assert str(error(p)) == f"{p}: no such file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_is_refused_without_blocking(tmp_path):
    p = tmp_path / "pipe.csv"
    os.mkfifo(p)
    outcome = []

    def attempt():
        try:
            load(p)
        except CsvDataError as e:
            outcome.append(str(e))

    # If the loader opened the FIFO for reading it would wait for a writer forever; the thread
    # lets the test fail instead of hanging the suite.
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "loading a FIFO blocked"
    assert outcome == [f"{p}: is a FIFO (named pipe), not a regular file; save the data to a file first"]


def test_binary_garbage_with_nul_bytes(tmp_path):
    p = write(tmp_path, b"a,b,y\n1,2,u\n\x89PNG\x00\x01\x02\xff\xfe")
    assert str(error(p)) == f"{p}: line 3: contains a NUL byte (at byte 16): a binary file, not CSV text"


def test_not_utf8(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2,café\n3,4,thé\n".encode("latin-1"))
    assert str(error(p)) == f"{p}: line 2: byte 0xe9 is not UTF-8: save the file as UTF-8 text"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(tmp_path, encoding):
    data = ("\ufeff" if encoding == "utf-16-be" else "") + GOOD
    p = write(tmp_path, data.encode(encoding))
    assert str(error(p)) == f"{p}: is UTF-16 text: save it as UTF-8"


def test_utf16_without_bom(tmp_path):
    p = write(tmp_path, GOOD.encode("utf-16-le"))
    assert str(error(p)) == f"{p}: looks like UTF-16 text (no byte-order mark): save it as UTF-8"


def test_utf32(tmp_path):
    p = write(tmp_path, GOOD.encode("utf-32"))
    assert str(error(p)) == f"{p}: is UTF-32 text: save it as UTF-8"


def test_utf8_bom_is_skipped(tmp_path):
    plain = load(write(tmp_path, GOOD, "plain.csv"))
    bom = load(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode(), "bom.csv"))
    assert bom.feature_names == ("a", "b") and bom.label_name == "y"
    np.testing.assert_array_equal(bom.x_train, plain.x_train)
    assert bom.sha256 != plain.sha256  # the hash is of the file's bytes, BOM included


def test_duplicate_header_names(tmp_path):
    p = write(tmp_path, "a,b,a,y\n1,2,3,u\n")
    e = error(p)
    assert str(e) == f"{p}: line 1, column 3: duplicate column name 'a' (also column 1)"


def test_empty_header_name(tmp_path):
    p = write(tmp_path, ",b,y\n1,2,u\n")
    assert str(error(p)) == f"{p}: line 1, column 1: empty column name in the header"


def test_label_not_a_column_lists_the_columns(tmp_path):
    p = write(tmp_path, GOOD)
    assert str(error(p, label="species")) == f"{p}: label 'species' is not a column; columns: a, b, y"


def test_label_name_without_a_header(tmp_path):
    p = write(tmp_path, "1,2,u\n3,4,v\n")
    assert str(error(p, label="y")) == (f"{p}: line 1: label 'y' names a header column, but the first row "
                                        f"is data, not a header")


def test_first_row_mixing_text_and_numbers(tmp_path):
    p = write(tmp_path, "a,2,y\n1,2,u\n")
    assert str(error(p)).startswith(f"{p}: line 1, column 1: 'a' is not a number, but other cells")


def test_one_column(tmp_path):
    p = write(tmp_path, "1\n2\n3\n")
    assert str(error(p)).startswith(f"{p}: line 1: found 1 column")


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    p = tmp_path / "huge.csv"
    with open(p, "wb") as f:  # sparse: takes no disk and no time
        f.truncate(MAX_FILE_BYTES + 1)
    assert str(error(p)) == f"{p}: is {MAX_FILE_BYTES + 1:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"


def test_reading_stops_past_the_size_limit(tmp_path, monkeypatch):
    p = write(tmp_path, GOOD)
    monkeypatch.setattr(csv_data, "MAX_FILE_BYTES", 10)
    # even if the file grew between the stat and the read, reading stops one byte past the limit
    monkeypatch.setattr(csv_data, "_check_size", lambda shown, size: None)
    data = read_csv_bytes(p)
    assert len(data) == 11
    monkeypatch.undo()
    monkeypatch.setattr(csv_data, "MAX_FILE_BYTES", 10)
    assert str(error(p)) == f"{p}: is {len(GOOD)} bytes; the limit is 10 bytes"


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "MAX_ROWS", 4)
    p = write(tmp_path, GOOD)
    assert str(error(p)) == f"{p}: line 6: more than 4 data rows; the limit is 4"


def test_a_wide_header_over_blank_lines_reserves_no_more_than_the_bytes_hold(tmp_path, monkeypatch):
    # 1,000 columns, then 200,000 blank lines: a buffer sized by lines would be 1.6 GB.
    p = write(tmp_path, ",".join(f"c{j}" for j in range(1000)) + "\n" * 200_001)
    shapes = []
    real_empty = np.empty

    def watch(shape, *args, **kw):
        shapes.append(shape)
        return real_empty(shape, *args, **kw)

    monkeypatch.setattr(csv_data.np, "empty", watch)
    assert str(error(p)) == f"{p}: has a header but no data rows"
    assert max(rows * cols for rows, cols in (s for s in shapes if isinstance(s, tuple) and len(s) == 2)) \
        <= (p.stat().st_size // 2000 + 1) * 999


def test_column_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "MAX_COLUMNS", 2)
    p = write(tmp_path, GOOD)
    assert str(error(p)) == f"{p}: line 1: has 3 columns; the limit is 2"


def test_unparseable_csv_is_a_data_error(tmp_path):
    p = write(tmp_path, "a,b,y\n1,2," + "x" * (csv.field_size_limit() + 1) + "\n")
    assert "cannot parse the CSV" in str(error(p))


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5, float("nan"), "0.3", True])
def test_bad_test_fraction(tmp_path, fraction):
    p = write(tmp_path, GOOD)
    assert "test_fraction must be a number between 0 and 1" in str(error(p, test_fraction=fraction))


def test_subsample_larger_than_available(tmp_path):
    p = write(tmp_path, GOOD)  # 6 rows: 4 train, 2 test
    assert str(error(p, train_size=5)) == f"{p}: train_size 5 is more than the 4 training rows available"
    assert str(error(p, test_size=3)) == f"{p}: test_size 3 is more than the 2 test rows available"


def test_subsample_too_small_for_every_class(tmp_path):
    p = write(tmp_path, GOOD)
    assert str(error(p, train_size=3)) == f"{p}: train_size must be an integer of at least 4, got 3"
    assert str(error(p, test_size=0)) == f"{p}: test_size must be an integer of at least 1, got 0"


def test_bad_task(tmp_path):
    assert "task must be one of classification, regression" in str(error(write(tmp_path, GOOD), task="rank"))


def test_test_file_with_an_unknown_class(tmp_path):
    train = write(tmp_path, GOOD, "train.csv")
    test = write(tmp_path, "a,b,y\n1,2,u\n3,4,w\n", "test.csv")
    with pytest.raises(CsvDataError) as info:
        load(train, test_path=test)
    assert str(info.value) == f"{test}: line 3, column 3 (y): class 'w' is not in the training data (classes: u, v)"


def test_test_file_with_other_columns(tmp_path):
    train = write(tmp_path, GOOD, "train.csv")
    test = write(tmp_path, "a,c,y\n1,2,u\n", "test.csv")
    with pytest.raises(CsvDataError) as info:
        load(train, test_path=test)
    assert str(info.value) == f"{test}: line 1, column 2: column 'c' where the training file {train} has 'b'"


# --- delimiters ----------------------------------------------------------------------------


@pytest.mark.parametrize("sep, word", [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_are_detected(tmp_path, sep, word):
    comma = read_csv_table(write(tmp_path, GOOD, "comma.csv"))
    other = read_csv_table(write(tmp_path, GOOD.replace(",", sep), f"{word}.csv"))
    assert other.delimiter == sep and comma.delimiter == ","
    assert other.column_names == comma.column_names
    np.testing.assert_array_equal(other.features, comma.features)


def test_a_ragged_row_names_a_detected_separator(tmp_path):
    p = write(tmp_path, "a;b;y\n1;2;u\n3;4;5;u\n")
    assert str(error(p)) == f"{p}: line 3: 4 cells, expected 3 (as on line 1; cells separated by semicolons)"


def test_a_cell_holding_another_separator_names_both(tmp_path):
    # every row splits into 3 cells on commas as well as on semicolons: read as commas
    p = write(tmp_path, "1,5;2,5;u\n3,5;4,5;v\n")
    assert str(error(p)).startswith(f"{p}: line 1, column 2: '5;2' is not a number (the file was read as "
                                    f"comma-separated and this cell holds a semicolon), but other cells")
    p = write(tmp_path, "x,y;z,w\n1,5;2,5;u\n3,5;4,5;v\n", "h.csv")
    assert str(error(p)) == (f"{p}: line 2, column 2 (y;z): '5;2' is not a number (the file was read as "
                             f"comma-separated and this cell holds a semicolon)")


def test_decimal_comma_is_named(tmp_path):
    p = write(tmp_path, "a;b;y\n1,5;2;u\n")
    assert str(error(p)) == f"{p}: line 2, column 1 (a): '1,5' is not a number (a decimal comma? write 1.5)"


def test_quoted_cells_and_crlf(tmp_path):
    p = write(tmp_path, 'a,b,y\r\n"1.5",2,"Iris, setosa"\r\n3,4,"Iris, setosa"\r\n5,6,v\r\n7,8,v\r\n9,9,v\r\n'
                        '1,1,"Iris, setosa"\r\n')
    d = load(p)
    assert d.class_names == ("Iris, setosa", "v")


# --- accepted files ------------------------------------------------------------------------


def test_string_labels_are_sorted_as_strings(tmp_path):
    rows = "".join(f"{i},{lab}\n" for i, lab in enumerate(["pear", "apple", "fig"] * 3))
    d = load(write(tmp_path, "x,fruit\n" + rows))
    assert d.class_names == ("apple", "fig", "pear") and d.n_classes == 3
    # class index = position in the sorted names, whatever order the file shows them in
    table = read_csv_table(tmp_path / "d.csv")
    expected = [["apple", "fig", "pear"].index(lab) for lab in ["pear", "apple", "fig"] * 3]
    assert table.class_indices().tolist() == expected


def test_integer_labels_are_sorted_numerically(tmp_path):
    labels = ["10", "9", "-1", "2"] * 3 + ["09", " 2 "]  # '09' is the class 9, ' 2 ' the class 2
    rows = "".join(f"{i},{lab}\n" for i, lab in enumerate(labels))
    d = load(write(tmp_path, rows))
    assert d.class_names == ("-1", "2", "9", "10")
    table = read_csv_table(tmp_path / "d.csv")
    assert table.class_indices().tolist() == [["-1", "2", "9", "10"].index(str(int(s))) for s in labels]


def test_two_classes_and_three_classes(tmp_path):
    assert load(write(tmp_path, GOOD, "two.csv")).n_classes == 2
    three = GOOD + "13,14,w\n15,16,w\n17,18,w\n"
    assert load(write(tmp_path, three, "three.csv")).n_classes == 3


def test_header_detection(tmp_path):
    with_header = read_csv_table(write(tmp_path, GOOD, "h.csv"))
    assert with_header.has_header and with_header.column_names == ("a", "b", "y") and with_header.n_rows == 6
    without = read_csv_table(write(tmp_path, GOOD.split("\n", 1)[1], "n.csv"))
    assert not without.has_header and without.column_names == ("x1", "x2", "y") and without.n_rows == 6
    np.testing.assert_array_equal(with_header.features, without.features)
    # numeric-looking labels do not make the first row data when its feature cells are text
    numeric_label = read_csv_table(write(tmp_path, "a,b,3\n1,2,3\n", "q.csv"))
    assert numeric_label.has_header and numeric_label.n_rows == 1


def test_label_by_name(tmp_path):
    p = write(tmp_path, "a,kind,b\n1,u,10\n2,u,20\n3,u,30\n4,v,40\n5,v,50\n6,v,60\n")
    table = read_csv_table(p, label="kind")
    assert table.feature_names == ("a", "b") and table.label_name == "kind"
    np.testing.assert_array_equal(table.features[:, 1], [10, 20, 30, 40, 50, 60])
    d = load(p, label="kind")
    assert d.class_names == ("u", "v") and d.n_features == 2


def test_blank_and_all_empty_rows_are_skipped(tmp_path):
    d = read_csv_table(write(tmp_path, GOOD.replace("\n5,6,u\n", "\n\n,,\n5,6,u\n") + "\n\n"))
    assert d.n_rows == 6


def test_standardisation_uses_training_statistics_only(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 3.0, (60, 3)).round(3)
    rows = "".join(f"{a},{b},{c},{'uv'[i % 2]}\n" for i, (a, b, c) in enumerate(x))
    p = write(tmp_path, "a,b,c,y\n" + rows)
    d = load(p)
    table = read_csv_table(p)
    raw_train = d.x_train * d.std + d.mean
    # the recorded statistics are those of the training rows, recovered from the raw table
    np.testing.assert_allclose(d.mean, raw_train.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(d.std, raw_train.std(axis=0), atol=1e-12)
    assert not np.allclose(d.mean, table.features.mean(axis=0))  # not the whole file's mean
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0), 1, atol=1e-12)
    assert np.all(np.abs(d.x_test.mean(axis=0)) > 1e-6)  # the test split is not re-centred
    # every raw row is either a training or a test row, unchanged by the round trip
    raw = np.concatenate([raw_train, d.x_test * d.std + d.mean])
    np.testing.assert_allclose(np.sort(raw, axis=0), np.sort(table.features, axis=0), atol=1e-9)


def test_constant_column_is_centred_not_divided(tmp_path):
    rows = "".join(f"{i},7.25,{'uv'[i % 2]}\n" for i in range(10))
    d = load(write(tmp_path, "a,k,y\n" + rows))
    assert d.constant_features == ("k",) and d.std[1] == 1.0 and d.mean[1] == 7.25
    assert np.all(d.x_train[:, 1] == 0) and np.all(d.x_test[:, 1] == 0)
    assert np.isfinite(d.x_train).all()
    assert "constant, centred only: k" in d.summary()


def test_split_is_stratified_and_sized(tmp_path):
    d = load(IRIS)
    assert len(d.x_test) == round(DEFAULT_TEST_FRACTION * 150) == 45
    assert np.bincount(d.y_train).tolist() == [35, 35, 35] and np.bincount(d.y_test).tolist() == [15, 15, 15]
    d = load(IRIS, test_fraction=0.1)
    assert len(d.x_test) == 15 and np.bincount(d.y_test).tolist() == [5, 5, 5]


def test_split_is_deterministic_for_a_seed(tmp_path):
    a, b, c = load(IRIS, seed=7), load(IRIS, seed=7), load(IRIS, seed=8)
    for name in ("x_train", "y_train", "x_test", "y_test", "mean", "std"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.x_train, c.x_train)

    def raw_test_rows(d):
        return sorted(map(tuple, np.round(d.x_test * d.std + d.mean, 6).tolist()))

    assert raw_test_rows(a) != raw_test_rows(c)  # other rows drawn for testing, not just reordered


def test_replay_from_embedded_text_gives_the_same_dataset():
    data = read_csv_bytes(IRIS)
    embedded = data.decode("utf-8")  # what a recording would store for a small file
    table = parse_csv_bytes(embedded.encode("utf-8"), "iris.csv")
    assert table.sha256 == hashlib.sha256(IRIS.read_bytes()).hexdigest()
    replayed = split_table(table, rng=np.random.default_rng(11))
    original = load(IRIS, seed=11)
    np.testing.assert_array_equal(replayed.x_train, original.x_train)
    np.testing.assert_array_equal(replayed.y_test, original.y_test)


def test_separate_test_file(tmp_path):
    train = write(tmp_path, GOOD, "train.csv")
    test = write(tmp_path, "a,b,y\n100,200,v\n0,0,u\n", "test.csv")
    d = load(train, test_path=test)
    assert len(d.x_train) == 6 and len(d.x_test) == 2
    assert d.test_source == str(test) and d.test_sha256 == hashlib.sha256(test.read_bytes()).hexdigest()
    # standardised with the training file's statistics
    np.testing.assert_allclose(d.mean, [6, 7])
    raw_test = d.x_test * d.std + d.mean
    order = np.argsort(raw_test[:, 0])
    np.testing.assert_allclose(raw_test[order], [[0, 0], [100, 200]])
    assert d.y_test[order].tolist() == [0, 1]
    # a test file may hold only some of the classes
    only_v = write(tmp_path, "a,b,y\n1,1,v\n", "only_v.csv")
    assert load(train, test_path=only_v).y_test.tolist() == [1]


def test_separate_test_file_with_integer_labels(tmp_path):
    train = write(tmp_path, "1,0\n2,0\n3,1\n4,1\n", "train.csv")
    test = write(tmp_path, "5,01\n6,0\n", "test.csv")
    d = load(train, test_path=test)
    assert sorted(d.y_test.tolist()) == [0, 1]


def test_subsampling(tmp_path):
    d = load(IRIS, train_size=30, test_size=12)
    assert len(d.x_train) == 30 and len(d.x_test) == 12
    assert np.bincount(d.y_train).tolist() == [10, 10, 10] and np.bincount(d.y_test).tolist() == [4, 4, 4]
    # the subsample comes from the same split as the full sets (same seed): a subset of each
    full = load(IRIS)

    def raw_rows(x, ds):
        return {tuple(r) for r in np.round(x * ds.std + ds.mean, 6).tolist()}

    assert raw_rows(d.x_train, d) <= raw_rows(full.x_train, full)
    assert raw_rows(d.x_test, d) <= raw_rows(full.x_test, full)


def test_regression(tmp_path):
    rows = "".join(f"{i},{i * i},{0.5 * i - 3}\n" for i in range(20))
    d = load(write(tmp_path, "a,b,target\n" + rows), task="regression")
    assert d.task == "regression" and d.n_classes == 0 and d.class_names == ()
    assert d.y_train.dtype == np.float64 and len(d.y_train) + len(d.y_test) == 20
    raw_a = np.round(d.x_train[:, 0] * d.std[0] + d.mean[0]).astype(int)
    scale = d.target_scale
    assert scale is not None and scale.name == "target"
    # targets matched to their rows, standardised with the training rows' mean and std
    raw_train = 0.5 * raw_a - 3
    assert scale.mean == pytest.approx(raw_train.mean()) and scale.std == pytest.approx(raw_train.std())
    np.testing.assert_allclose(d.y_train, (raw_train - raw_train.mean()) / raw_train.std())
    np.testing.assert_allclose(scale.to_units(d.y_train), raw_train)
    assert "regression on target (standardised: mean " in d.summary()


def test_classification_has_no_target_scale():
    assert load(IRIS).target_scale is None


def test_regression_target_is_standardised_with_the_training_split_only(tmp_path):
    """As the features: the training rows' mean and std, applied to the test rows too (not re-centred),
    so the test targets keep whatever offset they have from training."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, 80)
    y = 50_000 + 15_000 * np.sin(x) + rng.normal(0, 2_000, 80)
    p = write(tmp_path, "x,price\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    d = load(p, task="regression")
    np.testing.assert_allclose(d.y_train.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(d.y_train.std(), 1, atol=1e-12)
    assert abs(d.y_test.mean()) > 1e-6  # the test split is not re-centred
    raw_test = d.target_scale.to_units(d.y_test)
    raw_train = d.target_scale.to_units(d.y_train)
    assert not np.isclose(d.target_scale.mean, y.mean())  # the training rows', not the file's
    np.testing.assert_allclose(np.sort(np.concatenate([raw_train, raw_test])), np.sort(y), rtol=1e-12)
    # a separate test file: every training row sets the scale, the test file's targets follow it
    q = write(tmp_path, "x,price\n1.0,80000\n2.0,20000\n", "test.csv")
    d = load(p, task="regression", test_path=q)
    assert d.target_scale.mean == pytest.approx(y.mean()) and d.target_scale.std == pytest.approx(y.std())
    np.testing.assert_allclose(np.sort(d.target_scale.to_units(d.y_test)), [20000, 80000])


def test_regression_target_in_float32_is_standardised_before_rounding(tmp_path):
    # 1e8 + small steps: float32 cannot even hold the raw values apart (its spacing there is 8),
    # but the standardised values are ordinary numbers.
    rows = "".join(f"{i},{100_000_000 + i}\n" for i in range(30))
    d = load(write(tmp_path, "a,t\n" + rows), task="regression", dtype=np.float32)
    assert d.y_train.dtype == np.float32
    assert len(np.unique(d.y_train)) == len(d.y_train)
    np.testing.assert_allclose(d.y_train.std(), 1, rtol=1e-6)


def test_a_constant_target_is_refused_in_one_line(tmp_path):
    rows = "".join(f"{i},50000\n" for i in range(12))
    p = write(tmp_path, "size,price\n" + rows)
    assert str(error(p, task="regression")) == (
        f"{p}: column 2 (price): every row has the target 50000: regression needs a target that varies")
    # without a header the column has no name; a separate test file does not rescue it
    p = write(tmp_path, rows, "bare.csv")
    assert str(error(p, task="regression", test_path=p)) == (
        f"{p}: column 2: every row has the target 50000: regression needs a target that varies")


def test_a_target_constant_in_the_training_split_only_is_refused(tmp_path):
    # Four rows of 1.5 and one of 2.5: the split (3 training rows, 2 test) leaves the odd one out
    # of training for some seeds.
    rows = "".join(f"{i},1.5\n" for i in range(4)) + "4,2.5\n"
    p = write(tmp_path, "a,t\n" + rows)
    seen = set()
    for seed in range(20):
        try:
            d = load(p, seed=seed, task="regression")
        except CsvDataError as e:
            assert str(e) == (f"{p}: column 2 (t): the 3 training rows all have the target 1.5: regression "
                              f"needs a target that varies in training (add rows, or draw another split)")
            seen.add("refused")
        else:
            assert d.target_scale is not None and d.target_scale.std > 0
            seen.add("trained")
    assert seen == {"refused", "trained"}


def test_targets_too_large_to_standardise(tmp_path):
    rows = "".join(f"{i},{(-1) ** i * 1e300}\n" for i in range(12))
    p = write(tmp_path, "a,t\n" + rows)
    assert str(error(p, task="regression")) == (
        f"{p}: column 2 (t): targets too large to standardise (they overflow float64 when squared)")


def test_regression_needs_numeric_targets(tmp_path):
    p = write(tmp_path, "a,t\n1,2.5\n2,high\n")
    assert str(error(p, task="regression")) == (f"{p}: line 3, column 2 (t): 'high' is not a number "
                                                f"(a regression target must be a number)")
    p = write(tmp_path, "a,t\n1,2.5\n2,nan\n", "nan.csv")
    assert "is not a finite number" in str(error(p, task="regression"))


def test_float32(tmp_path):
    d = load(IRIS, dtype=np.float32)
    assert d.x_train.dtype == np.float32 and d.x_test.dtype == np.float32
    assert np.issubdtype(d.y_train.dtype, np.integer)


def test_iris():
    d = load(IRIS)
    assert isinstance(d, Dataset)
    assert d.n_classes == 3 and d.class_names == ("setosa", "versicolor", "virginica")
    assert d.feature_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert d.label_name == "species" and d.name == "iris.csv"
    assert len(d.x_train) + len(d.x_test) == 150
    table = read_csv_table(IRIS)
    assert table.n_rows == 150 and np.bincount(table.class_indices()).tolist() == [50, 50, 50]
    assert table.features[0].tolist() == [5.1, 3.5, 1.4, 0.2] and table.raw_labels[0] == "setosa"
    assert table.features[-1].tolist() == [5.9, 3.0, 5.1, 1.8]
    assert d.sha256 == hashlib.sha256(IRIS.read_bytes()).hexdigest()


def test_iris_petals_is_iris_columns_3_and_4():
    petals, iris = read_csv_table(IRIS_PETALS), read_csv_table(IRIS)
    assert petals.feature_names == ("petal_length", "petal_width")
    np.testing.assert_array_equal(petals.features, iris.features[:, 2:])
    np.testing.assert_array_equal(petals.class_indices(), iris.class_indices())
    assert load(IRIS_PETALS).n_features == 2


# --- properties ----------------------------------------------------------------------------


LABEL_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " _-.'\"", min_size=1, max_size=8).filter(
    lambda s: s == s.strip() and any(ch.isalpha() for ch in s)
)


@st.composite
def tables(draw):
    n_features = draw(st.integers(1, 5))
    n_classes = draw(st.integers(2, 5))
    if draw(st.booleans()):
        names = draw(st.lists(st.integers(-999, 999), min_size=n_classes, max_size=n_classes, unique=True))
        labels = [str(v) for v in names]
        expected = tuple(str(v) for v in sorted(names))
    else:
        labels = draw(st.lists(LABEL_TEXT, min_size=n_classes, max_size=n_classes, unique=True))
        expected = tuple(sorted(labels))
    counts = draw(st.lists(st.integers(3, 12), min_size=n_classes, max_size=n_classes))
    y = np.repeat(np.arange(n_classes), counts)
    y = y[draw(st.permutations(range(len(y))))]
    # Features on a 0.01 grid, so rows stay distinguishable after a standardise/unstandardise
    # round trip and can be matched exactly.
    cents = draw(st.lists(st.lists(st.integers(-10**6, 10**6), min_size=n_features, max_size=n_features),
                          min_size=len(y), max_size=len(y)))
    return dict(cents=np.array(cents, np.int64), y=y, labels=labels, expected=expected,
                header=draw(st.booleans()), sep=draw(st.sampled_from([",", ";", "\t"])),
                fraction=draw(st.floats(0.1, 0.5)), seed=draw(st.integers(0, 2**32 - 1)))


def render(t) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=t["sep"], lineterminator="\n")
    n_features = t["cents"].shape[1]
    if t["header"]:
        writer.writerow([f"f{j}" for j in range(n_features)] + ["label"])
    for row, c in zip(t["cents"].tolist(), t["y"].tolist()):
        writer.writerow([repr(v / 100) for v in row] + [t["labels"][c]])
    return out.getvalue().encode("utf-8")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_any_well_formed_table_loads_and_round_trips(t):
    data = render(t)
    table = parse_csv_bytes(data, "gen.csv")
    d = split_table(table, test_fraction=t["fraction"], rng=np.random.default_rng(t["seed"]))
    n, n_features = t["cents"].shape
    assert table.has_header == t["header"] and table.delimiter == t["sep"]
    assert d.class_names == t["expected"] and d.n_classes == len(t["labels"])
    assert d.n_features == n_features and len(d.x_train) + len(d.x_test) == n
    assert len(d.x_test) >= 1
    # generated integer labels are written canonically, so the file's labels are the class names
    file_labels = [t["labels"][c] for c in t["y"]]
    y_all = np.concatenate([d.y_train, d.y_test])
    assert np.bincount(y_all, minlength=d.n_classes).tolist() == [file_labels.count(c) for c in d.class_names]
    assert np.bincount(d.y_train, minlength=d.n_classes).min() >= MIN_TRAIN_PER_CLASS
    # standardised with the training split's statistics
    spread = np.ptp(d.x_train, axis=0) > 0
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(d.x_train.std(axis=0)[spread], 1, rtol=1e-9)
    assert np.all(d.std[~spread] == 1.0)
    # round trip: the rows and their labels, as a multiset, are the file's
    raw = np.concatenate([d.x_train, d.x_test]) * d.std + d.mean
    got = [(*row, d.class_names[c]) for row, c in zip(np.rint(raw * 100).astype(np.int64).tolist(), y_all)]
    want = [(*row, label) for row, label in zip(t["cents"].tolist(), file_labels)]
    assert sorted(got) == sorted(want)


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    st.text(alphabet="0123456789.,;\t\n\r\"ab-e x\x00", max_size=200).map(lambda s: s.encode("utf-8")),
))
def test_any_bytes_load_or_raise_a_one_line_data_error(data):
    try:
        table = parse_csv_bytes(data, "fuzz.csv")
        split_table(table, rng=np.random.default_rng(0))
    except CsvDataError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz.csv: ")
