"""Give the terminal back as it was before the app started, however the app ends.

Textual saves the terminal's modes when it enters application mode and restores them when it
leaves, but it enters again on SIGCONT (after SIGSTOP), and what it saves then are its own raw
modes: after ``kill -STOP``, ``kill -CONT`` and ``q`` the shell had no echo. A watchdog exit after a
signal, or an exception inside the driver, skips Textual's restoring altogether. So the modes are
saved here, before the app starts, and put back after it has ended, whatever Textual did.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

try:
    import termios
except ImportError:  # not a POSIX system: nothing to save
    termios = None  # type: ignore[assignment]

# What the app may have switched on, switched off again: the alternate screen (1049), mouse
# reporting (1000, 1002, 1003, 1006, 1015), focus events (1004), bracketed paste (2004), in-band
# resize reports (2048), the kitty keyboard protocol (<u); line wrap (7) and the cursor (25) back on.
# Textual leaves the same state on a clean exit, so sending these twice changes nothing.
LEAVE_SCREEN = "\x1b[<u\x1b[?1049l"
MODES_OFF = ("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l\x1b[?2048l"
             "\x1b[?7h\x1b[?25h")
WRITE_TIMEOUT_S = 0.5  # a terminal that no longer drains its output must not hold the exit up


class TerminalState:
    """The terminal's modes (termios attributes) when made; ``restore`` puts them back."""

    def __init__(self, fd: int | None = None, out_fd: int | None = None):
        self.fd = _tty_fd(sys.__stdin__) if fd is None else fd
        self.out_fd = _tty_fd(sys.__stderr__) if out_fd is None else out_fd  # where Textual draws
        self.attrs = None
        if self.fd is not None and termios is not None:
            try:
                self.attrs = termios.tcgetattr(self.fd)
            except termios.error:
                self.attrs = None

    def restore(self, *, screen: bool = False) -> None:
        """Put the saved modes back and switch mouse reporting and the like off; ``screen``: also
        leave the alternate screen (when the app could not). Never raises; never blocks for long."""
        if self.attrs is not None and self.fd is not None and termios is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSANOW, self.attrs)
            except (termios.error, OSError):
                pass
        if self.out_fd is not None:
            data = ((LEAVE_SCREEN if screen else "") + MODES_OFF).encode()
            writer = threading.Thread(target=_write_quietly, args=(self.out_fd, data), daemon=True)
            writer.start()
            writer.join(WRITE_TIMEOUT_S)


def _tty_fd(stream) -> int | None:
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    return fd if os.isatty(fd) else None


def _write_quietly(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


# A resize is passed on once the size has held for RESIZE_QUIET_S; during a storm (a window
# dragged), at least every RESIZE_MAX_WAIT_S, so the screen still follows.
RESIZE_QUIET_S = 0.1
RESIZE_MAX_WAIT_S = 0.5


def steady_driver_class(base):
    """A subclass of the Textual driver class ``base`` that survives SIGSTOP and SIGCONT and
    storms of resizes.

    Textual answers every SIGCONT by starting application mode again. After its own suspend
    (SIGTSTP) that is right; after a SIGSTOP from outside, application mode never stopped, and
    starting it again starts a second input thread beside the first: keys go astray, and at exit
    the first thread, never told to stop, keeps the process alive. Here a SIGCONT without a
    suspend only puts the application's terminal modes back (a shell may have set its own while
    the process was stopped) and redraws the screen.

    Textual also lays the whole screen out again for every SIGWINCH: a window dragged for five
    seconds sends a couple of hundred, which queue up, and a key pressed after them waited seconds.
    Here resizes are passed on as one, the latest size, once the size has held for RESIZE_QUIET_S
    (at least every RESIZE_MAX_WAIT_S while it keeps changing)."""

    class SteadyDriver(base):
        _suspended = False
        _app_modes = None
        _loop = None
        _resize_handle = None
        _storm_started = 0.0

        def start_application_mode(self) -> None:
            super().start_application_mode()
            self._suspended = False
            try:
                import asyncio

                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                self._loop = None
            if self._loop is not None and hasattr(signal, "SIGWINCH"):
                signal.signal(signal.SIGWINCH, self._on_sigwinch)
            fd = getattr(self, "fileno", None)
            if termios is not None and isinstance(fd, int):
                try:
                    self._app_modes = termios.tcgetattr(fd)
                except termios.error:
                    self._app_modes = None

        def _on_sigwinch(self, signum, frame) -> None:
            loop = self._loop
            if getattr(self, "_in_band_window_resize", False) or loop is None or loop.is_closed():
                return  # the terminal reports its size itself; or the app has gone
            loop.call_soon_threadsafe(self._resize_soon)  # a signal handler must not touch the app

        def _resize_soon(self) -> None:
            # Wait until the size has held still for RESIZE_QUIET_S, but no longer than
            # RESIZE_MAX_WAIT_S after the first resize of a storm: at most a couple of full
            # layouts a second while a window is dragged, and one as soon as it stops.
            loop = self._loop
            if loop is None:
                return
            now = loop.time()
            if self._resize_handle is None:
                self._storm_started = now
            else:
                self._resize_handle.cancel()
            due = min(now + RESIZE_QUIET_S, self._storm_started + RESIZE_MAX_WAIT_S)
            self._resize_handle = loop.call_at(due, self._send_size)

        def _send_size(self) -> None:
            from textual import events
            from textual.geometry import Size

            self._resize_handle = None
            size = Size(*self._get_terminal_size())
            self._app.post_message(events.Resize(size, size))

        def suspend_application_mode(self) -> None:
            self._suspended = True
            super().suspend_application_mode()

        def _sigcont_application(self, *args) -> None:
            if self._suspended or self._app_modes is None:
                super()._sigcont_application(*args)
                return
            try:
                termios.tcsetattr(self.fileno, termios.TCSANOW, self._app_modes)
            except (termios.error, OSError):
                pass
            app, loop = getattr(self, "_app", None), self._loop
            if app is not None and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(lambda: app.refresh(layout=True))

    SteadyDriver.__name__ = SteadyDriver.__qualname__ = f"Steady{base.__name__}"
    return SteadyDriver
