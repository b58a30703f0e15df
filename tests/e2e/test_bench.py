"""``dropout-tui bench`` runs end to end and prints the documented JSON.

No timing assertions: a benchmark's numbers depend on the machine and its load, so they are
reported (README, issue notes), never tested."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "import sys; from dropout_tui.tui.cli import main; sys.exit(main())"]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "bench", *args], capture_output=True, text=True, timeout=120)


def test_bench_quick_json_prints_three_configs():
    proc = _bench("--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # exactly one JSON object on stdout, nothing else
    configs = out["configs"]
    assert [c["name"] for c in configs] == ["A", "B", "C"]
    for c in configs:
        for key in ("steps_per_s", "pair_steps_per_s", "minor_faults_per_step"):
            assert isinstance(c[key], (int, float)) and math.isfinite(c[key]), (key, c)
        assert c["steps_per_s"] > 0 and c["pair_steps_per_s"] > 0, c
        assert c["minor_faults_per_step"] >= 0, c
        # The benchmark must time real training: a run that diverged stops updating.
        assert c["diverged"] is False, c


def test_bench_runs_under_one_blas_thread():
    proc = _bench("--quick", "--json", "--only", "A")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [c["name"] for c in out["configs"]] == ["A"]
    assert out["blas_threads"] in (1, None)


def test_bench_table_output():
    proc = _bench("--quick", "--only", "a")
    assert proc.returncode == 0, proc.stderr
    assert "2-20-3-1" in proc.stdout and "one run" in proc.stdout
    assert "idle machine" in " ".join(proc.stdout.split())  # what the targets assume, said with them


def test_bench_eval_every_sets_the_pair_interval():
    proc = _bench("--quick", "--json", "--only", "B", "--eval-every", "7")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["configs"][0]["eval_every"] == 7


@pytest.mark.parametrize("args, option", [
    (["--only", "D"], "--only"), (["--steps", "3"], "--steps"),
    (["--eval-every", "0"], "--eval-every"), (["--eval-every", "x"], "--eval-every"),
])
def test_bench_bad_option_is_one_line(args, option):
    proc = _bench(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bench_sweep_row_times_training_and_the_final_rules_apart():
    proc = _bench("--quick", "--json", "--only", "sweep")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["sweep"]
    assert row["tasks"] == 8 and set(row["wall_s"]) == {"1", "2"}
    for key in ("task_steps_per_s", "pair_steps_per_s", "task_rate_share", "final_rules_s", "time_ratio"):
        assert isinstance(row[key], (int, float)) and math.isfinite(row[key]) and row[key] > 0, (key, row)
    assert row["mc_passes"] == 50
    assert row["task_rate_share"] == pytest.approx(row["task_steps_per_s"] / row["pair_steps_per_s"])
