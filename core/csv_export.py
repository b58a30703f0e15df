"""The metrics history as CSV: one row per snapshot and run, columns from ``core.snapshot``.

Written through as it is made (``--csv``) or all at once (the app's export key). Empty cells stand for
a value that does not apply (``*_scaled`` in the inverted run) or is not finite.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
from collections.abc import Callable, Iterable

from .fileio import OutputFile, create_output, open_with_first_record
from .snapshot import LAYER_FIELDS, RUN_FIELDS, SNAPSHOT_FIELDS, Snapshot, csv_columns, rule_columns


def _cell(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ""
    return str(x)


def _dig(tree: object, path: tuple[str, ...]) -> object:
    for key in path:
        if isinstance(tree, list):
            i = int(key)
            tree = tree[i] if i < len(tree) else None
        elif isinstance(tree, dict):
            tree = tree.get(key)
        else:
            return None
    return tree


def csv_rows(snap: Snapshot, n_layers: int, ladder: tuple[int, ...] = ()) -> list[list[str]]:
    """Two rows (inverted, unrescaled) for one snapshot, in the order of ``csv_columns``."""
    rows = []
    head = {name: _cell(snap.get(name)) for name in SNAPSHOT_FIELDS}
    columns = csv_columns(n_layers, ladder)
    for rule, run in snap["runs"].items():
        row = dict(head, run=rule)
        row.update((name, _cell(run.get(name))) for name in RUN_FIELDS)
        for i, layer in enumerate(run.get("layers", [])[:n_layers], start=1):
            row.update((f"h{i}_{name}", _cell(layer.get(name))) for name in LAYER_FIELDS)
        rules = run.get("rules")
        if rules is not None:
            row.update((name, _cell(_dig(rules, path))) for name, path in rule_columns(ladder))
        rows.append([row.get(col, "") for col in columns])
    return rows


class CsvLog:
    """Metrics history as CSV, each snapshot's rows written through as they come. A write error
    (a full disk, a closed pipe) stops it for good: rows partly written are cut off again (in a file
    it made), the file is closed, ``error`` says why and ``on_error(csv)`` is called once; later
    rows are dropped. ``output``: from ``core.fileio.create_output`` (the caller commits it);
    default: ``path``, made by the rules of ``core.fileio``. Raises OutputExistsError,
    OutputRefusedError or OSError when the file cannot be made."""

    def __init__(self, path: str | os.PathLike, n_layers: int, ladder: tuple[int, ...] = (), *,
                 force: bool = False, fd: int | None = None, output: OutputFile | None = None,
                 on_error: Callable[[CsvLog], None] | None = None):
        self.path = os.fspath(path)
        self.n_layers = n_layers
        self.ladder = ladder
        self.rows = 0
        self.on_error = on_error
        self.error: OSError | None = None
        self.last_step: int | None = None  # of the last snapshot whose rows were written
        self._lock = threading.Lock()
        if fd is not None:
            output = OutputFile(self.path, fd, "fd")
        self._out = open_with_first_record(self.path, force, output, _encode([csv_columns(n_layers, ladder)]))

    @classmethod
    def to_fd(cls, fd: int, n_layers: int, ladder: tuple[int, ...] = (),
              on_error: Callable[[CsvLog], None] | None = None) -> CsvLog:
        """A CsvLog on an open file descriptor (e.g. a duplicate of stdout); closing closes ``fd``."""
        return cls("<stdout>", n_layers, ladder, fd=fd, on_error=on_error)

    @property
    def stopped(self) -> bool:
        return self.error is not None

    def write(self, snap: Snapshot) -> None:
        rows = csv_rows(snap, self.n_layers, self.ladder)
        data = _encode(rows)
        with self._lock:
            if self._out.fd < 0:
                return
            if self._out.write(data):
                self.rows += len(rows)
                self.last_step = snap.get("step")
                return
            self.error = self._out.error
            self._out.close()
        if self.on_error is not None:
            self.on_error(self)

    def close(self) -> None:
        with self._lock:
            self._out.close()

    def __enter__(self) -> CsvLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encode(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def csv_bytes(snapshots: Iterable[Snapshot]) -> tuple[bytes, int]:
    """A whole history as CSV (the columns cover the deepest snapshot and the longest Monte-Carlo
    ladder): (the file's bytes, rows)."""
    snapshots = list(snapshots)
    runs = [run for s in snapshots for run in s["runs"].values()]
    n_layers = max((len(run["layers"]) for run in runs), default=0)
    ladder = max((tuple(row["T"] for row in run["rules"]["mc_dropout"]) for run in runs if "rules" in run),
                 key=len, default=())
    rows = [csv_columns(n_layers, ladder)]
    for snap in snapshots:
        rows += csv_rows(snap, n_layers, ladder)
    return _encode(rows), len(rows) - 1


def write_csv(path: str | os.PathLike, snapshots: Iterable[Snapshot], *, force: bool = False) -> int:
    """Write a whole history at once; the columns as ``csv_bytes``. Returns the number
    of rows. Raises OutputExistsError or OSError, leaving no partial file behind."""
    data, rows = csv_bytes(snapshots)
    out = create_output(path, force)
    if not out.write(data):
        error = out.error
        out.discard()
        assert error is not None
        raise error
    try:
        out.commit()
    except OSError:
        out.discard()
        raise
    out.close()
    return rows
