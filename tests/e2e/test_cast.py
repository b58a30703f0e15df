"""Casts of the real app and a tiny Textual app in a pseudo-terminal: they render and asciinema accepts them."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyte
import pytest
from dropout_tui.tui.cast import CastWriter, read_cast

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def render(events, cols, rows) -> pyte.Screen:
    screen = pyte.Screen(cols, rows)
    stream = pyte.Stream(screen)
    for _t, code, data in events:
        if code == "o":
            stream.feed(data)
        elif code == "r":
            c, r = map(int, data.split("x"))
            screen.resize(r, c)
    return screen


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


def test_cast_renders_both_columns_in_a_terminal_emulator(tmp_path):
    clock = Clock()
    w = CastWriter(tmp_path / "a.cast", 80, 24, clock=clock, autoflush=False)
    for step in range(3):
        for piece in frame(step=step * 20):
            clock.t += 0.003
            w.output(piece)
        clock.t += 0.25
    w.resize(100, 30)
    for piece in frame(100, 30, step=60):
        w.output(piece)
    w.close()
    header, events = read_cast(tmp_path / "a.cast")
    screen = render(events, header["width"], header["height"])
    text = "\n".join(screen.display)
    assert (screen.columns, screen.lines) == (100, 30)
    assert "inverted (÷ keep_prob)" in screen.display[1] and "unrescaled" in screen.display[1]
    assert screen.display[1].index("┌─ unrescaled") == 50  # its column starts at 51 (1-based)
    assert "step     60" in text and "▇▅▃▂▁" in text
    assert len(events) < 3 * len(frame()) / 4  # coalesced


def test_a_minute_of_output_fits_the_budget(tmp_path):
    """60 s at 80x24 of whole-screen redraws, 12 per second: about 20 KB/s of terminal output, the
    app's budget at 80x24. The file must stay under 1.5 MB; JSON escaping of ESC
    (6 bytes for 1) is the main overhead, so it must stay moderate."""
    clock = Clock()
    w = CastWriter(tmp_path / "a.cast", 80, 24, clock=clock, autoflush=False)
    raw = 0
    fps = 12
    for tick in range(60 * fps):
        for piece in frame(step=tick * 100)[3:]:
            clock.t += 0.0005
            w.output(piece)
            raw += len(piece.encode())
        clock.t += 1 / fps - 0.0005 * 45
    w.close()
    size = (tmp_path / "a.cast").stat().st_size
    assert 15_000 < raw / 60 < 25_000
    assert size <= 1_500_000, (size, raw)
    assert size / raw < 1.25, (size, raw)


TINY_APP = textwrap.dedent("""
    import sys
    from textual.app import App
    from textual.containers import Horizontal
    from textual.widgets import Static
    from dropout_tui.tui.cast import CastWriter, cast_driver_class

    class Two(App):
        CSS = "Static { width: 1fr; border: round green; }"
        def compose(self):
            with Horizontal():
                yield Static("inverted (÷ keep_prob)")
                yield Static("unrescaled")
        def on_mount(self):
            self.set_timer(0.6, self.exit)

    writer = CastWriter(sys.argv[1], 80, 24, force=True)
    app = Two()
    app.driver_class = cast_driver_class(app.driver_class, writer)
    app.run()
    writer.close()
""")


def _run_in_pty(argv, cwd, timeout=20.0) -> tuple[int, bytes]:
    import fcntl
    import struct
    import termios

    pid, master = pty.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(master)
    _, status = os.waitpid(pid, 0)
    return (os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1), out


def test_textual_driver_hook_records_what_the_app_draws(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text(TINY_APP)
    cast = tmp_path / "app.cast"
    code, out = _run_in_pty([sys.executable, str(script), str(cast)], REPO)
    assert code == 0, out[-2000:]
    header, events = read_cast(cast)
    assert (header["width"], header["height"]) == (80, 24) and events
    assert all(e[1] in ("o", "r") for e in events)
    # the file holds exactly what went to the terminal
    recorded = "".join(e[2] for e in events if e[1] == "o")
    assert recorded.encode() in out or len(recorded.encode()) >= len(out) * 0.9
    # replay the output up to the moment the app left the alternate screen
    upto = []
    for e in events:
        if e[1] == "o" and "\x1b[?1049l" in e[2]:
            upto.append([e[0], "o", e[2].split("\x1b[?1049l")[0]])
            break
        upto.append(e)
    screen = render(upto, 80, 24)
    text = "\n".join(screen.display)
    assert "inverted (÷ keep_prob)" in text and "unrescaled" in text


@pytest.mark.skipif(shutil.which("asciinema") is None, reason="asciinema not installed (optional check)")
def test_asciinema_accepts_the_file(tmp_path):
    w = CastWriter(tmp_path / "a.cast", 80, 24)
    for piece in frame():
        w.output(piece)
    w.close()
    out = subprocess.run(["asciinema", "cat", str(tmp_path / "a.cast")], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert b"unrescaled" in out.stdout
