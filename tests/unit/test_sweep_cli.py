"""``dropout-tui sweep`` in process: bad input is one line and exit 2; the outputs (JSON, CSV, tables,
chart) say what the results say."""

from __future__ import annotations

import csv
import io
import json

import pytest
from dropout_tui.core.sweep import CSV_COLUMNS, RULE_NAMES, ResultsFile, run_task
from dropout_tui.tui.cli import main
from dropout_tui.tui.sweep_cmd import parse

SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--steps", "20", "--checkpoints", "2"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, option", [
    (["--keep-probs", ""], "--keep-probs"),
    (["--keep-probs", "0,0.5"], "--keep-probs"),
    (["--keep-probs", "0.5:1.5:0.5"], "--keep-probs"),
    (["--keep-probs", "0.2:0.1:0.1"], "--keep-probs"),
    (["--seeds", "0"], "--seeds"),
    (["--seeds", "x"], "--seeds"),
    (["--workers", "0"], "--workers"),
    (["--steps", "0"], "--steps"),
    (["--steps", "2000000"], "--steps"),
    (["--checkpoints", "0"], "--checkpoints"),
    (["--keep-prob", "0.5"], "--keep-prob"),
    (["--seed", "3"], "--seed"),
    (["--input-keep-prob", "0.8"], "--input-keep-prob"),
    (["--eval-every", "10"], "--eval-every"),
    (["--scheduler", "nowhere"], "--scheduler"),
    (["--scheduler", "tcp://h:1", "--workers", "2"], "--workers"),
    (["--json", "--tui"], "--json"),
    (["--metric", "auc"], "--metric"),
    (["--lr", "-1"], "--lr"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, option):
    code, out, err = run(capsys, *SMALL, *args)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dropout-tui: error: ") and option in lines[0], err


def test_a_results_file_from_another_configuration_is_refused(capsys, tmp_path):
    path = tmp_path / "r.jsonl"
    request = parse([*SMALL, "--keep-probs", "0.5", "--seeds", "1", "--lr", "0.1"])
    ResultsFile.open(path, request.spec).close()
    code, _out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--out", str(path))
    assert code == 2 and "--lr 0.1, not 0.3" in err and len(err.strip().splitlines()) == 1


def test_an_existing_csv_is_refused_without_force(capsys, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("keep me")
    code, _, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--csv", str(path))
    assert code == 2 and "--force" in err and path.read_text() == "keep me"


def test_json_holds_every_result_and_its_summary(capsys):
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5,1", "--seeds", "2", "--workers", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["complete"] is True and data["keep_probs"] == [0.5, 1.0] and data["seeds"] == [0, 1]
    assert len(data["results"]) == 4 and set(data["rules"]) == set(RULE_NAMES)
    # The numbers are the tasks' own: recompute one in this process.
    request = parse([*SMALL, "--keep-probs", "0.5,1", "--seeds", "2"])
    task = next(t for t in request.spec.tasks() if t.key == (0.5, 1.0, 1))
    mine = json.loads(json.dumps(run_task(task)))
    theirs = next(r for r in data["results"] if (r["keep_prob"], r["seed"]) == (0.5, 1))
    assert theirs == mine
    rows = [r for r in data["summary"]
            if r["keep_prob"] == 0.5 and r["rule"] == "inverted" and r["metric"] == "test_loss"]
    losses = [r["final"]["inverted"]["test_loss"] for r in data["results"] if r["keep_prob"] == 0.5]
    assert len(rows) == 1 and rows[0]["min"] == min(losses) and rows[0]["max"] == max(losses) and rows[0]["n"] == 2


def test_csv_to_stdout(capsys):
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "2", "--workers", "1", "--csv", "-")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 2 * 2 * len(RULE_NAMES)  # tasks × checkpoints × rules


def test_the_table_and_chart_in_ascii(capsys, tmp_path):
    out_file = tmp_path / "r.jsonl"
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5,1", "--seeds", "2", "--workers", "2",
                         "--ascii", "--out", str(out_file))
    assert code == 0, err
    assert all(ord(ch) < 128 for ch in out), [ch for ch in out if ord(ch) >= 128][:5]
    assert "test loss after 20 steps" in out and "test accuracy after 20 steps" in out
    assert "unrescaled xp" in out and "against keep_prob" in out
    # The file holds all four results; a second run resumes and runs nothing.
    held = ResultsFile.open(out_file, parse([*SMALL, "--keep-probs", "0.5,1", "--seeds", "2"]).spec)
    held.close()
    assert len(held.done) == 4
    code, out2, err = run(capsys, *SMALL, "--keep-probs", "0.5,1", "--seeds", "2", "--ascii", "--out", str(out_file))
    assert code == 0 and "resuming: 4 of 4" in err and out2 == out
