"""``dropout-tui sweep`` in process: bad input is one line and exit 2; the outputs (JSON, CSV, tables,
chart) say what the results say."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from dropout_tui.core.csv_data import CsvDataError
from dropout_tui.core.sweep import CHECKPOINT_RULES, RULE_NAMES, ResultsFile, csv_columns, run_task
from dropout_tui.tui.cli import main
from dropout_tui.tui.sweep_cmd import Sweep, parse

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
    (["--metric", "r2"], "--metric r2"),  # classification has no R²
    (["--dataset", "sine", "--metric", "acc"], "--metric acc"),  # regression has no accuracy
    (["--rules", "inverted,nope"], "--rules"),
    (["--rules", ","], "--rules"),
    (["--mc-max", "0"], "--mc-max"),
    (["--rules", "inverted,inverted"], "--rules"),
    (["--lr", "-1"], "--lr"),
    (["--seeds", "100000000"], "--seeds"),  # refused before a list of them is made
    (["--out", ""], "--out"),
    (["--csv", ""], "--csv"),
    (["--csv", "/nonexistent-dir/x.csv"], "--csv"),
    (["--out", "/dev/null"], "--out"),  # not a regular file: nothing to resume, no end to its bytes
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
    assert tuple(rows[0]) == csv_columns(False)
    # Per task: the first checkpoint's deterministic rules, then every rule at the last.
    assert len(rows) == 1 + 2 * (len(CHECKPOINT_RULES) + len(RULE_NAMES))


def test_a_regression_sweep_reports_mse_and_r2(capsys):
    code, out, err = run(capsys, *SMALL, "--dataset", "sine", "--train-size", "30", "--test-size", "40",
                         "--keep-probs", "0.5", "--seeds", "1", "--workers", "1", "--metric", "r2", "--mc-max", "10")
    assert code == 0, err
    assert "test MSE" in out and "test R²" in out and "accuracy" not in out
    assert "R² against keep_prob" in out and "T = 10 passes" in out


def test_rules_choose_what_the_tables_and_chart_show(capsys):
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--workers", "1",
                         "--rules", "unrescaled_mc,unrescaled")
    assert code == 0, err
    assert "unrescaled, MC" in out and "inverted" not in out and "dropout on," not in out
    words = " ".join(out.split())  # a title wider than its narrow table wraps
    assert "no dropout at prediction" in words and "dropout on at prediction" in words


def test_the_table_and_chart_in_ascii(capsys, tmp_path):
    out_file = tmp_path / "r.jsonl"
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5,1", "--seeds", "2", "--workers", "2",
                         "--ascii", "--out", str(out_file))
    assert code == 0, err
    assert all(ord(ch) < 128 for ch in out), [ch for ch in out if ord(ch) >= 128][:5]
    for title in ("test loss", "test accuracy"):
        for group in ("no dropout at prediction", "dropout on at prediction"):
            assert f"{title}, {group}" in out
    assert "over 2 seeds after 20 steps" in out and "T = 50 passes" in out
    assert "unrescaled xp" in out and "against keep_prob" in out and "unrescaled, MC" in out
    # The file holds all four results; a second run resumes and runs nothing.
    held = ResultsFile.open(out_file, parse([*SMALL, "--keep-probs", "0.5,1", "--seeds", "2"]).spec)
    held.close()
    assert len(held.done) == 4
    code, out2, err = run(capsys, *SMALL, "--keep-probs", "0.5,1", "--seeds", "2", "--ascii", "--out", str(out_file))
    assert code == 0 and "resuming: 4 of 4" in err and out2 == out


# --- a sweep over a user's CSV --------------------------------------------------------------------

IRIS = Path(__file__).resolve().parents[1] / "data" / "iris.csv"
ON_IRIS = ["--data", str(IRIS), "--layers", "8", "--steps", "40", "--checkpoints", "2"]


def test_a_sweep_over_a_csv_runs_in_worker_processes_with_the_file_carried(capsys, tmp_path):
    copy = tmp_path / "iris.csv"
    shutil.copy(IRIS, copy)
    request = parse(["--data", str(copy), *ON_IRIS[2:], "--keep-probs", "0.5,1", "--seeds", "2",
                     "--workers", "2", "--json"])
    assert request.spec.data is not None and "text" in request.spec.data["train"]  # small: embedded
    task = next(t for t in request.spec.tasks() if t.key == (0.5, 1.0, 1))
    copy.unlink()  # read once when the sweep starts; the workers need no file: every task carries the text
    code = Sweep(request).main()
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["config"]["dataset"] == "csv" and len(data["results"]) == 4
    assert data["data_sha256"]["train"] == hashlib.sha256(IRIS.read_bytes()).hexdigest()
    theirs = next(r for r in data["results"] if (r["keep_prob"], r["seed"]) == (0.5, 1))
    assert theirs == json.loads(json.dumps(run_task(task)))  # the same numbers as in this process
    assert "test_acc" in theirs["final"]["inverted"]


def test_a_large_csv_is_checked_by_hash_in_every_task(tmp_path, monkeypatch):
    from dropout_tui.core import csv_data

    monkeypatch.setattr(csv_data, "EMBED_LIMIT", 100)  # iris.csv counts as large: referenced
    copy = tmp_path / "iris.csv"
    shutil.copy(IRIS, copy)
    request = parse(["--data", str(copy), *ON_IRIS[2:], "--keep-probs", "0.5", "--seeds", "1"])
    task = request.spec.tasks()[0]
    assert "text" not in task.data["train"]
    assert run_task(task)["final"]["inverted"]["test_acc"] is not None
    copy.write_text(IRIS.read_text().replace("5.1,3.5", "5.2,3.5", 1))  # changed mid-sweep
    with pytest.raises(CsvDataError, match="is not the file this session was recorded with"):
        run_task(task)


def test_a_results_file_from_other_data_is_refused(capsys, tmp_path):
    path = tmp_path / "r.jsonl"
    other = tmp_path / "iris.csv"
    other.write_text(IRIS.read_text().replace("5.1,3.5", "5.2,3.5", 1))
    ResultsFile.open(path, parse(["--data", str(other), *ON_IRIS[2:], "--keep-probs", "0.5", "--seeds", "1"]
                                 ).spec).close()
    shutil.copy(IRIS, other)  # the same options and path, other content
    code, _out, err = run(capsys, "--data", str(other), *ON_IRIS[2:], "--keep-probs", "0.5", "--seeds", "1",
                          "--out", str(path))
    assert code == 2 and "other data (train SHA-256" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, words", [
    ("a,b,y\n1,2,u\n3,x,v\n", "line 3, column 2 (b): 'x' is not a number"),
    ("a,y\n1,u\n2,u\n3,v\n4,v\n", "too few to split"),
])
def test_a_bad_csv_is_one_line_before_any_worker_starts(capsys, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, _out, err = run(capsys, "--data", str(path), "--keep-probs", "0.5", "--seeds", "1", "--steps", "5")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and "worker" not in err


def test_errors_raised_in_a_worker_survive_pickling():
    import pickle

    from dropout_tui.core.config import ConfigError

    e = pickle.loads(pickle.dumps(CsvDataError("f.csv", "bad", line=3, column=2, column_name="b")))
    assert str(e) == "f.csv: line 3, column 2 (b): bad" and (e.line, e.column) == (3, 2)
    c = pickle.loads(pickle.dumps(ConfigError("--lr", "expected a number")))
    assert str(c) == "--lr: expected a number" and c.option == "--lr"


def test_the_results_file_and_the_csv_cannot_be_one_file(capsys, tmp_path):
    """Otherwise the CSV, written last, would replace every result; found before any work."""
    path = tmp_path / "same"
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--out", str(path),
                         "--csv", str(path), "--force")
    assert code == 2 and out == "" and "--csv" in err and "--out" in err
    assert not path.exists()  # refused before the results file was made


def test_a_results_file_from_before_a_new_option_still_resumes(tmp_path):
    """Options added since a results file was made (e.g. --data) count as their defaults in it,
    so an unchanged sweep keeps its finished results."""
    path = tmp_path / "r.jsonl"
    spec = parse([*SMALL, "--keep-probs", "0.5", "--seeds", "1"]).spec
    ResultsFile.open(path, spec).close()
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    for name in ("data", "test_data", "label"):
        header["config"].pop(name)
    path.write_text(json.dumps(header) + "\n")
    ResultsFile.open(path, spec).close()  # no error: the same sweep
    changed = parse([*SMALL, "--keep-probs", "0.5", "--seeds", "1", "--mc-max", "20"]).spec
    with pytest.raises(Exception, match="--mc-max 50, not 20"):
        ResultsFile.open(path, changed)


def test_a_csv_that_could_not_be_written_is_refused_before_the_sweep(capsys, tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--csv", str(target), "--force")
    assert code == 2 and out == "" and "--csv:" in err and "directory" in err
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    code, out, err = run(capsys, *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--csv", str(link), "--force")
    assert code == 2 and out == "" and "symbolic link" in err


def test_a_cell_counts_its_seeds_without_a_finite_value():
    from dropout_tui.core.sweep import Stat
    from dropout_tui.tui.sweep_cmd import cell
    from dropout_tui.tui.widgets.sweep_chart import COLOUR

    nan = float("nan")
    assert cell(Stat(4, 0, nan, nan, nan, nan, 1), COLOUR) == "— 4/4 not finite, 1 diverged"
    assert cell(Stat(4, 2, 0.5, 0.1, 0.4, 0.6, 2), COLOUR) == "0.500 (0.400–0.600) 2/4 diverged"
    assert cell(Stat(4, 3, 0.5, 0.1, 0.4, 0.6, 0), COLOUR) == "0.500 (0.400–0.600) 1/4 not finite"
    assert cell(Stat(2, 2, 1e196, 1e195, 9e195, 1.1e196, 0), COLOUR) == "1e+196 (9e+195–1.1e+196)"


def test_a_stopped_sweep_says_how_many_seeds_each_point_has():
    from dropout_tui.tui.sweep_cmd import seeds_text

    request = parse([*SMALL, "--keep-probs", "0.5,1", "--seeds", "3"])
    tasks = request.spec.tasks()
    results = [run_task(t) for t in tasks[:3]]  # seed-major: every keep_prob of seed 0, then seed 1's first
    assert seeds_text(request.spec, results) == "1–2 of 3 seeds"
    assert seeds_text(request.spec, results[:2]) == "1 of 3 seeds"
    assert seeds_text(request.spec, [run_task(t) for t in tasks]) == "3 seeds"


def test_huge_finite_losses_are_summarised(capsys, tmp_path):
    # An exploding regression run's MSE can be ~1e196 and finite: its squares overflowed a plain sum.
    code, out, err = run(capsys, *SMALL, "--dataset", "sine", "--lr", "2", "--keep-probs", "0.1,1", "--seeds", "2",
                         "--workers", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    losses = [r["final"]["unrescaled"]["test_loss"] for r in data["results"]]
    assert any(v is not None and v > 1e100 for v in losses), losses  # the setting explodes: else no test


class GoneReader(io.StringIO):
    """stdout whose reader has gone (``| head``): every write fails as a closed pipe's does."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--csv", "-"]], ids=["tables", "json", "csv"])
def test_a_reader_that_goes_away_ends_the_sweep_with_141_and_nothing_on_stderr(capsys, monkeypatch, fmt):
    monkeypatch.setattr("sys.stdout", GoneReader())
    code = main(["sweep", *SMALL, "--keep-probs", "0.5", "--seeds", "1", "--workers", "1", *fmt])
    assert code == 141  # 128 + SIGPIPE, as a shell reports a writer that SIGPIPE ended
    assert capsys.readouterr().err == ""
