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
from typing import Iterable

from .fileio import open_new, write_all
from .snapshot import LAYER_FIELDS, RUN_FIELDS, SNAPSHOT_FIELDS, Snapshot, csv_columns


def _cell(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ""
    return str(x)


def csv_rows(snap: Snapshot, n_layers: int) -> list[list[str]]:
    """Two rows (inverted, unrescaled) for one snapshot, in the order of ``csv_columns(n_layers)``."""
    rows = []
    head = {name: _cell(snap.get(name)) for name in SNAPSHOT_FIELDS}
    for rule, run in snap["runs"].items():
        row = dict(head, run=rule)
        row.update((name, _cell(run.get(name))) for name in RUN_FIELDS)
        for i, layer in enumerate(run.get("layers", [])[:n_layers], start=1):
            row.update((f"h{i}_{name}", _cell(layer.get(name))) for name in LAYER_FIELDS)
        rows.append([row.get(col, "") for col in csv_columns(n_layers)])
    return rows


class CsvLog:
    """Metrics history as CSV, each row written through as it comes. Raises OutputExistsError or
    OSError when the file cannot be created."""

    def __init__(self, path: str | os.PathLike, n_layers: int, *, force: bool = False, fd: int | None = None):
        self.path = os.fspath(path)
        self.n_layers = n_layers
        self.rows = 0
        self._lock = threading.Lock()
        self._fd = open_new(self.path, force) if fd is None else fd
        self._emit([csv_columns(n_layers)])

    @classmethod
    def to_fd(cls, fd: int, n_layers: int) -> "CsvLog":
        """A CsvLog on an open file descriptor (e.g. a duplicate of stdout); closing closes ``fd``."""
        return cls("<stdout>", n_layers, fd=fd)

    def _emit(self, rows: list[list[str]]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        with self._lock:
            if self._fd >= 0:
                write_all(self._fd, buf.getvalue().encode("utf-8"))

    def write(self, snap: Snapshot) -> None:
        rows = csv_rows(snap, self.n_layers)
        self._emit(rows)
        self.rows += len(rows)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)

    def __enter__(self) -> "CsvLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_csv(path: str | os.PathLike, snapshots: Iterable[Snapshot], *, force: bool = False) -> int:
    """Write a whole history at once; the columns cover the deepest snapshot. Returns the number
    of rows."""
    snapshots = list(snapshots)
    n_layers = max((len(run["layers"]) for s in snapshots for run in s["runs"].values()), default=0)
    with CsvLog(path, n_layers, force=force) as out:
        for snap in snapshots:
            out.write(snap)
        return out.rows
