"""Options as typed, never as guessed: no abbreviations; ``--version`` reports what is installed."""

from __future__ import annotations

import importlib.metadata
import platform
import re

import numpy as np
import pytest
from dropout_tui.core import version
from dropout_tui.core.session import versions
from dropout_tui.tui.cli import main, main_parser

ABBREVIATED = [
    (["--datase", "xor", "--headless", "--steps", "1"], "--datase"),
    (["--headless", "--step", "1"], "--step"),
    (["--hea", "--steps", "1"], "--hea"),
    (["bench", "--qui", "--json"], "--qui"),
    (["replay", "session.jsonl", "--head"], "--head"),
]


@pytest.mark.parametrize("argv, typed", ABBREVIATED, ids=[" ".join(a) for a, _ in ABBREVIATED])
def test_an_abbreviated_option_is_refused_with_one_line(argv, typed, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dropout-tui: error: ") and typed in lines[0], err


def test_the_full_option_name_still_works():
    assert main_parser().parse_args(["--dataset", "xor"]).dataset == "xor"


def test_version_prints_the_installed_versions_and_exits_0(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code in (0, None)
    out, err = capsys.readouterr()
    assert err == ""
    match = re.fullmatch(r"dropout-tui (\S+) \(numpy (\S+), textual (\S+), rich (\S+), Python (\S+)\)\n", out)
    assert match, out
    assert match.groups() == (importlib.metadata.version("dropout-tui"), np.__version__,
                              importlib.metadata.version("textual"), importlib.metadata.version("rich"),
                              platform.python_version())


def test_the_version_is_the_package_metadata_and_session_logs_record_it():
    assert version() == importlib.metadata.version("dropout-tui") != "unknown"
    assert versions()["dropout-tui"] == version()


def test_the_help_says_a_csv_takes_every_row_rather_than_zero_rows(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal's width
    for option in ("--train-size", "--test-size"):
        entry = text[text.index(f"{option} N ") :][:160]
        assert "csv all" in entry and "csv 0" not in entry and "csv regression" not in entry
    lr = text[text.index("--lr X ") :][:160]
    assert "csv regression 0.05" in lr  # the CSV tasks differ there, so both are named


@pytest.mark.parametrize("argv, reason", [
    (["--json"], "shows its numbers on screen"),
    (["--explain"], "explains on screen"),
    (["--steps", "10"], "trains until you quit"),
])
def test_a_headless_only_option_is_refused_with_its_own_reason(argv, reason, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{argv[0]}: only with --headless" in err and reason in err and len(err.strip().splitlines()) == 1


def test_the_screenshot_script_takes_help_as_help_not_as_a_directory(tmp_path, monkeypatch, capsys):
    from dropout_tui.tui import screenshots

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        screenshots.main(["--help"])
    assert stop.value.code == 0 and "OUT_DIR" in capsys.readouterr().out
    (tmp_path / "a-file").write_text("")
    assert screenshots.main(["a-file"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing drawn, nothing made
