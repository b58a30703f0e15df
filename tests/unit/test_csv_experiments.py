"""A user's CSV as an experiment: options, the dataset cycle, recordings that replay with the data
embedded or referenced by hash, and the decision map only for two features."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from dropout_tui.core import csv_data
from dropout_tui.core.changes import apply_change, next_dataset_change
from dropout_tui.core.config import Config, ConfigError
from dropout_tui.core.csv_data import CsvDataError
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionFormatError, SessionLog, read_session
from dropout_tui.tui.cli import main
from dropout_tui.tui.trainer import Trainer

DATA = Path(__file__).resolve().parents[1] / "data"
IRIS, PETALS = DATA / "iris.csv", DATA / "iris-petals.csv"


def iris(**changes) -> Config:
    return Config.for_dataset("csv", **{"data": str(IRIS), "layers": (16, 16), "eval_every": 10, **changes})


def test_data_option_trains_on_the_file_with_every_row(capsys):
    assert main(["--data", str(IRIS), "--headless", "--steps", "30", "--json", "--layers", "8"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["dataset"] == "csv" and doc["config"]["train_size"] == 0
    assert doc["runs"]["inverted"]["learning"] in (True, False)
    assert set(doc["runs"]["inverted"]) >= {"test_acc", "test_confidence"}


@pytest.mark.parametrize("argv, option", [
    (["--label", "species"], "--label"),
    (["--test-data", str(IRIS)], "--test-data"),
    (["--task", "regression"], "--task"),
    (["--dataset", "csv"], "--dataset"),
    (["--data", str(IRIS), "--test-fraction", "1.5"], "--test-fraction"),
    (["--data", str(IRIS), "--label", "nope"], "nope"),
    (["--data", str(DATA / "missing.csv")], "missing.csv"),
])
def test_bad_data_options_are_one_line_errors(capsys, argv, option):
    assert main([*argv, "--headless", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err and "Traceback" not in err


def test_label_by_name_and_a_separate_test_file(tmp_path):
    """The label named in the first column; a test file with the same columns replaces the split."""
    flipped = tmp_path / "flipped.csv"
    lines = IRIS.read_text().splitlines()
    flipped.write_text("\n".join(",".join([r.split(",")[4], *r.split(",")[:4]]) for r in lines) + "\n")
    exp = PairedExperiment(Config.for_dataset("csv", data=str(flipped), label="species", test_data=str(flipped)))
    assert exp.data.n_classes == 3 and len(exp.data.y_test) == 150 and exp.data.n_features == 4
    assert exp.data.label_name == "species"


def test_regression_target_from_a_csv(tmp_path):
    path = tmp_path / "petal.csv"
    rows = [r.split(",") for r in IRIS.read_text().splitlines()[1:]]
    path.write_text("sepal_length,petal_length\n" + "\n".join(f"{r[0]},{r[2]}" for r in rows) + "\n")
    config = Config.for_dataset("csv", data=str(path), task="regression")
    assert config.lr == 0.05  # a regression target gets the regression sets' learning rate
    exp = PairedExperiment(config)
    exp.advance(200)
    snap = exp.snapshot()
    assert "test_r2" in snap["runs"]["inverted"] and "test_acc" not in snap["runs"]["inverted"]


def test_d_cycles_through_the_built_in_sets_and_the_file():
    exp = PairedExperiment(Config.for_dataset("blobs", data=str(PETALS), layers=(8,)))
    seen = []
    for _ in range(8):
        change = next_dataset_change(exp)
        assert change is not None
        exp = apply_change(exp, change)
        seen.append(exp.config.dataset)
    assert "csv" in seen and seen[seen.index("csv") + 1] == "moons"
    assert exp.source is not None  # carried through every built-in set


def test_the_map_is_drawn_for_two_features_only():
    for path, expect in ((PETALS, True), (IRIS, False)):
        trainer = Trainer(Config.for_dataset("csv", data=str(path), layers=(8,)))
        trainer.boundary_shape = (20, 10)
        assert (trainer.make_update(boundary=True).boundary is not None) is expect


def record(path: Path, config: Config) -> Path:
    exp = PairedExperiment(config)
    with SessionLog(path, config, source=exp.source) as log:
        for _ in range(3):
            exp.advance(10)
            log.snapshot(exp.snapshot())
    return path


def test_a_recording_with_the_data_embedded_replays_without_the_file(tmp_path):
    copy = tmp_path / "iris.csv"
    shutil.copy(IRIS, copy)
    path = record(tmp_path / "s.jsonl", iris(data=str(copy)))
    copy.unlink()
    header = json.loads(path.read_text().splitlines()[0])
    assert "text" in header["data"]["train"] and header["data"]["test"] is None
    rep = Replayer(read_session(path), verify=True, rtol=0.0).run()
    assert rep.mismatch is None and rep.snapshots_compared == 3


def test_a_large_file_is_referenced_by_hash_and_a_changed_one_refused(tmp_path, monkeypatch, capsys):
    from dropout_tui.core import csv_data

    monkeypatch.setattr(csv_data, "EMBED_LIMIT", 100)  # iris.csv (3.9 kB) counts as large
    path = record(tmp_path / "s.jsonl", iris())
    header = json.loads(path.read_text().splitlines()[0])
    assert "text" not in header["data"]["train"] and len(header["data"]["train"]["sha256"]) == 64
    session = read_session(path)
    with pytest.raises(CsvDataError, match="give it with --data"):
        Replayer(session)
    assert Replayer(session, verify=True, rtol=0.0, data_path=str(IRIS)).run().mismatch is None
    changed = tmp_path / "changed.csv"
    changed.write_text(IRIS.read_text().replace("5.1,3.5", "5.2,3.5", 1))
    assert main(["replay", str(path), "--verify", "--data", str(changed)]) == 2
    err = capsys.readouterr().err
    assert "is not the file this session was recorded with" in err and err.count("\n") == 1
    assert main(["replay", str(path), "--verify", "--data", str(IRIS)]) == 0


def test_csv_sizes_subsample_and_are_checked():
    assert len(PairedExperiment(iris(train_size=30, test_size=20)).data.y_train) == 30
    with pytest.raises(CsvDataError):
        PairedExperiment(iris(train_size=5000))
    with pytest.raises(ConfigError, match="--batch-size"):
        PairedExperiment(iris(batch_size=500))


GOOD = "a,b,y\n1,2,u\n3,4,u\n5,6,u\n7,8,v\n9,10,v\n11,12,v\n"


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as f:  # takes no disk and no time
        f.truncate(size)
    return path


def _unreadable(path: Path, monkeypatch) -> Path:
    path.write_text(GOOD)
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: fail the open as it would for a user
        def refuse(p, *args, **kw):
            raise PermissionError(13, "Permission denied", os.fspath(p))

        monkeypatch.setattr(csv_data.os, "open", refuse)
    return path


def _write(content) -> object:
    def make(path: Path, monkeypatch) -> Path:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path
    return make


# kind -> (make the file, extra options, what the one line must say: (line, column, words))
BAD_FILES = {
    "empty": (_write(""), [], (None, None, "is empty")),
    "header only": (_write("a,b,y\n"), [], (None, None, "has a header but no data rows")),
    "ragged": (_write("a,b,y\n1,2,u\n3,4,5,u\n"), [], (3, None, "4 cells, expected 3")),
    "non-numeric feature": (_write("a,b,y\n1,2,u\n3,abc,v\n"), [], (3, 2, "'abc' is not a number")),
    "NaN feature": (_write("a,b,y\n1,2,u\n3,4,u\n5,nan,v\n"), [], (4, 2, "NaN is not allowed")),
    "inf feature": (_write("a,b,y\n1,2,u\n3,4,u\n5,-inf,v\n"), [], (4, 2, "an infinite value is not allowed")),
    "missing label": (_write("a,b,y\n1,2,u\n3,4,\n"), [], (3, 3, "missing label")),
    "one class": (_write("a,y\n1,u\n2,u\n3,u\n"), [], (None, None, "at least 2 classes")),
    "too many classes": (_write("x,y\n" + "".join(f"{i},c{i}\n" for i in range(30))), [],
                         (22, 2, "more than 20 distinct labels")),
    "too few rows": (_write("a,y\n1,u\n2,u\n3,v\n4,v\n"), [], (None, None, "too few to split")),
    "directory": (lambda p, mp: (p.mkdir(), p)[1], [], (None, None, "is a directory")),
    "binary garbage": (_write(b"a,b,y\n1,2,u\n\x89PNG\x00\x01\xff"), [], (3, None, "binary file")),
    "UTF-16": (_write(GOOD.encode("utf-16")), [], (None, None, "is UTF-16 text: save it as UTF-8")),
    "UTF-16 without BOM": (_write(GOOD.encode("utf-16-le")), [], (None, None, "looks like UTF-16")),
    "not UTF-8": (_write("a,b,y\n1,2,café\n".encode("latin-1")), [], (2, None, "is not UTF-8")),
    "semicolon ragged": (_write("a;b;y\n1;2;u\n3;4;5;u\n"), [], (3, None, "separated by semicolons")),
    "tab ragged": (_write("a\tb\ty\n1\t2\tu\n3\t4\t5\tu\n"), [], (3, None, "separated by tabs")),
    "duplicate header names": (_write("a,b,a,y\n1,2,3,u\n"), [], (1, 3, "duplicate column name 'a'")),
    "label not a column": (_write(GOOD), ["--label", "species"], (None, None, "'species' is not a column")),
    "too large": (lambda p, mp: _sparse(p, csv_data.MAX_FILE_BYTES + 1), [], (None, None, "the limit is")),
    "too many rows": (lambda p, mp: (mp.setattr(csv_data, "MAX_ROWS", 4), _write(GOOD)(p, mp))[1], [],
                      (6, None, "more than 4 data rows")),
    "test data with other columns": (_write(GOOD), ["--test-data", "OTHER"], (1, 2, "column 'c' where")),
    "FIFO": (lambda p, mp: _fifo(p), [], (None, None, "is a FIFO (named pipe)")),
    "unreadable": (_unreadable, [], (None, None, "cannot read it: Permission denied")),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_every_bad_file_exits_2_with_one_line_naming_file_line_and_column(kind, tmp_path, monkeypatch, capsys):
    if kind == "FIFO" and not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo")
    make, extra, (line, column, words) = BAD_FILES[kind]
    path = make(tmp_path / "bad.csv", monkeypatch)
    other = tmp_path / "other.csv"
    other.write_text("a,c,y\n1,2,u\n")
    extra = [str(other) if arg == "OTHER" else arg for arg in extra]
    # the FIFO would block a reader forever: a thread lets the test fail instead of hanging
    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(
        main(["--data", str(path), *extra, "--headless", "--steps", "1"])), daemon=True)
    worker.start()
    worker.join(30)
    assert outcome == [2]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and words in err
    shown = str(other) if kind.startswith("test data") else str(path)
    where = ", ".join([*([f"line {line}"] if line else []), *([f"column {column}"] if column else [])])
    assert f"{shown}: {where}" in err


@pytest.mark.parametrize("kind, content", [
    ("UTF-8 BOM", b"\xef\xbb\xbf" + GOOD.encode()),
    ("semicolons", GOOD.replace(",", ";").encode()),
    ("tabs", GOOD.replace(",", "\t").encode()),
    ("CRLF", GOOD.replace("\n", "\r\n").encode()),
])
def test_accepted_variants_train(kind, content, tmp_path, capsys):
    path = tmp_path / "ok.csv"
    path.write_bytes(content)
    assert main(["--data", str(path), "--headless", "--steps", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["data"] == str(path) and "test_acc" in doc["runs"]["inverted"]


@pytest.mark.parametrize("damage, option", [
    (lambda h: h.pop("data"), "--data"),
    (lambda h: h["data"]["train"].pop("sha256"), "--data"),
    (lambda h: h["data"].update(test={"name": "t.csv", "sha256": "0" * 64}), "--test-data"),
])
def test_a_recording_whose_data_record_does_not_fit_its_config_is_refused_on_reading(tmp_path, capsys, damage,
                                                                                   option):
    path = record(tmp_path / "s.jsonl", iris())
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    damage(header)
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(SessionFormatError, match=f"line 1: header: bad config: {option}"):
        read_session(path)
    assert main(["replay", str(path), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err
