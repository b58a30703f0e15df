"""``--record`` / ``--csv`` with ``--headless`` and ``dropout-tui replay``, through the real CLI entry."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dropout_tui.tui import app_main
from dropout_tui.tui.cli import main

SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10", "--steps", "60"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def recorded(tmp_path, capsys) -> Path:
    path = tmp_path / "s.jsonl"
    code, _, err = run(capsys, "--headless", *SMALL, "--keep-prob", "0.7", "--json", "--record", path)
    assert code == 0, err
    return path


def records(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def rewrite(path, recs) -> None:
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_headless_record_has_header_snapshots_and_close(recorded):
    recs = records(recorded)
    assert recs[0]["type"] == "header" and recs[0]["config"]["keep_prob"] == 0.7 and recs[0]["terminal"] is None
    # A snapshot at step 0 first, as the app's recordings have.
    assert [r["step"] for r in recs if r["type"] == "snapshot"] == [0, 10, 20, 30, 40, 50, 60]
    assert recs[-1] == {**recs[-1], "type": "close", "reason": "end", "step": 60}


def test_round_trip_verifies_bit_identical(recorded, capsys):
    code, out, err = run(capsys, "replay", recorded, "--headless", "--verify")
    assert code == 0, err
    assert "verified: 7 snapshots" in out and "bit-identical" in out


def test_replay_prints_the_same_result_as_headless(recorded, capsys):
    _, direct, _ = run(capsys, "--headless", *SMALL, "--keep-prob", "0.7", "--json")
    code, replayed, _ = run(capsys, "replay", recorded, "--headless", "--json")
    assert code == 0 and json.loads(replayed) == json.loads(direct)
    code, table, _ = run(capsys, "replay", recorded, "--headless")
    assert code == 0 and "unrescaled" in table


def test_one_changed_number_fails_and_is_named(recorded, capsys):
    recs = records(recorded)
    recs[3]["runs"]["inverted"]["test_acc"] += 0.001
    rewrite(recorded, recs)
    code, out, err = run(capsys, "replay", recorded, "--headless", "--verify")
    assert code == 1
    assert "step 20" in out and "run inverted" in out and "test_acc" in out and "line 4" in out


def test_other_numpy_version_compares_with_a_tolerance(recorded, capsys):
    recs = records(recorded)
    recs[0]["versions"]["numpy"] = "0.0.1"
    recs[2]["runs"]["unrescaled"]["train_loss"] *= 1 + 1e-9  # below 1e-6: forgiven
    rewrite(recorded, recs)
    code, out, err = run(capsys, "replay", recorded, "--headless", "--verify")
    assert code == 0 and "relative tolerance of 1e-06" in err
    code, out, _ = run(capsys, "replay", recorded, "--headless", "--verify", "--rtol", "0")
    assert code == 1 and "train_loss" in out


def test_truncated_last_line_warns_and_verifies_the_rest(recorded, capsys):
    data = recorded.read_bytes()
    recorded.write_bytes(data[: data.rindex(b'"type":"snapshot"') + 200])
    code, out, err = run(capsys, "replay", recorded, "--headless", "--verify")
    assert code == 0 and "verified: 6 snapshots" in out
    assert "warning" in err and "incomplete last line" in err


def _one_line_error(err: str, *fragments) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dropout-tui: error:"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_malformed_middle_line_exits_2_naming_the_line(recorded, capsys):
    text = recorded.read_text().splitlines(keepends=True)
    text[2] = text[2][:50] + "\n"
    recorded.write_text("".join(text))
    code, out, err = run(capsys, "replay", recorded, "--headless", "--verify")
    assert code == 2 and out == ""
    _one_line_error(err, "line 3", "malformed JSON")


@pytest.mark.parametrize("mutate, fragment", [
    (lambda r: r[1:], "missing header"),
    (lambda r: [{**r[0], "version": 99}, *r[1:]], "unknown format version 99"),
    (lambda r: [r[0], r[2], r[1], *r[3:]], "line 3: out of order"),
])
def test_bad_files_exit_2(recorded, capsys, mutate, fragment):
    rewrite(recorded, mutate(records(recorded)))
    for extra in ([], ["--verify"]):
        code, out, err = run(capsys, "replay", recorded, "--headless", *extra)
        assert code == 2
        _one_line_error(err, fragment)


def test_unreadable_file_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, "replay", tmp_path / "nope.jsonl", "--headless")
    assert code == 2
    _one_line_error(err, "cannot read", "nope.jsonl")


def test_existing_outputs_are_refused_without_force(tmp_path, capsys):
    for option in ("--record", "--csv"):
        path = tmp_path / f"out{option}"
        path.write_text("keep me\n")
        code, _, err = run(capsys, "--headless", *SMALL, option, path)
        assert code == 2
        _one_line_error(err, option, "exists", "--force")
        assert path.read_text() == "keep me\n"
        code, _, err = run(capsys, "--headless", *SMALL, option, path, "--force")
        assert code == 0 and path.read_text() != "keep me\n"


def test_a_refused_csv_leaves_no_session_log_behind(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("keep me\n")
    code, _, err = run(capsys, "--headless", *SMALL, "--record", tmp_path / "s.jsonl", "--csv", tmp_path / "m.csv")
    assert code == 2 and not (tmp_path / "s.jsonl").exists()


def test_csv_columns_and_rows(tmp_path, capsys):
    path = tmp_path / "m.csv"
    code, _, err = run(capsys, "--headless", *SMALL, "--layers", "8,6,4", "--csv", path)
    assert code == 0, err
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["step", "dataset", "run", "keep_prob", "input_keep_prob"]
    assert {"train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc",
            "test_loss_scaled", "test_acc_scaled", "diverged"} <= set(header)
    assert [c for c in header if c.startswith("h3_")][:2] == ["h3_mean_train", "h3_mean_pred"]
    assert not any(c.startswith("h4_") for c in header)
    assert len(body) == 7 * 2  # snapshots (step 0 and every 10 steps) x runs
    assert all(len(r) == len(header) for r in body)
    assert [r[2] for r in body[:2]] == ["inverted", "unrescaled"]
    assert {r[1] for r in body} == {"moons"}


def test_replay_can_export_csv(recorded, tmp_path, capsys):
    code, _, err = run(capsys, "replay", recorded, "--headless", "--verify", "--csv", tmp_path / "r.csv")
    assert code == 0, err
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 1 + 7 * 2


def test_replay_without_headless_hands_over_to_the_app(recorded, capsys, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(app_main, "run_replay_app",
                        lambda session, files, *a, **kw: calls.append((session, files)) or 0)
    code, _, _ = run(capsys, "replay", recorded, "--screenshot-dir", tmp_path)
    assert code == 0 and calls[0][0].config.keep_prob == 0.7 and calls[0][0].n_snapshots == 7
    assert calls[0][1].screenshot_dir == tmp_path  # the app's s and e keys write there


def test_verify_implies_headless_and_speaks_json(recorded, capsys, monkeypatch):
    monkeypatch.setattr(app_main, "run_replay_app", lambda *a: pytest.fail("--verify opened the app"))
    code, out, _ = run(capsys, "replay", recorded, "--verify")
    assert code == 0 and out.startswith("verified: 7 snapshots")
    code, out, _ = run(capsys, "replay", recorded, "--verify", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verified"] is True and doc["snapshots"] == 7 and doc["mismatch"] is None


def test_cast_is_for_the_app_only(tmp_path, capsys):
    code, _, err = run(capsys, "--headless", *SMALL, "--cast", tmp_path / "x.cast")
    assert code == 2 and not (tmp_path / "x.cast").exists()
    _one_line_error(err, "--cast")
