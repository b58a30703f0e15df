"""Fault kind: signals and the terminal, in pseudo-terminals, with signals sent at controlled
moments: as soon as the process has its handlers (``/proc/PID/status`` SigCgt), that is while it is
still starting (imports, building the experiment, making files, switching the terminal), and at
delays after that; two signals a millisecond apart; SIGSTOP and SIGCONT; a storm of resizes."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest
from dropout_tui.core.session import read_session
from dropout_tui.tui.bench_ui import ScreenReader
from dropout_tui.tui.ptyharness import PtyApp

EXE = shutil.which("dropout-tui")
COMMAND = [EXE] if EXE else [sys.executable, "-m", "dropout_tui.tui.cli"]
SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10"]
HEADLESS = ["--headless", *SMALL, "--steps", "10000000"]


def caught(pid: int) -> int:
    """The signals ``pid`` has handlers for (SigCgt), as a bit mask; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return 0


def wait_for_handlers(app: PtyApp, timeout: float = 30.0) -> None:
    """Until the process catches SIGTERM: ours, installed by ``cli.main`` before heavy imports
    (Python itself catches only SIGINT)."""
    deadline = time.monotonic() + timeout
    while not caught(app.pid) & (1 << (signal.SIGTERM - 1)):
        assert time.monotonic() < deadline, "the handlers never came"
        time.sleep(0.0005)


def modes(fd: int):
    attrs = termios.tcgetattr(fd)
    return attrs[0], attrs[1], attrs[3]  # iflag, oflag, lflag


def check_log(path: Path, reason: str) -> None:
    """No file, or a complete log closed for ``reason``: never a header alone."""
    if not path.exists():
        return
    session = read_session(path)
    assert session.warnings == [] and session.close is not None and session.close.reason == reason


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.4, 1.0])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_signals_at_start_up_headless(tmp_path, sig, delay):
    log = tmp_path / "s.jsonl"
    app = PtyApp([*COMMAND, *HEADLESS, "--record", str(log)], 80, 24)
    try:
        wait_for_handlers(app)
        time.sleep(delay)
        app.kill(sig)
        assert app.wait_exit(20) == 128 + sig
    finally:
        app.close()
    out = app.output
    assert b"Traceback" not in out and b"KeyboardInterrupt" not in out, out[-2000:]
    check_log(log, sig.name)


@pytest.mark.parametrize("sig, delay", [(signal.SIGTERM, d) for d in (0.0, 0.1, 0.3, 0.6, 1.5)]
                         + [(signal.SIGINT, d) for d in (0.0, 0.3, 1.0)])
def test_signals_at_start_up_app(tmp_path, sig, delay):
    log = tmp_path / "s.jsonl"
    app = PtyApp([*COMMAND, *SMALL, "--record", str(log)], 80, 24)
    try:
        before = modes(app.fd)
        wait_for_handlers(app)
        time.sleep(delay)
        app.kill(sig)
        assert app.wait_exit(20) == 128 + sig
        after = modes(app.fd)
    finally:
        app.close()
    out = app.output
    assert b"Traceback" not in out and b"KeyboardInterrupt" not in out, out[-2000:]
    assert after == before
    if b"\x1b[?1049h" in out:  # it had switched to the alternate screen: and back
        assert out.rfind(b"\x1b[?1049l") > out.rfind(b"\x1b[?1049h")
    check_log(log, sig.name)


def start_running(tmp_path, *args) -> tuple[PtyApp, Path]:
    log = tmp_path / "s.jsonl"
    app = PtyApp([*COMMAND, *args, "--record", str(log)], 80, 24)
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_bytes().count(b'"type":"snapshot"') >= 2):
        assert time.monotonic() < deadline, app.output[-2000:]
        time.sleep(0.02)
    return app, log


@pytest.mark.parametrize("args", [HEADLESS, SMALL], ids=["headless", "app"])
def test_signals_two_a_millisecond_apart_one_decides(tmp_path, args):
    app, log = start_running(tmp_path, *args)
    try:
        os.kill(app.pid, signal.SIGTERM)
        time.sleep(0.001)
        os.kill(app.pid, signal.SIGHUP)
        status = app.wait_exit(20)
    finally:
        app.close()
    session = read_session(log)
    # Both may be pending when the process next runs, and then the kernel delivers the lower
    # number first: either may come first, but the one that did decides both.
    assert session.close.reason in ("SIGTERM", "SIGHUP")
    assert status == 128 + signal.Signals[session.close.reason]
    assert sum(1 for line in log.read_text().splitlines() if json.loads(line)["type"] == "close") == 1


def test_signals_stop_and_continue_then_quit_restores_the_modes_from_before(tmp_path):
    app = PtyApp([*COMMAND, *SMALL], 80, 24)
    screen = ScreenReader(app)
    try:
        before = modes(app.fd)
        assert screen.wait_until(lambda text: "running" in text, 30) is not None
        os.kill(app.pid, signal.SIGSTOP)
        time.sleep(0.3)
        os.kill(app.pid, signal.SIGCONT)
        time.sleep(1.0)
        app.send("q")
        assert app.wait_exit(10) == 0
        after = modes(app.fd)
    finally:
        app.close()
    assert after == before
    assert after[2] & termios.ECHO and after[2] & termios.ICANON  # the shell echoes again


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_signals_a_storm_of_resizes_keeps_memory_flat_and_keys_working(tmp_path):
    app = PtyApp([*COMMAND], 100, 40)
    screen = ScreenReader(app)
    try:
        assert screen.wait_until(lambda text: "running" in text, 30) is not None
        time.sleep(2.0)
        before = _rss_mb(app.pid)
        for i in range(200):  # 200 resizes in 5 s
            rows, cols = 34 + i % 16, 80 + i % 40
            fcntl.ioctl(app.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.kill(app.pid, signal.SIGWINCH)
            time.sleep(0.025)
        fcntl.ioctl(app.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        os.kill(app.pid, signal.SIGWINCH)
        screen.screen.resize(40, 100)
        sent = app.send("+")
        assert screen.wait_until(lambda text: "keep_prob 0.55" in text, 30, since=sent) is not None
        time.sleep(1.0)
        after = _rss_mb(app.pid)
        app.send("q")
        assert app.wait_exit(10) == 0
    finally:
        app.close()
    assert after < before + 40, (before, after)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_after_the_command_has_finished_does_not_change_its_exit_status(sig):
    # The console script calls main() and then exits; a second signal sent just after the first
    # can arrive in between, once the command has closed its files. It must be noted, not kill
    # the process by its default action (which would turn exit 143 into death by SIGHUP).
    code = (
        "import os, sys\n"
        "from dropout_tui.tui.cli import main\n"
        "sys.argv = ['dropout-tui', '--headless', '--layers', '4', '--steps', '3', '--train-size', '20',"
        " '--test-size', '20']\n"
        "status = main()\n"
        f"os.kill(os.getpid(), {int(sig)})\n"
        "print('exiting', status, flush=True)\n"
        "sys.exit(status)\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "exiting 0" in done.stdout
