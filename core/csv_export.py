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
from collections.abc import Iterable

from .fileio import open_new, write_all
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
    """Metrics history as CSV, each row written through as it comes. Raises OutputExistsError or
    OSError when the file cannot be created."""

    def __init__(self, path: str | os.PathLike, n_layers: int, ladder: tuple[int, ...] = (), *,
                 force: bool = False, fd: int | None = None):
        self.path = os.fspath(path)
        self.n_layers = n_layers
        self.ladder = ladder
        self.rows = 0
        self._lock = threading.Lock()
        self._fd = open_new(self.path, force) if fd is None else fd
        self._emit([csv_columns(n_layers, ladder)])

    @classmethod
    def to_fd(cls, fd: int, n_layers: int, ladder: tuple[int, ...] = ()) -> CsvLog:
        """A CsvLog on an open file descriptor (e.g. a duplicate of stdout); closing closes ``fd``."""
        return cls("<stdout>", n_layers, ladder, fd=fd)

    def _emit(self, rows: list[list[str]]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        with self._lock:
            if self._fd >= 0:
                write_all(self._fd, buf.getvalue().encode("utf-8"))

    def write(self, snap: Snapshot) -> None:
        rows = csv_rows(snap, self.n_layers, self.ladder)
        self._emit(rows)
        self.rows += len(rows)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)

    def __enter__(self) -> CsvLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_csv(path: str | os.PathLike, snapshots: Iterable[Snapshot], *, force: bool = False) -> int:
    """Write a whole history at once; the columns cover the deepest snapshot and the longest
    Monte-Carlo ladder. Returns the number of rows."""
    snapshots = list(snapshots)
    runs = [run for s in snapshots for run in s["runs"].values()]
    n_layers = max((len(run["layers"]) for run in runs), default=0)
    ladder = max((tuple(row["T"] for row in run["rules"]["mc_dropout"]) for run in runs if "rules" in run),
                 key=len, default=())
    with CsvLog(path, n_layers, ladder, force=force) as out:
        for snap in snapshots:
            out.write(snap)
        return out.rows
