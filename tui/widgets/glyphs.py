"""ASCII mode (``--ascii``): every character on screen below 128.

The Linux console's default font lacks most box-drawing, block and braille glyphs, and terminals
set up for East Asian text draw "ambiguous" characters (·, ×, →, ‖, ●…) two cells wide, which
pushes every row past its edge. In ASCII mode the widgets choose ASCII glyphs of their own
(``tui.widgets.loss_chart``, ``boundary_map``), and these tables turn everything else into ASCII:
``cells`` one character for one (layouts keep their widths), ``prose`` for running text, where
a sign may become a word.
"""

from __future__ import annotations

import os
import re
import unicodedata

from rich.text import Text

ENV = "DROPOUT_TUI_ASCII"  # 1: ASCII mode, 0: never; unset: by the terminal (TERM=linux)

# One ASCII character for one cell.
CELL = {
    "—": "-", "–": "-", "−": "-", "→": ">", "←": "<", "↑": "^", "↓": "v", "×": "x", "÷": "/",
    "‖": "|", "·": ".", "…": "~", "•": "*", "●": "o", "○": "o", "█": "#", "░": ".", "▒": ":",
    "▓": "%", "▀": "^", "▄": "_", "━": "-", "─": "-", "═": "=", "│": "|", "┃": "|", "┤": "|",
    "├": "|", "└": "+", "┘": "+", "┌": "+", "┐": "+", "┬": "+", "┴": "+", "┼": "+", "╭": "+",
    "╮": "+", "╯": "+", "╰": "+", "▁": "_", "▂": "_", "▃": ".", "▅": "=", "▆": "=",
    "▇": "#", "▔": "-", "▏": "|", "▕": "|", "▌": "|", "▐": "|", "▊": "|", "▉": "#", "≈": "~",
    "²": "2", "√": "V", "≥": ">", "≤": "<", "✓": "v", "✗": "x", "’": "'", "‘": "'", "“": '"',
    "”": '"', "⋮": ":", "⏎": "<", "🔎": "> ",
}
# Running text: a word or two where one sign would not read.
PROSE = (
    ("E‖·‖²", "E||.||^2"), ("‖·‖²", "||.||^2"), ("‖W‖", "||W||"), ("√p", "sqrt(p)"), ("→", "->"),
    ("←", "<-"), ("÷", "/"), ("×", "x"), ("≈", "~"), ("—", "-"), ("–", "-"), ("…", "..."),
    ("≥", ">="), ("≤", "<="), ("²", "^2"), ("‖", "||"), ("·", "."), ("↑", "up"), ("↓", "down"),
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_wanted(flag: bool | None = None, environ=None) -> bool:
    """ASCII mode for this session: ``--ascii`` (flag True), else ``DROPOUT_TUI_ASCII`` (1 / 0),
    else on by itself on the Linux console (TERM=linux)."""
    if flag:
        return True
    env = os.environ if environ is None else environ
    setting = env.get(ENV, "").strip().lower()
    if setting in ("1", "yes", "true", "on"):
        return True
    if setting in ("0", "no", "false", "off"):
        return False
    return env.get("TERM", "") == "linux"


def _cell(ch: str) -> str:
    sub = CELL.get(ch)
    if sub is not None:
        return sub
    if 0x2800 <= ord(ch) <= 0x28FF:  # braille dots: how many, roughly
        return "." if (ord(ch) - 0x2800).bit_count() <= 2 else ":"
    decomposed = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    wide = unicodedata.east_asian_width(ch) in "WF"
    if len(decomposed) == 1:
        return decomposed * (2 if wide else 1)
    return "??" if wide else "?"


def cells(text: str) -> str:
    """``text`` in ASCII, one cell for one cell (two for a wide character)."""
    return _NON_ASCII.sub(lambda m: _cell(m.group()), text) if not text.isascii() else text


def prose(text: str) -> str:
    """Running text in ASCII: signs become short words, everything else as ``cells``."""
    if text.isascii():
        return text
    for sign, words in PROSE:
        text = text.replace(sign, words)
    return cells(text)


def text_cells(text: Text) -> Text:
    """A Rich Text with every character replaced by ``cells`` (spans stay where they are)."""
    plain = text.plain
    if plain.isascii():
        return text
    out = text.copy()
    new = cells(plain)
    if len(new) == len(plain):
        out.plain = new
        return out
    # A wide character became two: rebuild span by span.
    rebuilt = Text(style=text.style, justify=text.justify, no_wrap=text.no_wrap, overflow=text.overflow)
    for part in text.divide(sorted({s.start for s in text.spans} | {s.end for s in text.spans})):
        rebuilt.append_text(Text(cells(part.plain), style=part.style, spans=[
            s.__class__(0, len(cells(part.plain)), s.style) for s in part.spans]))
    return rebuilt


def ascii_scrollbar_render():
    """A Textual scroll bar renderer without the eighth-block glyphs at the thumb's ends."""
    from textual.scrollbar import ScrollBarRender

    class AsciiScrollBarRender(ScrollBarRender):
        VERTICAL_BARS = [" "] * 8
        HORIZONTAL_BARS = [" "] * 8

    return AsciiScrollBarRender


def ascii_driver_class(base):
    """A subclass of the Textual driver class ``base`` whose output is ASCII whatever a widget
    drew (every character through ``cells``): the guarantee behind ``--ascii``, for anything the
    widgets' own ASCII glyphs missed (Textual's own panels, a notice)."""

    class AsciiDriver(base):
        def write(self, data: str) -> None:
            super().write(cells(data))

    AsciiDriver.__name__ = AsciiDriver.__qualname__ = f"Ascii{base.__name__}"
    return AsciiDriver
