"""Fault kinds across processes: special files given to ``replay`` (a pipe on stdin, ``<(cat log)``,
a FIFO), bit-identity whoever calls the replay (a multi-threaded BLAS in plain Python), and memory:
the estimate against what a process really uses, and the app refusing what does not fit before
it touches the terminal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path

import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.session import SessionLog
from dropout_tui.core.stepping import advance_with_snapshots
from dropout_tui.tui.ptyharness import PtyApp
from threadpoolctl import threadpool_limits

EXE = shutil.which("dropout-tui")
COMMAND = [EXE] if EXE else [sys.executable, "-m", "dropout_tui.tui.cli"]
SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10", "--steps", "50"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "s.jsonl"
    done = subprocess.run([*COMMAND, "--headless", *SMALL, "--json", "--record", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return path


def verified(recorded: Path) -> str:
    """What --verify says of the whole of ``recorded``: every snapshot line compared."""
    n = sum(json.loads(line)["type"] == "snapshot" for line in recorded.read_text().splitlines())
    return f"verified: {n} snapshots"


def verify(*args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def test_special_dev_stdin_from_a_pipe(recorded):
    with open(recorded, "rb") as f:
        done = verify(*COMMAND, "replay", "/dev/stdin", "--verify", stdin=f)  # a regular file on stdin
    assert done.returncode == 0 and verified(recorded) in done.stdout, done.stderr
    cat = subprocess.Popen(["cat", str(recorded)], stdout=subprocess.PIPE)
    done = verify(*COMMAND, "replay", "/dev/stdin", "--verify", stdin=cat.stdout)  # a pipe
    cat.wait()
    assert done.returncode == 0 and verified(recorded) in done.stdout, done.stderr


def test_special_process_substitution(recorded):
    line = " ".join([*(f"'{c}'" for c in COMMAND), "replay", f"<(cat '{recorded}')", "--verify"])
    done = verify("bash", "-c", line)
    assert done.returncode == 0 and verified(recorded) in done.stdout, done.stderr


def test_special_fifo_in_a_subprocess_and_the_app_needs_a_terminal(recorded, tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(recorded.read_bytes())

    for extra, code in ((["--verify"], 0), ([], 2)):
        t = threading.Thread(target=feed, daemon=True)
        t.start()
        done = verify(*COMMAND, "replay", str(fifo), *extra, stdin=subprocess.DEVNULL)
        t.join(10)
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
    assert "the app reads its keys from a terminal, and stdin is not one" in done.stderr


def test_special_a_fifo_nobody_writes_to_ends_on_sigterm(tmp_path):
    """Opening a FIFO waits for a writer; a signal must end that wait, not be noted and ignored."""
    fifo = tmp_path / "silent.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*COMMAND, "replay", str(fifo), "--headless"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)  # past start-up: waiting in open()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err


RECORD_AND_VERIFY = textwrap.dedent("""
    import json, sys
    from dropout_tui.core.session import read_session
    from dropout_tui.core.replay import Replayer
    from threadpoolctl import threadpool_info
    threads = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=0)
    rep = Replayer(read_session(sys.argv[1]), verify=True, rtol=0.0).run()
    after = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=0)
    print(json.dumps({"threads": threads, "after": after, "compared": rep.snapshots_compared,
                      "mismatch": None if rep.mismatch is None else str(rep.mismatch)}))
""")


def test_bit_identity_whoever_calls_the_replayer(tmp_path):
    """Recorded here on one BLAS thread; verified from plain Python (no CLI) in a process whose
    BLAS runs on two threads: the Replayer pins what bit-identity needs itself."""
    path = tmp_path / "s.jsonl"
    config = Config(layers=(64, 64), train_size=200, test_size=1000, eval_every=20)
    with threadpool_limits(limits=1, user_api="blas"), SessionLog(path, config) as log:
        from dropout_tui.core.experiment import PairedExperiment

        exp = PairedExperiment(config)
        log.snapshot(exp.snapshot())
        advance_with_snapshots(exp, 100, log.snapshot)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    done = verify(sys.executable, "-c", RECORD_AND_VERIFY, str(path), env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["threads"] == 2  # the caller's BLAS really is multi-threaded
    assert result["compared"] == 6 and result["mismatch"] is None, result
    assert result["after"] == result["threads"]  # and it gives the caller its BLAS back as it was


def test_memory_estimate_errs_high(tmp_path):
    """The estimate against the resident memory a real process uses after a few steps and a
    snapshot: never below it, and not wildly above."""
    script = textwrap.dedent("""
        import json, sys
        from dropout_tui.core.config import Config, estimate_bytes
        from dropout_tui.core.experiment import PairedExperiment
        def rss():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS"))
        config = Config.from_dict(json.loads(sys.argv[1]))
        before = rss()
        exp = PairedExperiment(config); exp.advance(3); exp.snapshot(); exp.advance(2)
        print(json.dumps({"used": rss() - before, "estimate": estimate_bytes(config)}))
    """)
    for config in ({"layers": [512, 512], "train_size": 5000, "test_size": 5000},
                   {"layers": [256] * 4, "train_size": 4000, "test_size": 1000, "batch_size": 500,
                    "optimizer": "adam"}):
        done = verify(sys.executable, "-c", script, json.dumps(config))
        assert done.returncode == 0, done.stderr
        m = json.loads(done.stdout)
        assert m["used"] <= m["estimate"] <= 3 * m["used"], (config, m)


def test_memory_the_app_refuses_what_does_not_fit_before_touching_the_terminal():
    app = PtyApp([*COMMAND, "--layers", ",".join(["4096"] * 16), "--train-size", "1000000"], 80, 24)
    try:
        before = termios.tcgetattr(app.fd)
        assert app.wait_exit(60) == 2
        after = termios.tcgetattr(app.fd)
    finally:
        app.close()
    out = app.output
    assert b"\x1b[?1049h" not in out and b"Traceback" not in out
    assert b"--layers: this experiment needs about" in out
    assert after == before
