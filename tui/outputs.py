"""The files a session writes besides the screen: ``--record``, ``--csv``, ``--cast``, and the app's
screenshots and CSV exports, named by one scheme.

Shared by ``--headless``, replays and the app. Opening is all or nothing: every file is made first
(by ``core.fileio``'s rules: a new file, or with ``--force`` a temporary file beside an existing one)
and only then put in place, so a refusal or a failure leaves every existing file as it was and
removes only what this process made. Two options naming one file, or an output naming the file a
replay reads, are refused with or without ``--force``. A file that fails later (a full disk) stops
on its own and is reported once (``Problem``); the session goes on. Every file is closed exactly
once, whatever ends the session.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dropout_tui.core.changes import Change
from dropout_tui.core.config import MAX_STEPS, Config
from dropout_tui.core.fileio import (
    OutputExistsError,
    OutputFile,
    OutputRefusedError,
    check_output,
    create_output,
    fd_identity,
    path_identity,
    save_new,
)
from dropout_tui.core.prediction import mc_ladder
from dropout_tui.core.snapshot import Snapshot

from .args import SessionFiles
from .errors import UsageError

if TYPE_CHECKING:
    # The writers are imported where a file is opened: the app starts without loading them.
    from dropout_tui.core.csv_data import CsvSource
    from dropout_tui.core.csv_export import CsvLog
    from dropout_tui.core.session import SessionLog

STDOUT = Path("-")


@dataclass(frozen=True)
class Problem:
    """A file that stopped during the session: ``str()`` is the one line to show."""
    option: str
    path: str
    error: OSError | None
    message: str

    def __str__(self) -> str:
        return self.message


def _reason(error: OSError | None) -> str:
    return "unknown error" if error is None else (error.strerror or str(error))


def check_distinct(paths: Sequence[tuple[str, Path | None]], inputs: Sequence[tuple[str, Path]] = ()) -> None:
    """Refuse two outputs naming one file, or an output naming an input, however they are spelled
    (symbolic links, hard links, ``a/../b``): a file must never be read and overwritten, or written
    twice, by one session. ``inputs``: (what it is, path). Raises UsageError."""
    seen: dict[tuple, str] = {}
    for what, source in inputs:
        seen[path_identity(source)] = f"{what} ({source})"
    for option, path in paths:
        if path is None:
            continue
        try:
            ident = fd_identity(sys.stdout.fileno()) if path == STDOUT else path_identity(path)
        except (OSError, ValueError):  # stdout is not a file here (a test's capture)
            continue
        if ident in seen:
            raise UsageError(f"{option}: {path} is {seen[ident]}; give another file")
        seen[ident] = f"also the {option} file"


def check_files(files: SessionFiles, *, mode: str, inputs: Sequence[tuple[str, Path]] = ()) -> None:
    """Refuse what ``Outputs.open`` would refuse, making nothing: for checks that come before
    other checks (the app's need for a terminal). Raises UsageError."""
    cast_path = files.cast if mode == "app" else None
    if mode == "app" and files.csv == STDOUT:
        raise UsageError("--csv: '-' (stdout) is for --headless; the app draws on stdout")
    specs = [("--record", files.record), ("--csv", files.csv), ("--cast", cast_path)]
    check_distinct(specs, inputs)
    for option, path in specs:
        if path is None or path == STDOUT:
            continue
        try:
            check_output(path, files.force)
        except (OutputExistsError, OutputRefusedError) as exc:
            raise UsageError(f"{option}: {exc}") from None


def _make(option: str, path: Path, force: bool) -> OutputFile:
    try:
        return create_output(path, force)
    except OutputExistsError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OutputRefusedError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


def _start(option: str, path: Path, make):
    """Build a writer (which writes its header); a failure is a one-line UsageError."""
    try:
        return make()
    except OSError as exc:
        raise UsageError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


class Outputs:
    """The open session files; ``on_snapshot`` / ``on_event`` feed them, ``close`` ends them.

    ``report(problem)`` is told, once per file and from whichever thread wrote, when a file stops
    early (a write error; a recording that reached MAX_STEPS); ``problems`` keeps them all. It
    must not raise (what it raises is dropped)."""

    def __init__(self, log: SessionLog | None = None, csv: CsvLog | None = None, cast=None,
                 report: Callable[[Problem], None] | None = None):
        self.log, self.csv, self.cast = log, csv, cast
        self.report = report
        self.problems: list[Problem] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, config: Config, files: SessionFiles, *, mode: str,
             terminal: tuple[int, int] | None = None, source: CsvSource | None = None,
             inputs: Sequence[tuple[str, Path]] = (), report: Callable[[Problem], None] | None = None) -> Outputs:
        """Open every file ``files`` names, all or nothing (``source``: the user's CSV, which a
        recording embeds or names). Raises UsageError (one line) when one cannot be made; then
        nothing that existed before was changed."""
        cast_path = files.cast if mode == "app" else None
        check_files(files, mode=mode, inputs=inputs)
        out = cls(report=report)
        made: list[OutputFile] = []

        def make(option: str, path: Path) -> OutputFile:
            output = _make(option, path, files.force)
            made.append(output)
            return output

        try:
            record, csv_path = files.record, files.csv
            if record is not None:
                from dropout_tui.core.session import SessionLog

                output = make("--record", record)
                out.log = _start("--record", record, lambda: SessionLog(
                    record, config, terminal=terminal, mode=mode, source=source, output=output,
                    on_error=out._log_failed))
            if csv_path is not None:
                from dropout_tui.core.csv_export import CsvLog

                if csv_path == STDOUT:
                    output = OutputFile("<stdout>", os.dup(sys.stdout.fileno()), "fd")
                    made.append(output)
                else:
                    output = make("--csv", csv_path)
                out.csv = _start("--csv", csv_path, lambda: CsvLog(
                    output.path, len(config.layers), mc_ladder(config.mc_max), output=output,
                    on_error=out._csv_failed))
            if cast_path is not None:
                from .cast import CastWriter

                cols, rows = terminal or (80, 24)
                output = make("--cast", cast_path)
                out.cast = _start("--cast", cast_path, lambda: CastWriter(
                    cast_path, cols, rows, output=output, on_error=out._cast_failed))
            for output in made:
                try:
                    output.commit()
                except OSError as exc:
                    raise UsageError(f"cannot put {output.path} in place: {exc.strerror or exc}") from None
        except BaseException:
            for output in made:
                output.discard()
            raise
        return out

    # -- files that stop early --------------------------------------------------------------------

    def _tell(self, problem: Problem) -> None:
        with self._lock:
            self.problems.append(problem)
        if self.report is not None:
            with contextlib.suppress(Exception):  # a writer's thread goes on whatever the reporter does
                self.report(problem)

    def _log_failed(self, log: SessionLog) -> None:
        if log.error is None:
            message = (f"--record: the session reached {MAX_STEPS:,} steps in all, the most a recording holds; "
                       f"recording stopped at step {log.ended_at:,}")
        else:
            message = (f"--record: cannot write {log.path}: {_reason(log.error)}; "
                       f"recording stopped at step {log.ended_at:,}")
        message += ("; the log is closed there" if log.complete
                    else "; the log ends there without its close record (it replays up to there)")
        self._tell(Problem("--record", log.path, log.error, message))

    def _csv_failed(self, csv: CsvLog) -> None:
        after = "before its first row" if csv.last_step is None else f"after step {csv.last_step:,}"
        self._tell(Problem("--csv", csv.path, csv.error,
                           f"--csv: cannot write {csv.path}: {_reason(csv.error)}; the CSV stops {after}"))

    def _cast_failed(self, cast) -> None:
        self._tell(Problem("--cast", cast.path, cast.error,
                           f"--cast: cannot write {cast.path}: {_reason(cast.error)}; the cast stops here"))

    # -- feeding and closing ----------------------------------------------------------------------

    def on_snapshot(self, snap: Snapshot) -> None:
        if self.log is not None:
            self.log.snapshot(snap)
        if self.csv is not None:
            self.csv.write(snap)

    def on_event(self, change: Change, step: int) -> None:
        if self.log is not None:
            self.log.event(change, step)

    def close_data(self, reason: str, step: int | None) -> None:
        """Close the session log and CSV (safe to call more than once; never raises)."""
        if self.log is not None:
            self.log.close(reason, step)
        if self.csv is not None:
            self.csv.close()

    def close(self, reason: str, step: int | None) -> None:
        self.close_data(reason, step)
        if self.cast is not None:
            self.cast.close()


# -- files the app makes on request ----------------------------------------------------------------


def export_name(kind: str, suffix: str, when: float | None = None) -> str:
    """``dropout-tui-<kind>-YYYYmmdd-HHMMSS.<suffix>``: screenshots and CSV exports sort together."""
    return time.strftime(f"dropout-tui-{kind}-%Y%m%d-%H%M%S.{suffix}", time.localtime(when))


def export_file(directory: Path, kind: str, suffix: str, data: bytes) -> Path:
    """Save ``data`` as a new file named by ``export_name`` in ``directory`` (made if missing; a
    name taken already gets -2, -3...). Nothing but the directory is left behind on failure.
    Raises OSError."""
    return Path(save_new(directory, export_name(kind, suffix), data))


def export_csv(directory: Path, snapshots: Iterable[Snapshot]) -> tuple[Path, int]:
    """Write the history to a new file in ``directory``; returns (path, rows). Raises OSError."""
    from dropout_tui.core.csv_export import csv_bytes

    data, rows = csv_bytes(snapshots)
    return export_file(directory, "metrics", "csv", data), rows
