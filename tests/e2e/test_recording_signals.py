"""Durability: a real ``dropout-tui --headless --record`` process, running in a pseudo-terminal, is
stopped by SIGHUP / SIGTERM / SIGINT (and by closing its terminal, as a dropped SSH connection does):
the log must parse and end with its close record. After ``kill -9`` every line but maybe the last
must parse, and what is there must still replay."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import read_session

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--headless", "--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10",
        "--steps", "10000000"]


def command() -> list[str]:
    # The console script installed with this interpreter, not the first on PATH (another checkout's).
    script = Path(sys.executable).with_name("dropout-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dropout_tui.tui.cli"]


def _winsize(fd: int, cols: int = 80, rows: int = 24) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def wait_for_snapshots(path: Path, n: int = 2, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_bytes()
            if text.count(b"\n") >= 1 + n and b'"type":"snapshot"' in text:
                return
        time.sleep(0.02)
    raise AssertionError(f"{path} got no snapshots within {timeout} s")


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def start(path: Path):
    master, slave = pty.openpty()
    _winsize(slave)
    proc = subprocess.Popen(command() + ARGS + ["--record", str(path)], stdin=slave, stdout=slave,
                            stderr=slave, cwd=REPO, start_new_session=True)
    os.close(slave)
    return proc, master


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_closes_the_log(tmp_path, sig):
    path = tmp_path / "s.jsonl"
    proc, master = start(path)
    try:
        wait_for_snapshots(path)
        proc.send_signal(sig)
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    screen = read_all(master)
    os.close(master)
    assert code == 128 + sig, screen
    assert "Traceback" not in screen
    session = read_session(path)
    assert session.warnings == []
    assert session.close is not None and session.close.reason == sig.name
    assert path.read_bytes().endswith(b"\n")
    if sig != signal.SIGHUP:
        assert f"stopped by {sig.name}" in screen


def test_closing_the_terminal_closes_the_log(tmp_path):
    """What an SSH drop does: the pty's master side goes away, the kernel sends SIGHUP."""
    path = tmp_path / "s.jsonl"
    pid, master = pty.fork()
    if pid == 0:  # child
        try:
            os.chdir(REPO)
            _winsize(0)  # before exec, so the program reads it at start (see PtyApp)
            cmd = command() + ARGS + ["--record", str(path)]
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    try:
        # Wait for the progress bar (drawn after a second): its refresh thread writes to the
        # terminal that is about to vanish, the hardest case for a clean exit.
        deadline = time.monotonic() + 15
        screen = b""
        while time.monotonic() < deadline and b"training" not in screen:
            try:
                screen += os.read(master, 65536)  # keep the terminal drained, as a real one would
            except OSError:
                break
        assert b"training" in screen
        assert path.read_bytes().count(b"\n") >= 3
        os.close(master)
        deadline = time.monotonic() + 15
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "still running after its terminal closed"
            time.sleep(0.02)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGHUP
    session = read_session(path)
    assert session.close is not None and session.close.reason == "SIGHUP"


def test_kill_9_leaves_at_most_the_last_line_incomplete(tmp_path):
    path = tmp_path / "s.jsonl"
    proc, master = start(path)
    try:
        wait_for_snapshots(path, n=5)
        proc.kill()
        assert proc.wait(timeout=15) == -signal.SIGKILL
    finally:
        os.close(master)
    lines = path.read_bytes().split(b"\n")
    import json

    for line in lines[:-1]:
        json.loads(line)  # every complete line parses
    session = read_session(path)
    assert session.close is None and session.n_snapshots >= 5
    assert session.warnings  # cut off: says so
    assert Replayer(session, verify=True).run().mismatch is None


HELPER_SCRIPT = """
import asyncio, os, signal, sys
from dropout_tui.tui.signals import install_close_on_signals, StopOnSignals

# 1. plain handlers: the callback runs, then the old handler is back
got = []
restore = install_close_on_signals(got.append)
os.kill(os.getpid(), signal.SIGHUP)
os.kill(os.getpid(), signal.SIGINT)
restore()
assert got == [signal.SIGHUP, signal.SIGINT], got
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

# 2. inside an asyncio loop (as in a Textual app): an ordinary loop callback
async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    seen = []
    restore = install_close_on_signals(lambda s: (seen.append(s), done.set()), loop=loop)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(done.wait(), 5)
    restore()
    return seen
assert asyncio.run(main()) == [signal.SIGTERM]

# 3. StopOnSignals: the first signal asks, the second insists, with the first one's status
with StopOnSignals() as stop:
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested and stop.exit_status == 143
    try:
        os.kill(os.getpid(), signal.SIGINT)
    except SystemExit as exc:
        assert exc.code == 143, exc.code
    else:
        raise AssertionError("second signal did not stop")
print("ok")
"""


def test_signal_helpers():
    out = subprocess.run([sys.executable, "-c", HELPER_SCRIPT], cwd=REPO, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
