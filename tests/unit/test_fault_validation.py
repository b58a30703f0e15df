"""Fault kind: validation that is not the engine's own precondition. Every field a recording's
header, event or config can carry is checked by the code that checks the command line, so a value
that passes can never fail deeper with a traceback."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from dropout_tui.core.config import MAX_NOISE, MAX_STEPS, Config, option_name
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionFormatError, read_session
from dropout_tui.tui.cli import main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SMALL = {"layers": [8, 8], "train_size": 40, "test_size": 60, "eval_every": 10}


def header(**config) -> dict:
    cfg = Config(**{**SMALL, "layers": (8, 8)}).to_dict()
    cfg.update(config)
    return {"type": "header", "format": "dropout-tui-session", "version": 2, "config": cfg, "seed": cfg["seed"],
            "versions": {"numpy": "0"}, "terminal": None, "mode": "headless", "created": "2026-01-01T00:00:00Z"}


def write(path: Path, *records, raw: str = "") -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records) + raw)
    return path


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("text", ['"abc"', "null", "{}", "1e400", "[]", "true", "-0.5", "1"])
def test_validation_momentum_from_a_header_is_the_command_lines_check(tmp_path, capsys, text):
    """Momentum from a header once crashed replay inside the optimiser, or passed silently
    with sgd/adam. Now one line naming line 1 and --momentum, exit 2, whatever the optimiser."""
    for optimizer in ("momentum", "sgd", "adam"):
        head = json.dumps(header(optimizer=optimizer)).replace('"momentum": 0.9', f'"momentum": {text}')
        path = write(tmp_path / "s.jsonl", head, {"type": "close", "reason": "end", "step": 5, "t": 0})
        for extra in (["--verify"], ["--headless", "--json"]):
            code, out, err = cli(capsys, "replay", path, *extra)
            line = one_line(err)
            assert code == 2 and out == "", (text, optimizer, out)
            assert "line 1: header: bad config: --momentum: " in line, line


def test_validation_noise_is_bounded_by_what_the_data_and_maps_need(tmp_path, capsys):
    code, _, err = cli(capsys, "--headless", "--steps", "0", "--noise", "1e308")
    assert code == 2 and "--noise: expected a number from 0 to" in one_line(err)
    path = write(tmp_path / "s.jsonl", header(noise=1e300))
    with pytest.raises(SessionFormatError, match=r"^line 1: header: bad config: --noise"):
        read_session(path)
    assert Config(noise=MAX_NOISE).validate().noise == MAX_NOISE


def test_validation_eval_every_and_steps_are_bounded_by_max_steps(capsys):
    for args, option in ((["--eval-every", str(MAX_STEPS + 1)], "--eval-every"),
                         (["--steps", str(MAX_STEPS + 1)], "--steps")):
        code, _, err = cli(capsys, "--headless", *args)
        assert code == 2 and one_line(err).startswith(f"dropout-tui: error: {option}: expected an integer")


@pytest.mark.parametrize("config", [{"lr": 1e308}, {"l2": 1e308}, {"keep_prob": 1e-300},
                                    {"seed": 10 ** 200}, {"lr": 1e30, "dtype": "float32"},
                                    {"optimizer": "adam", "lr": 1e308}, {"momentum": 0.999999999999,
                                                                           "optimizer": "momentum"}])
def test_validation_corner_values_that_pass_run_without_a_traceback(capsys, config):
    """Values the checks accept must be values the engine handles (a diverging run is a result)."""
    argv = [f"--{k.replace('_', '-')}={v}" for k, v in config.items()]
    code, out, err = cli(capsys, "--headless", "--steps", "30", "--layers", "8,8", "--train-size", "40",
                         "--test-size", "60", "--json", *argv)
    assert code == 0, err
    result = json.loads(out)
    assert result["step"] == 30 and set(result["runs"]) == {"inverted", "unrescaled"}


def test_validation_an_event_cannot_smuggle_an_internal_config(tmp_path):
    """Only the documented ``config`` of a dataset event is read, and validated; anything else in
    a record (``_config``) is never trusted."""
    evil = Config(**{**SMALL, "layers": (8, 8), "dataset": "circles", "lr": 0.001}).to_dict()
    evil["layers"] = [4096] * 16
    path = write(tmp_path / "s.jsonl", header(),
                 {"type": "event", "kind": "dataset", "step": 3, "t": 0, "value": "circles", "_config": evil},
                 {"type": "close", "reason": "end", "step": 4, "t": 0})
    session = read_session(path)
    rep = Replayer(session).run()
    assert rep.exp.config == Config(**{**SMALL, "layers": (8, 8), "dataset": "circles"})
    bad = dict(evil, layers=[8, 0])
    write(path, header(), {"type": "event", "kind": "dataset", "step": 3, "t": 0, "value": "circles", "config": bad})
    with pytest.raises(SessionFormatError, match=r"^line 2: dataset event: 'config': --layers"):
        read_session(path)


@pytest.mark.parametrize("change, pattern", [
    ({"versions": {"numpy": 2}}, "'versions' must be an object of version strings"),
    ({"versions": [1]}, "'versions' must be an object"),
    ({"terminal": {"cols": -1, "rows": 24}}, "'terminal' must be null or"),
    ({"terminal": "80x24"}, "'terminal' must be null or"),
    ({"seed": 7}, "'seed' 7 differs from the config's seed 0"),
    ({"mode": 3}, "'mode' must be a string"),
])
def test_validation_every_header_field_is_checked(tmp_path, change, pattern):
    path = write(tmp_path / "s.jsonl", {**header(), **change})
    with pytest.raises(SessionFormatError, match=r"^line 1: header: " + pattern):
        read_session(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from([f.name for f in fields(Config)]), value=JSON_VALUES)
def test_validation_any_value_of_any_header_field_reads_or_is_named(tmp_path, name, value):
    """Whatever JSON a header's config field holds, reading either gives the Config the command
    line's own checks give, and a short replay runs, or fails with one line naming line 1 and that
    field's option. Nothing else (no traceback, no other exception type)."""
    head = header()
    head["config"][name] = value
    head.pop("seed")
    path = write(tmp_path / "h.jsonl", head, {"type": "close", "reason": "end", "step": 2, "t": 0})
    try:
        session = read_session(path)
    except SessionFormatError as exc:
        option = option_name(next(f for f in fields(Config) if f.name == name))
        assert str(exc).startswith(f"line 1: header: bad config: {option}")
        assert "\n" not in str(exc)
        return
    assert session.config == Config.from_dict(head["config"])
    rep = Replayer(session).run()
    assert rep.exp.step == 2 and rep.exp.config == session.config


@pytest.mark.parametrize("value", ["abc", [1], {"x": 1}])
def test_validation_a_snapshot_number_that_is_not_a_number_is_a_bad_file_not_a_mismatch(tmp_path, capsys, small_config,
                                                                                          value):
    from dropout_tui.core.experiment import PairedExperiment
    from dropout_tui.core.report import json_safe

    exp = PairedExperiment(Config(**{**SMALL, "layers": (8, 8)}))
    snap = json_safe(dict(exp.snapshot()))
    snap["runs"]["inverted"]["test_loss"] = value
    path = write(tmp_path / "s.jsonl", header(), {"type": "snapshot", "t": 0, **snap})
    code, out, err = cli(capsys, "replay", path, "--verify")
    assert code == 2 and out == ""
    assert "line 2: snapshot: 'runs.inverted.test_loss' must be a number or null" in one_line(err)
