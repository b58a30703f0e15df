"""``--cast FILE``: an asciicast v2 recording of the app's own terminal output.

So a session on a remote machine can be recorded with nothing else installed; ``asciinema play FILE``
(or the asciinema web player) plays it. Format (https://docs.asciinema.org/manual/asciicast/v2/)::

    {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, "env": {"TERM": "...", "SHELL": "..."}}
    [0.051234, "o", "\\u001b[?1049h..."]
    [3.200000, "r", "100x30"]

Writes are coalesced: output arriving within ``interval`` (50 ms) of the last event is held back
and written as one event when the interval is up (a timer does it if nothing else comes), stamped
with the time of its first piece. Each event line reaches the kernel in one write as it is made,
so a killed process loses at most the last ``interval`` of output. An existing file is never
overwritten without ``force``.

Hooking it into Textual (the driver writes every byte the app sends to the terminal)::

    writer = CastWriter(path, *shutil.get_terminal_size(), force=args.force)
    app.driver_class = cast_driver_class(app.driver_class, writer)   # before app.run()
    ...
    writer.close()                                                   # after app.run(), and on signals

``cast_driver_class`` also records terminal resizes; ``writer.resize(cols, rows)`` may be called
from ``App.on_resize`` as well (an unchanged size writes nothing).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time

from dropout_tui.core.fileio import OutputFile, open_with_first_record

DEFAULT_INTERVAL = 0.05


class CastWriter:
    """Writes one cast. Never raises once made: it is called inside the terminal driver's write,
    where an exception would reach Textual's error handler, which writes to the terminal again.
    A write error (a full disk) stops the cast for good: a partly written event is cut off again,
    the file is closed, ``error`` says why and ``on_error(writer)`` is called once (from whichever
    thread wrote); the app goes on. Raises OutputExistsError, OutputRefusedError or OSError when
    the file cannot be made; ``output``: from ``core.fileio.create_output`` (the caller commits it)."""

    def __init__(self, path, cols: int, rows: int, *, force: bool = False, term: str | None = None,
                 shell: str | None = None, interval: float = DEFAULT_INTERVAL, fsync: bool = False,
                 clock=time.monotonic, timestamp: int | None = None, autoflush: bool = True,
                 output: OutputFile | None = None, on_error=None):
        self.path = os.fspath(path)
        self.on_error = on_error
        self.error: OSError | None = None
        self._tell_pending = False
        self.cols, self.rows = int(cols), int(rows)
        self.interval = interval
        self.fsync = fsync
        self.autoflush = autoflush  # a timer writes held-back output when nothing else comes
        self._clock = clock
        self._lock = threading.RLock()
        self._pending: list[str] = []
        self._pending_t = 0.0
        self._last_emit = -1e9
        self._timer: threading.Timer | None = None
        self.closed = False
        self.bytes_written = 0
        self.events_written = 0
        self.output_chars = 0
        self._t0 = clock()
        header = {
            "version": 2, "width": self.cols, "height": self.rows,
            "timestamp": int(time.time()) if timestamp is None else int(timestamp),
            "env": {"TERM": term or os.environ.get("TERM") or "xterm-256color",
                    "SHELL": shell or os.environ.get("SHELL") or "/bin/sh"},
        }
        data = (json.dumps(header) + "\n").encode("utf-8", "replace")
        self._out = open_with_first_record(self.path, force, output, data)
        self.bytes_written = len(data)

    # -- writing ----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock() - self._t0

    def _emit_line(self, line: str) -> None:
        if self.closed:
            return
        data = line.encode("utf-8", "replace")
        if not self._out.write(data, fsync=self.fsync):
            # Stop for good: this runs inside the driver's write, which must not fail.
            self.error = self._out.error
            self.closed = True
            self._pending.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._out.close()
            self._tell_pending = True
            return
        self.bytes_written += len(data)

    def _tell(self) -> None:
        """Call ``on_error`` once, outside the lock, after a write error."""
        if self._tell_pending:
            self._tell_pending = False
            if self.on_error is not None:
                with contextlib.suppress(Exception):  # nothing may escape into the terminal driver
                    self.on_error(self)

    def _event(self, t: float, code: str, data: str) -> None:
        self._emit_line(f"[{t:.6f}, {json.dumps(code)}, {json.dumps(data, ensure_ascii=False)}]\n")
        if not self.closed:
            self.events_written += 1

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending and not self.closed:
            text = "".join(self._pending)
            self._pending.clear()
            self._event(self._pending_t, "o", text)
            self._last_emit = self._now()

    def output(self, text: str) -> None:
        """Record ``text`` written to the terminal (any thread)."""
        if not text:
            return
        try:
            self._output(text)
        finally:
            self._tell()

    def _output(self, text: str) -> None:
        with self._lock:
            if self.closed:
                return
            now = self._now()
            if not self._pending:
                self._pending_t = now
            self._pending.append(text)
            self.output_chars += len(text)
            wait = self._last_emit + self.interval - now
            if wait <= 0:
                self._flush_locked()
            elif self._timer is None and self.autoflush:
                self._timer = threading.Timer(wait, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def resize(self, cols: int, rows: int) -> None:
        """Record a terminal resize (pending output first); the same size again writes nothing."""
        cols, rows = int(cols), int(rows)
        with self._lock:
            if self.closed or (cols, rows) == (self.cols, self.rows):
                return
            self._flush_locked()
            self.cols, self.rows = cols, rows
            self._event(self._now(), "r", f"{cols}x{rows}")
        self._tell()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()
        self._tell()

    def close(self) -> None:
        """Write what is pending and close the file. Idempotent; never raises; safe from a signal
        handler."""
        with self._lock:
            if self.closed:
                return
            try:
                self._flush_locked()
            finally:
                self.closed = True
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                self._out.close()
        self._tell()

    def __enter__(self) -> CastWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_cast(path) -> tuple[dict, list[list]]:
    """Parse an asciicast v2 file: (header, events). For tests and tools; raises ValueError."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines:
        raise ValueError("empty cast file")
    header = json.loads(lines[0])
    if not isinstance(header, dict) or header.get("version") != 2:
        raise ValueError("not an asciicast v2 header")
    events = [json.loads(line) for line in lines[1:] if line.strip()]
    return header, events


def cast_driver_class(base, writer: CastWriter):
    """A subclass of the Textual driver class ``base`` that copies all output into ``writer`` and
    records resizes. Use as ``app.driver_class = cast_driver_class(app.driver_class, writer)``."""

    class CastDriver(base):
        def write(self, data: str) -> None:
            super().write(data)
            writer.output(data)

        def _get_terminal_size(self) -> tuple[int, int]:
            size = super()._get_terminal_size()
            writer.resize(*size)
            return size

    CastDriver.__name__ = CastDriver.__qualname__ = f"Cast{base.__name__}"
    return CastDriver
