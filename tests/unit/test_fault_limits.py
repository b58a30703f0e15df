"""Fault kind: work a file (or the command line) can ask for without limit. Bounded by a line-length
limit, MAX_STEPS (per record and over a whole session), streaming, and a memory estimate checked
against the memory available."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import pytest
from dropout_tui.core import session as session_module
from dropout_tui.core.changes import Change
from dropout_tui.core.config import (
    MAX_STEPS,
    Config,
    ConfigError,
    check_memory,
    estimate_bytes,
    human_bytes,
)
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import (
    MAX_LINE_BYTES,
    SessionFormatError,
    SessionLog,
    read_session,
)
from dropout_tui.tui.cli import main
from test_fault_validation import cli, header, one_line, write

CLOSE = {"type": "close", "reason": "end", "step": 3, "t": 0}


@pytest.mark.parametrize("record, kind", [
    ({"type": "close", "reason": "end", "step": 10 ** 12, "t": 0}, "close"),
    ({"type": "snapshot", "step": 10 ** 12, "runs": {"inverted": {}, "unrescaled": {}}}, "snapshot"),
    ({"type": "event", "kind": "pause", "step": MAX_STEPS + 1, "t": 0}, "event"),
])
def test_work_a_step_beyond_max_steps_is_refused_before_training(tmp_path, capsys, record, kind):
    path = write(tmp_path / "s.jsonl", header(), record)
    for extra in (["--verify"], ["--headless", "--json"]):
        code, out, err = cli(capsys, "replay", path, *extra)
        assert code == 2 and out == ""
        assert f"line 2: {kind}: 'step' {record['step']:,} is beyond {MAX_STEPS:,}" in one_line(err)


def test_work_steps_are_counted_over_every_reset(tmp_path):
    half = MAX_STEPS // 2 + 1
    path = write(tmp_path / "s.jsonl", header(),
                 {"type": "event", "kind": "pause", "step": half, "t": 0},
                 {"type": "event", "kind": "reset", "step": half, "t": 0},
                 {"type": "event", "kind": "pause", "step": half, "t": 0})
    with pytest.raises(SessionFormatError, match=rf"^line 4: the session trains more than {MAX_STEPS:,} steps in all"):
        read_session(path)


def test_work_a_log_of_resets_alone_is_bounded(tmp_path):
    """Each reset builds an experiment: a file of nothing but resets must not ask for unbounded work."""
    resets = MAX_STEPS // session_module.RESTART_STEPS + 1
    path = tmp_path / "s.jsonl"
    with open(path, "w") as f:
        f.write(json.dumps(header()) + "\n")
        f.writelines('{"type": "event", "kind": "reset", "step": 0, "t": 0}\n' for _ in range(resets))
    with pytest.raises(SessionFormatError, match=rf"^line {resets + 1}: the session trains more than"):
        read_session(path)


def test_work_the_writer_stops_where_the_reader_would(tmp_path, monkeypatch, small_config):
    """A live session past MAX_STEPS (over resets) closes its log at the last step it may hold,
    says so once, and the log replays."""
    monkeypatch.setattr(session_module, "MAX_STEPS", 25)
    monkeypatch.setattr(session_module, "RESTART_STEPS", 1)
    told = []
    config = small_config()
    log = SessionLog(tmp_path / "s.jsonl", config, on_error=told.append)
    exp = PairedExperiment(config)
    for _ in range(2):
        exp.advance(10)
        log.snapshot(exp.snapshot())
    log.event(Change("reset"), exp.step)
    exp.reset()
    for _ in range(2):
        exp.advance(5)
        log.snapshot(exp.snapshot())  # 20 + 10 > 25: the second one stops the log
    log.close("quit", exp.step)
    assert told == [log] and log.error is None and log.complete and log.ended_at == 5
    session = read_session(tmp_path / "s.jsonl")
    assert session.close.reason == "max steps" and session.close.step == 5 and session.n_snapshots == 3
    assert Replayer(session, verify=True).run().mismatch is None


def test_work_a_line_longer_than_the_limit_is_named(tmp_path, capsys):
    path = write(tmp_path / "s.jsonl", header(), raw='{"type":"event","kind":"speed","step":0,"value":"'
                 + "x" * (MAX_LINE_BYTES + 10) + '"}\n')
    with pytest.raises(SessionFormatError, match=r"^line 2: longer than 1 MiB"):
        read_session(path)
    code, _, err = cli(capsys, "replay", "/dev/zero", "--verify")  # no newline, ever: stops at 1 MiB
    assert code == 2 and "/dev/zero: line 1: longer than 1 MiB" in one_line(err)


def _peak_bytes(path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        session = read_session(path)
        rep = Replayer(session, verify=True)
        while not rep.done:
            rep.advance(None)
        assert rep.events_applied == session.n_events
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_work_events_stream_without_piling_up(tmp_path):
    """Events before the first snapshot are handed back in bounded chunks: peak memory does not
    grow with their number (a million events once took 600 MB in one list)."""
    def log(n: int) -> Path:
        body = '{"type":"event","kind":"speed","step":0,"t":0,"value":"10/s"}\n' * n
        return write(tmp_path / f"{n}.jsonl", header(),
                     raw=body + json.dumps({"type": "snapshot", "step": 1, "runs": {"inverted": {}, "unrescaled": {}}})
                     + "\n" + json.dumps(CLOSE) + "\n")
    small, large = _peak_bytes(log(2_000)), _peak_bytes(log(20_000))
    assert large < small + 2_000_000, (small, large)


def test_memory_estimate_names_the_option_and_both_numbers():
    wide = Config(layers=(4096,) * 16)
    need = estimate_bytes(wide)
    with pytest.raises(ConfigError) as info:
        check_memory(wide, available=need // 2)
    assert str(info.value) == f"--layers: this experiment needs about {human_bytes(need)}; " \
                              f"{human_bytes(need // 2)} are available"
    many = Config(train_size=1_000_000)
    with pytest.raises(ConfigError, match=r"^--train-size: this experiment needs about"):
        check_memory(many, available=estimate_bytes(many) - 1)
    check_memory(many, available=estimate_bytes(many))  # exactly enough is enough


def test_memory_estimate_grows_with_every_size():
    base = Config()
    for change in ({"layers": (64, 65)}, {"layers": (64, 64, 1)}, {"train_size": 201}, {"test_size": 1001},
                   {"optimizer": "adam"}, {"dtype": "float64"}):
        assert estimate_bytes(base.with_changes(**change)) >= estimate_bytes(base), change
    assert estimate_bytes(base.with_changes(dtype="float32")) < estimate_bytes(base)
    assert estimate_bytes(base, grid_points=10_000) > estimate_bytes(base)


def test_memory_too_big_for_this_machine_from_the_command_line_and_a_header(tmp_path, capsys):
    huge = ["--layers", ",".join(["4096"] * 16), "--train-size", "1000000"]
    code, out, err = cli(capsys, "--headless", "--steps", "1", *huge)
    assert code == 2 and out == ""
    assert "error: --layers: this experiment needs about" in one_line(err) and "are available" in err
    path = write(tmp_path / "s.jsonl", header(layers=[4096] * 16, train_size=1_000_000), CLOSE)
    code, out, err = cli(capsys, "replay", path, "--verify")
    assert code == 2 and "line 1: header: bad config: --layers: this experiment needs about" in one_line(err)


def test_memory_error_anywhere_in_the_cli_is_one_line(capsys, monkeypatch):
    """Whatever the estimate misses: a MemoryError still ends in one line and exit 2."""
    from dropout_tui.tui import headless

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(headless, "PairedExperiment", no_memory)
    code = main(["--headless", "--steps", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and "not enough memory" in one_line(err)
