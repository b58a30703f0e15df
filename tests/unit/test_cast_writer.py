"""The asciicast v2 writer (tui.cast): format, coalescing, durability."""


from __future__ import annotations

import time

import pytest
from dropout_tui.core.fileio import OutputExistsError
from dropout_tui.tui.cast import CastWriter, read_cast


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def frame(cols=80, rows=24, step=0) -> list[str]:
    """Pieces of a Textual-like frame: alternate screen, cursor moves, colours, box drawing."""
    half = cols // 2
    out = ["\x1b[?1049h", "\x1b[?25l", "\x1b[H\x1b[2J"]
    out.append(f"\x1b[1;1H\x1b[1;38;5;39m step {step:>6}  keep_prob 0.50 \x1b[0m")
    out.append("\x1b[2;1H\x1b[38;2;120;200;80m┌─ inverted (÷ keep_prob) ─\x1b[0m")
    out.append(f"\x1b[2;{half + 1}H\x1b[38;2;220;120;80m┌─ unrescaled ─\x1b[0m")
    for r in range(3, rows):
        out.append(f"\x1b[{r};1H│ loss {0.5 + r / 100:.3f} ▁▂▃▅▇")
        out.append(f"\x1b[{r};{half + 1}H│ loss {0.9 + r / 100:.3f} ▇▅▃▂▁")
    return out


def test_header_and_events_are_asciicast_v2(tmp_path):
    clock = Clock()
    w = CastWriter(tmp_path / "a.cast", 80, 24, term="xterm-256color", shell="/bin/bash", clock=clock,
                   timestamp=1700000000, autoflush=False)
    w.output("hello ")
    clock.t += 1.5
    w.output("\x1b[31mworld é ▇\x1b[0m")
    w.resize(100, 30)
    w.close()
    header, events = read_cast(tmp_path / "a.cast")
    assert header == {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000,
                      "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"}}
    assert events == [[0.0, "o", "hello "], [1.5, "o", "\x1b[31mworld é ▇\x1b[0m"], [1.5, "r", "100x30"]]
    raw = (tmp_path / "a.cast").read_bytes()
    assert raw.endswith(b"\n") and "é ▇".encode() in raw  # UTF-8, not \u escapes


def test_writes_within_the_interval_are_coalesced(tmp_path):
    clock = Clock()
    w = CastWriter(tmp_path / "a.cast", 80, 24, clock=clock, autoflush=False)
    w.output("a")  # after a quiet spell: written at once
    for i in range(10):  # a burst within 50 ms: held back
        clock.t += 0.004
        w.output(str(i))
    assert len(read_cast(tmp_path / "a.cast")[1]) == 1
    clock.t += 0.02
    w.output("b")  # 60 ms after the last event: the burst goes out as one event
    w.resize(80, 24)  # same size: nothing
    w.close()
    events = read_cast(tmp_path / "a.cast")[1]
    assert [e[2] for e in events] == ["a", "0123456789b"]
    assert events[1][0] == pytest.approx(0.004)  # stamped with the time of its first piece
    assert [e[0] for e in events] == sorted(e[0] for e in events)


def test_a_timer_writes_held_back_output(tmp_path):
    w = CastWriter(tmp_path / "a.cast", 80, 24, interval=0.05)
    w.output("first")
    w.output("second")  # held back: less than 50 ms since the first
    deadline = time.monotonic() + 2
    while len(read_cast(tmp_path / "a.cast")[1]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e[2] for e in read_cast(tmp_path / "a.cast")[1]] == ["first", "second"]
    w.close()


def test_close_writes_pending_output_and_later_output_is_dropped(tmp_path):
    clock = Clock()
    w = CastWriter(tmp_path / "a.cast", 80, 24, clock=clock, autoflush=False)
    w.output("a")
    w.output("pending")
    w.close()
    w.close()
    w.output("late")
    w.resize(10, 10)
    assert [e[2] for e in read_cast(tmp_path / "a.cast")[1]] == ["a", "pending"]


def test_existing_file_is_not_overwritten_without_force(tmp_path):
    path = tmp_path / "a.cast"
    path.write_text("keep me\n")
    with pytest.raises(OutputExistsError, match="--force"):
        CastWriter(path, 80, 24)
    assert path.read_text() == "keep me\n"
    CastWriter(path, 80, 24, force=True).close()
    assert read_cast(path)[0]["version"] == 2


