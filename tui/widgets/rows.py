"""Rows built from whole elements: when the width is short, elements shorten or drop out in a stated
order, never cut mid-value and never wrapped onto a line of their own.

A row is a list of ``Part``s, each with its variants from longest to absent (``None``), and a
``drop`` order naming parts: each mention moves that part to its next variant. ``fit_row`` walks
the order until the row fits (names of parts the row lacks are skipped). Widths are judged with
each part's ``reserve`` (room for counters to grow), so a ticking number never flips which parts
are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text


@dataclass
class Part:
    name: str
    variants: list[Text | None]
    sep: str = " · "  # written before the part when another part precedes it
    reserve: int = 0  # extra cells the part may need later (a counter's widest digits)
    right: bool = False  # right-aligned: pushed to the end of the row
    style: str = ""  # of the separator
    chosen: int = field(default=0, init=False)

    @property
    def text(self) -> Text | None:
        return self.variants[min(self.chosen, len(self.variants) - 1)]


def _assemble(parts: list[Part], width: int | None, with_reserve: bool) -> tuple[Text, int]:
    left, right = Text(), Text()
    reserve = 0
    for part in parts:
        text = part.text
        if text is None:
            continue
        side = right if part.right else left
        if side:
            side.append(part.sep, part.style)
        side.append_text(text)
        reserve += part.reserve
    gap = 2 if left and right else 0
    used = left.cell_len + right.cell_len + gap + (reserve if with_reserve else 0)
    if right and width is not None:
        left.append(" " * max(gap, width - left.cell_len - right.cell_len))
    left.append_text(right)
    return left, used


def fit_row(parts: list[Part], drop: list[str], width: int) -> Text:
    """The row of ``parts`` shortened in ``drop`` order until it fits ``width`` (reserves
    included). Parts never dropped are cropped only if the row still does not fit."""
    for part in parts:
        part.chosen = 0
    by_name = {p.name: p for p in parts}
    steps = iter(drop)
    while True:
        text, used = _assemble(parts, width, True)
        if used <= width:
            return text
        name = next(steps, None)
        if name is None:
            text, _ = _assemble(parts, width, False)
            text.truncate(width, overflow="ellipsis")
            return text
        if name in by_name:  # a part this row does not have (e.g. no note now) is skipped
            by_name[name].chosen += 1


def fits(parts: list[Part], width: int) -> bool:
    """Whether every part fits at its longest (reserves included)."""
    for part in parts:
        part.chosen = 0
    return _assemble(parts, width, True)[1] <= width
