"""Decision boundary as a heat map: two pixels per cell with half blocks (▀: fg top, bg bottom).

Colour says which class a point is predicted as and how sure the network is (brighter = surer),
quantised to a few levels so that a map that did not change re-renders identically. Training
points are drawn on top. Without colour (NO_COLOR) shading characters and o/x/+ stand in.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.message import Message

from .diff_view import DiffView

CLASS_RGB = np.array([(59, 130, 246), (245, 158, 11), (34, 197, 94)], float)  # blue, orange, green
BACKGROUND = np.array([24, 24, 32], float)
LEVELS = 4
MONO_SHADE = (" ", "░", "▒")  # per predicted class, when confident
MONO_POINT = ("o", "x", "+")
MONO_UNSURE = "·"  # near the boundary, whatever the class


class BoundaryMap(DiffView):
    DEFAULT_CSS = "BoundaryMap { height: 10; }"

    class Resized(Message):
        """The map needs probabilities on a grid of a new shape."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(cols, rows) of probability pixels this widget shows: two rows per cell."""
        return max(1, self.size.width), max(1, self.size.height) * 2

    def set_map(self, probs: np.ndarray, train) -> None:
        w, h = self.size.width, self.size.height
        if probs.shape[0] != h * 2 or probs.shape[1] != w:
            return  # made for an older size; a map of the new size is on its way
        self.show(_render_mono(probs, train) if self.app.no_color else _render_colour(probs, train))

    def clear(self) -> None:
        self.show(Text("decision boundary: computing…", "grey50"))


def _levels(probs: np.ndarray) -> np.ndarray:
    """Predicted class × LEVELS + confidence level, per pixel."""
    k = probs.shape[2]
    cls = probs.argmax(axis=2)
    conf = (probs.max(axis=2) - 1 / k) / (1 - 1 / k)
    lvl = np.clip((conf * LEVELS).astype(int), 0, LEVELS - 1)
    return cls * LEVELS + lvl


def _colour(code: int) -> Color:
    cls, lvl = divmod(int(code), LEVELS)
    t = 0.25 + 0.75 * (lvl + 1) / LEVELS
    r, g, b = (BACKGROUND + (CLASS_RGB[cls] - BACKGROUND) * t).astype(int)
    return Color.from_rgb(r, g, b)


def _point_cells(train, rows: int):
    """(cell row, col) -> label of a training point in it (the last one wins)."""
    if train is None:
        return {}
    prow, pcol, labels = train
    return {(int(r) // 2, int(c)): int(y) for r, c, y in zip(prow, pcol, labels) if int(r) // 2 < rows}


def _render_colour(probs, train) -> Text:
    codes = _levels(probs)
    rows = codes.shape[0] // 2
    points = _point_cells(train, rows)
    palette: dict[int, Color] = {}

    def colour(code):
        c = palette.get(code)
        if c is None:
            c = palette[code] = _colour(code)
        return c

    lines = []
    for r in range(rows):
        top, bottom = codes[2 * r], codes[2 * r + 1]
        cells = []
        for c in range(codes.shape[1]):
            label = points.get((r, c))
            if label is None:
                cells.append(("▀", (top[c], bottom[c], None)))
            else:
                cells.append(("●", (None, bottom[c], label)))
        lines.append(_runs(cells, colour))
    return Text("\n").join(lines)


def _runs(cells, colour) -> Text:
    """Join cells of one row into runs of one style: each style change costs escape bytes."""
    line = Text()
    start = 0
    for i in range(1, len(cells) + 1):
        if i == len(cells) or cells[i][1] != cells[start][1]:
            top, bottom, label = cells[start][1]
            if label is None:
                style = Style(color=colour(top), bgcolor=colour(bottom))
            else:
                # Lighter than any region colour, so a dot shows on its own class's region too, yet
                # saturated enough that a dot on the wrong region reads as the other class.
                tint = (CLASS_RGB[label] * 0.6 + 255 * 0.4).astype(int)
                style = Style(color=Color.from_rgb(*tint), bgcolor=colour(bottom), bold=True)
            line.append("".join(ch for ch, _ in cells[start:i]), style)
            start = i
    return line


def _render_mono(probs, train) -> Text:
    codes = _levels(probs[::2])  # one probability row per cell: no half blocks without colour
    points = _point_cells(train, codes.shape[0])
    lines = []
    for r in range(codes.shape[0]):
        chars = []
        for c in range(codes.shape[1]):
            label = points.get((r, c))
            if label is not None:
                chars.append(MONO_POINT[label])
                continue
            cls, lvl = divmod(int(codes[r, c]), LEVELS)
            chars.append(MONO_SHADE[cls] if lvl >= LEVELS // 2 else MONO_UNSURE)
        lines.append("".join(chars))
    return Text("\n".join(lines))
