"""End to end: the real ``dropout-tui`` command in a pseudo-terminal, read through a terminal
emulator (pyte) as a person would read the screen."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from dropout_tui.tui.bench_ui import ScreenReader
from dropout_tui.tui.ptyharness import PtyApp

# The console script installed with the interpreter running the tests, not the first one on PATH:
# that may belong to another checkout's install.
_SCRIPT = Path(sys.executable).with_name("dropout-tui")
ARGS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dropout_tui.tui.cli"]


class Screen(ScreenReader):
    """The benchmark's screen reader, with a wait that fails the test when the text never comes."""

    def wait_for(self, needle: str, timeout: float = 15.0) -> str:
        if needle in self.text():
            return self.text()
        if self.wait_until(lambda text: needle in text, timeout) is None:
            raise AssertionError(f"{needle!r} not on screen after {timeout}s:\n{self.text()}")
        return self.text()


@pytest.fixture
def running_app():
    apps = []

    def start(*args, cols=80, rows=24, env=None):
        app = PtyApp(ARGS + list(args), cols, rows, env=env)
        apps.append(app)
        return app, Screen(app)

    yield start
    for app in apps:
        app.close()


def test_plus_space_q_in_a_real_terminal(running_app):
    app, screen = running_app()
    screen.wait_for("keep_prob 0.50")
    text = screen.wait_for("unrescaled")  # the status line is drawn before the first metrics arrive
    assert "inverted" in text and "unrescaled" in text
    screen.wait_for("running")

    app.send("+")
    screen.wait_for("keep_prob 0.55")

    app.send(" ")
    text = screen.wait_for("paused")
    assert "keep_prob 0.55" in text

    sent = time.monotonic()
    app.send("q")
    assert app.wait_exit(timeout=5) == 0
    assert time.monotonic() - sent < 2.0
    # The terminal is handed back: the alternate screen is left and the cursor shown again.
    assert b"\x1b[?1049l" in app.output[-2000:]


def test_quit_while_training_at_full_speed_is_prompt(running_app):
    app, screen = running_app()
    screen.wait_for("running")
    time.sleep(1.0)
    sent = time.monotonic()
    app.send("q")
    assert app.wait_exit(timeout=5) == 0
    assert time.monotonic() - sent < 1.0


def test_no_color_and_a_tiny_window_do_not_crash(running_app):
    app, screen = running_app(cols=40, rows=12, env={"NO_COLOR": "1"})
    screen.wait_for("too small")
    app.send("+")
    app.send("q")
    assert app.wait_exit(timeout=5) == 0


def test_bad_option_exits_2_without_starting_the_ui(running_app):
    app, screen = running_app("--keep-prob", "1.5")
    assert app.wait_exit(timeout=10) == 2
    assert b"--keep-prob" in app.output and b"Traceback" not in app.output
