"""Run a command in a pseudo-terminal of a given size and watch what it writes.

Used by ``dropout-tui bench --ui`` (bytes per second, key-to-screen latency, time to first frame)
and by the end-to-end tests, which feed the bytes to a terminal emulator.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import threading
import time


class PtyApp:
    def __init__(self, argv: list[str], cols: int = 80, rows: int = 24, env: dict | None = None):
        self.cols, self.rows = cols, rows
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child
            try:
                # The size is set here, before exec: set from the parent it can land after the
                # program read its size and before it listens for SIGWINCH (a race a loaded
                # machine loses), leaving it drawing for 80×24 in a smaller window.
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                # COLUMNS and LINES would override the pseudo-terminal's size (Textual and Rich
                # honour them; pytest-xdist's workers set them to 80×24).
                inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
                os.execvpe(argv[0], argv, {**inherited, "TERM": "xterm-256color", **(env or {})})
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.chunks: list[tuple[float, bytes]] = []  # (time since start, bytes)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.exit_status: int | None = None
        self.max_rss_kb: int | None = None  # the child's peak resident memory, once it has exited
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                if not ready:
                    if self._child_done():
                        break
                    continue
                data = os.read(self.fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            with self._cond:
                self.chunks.append((time.perf_counter() - self.started, data))
                self._cond.notify_all()
        self._child_done(block=True)
        with self._cond:
            self._cond.notify_all()

    def _child_done(self, block: bool = False) -> bool:
        if self.exit_status is not None:
            return True
        try:
            pid, status, usage = os.wait4(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False
        self.max_rss_kb = usage.ru_maxrss
        self.exit_status = os.waitstatus_to_exitcode(status)
        return True

    # -- observing --------------------------------------------------------------------------------

    @property
    def output(self) -> bytes:
        with self._lock:
            return b"".join(c for _, c in self.chunks)

    def bytes_between(self, t0: float, t1: float) -> int:
        with self._lock:
            return sum(len(c) for t, c in self.chunks if t0 <= t < t1)

    def now(self) -> float:
        return time.perf_counter() - self.started

    def wait_for(self, needle: bytes, timeout: float = 10.0, since: float = 0.0) -> float | None:
        """Time (since start) of the first chunk after ``since`` whose bytes, joined with what
        came before from ``since`` on, contain ``needle``; None on timeout."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while True:
                seen = b""
                for t, c in self.chunks:
                    if t < since:
                        continue
                    seen += c
                    if needle in seen:
                        return t
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or (self.exit_status is not None and not self._reader.is_alive()):
                    return None
                self._cond.wait(min(remaining, 0.05))

    def wait_exit(self, timeout: float = 5.0) -> int | None:
        self._reader.join(timeout)
        return self.exit_status

    # -- acting -----------------------------------------------------------------------------------

    def send(self, keys: str | bytes) -> float:
        """Type ``keys``; returns the time (since start) they were written."""
        data = keys.encode() if isinstance(keys, str) else keys
        t = self.now()
        os.write(self.fd, data)
        return t

    def kill(self, sig: int = signal.SIGKILL) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        if self.exit_status is None:
            self.kill()
            self.wait_exit(2)
        try:
            os.close(self.fd)
        except OSError:
            pass
