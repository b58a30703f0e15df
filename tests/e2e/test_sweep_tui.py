"""``dropout-tui sweep --tui`` in a real terminal: the view fills in, Enter opens the live app at the
cursor's keep_prob, q there comes back to the sweep, q again leaves with status 0."""

from __future__ import annotations

import shutil
import sys

from dropout_tui.tui.bench_ui import ScreenReader
from dropout_tui.tui.ptyharness import PtyApp

COMMAND = shutil.which("dropout-tui") or sys.executable
ARGS = [COMMAND] if COMMAND.endswith("dropout-tui") else [COMMAND, "-m", "dropout_tui.tui.cli"]
SWEEP = ["sweep", "--tui", "--layers", "8,8", "--train-size", "40", "--test-size", "60", "--steps", "40",
         "--checkpoints", "2", "--keep-probs", "0.3,0.6,0.9", "--seeds", "2", "--workers", "2"]


def wait_for(screen: ScreenReader, needle: str, timeout: float = 30.0) -> str:
    if needle in screen.text():
        return screen.text()
    if screen.wait_until(lambda text: needle in text, timeout) is None:
        raise AssertionError(f"{needle!r} not on screen after {timeout}s:\n{screen.text()}")
    return screen.text()


def test_enter_opens_the_live_app_and_q_comes_back(tmp_path):
    app = PtyApp(ARGS + SWEEP + ["--out", str(tmp_path / "r.jsonl")], 100, 32)
    try:
        screen = ScreenReader(app)
        wait_for(screen, "6/6 tasks")
        text = wait_for(screen, "done")
        assert "keep_prob 0.6 " in text  # the cursor starts in the middle
        app.send("\x1b[C")  # →
        wait_for(screen, "keep_prob 0.9 ")
        app.send("\r")  # Enter: the live app at keep_prob 0.9, seed 0
        text = wait_for(screen, "keep_prob 0.90")
        assert "inverted" in text and "unrescaled" in text
        app.send("q")
        wait_for(screen, "6/6 tasks")
        app.send("q")
        assert app.wait_exit(timeout=15) == 0
        assert "over 2 seeds after 40 steps" in app.output.decode("utf-8", "replace")
    finally:
        app.close()


def test_sigterm_leaves_the_view_with_128_plus_n_and_keeps_results(tmp_path):
    import signal

    out = tmp_path / "r.jsonl"
    app = PtyApp(ARGS + SWEEP + ["--out", str(out)], 100, 32)
    try:
        screen = ScreenReader(app)
        wait_for(screen, "6/6 tasks")
        app.kill(signal.SIGTERM)
        assert app.wait_exit(timeout=15) == 128 + signal.SIGTERM
        assert "Traceback" not in app.output.decode("utf-8", "replace")
        assert out.read_bytes().count(b"\n") == 1 + 6  # the header and every result
    finally:
        app.close()
