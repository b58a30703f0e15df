"""``--headless`` and ``replay --headless`` output, through the real CLI entry: the table agrees with
the app (architecture label, number formats, the train/pred ratio), ``--csv -`` gives stdout to the
CSV alone, and recordings start at step 0 as the app's do."""

from __future__ import annotations

import csv
import io
import json

from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.cli import main
from dropout_tui.tui.headless import summary_table, train
from rich.console import Console

SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10", "--steps", "30"]


def run(capfd, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return code, out, err


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_to_stdout_keeps_stdout_for_the_csv_alone(capfd):
    code, out, err = run(capfd, "--headless", *SMALL, "--csv", "-")
    assert code == 0, err
    rows = _csv_rows(out)
    assert [r["step"] for r in rows[::2]] == ["0", "10", "20", "30"]  # from step 0, every 10 steps
    assert {r["run"] for r in rows} == {"inverted", "unrescaled"}
    assert "unrescaled" in err and "keep_prob" in err  # the table went to stderr


def test_replay_headless_csv_to_stdout(capfd, tmp_path):
    path = tmp_path / "s.jsonl"
    assert run(capfd, "--headless", *SMALL, "--record", path)[0] == 0
    for extra in ([], ["--verify"]):
        code, out, err = run(capfd, "replay", path, "--headless", *extra, "--csv", "-")
        assert code == 0, err
        assert [r["step"] for r in _csv_rows(out)[::2]] == ["0", "10", "20", "30"]
        assert ("verified" in err) if extra else ("unrescaled" in err)


def test_json_and_csv_on_stdout_together_are_refused_in_one_line(capfd, tmp_path):
    code, out, err = run(capfd, "--headless", *SMALL, "--json", "--csv", "-")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--json" in err


def _table_text(table, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_the_table_uses_the_apps_architecture_label_and_number_formats():
    config = Config(layers=(16, 16), train_size=60, test_size=100)
    exp = PairedExperiment(config)
    snap = train(exp, 20)
    run = snap["runs"]["unrescaled"]
    run["test_loss"], run["layers"][0]["weight_norm"] = 6.17e136, 1e24  # an exploding run's values
    run["layers"][0]["mean_train"] = float("inf")
    text = _table_text(summary_table(config, snap, exp.arch))
    assert exp.arch == "2-16-16-1" and "2-16-16-1" in text
    assert "6.17e136" in text and "1.00e24" in text and "inf" in text
    # Huge values in scientific notation, never as long strings of digits.
    assert not any(len(token) > 12 and token.replace(".", "").isdigit() for token in text.split())
    assert "×" in text and "train / pred ratio" in text


def test_ascii_table(capfd):
    code, out, err = run(capfd, "--headless", *SMALL, "--ascii")
    assert code == 0, err
    assert out.isascii() and "inverted" in out


def test_headless_recordings_start_at_step_0(capfd, tmp_path):
    path = tmp_path / "s.jsonl"
    assert run(capfd, "--headless", *SMALL, "--record", path)[0] == 0
    steps = [json.loads(line)["step"] for line in path.read_text().splitlines()
             if json.loads(line)["type"] == "snapshot"]
    assert steps[0] == 0 and steps == sorted(steps)


def test_drop_rate_spellings_get_a_hint_to_keep_prob(capfd):
    for option in ("--dropout", "--rate", "--dropout-rate"):
        code, _, err = run(capfd, option, "0.2", "--headless")
        assert code == 2 and "did you mean --keep-prob" in err and "0.8" in err
        code, _, err = run(capfd, f"{option}=0.2")
        assert code == 2 and "did you mean --keep-prob" in err


def test_accuracy_and_confidence_read_as_percentages_as_in_the_app(capfd):
    code, out, err = run(capfd, "--headless", *SMALL, "--json")
    assert code == 0, err
    runs = json.loads(out)["runs"]
    code, out, err = run(capfd, "--headless", *SMALL)
    assert code == 0, err
    for label, key in (("test accuracy", "test_acc"), ("test confidence", "test_confidence")):
        row = next(line for line in out.splitlines() if f" {label} " in line)
        for rule in ("inverted", "unrescaled"):
            assert f"{100 * runs[rule][key]:.1f}%" in row
