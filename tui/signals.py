"""Close recordings cleanly when the session ends by a signal.

SIGHUP (the SSH connection dropped, the terminal closed), SIGTERM (``kill``) and SIGINT (Ctrl-C
outside raw mode) must not leave a session log without its close record, nor a traceback.

- ``SIGNALS``, the process's ``Signals``: ``cli.main`` installs it before anything heavy is
  imported, so a signal during start-up is only noted; start-up looks at it before making any file
  and before switching the terminal, and stops with its status. The FIRST signal decides both the
  exit status and the close reason; a later one never changes them.
- ``Signals.listen(callback)``: also call ``callback(signum)`` on the first signal (the app forwards
  it to its event loop). ``Signals.insist``: a second signal raises ``SystemExit`` with the first
  one's status, for a loop that does not come back (``finally`` blocks still run).
  ``Signals.insisting()`` insists only around the work: closing the files afterwards is never cut
  short by another signal (an exception in the middle of writing the close record would lose it).
- ``install_close_on_signals(callback)``: call ``callback(signum)`` on each of those signals instead
  of dying. With ``loop=`` (an asyncio loop, e.g. inside a Textual app) the callback runs as an
  ordinary loop callback via ``loop.add_signal_handler``; without, it runs as a Python signal handler
  in the main thread. Returns a function that restores the previous handlers.
- ``StopOnSignals``: ``Signals`` as a context manager for loops that poll, insisting.

Exit status after a signal: 128 + signum (129 SIGHUP, 130 SIGINT, 143 SIGTERM), as a shell reports
a process killed by that signal, so scripts can tell a finished run from an interrupted one; the
files are complete and closed either way. A normal end exits 0.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def blocked(signals=CLOSE_SIGNALS) -> Iterator[None]:
    """Hold ``signals`` back while handlers are swapped: one arriving meanwhile is delivered to the
    new handler afterwards, instead of to no handler (the default action: death)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    old = mask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


class Signals:
    """What the process does on SIGHUP, SIGTERM and SIGINT: note the first (``signum``), tell the
    listener, and otherwise carry on, so the program winds down by itself and closes its files."""

    def __init__(self, signals: tuple[int, ...] = CLOSE_SIGNALS, *, insist: bool = False):
        self.signals = signals
        self.insist = insist
        self.signum: int | None = None
        self._listener: Callable[[int], None] | None = None
        self._restore: Callable[[], None] | None = None
        self._interrupting = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_status(self) -> int | None:
        return None if self.signum is None else exit_for_signal(self.signum)

    @property
    def installed(self) -> bool:
        return self._restore is not None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal_name(self.signum)

    def deliver(self, signum: int) -> None:
        """What a handler does with ``signum`` (also the app's loop handler): the first one wins."""
        if self.signum is not None:
            if self.insist:
                raise SystemExit(exit_for_signal(self.signum))  # asked twice: stop now
            return
        self.signum = signum
        if self._listener is not None:
            self._listener(signum)
        if self._interrupting:
            raise Stopped(signum)

    @contextmanager
    def insisting(self) -> Iterator[None]:
        """Within it, a second signal raises ``SystemExit`` (see ``insist``); after it, whether the
        work ended or was cut short, signals are only noted again, so what comes next (closing
        the files) runs to its end."""
        self.insist = True
        try:
            yield
        finally:
            self.insist = False

    @contextmanager
    def interrupting(self) -> Iterator[None]:
        """Within it, the first signal raises ``Stopped`` at once in the main thread: for a wait
        the program cannot look up from, such as opening a FIFO that no one writes to (the system
        call is restarted after a handler that returns)."""
        self._interrupting = True
        try:
            yield
        finally:
            self._interrupting = False

    def listen(self, callback: Callable[[int], None] | None) -> None:
        """Call ``callback(signum)`` on the first signal (at once, if it came already)."""
        self._listener = callback
        if callback is not None and self.signum is not None:
            callback(self.signum)

    def install(self) -> Signals:
        """Handle the signals here (main thread only; elsewhere this does nothing)."""
        if self._restore is None:
            try:
                with blocked(self.signals):
                    self._restore = install_close_on_signals(self.deliver, self.signals)
            except ValueError:  # not the main thread
                pass
        return self

    def reinstall(self) -> None:
        """Take the signals back after someone else handled them (an event loop that has ended)."""
        try:
            with blocked(self.signals):
                for sig in self.signals:
                    signal.signal(sig, self._handler)
        except ValueError:
            pass

    def take_back(self, loop) -> None:
        """Handle the signals here again, in place of ``loop``'s handlers (``loop.add_signal_handler``),
        without the default action (death) in between: asyncio's own removal passes through it,
        and its loop removes its handlers that way when it closes."""
        handlers = getattr(loop, "_signal_handlers", None)
        with blocked(self.signals):
            for sig in self.signals:
                if isinstance(handlers, dict):
                    signal.signal(sig, self._handler)
                    handlers.pop(sig, None)
                else:
                    loop.remove_signal_handler(sig)
                    signal.signal(sig, self._handler)
            if isinstance(handlers, dict) and not handlers:
                try:
                    signal.set_wakeup_fd(-1)  # as asyncio does when its last handler goes
                except (ValueError, OSError):
                    pass

    def _handler(self, signum: int, frame: object) -> None:
        self.deliver(signum)

    def restore(self) -> None:
        """Put back the handlers from before ``install``."""
        if self._restore is not None:
            self._restore()
            self._restore = None

    def __enter__(self):  # the subclass's type, too
        return self.install()

    def __exit__(self, *exc) -> None:
        self.restore()


class StopOnSignals(Signals):
    """``with StopOnSignals() as stop: while not stop.requested: work()``; then ``stop.signum``."""

    def __init__(self, signals: tuple[int, ...] = CLOSE_SIGNALS):
        super().__init__(signals, insist=True)


# The process's own, installed by ``cli.main`` for the length of a command.
SIGNALS = Signals()


@contextmanager
def process_signals(*, until_exit: bool = False) -> Iterator[Signals]:
    """``SIGNALS`` installed afresh (nothing noted yet) for one command; restored after, unless
    ``until_exit`` (the command is the whole process): then a signal that comes after the command
    has finished, on its way to exit, is ignored, so it neither kills the process nor changes
    the exit status that the command (or the first signal) decided."""
    SIGNALS.signum = None
    SIGNALS.insist = False
    SIGNALS.listen(None)
    SIGNALS.install()
    try:
        yield SIGNALS
    finally:
        if until_exit:
            # Ignored rather than noted: Python puts the default action (death) back for a signal
            # with a Python handler while it finalizes, so Ctrl+C pressed again as the process
            # ends would still kill it, with another status.
            with blocked(SIGNALS.signals):
                for sig in SIGNALS.signals:
                    signal.signal(sig, signal.SIG_IGN)
        else:
            SIGNALS.restore()
        SIGNALS.listen(None)
        SIGNALS.signum = None
        SIGNALS.insist = False


class Stopped(Exception):
    """A signal came before the work began (noted by ``SIGNALS``): stop with its status."""

    def __init__(self, signum: int):
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return exit_for_signal(self.signum)


def check_signals() -> None:
    """Raise ``Stopped`` if ``SIGNALS`` has noted a signal: called before making files or
    switching the terminal, so that nothing is started that the signal asked to stop."""
    if SIGNALS.signum is not None:
        raise Stopped(SIGNALS.signum)
