"""A user's CSV as an experiment: options, the dataset cycle, recordings that replay with the data
embedded or referenced by hash, and the decision map only for two features."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dropout_tui.core.changes import apply_change, next_dataset_change
from dropout_tui.core.config import Config, ConfigError
from dropout_tui.core.csv_data import CsvDataError
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionLog, read_session
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
