"""Replay and verify a recorded session: the same experiment, each recorded change applied at its
recorded step through ``core.changes`` (the interpreter live sessions use), each recorded snapshot
taken again and, when verifying, compared.

Bit-identity needs the same arithmetic as the recording: the same NumPy and BLAS, and BLAS on one
thread (a multi-threaded BLAS may sum in another order). ``Replayer`` pins BLAS to one thread while
it trains, whoever calls it, and compares with a relative tolerance when the recording's NumPy
version differs from the running one.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .changes import apply_change
from .csv_data import CsvSource
from .experiment import PairedExperiment
from .report import json_safe
from .session import CloseRecord, EventRecord, Record, SessionFile, SnapshotRecord, dumps_line
from .snapshot import Snapshot

DEFAULT_RTOL = 1e-6  # when the numpy version differs from the recording's


@dataclass
class Mismatch:
    line: int
    step: int
    run: str | None
    field: str
    recorded: object
    replayed: object

    def as_dict(self) -> dict:
        return asdict(self)

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


def compare_snapshot(recorded: Snapshot, replayed: Snapshot, rtol: float = 0.0, line: int = 0) -> Mismatch | None:
    """First field where ``replayed`` (JSON-safe) differs from ``recorded``. Fields the recording
    lacks are not compared (newer versions may add some); fields it has must be there and agree."""
    step = recorded.get("step")

    def walk(rec, rep, path, run):
        if isinstance(rec, dict):
            if not isinstance(rep, dict):
                return Mismatch(line, step, run, path or "(record)", rec, rep)
            for key, value in rec.items():
                if key in ("type", "t"):
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


def normalise(snap: Snapshot) -> Snapshot:
    """A snapshot exactly as it reads back from a log: JSON-safe, through a JSON round trip."""
    return json.loads(dumps_line(json_safe(snap)))


@dataclass(frozen=True)
class Replayed:
    """A recorded snapshot and the snapshot the replay took at its step (JSON-normalised)."""
    record: SnapshotRecord
    snapshot: Snapshot


Passed = EventRecord | Replayed | CloseRecord


def one_blas_thread():
    """A context in which BLAS runs on one thread, as recordings are made: a multi-threaded BLAS
    may split a matrix product's sums differently, which changes the last digits."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


_controller = None


MAX_PASSED = 1000  # records handed back by one ``advance``: a file of a million events is streamed


class Replayer:
    """Re-runs a session: the same experiment, each change applied at its recorded step, a snapshot
    taken at each recorded snapshot's step (and compared when ``verify``).

    The app drives it in chunks: ``advance(n)`` trains at most ``n`` steps (None: up to the next
    snapshot) and returns what it passed, at most MAX_PASSED records: events as read, ``Replayed``
    snapshots, the close record. ``done`` at the end (or at the first mismatch when verifying).
    Snapshots must be taken only through the replayer so the trajectory is the recorded one.
    Everything that computes (building experiments, training, snapshots) runs with BLAS on one
    thread, whoever calls it and however BLAS is set up. ``data_path``/``test_path``: the user's
    CSV files when the recording names them without holding their text. Raises SessionFormatError
    if the file turns out bad past what ``read_session`` checked (it changed since), CsvDataError
    for missing or changed data, ValueError for a malformed data record."""

    def __init__(self, session: SessionFile, *, verify: bool = False, rtol: float | None = None,
                 data_path: str | None = None, test_path: str | None = None):
        self.session = session
        self.verify = verify
        self.rtol = default_rtol(session) if rtol is None else rtol
        config = session.config
        source = None
        if config.data:
            # The recorded data: embedded, or the file given again, which must hash the same.
            source = CsvSource.from_record(session.header.get("data"), label=config.label or None,
                                           task=config.task, data_path=data_path, test_path=test_path)
        with one_blas_thread():
            self.exp = PairedExperiment(config, source=source)
        self.mismatch: Mismatch | None = None
        self.events_applied = 0
        self.snapshots_compared = 0
        self.last_snapshot: Snapshot | None = None
        self._records = session.records()
        self._next: Record | None = None
        self.done = False
        self._pull()

    def _pull(self) -> None:
        self._next = next(self._records, None)
        if self._next is None:
            self.done = True

    @property
    def next_step(self) -> int | None:
        """Step of the next record, or None at the end."""
        return None if self._next is None else self._next.step

    def advance(self, max_steps: int | None = None) -> list[Passed]:
        """Train up to ``max_steps`` steps (None: to the next snapshot) and apply what is passed."""
        out: list[Passed] = []
        budget = max_steps
        with one_blas_thread():
            while self._next is not None:
                record = self._next
                target = record.step
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
                if budget is None and isinstance(record, SnapshotRecord):
                    break  # hand each snapshot back to the caller as it comes
                if len(out) >= MAX_PASSED:
                    break
        return out

    def _apply(self, record: Record) -> Passed:
        if isinstance(record, EventRecord):
            self.exp = apply_change(self.exp, record.change)
            self.events_applied += 1
            return record
        if isinstance(record, SnapshotRecord):
            with_rules = any("rules" in run for run in record.snapshot["runs"].values())
            snap = normalise(self.exp.snapshot(rules=with_rules))
            self.last_snapshot = snap
            if self.verify:
                self.snapshots_compared += 1
                self.mismatch = compare_snapshot(record.snapshot, snap, self.rtol, record.line)
            return Replayed(record, snap)
        return record  # close

    def run(self) -> Replayer:
        """Replay to the end (or the first mismatch when verifying)."""
        while not self.done:
            self.advance(None)
        return self


def default_rtol(session: SessionFile) -> float:
    """Bit-identical (0) with the numpy version of the recording, DEFAULT_RTOL otherwise."""
    return 0.0 if session.versions.get("numpy") == np.__version__ else DEFAULT_RTOL
