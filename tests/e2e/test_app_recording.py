"""Recording from the app in a pseudo-terminal: session log, asciicast, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyte
import pytest
from dropout_tui.tui.cast import read_cast
from dropout_tui.tui.ptyharness import PtyApp
from test_app_e2e import ARGS, Screen


def cli(*args):
    return subprocess.run([sys.executable, "-m", "dropout_tui.tui.cli", *args], capture_output=True, text=True,
                          timeout=120)


def start(tmp_path, *extra):
    app = PtyApp(ARGS + ["--record", str(tmp_path / "s.jsonl"), *extra], 80, 24)
    screen = Screen(app)
    screen.wait_for("running")
    return app, screen


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_app_session_replays_bit_identically(tmp_path):
    app, screen = start(tmp_path)
    try:
        app.send("-")
        screen.wait_for("keep_prob 0.45")
        time.sleep(0.5)
        app.send("r")
        time.sleep(0.5)
        app.send("d")
        screen.wait_for("circles")
        time.sleep(0.5)
        app.send("q")
        assert app.wait_exit(5) == 0
    finally:
        app.close()
    log = records(tmp_path / "s.jsonl")
    assert log[0]["type"] == "header" and log[0]["mode"] == "app" and log[0]["terminal"] == {"cols": 80, "rows": 24}
    # (The launch warm-up's speed changes are notes in the log too; they change nothing replayed.)
    kinds = [r["kind"] for r in log if r["type"] == "event" and r["kind"] != "speed"]
    assert kinds == ["keep_prob", "reset", "dataset"]
    assert log[-1]["type"] == "close" and log[-1]["reason"] == "quit"
    done = cli("replay", str(tmp_path / "s.jsonl"), "--headless", "--verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified" in done.stdout


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_each_signal_closes_the_log_and_restores_the_terminal(tmp_path, sig):
    app, _ = start(tmp_path)
    try:
        app.kill(sig)
        assert app.wait_exit(5) == 128 + sig
        assert b"\x1b[?1049l" in app.output[-3000:]  # left the alternate screen
    finally:
        app.close()
    last = records(tmp_path / "s.jsonl")[-1]
    assert last["type"] == "close" and last["reason"] == signal.Signals(sig).name


def test_a_dropped_terminal_closes_the_log(tmp_path):
    app, _ = start(tmp_path)
    os.close(app.fd)  # what sshd does when the connection drops: the child gets SIGHUP
    assert app.wait_exit(5) is not None
    last = records(tmp_path / "s.jsonl")[-1]
    assert last["type"] == "close"


def test_cast_plays_back_to_a_screen_with_both_columns(tmp_path):
    cast = tmp_path / "s.cast"
    app, _ = start(tmp_path, "--cast", str(cast))
    try:
        time.sleep(1.0)
        app.send("q")
        assert app.wait_exit(5) == 0
    finally:
        app.close()
    header, events = read_cast(cast)
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    assert "TERM" in header["env"]
    times = [e[0] for e in events]
    assert times == sorted(times) and all(e[1] in ("o", "r") for e in events)
    screen = pyte.Screen(80, 24)
    stream = pyte.Stream(screen)
    # Feed everything up to the last frame before quitting (pyte has no alternate screen).
    out = "".join(e[2] for e in events if e[1] == "o")
    stream.feed(out[: out.rfind("\x1b[?1049l")])
    text = "\n".join(screen.display)
    assert "inverted" in text and "unrescaled" in text and "keep_prob" in text


def test_existing_record_file_is_refused_untouched(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("keep me\n")
    done = cli("--record", str(path))
    assert done.returncode == 2 and "--record" in done.stderr and "Traceback" not in done.stderr
    assert path.read_text() == "keep me\n"


