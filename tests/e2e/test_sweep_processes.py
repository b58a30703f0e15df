"""Sweeps with real processes: the same bits from any pool and worker count (and from Dask, when the
``cluster`` extra is installed); a real ``dropout-tui sweep`` stopped by a signal keeps every finished
result, leaves no worker behind, prints no traceback, and finishes the rest when run again."""

from __future__ import annotations

import json
import os
import pty
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.sweep import DEFAULT_MC_MAX, InProcess, LocalPool, SweepSpec, run_task, run_tasks

REPO = Path(__file__).resolve().parents[2]

try:
    import distributed  # noqa: F401

    HAVE_DASK = True
except ImportError:
    HAVE_DASK = False


def small_spec(**changes) -> SweepSpec:
    values = {"base": Config(layers=(8, 8), train_size=40, test_size=60).validate(),
              "keep_probs": (0.3, 0.6, 1.0), "seeds": (0, 1, 2), "steps": 60, "checkpoints": 3}
    values.update(changes)
    return SweepSpec(**values).validate()  # type: ignore[arg-type]


def collect(pool, tasks) -> str:
    """Every result, sorted by task, as one JSON text: equal texts are equal bits (floats print
    exactly; nan as NaN)."""
    got = {}
    try:
        assert run_tasks(pool, tasks, lambda t, r: got.__setitem__(t.key, r)) is True
    finally:
        pool.close()
    return json.dumps([got[k] for k in sorted(got)], sort_keys=True)


def test_results_are_identical_whatever_the_pool_worker_count_and_order():
    tasks = small_spec().tasks()
    shuffled = tasks[:]
    random.Random(1).shuffle(shuffled)
    reference = collect(InProcess(), tasks)
    assert collect(LocalPool(1), shuffled) == reference
    assert collect(LocalPool(2), tasks[::-1]) == reference
    assert len(json.loads(reference)) == len(tasks) == 9


@pytest.mark.skipif(not HAVE_DASK, reason="the cluster extra (dask[distributed]) is not installed")
def test_a_local_dask_cluster_of_processes_gives_the_same_results():
    from dropout_tui.core.sweep import DaskPool

    tasks = small_spec(seeds=(0, 1)).tasks()
    pool = DaskPool("local", workers=2)
    try:
        info = pool.client.scheduler_info()["workers"]
        assert len(info) == 2 and all(w["nthreads"] == 1 for w in info.values())
        pids = set(pool.client.run(os.getpid).values())
        assert os.getpid() not in pids and len(pids) == 2  # worker processes, not threads of this one
    except BaseException:
        pool.close()
        raise
    assert collect(pool, tasks) == collect(LocalPool(2), tasks)


def command() -> list[str]:
    exe = shutil.which("dropout-tui")
    return [exe] if exe else [sys.executable, "-m", "dropout_tui.tui.cli"]


def test_an_unreachable_scheduler_is_one_line_within_seconds():
    # Port 9 (discard) on this machine: nothing listens there.
    t0 = time.monotonic()
    proc = subprocess.run([*command(), "sweep", "--scheduler", "tcp://127.0.0.1:9", "--keep-probs", "0.5",
                           "--seeds", "1", "--steps", "10"],
                          capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dropout-tui: error: --scheduler"), proc.stderr
    assert ("cannot reach tcp://127.0.0.1:9" if HAVE_DASK else "pip install") in lines[0]
    assert elapsed < 30, elapsed  # a connect timeout, not a hang (5 s plus start-up on a loaded machine)


SWEEP = ["sweep", "--layers", "8,8", "--train-size", "40", "--test-size", "60", "--steps", "1500",
         "--checkpoints", "2", "--keep-probs", "0.1:1.0:0.1", "--seeds", "3", "--workers", "2"]


def result_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    return [json.loads(line) for line in lines[1:-1]]  # the last is empty or cut off


def group_gone(pgid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


# The whole stop-and-resume cycle with Ctrl+C; SIGTERM and SIGHUP, to the sweep and to its
# process group, are each tested stopping it in test_sweep_signals.py.
@pytest.mark.parametrize("sig", [signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_the_sweep_cleanly_and_a_rerun_finishes_it(tmp_path, sig):
    out = tmp_path / "r.jsonl"
    master, slave = pty.openpty()
    proc = subprocess.Popen([*command(), *SWEEP, "--out", str(out)], stdin=slave, stdout=slave, stderr=slave,
                            cwd=REPO, start_new_session=True)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 120
        while not result_lines(out):
            assert proc.poll() is None and time.monotonic() < deadline, "no result arrived"
            time.sleep(0.05)
        # Ctrl+C reaches the whole foreground process group; kill and a closed terminal the sweep.
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        code = proc.wait(timeout=60)
        assert group_gone(proc.pid), "a worker process outlived the sweep"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        os.close(master)
    text = screen.decode("utf-8", "replace")
    assert code == 128 + sig, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    kept = result_lines(out)
    assert out.read_bytes().endswith(b"\n") and 1 <= len(kept) < 30, len(kept)
    if sig != signal.SIGHUP:
        assert f"stopped by {sig.name}: {len(kept)} of 30 tasks finished" in text, text

    # Run again with the same file: only the missing tasks run, and the file ends up complete.
    again = subprocess.run([*command(), *SWEEP, "--out", str(out), "--json"], capture_output=True, text=True,
                           timeout=600, cwd=REPO, check=False)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(kept)} of 30 tasks" in again.stderr
    final = result_lines(out)
    assert len(final) == 30 and len({(r["keep_prob"], r["seed"]) for r in final}) == 30
    data = json.loads(again.stdout)
    assert data["complete"] is True and len(data["results"]) == 30
    # A result made before the interruption is the one a fresh run makes.
    first = kept[0]
    spec = SweepSpec(Config(layers=(8, 8), train_size=40, test_size=60, mc_max=DEFAULT_MC_MAX).validate(),
                     (first["keep_prob"],),
                     (first["seed"],), steps=1500, checkpoints=2).validate()
    fresh = json.loads(json.dumps(run_task(spec.tasks()[0])))
    assert {k: v for k, v in first.items() if k != "type"} == fresh


def test_bench_has_a_sweep_row():
    proc = subprocess.run([*command(), "bench", "--quick", "--json", "--only", "sweep"], capture_output=True,
                          text=True, timeout=300, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["configs"] == []
    row = out["sweep"]
    assert row["tasks"] == 8 and set(row["wall_s"]) == {"1", "2"}
    for key in ("speedup", "time_ratio", "task_steps_per_s", "pair_steps_per_s", "task_rate_share"):
        assert isinstance(row[key], float) and row[key] > 0, (key, row)
    assert abs(row["speedup"] * row["time_ratio"] - 1) < 1e-9
