"""Close recordings cleanly when the session ends by a signal.

SIGHUP (the SSH connection dropped, the terminal closed), SIGTERM (``kill``) and SIGINT (Ctrl-C
outside raw mode) must not leave a session log without its close record. Two tools:

- ``install_close_on_signals(callback)``: call ``callback(signum)`` on each of those signals instead
  of dying. With ``loop=`` (an asyncio loop, e.g. inside a Textual app) the callback runs as an
  ordinary loop callback via ``loop.add_signal_handler``; without, it runs as a Python signal handler
  in the main thread, so it must be short: close the logs (``SessionLog.close`` is safe there) and
  ask the program to stop. Returns a function that restores the previous handlers.
- ``StopOnSignals``: a context manager for loops that poll (``--headless``): the first signal only
  sets ``signum``; the loop checks ``requested`` between chunks of work and winds down. A second
  signal raises ``SystemExit(128 + signum)`` for a loop that does not come back.

Exit status after a signal: 128 + signum (129 SIGHUP, 130 SIGINT, 143 SIGTERM), as a shell reports
a process killed by that signal, so scripts can tell a finished run from an interrupted one; the
files are complete and closed either way. A normal end exits 0.
"""

from __future__ import annotations

import signal

from .errors import exit_for_signal

CLOSE_SIGNALS: tuple[int, ...] = tuple(
    s for s in (getattr(signal, "SIGHUP", None), signal.SIGTERM, signal.SIGINT) if s is not None
)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def install_close_on_signals(callback, signals=CLOSE_SIGNALS, *, loop=None):
    """Run ``callback(signum)`` on each of ``signals``; returns ``restore()``.

    Without ``loop`` this must be called from the main thread (a Python rule for signal handlers)."""
    if loop is not None:
        for sig in signals:
            loop.add_signal_handler(sig, callback, sig)

        def restore_loop() -> None:
            for sig in signals:
                loop.remove_signal_handler(sig)

        return restore_loop

    previous = {}

    def handler(signum, frame):
        callback(signum)

    for sig in signals:
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        previous.clear()

    return restore


class StopOnSignals:
    """``with StopOnSignals() as stop: while not stop.requested: work()``; then ``stop.signum``."""

    def __init__(self, signals=CLOSE_SIGNALS):
        self.signals = signals
        self.signum: int | None = None
        self._restore = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_status(self) -> int | None:
        return None if self.signum is None else exit_for_signal(self.signum)

    def _handle(self, signum: int) -> None:
        if self.signum is not None:
            raise SystemExit(exit_for_signal(signum))  # asked twice: stop now, finally blocks still run
        self.signum = signum

    def __enter__(self) -> StopOnSignals:
        self._restore = install_close_on_signals(self._handle, self.signals)
        return self

    def __exit__(self, *exc) -> None:
        if self._restore is not None:
            self._restore()
            self._restore = None
