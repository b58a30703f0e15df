"""``dropout-tui sweep`` stopped by signals at any moment, as a terminal and a shell send them: to the
whole process group (Ctrl+C, a closed terminal, ``kill -TERM -- -PGID``), in quick succession, while
the pool is still starting, and with the sweep itself killed outright. Every case ends by itself with
128 + the signal's number, prints what finished, leaves no process behind and writes no traceback.
Also: ``--tui`` without a terminal, and a reader of the tables that goes away (``| head``)."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import threading
import time
import pytest

from test_fault_signals import caught
from test_sweep_processes import HAVE_DASK, REPO, command, group_gone, result_lines

# Tasks of a second or two on a small network: short, but still running when a signal comes.
SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--mc-max", "1", "--checkpoints", "1"]
SWEEP = ["sweep", *SMALL, "--steps", "3000", "--seeds", "1", "--keep-probs", "0.2,0.4,0.6,0.8,1", "--workers", "2"]
TASKS = 5
NOISE = ("Traceback", "KeyboardInterrupt", "Fatal Python error", "worker process died", "resource_tracker",
         "KeyError", "EOFError")


class Sweep:
    """A ``dropout-tui sweep`` in a pseudo-terminal of its own, leading its own process group."""

    def __init__(self, args: list[str]):
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([*command(), *args], stdin=slave, stdout=slave, stderr=slave, cwd=REPO,
                                     start_new_session=True)
        os.close(slave)
        self.pgid = self.proc.pid
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    def group(self) -> list[int]:
        """The processes of its group: the sweep, its fork server, resource tracker and workers."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.pgid and fields[0] != "Z":
                    pids.append(int(entry))
        return pids

    def wait_until(self, condition, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"the sweep ended before {what}: {self.text[-2000:]}"
            assert time.monotonic() < deadline, f"never: {what}"
            time.sleep(0.005)

    def wait_for_handlers(self) -> None:
        self.wait_until(lambda: caught(self.proc.pid) & (1 << (signal.SIGTERM - 1)), "handlers installed")

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def finish(self, timeout: float = 60.0) -> int:
        """Its exit status; fails (and kills the group) if it does not end within ``timeout`` s."""
        try:
            code = self.proc.wait(timeout=timeout)
            assert group_gone(self.pgid), f"a process outlived the sweep: {self.group()}"
            return code
        finally:
            if self.proc.poll() is None:
                self.signal_group(signal.SIGKILL)
                self.proc.wait()
            self.signal_group(signal.SIGKILL)
            self._reader.join(5)
            os.close(self._master)


def assert_quiet(text: str) -> None:
    for noise in NOISE:
        assert noise not in text, text[-3000:]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_during_start_up_stops_before_any_file_is_made(tmp_path, sig):
    out = tmp_path / "r.jsonl"
    sweep = Sweep([*SWEEP, "--out", str(out)])
    sweep.wait_for_handlers()  # installed by cli.main before the heavy imports: still starting
    sweep.proc.send_signal(sig)
    code = sweep.finish()
    assert code == 128 + sig, sweep.text
    assert not out.exists()
    assert_quiet(sweep.text)


# What each sends, and when it sends it again: Ctrl+C pressed three times 0.1 s apart (a person who
# wants it to stop NOW), and a closed terminal or `kill -TERM -- -PGID` reaching every process.
PRESSES = {signal.SIGINT: 3, signal.SIGTERM: 1, signal.SIGHUP: 1}


@pytest.mark.parametrize("sig", list(PRESSES), ids=lambda s: s.name)
def test_signals_to_the_whole_group_stop_the_sweep_and_print_what_finished(tmp_path, sig):
    out = tmp_path / "r.jsonl"
    sweep = Sweep([*SWEEP, "--out", str(out)])
    sweep.wait_until(lambda: result_lines(out), "a result arrived")
    for i in range(PRESSES[sig]):
        if i:
            time.sleep(0.1)
        sweep.signal_group(sig)
    code = sweep.finish()
    text = sweep.text
    assert code == 128 + sig, text
    assert_quiet(text)
    kept = result_lines(out)
    assert out.read_bytes().endswith(b"\n") and 1 <= len(kept) < TASKS, len(kept)
    assert f"stopped by {sig.name}: {len(kept)} of {TASKS} tasks finished" in text, text
    assert "test loss" in text, text  # the finished results, printed


@pytest.mark.parametrize("helpers", [1, 3], ids=["fork-server-starting", "workers-starting"])
def test_a_storm_of_ctrl_c_while_the_pool_starts_is_one_clean_stop(tmp_path, helpers):
    # helpers 1: the resource tracker or the fork server has just been started, and is importing;
    # 3: so has a worker. From then on the whole group gets a Ctrl+C every 20 ms until the end.
    sweep = Sweep([*SWEEP, "--out", str(tmp_path / "r.jsonl")])
    sweep.wait_until(lambda: len(sweep.group()) > helpers, f"{helpers} processes besides the sweep")
    deadline = time.monotonic() + 60
    while sweep.proc.poll() is None and time.monotonic() < deadline:
        sweep.signal_group(signal.SIGINT)
        time.sleep(0.02)
    code = sweep.finish()
    assert code == 130, sweep.text
    assert_quiet(sweep.text)


def test_workers_exit_when_the_sweep_is_killed_outright(tmp_path):
    # SIGKILL cannot be handled: the sweep cannot tell its workers, which ignore SIGTERM (and
    # would wait for work forever); they must notice by themselves, and the group empty.
    out = tmp_path / "r.jsonl"
    sweep = Sweep([*SWEEP, "--out", str(out)])
    sweep.wait_until(lambda: result_lines(out), "a result arrived")
    sweep.proc.send_signal(signal.SIGKILL)
    assert sweep.finish() == -signal.SIGKILL


def test_a_worker_killed_ends_the_sweep_with_one_line(tmp_path):
    out = tmp_path / "r.jsonl"
    sweep = Sweep([*SWEEP, "--out", str(out)])
    sweep.wait_until(lambda: result_lines(out), "a result arrived")
    # The workers are the fork server's children; the fork server is the sweep's.
    workers = [pid for pid in sweep.group() if pid != sweep.pgid and ppid(ppid(pid)) == sweep.pgid]
    assert workers, sweep.group()
    os.kill(workers[0], signal.SIGKILL)
    code = sweep.finish()
    assert code == 2, sweep.text
    assert "dropout-tui: error: --workers: a worker process died" in sweep.text
    assert "Traceback" not in sweep.text


def ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


@pytest.mark.skipif(not HAVE_DASK, reason="the cluster extra (dask[distributed]) is not installed")
def test_ctrl_c_to_a_local_dask_cluster_is_quiet(tmp_path):
    out = tmp_path / "r.jsonl"
    sweep = Sweep([*SWEEP, "--scheduler", "local", "--out", str(out)])
    sweep.wait_until(lambda: result_lines(out), "a result arrived", timeout=120)
    sweep.signal_group(signal.SIGINT)
    code = sweep.finish()
    assert code == 130, sweep.text
    assert_quiet(sweep.text)
    assert "stopped by SIGINT" in sweep.text


def test_the_live_view_without_a_terminal_is_refused_in_one_line(tmp_path):
    proc = subprocess.run([*command(), *SWEEP, "--tui", "--out", str(tmp_path / "r.jsonl")],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=REPO,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "stdin is not one" in lines[0] and "--tui" in lines[0], proc.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_a_reader_of_the_tables_that_goes_away_ends_the_sweep_quietly():
    # Tables and chart come in many writes: one after the reader has gone fails. (--json and --csv -
    # are one write each, which some kernels complete into a closed pipe: tests/unit covers them.)
    args = ["sweep", *SMALL, "--steps", "5", "--seeds", "1", "--keep-probs", "0.1:1:0.05", "--workers", "2"]
    proc = subprocess.Popen([*command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)  # it has begun printing
    proc.stdout.close()  # as `| head -c 1` does
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code == 128 + signal.SIGPIPE, err
    assert err == ""


def test_a_sweep_that_finishes_still_exits_0_and_prints_json(tmp_path):
    # The controls: nothing above stops a sweep that nobody signals.
    proc = subprocess.run([*command(), "sweep", *SMALL, "--steps", "20", "--seeds", "1", "--keep-probs", "0.5,1",
                           "--json"], capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["complete"] is True
