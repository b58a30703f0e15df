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
  No step is beyond ``MAX_STEPS``, nor the steps trained in all, over every reset and dataset
  change (``StepCounter``): a recording cannot ask a replay for more work than a session may do.
- With a user's CSV (``--data``) the header's ``data`` names each file (``train``, ``test`` or null)
  with its size and SHA-256, and holds its text when the files together are small
  (``core.csv_data.EMBED_LIMIT``): such a recording replays anywhere; a larger one needs the file
  again, with the recorded hash.
- The ``close`` record is the last line. A file without one was cut off (kill -9, power loss, a
  full disk): every complete line before the cut still replays. Only a last line without its
  newline counts as cut off; a complete line that is not a valid record is an error wherever it is.
- Lines are at most ``MAX_LINE_BYTES`` (1 MiB) long; a UTF-8 byte order mark before the header is
  skipped.

Writers never overwrite an existing file unless asked (``force``), and each line reaches the kernel
in one write as it is made (``core.fileio``), so after ``kill -9`` at most the last line is
incomplete; a write error (a full disk) cuts a partly written line off again. Readers only ever
``json.loads``: nothing in a file is executed or unpickled, and every field is checked by the code
that checks the command line (``Config.from_dict``, ``Change.from_record``).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from collections.abc import Callable, Iterator

import numpy as np

from . import version as package_version
from .changes import RESTART_KINDS, Change, ChangeError
from .config import MAX_STEPS, Config, ConfigError, check_memory
from .csv_data import CsvSource
from .fileio import OutputFile, open_with_first_record, write_all
from .report import json_safe
from .snapshot import LAYER_FIELDS, RUN_FIELDS, RUNS, SNAPSHOT_FIELDS, Snapshot, upgrade_legacy

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


# What a reset or dataset change counts for against MAX_STEPS at least: building an experiment
# (weights, data, buffers) costs a replay about as much as a thousand steps of the default net, so
# a log of nothing but resets is bounded too (at most MAX_STEPS / RESTART_STEPS = 10,000 of them).
RESTART_STEPS = 1000


class StepCounter:
    """Steps a session has trained, over every reset and dataset change, each of those counting
    at least RESTART_STEPS: what MAX_STEPS bounds. The writer and the reader count alike, so
    whatever is written can be read back."""

    def __init__(self) -> None:
        self.done = 0  # steps of the experiments left behind by a reset or dataset change
        self.step = 0  # the latest step of the current experiment

    def total(self, step: int) -> int:
        return self.done + step

    def after(self, step: int, restart: bool = False) -> int:
        """The total once a record at ``step`` (a reset or dataset change when ``restart``) is in."""
        return self.done + (max(self.step, step, RESTART_STEPS) if restart else step)

    def at(self, step: int) -> None:
        self.step = step

    def restart(self, step: int) -> None:
        self.done += max(self.step, step, RESTART_STEPS)
        self.step = 0


class SessionLog:
    """Writes one session log. Thread-safe: the worker may write snapshots and events while another
    thread (or a signal handler) closes the log; anything written after ``close`` is dropped, so the
    close record stays last.

    A write error (a full disk, an I/O error) stops the log for good: the partly written line is
    cut off, the close record is tried once (reason "write error"), the file is closed, ``error``
    says why and ``on_error(log)`` is called once; the session goes on without it. A session that
    reaches MAX_STEPS steps in all is closed the same way (reason "max steps", ``error`` None):
    more could not be replayed. ``ended_at`` is then the last step the log holds and ``complete``
    whether it has its close record. ``on_error`` must not raise.

    ``fsync=True`` also forces every line to disk (survives a power cut, not just a killed process);
    it costs about a millisecond or more per line on typical disks, so it is off by default.
    ``output``: where to write, from ``core.fileio.create_output`` (the caller commits it);
    default: ``path``, made by the rules of ``core.fileio``. Raises OutputExistsError,
    OutputRefusedError or OSError when the file cannot be made.
    """

    def __init__(self, path: str | os.PathLike, config: Config, *, terminal: tuple[int, int] | None = None,
                 force: bool = False, fsync: bool = False, mode: str = "headless",
                 clock: Callable[[], float] = time.monotonic, source: CsvSource | None = None,
                 output: OutputFile | None = None, on_error: Callable[[SessionLog], None] | None = None):
        self.path = os.fspath(path)
        self.config = config
        self.fsync = fsync
        self.on_error = on_error
        self._clock = clock
        self._lock = threading.RLock()
        self._closing = False
        self._last_step = 0
        self._work = StepCounter()
        self.bytes_written = 0
        self.lines_written = 0
        self.error: OSError | None = None
        self.stopped = False  # stopped early: a write error or MAX_STEPS
        self.complete = False  # the close record is written
        self._t0 = clock()
        header = {
            "type": "header", "format": FORMAT, "version": VERSION,
            "config": config.to_dict(), "seed": config.seed, "versions": versions(),
            "terminal": None if terminal is None else {"cols": int(terminal[0]), "rows": int(terminal[1])},
            "mode": mode, "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if source is not None:
            header["data"] = source.record()
        line = dumps_line(header)
        self._out = open_with_first_record(self.path, force, output, line)
        self.bytes_written, self.lines_written = len(line), 1

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def ended_at(self) -> int:
        """The step of the last record written."""
        return self._last_step

    def _t(self) -> float:
        return round(self._clock() - self._t0, 3)

    def _write(self, record: dict) -> bool:
        line = dumps_line(record)
        with self._lock:
            if self._out.fd < 0:
                return False
            if not self._out.write(line, fsync=self.fsync):
                return False
            self.bytes_written += len(line)
            self.lines_written += 1
        return True

    def _stop(self, reason: str) -> None:
        """End the log early, at the last record written, with a close record if one can still
        be written. Call with the lock held; the caller then calls ``_tell``."""
        self._closing = self.stopped = True
        first, self._out.error = self._out.error, None  # the write error that stopped it, if any
        self.complete = self._write({"type": "close", "reason": reason, "step": self._last_step, "t": self._t()})
        self.error = first if first is not None or self.complete else self._out.error
        self._out.close()

    def _tell(self) -> None:
        if self.on_error is not None:
            self.on_error(self)

    def _record(self, record: dict, step: int, restart: bool = False) -> None:
        with self._lock:
            if self._closing:
                return
            if self._work.after(step, restart) > MAX_STEPS:
                self._stop("max steps")
            elif not self._write(record):
                self._stop("write error")
            elif restart:
                self._work.restart(step)
                self._last_step = 0
                return
            else:
                self._work.at(step)
                self._last_step = step
                return
        self._tell()

    def event(self, change: Change, step: int) -> None:
        """Record ``change`` as taking effect at ``step``."""
        record = {"type": "event", "kind": change.kind, "step": int(step), "t": self._t(), **change.payload()}
        self._record(json_safe(record), int(step), restart=change.kind in RESTART_KINDS)

    def snapshot(self, snap: Snapshot) -> None:
        """Record a snapshot exactly as taken."""
        self._record({"type": "snapshot", "t": self._t(), **json_safe(snap)}, int(snap["step"]))

    def close(self, reason: str = "quit", step: int | None = None) -> bool:
        """Write the close record and close the file; later calls (and later records) do nothing.
        Returns True if this call closed it. Never raises (a failed write is ``error``); safe to
        call from a signal handler."""
        with self._lock:
            if self._closing:
                return False
            self._closing = True
            end = self._last_step if step is None else int(step)
            if end < self._last_step or self._work.total(end) > MAX_STEPS:
                end = self._last_step  # what a replay can reach: no further than the log goes
            self.complete = self._write({"type": "close", "reason": str(reason), "step": end, "t": self._t()})
            self._last_step = end
            if not self.complete:
                self.error, self.stopped = self._out.error, True
            self._out.close()
        if not self.complete:
            self._tell()
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

MAX_LINE_BYTES = 1 << 20  # 1 MiB: a snapshot of the deepest allowed network is a few kB
MAX_STREAM_BYTES = 1 << 30  # 1 GiB: the most kept of a log read from a pipe
_CHUNK = 1 << 16
_BOM = b"\xef\xbb\xbf"


class _Source:
    """The bytes of a log, readable from the start as often as needed: a regular file's own
    descriptor (so a file renamed or replaced meanwhile is not read in its place), or an unlinked
    temporary copy of a stream, which can be read once only."""

    def __init__(self, fd: int, keep: Any = None):
        self.fd, self._keep = fd, keep

    def reader(self) -> Callable[[int], bytes]:
        offset = 0
        fd = self.fd

        def read(n: int) -> bytes:
            nonlocal offset
            if fd < 0 or self.fd < 0:
                raise ValueError("the session file is closed")
            data = os.pread(fd, n, offset)
            offset += len(data)
            return data

        return read

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if self._keep is not None:
            self._keep.close()
            self._keep = None
        elif fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


@dataclass
class SessionFile:
    """A validated session log. ``records()`` streams its events, snapshots and close record, read
    from the same file (or copy of a stream) that ``read_session`` validated. ``release()`` lets
    it go (so does garbage collection)."""
    path: str
    header: dict
    config: Config
    warnings: list[str] = field(default_factory=list)
    n_events: int = 0
    n_snapshots: int = 0
    close: CloseRecord | None = None
    last_step: int = 0
    _source: _Source | None = field(default=None, repr=False, compare=False)

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
        """The records after the header, validated again as they are read."""
        if self._source is None:
            fd = os.open(self.path, os.O_RDONLY | _CLOEXEC)
            self._source = _Source(fd)
        for record in _Scanner(_lines(self._source.reader()), [], check_memory=False):
            if not isinstance(record, HeaderRecord):
                yield record

    def release(self) -> None:
        """Close the file (or drop the copy of a stream); ``records()`` cannot be read after."""
        if self._source is not None:
            self._source.close()


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def read_session(path: str | os.PathLike) -> SessionFile:
    """Read and validate a whole session log, streaming (memory stays small whatever its length).

    A regular file is read twice, through one descriptor: here, to validate it, and by
    ``records()`` to replay it. Anything else (a FIFO, ``<(cat log)``, ``/dev/stdin`` from a pipe)
    is read once: validated while it is copied to an unlinked temporary file (at most
    MAX_STREAM_BYTES), which ``records()`` reads. Limits: MAX_LINE_BYTES per line, MAX_STEPS steps
    in all (see ``StepCounter``), and sizes that fit in memory (``core.config.check_memory``).
    A UTF-8 byte order mark is skipped. Only a last line without its newline counts as cut off
    (a warning); any other bad line is an error.

    Raises SessionFormatError (one-line message), IsADirectoryError or OSError; collects warnings
    for a cut-off end."""
    path = os.fspath(path)
    fd = os.open(path, os.O_RDONLY | _CLOEXEC)
    source: _Source | None = None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if os.isatty(fd):
            raise SessionFormatError("a terminal, not a session log (redirect or pipe the log in)")
        if stat.S_ISREG(mode):
            source = _Source(fd)
            read = source.reader()
        else:
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for records(), closed by _Source
            source = _Source(spool.fileno(), keep=spool)
            read = _copying_reader(fd, spool.fileno())
        session = _validate(path, read)
        if not stat.S_ISREG(mode):
            os.close(fd)
        session._source = source
        return session
    except BaseException:
        if source is not None:
            source.close()
        if source is None or source.fd != fd:
            try:
                os.close(fd)
            except OSError:
                pass
        raise


def _copying_reader(fd: int, copy_fd: int) -> Callable[[int], bytes]:
    """Reads a stream, keeping a copy of every byte in ``copy_fd``."""
    total = 0

    def read(n: int) -> bytes:
        nonlocal total
        data = os.read(fd, n)
        total += len(data)
        if total > MAX_STREAM_BYTES:
            raise SessionFormatError(f"more than {MAX_STREAM_BYTES >> 30} GiB from a pipe; "
                                     "save the log to a file and replay that")
        try:
            write_all(copy_fd, data)
        except OSError as exc:
            raise SessionFormatError(f"cannot keep a copy of the log read from a pipe in "
                                     f"{tempfile.gettempdir()}: {exc.strerror or exc}") from None
        return data

    return read


def _validate(path: str, read: Callable[[int], bytes]) -> SessionFile:
    warnings: list[str] = []
    session: SessionFile | None = None
    for record in _Scanner(_lines(read), warnings, check_memory=True):
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


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _parse(raw: bytes) -> object:
    return _DECODER.decode(raw.decode("utf-8"))


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:80]


def _lines(read: Callable[[int], bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, the line without its line ending, whether it ended with a newline), never
    holding more than one line and one chunk. Raises SessionFormatError for a line longer than
    MAX_LINE_BYTES, as soon as it is that long (``/dev/zero`` ends here)."""
    buf = bytearray()
    start = 0
    number = 0
    while True:
        nl = buf.find(b"\n", start)
        if nl < 0:
            if len(buf) - start > MAX_LINE_BYTES:
                raise _too_long(number + 1)
            del buf[:start]
            start = 0
            chunk = read(_CHUNK)
            if not chunk:
                if buf:
                    number += 1
                    yield number, _clean(bytes(buf), number), False
                return
            buf += chunk
            continue
        number += 1
        if nl - start > MAX_LINE_BYTES:
            raise _too_long(number)
        yield number, _clean(bytes(buf[start:nl]), number), True
        start = nl + 1


def _clean(line: bytes, number: int) -> bytes:
    if number == 1 and line.startswith(_BOM):
        line = line[len(_BOM):]
    return line[:-1] if line.endswith(b"\r") else line


def _too_long(number: int) -> SessionFormatError:
    return SessionFormatError(f"longer than {MAX_LINE_BYTES >> 20} MiB, the longest line a session log "
                              "may have (not a dropout-tui session log?)", number)


class _Scanner:
    """Iterates over a log's lines: the header first, then typed records, each validated.
    Tracks the experiment's config and keep probabilities, which dataset events without a config
    need to be interpreted, and the steps trained in all (MAX_STEPS). ``check_memory``: refuse
    configs that do not fit in the memory available now (the first reading only, so a replay
    does not fail halfway because memory got tight)."""

    def __init__(self, lines: Iterator[tuple[int, bytes, bool]], warnings: list[str], *, check_memory: bool):
        self.lines, self.warnings, self.check_memory = lines, warnings, check_memory

    def __iter__(self) -> Iterator[HeaderRecord | Record]:
        header_seen = False
        closed_at = None
        floor = 0  # the smallest step the next record may have
        work = StepCounter()
        legacy = False
        current: Config | None = None
        for number, text, complete in self.lines:
            if not text.strip():
                if not header_seen:
                    raise SessionFormatError("empty line where the header should be "
                                             "(not a dropout-tui session log)", number)
                continue
            try:
                record = _parse(text)
            except (ValueError, RecursionError) as exc:
                if not complete and header_seen:
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
                head = _check_header(record, number, self.check_memory)
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
                    if change.kind == "dataset" and change.config is not None and self.check_memory:
                        check_memory(change.config)
                except ChangeError as exc:
                    what = "event" if exc.field == "kind" else f"{record.get('kind')} event"
                    raise SessionFormatError(f"{what}: {exc}", number) from None
                except ConfigError as exc:
                    raise SessionFormatError(f"dataset event: 'config': {exc}", number) from None
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
            if work.after(step, restart) > MAX_STEPS:
                raise SessionFormatError(f"the session trains more than {MAX_STEPS:,} steps in all (counting "
                                         f"every reset and dataset change, each as at least {RESTART_STEPS:,}), "
                                         "the most a replay trains", number)
            if restart:
                work.restart(step)
            else:
                work.at(step)
            floor = 0 if restart else step
            yield out
        if not header_seen:
            raise SessionFormatError("empty file: no header (not a dropout-tui session log)")


def _step(record: dict, kind: str, number: int) -> int:
    step = record.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise SessionFormatError(f"{kind}: 'step' must be an integer >= 0, got {step!r}", number)
    if step > MAX_STEPS:
        raise SessionFormatError(f"{kind}: 'step' {step:,} is beyond {MAX_STEPS:,}, the most steps "
                                 "a session trains", number)
    return step


def _track(config: Config, change: Change) -> Config:
    """The config a later dataset event without a config of its own starts from."""
    if change.kind == "dataset" and change.config is not None:
        return change.config
    if change.kind in ("keep_prob", "input_keep_prob") and isinstance(change.value, float):
        return config.with_changes(**{change.kind: change.value})
    return config


MODES = ("headless", "app", "replay")
MAX_TERMINAL = 10_000  # columns or rows


def _check_data_record(data: object, config: Config, number: int) -> None:
    """A config with --data needs the header's record of the file(s): name and SHA-256 of each,
    and the text when embedded (what ``CsvSource.record`` writes). Checked here so that a replay
    never starts on a header it cannot follow."""
    if not config.data:
        return

    def bad(entry: object) -> bool:
        return not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                    and isinstance(entry.get("sha256"), str) and isinstance(entry.get("text", ""), str))

    if not isinstance(data, dict) or bad(data.get("train")):
        raise SessionFormatError(f"header: bad config: --data {config.data!r} needs the header's 'data' record "
                                 f"of the file (its name and sha256)", number)
    test = data.get("test")
    if (test is None) != (not config.test_data) or (test is not None and bad(test)):
        raise SessionFormatError(f"header: bad config: --test-data {config.test_data!r} does not match the "
                                 f"header's 'data' record of the test file", number)


def _check_header(record: dict, number: int, memory: bool) -> HeaderRecord:
    """The header, every field it may carry checked: the config by ``Config.from_dict`` (the
    command line's own checks) and, when ``memory``, ``check_memory``; the rest by type, since
    nothing but a replay's tolerance (``versions.numpy``) depends on them."""
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
        if memory:
            check_memory(config)
    except ConfigError as exc:
        raise SessionFormatError(f"header: bad config: {exc}", number) from None
    if "seed" in record and record["seed"] != config.seed:
        raise SessionFormatError(f"header: 'seed' {record['seed']!r} differs from the config's seed {config.seed}",
                                 number)
    _check_data_record(record.get("data"), config, number)
    versions = record.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        raise SessionFormatError("header: 'versions' must be an object of version strings", number)
    terminal = record.get("terminal")
    if terminal is not None and not (
            isinstance(terminal, dict) and all(_is_int(terminal.get(k)) and 0 < terminal[k] <= MAX_TERMINAL
                                               for k in ("cols", "rows"))):
        raise SessionFormatError("header: 'terminal' must be null or {\"cols\": N, \"rows\": N}", number)
    for key in ("mode", "created"):
        if key in record and not isinstance(record[key], str):
            raise SessionFormatError(f"header: {key!r} must be a string", number)
    return HeaderRecord(number, record, config, version)


_TEXT_FIELDS = ("dataset", "name")  # the only text in a snapshot: the dataset, a layer's name
# Fields of the typed snapshot that hold one value each (legacy names included): never a list or object.
_SCALAR_FIELDS = frozenset((*SNAPSHOT_FIELDS, *RUN_FIELDS, *LAYER_FIELDS, "mean_eval", "norm_eval"))


def _first_non_number(tree: object, where: str = "") -> str | None:
    """Where a snapshot holds something other than numbers, booleans, null (a non-finite number)
    and its text fields, and what: so a bad file is named as bad, not reported as a mismatch."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key in _TEXT_FIELDS and isinstance(value, str):
                continue
            path = f"{where}.{key}" if where else str(key)
            if key in _SCALAR_FIELDS and isinstance(value, (dict, list)):
                what = "a list" if isinstance(value, list) else "an object"
                return f"{path!r} must be a number or null, got {what}"
            found = _first_non_number(value, path)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found = _first_non_number(value, f"{where}[{i}]")
            if found is not None:
                return found
    elif not (tree is None or isinstance(tree, (bool, int, float))):
        return f"{where!r} must be a number or null, got {json.dumps(tree)[:40]}"
    return None


def _snapshot(record: dict, number: int, legacy: bool) -> Snapshot:
    runs = record.get("runs")
    if not isinstance(runs, dict) or not all(isinstance(runs.get(r), dict) for r in RUNS):
        raise SessionFormatError("snapshot: 'runs' must hold 'inverted' and 'unrescaled'", number)
    snap = {k: v for k, v in record.items() if k not in ("type", "t")}
    bad = _first_non_number(snap)
    if bad is not None:
        raise SessionFormatError(f"snapshot: {bad}", number)
    if legacy:
        upgrade_legacy(snap)
    return snap  # type: ignore[return-value]  # its numbers are checked when compared
