"""Options as typed, never as guessed: no abbreviations; ``--version`` reports what is installed."""

from __future__ import annotations

import importlib.metadata
import platform
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dropout_tui.core import version
from dropout_tui.core.recording import versions
from dropout_tui.tui.cli import main, main_parser

ABBREVIATED = [
    (["--data", "xor", "--headless", "--steps", "1"], "--data"),
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


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("dropout-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dropout_tui.tui.cli"]


def test_version_prints_the_installed_versions_and_exits_0():
    proc = subprocess.run([*_console_script(), "--version"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    match = re.fullmatch(r"dropout-tui (\S+) \(numpy (\S+), textual (\S+), Python (\S+)\)\n", proc.stdout)
    assert match, proc.stdout
    assert match.groups() == (importlib.metadata.version("dropout-tui"), np.__version__,
                              importlib.metadata.version("textual"), platform.python_version())


def test_version_comes_from_the_package_metadata():
    assert version() == importlib.metadata.version("dropout-tui") != "unknown"
    assert version("textual") == importlib.metadata.version("textual")
    assert version("no-such-distribution-dropout-tui") == "unknown"


def test_session_logs_record_the_same_version():
    assert versions() == {"dropout-tui": importlib.metadata.version("dropout-tui"), "numpy": np.__version__,
                          "python": platform.python_version()}
