"""Session logs: a session recorded as JSON Lines, written as it happens and read back strictly.

File format (version 2; version 1 is read too), one JSON object per line, UTF-8, ``\\n`` after
every line::

    {"type":"header","format":"dropout-tui-session","version":2,"config":{...Config.to_dict()...},
     "seed":0,"versions":{"dropout-tui":..,"numpy":..,"python":..},"terminal":{"cols":80,"rows":24}|null,
     "mode":"headless"|"app","created":"2025-...Z"}
    {"type":"event","kind":"keep_prob","step":120,"t":3.512,"value":0.55}
    {"type":"snapshot","t":3.6,"step":140,"keep_prob":0.55,"input_keep_prob":1.0,"runs":{...}}
    {"type":"close","reason":"quit","step":3000,"t":61.2}

- ``kind`` is one of ``core.changes.EVENT_KINDS``. ``step`` is the experiment's step when the event
  took effect: a keep_prob change at step s applies from step s on (before step s is trained). For
  ``reset`` and ``dataset`` it is the step of the experiment being left; 0 is accepted too. ``value``
  carries the new keep_prob / input_keep_prob / dataset name / speed; a ``dataset`` event may carry
  the new experiment's full ``config`` (without it: the current config with the dataset replaced,
  keep probabilities kept). Events are interpreted by ``core.changes``, for live sessions and
  replays alike.
- ``snapshot`` lines are ``core.snapshot.Snapshot`` with non-finite numbers as null: the numbers of
  ``--headless --json``. ``t`` is seconds since the log was opened (for pacing a replay only).
  Version 1 named the prediction-mode layer fields ``mean_eval`` / ``norm_eval``; they are renamed
  to ``mean_pred`` / ``norm_pred`` on reading.
- Steps never go down, except right after a ``reset`` or ``dataset`` event (a new experiment at 0).
- With a user's CSV (``--data``) the header's ``data`` names each file (``train``, ``test`` or null)
  with its size and SHA-256, and holds its text when the files together are small
  (``core.csv_data.EMBED_LIMIT``): such a recording replays anywhere; a larger one needs the file
  again, with the recorded hash.
- The ``close`` record is the last line. A file without one was cut off (kill -9, power loss):
  every complete line before the cut still replays.

Writers never overwrite an existing file unless asked (``force``), and each line reaches the kernel
in one write as it is made (``core.fileio``), so after ``kill -9`` at most the last line is
incomplete. Readers only ever ``json.loads``: nothing in a file is executed or unpickled.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from collections.abc import Callable, Iterator

import numpy as np

from . import version as package_version
from .changes import RESTART_KINDS, Change, ChangeError
from .config import Config, ConfigError
from .csv_data import CsvSource
from .fileio import open_new, write_all
from .report import json_safe
from .snapshot import RUNS, Snapshot, upgrade_legacy

FORMAT = "dropout-tui-session"
VERSION = 2
READABLE_VERSIONS = (1, 2)


class SessionFormatError(ValueError):
    """A session log that cannot be replayed. ``str()`` is one line: ``line N: what is wrong``."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


# -- writing ----------------------------------------------------------------------------------------


def _json_default(obj: object) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot record a {type(obj).__name__}")


def dumps_line(obj: dict) -> bytes:
    """One compact JSON line. Non-finite floats must already be None (``json_safe``)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)
    return (text + "\n").encode("utf-8", "replace")


def versions() -> dict[str, str]:
    """The versions a recording notes, so a replay knows whether bit-identity can be expected."""
    import platform

    return {"dropout-tui": package_version(), "numpy": np.__version__, "python": platform.python_version()}


class SessionLog:
    """Writes one session log. Thread-safe: the worker may write snapshots and events while another
    thread (or a signal handler) closes the log; anything written after ``close`` is dropped, so the
    close record stays last.

    ``fsync=True`` also forces every line to disk (survives a power cut, not just a killed process);
    it costs about a millisecond or more per line on typical disks, so it is off by default.
    Raises OutputExistsError or OSError when the file cannot be created.
    """

    def __init__(self, path: str | os.PathLike, config: Config, *, terminal: tuple[int, int] | None = None,
                 force: bool = False, fsync: bool = False, mode: str = "headless",
                 clock: Callable[[], float] = time.monotonic, source: CsvSource | None = None):
        self.path = os.fspath(path)
        self.config = config
        self.fsync = fsync
        self._clock = clock
        self._lock = threading.RLock()
        self._closing = False
        self._last_step = 0
        self.bytes_written = 0
        self.lines_written = 0
        self._fd = open_new(self.path, force)
        self._t0 = clock()
        header = {
            "type": "header", "format": FORMAT, "version": VERSION,
            "config": config.to_dict(), "seed": config.seed, "versions": versions(),
            "terminal": None if terminal is None else {"cols": int(terminal[0]), "rows": int(terminal[1])},
            "mode": mode, "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if source is not None:
            header["data"] = source.record()
        try:
            self._write(header)
        except BaseException:
            os.close(self._fd)
            raise

    @property
    def closed(self) -> bool:
        return self._closing

    def _t(self) -> float:
        return round(self._clock() - self._t0, 3)

    def _write(self, record: dict) -> bool:
        line = dumps_line(record)
        with self._lock:
            fd = self._fd
            if fd < 0:
                return False
            write_all(fd, line)
            if self.fsync and self._fd == fd:  # a signal handler may have closed it meanwhile
                os.fsync(fd)
            self.bytes_written += len(line)
            self.lines_written += 1
        return True

    def event(self, change: Change, step: int) -> None:
        """Record ``change`` as taking effect at ``step``."""
        record = {"type": "event", "kind": change.kind, "step": int(step), "t": self._t(), **change.payload()}
        with self._lock:
            if self._closing:
                return
            self._write(json_safe(record))
            self._last_step = 0 if change.kind in RESTART_KINDS else int(step)

    def snapshot(self, snap: Snapshot) -> None:
        """Record a snapshot exactly as taken."""
        record = {"type": "snapshot", "t": self._t(), **json_safe(snap)}
        with self._lock:
            if self._closing:
                return
            self._write(record)
            self._last_step = int(snap["step"])

    def close(self, reason: str = "quit", step: int | None = None) -> bool:
        """Write the close record and close the file; later calls (and later records) do nothing.
        Returns True if this call closed it. Safe to call from a signal handler."""
        with self._lock:
            if self._closing:
                return False
            self._closing = True
            try:
                self._write({"type": "close", "reason": str(reason),
                             "step": self._last_step if step is None else int(step), "t": self._t()})
            finally:
                fd, self._fd = self._fd, -1
                os.close(fd)
            return True

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close("error" if exc_type is not None else "end")


# -- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderRecord:
    line: int
    header: dict
    config: Config
    version: int


@dataclass(frozen=True)
class EventRecord:
    line: int
    step: int
    change: Change


@dataclass(frozen=True)
class SnapshotRecord:
    line: int
    step: int
    snapshot: Snapshot


@dataclass(frozen=True)
class CloseRecord:
    line: int
    step: int
    reason: str


Record = EventRecord | SnapshotRecord | CloseRecord


@dataclass
class SessionFile:
    """A validated session log. ``records()`` streams its events, snapshots and close record."""
    path: str
    header: dict
    config: Config
    warnings: list[str] = field(default_factory=list)
    n_events: int = 0
    n_snapshots: int = 0
    close: CloseRecord | None = None
    last_step: int = 0

    @property
    def versions(self) -> dict:
        v = self.header.get("versions")
        return v if isinstance(v, dict) else {}

    @property
    def terminal(self) -> tuple[int, int] | None:
        t = self.header.get("terminal")
        if isinstance(t, dict) and _is_int(t.get("cols")) and _is_int(t.get("rows")):
            return t["cols"], t["rows"]
        return None

    def records(self) -> Iterator[Record]:
        for record in _Scanner(self.path, []):
            if not isinstance(record, HeaderRecord):
                yield record


def read_session(path: str | os.PathLike) -> SessionFile:
    """Read and validate a whole session log (streaming; memory stays small).
    Raises SessionFormatError (one-line message) or OSError; collects warnings for a cut-off end."""
    path = os.fspath(path)
    warnings: list[str] = []
    session: SessionFile | None = None
    for record in _Scanner(path, warnings):
        if isinstance(record, HeaderRecord):
            session = SessionFile(path, record.header, record.config)
            continue
        assert session is not None  # the scanner yields the header first
        if isinstance(record, EventRecord):
            session.n_events += 1
        elif isinstance(record, SnapshotRecord):
            session.n_snapshots += 1
        else:
            session.close = record
        session.last_step = record.step
    assert session is not None  # an empty file raised
    if session.close is None and not any("incomplete" in w for w in warnings):
        warnings.append("no close record: the session ended without closing (killed?)")
    session.warnings = warnings
    return session


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse(raw: bytes) -> object:
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:80]


def _lines(path: str) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes with their newline, is_last)."""
    with open(path, "rb") as f:
        prev = None
        number = 0
        for raw in f:
            number += 1
            if prev is not None:
                yield prev[0], prev[1], False
            prev = (number, raw)
        if prev is not None:
            yield prev[0], prev[1], True


class _Scanner:
    """Iterates over a log: the header first, then typed records, each validated.
    Tracks the experiment's config and keep probabilities, which dataset events without a config
    need to be interpreted."""

    def __init__(self, path: str, warnings: list[str]):
        self.path, self.warnings = path, warnings

    def __iter__(self) -> Iterator[HeaderRecord | Record]:
        header_seen = False
        closed_at = None
        floor = 0  # the smallest step the next record may have
        legacy = False
        current: Config | None = None
        for number, raw, last in _lines(self.path):
            complete = raw.endswith(b"\n")
            text = raw.rstrip(b"\r\n")
            if not text.strip():
                if not complete and header_seen:
                    continue
                if not header_seen:
                    raise SessionFormatError("empty line where the header should be "
                                             "(not a dropout-tui session log)", number)
                continue
            try:
                record = _parse(text)
            except (ValueError, RecursionError) as exc:
                if last and header_seen:
                    self.warnings.append(f"line {number}: incomplete last line ignored (the recording was cut off)")
                    return
                what = ("not valid UTF-8" if isinstance(exc, UnicodeDecodeError)
                        else f"malformed JSON ({_short(exc)})")
                if not header_seen:
                    raise SessionFormatError(f"{what}: not a dropout-tui session log", number) from None
                raise SessionFormatError(what, number) from None
            if not isinstance(record, dict):
                raise SessionFormatError(f"expected a JSON object, got {type(record).__name__}", number)
            if not header_seen:
                head = _check_header(record, number)
                current, legacy = head.config, head.version == 1
                header_seen = True
                yield head
                continue
            assert current is not None
            if closed_at is not None:
                raise SessionFormatError(f"record after the close record (line {closed_at})", number)
            kind = record.get("type")
            if kind not in ("event", "snapshot", "close"):
                if kind == "header":
                    raise SessionFormatError("a second header", number)
                raise SessionFormatError(f"unknown record type {kind!r}", number)
            step = _step(record, kind, number)
            out: Record
            if kind == "event":
                try:
                    change = Change.from_record(record, current)
                except ChangeError as exc:
                    what = "event" if exc.field == "kind" else f"{record.get('kind')} event"
                    raise SessionFormatError(f"{what}: {exc}", number) from None
                current = _track(current, change)
                out = EventRecord(number, step, change)
            elif kind == "snapshot":
                out = SnapshotRecord(number, step, _snapshot(record, number, legacy))
            else:
                reason = record.get("reason", "")
                if not isinstance(reason, str):
                    raise SessionFormatError("close: 'reason' must be a string", number)
                out = CloseRecord(number, step, reason)
                closed_at = number
            restart = isinstance(out, EventRecord) and out.change.kind in RESTART_KINDS
            if step < floor and not (restart and step == 0):
                what = f"{record['kind']} event" if kind == "event" else kind
                raise SessionFormatError(f"out of order: {what} at step {step} after step {floor} "
                                         "(steps only go back after a reset or dataset change)", number)
            floor = 0 if restart else step
            yield out
        if not header_seen:
            raise SessionFormatError("empty file: no header (not a dropout-tui session log)")


def _step(record: dict, kind: str, number: int) -> int:
    step = record.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise SessionFormatError(f"{kind}: 'step' must be an integer >= 0, got {step!r}", number)
    return step


def _track(config: Config, change: Change) -> Config:
    """The config a later dataset event without a config of its own starts from."""
    if change.kind == "dataset" and change.config is not None:
        return change.config
    if change.kind in ("keep_prob", "input_keep_prob") and isinstance(change.value, float):
        return config.with_changes(**{change.kind: change.value})
    return config


def _check_header(record: dict, number: int) -> HeaderRecord:
    if record.get("type") != "header" or "format" not in record:
        raise SessionFormatError("missing header: not a dropout-tui session log", number)
    if record["format"] != FORMAT:
        raise SessionFormatError(f"unknown format {record['format']!r} (expected {FORMAT!r})", number)
    version = record.get("version")
    if not _is_int(version) or version not in READABLE_VERSIONS:
        raise SessionFormatError(f"unknown format version {version!r} (this dropout-tui reads versions "
                                 f"{', '.join(map(str, READABLE_VERSIONS))})", number)
    if not isinstance(record.get("config"), dict):
        raise SessionFormatError("header: 'config' must be an object", number)
    try:
        config = Config.from_dict(record["config"])
    except ConfigError as exc:
        raise SessionFormatError(f"header: bad config: {exc}", number) from None
    return HeaderRecord(number, record, config, version)


def _snapshot(record: dict, number: int, legacy: bool) -> Snapshot:
    runs = record.get("runs")
    if not isinstance(runs, dict) or not all(isinstance(runs.get(r), dict) for r in RUNS):
        raise SessionFormatError("snapshot: 'runs' must hold 'inverted' and 'unrescaled'", number)
    snap = {k: v for k, v in record.items() if k not in ("type", "t")}
    if legacy:
        upgrade_legacy(snap)
    return snap  # type: ignore[return-value]  # its numbers are checked when compared

