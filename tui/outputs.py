"""The files a session writes besides the screen: ``--record``, ``--csv``, ``--cast``, and the app's
screenshots and CSV exports, named by one scheme.

Shared by ``--headless``, replays and the app. Existing files are refused before anything is
created, so a refusal leaves no file behind; every file is closed exactly once, whatever ends the
session.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from collections.abc import Iterable

from dropout_tui.core.changes import Change
from dropout_tui.core.config import Config
from dropout_tui.core.csv_data import CsvSource
from dropout_tui.core.csv_export import CsvLog, write_csv
from dropout_tui.core.fileio import OutputExistsError
from dropout_tui.core.prediction import mc_ladder
from dropout_tui.core.session import SessionLog
from dropout_tui.core.snapshot import Snapshot

from .args import SessionFiles
from .errors import UsageError

STDOUT = Path("-")


def check_outputs(paths: dict[str, Path | None], force: bool) -> None:
    """Refuse existing files (without --force) and one path given to two options."""
    seen: dict[str, str] = {}
    for option, path in paths.items():
        if path is None or path == STDOUT:
            continue
        key = os.path.abspath(path)
        if key in seen:
            raise UsageError(f"{option}: {path} is also the {seen[key]} file")
        seen[key] = option
        if not force and os.path.lexists(path):
            raise UsageError(f"{option}: {path} exists; use --force to overwrite it")


def open_output(option: str, path: Path | None, make):
    if path is None:
        return None
    try:
        return make()
    except OutputExistsError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


def unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Outputs:
    """The open session files; ``on_snapshot`` / ``on_event`` feed them, ``close`` ends them."""

    def __init__(self, log: SessionLog | None = None, csv: CsvLog | None = None, cast=None):
        self.log, self.csv, self.cast = log, csv, cast

    @classmethod
    def open(cls, config: Config, files: SessionFiles, *, mode: str,
             terminal: tuple[int, int] | None = None, source: CsvSource | None = None) -> Outputs:
        """Open every file ``files`` names. Raises UsageError (one line) when one cannot be made."""
        cast_path = files.cast if mode == "app" else None
        check_outputs({"--record": files.record, "--csv": files.csv, "--cast": cast_path}, files.force)
        out = cls()
        record, csv_path = files.record, files.csv
        try:
            if record is not None:
                out.log = open_output("--record", record, lambda: SessionLog(
                    record, config, terminal=terminal, force=files.force, mode=mode, source=source))
            if csv_path is not None:
                out.csv = open_output("--csv", csv_path, lambda: _csv_log(csv_path, config, files.force))
            if cast_path is not None:
                from .cast import CastWriter

                cols, rows = terminal or (80, 24)
                out.cast = open_output("--cast", cast_path,
                                       lambda: CastWriter(cast_path, cols, rows, force=files.force))
        except BaseException:
            out.close("error", 0)
            for path in (record, csv_path, cast_path):
                if path is not None and path != STDOUT:
                    unlink_quietly(path)
            raise
        return out

    def on_snapshot(self, snap: Snapshot) -> None:
        if self.log is not None:
            self.log.snapshot(snap)
        if self.csv is not None:
            self.csv.write(snap)

    def on_event(self, change: Change, step: int) -> None:
        if self.log is not None:
            self.log.event(change, step)

    def close_data(self, reason: str, step: int | None) -> None:
        """Close the session log and CSV (safe to call more than once)."""
        if self.log is not None:
            self.log.close(reason, step)
        if self.csv is not None:
            self.csv.close()

    def close(self, reason: str, step: int | None) -> None:
        self.close_data(reason, step)
        if self.cast is not None:
            self.cast.close()


def _csv_log(path: Path, config: Config, force: bool) -> CsvLog:
    n_layers, ladder = len(config.layers), mc_ladder(config.mc_max)
    if path == STDOUT:
        return CsvLog.to_fd(os.dup(sys.stdout.fileno()), n_layers, ladder)
    return CsvLog(path, n_layers, ladder, force=force)


# -- files the app makes on request ----------------------------------------------------------------


def export_name(kind: str, suffix: str, when: float | None = None) -> str:
    """``dropout-tui-<kind>-YYYYmmdd-HHMMSS.<suffix>``: screenshots and CSV exports sort together."""
    return time.strftime(f"dropout-tui-{kind}-%Y%m%d-%H%M%S.{suffix}", time.localtime(when))


def export_csv(directory: Path, snapshots: Iterable[Snapshot]) -> tuple[Path, int]:
    """Write the history to a new file in ``directory``; returns (path, rows). Raises OSError."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / export_name("metrics", "csv")
    return path, write_csv(path, snapshots)
