"""Session logs (core.session), replay (core.replay) and CSV (core.csv_export): writing, strict
reading, exact replay through the shared change interpreter, and CSV."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from dropout_tui.core.changes import EVENT_KINDS, Change, apply_change, dataset_change
from dropout_tui.core.config import Config
from dropout_tui.core.csv_export import CsvLog, write_csv
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.fileio import OutputExistsError
from dropout_tui.core.replay import Replayed, Replayer, compare_snapshot, normalise
from dropout_tui.core.session import (
    CloseRecord,
    EventRecord,
    SessionFormatError,
    SessionLog,
    read_session,
)
from dropout_tui.core.snapshot import csv_columns

REPO = Path(__file__).resolve().parents[2]


def record_session(path, config: Config, steps=30) -> Path:
    """A short session with every kind of event, recorded the way the trainer records one: each
    change applied through the shared interpreter and logged at the step it takes effect."""
    log = SessionLog(path, config, terminal=(80, 24), mode="app")
    exp = PairedExperiment(config)

    def change(c: Change) -> None:
        nonlocal exp
        step = exp.step
        exp = apply_change(exp, c)
        log.event(c, step)

    log.snapshot(exp.snapshot())
    for i in range(steps):
        exp.advance(1)
        if i == 7:
            change(Change("keep_prob", 0.8))
        if i == 9:
            for kind in ("pause", "step", "resume"):
                change(Change(kind))
            change(Change("speed", "10/s"))
        if i == 12:
            change(Change("input_keep_prob", 0.9))
        if i == 15:
            change(Change("reset"))
        if i == 20:
            change(dataset_change(exp, "circles"))
        if exp.step % 5 == 0:
            log.snapshot(exp.snapshot())
    log.snapshot(exp.snapshot())
    log.close("quit")
    return Path(path)


def lines(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def write_lines(path, records, tail: str = "") -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records) + tail
    Path(path).write_text(text)
    return Path(path)


# -- writing ---------------------------------------------------------------------------------------


def test_log_layout_header_events_snapshots_close(small_config, tmp_path):
    path = record_session(tmp_path / "s.jsonl", small_config())
    recs = lines(path)
    head = recs[0]
    assert head["type"] == "header" and head["format"] == "dropout-tui-session" and head["version"] == 2
    assert Config.from_dict(head["config"]) == small_config()
    assert head["seed"] == 0 and head["terminal"] == {"cols": 80, "rows": 24}
    assert set(head["versions"]) == {"dropout-tui", "numpy", "python"}
    kinds = [r["kind"] for r in recs if r["type"] == "event"]
    assert set(kinds) == set(EVENT_KINDS)
    assert recs[-1]["type"] == "close" and recs[-1]["reason"] == "quit"
    assert sum(r["type"] == "close" for r in recs) == 1
    keep = next(r for r in recs if r.get("kind") == "keep_prob")
    assert keep["step"] == 8 and keep["value"] == 0.8
    snap = next(r for r in recs if r["type"] == "snapshot")
    assert set(snap["runs"]) == {"inverted", "unrescaled"}
    assert Path(path).read_bytes().endswith(b"\n")


def test_nothing_written_after_close_and_close_is_idempotent(small_config, tmp_path):
    log = SessionLog(tmp_path / "s.jsonl", small_config())
    assert log.close("SIGTERM", 7) is True
    assert log.close("quit") is False
    log.event(Change("pause"), 9)
    log.snapshot({"step": 9, "runs": {}})
    recs = lines(tmp_path / "s.jsonl")
    assert [r["type"] for r in recs] == ["header", "close"]
    assert recs[-1]["reason"] == "SIGTERM" and recs[-1]["step"] == 7


def test_existing_file_is_never_overwritten_without_force(small_config, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("precious\n")
    for make in (lambda: SessionLog(path, small_config()), lambda: CsvLog(path, 2)):
        with pytest.raises(OutputExistsError, match="use --force"):
            make()
    assert path.read_text() == "precious\n"
    SessionLog(path, small_config(), force=True).close()
    assert lines(path)[0]["type"] == "header"


def test_non_finite_numbers_are_recorded_as_null(small_config, tmp_path):
    log = SessionLog(tmp_path / "s.jsonl", small_config())
    log.snapshot({"step": 0, "keep_prob": 0.5, "runs": {"inverted": {"test_loss": float("nan")},
                                                         "unrescaled": {"test_loss": float("inf")}}})
    log.close()
    snap = lines(tmp_path / "s.jsonl")[1]
    assert snap["runs"]["inverted"]["test_loss"] is None and snap["runs"]["unrescaled"]["test_loss"] is None


# -- replaying -------------------------------------------------------------------------------------


def test_replay_reproduces_every_snapshot_through_all_events(small_config, tmp_path):
    path = record_session(tmp_path / "s.jsonl", small_config())
    session = read_session(path)
    assert session.warnings == [] and session.close.reason == "quit"
    rep = Replayer(session, verify=True, rtol=0.0).run()
    assert rep.mismatch is None
    assert rep.snapshots_compared == session.n_snapshots > 5
    assert rep.events_applied == session.n_events
    assert rep.exp.config.dataset == "circles" and rep.exp.keep_prob == 0.8


def test_replay_detects_a_changed_number_and_names_it(small_config, tmp_path):
    path = record_session(tmp_path / "s.jsonl", small_config())
    recs = lines(path)
    i = [k for k, r in enumerate(recs) if r["type"] == "snapshot"][3]
    recs[i]["runs"]["unrescaled"]["layers"][1]["mean_pred"] *= 1 + 1e-12
    write_lines(path, recs)
    rep = Replayer(read_session(path), verify=True, rtol=0.0).run()
    m = rep.mismatch
    assert m is not None and m.line == i + 1 and m.run == "unrescaled" and m.field == "layers[h2].mean_pred"
    assert m.step == recs[i]["step"]
    assert "layers[h2].mean_pred" in str(m) and f"step {m.step}" in str(m)
    # ... which a tolerance forgives
    assert Replayer(read_session(path), verify=True, rtol=1e-6).run().mismatch is None


def test_replay_in_chunks_hands_back_events_and_snapshots(small_config, tmp_path):
    session = read_session(record_session(tmp_path / "s.jsonl", small_config()))
    rep = Replayer(session, verify=True)
    seen = []
    while not rep.done:
        before = rep.exp.step
        out = rep.advance(3)
        assert rep.exp.step - before <= 3 or any(
            isinstance(r, EventRecord) and r.change.kind in ("reset", "dataset") for r in out)
        seen += out
    assert rep.mismatch is None
    assert sum(isinstance(r, Replayed) for r in seen) == session.n_snapshots
    assert isinstance(seen[-1], CloseRecord)
    snap = next(r for r in seen if isinstance(r, Replayed))
    assert snap.record.step == snap.snapshot["step"]


def test_compare_snapshot_semantics():
    rec = {"step": 5, "keep_prob": 0.5, "runs": {"inverted": {"diverged": False, "x": 1.0, "y": None}}}
    same = normalise({"step": 5, "keep_prob": 0.5, "runs": {"inverted": {"diverged": False, "x": 1.0,
                                                                          "y": float("nan"), "new": 3}}})
    assert compare_snapshot(rec, same) is None  # nan == null, extra replayed fields ignored
    other = json.loads(json.dumps(same))
    other["runs"]["inverted"]["diverged"] = True
    assert compare_snapshot(rec, other).field == "diverged"
    other = json.loads(json.dumps(same))
    other["runs"]["inverted"]["x"] = 1.0 + 1e-9
    assert compare_snapshot(rec, other, rtol=0).field == "x"
    assert compare_snapshot(rec, other, rtol=1e-6) is None
    other["runs"]["inverted"]["x"] = 1.0 + 1e-5
    assert compare_snapshot(rec, other, rtol=1e-6).field == "x"
    del other["runs"]["inverted"]["y"]
    assert compare_snapshot(rec, other, rtol=1).replayed == "(missing)"


# -- reading bad files -----------------------------------------------------------------------------


def good_records(tmp_path, config: Config) -> list[dict]:
    return lines(record_session(tmp_path / "good.jsonl", config))


def expect_error(path, pattern):
    with pytest.raises(SessionFormatError, match=pattern) as info:
        read_session(path)
    assert "\n" not in str(info.value)
    return info.value


def test_truncated_last_line_is_a_warning_and_the_rest_replays(small_config, tmp_path):
    src = record_session(tmp_path / "s.jsonl", small_config()).read_bytes()
    cut = src[: src.rindex(b"\n", 0, len(src) - 1) - 40]  # into the middle of the second-to-last line
    (tmp_path / "cut.jsonl").write_bytes(cut)
    session = read_session(tmp_path / "cut.jsonl")
    assert session.close is None
    assert any("incomplete last line" in w for w in session.warnings)
    assert Replayer(session, verify=True).run().mismatch is None
    # only a line without its newline was cut off: the same bytes with a newline are a bad line
    (tmp_path / "cut2.jsonl").write_bytes(cut + b"\n")
    n = cut.count(b"\n") + 1
    expect_error(tmp_path / "cut2.jsonl", rf"^line {n}: malformed JSON")


def test_missing_close_record_is_a_warning(small_config, tmp_path):
    recs = good_records(tmp_path, small_config())[:-1]
    session = read_session(write_lines(tmp_path / "s.jsonl", recs))
    assert any("no close record" in w for w in session.warnings)


def test_malformed_json_in_the_middle_names_the_line(small_config, tmp_path):
    recs = good_records(tmp_path, small_config())
    text = "".join(json.dumps(r) + "\n" for r in recs).splitlines(keepends=True)
    text[4] = text[4][:30] + "\n"
    (tmp_path / "s.jsonl").write_text("".join(text))
    err = expect_error(tmp_path / "s.jsonl", r"^line 5: malformed JSON")
    assert err.line == 5


@pytest.mark.parametrize("mutate, pattern", [
    (lambda r: r[1:], r"line 1: missing header"),
    (lambda r: [{**r[0], "version": 3}, *r[1:]], r"line 1: unknown format version 3"),
    (lambda r: [{**r[0], "format": "other"}, *r[1:]], r"line 1: unknown format 'other'"),
    (lambda r: [{k: v for k, v in r[0].items() if k != "version"}, *r[1:]], "unknown format version None"),
    (lambda r: [{**r[0], "config": {**r[0]["config"], "keep_prob": 7}}, *r[1:]], "bad config: --keep-prob"),
    (lambda r: [r[0], {"type": "event", "kind": "explode", "step": 1}, *r[1:]],
     "line 2: event: 'kind': unknown event kind 'explode'"),
    (lambda r: [r[0], {"type": "thing", "step": 1}, *r[1:]], "line 2: unknown record type 'thing'"),
    (lambda r: [r[0], {"type": "event", "kind": "keep_prob", "step": 1, "value": 1.5}, *r[1:]],
     "keep_prob event: 'value': expected a keep probability in"),
    (lambda r: [r[0], {"type": "event", "kind": "dataset", "step": 1, "value": "mnist"}, *r[1:]],
     "unknown dataset 'mnist'"),
    (lambda r: [r[0], {"type": "snapshot", "step": -1, "runs": {}}, *r[1:]], "'step' must be an integer >= 0"),
    (lambda r: [*r, {"type": "event", "kind": "pause", "step": 1}], "record after the close record"),
    (lambda r: [r[0], {"type": "event", "kind": "pause", "step": 9},
                {"type": "event", "kind": "resume", "step": 3}], r"line 3: out of order: resume event at step 3"),
    (lambda r: [r[0], r[0]], "line 2: a second header"),
    (lambda r: [[1, 2]], "line 1: expected a JSON object"),
])
def test_bad_files_raise_one_line_errors(small_config, tmp_path, mutate, pattern):
    recs = good_records(tmp_path, small_config())
    expect_error(write_lines(tmp_path / "bad.jsonl", mutate(recs)), pattern)


def test_out_of_order_snapshots_are_rejected_but_a_reset_may_go_back(small_config, tmp_path):
    recs = good_records(tmp_path, small_config())
    i = next(i for i, r in enumerate(recs) if r["type"] == recs[i + 1]["type"] == "snapshot" and r["step"] > 0)
    swapped = list(recs)
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    expect_error(write_lines(tmp_path / "bad.jsonl", swapped), f"line {i + 2}: out of order: snapshot at step")
    assert read_session(tmp_path / "good.jsonl").warnings == []  # that one has a reset going back to 0


def test_empty_and_non_json_files(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    expect_error(tmp_path / "empty", "empty file")
    (tmp_path / "pickle").write_bytes(b"\x80\x04\x95\x00\x00\n")
    expect_error(tmp_path / "pickle", "line 1: not valid UTF-8")
    (tmp_path / "text").write_text("hello world\n")
    expect_error(tmp_path / "text", "line 1: malformed JSON")


# -- CSV ---------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_snapshot_and_run(small_config, tmp_path):
    config = small_config(layers=(6, 5, 4))
    exp = PairedExperiment(config)
    snaps = []
    for _ in range(3):
        exp.advance(5)
        snaps.append(exp.snapshot())
    assert write_csv(tmp_path / "m.csv", snaps) == 6
    with open(tmp_path / "m.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == csv_columns(3)
    assert [(r["step"], r["run"]) for r in rows] == [(s, run) for s in ("5", "10", "15")
                                                     for run in ("inverted", "unrescaled")]
    assert {"h3_mean_train", "h1_norm_pred", "train_loss_dropout", "test_loss_scaled"} <= set(rows[0])
    inv, unr = rows[0], rows[1]
    assert inv["test_loss_scaled"] == "" and float(unr["test_loss_scaled"]) > 0
    assert float(inv["h2_mean_train"]) == snaps[0]["runs"]["inverted"]["layers"][1]["mean_train"]
    assert inv["diverged"] == "0" and float(inv["keep_prob"]) == 0.5


def test_reader_never_evaluates_content(small_config, tmp_path):
    recs = good_records(tmp_path, small_config())
    marker = tmp_path / "pwned"
    recs.insert(1, {"type": "event", "kind": "speed", "step": 0,
                    "value": f"__import__('os').system('touch {marker}')"})
    session = read_session(write_lines(tmp_path / "s.jsonl", recs))
    Replayer(session, verify=True).run()
    assert not marker.exists() and not os.path.exists(marker)


def test_events_recorded_after_the_change_also_replay(small_config, tmp_path):
    """A recorder that logs reset/dataset after applying them (step 0 of the new experiment) and a
    dataset event with only its name: the replay carries the keep probabilities over."""
    config = small_config()
    log = SessionLog(tmp_path / "s.jsonl", config, mode="app")
    exp = PairedExperiment(config)
    exp.advance(7)
    exp.set_keep_prob(0.65)
    log.event(Change("keep_prob", exp.keep_prob), exp.step)
    exp.advance(3)
    log.snapshot(exp.snapshot())
    exp.reset()
    log.event(Change("reset"), exp.step)
    exp.advance(4)
    log.snapshot(exp.snapshot())
    exp = PairedExperiment(config.with_changes(dataset="xor", keep_prob=exp.keep_prob))
    log.event(Change("dataset", "xor"), exp.step)  # only the name: no config
    exp.advance(6)
    log.snapshot(exp.snapshot())
    log.close("quit", exp.step)
    rep = Replayer(read_session(tmp_path / "s.jsonl"), verify=True).run()
    assert rep.mismatch is None and rep.snapshots_compared == 3
    assert rep.exp.config.dataset == "xor" and rep.exp.keep_prob == 0.65 and rep.exp.step == 6


# -- recordings from earlier versions ----------------------------------------------------------------

LEGACY = Path(__file__).resolve().parents[1] / "data" / "session-v1.jsonl"


def test_a_format_1_recording_reads_with_todays_names_and_verifies():
    """A session recorded before the snapshot was typed (format 1: prediction mode called "eval"),
    with every event kind: it still replays, and verifies bit-identically with the same NumPy."""
    session = read_session(LEGACY)
    assert session.header["version"] == 1 and session.warnings == []
    snaps = [r.snapshot for r in session.records() if not isinstance(r, (EventRecord, CloseRecord))]
    layer = snaps[0]["runs"]["unrescaled"]["layers"][0]
    assert "mean_pred" in layer and "norm_pred" in layer and "mean_eval" not in layer
    rep = Replayer(session, verify=True).run()
    assert rep.mismatch is None and rep.snapshots_compared == session.n_snapshots == 14
    # every kind the app's keys make (input keep_prob is set on the command line only)
    kinds = {r.change.kind for r in session.records() if isinstance(r, EventRecord)}
    assert kinds == set(EVENT_KINDS) - {"input_keep_prob"}


def test_a_changed_number_in_a_format_1_recording_is_found(tmp_path):
    recs = lines(LEGACY)
    i = [k for k, r in enumerate(recs) if r["type"] == "snapshot"][4]
    recs[i]["runs"]["inverted"]["layers"][0]["norm_eval"] *= 1 + 1e-12
    rep = Replayer(read_session(write_lines(tmp_path / "v1.jsonl", recs)), verify=True, rtol=0.0).run()
    assert rep.mismatch is not None and rep.mismatch.field == "layers[h1].norm_pred"


def test_prediction_rules_are_recorded_and_verified(small_config, tmp_path):
    """Snapshots that carry the prediction rules replay with them, and a changed Monte-Carlo
    number is found by name."""
    config = small_config(mc_max=10)
    path = tmp_path / "rules.jsonl"
    with SessionLog(path, config) as log:
        exp = PairedExperiment(config)
        exp.advance(12)
        log.snapshot(exp.snapshot())
        exp.advance(8)
        log.snapshot(exp.snapshot(rules=True))
    rep = Replayer(read_session(path), verify=True).run()
    assert rep.mismatch is None and rep.snapshots_compared == 2
    assert "rules" in rep.last_snapshot["runs"]["inverted"]
    recs = lines(path)
    recs[2]["runs"]["inverted"]["rules"]["mc_dropout"][2]["test_loss"] *= 1 + 1e-12
    rep = Replayer(read_session(write_lines(path, recs)), verify=True, rtol=0.0).run()
    assert rep.mismatch is not None and rep.mismatch.field == "rules.mc_dropout[2].test_loss"
