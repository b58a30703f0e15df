"""Bring your own data: a CSV file of numeric features and one label column, as a ``Dataset``.

Reading is split in three steps so a recording can replay the same run elsewhere:

1. ``read_csv_bytes(path)`` checks the file (a regular file, within ``MAX_FILE_BYTES``) and returns
   its bytes; their SHA-256 identifies the file.
2. ``parse_csv_bytes(data, name)`` turns those bytes into a ``CsvTable`` (the parsed, checked rows).
   The same bytes always give the same table, so a recording may embed small files' bytes (as
   UTF-8 text: the loader only accepts UTF-8, so ``data.decode("utf-8")`` round-trips exactly) or
   keep only the SHA-256 and check it against the file it is given on replay.
3. ``split_table(table, rng=...)`` splits, subsamples and standardises; the same table and the same
   generator state give bit-identical arrays.

``load_csv(path, ...)`` does all three. Every problem with a file or an argument raises
``CsvDataError`` with a one-line message naming the file and, where it applies, the line and column.

Format rules (the README documents these):

- Cells are separated by commas; a file whose records split consistently on semicolons or tabs
  (and not on commas) is read with that separator. Quoting follows the ``csv`` module's defaults.
- Text must be UTF-8; a UTF-8 byte-order mark is skipped. UTF-16/UTF-32 and binary files are refused.
- Blank lines (and lines whose cells are all empty) are skipped.
- The first row is a header when none of its feature cells is a number, data when all of them are;
  a mix is an error (either a header with a numeric name or a data row with a typo: we cannot tell).
- The label is the last column, or the header column named by ``label=``.
- Classification: the classes are the distinct labels (stripped of surrounding spaces). When every
  label is an integer they are compared and sorted as integers (``01`` and ``1`` are one class),
  otherwise sorted as strings; class index = position in that order. 2 to ``MAX_CLASSES`` classes.
- Regression: the label is a finite number, the target. ``split_table`` standardises it with the
  training split's mean and standard deviation, as it does the features, so that training behaves
  the same whatever the target's units; a target constant in training is an error.
"""

from __future__ import annotations

import array
import csv
import hashlib
import io
import math
import os
import re
import stat
from dataclasses import dataclass

import numpy as np

from .data import Dataset, TargetScale

# Limits. They keep a wrong file (a log, a database dump) from filling memory and are far above
# anything a 2-core machine trains at interactive speed. A 50 MB file parses in a few seconds.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 1_000
MAX_CLASSES = 20

DEFAULT_TEST_FRACTION = 0.3
# Standardisation needs two distinct rows to have a spread, and a class with one training example
# cannot be learned beyond memorising it, so every class (or, for regression, the whole training
# split) keeps at least this many training rows.
MIN_TRAIN_PER_CLASS = 2
MIN_TEST_ROWS = 1

TASKS = ("classification", "regression")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
# How many records the separator detection looks at. Enough to see ragged rows near the top,
# few enough that detecting costs nothing next to the parse.
_SNIFF_RECORDS = 50
_MAX_SHOWN_COLUMNS = 12
_CHUNK_ROWS = 8192


class CsvDataError(ValueError):
    """A CSV file (or an argument for loading one) that cannot be used.

    ``str()`` is one line: ``FILE: line L, column C (NAME): REASON``, with the line, column and name
    parts left out where they do not apply. The parts are also attributes, for a UI that wants to
    point at the cell: ``path`` (str), ``line`` (1-based physical line, or None), ``column``
    (1-based, or None), ``column_name`` (header name, or None) and ``reason``.
    """

    def __init__(self, path, reason: str, *, line: int | None = None, column: int | None = None,
                 column_name: str | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.column_name = column_name
        self.reason = " ".join(str(reason).split())  # one line, whatever a cell contained
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}" + (f" ({_short(column_name)})" if column_name else ""))
        prefix = f"{self.path}: " + (", ".join(where) + ": " if where else "")
        super().__init__(prefix + self.reason)

    def __reduce__(self):
        # Raised in a sweep's worker process, the error travels back pickled; the default would
        # call __init__ with the whole message only.
        return (_csv_data_error, (self.path, self.reason, self.line, self.column, self.column_name))


def _csv_data_error(path, reason, line, column, column_name) -> CsvDataError:
    return CsvDataError(path, reason, line=line, column=column, column_name=column_name)


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed, checked CSV file, before any split.

    ``features``: (rows, n_features) float64, raw (not standardised). ``label_codes``: (rows,) int64
    index into ``raw_labels`` (the distinct stripped label strings in first-seen order) for
    classification; ``targets``: (rows,) float64 for regression (the other is None). ``lines``:
    (rows,) int64, the physical line each row starts on, for error messages. ``column_names``
    are the header names, or ``x1, x2, ...`` with ``y`` for the label when there is no header.
    """

    name: str
    sha256: str
    n_bytes: int
    delimiter: str
    has_header: bool
    column_names: tuple[str, ...]
    label_index: int
    task: str
    features: np.ndarray
    label_codes: np.ndarray | None
    raw_labels: tuple[str, ...]
    targets: np.ndarray | None
    lines: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.features.shape[0]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(n for i, n in enumerate(self.column_names) if i != self.label_index)

    @property
    def label_name(self) -> str:
        return self.column_names[self.label_index]

    @property
    def integer_labels(self) -> bool:
        """Whether every label is an integer, so classes compare and sort as numbers."""
        return bool(self.raw_labels) and all(_as_int(s) is not None for s in self.raw_labels)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Classification: the classes in index order (integers sorted numerically and written
        canonically, else strings sorted). Regression: ()."""
        if self.task != "classification":
            return ()
        if self.integer_labels:
            return tuple(str(v) for v in sorted({_as_int(s) for s in self.raw_labels}))
        return tuple(sorted(set(self.raw_labels)))

    def class_indices(self, class_names: tuple[str, ...] | None = None, *, path=None) -> np.ndarray:
        """(rows,) int64 class index of every row, against ``class_names`` (default: this table's own).

        Raises CsvDataError (naming ``path``, default the table's name) at the first row whose
        label is not one of ``class_names``: used to map a separate test file onto the training
        file's classes.
        """
        own = self.class_names
        names = own if class_names is None else tuple(class_names)
        integer = all(_as_int(s) is not None for s in names)
        position = {(_as_int(s) if integer else s): i for i, s in enumerate(names)}
        code_to_class = np.empty(len(self.raw_labels), np.int64)
        for code, raw in enumerate(self.raw_labels):
            key = _as_int(raw) if integer else raw
            if key not in position:
                row = int(np.flatnonzero(self.label_codes == code)[0])
                raise CsvDataError(
                    path or self.name, f"class {_short(raw)!r} is not in the training data "
                    f"(classes: {_list(names)})", line=int(self.lines[row]), column=self.label_index + 1,
                    column_name=self.label_name if self.has_header else None,
                )
            code_to_class[code] = position[key]
        return code_to_class[self.label_codes]


@dataclass(frozen=True, kw_only=True)
class CsvDataset(Dataset):
    """A ``Dataset`` from a CSV file, with what a recording and the UI need to know about it.

    Arrays as in ``Dataset``: ``x_train`` (n_train, n_features) and ``x_test`` (n_test, n_features)
    standardised with the training split's ``mean``/``std`` (n_features,) float64, in ``dtype``;
    ``y_train``/``y_test`` int64 class indices (classification) or, for regression (``n_classes``
    0), the targets standardised with the training split's target mean and std, in ``dtype``;
    ``target_scale`` (``core.data.TargetScale``) holds those two numbers and takes the network's
    outputs back to the target's units. ``constant_features`` names the columns whose training
    values are all equal: their ``std`` is recorded as 1.0, so they are centred and not divided.
    ``name`` is the file's base name (for display); ``source``/``sha256`` are the path as given and
    the SHA-256 of its bytes, ``test_source``/``test_sha256`` the same for the separate test file
    (None when the test split was drawn from the one file).
    """

    task: str
    source: str
    sha256: str
    test_source: str | None
    test_sha256: str | None
    feature_names: tuple[str, ...]
    label_name: str
    class_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    constant_features: tuple[str, ...]

    def summary(self) -> str:
        """One line for a status bar or the CLI, e.g.
        ``iris.csv: 4 features, 3 classes (setosa, versicolor, virginica); 105 train / 45 test``."""
        if self.task == "classification" or self.target_scale is None:
            kind = f"{self.n_classes} classes ({_list(self.class_names)})"
        else:
            t = self.target_scale
            kind = f"regression on {self.label_name} (standardised: mean {t.mean:.6g}, std {t.std:.6g})"
        text = (f"{self.name}: {_plural(self.n_features, 'feature')}, {kind}; "
                f"{len(self.x_train)} train / {len(self.x_test)} test")
        if self.constant_features:
            text += f"; constant, centred only: {_list(self.constant_features)}"
        return text


# ---------------------------------------------------------------------------------------------
# Step 1: the bytes.


def read_csv_bytes(path) -> bytes:
    """The bytes of the file at ``path`` (str or os.PathLike), after checking it can be a CSV file.

    The size is checked with ``os.stat`` before anything is read, and reading stops one byte past
    ``MAX_FILE_BYTES`` (in case the file grew). Raises CsvDataError when the file is missing,
    unreadable, a directory, not a regular file (a FIFO would block the reader, a device may never
    end), empty or larger than ``MAX_FILE_BYTES``.
    """
    shown = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CsvDataError(shown, "no such file") from None
    except OSError as e:
        raise CsvDataError(shown, f"cannot read it: {e.strerror or e}") from None
    _check_regular(shown, info)
    _check_size(shown, info.st_size)
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening still returns and
        # the fstat below refuses it, instead of waiting forever for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise CsvDataError(shown, f"cannot read it: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        _check_regular(shown, os.fstat(fd))
        try:
            data = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise CsvDataError(shown, f"cannot read it: {e.strerror or e}") from None
    _check_size(shown, len(data))
    return data


def _check_regular(shown: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise CsvDataError(shown, "is a directory, not a CSV file")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise CsvDataError(shown, f"is {kind}, not a regular file; save the data to a file first")


def _check_size(shown: str, size: int) -> None:
    if size == 0:
        raise CsvDataError(shown, "is empty")
    if size > MAX_FILE_BYTES:
        raise CsvDataError(shown, f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes")


# ---------------------------------------------------------------------------------------------
# Step 2: the table.


def parse_csv_bytes(data: bytes, name: str, *, label: str | None = None,
                    task: str = "classification") -> CsvTable:
    """Parse and check a CSV file's bytes; ``name`` is used in messages and as ``CsvTable.name``.

    ``label``: the header name of the label column (default: the last column). ``task``:
    ``"classification"`` (labels are classes) or ``"regression"`` (the label is a numeric target).
    Raises CsvDataError for anything that is not the format in this module's docstring, at the
    first offending line and column; never reads past ``MAX_ROWS`` data rows.
    """
    if task not in TASKS:
        raise CsvDataError(name, f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if label is not None and not isinstance(label, str):
        raise CsvDataError(name, f"label must be a column name, got {label!r}")
    _check_size(name, len(data))
    digest = hashlib.sha256(data).hexdigest()
    _check_text(data, name)
    delimiter = _detect_delimiter(data, name)
    lines_in_file = data.count(b"\n") + data.count(b"\r") + 1
    records = _records(csv.reader(_text(data), delimiter=delimiter), name)

    first = next(records, None)
    if first is None:
        raise CsvDataError(name, "has no rows (only blank lines)")
    line1, row1 = first
    n_columns = len(row1)
    if n_columns > MAX_COLUMNS:
        raise CsvDataError(name, f"has {n_columns:,} columns; the limit is {MAX_COLUMNS:,}", line=line1)
    if n_columns < 2:
        raise CsvDataError(name, "found 1 column; need at least one feature and a label, separated by "
                                 "commas (or semicolons or tabs)", line=line1)

    # The label column of a header row is known only once we know the row is a header, so with
    # label=NAME the candidate is the cell equal to NAME (if any), else the last column.
    stripped = [cell.strip() for cell in row1]
    label_index = stripped.index(label) if label in stripped else n_columns - 1
    feature_cols = [j for j in range(n_columns) if j != label_index]
    numeric = [_is_number(row1[j]) for j in feature_cols]
    has_header = not any(numeric)
    if any(numeric) and not all(numeric):
        j = feature_cols[numeric.index(False)]
        raise CsvDataError(
            name, f"{_short(row1[j])!r} is not a number{_separator_hint(row1[j], delimiter)}, but other "
                  f"cells of the first row are: a header must name every column with text, a data row "
                  f"must be all numbers",
            line=line1, column=j + 1,
        )
    if has_header:
        column_names = tuple(stripped)
        seen: dict[str, int] = {}
        for j, cell in enumerate(column_names):
            if not cell:
                raise CsvDataError(name, "empty column name in the header", line=line1, column=j + 1)
            if cell in seen:
                raise CsvDataError(name, f"duplicate column name {_short(cell)!r} (also column {seen[cell] + 1})",
                                   line=line1, column=j + 1)
            seen[cell] = j
        if label is not None and label not in seen:
            raise CsvDataError(name, f"label {_short(label)!r} is not a column; columns: {_list(column_names)}")
    else:
        if label is not None:
            raise CsvDataError(name, f"label {_short(label)!r} names a header column, but the first row is "
                                     f"data, not a header", line=line1)
        column_names = tuple(f"x{j + 1}" for j in feature_cols) + ("y",)

    n_features = len(feature_cols)
    # Sizing the buffer once avoids regrowing it. Rows are at most the lines, and at most what the
    # bytes can hold: a data row has a non-empty cell per column and a separator after each, so
    # 2 * n_columns bytes (the last row one fewer). The second bound keeps a wide header followed
    # by blank lines from reserving gigabytes.
    capacity = min(lines_in_file, MAX_ROWS, (len(data) + 1) // (2 * n_columns) + 1)
    features = np.empty((capacity, n_features), np.float64)
    # Parsed values collect in flat Python containers and move into the NumPy buffer a chunk at a
    # time: one row-sized NumPy assignment per row costs more than the parse itself.
    chunk: list[float] = []
    extend = chunk.extend
    lines = array.array("q")
    regression = task == "regression"
    labels: array.array = array.array("d" if regression else "q")
    label_code: dict[str, int] = {}
    label_is_last = label_index == n_columns - 1

    def bad_cell(line, j, what):
        return CsvDataError(name, what, line=line, column=j + 1,
                            column_name=column_names[j] if has_header else None)

    separated = "" if delimiter == "," else f"; cells separated by {DELIMITERS[delimiter]}s"
    n = done = 0
    rows = records if has_header else _chain_first(first, records)
    for line, row in rows:
        if len(row) != n_columns:
            raise CsvDataError(name, f"{_plural(len(row), 'cell')}, expected {n_columns} "
                                     f"(as on line {line1}{separated})", line=line)
        if n == MAX_ROWS:
            raise CsvDataError(name, f"more than {MAX_ROWS:,} data rows; the limit is {MAX_ROWS:,}", line=line)
        try:
            extend(map(float, row[:-1] if label_is_last else [row[j] for j in feature_cols]))
        except ValueError:
            j = next(j for j in feature_cols if not _is_number(row[j]))
            raise bad_cell(line, j, _not_a_number(row[j], delimiter)) from None
        cell = row[label_index].strip()
        if not cell:
            raise bad_cell(line, label_index, "missing label (empty cell)")
        if regression:
            try:
                value = float(cell)
            except ValueError:
                raise bad_cell(line, label_index,
                               _not_a_number(cell, delimiter) + " (a regression target must be a number)") from None
            if not math.isfinite(value):
                raise bad_cell(line, label_index, f"target {cell!r} is not a finite number")
            labels.append(value)
        else:
            code = label_code.get(cell)
            if code is None:
                code = label_code[cell] = len(label_code)
                if code == MAX_CLASSES:
                    raise bad_cell(line, label_index,
                                   f"more than {MAX_CLASSES} distinct labels, the limit on classes "
                                   f"(a numeric target? use --task regression)")
            labels.append(code)
        lines.append(line)
        n += 1
        if n - done == _CHUNK_ROWS:
            features[done:n] = np.array(chunk).reshape(-1, n_features)
            chunk.clear()
            done = n
    if n == 0:
        raise CsvDataError(name, "has a header but no data rows")
    features[done:n] = np.array(chunk).reshape(-1, n_features)
    features = features[:n]
    line_numbers = np.array(lines, np.int64)
    bad = ~np.isfinite(features)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = features[row, col]
        raise bad_cell(int(line_numbers[row]), feature_cols[col],
                       f"{'NaN' if np.isnan(value) else 'an infinite value'} is not allowed: features "
                       f"must be finite numbers (fill or drop missing values first)")
    raw_labels = tuple(label_code)
    return CsvTable(
        name=name, sha256=digest, n_bytes=len(data), delimiter=delimiter, has_header=has_header,
        column_names=column_names, label_index=label_index, task=task, features=features,
        label_codes=None if regression else np.array(labels, np.int64), raw_labels=raw_labels,
        targets=np.array(labels, np.float64) if regression else None, lines=line_numbers,
    )


def _text(data: bytes):
    """The bytes as a text stream, decoded as it is read: the parse never holds a second, decoded
    copy of a large file. Universal newlines are left to the csv module (``newline=""``)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _check_text(data: bytes, name: str) -> None:
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise CsvDataError(name, "is UTF-32 text: save it as UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvDataError(name, "is UTF-16 text: save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        # ASCII saved as UTF-16 without a byte-order mark has a NUL in every other byte.
        head = data[:4096]
        if head[0::2].count(0) > len(head) // 4 or head[1::2].count(0) > len(head) // 4:
            raise CsvDataError(name, "looks like UTF-16 text (no byte-order mark): save it as UTF-8")
        raise CsvDataError(name, f"contains a NUL byte (at byte {nul}): a binary file, not CSV text",
                           line=data.count(b"\n", 0, nul) + 1)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CsvDataError(name, f"byte 0x{data[e.start]:02x} is not UTF-8: save the file as UTF-8 text",
                           line=data.count(b"\n", 0, e.start) + 1) from None


def _records(reader, name: str):
    """(first physical line, cells) of each record, skipping blank lines and all-empty rows."""
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise CsvDataError(name, f"cannot parse the CSV: {e}", line=reader.line_num) from None
        start, line = line, reader.line_num + 1
        if row and (row[0] and not row[0].isspace() or any(cell.strip() for cell in row)):
            yield start, row


def _chain_first(first, rest):
    yield first
    yield from rest


def _detect_delimiter(data: bytes, name: str) -> str:
    """Comma, unless the first records do not split consistently on commas and do on semicolons or tabs.

    Consistent = at least 2 cells in the first record and the same number in each of the first
    ``_SNIFF_RECORDS`` records. When no separator is consistent, comma is kept if it splits the
    first record at all (the parse then reports the ragged row), else the separator that does.
    """
    splits = {}
    for delimiter in DELIMITERS:
        counts = []
        try:
            for _, row in _records(csv.reader(_text(data), delimiter=delimiter), name):
                counts.append(len(row))
                if len(counts) == _SNIFF_RECORDS:
                    break
        except CsvDataError:
            counts = counts or [0]
        splits[delimiter] = counts
        if counts and counts[0] >= 2 and len(set(counts)) == 1:
            return delimiter
    for delimiter, counts in splits.items():
        if counts and counts[0] >= 2:
            return delimiter
    return ","


# ---------------------------------------------------------------------------------------------
# Step 3: split, subsample, standardise.


def split_table(table: CsvTable, *, test_fraction: float = DEFAULT_TEST_FRACTION,
                test_table: CsvTable | None = None, train_size: int | None = None,
                test_size: int | None = None, rng: np.random.Generator, dtype=np.float64) -> CsvDataset:
    """Split ``table`` into training and test sets, optionally subsample them, and standardise.

    Split: with ``test_table`` None, ``round(test_fraction * rows)`` rows go to the test set (at
    least ``MIN_TEST_ROWS``, and at most as many as leave ``MIN_TRAIN_PER_CLASS`` training rows in
    every class), stratified: each class keeps its share (largest-remainder rounding), so no seed
    can leave a class out of training. Otherwise all of ``table`` trains and all of ``test_table``
    (same columns; its labels must be training classes) tests. Regression counts as one class.

    Subsample: ``train_size``/``test_size`` rows, stratified the same way (training keeps at least
    ``MIN_TRAIN_PER_CLASS`` per class); more than the split holds is an error.

    Standardise: x' = (x - mean) / std with the training split's mean and (population) std per
    feature, applied to both splits (LeCun, Bottou, Orr & Müller, "Efficient BackProp", 1998,
    §4.3: zero-mean, unit-variance inputs). A feature constant in training has std recorded as
    1.0: centred, not divided by zero. A regression target is standardised the same way with the
    training split's target mean and std (``CsvDataset.target_scale``): the gradient of the MSE is
    proportional to the target's scale, so at a given learning rate a target in the tens of
    thousands diverges where the same data in other units trains; standardised, the whole run
    (every loss, R², spread) is the same for any affine change of the target's units y → a·y + b,
    a > 0, up to rounding.

    Every random choice is drawn from ``rng`` in a fixed order, so the same table and generator
    state give the same arrays. Returns a ``CsvDataset`` with features in ``dtype`` (float64 or
    float32) and rows in random order. Raises CsvDataError for a bad fraction or size, too few
    rows, values too large to standardise, or a regression target constant in training (it has
    no spread to standardise by and nothing to fit).
    """
    name = table.name
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise CsvDataError(name, f"dtype must be float64 or float32, got {dtype}")
    regression = table.task == "regression"
    class_names = table.class_names
    n_classes = 1 if regression else len(class_names)
    if not regression and len(class_names) < 2:
        raise CsvDataError(name, f"every row has the label {_short(class_names[0])!r}: classification "
                                 f"needs at least 2 classes")
    y_all = np.zeros(table.n_rows, np.int64) if regression else table.class_indices()

    if test_table is None:
        if not (isinstance(test_fraction, (int, float)) and not isinstance(test_fraction, bool)
                and 0 < test_fraction < 1):
            raise CsvDataError(name, f"test_fraction must be a number between 0 and 1 (exclusive), "
                                     f"got {test_fraction!r}")
        counts = np.bincount(y_all, minlength=n_classes)
        _check_per_class(name, counts, class_names, regression)
        most = table.n_rows - MIN_TRAIN_PER_CLASS * n_classes
        n_test = min(max(math.floor(test_fraction * table.n_rows + 0.5), MIN_TEST_ROWS), most)
        if n_test < MIN_TEST_ROWS:
            need = (f"{MIN_TRAIN_PER_CLASS} training rows" if regression else
                    f"{MIN_TRAIN_PER_CLASS} training rows in each of {n_classes} classes")
            raise CsvDataError(name, f"{table.n_rows} rows are too few to split: need {MIN_TEST_ROWS} test "
                                     f"row and {need}; add rows or give a separate test file")
        train_counts = _allocate(counts, table.n_rows - n_test, MIN_TRAIN_PER_CLASS)
        train_idx, test_idx = [], []
        for c in range(n_classes):
            members = rng.permutation(np.flatnonzero(y_all == c))
            train_idx.append(members[:train_counts[c]])
            test_idx.append(members[train_counts[c]:])
        x_tr, x_te = table.features, table.features
        y_tr_all, y_te_all = y_all, y_all
        t_tr_all = t_te_all = table.targets
    else:
        _check_same_columns(table, test_table)
        x_tr, x_te = table.features, test_table.features
        y_tr_all = y_all
        y_te_all = (np.zeros(test_table.n_rows, np.int64) if regression
                    else test_table.class_indices(class_names))
        t_tr_all, t_te_all = table.targets, test_table.targets
        counts = np.bincount(y_all, minlength=n_classes)
        _check_per_class(name, counts, class_names, regression)
        train_idx = [rng.permutation(np.flatnonzero(y_all == c)) for c in range(n_classes)]
        test_idx = [rng.permutation(np.flatnonzero(y_te_all == c)) for c in range(n_classes)]

    train_idx = _subsample(name, "train_size", train_idx, train_size, MIN_TRAIN_PER_CLASS, "training")
    test_idx = _subsample(test_table.name if test_table is not None else name, "test_size", test_idx,
                          test_size, 0, "test")
    train_rows = rng.permutation(np.concatenate(train_idx))
    test_rows = rng.permutation(np.concatenate(test_idx))

    x_train, x_test = x_tr[train_rows], x_te[test_rows]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise CsvDataError(name, "values too large to standardise (they overflow float64 when squared)",
                           column=_file_column(table, j), column_name=table.feature_names[j])
    # A constant column's std can come out as a few ulps instead of 0 (the mean is rounded), and
    # dividing by that would turn rounding noise into unit-size features, so test for constancy
    # directly.
    constant = np.ptp(x_train, axis=0) == 0
    std[constant] = 1.0
    x_train = ((x_train - mean) / std).astype(dtype)
    x_test = ((x_test - mean) / std).astype(dtype)
    target_scale = None
    if regression:
        assert t_tr_all is not None and t_te_all is not None  # a regression table has targets
        t_train, t_test = t_tr_all[train_rows], t_te_all[test_rows]
        target_scale = _target_scale(table, t_train)
        # In float64, then cast: a float32 experiment gets the rounded standardised values, not
        # the standardisation of rounded raw values (50,000 ± 1 in float32 is already coarse).
        y_train = ((t_train - target_scale.mean) / target_scale.std).astype(dtype)
        y_test = ((t_test - target_scale.mean) / target_scale.std).astype(dtype)
    else:
        y_train, y_test = y_tr_all[train_rows], y_te_all[test_rows]
    features = table.feature_names
    return CsvDataset(
        name=os.path.basename(table.name) or table.name,
        x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
        n_classes=0 if regression else n_classes, task=table.task, source=table.name,
        sha256=table.sha256, test_source=None if test_table is None else test_table.name,
        test_sha256=None if test_table is None else test_table.sha256, feature_names=features,
        label_name=table.label_name, class_names=class_names, mean=mean, std=std,
        constant_features=tuple(n for n, c in zip(features, constant) if c), target_scale=target_scale,
    )


def _target_scale(table: CsvTable, targets: np.ndarray) -> TargetScale:
    """The training targets' mean and (population) std. A constant target is refused rather than
    centred only, as a constant feature is: a feature that never varies is harmless, but a
    target that never varies leaves nothing to fit, and its test MSE, R² and spread would all
    divide by a zero variance. Raises CsvDataError naming the file and the label column."""
    def refuse(reason: str) -> CsvDataError:
        return CsvDataError(table.name, reason, column=table.label_index + 1,
                            column_name=table.label_name if table.has_header else None)

    # Tested directly, as for the features: a rounded mean can leave a constant's std a few ulps
    # above 0.
    if np.ptp(targets) == 0:
        value = _number(float(targets[0]))
        assert table.targets is not None  # a regression table has targets
        if np.ptp(table.targets) == 0:
            raise refuse(f"every row has the target {value}: regression needs a target that varies")
        raise refuse(f"the {len(targets):,} training rows all have the target {value}: regression needs a "
                     f"target that varies in training (add rows, or draw another split)")
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported just below
        mean, std = float(targets.mean()), float(targets.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise refuse("targets too large to standardise (they overflow float64 when squared)")
    if std == 0:  # the differences underflow when squared
        raise refuse("the targets differ too little to standardise (their standard deviation is 0 in float64)")
    return TargetScale(table.label_name, mean, std)


def _check_per_class(name, counts, class_names, regression):
    for c, count in enumerate(counts):
        if count < MIN_TRAIN_PER_CLASS:
            rows = _plural(int(count), "row")
            what = f"{rows}" if regression else f"class {_short(class_names[c])!r} has {rows}"
            per = "" if regression else " per class"
            raise CsvDataError(name, f"{what}; training needs at least {MIN_TRAIN_PER_CLASS}{per}")


def _check_same_columns(table: CsvTable, test: CsvTable) -> None:
    if test.task != table.task:
        raise CsvDataError(test.name, f"was read for {test.task}, the training file for {table.task}")
    if len(test.column_names) != len(table.column_names):
        raise CsvDataError(test.name, f"has {len(test.column_names)} columns, the training file "
                                      f"{table.name} has {len(table.column_names)}")
    if table.has_header and test.has_header and test.column_names != table.column_names:
        j = next(j for j, (a, b) in enumerate(zip(test.column_names, table.column_names)) if a != b)
        raise CsvDataError(test.name, f"column {_short(test.column_names[j])!r} where the training file "
                                      f"{table.name} has {_short(table.column_names[j])!r}",
                           line=1, column=j + 1)
    if test.label_index != table.label_index:
        raise CsvDataError(test.name, f"the label is column {test.label_index + 1}, in the training file "
                                      f"column {table.label_index + 1}")


def _allocate(counts: np.ndarray, total: int, floor: int) -> np.ndarray:
    """Per-class counts summing to ``total``: each class gets min(floor, its count), and the rest
    is shared in proportion to what each class has left, by largest remainder (ties to the lower
    class index). Needs sum(min(floor, counts)) <= total <= sum(counts)."""
    counts = np.asarray(counts, np.int64)
    base = np.minimum(counts, floor)
    spare = counts - base
    rest = total - int(base.sum())
    if rest == 0 or spare.sum() == 0:
        return base
    quota = spare * rest / spare.sum()
    share = np.minimum(np.floor(quota).astype(np.int64), spare)
    left = rest - int(share.sum())
    order = np.lexsort((np.arange(len(counts)), -(quota - share)))
    for c in order:
        if left == 0:
            break
        if share[c] < spare[c]:
            share[c] += 1
            left -= 1
    return base + share


def _subsample(name, option, idx_per_class, size, floor, what):
    if size is None:
        return idx_per_class
    counts = np.array([len(i) for i in idx_per_class], np.int64)
    available = int(counts.sum())
    smallest = max(int(np.minimum(counts, floor).sum()), 1)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < smallest:
        raise CsvDataError(name, f"{option} must be an integer of at least {smallest}, got {size!r}")
    if size > available:
        raise CsvDataError(name, f"{option} {size:,} is more than the {available:,} {what} rows available")
    keep = _allocate(counts, int(size), floor)
    # Each class's indices are already in random order, so a prefix is a uniform random subset.
    return [i[:k] for i, k in zip(idx_per_class, keep)]


def _file_column(table: CsvTable, feature: int) -> int:
    return [j for j in range(len(table.column_names)) if j != table.label_index][feature] + 1


# ---------------------------------------------------------------------------------------------
# All three.


def read_csv_table(path, *, label: str | None = None, task: str = "classification") -> CsvTable:
    """``parse_csv_bytes(read_csv_bytes(path), str(path), ...)``: the checked table of a file."""
    return parse_csv_bytes(read_csv_bytes(path), os.fspath(path), label=label, task=task)


def load_csv(path, *, label: str | None = None, test_fraction: float = DEFAULT_TEST_FRACTION,
             test_path=None, train_size: int | None = None, test_size: int | None = None,
             rng: np.random.Generator, dtype=np.float64, task: str = "classification") -> CsvDataset:
    """Read, check, split and standardise the CSV file at ``path`` (see ``split_table`` for the
    split and this module's docstring for the format). ``test_path``: a second file with the same
    columns to test on instead of splitting off ``test_fraction``. Raises CsvDataError, with a
    one-line message naming the file (and line and column where they apply), for every problem."""
    table = read_csv_table(path, label=label, task=task)
    test_table = None if test_path is None else read_csv_table(test_path, label=label, task=task)
    return split_table(table, test_fraction=test_fraction, test_table=test_table,
                       train_size=train_size, test_size=test_size, rng=rng, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Helpers.


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _as_int(cell: str):
    try:
        return int(cell)
    except ValueError:
        return None


_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d*,\d+\s*")


def _not_a_number(cell: str, delimiter: str = ",") -> str:
    if not cell.strip():
        return "empty cell: features must be numbers (fill or drop missing values first)"
    if _DECIMAL_COMMA.fullmatch(cell):
        return f"{cell.strip()!r} is not a number (a decimal comma? write {cell.strip().replace(',', '.')})"
    return f"{_short(cell)!r} is not a number{_separator_hint(cell, delimiter)}"


def _separator_hint(cell: str, delimiter: str) -> str:
    # The separator is detected from how consistently rows split; a semicolon file whose rows
    # all hold the same number of decimal commas also splits consistently on commas.
    other = [word for sep, word in DELIMITERS.items() if sep != delimiter and sep in cell]
    if not other:
        return ""
    return f" (the file was read as {DELIMITERS[delimiter]}-separated and this cell holds a {other[0]})"


def _number(value: float) -> str:
    """A target value as a user would write it: ``50000``, ``0.25``, ``1.5e+20``."""
    return f"{value:.15g}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _list(names, limit: int = _MAX_SHOWN_COLUMNS) -> str:
    names = [_short(n) for n in names]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", … ({len(names) - limit} more)"


# ---------------------------------------------------------------------------------------------
# A user's data as an experiment and a recording see it.

# A recording embeds the data when both files together are at most this size, so it replays and
# verifies on a machine without the CSV; larger files are recorded by name and SHA-256 and must be
# given again (``replay --data``).
EMBED_LIMIT = 256 * 1024


@dataclass(frozen=True)
class CsvSource:
    """The parsed CSV file(s) of an experiment: ``train`` (split with ``test_fraction`` unless
    ``test`` is given) and their raw bytes, kept for recordings."""
    train: CsvTable
    test: CsvTable | None
    train_bytes: bytes
    test_bytes: bytes | None

    @classmethod
    def read(cls, path, *, test_path=None, label: str | None = None, task: str = "classification") -> CsvSource:
        """Read and check the file(s). Raises CsvDataError."""
        raw = read_csv_bytes(path)
        test_raw = None if test_path is None else read_csv_bytes(test_path)
        return cls.parse(raw, os.fspath(path), test_raw, None if test_path is None else os.fspath(test_path),
                         label=label, task=task)

    @classmethod
    def parse(cls, raw: bytes, name: str, test_raw: bytes | None = None, test_name: str | None = None, *,
              label: str | None = None, task: str = "classification") -> CsvSource:
        table = parse_csv_bytes(raw, name, label=label, task=task)
        test = None if test_raw is None else parse_csv_bytes(test_raw, test_name or "test data", label=label,
                                                             task=task)
        return cls(table, test, raw, test_raw)

    def split(self, *, test_fraction: float, train_size: int | None, test_size: int | None,
              rng: np.random.Generator, dtype=np.float64) -> CsvDataset:
        return split_table(self.train, test_fraction=test_fraction, test_table=self.test,
                           train_size=train_size, test_size=test_size, rng=rng, dtype=dtype)

    def record(self, embed_limit: int | None = None) -> dict:
        """What a recording's header says about the data: each file's name, size and SHA-256, and
        the text itself when the files together are at most ``embed_limit`` bytes (UTF-8, so the
        text round-trips to the same bytes and hash)."""
        limit = EMBED_LIMIT if embed_limit is None else embed_limit
        embed = len(self.train_bytes) + len(self.test_bytes or b"") <= limit

        def one(table: CsvTable, raw: bytes) -> dict:
            out: dict = {"name": os.path.basename(table.name), "bytes": len(raw), "sha256": table.sha256}
            if embed:
                out["text"] = raw.decode("utf-8")
            return out

        return {"train": one(self.train, self.train_bytes),
                "test": None if self.test is None else one(self.test, self.test_bytes or b"")}

    @classmethod
    def from_record(cls, record: object, *, label: str | None, task: str, data_path=None,
                    test_path=None) -> CsvSource:
        """The source a recording describes: its embedded text, else the files given (``data_path``,
        ``test_path``), which must have the recorded SHA-256. Raises CsvDataError (one line) for a
        missing or changed file, ValueError for a malformed record."""
        if not isinstance(record, dict) or not isinstance(record.get("train"), dict):
            raise ValueError("'data' must be an object with a 'train' entry")

        def bytes_of(entry: object, path, what: str) -> tuple[bytes, str]:
            if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                    or not isinstance(entry.get("name"), str):
                raise ValueError(f"'data.{what}' must name the file and its sha256")
            text = entry.get("text")
            if isinstance(text, str):
                raw = text.encode("utf-8")
                shown = entry["name"]
            elif path is None:
                option = "--data" if what == "train" else "--test-data"
                raise CsvDataError(entry["name"], f"the recording does not contain this file; give it with "
                                                  f"{option} PATH")
            else:
                raw, shown = read_csv_bytes(path), os.fspath(path)
            digest = hashlib.sha256(raw).hexdigest()
            if digest != entry["sha256"]:
                raise CsvDataError(shown, f"is not the file this session was recorded with (SHA-256 "
                                          f"{digest[:12]}…, recorded {entry['sha256'][:12]}…)")
            return raw, shown

        raw, name = bytes_of(record["train"], data_path, "train")
        test = record.get("test")
        test_raw, test_name = (None, None) if test is None else bytes_of(test, test_path, "test")
        return cls.parse(raw, name, test_raw, test_name, label=label, task=task)
