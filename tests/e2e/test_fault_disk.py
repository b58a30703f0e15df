"""Fault kind: a disk that fills up, for real: a 64 kB tmpfs mounted for the test (as root; skipped
where mounting is not allowed, where tests/unit/test_fault_files.py's failing writes still run).
A write error stops that file cleanly and says so once; everything else goes on; the app never
freezes and gives the terminal back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import termios
import time
import uuid

import pytest
from dropout_tui.core.session import read_session
from dropout_tui.tui.bench_ui import ScreenReader
from dropout_tui.tui.ptyharness import PtyApp

EXE = shutil.which("dropout-tui")
COMMAND = [EXE] if EXE else [sys.executable, "-m", "dropout_tui.tui.cli"]
SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "5"]


@pytest.fixture
def full_disk(tmp_path):
    """A directory on a 64 kB filesystem."""
    where = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def run(*args, timeout=120):
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("option", ["--record", "--csv"])
def test_full_disk_headless_stops_the_file_says_so_once_and_goes_on(full_disk, tmp_path, option):
    target = full_disk / ("s.jsonl" if option == "--record" else "m.csv")
    other = tmp_path / ("m.csv" if option == "--record" else "s.jsonl")
    other_option = "--csv" if option == "--record" else "--record"
    done = run("--headless", *SMALL, "--steps", "2000", "--json", option, str(target), other_option, str(other))
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"dropout-tui: error: {option}: cannot write {target}: No space left on device")
    assert done.returncode == 2
    assert json.loads(done.stdout)["step"] == 2000  # training went on to the end
    data = target.read_bytes()
    assert data.endswith(b"\n")  # never ends mid-line
    if option == "--record":
        session = read_session(target)  # what is there replays
        assert session.n_snapshots > 0
        assert (session.close is not None and session.close.reason == "write error") or \
            "without its close record" in lines[0]
        # the CSV got every snapshot: a header, then both runs at steps 0, 5, ..., 2000
        assert len(other.read_text().splitlines()) == 1 + 2 * (2000 // 5 + 1)
    else:
        assert len(data.splitlines()) % 2 == 1  # the header and both runs of each snapshot written
        assert read_session(other).close.reason == "end"


def _modes(fd):
    attrs = termios.tcgetattr(fd)
    return attrs[0], attrs[3]  # iflag, lflag: echo, canonical mode, signals, CR translation


def test_full_disk_cast_in_the_app_does_not_freeze_and_the_terminal_comes_back(full_disk, tmp_path):
    cast = full_disk / "s.cast"
    app = PtyApp([*COMMAND, *SMALL, "--cast", str(cast), "--record", str(tmp_path / "s.jsonl")], 80, 24)
    screen = ScreenReader(app)
    try:
        before = _modes(app.fd)
        assert screen.wait_until(lambda text: "--cast: cannot write" in text, 30) is not None  # the notice
        app.send("+")
        time.sleep(0.5)
        app.send("q")
        assert app.wait_exit(10) == 2
        after = _modes(app.fd)
    finally:
        app.close()
    out = app.output
    assert b"Traceback" not in out
    tail = out[out.rfind(b"\x1b[?1049l"):]
    assert b"\x1b[?1049l" in out and b"\x1b[?1000l" in tail and b"\x1b[?25h" in tail
    assert after == before
    assert f"error: --cast: cannot write {cast}: No space left on device".encode() in tail
    session = read_session(tmp_path / "s.jsonl")
    assert session.close.reason == "quit" and any(r.change.kind == "keep_prob" for r in session.records()
                                                  if hasattr(r, "change"))
    assert cast.read_bytes().endswith(b"\n")


def test_full_disk_record_in_the_app_is_a_notice(full_disk):
    log = full_disk / "s.jsonl"
    app = PtyApp([*COMMAND, *SMALL, "--record", str(log)], 80, 24)
    screen = ScreenReader(app)
    try:
        assert screen.wait_until(lambda text: "--record: cannot write" in text, 60) is not None
        app.send("q")
        assert app.wait_exit(10) == 2
    finally:
        app.close()
    assert b"Traceback" not in app.output
    assert log.read_bytes().endswith(b"\n")
    assert read_session(log).n_snapshots > 0
    assert not os.path.exists(str(log) + ".part")


def test_full_disk_kin_a_closed_pipe_on_csv_stdout_ends_quietly(tmp_path):
    """EPIPE, the other write error: ``--csv - | head`` stops the run as SIGPIPE would (status
    141, nothing on stderr), and the log is closed for it."""
    log = tmp_path / "s.jsonl"
    line = " ".join([*(f"'{c}'" for c in COMMAND), "--headless", *SMALL, "--steps", "2000000", "--csv", "-",
                     "--record", f"'{log}'", "| head -3 > /dev/null; echo ${PIPESTATUS[0]} >&2"])
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr.strip() == "141", done.stderr
    session = read_session(log)
    assert session.close.reason == "SIGPIPE" and session.close.step < 2_000_000


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--headless", *SMALL, "--steps", "20"],
                                  ["--headless", *SMALL, "--steps", "20", "--json"],
                                  ["--version"]])
def test_full_disk_under_stdout_is_one_line_and_status_2(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([*COMMAND, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == ["dropout-tui: error: cannot write the output: No space left on device"]
