"""Two signals close together (SIGTERM then SIGHUP a millisecond apart, as a shell that closes
after ``kill``): the first decides the close record and the exit status; the second, which may
land while the files are being closed, must not cut the closing short and lose that record."""

from __future__ import annotations

import json
import signal

from dropout_tui.core.replay import Replayer
from dropout_tui.tui import headless
from dropout_tui.tui.cli import main
from dropout_tui.tui.outputs import Outputs
from dropout_tui.tui.signals import SIGNALS

SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10"]


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def second_signal_while_closing(monkeypatch) -> list:
    """Outputs.close gets a SIGHUP the moment it starts, delivered as the process's handler would;
    the list it returns holds one entry per closing that ran to its end."""
    real_close = Outputs.close
    closed = []

    def close(self, *args, **kwargs):
        SIGNALS.deliver(signal.SIGHUP)
        real_close(self, *args, **kwargs)
        closed.append(args)

    monkeypatch.setattr(Outputs, "close", close)
    return closed


def test_headless_closes_its_log_when_a_second_signal_comes_while_closing(tmp_path, monkeypatch):
    closed = second_signal_while_closing(monkeypatch)
    def first_signal_while_training(exp, steps, on_snapshot=None, should_stop=None):
        on_snapshot(exp.snapshot(rules=True))
        SIGNALS.deliver(signal.SIGTERM)
        assert should_stop()
        return None

    monkeypatch.setattr(headless, "_train_with_progress", first_signal_while_training)
    log = tmp_path / "s.jsonl"
    code = main(["--headless", *SMALL, "--steps", "1000", "--record", str(log)])
    assert code == 128 + signal.SIGTERM
    assert closed  # the closing ran to its end
    assert _records(log)[-1]["type"] == "close" and _records(log)[-1]["reason"] == "SIGTERM"


def test_replay_closes_its_outputs_when_a_second_signal_comes_while_closing(tmp_path, monkeypatch, capfd):
    session = tmp_path / "s.jsonl"
    assert main(["--headless", *SMALL, "--steps", "40", "--record", str(session)]) == 0
    real_advance = Replayer.advance

    def first_signal_while_replaying(self, max_steps=None):
        SIGNALS.deliver(signal.SIGTERM)
        return real_advance(self, max_steps)

    monkeypatch.setattr(Replayer, "advance", first_signal_while_replaying)
    closed = second_signal_while_closing(monkeypatch)
    again = tmp_path / "again.csv"
    code = main(["replay", str(session), "--headless", "--csv", str(again)])
    assert code == 128 + signal.SIGTERM
    assert closed  # the closing ran to its end
    assert again.read_text().startswith("step,")
    assert "stopped by SIGTERM" in capfd.readouterr().err
