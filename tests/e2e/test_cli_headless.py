"""The real ``dropout-tui`` CLI in subprocesses: bad input, ``--headless --json`` and the table."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dropout_tui.core.snapshot import LayerStats, RunMetrics

# Always headless with 0 steps, so a bad value that slipped through validation can't open the app.
PREFIX = ["--headless", "--steps", "0", "--json"]

# (id, extra arguments, option the one-line error must name)
BAD_INPUT = [
    ("keep-prob-zero", ["--keep-prob", "0"], "--keep-prob"),
    ("keep-prob-negative", ["--keep-prob", "-0.5"], "--keep-prob"),
    ("keep-prob-above-one", ["--keep-prob", "1.5"], "--keep-prob"),
    ("keep-prob-nan", ["--keep-prob", "nan"], "--keep-prob"),
    ("keep-prob-inf", ["--keep-prob", "inf"], "--keep-prob"),
    ("keep-prob-minus-inf", ["--keep-prob=-inf"], "--keep-prob"),
    ("keep-prob-text", ["--keep-prob", "half"], "--keep-prob"),
    ("keep-prob-empty", ["--keep-prob="], "--keep-prob"),
    ("keep-prob-missing-value", ["--keep-prob"], "--keep-prob"),
    ("input-keep-prob-zero", ["--input-keep-prob", "0"], "--input-keep-prob"),
    ("input-keep-prob-above-one", ["--input-keep-prob", "1.01"], "--input-keep-prob"),
    ("input-keep-prob-negative", ["--input-keep-prob=-1"], "--input-keep-prob"),
    ("input-keep-prob-nan", ["--input-keep-prob", "nan"], "--input-keep-prob"),
    ("input-keep-prob-inf", ["--input-keep-prob", "inf"], "--input-keep-prob"),
    ("input-keep-prob-text", ["--input-keep-prob", "all"], "--input-keep-prob"),
    ("lr-zero", ["--lr", "0"], "--lr"),
    ("lr-negative", ["--lr", "-0.1"], "--lr"),
    ("lr-nan", ["--lr", "nan"], "--lr"),
    ("lr-inf", ["--lr", "inf"], "--lr"),
    ("lr-minus-inf", ["--lr=-inf"], "--lr"),
    ("lr-text", ["--lr", "fast"], "--lr"),
    ("layers-zero", ["--layers", "0"], "--layers"),
    ("layers-negative", ["--layers=-1"], "--layers"),
    ("layers-zero-among", ["--layers", "64,0"], "--layers"),
    ("layers-text", ["--layers", "a"], "--layers"),
    ("layers-empty-item", ["--layers", "64,,64"], "--layers"),
    ("layers-trailing-comma", ["--layers", "64,"], "--layers"),
    ("layers-empty", ["--layers", ""], "--layers"),
    ("layers-float", ["--layers", "1.5"], "--layers"),
    ("dataset-unknown", ["--dataset", "mnist"], "--dataset"),
    ("activation-unknown", ["--activation", "gelu"], "--activation"),
    ("optimizer-unknown", ["--optimizer", "rmsprop"], "--optimizer"),
    ("dtype-unknown", ["--dtype", "float16"], "--dtype"),
    ("steps-negative", ["--steps", "-1"], "--steps"),
    ("steps-text", ["--steps", "many"], "--steps"),
    ("batch-size-larger-than-train", ["--train-size", "50", "--batch-size", "51"], "--batch-size"),
    ("batch-size-negative", ["--batch-size", "-1"], "--batch-size"),
    ("train-size-too-small", ["--train-size", "3"], "--train-size"),
    ("train-size-zero", ["--train-size", "0"], "--train-size"),
    ("train-size-too-small-spiral", ["--dataset", "spiral", "--train-size", "14"], "--train-size"),
    ("test-size-too-small", ["--test-size", "2"], "--test-size"),
    ("test-size-too-small-blobs", ["--dataset", "blobs", "--test-size", "14"], "--test-size"),
    ("test-size-negative", ["--test-size", "-5"], "--test-size"),
    ("eval-every-zero", ["--eval-every", "0"], "--eval-every"),
    ("seed-negative", ["--seed", "-3"], "--seed"),
    ("noise-negative", ["--noise", "-0.1"], "--noise"),
    ("l2-negative", ["--l2", "-1"], "--l2"),
]


def _console_script() -> str:
    # The one installed with this interpreter; the first on PATH may be another checkout's.
    candidate = Path(sys.executable).with_name("dropout-tui")
    assert candidate.exists(), "the dropout-tui console script is not installed"
    return str(candidate)


def _env():
    env = dict(os.environ, PYTHONWARNINGS="ignore", COLUMNS="120", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    return env


def _run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(),
                          stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def bad_input_results():
    """All bad-input cases run once, a few at a time (they are independent processes)."""
    cmds = {case: [sys.executable, "-m", "dropout_tui.tui.cli", *PREFIX, *args] for case, args, _ in BAD_INPUT}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case: pool.submit(_run, cmd) for case, cmd in cmds.items()}
        return {case: f.result() for case, f in futures.items()}


def _names_option(line: str, option: str) -> bool:
    # "--keep-prob" must not match inside "--input-keep-prob"
    return re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", line) is not None


def _assert_usage_error(proc, option):
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {lines!r}"
    assert _names_option(lines[0], option), lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize("case,args,option", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_with_one_line(bad_input_results, case, args, option):
    _assert_usage_error(bad_input_results[case], option)


@pytest.mark.parametrize("args,option", [
    (["--keep-prob", "2"], "--keep-prob"),
    (["--layers", "64,,64"], "--layers"),
    (["--dataset", "nope"], "--dataset"),
])
def test_bad_input_through_console_script(args, option):
    _assert_usage_error(_run([_console_script(), *PREFIX, *args]), option)


def test_absurd_layer_size_is_a_usage_error_not_a_traceback():
    _assert_usage_error(
        _run([sys.executable, "-m", "dropout_tui.tui.cli", *PREFIX, "--layers", "99999999999999999999"]), "--layers")


# -- --headless --json ----------------------------------------------------------------------------

def _strict_json(text: str):
    def reject(token):
        raise AssertionError(f"non-JSON constant {token} in output")
    return json.loads(text, parse_constant=reject)


CLI_OPTIONS = {
    # every experiment option, each away from its default so echoing the default would be caught
    "dataset": ("--dataset", "spiral"),
    "layers": ("--layers", "12,10,8"),
    "activation": ("--activation", "tanh"),
    "keep_prob": ("--keep-prob", "0.6"),
    "input_keep_prob": ("--input-keep-prob", "0.9"),
    "lr": ("--lr", "0.05"),
    "optimizer": ("--optimizer", "momentum"),
    "momentum": ("--momentum", "0.8"),
    "batch_size": ("--batch-size", "16"),
    "l2": ("--l2", "0.001"),
    "seed": ("--seed", "7"),
    "train_size": ("--train-size", "60"),
    "test_size": ("--test-size", "90"),
    "noise": ("--noise", "0.2"),
    "eval_every": ("--eval-every", "9"),
    "dtype": ("--dtype", "float32"),
}
EXPECTED_CONFIG = {
    "dataset": "spiral", "layers": [12, 10, 8], "activation": "tanh", "keep_prob": 0.6,
    "input_keep_prob": 0.9, "lr": 0.05, "optimizer": "momentum", "momentum": 0.8, "batch_size": 16, "l2": 0.001,
    "seed": 7,
    "train_size": 60, "test_size": 90, "noise": 0.2, "eval_every": 9, "dtype": "float32",
}
# The typed snapshot is the contract (core.snapshot); the README's JSON block is checked against it
# in tests/unit/test_snapshot_contract.py.
RUN_KEYS = set(RunMetrics.__required_keys__) - {"layers"}
# Classification: accuracy and confidence in both runs; ×p at test in the unrescaled run only;
# the regression fields absent, not faked. (rules: both runs, the final snapshot.)
REGRESSION_KEYS = {k for k in RunMetrics.__optional_keys__ if k.split("_")[1:2] in (["r2"], ["rmse"], ["spread"])}
CLASS_KEYS = {"train_acc", "test_acc", "test_confidence"}
SCALED_KEYS = {k for k in RunMetrics.__optional_keys__ if k.endswith("_scaled")} - REGRESSION_KEYS
LAYER_KEYS = set(LayerStats.__required_keys__)


@pytest.fixture(scope="module")
def headless_default_json():
    return _run([sys.executable, "-m", "dropout_tui.tui.cli", "--headless", "--steps", "50", "--json"])


@pytest.fixture(scope="module")
def headless_all_options_json():
    args = [a for flag, value in CLI_OPTIONS.values() for a in (flag, value)]
    return _run([sys.executable, "-m", "dropout_tui.tui.cli", "--headless", "--steps", "50", "--json", *args])


def _check_document(doc, steps, n_hidden):
    assert set(doc) == {"config", "step", "keep_prob", "input_keep_prob", "chance_acc", "chance_loss", "runs"}
    assert 0 < doc["chance_acc"] <= 1 and doc["chance_loss"] >= 0
    assert doc["step"] == steps
    assert set(doc["runs"]) == {"inverted", "unrescaled"}
    for rule, run in doc["runs"].items():
        assert RUN_KEYS | CLASS_KEYS <= set(run), rule
        assert not REGRESSION_KEYS & set(run), rule
        if rule == "unrescaled":
            assert SCALED_KEYS <= set(run)
        else:
            assert not SCALED_KEYS & set(run), "scaled-at-test numbers belong to the unrescaled run only"
        assert isinstance(run["diverged"], bool) and isinstance(run["learning"], bool)
        assert len(run["layers"]) == n_hidden
        for i, layer in enumerate(run["layers"], start=1):
            assert LAYER_KEYS == set(layer)
            assert layer["name"] == f"h{i}"
            for key in LAYER_KEYS - {"name"}:
                assert layer[key] is None or isinstance(layer[key], (int, float))


def test_headless_json_defaults(headless_default_json):
    proc = headless_default_json
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.count("\n") == 1 and proc.stdout.endswith("\n"), "exactly one line of JSON"
    doc = _strict_json(proc.stdout)
    _check_document(doc, 50, 2)
    from dropout_tui.core.config import Config

    assert doc["config"] == Config().to_dict()  # every option, at its default
    for rule in ("inverted", "unrescaled"):
        run = doc["runs"][rule]
        assert run["diverged"] is False
        for key in RUN_KEYS - {"diverged", "learning"}:
            assert isinstance(run[key], float) and math.isfinite(run[key]), (rule, key)
        assert 0 <= run["test_acc"] <= 1


def test_headless_json_echoes_every_option(headless_all_options_json):
    proc = headless_all_options_json
    assert proc.returncode == 0, proc.stderr
    doc = _strict_json(proc.stdout)
    _check_document(doc, 50, 3)
    for key, value in EXPECTED_CONFIG.items():
        assert doc["config"][key] == value, key
    # names in the JSON are the options' names
    assert {flag.lstrip("-").replace("-", "_") for flag, _ in CLI_OPTIONS.values()} <= set(doc["config"])


def test_headless_json_matches_the_engine_in_process(headless_all_options_json):
    """The CLI trains what the options say: the same numbers come out of the engine driven directly."""
    from dropout_tui.core.config import Config
    from dropout_tui.core.experiment import PairedExperiment
    from dropout_tui.core.report import result
    from dropout_tui.tui.headless import train

    cfg = Config.from_dict(EXPECTED_CONFIG)
    exp = PairedExperiment(cfg)
    expected = json.loads(json.dumps(result(cfg, train(exp, 50))))
    got = _strict_json(headless_all_options_json.stdout)
    assert got["config"] == expected["config"]
    for rule in ("inverted", "unrescaled"):
        for key in RUN_KEYS:
            assert got["runs"][rule][key] == pytest.approx(expected["runs"][rule][key], rel=1e-5, abs=1e-7), \
                (rule, key)


def test_headless_json_steps_zero_is_valid_json():
    proc = _run([sys.executable, "-m", "dropout_tui.tui.cli", "--headless", "--steps", "0", "--json", "--layers", "4"])
    assert proc.returncode == 0, proc.stderr
    doc = _strict_json(proc.stdout)
    assert doc["step"] == 0
    assert doc["runs"]["inverted"]["train_loss_dropout"] is None  # no step yet: nan -> null


def test_headless_json_diverging_run_prints_valid_json():
    proc = _run([sys.executable, "-m", "dropout_tui.tui.cli", "--headless", "--steps", "20", "--json", "--lr", "1e300",
                 "--layers", "8,8", "--train-size", "40", "--test-size", "40"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for token in ("NaN", "Infinity"):
        assert token not in proc.stdout
    doc = _strict_json(proc.stdout)
    diverged = [doc["runs"][r]["diverged"] for r in ("inverted", "unrescaled")]
    assert any(diverged)
    for rule in ("inverted", "unrescaled"):
        if doc["runs"][rule]["diverged"]:
            assert doc["runs"][rule]["train_loss_dropout"] is None or doc["runs"][rule]["train_loss"] is None


def test_headless_table_shows_both_runs():
    proc = _run([sys.executable, "-m", "dropout_tui.tui.cli", "--headless", "--steps", "30", "--layers", "16,16"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "inverted" in out and "unrescaled" in out
    assert "h1" in out and "h2" in out
    assert "step 30" in out
    assert not out.lstrip().startswith("{")  # a table, not JSON
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_headless_table_through_console_script():
    proc = _run([_console_script(), "--headless", "--steps", "5", "--layers", "8"])
    assert proc.returncode == 0, proc.stderr
    assert "inverted" in proc.stdout and "unrescaled" in proc.stdout


@pytest.mark.parametrize("args, option", [(["--json"], "--json"), (["--steps", "5"], "--steps")])
def test_headless_only_options_are_refused_for_the_app(args, option):
    _assert_usage_error(_run([sys.executable, "-m", "dropout_tui.tui.cli", *args]), option)
