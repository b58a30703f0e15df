"""The files a session writes besides the screen: ``--record``, ``--csv`` and (app only) ``--cast``.

Shared by ``--headless`` and the app. Existing files are refused before anything is created, so a
refusal leaves no file behind; every file is closed exactly once, whatever ends the session.
"""

from __future__ import annotations

import os

from dropout_tui.core.config import Config
from dropout_tui.core.recording import CsvLog, OutputExistsError, SessionLog


def _usage(message: str) -> Exception:
    from .errors import UsageError

    return UsageError(message)


def check_outputs(paths: dict, force: bool) -> None:
    """Refuse existing files (without --force) and one path given to two options."""
    seen: dict[str, str] = {}
    for option, path in paths.items():
        if not path:
            continue
        key = os.path.abspath(path)
        if key in seen:
            raise _usage(f"{option}: {path} is also the {seen[key]} file")
        seen[key] = option
        if not force and os.path.lexists(path):
            raise _usage(f"{option}: {path} exists; use --force to overwrite it")


def open_output(option: str, path, make):
    if not path:
        return None
    try:
        return make()
    except OutputExistsError as exc:
        raise _usage(f"{option}: {exc}") from None
    except OSError as exc:
        raise _usage(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


def unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Outputs:
    def __init__(self, log: SessionLog | None = None, csv: CsvLog | None = None, cast=None):
        self.log, self.csv, self.cast = log, csv, cast

    @classmethod
    def open(cls, config: Config, args, *, mode: str, terminal: tuple[int, int] | None = None) -> Outputs:
        record, csv_path = getattr(args, "record", None), getattr(args, "csv", None)
        cast_path = getattr(args, "cast", None) if mode == "app" else None
        force = bool(getattr(args, "force", False))
        check_outputs({"--record": record, "--csv": csv_path, "--cast": cast_path}, force)
        out = cls()
        try:
            out.log = open_output("--record", record,
                                  lambda: SessionLog(record, config, terminal=terminal, force=force, mode=mode))
            out.csv = open_output("--csv", csv_path, lambda: CsvLog(csv_path, len(config.layers), force=force))
            if cast_path:
                from .cast import CastWriter

                cols, rows = terminal or (80, 24)
                out.cast = open_output("--cast", cast_path,
                                       lambda: CastWriter(cast_path, cols, rows, force=force))
        except BaseException:
            out.close("error", 0)
            for path in (record, csv_path, cast_path):
                if path:
                    unlink_quietly(path)
            raise
        return out

    def on_snapshot(self, snap: dict) -> None:
        if self.log is not None:
            self.log.snapshot(snap)
        if self.csv is not None:
            self.csv.write(snap)

    def on_event(self, kind: str, step: int, payload: dict | None = None) -> None:
        if self.log is not None:
            self.log.record_event(kind, step, payload)

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
