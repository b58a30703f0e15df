"""Session logs: record a session as JSON Lines, read it back strictly, replay it exactly.

Pure stdlib + NumPy (never textual or rich), so the app, ``--headless`` and ``replay`` share it.

File format (version 1), one JSON object per line, UTF-8, ``\\n`` after every line::

    {"type":"header","format":"dropout-tui-session","version":1,"config":{...Config.to_dict()...},
     "seed":0,"versions":{"dropout-tui":..,"numpy":..,"python":..},"terminal":{"cols":80,"rows":24}|null,
     "mode":"headless"|"app","created":"2025-...Z"}
    {"type":"event","kind":"keep_prob","step":120,"t":3.512,"value":0.55}
    {"type":"snapshot","t":3.6,"step":140,"keep_prob":0.55,"input_keep_prob":1.0,"runs":{...}}
    {"type":"close","reason":"quit","step":3000,"t":61.2}

- ``kind`` is one of EVENT_KINDS. ``step`` is the experiment's step when the event took effect:
  a keep_prob change at step s applies from step s on (before step s is trained). For ``reset`` and
  ``dataset`` it is the step of the experiment being left; 0 is accepted too. ``value`` carries the new
  keep_prob / input_keep_prob / dataset name / speed; a ``dataset`` event may carry the new experiment's
  full ``config`` (without it: the current config with the dataset replaced, keep probabilities kept).
- ``snapshot`` lines are ``PairedExperiment.snapshot()`` with non-finite numbers as null: the numbers
  of ``--headless --json``. ``t`` is seconds since the log was opened (for pacing a replay only).
- Steps never go down, except right after a ``reset`` or ``dataset`` event (a new experiment at 0).
- The ``close`` record is the last line. A file without one was cut off (kill -9, power loss):
  every complete line before the cut still replays.

Writers never overwrite an existing file unless asked (``force``): files are opened with O_EXCL.
Every line goes to the kernel in one ``write`` call as it is made (no user-space buffer), so after
``kill -9`` at most the last line is incomplete. Readers only ever ``json.loads``: nothing in a file
is executed or unpickled.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Iterator

import numpy as np

from .config import Config, ConfigError
from .data import DATASETS
from .experiment import PairedExperiment
from .metadata import version
from .report import json_safe

FORMAT = "dropout-tui-session"
VERSION = 1
EVENT_KINDS = ("keep_prob", "input_keep_prob", "pause", "resume", "step", "reset", "dataset", "speed")
RESTART_KINDS = ("reset", "dataset")  # after these the experiment starts again at step 0
DEFAULT_RTOL = 1e-6  # when the numpy version differs from the recording's


# -- errors -----------------------------------------------------------------------------------------


class OutputExistsError(FileExistsError):
    """An output file exists and ``force`` was not given."""

    def __init__(self, path, option: str = "--force"):
        super().__init__(f"{os.fspath(path)} exists; use {option} to overwrite it")
        self.path = os.fspath(path)

    def __str__(self) -> str:
        return self.args[0]


class SessionFormatError(ValueError):
    """A session log that cannot be replayed. ``str()`` is one line: ``line N: what is wrong``."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


# -- writing ----------------------------------------------------------------------------------------


def open_new(path, force: bool = False) -> int:
    """A write-only fd for ``path``; refuses an existing file unless ``force`` (then truncates)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        return os.open(path, flags, 0o644)
    except FileExistsError:
        raise OutputExistsError(path) from None


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot record a {type(obj).__name__}")


def dumps_line(obj: dict) -> bytes:
    """One compact JSON line. Non-finite floats must already be None (``json_safe``)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)
    return (text + "\n").encode("utf-8", "replace")


def versions() -> dict:
    """What a session-log header records: ``{"dropout-tui": .., "numpy": .., "python": ..}``."""
    return {"dropout-tui": version(), "numpy": np.__version__, "python": platform.python_version()}


class SessionLog:
    """Writes one session log. Thread-safe: the worker may write snapshots and events while another
    thread (or a signal handler) closes the log; anything written after ``close`` is dropped, so the
    close record stays last.

    ``fsync=True`` also forces every line to disk (survives a power cut, not just a killed process);
    it costs about a millisecond or more per line on typical disks, so it is off by default.
    """

    def __init__(self, path, config: Config, *, terminal: tuple[int, int] | None = None,
                 force: bool = False, fsync: bool = False, mode: str = "headless", clock=time.monotonic):
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

    def event(self, kind: str, step: int, **payload) -> None:
        """Record an event at ``step`` (the step at which it takes effect). Payload: ``value=`` for
        keep_prob, input_keep_prob, dataset (name) and speed; ``config=`` (dict) for dataset optional."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(EVENT_KINDS)}")
        record = {"type": "event", "kind": kind, "step": int(step), "t": self._t()}
        for key, value in payload.items():
            record[key] = value.to_dict() if isinstance(value, Config) else value
        with self._lock:
            if self._closing:
                return
            self._write(json_safe(record))
            self._last_step = 0 if kind in RESTART_KINDS else int(step)

    def record_event(self, kind: str, step: int, payload: dict | None = None) -> None:
        """``event`` with the payload as a dict: fits a hook like ``on_event(kind, step, payload)``."""
        self.event(kind, step, **(payload or {}))

    def snapshot(self, snap: dict) -> None:
        """Record a ``PairedExperiment.snapshot()``, exactly as taken."""
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

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close("error" if exc_type is not None else "end")


class RecordingExperiment:
    """The experiment plus its log: each change is applied and recorded under one lock, so the step
    in the file is exactly the step at which the change took effect. Works without a log too.
    Use it from the thread that trains; ``exp`` may be replaced by ``change_dataset``."""

    def __init__(self, exp: PairedExperiment, log: SessionLog | None = None):
        self.exp = exp
        self.log = log
        self.lock = threading.RLock()

    def _event(self, kind: str, step: int, **payload) -> None:
        if self.log is not None:
            self.log.event(kind, step, **payload)

    def advance(self, steps: int = 1) -> None:
        with self.lock:
            self.exp.advance(steps)

    def snapshot(self) -> dict:
        with self.lock:
            snap = self.exp.snapshot()
            if self.log is not None:
                self.log.snapshot(snap)
            return snap

    def set_keep_prob(self, p: float) -> None:
        with self.lock:
            self.exp.set_keep_prob(p)
            self._event("keep_prob", self.exp.step, value=self.exp.keep_prob)

    def set_input_keep_prob(self, p: float) -> None:
        with self.lock:
            self.exp.set_input_keep_prob(p)
            self._event("input_keep_prob", self.exp.step, value=self.exp.input_keep_prob)

    def reset(self) -> None:
        with self.lock:
            self._event("reset", self.exp.step)
            self.exp.reset()

    def change_dataset(self, name: str) -> PairedExperiment:
        """A new experiment on dataset ``name``, keeping the current keep probabilities."""
        with self.lock:
            old = self.exp
            config = dataset_config(old, name)
            self._event("dataset", old.step, value=name, config=config.to_dict())
            self.exp = PairedExperiment(config)
            return self.exp

    def note(self, kind: str, **payload) -> None:
        """Events that change no number: pause, resume, step (a single step), speed."""
        with self.lock:
            self._event(kind, self.exp.step, **payload)

    def close(self, reason: str = "quit") -> None:
        if self.log is not None:
            self.log.close(reason, self.exp.step)


def dataset_config(exp: PairedExperiment, name: str) -> Config:
    return exp.config.with_changes(dataset=name, keep_prob=exp.keep_prob, input_keep_prob=exp.input_keep_prob)


# -- reading ----------------------------------------------------------------------------------------


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _parse(raw: bytes) -> object:
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass
class SessionFile:
    """A validated session log. ``records()`` streams events, snapshots and the close record again,
    each with its line number under ``"_line"``."""
    path: str
    header: dict
    config: Config
    warnings: list[str] = field(default_factory=list)
    n_events: int = 0
    n_snapshots: int = 0
    close: dict | None = None
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

    def records(self) -> Iterator[dict]:
        for record in _scan(self.path, []):
            if record["type"] != "header":
                yield record


def read_session(path) -> SessionFile:
    """Read and validate a whole session log (streaming; memory stays small).
    Raises SessionFormatError (one-line message) or OSError; collects warnings for a cut-off end."""
    path = os.fspath(path)
    warnings: list[str] = []
    session = None
    for record in _scan(path, warnings):
        kind = record["type"]
        if kind == "header":
            session = SessionFile(path, record, record["_config"])
        elif kind == "event":
            session.n_events += 1
        elif kind == "snapshot":
            session.n_snapshots += 1
        elif kind == "close":
            session.close = record
        if kind != "header":
            session.last_step = record["step"]
    if session.close is None and not any("incomplete" in w for w in warnings):
        warnings.append("no close record: the session ended without closing (killed?)")
    session.warnings = warnings
    return session


def _lines(path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes without newline, is_last)."""
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


def _scan(path, warnings: list[str]) -> Iterator[dict]:
    header_seen = False
    closed_at = None
    floor = 0  # the smallest step the next record may have
    for number, raw, last in _lines(path):
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
                warnings.append(f"line {number}: incomplete last line ignored (the recording was cut off)")
                return
            what = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else f"malformed JSON ({_short(exc)})"
            if not header_seen:
                raise SessionFormatError(f"{what}: not a dropout-tui session log", number) from None
            raise SessionFormatError(what, number) from None
        if not isinstance(record, dict):
            raise SessionFormatError(f"expected a JSON object, got {type(record).__name__}", number)
        if not header_seen:
            yield _check_header(record, number)
            header_seen = True
            continue
        if closed_at is not None:
            raise SessionFormatError(f"record after the close record (line {closed_at})", number)
        kind = record.get("type")
        step = record.get("step")
        if kind not in ("event", "snapshot", "close"):
            if kind == "header":
                raise SessionFormatError("a second header", number)
            raise SessionFormatError(f"unknown record type {kind!r}", number)
        if not _is_int(step) or step < 0:
            raise SessionFormatError(f"{kind}: 'step' must be an integer >= 0, got {step!r}", number)
        if kind == "event":
            _check_event(record, number)
        elif kind == "snapshot":
            _check_snapshot(record, number)
        elif not isinstance(record.get("reason", ""), str):
            raise SessionFormatError("close: 'reason' must be a string", number)
        restart = kind == "event" and record["kind"] in RESTART_KINDS
        if step < floor and not (restart and step == 0):
            what = f"{record['kind']} event" if kind == "event" else kind
            raise SessionFormatError(f"out of order: {what} at step {step} after step {floor} "
                                     "(steps only go back after a reset or dataset change)", number)
        floor = 0 if restart else step
        if kind == "close":
            closed_at = number
        record["_line"] = number
        yield record
    if not header_seen:
        raise SessionFormatError("empty file: no header (not a dropout-tui session log)")


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:80]


def _check_header(record: dict, number: int) -> dict:
    if record.get("type") != "header" or "format" not in record:
        raise SessionFormatError("missing header: not a dropout-tui session log", number)
    if record["format"] != FORMAT:
        raise SessionFormatError(f"unknown format {record['format']!r} (expected {FORMAT!r})", number)
    version = record.get("version")
    if version != VERSION or not _is_int(version):
        raise SessionFormatError(f"unknown format version {version!r} (this dropout-tui reads version {VERSION})",
                                 number)
    record["_config"] = _parse_config(record.get("config"), "header", number)
    return record


def _parse_config(config, where: str, number: int) -> Config:
    if not isinstance(config, dict):
        raise SessionFormatError(f"{where}: 'config' must be an object", number)
    try:
        return Config.from_dict(config)
    except (ConfigError, TypeError) as exc:
        raise SessionFormatError(f"{where}: bad config: {exc}", number) from None


def _check_event(record: dict, number: int) -> None:
    kind = record.get("kind")
    if kind not in EVENT_KINDS:
        raise SessionFormatError(f"unknown event kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})", number)
    value = record.get("value")
    if kind in ("keep_prob", "input_keep_prob") and not (_is_number(value) and 0 < value <= 1):
        raise SessionFormatError(f"{kind} event: 'value' must be a number in (0, 1], got {value!r}", number)
    if kind == "dataset":
        if value not in DATASETS:
            raise SessionFormatError(f"dataset event: unknown dataset {value!r}", number)
        if record.get("config") is not None:
            record["_config"] = _parse_config(record["config"], "dataset event", number)


def _check_snapshot(record: dict, number: int) -> None:
    runs = record.get("runs")
    if not isinstance(runs, dict) or not all(isinstance(runs.get(r), dict) for r in ("inverted", "unrescaled")):
        raise SessionFormatError("snapshot: 'runs' must hold 'inverted' and 'unrescaled'", number)


# -- replaying --------------------------------------------------------------------------------------


@dataclass
class Mismatch:
    line: int
    step: int
    run: str | None
    field: str
    recorded: object
    replayed: object

    def __str__(self) -> str:
        where = f"step {self.step}" + (f", run {self.run}" if self.run else "")
        return (f"first difference at {where}, field {self.field}: recorded {self.recorded!r}, "
                f"replayed {self.replayed!r} (line {self.line})")


def _close(a, b, rtol: float) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if rtol == 0:
            return a == b
        return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)
    return a == b


def compare_snapshot(recorded: dict, replayed: dict, rtol: float = 0.0, line: int = 0) -> Mismatch | None:
    """First field where ``replayed`` (JSON-safe) differs from ``recorded``. Fields the recording
    lacks are not compared (newer versions may add some); fields it has must be there and agree."""
    step = recorded.get("step")

    def walk(rec, rep, path, run):
        if isinstance(rec, dict):
            if not isinstance(rep, dict):
                return Mismatch(line, step, run, path or "(record)", rec, rep)
            for key, value in rec.items():
                if key in ("type", "t", "_line"):
                    continue
                sub = f"{path}.{key}" if path else key
                if key not in rep:
                    return Mismatch(line, step, run, sub, value, "(missing)")
                found = walk(value, rep[key], sub, run)
                if found:
                    return found
            return None
        if isinstance(rec, list):
            if not isinstance(rep, list) or len(rep) != len(rec):
                return Mismatch(line, step, run, path, rec, rep)
            for i, (a, b) in enumerate(zip(rec, rep)):
                name = a.get("name") if isinstance(a, dict) else None
                found = walk(a, b, f"{path}[{name or i}]", run)
                if found:
                    return found
            return None
        if not _close(rec, rep, rtol):
            return Mismatch(line, step, run, path, rec, rep)
        return None

    top = {k: v for k, v in recorded.items() if k != "runs"}
    found = walk(top, replayed, "", None)
    if found:
        return found
    for run, values in recorded["runs"].items():
        found = walk(values, replayed.get("runs", {}).get(run), "", run)
        if found:
            return found
    return None


def normalise(snap: dict) -> dict:
    """A snapshot exactly as it reads back from a log: JSON-safe, through a JSON round trip."""
    return json.loads(dumps_line(json_safe(snap)))


def apply_event(exp: PairedExperiment, event: dict) -> PairedExperiment:
    """Apply one recorded event to ``exp``; returns the experiment to go on with (a new one after a
    dataset change). Pause, resume, step and speed change no number and are ignored here."""
    kind = event["kind"]
    if kind == "keep_prob":
        exp.set_keep_prob(event["value"])
    elif kind == "input_keep_prob":
        exp.set_input_keep_prob(event["value"])
    elif kind == "reset":
        exp.reset()
    elif kind == "dataset":
        config = event.get("_config")
        if config is None:
            config = Config.from_dict(event["config"]) if isinstance(event.get("config"), dict) \
                else dataset_config(exp, event["value"])
        exp = PairedExperiment(config)
    return exp


class Replayer:
    """Re-runs a session: the same experiment, each event applied at its recorded step, a snapshot
    taken at each recorded snapshot's step (and compared when ``verify``).

    The app drives it in chunks: ``advance(n)`` trains at most ``n`` steps (None: up to the next
    record) and returns the records it passed, each a dict: events as read, snapshots replaced by
    the replayed numbers (``{"type": "snapshot", ..., "recorded": {...}}``). ``done`` at the end.
    Snapshots must be taken only through the replayer so the trajectory is the recorded one."""

    def __init__(self, session: SessionFile, *, verify: bool = False, rtol: float | None = None):
        self.session = session
        self.verify = verify
        self.rtol = default_rtol(session) if rtol is None else rtol
        self.exp = PairedExperiment(session.config)
        self.mismatch: Mismatch | None = None
        self.events_applied = 0
        self.snapshots_compared = 0
        self.last_snapshot: dict | None = None
        self._records = session.records()
        self._next: dict | None = None
        self.done = False
        self._pull()

    def _pull(self) -> None:
        self._next = next(self._records, None)
        if self._next is None:
            self.done = True

    @property
    def next_step(self) -> int | None:
        """Step of the next record, or None at the end."""
        return None if self._next is None else self._next["step"]

    def advance(self, max_steps: int | None = None) -> list[dict]:
        out: list[dict] = []
        budget = max_steps
        while self._next is not None:
            record = self._next
            target = record["step"]
            if target > self.exp.step:
                n = target - self.exp.step if budget is None else min(budget, target - self.exp.step)
                if n <= 0:
                    break
                self.exp.advance(n)
                if budget is not None:
                    budget -= n
                if self.exp.step < target:
                    break
            out.append(self._apply(record))
            self._pull()
            if self.mismatch is not None:
                self.done = True
                break
            if budget is None and record["type"] == "snapshot":
                break  # hand each snapshot back to the caller as it comes
        return out

    def _apply(self, record: dict) -> dict:
        kind = record["type"]
        if kind == "event":
            self.exp = apply_event(self.exp, record)
            self.events_applied += 1
            return record
        if kind == "snapshot":
            snap = normalise(self.exp.snapshot())
            self.last_snapshot = snap
            if self.verify:
                self.snapshots_compared += 1
                self.mismatch = compare_snapshot(record, snap, self.rtol, record["_line"])
            return {"type": "snapshot", "recorded": record, **snap}
        return record  # close

    def run(self) -> Replayer:
        """Replay to the end (or the first mismatch when verifying)."""
        while not self.done:
            self.advance(None)
        return self


def default_rtol(session: SessionFile) -> float:
    """Bit-identical (0) with the numpy version of the recording, DEFAULT_RTOL otherwise."""
    return 0.0 if session.versions.get("numpy") == np.__version__ else DEFAULT_RTOL


# -- CSV export -------------------------------------------------------------------------------------

RUN_FIELDS = ("diverged", "train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc",
              "test_confidence", "test_loss_scaled", "test_acc_scaled", "test_confidence_scaled",
              "output_weight_norm")
LAYER_FIELDS = ("mean_train", "mean_eval", "norm_train", "norm_eval", "weight_norm", "grad_norm",
                "mean_ratio_own", "sq_norm_ratio_own", "mean_ratio_theory", "sq_norm_ratio_theory")


def csv_columns(n_layers: int) -> list[str]:
    cols = ["step", "dataset", "run", "keep_prob", "input_keep_prob", *RUN_FIELDS]
    for i in range(1, n_layers + 1):
        cols += [f"h{i}_{f}" for f in LAYER_FIELDS]
    return cols


def _cell(x) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ""
    return str(x)


def csv_rows(snap: dict) -> list[list[str]]:
    """Two rows (inverted, unrescaled) for one snapshot; empty cells where a field does not apply."""
    rows = []
    for rule, run in snap["runs"].items():
        row = [_cell(snap["step"]), _cell(snap.get("dataset")), rule, _cell(snap.get("keep_prob")),
               _cell(snap.get("input_keep_prob"))]
        row += [_cell(run.get(f)) for f in RUN_FIELDS]
        for layer in run.get("layers", []):
            row += [_cell(layer.get(f)) for f in LAYER_FIELDS]
        rows.append(row)
    return rows


class CsvLog:
    """Metrics history as CSV, one row per snapshot and run, each row written through as it comes."""

    def __init__(self, path, n_layers: int, *, force: bool = False):
        self.path = os.fspath(path)
        self.columns = csv_columns(n_layers)
        self.rows = 0
        self._lock = threading.Lock()
        self._fd = open_new(self.path, force)
        self._emit([self.columns])

    def _emit(self, rows) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        with self._lock:
            if self._fd >= 0:
                write_all(self._fd, buf.getvalue().encode("utf-8"))

    def write(self, snap: dict) -> None:
        rows = csv_rows(snap)
        for row in rows:
            row += [""] * (len(self.columns) - len(row))
            del row[len(self.columns):]
        self._emit(rows)
        self.rows += len(rows)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_csv(path, snapshots, n_layers: int, *, force: bool = False) -> int:
    """Write a whole history at once (the app's ``e`` key). Returns the number of rows."""
    with CsvLog(path, n_layers, force=force) as out:
        for snap in snapshots:
            out.write(snap)
        return out.rows
