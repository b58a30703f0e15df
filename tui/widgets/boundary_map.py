"""Decision boundary as a heat map: two pixels per cell with half blocks (▀: fg top, bg bottom).

A terminal cell is about twice as tall as it is wide, so a half-block pixel is about square: the
grid keeps the data's aspect ratio (a circle stays round) and sits centred in the widget, the rest
of which stays background.

Colour says which class a point is predicted as and how sure the network is (brighter = surer),
quantised to a few levels so that a map that did not change re-renders identically. With a
Monte-Carlo spread (``set_map(..., spread)``: the standard deviation of the predicted probability
over stochastic passes, ``core.prediction.MCSpreadGrid``) brightness shows that instead: brighter
= less sure, full at ``SPREAD_FULL``; without colour the "unsure" glyph marks the uncertain cells. Training
points are drawn on top. Without colour (NO_COLOR) shading characters and o/x/+ stand in, one
probability row per cell (every other pixel row, which keeps the aspect); in ASCII mode the same
with ASCII characters, coloured when there is colour.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.message import Message

from .diff_view import DiffView

# Blue, orange, green for the built-in sets; a user's CSV may have up to core.csv_data.MAX_CLASSES
# classes, which get the rest (distinct hues, then lighter and darker variants).
CLASS_RGB = np.array([(59, 130, 246), (245, 158, 11), (34, 197, 94), (239, 68, 68), (168, 85, 247),
                      (236, 72, 153), (20, 184, 166), (132, 204, 22), (234, 179, 8), (99, 102, 241),
                      (147, 197, 253), (253, 186, 116), (134, 239, 172), (252, 165, 165), (216, 180, 254),
                      (29, 78, 216), (180, 83, 9), (21, 128, 61), (185, 28, 28), (107, 33, 168)], float)
BACKGROUND = np.array([24, 24, 32], float)
LEVELS = 4
# Without colour, only three classes have their own shade; beyond that shades repeat and the
# training points (one character per class) tell the classes apart.
MONO_SHADE = (" ", "░", "▒")  # per predicted class, when confident
MONO_POINT = ("o", "x", "+", "*", "#", "%", "@", "&", "=", "?", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
MONO_UNSURE = "·"  # near the boundary, whatever the class
ASCII_SHADE = (" ", ":", "=")
ASCII_UNSURE = "."
SPREAD_FULL = 0.25  # a probability's std over passes from which a pixel is at full brightness (at most 0.5)
MIN_ROWS = 8  # below this a map is a sliver nobody can read: the layout hides it instead


def grid_for(width: int, height: int, aspect: float | None) -> tuple[int, int]:
    """(cols, pixel rows) of the largest grid with the data's ``aspect`` (width / height) inside
    ``width`` × ``height`` cells; pixel rows are even (two per cell)."""
    width, px_rows = max(1, width), max(2, 2 * height)
    if not aspect or aspect <= 0:
        return width, px_rows
    if width / aspect <= px_rows:
        rows = max(2, round(width / aspect / 2) * 2)
        return width, min(rows, px_rows)
    return max(1, min(width, round(px_rows * aspect))), px_rows


def rows_needed(width: int, aspect: float | None) -> int:
    """Cell rows a map ``width`` cells wide needs to keep the data's aspect."""
    return grid_for(width, 10 ** 6, aspect)[1] // 2


class BoundaryMap(DiffView):
    DEFAULT_CSS = "BoundaryMap { height: 10; }"

    class Resized(Message):
        """The map needs probabilities on a grid of a new shape."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.aspect: float | None = None

    def on_resize(self) -> None:
        # DiffView's own on_resize runs too (Textual calls every class's handler).
        self.post_message(self.Resized())

    def set_aspect(self, aspect: float | None) -> None:
        if aspect != self.aspect:
            self.aspect = aspect
            self.post_message(self.Resized())

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(cols, rows) of probability pixels this widget shows: two rows per cell."""
        return grid_for(self.size.width, self.size.height, self.aspect)

    def set_map(self, probs: np.ndarray, train, spread: np.ndarray | None = None) -> None:
        """Draw ``probs`` ((rows, cols, n_classes)) with the training points; with ``spread``
        ((rows, cols) Monte-Carlo std) brightness shows the spread instead of the confidence."""
        cols, rows = self.grid_shape
        if probs.shape[0] != rows or probs.shape[1] != cols:
            return  # made for an older size; a map of the new size is on its way
        if spread is not None and spread.shape != probs.shape[:2]:
            spread = None
        ascii_only = self.ascii_only
        if self.app.no_color:
            text = _render_mono(probs, train, ASCII_SHADE if ascii_only else MONO_SHADE,
                                ASCII_UNSURE if ascii_only else MONO_UNSURE, spread)
        elif ascii_only:
            text = _render_ascii_colour(probs, train, spread)
        else:
            text = _render_colour(probs, train, spread)
        self.show(_centred(text, cols, rows // 2, self.size.width, self.size.height))

    def clear(self) -> None:
        self.show(Text("decision boundary: computing…", self.roles.muted))


def _centred(text: Text, cols: int, rows: int, width: int, height: int) -> Text:
    left, top = max(0, (width - cols) // 2), max(0, (height - rows) // 2)
    lines = [Text()] * top + [Text(" " * left) + line for line in text.split("\n", allow_blank=True)]
    return Text("\n").join(lines)


def _levels(probs: np.ndarray, spread: np.ndarray | None = None, sure: bool = False) -> np.ndarray:
    """Predicted class × LEVELS + brightness level, per pixel: the confidence, or with ``spread``
    the Monte-Carlo spread (``sure``: turned round, so a high level means little spread, for the
    glyphs that mark confident cells)."""
    k = probs.shape[2]
    cls = probs.argmax(axis=2)
    if spread is None:
        conf = np.nan_to_num((probs.max(axis=2) - 1 / k) / (1 - 1 / k))  # a diverged net: no confidence
    else:
        conf = np.nan_to_num(np.asarray(spread) / SPREAD_FULL, nan=1.0)  # a diverged net: all unsure
        if sure:
            conf = 1 - conf
    lvl = np.clip((conf * LEVELS).astype(int), 0, LEVELS - 1)
    return cls * LEVELS + lvl


def _colour(code: int) -> Color:
    cls, lvl = divmod(int(code), LEVELS)
    t = 0.25 + 0.75 * (lvl + 1) / LEVELS
    r, g, b = (BACKGROUND + (CLASS_RGB[cls] - BACKGROUND) * t).astype(int)
    return Color.from_rgb(r, g, b)


def _point_cells(train, rows: int, every: int = 2):
    """(cell row, col) -> label of a training point in it (the last one wins)."""
    if train is None:
        return {}
    prow, pcol, labels = train
    return {(int(r) // every, int(c)): int(y) for r, c, y in zip(prow, pcol, labels) if int(r) // every < rows}


def _palette():
    palette: dict[int, Color] = {}

    def colour(code):
        c = palette.get(code)
        if c is None:
            c = palette[code] = _colour(code)
        return c
    return colour


def _render_colour(probs, train, spread=None) -> Text:
    codes = _levels(probs, spread)
    rows = codes.shape[0] // 2
    points = _point_cells(train, rows)
    colour = _palette()
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


def _render_ascii_colour(probs, train, spread=None) -> Text:
    """One pixel per cell (every other pixel row), drawn as a coloured space; points as o x +."""
    codes = _levels(probs[::2], None if spread is None else spread[::2])
    points = _point_cells(train, codes.shape[0])
    colour = _palette()
    lines = []
    for r in range(codes.shape[0]):
        cells = []
        for c in range(codes.shape[1]):
            label = points.get((r, c))
            if label is None:
                cells.append((" ", (codes[r, c], codes[r, c], None)))
            else:
                cells.append((MONO_POINT[label % len(MONO_POINT)], (None, codes[r, c], label)))
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
                tint = (CLASS_RGB[label % len(CLASS_RGB)] * 0.6 + 255 * 0.4).astype(int)
                style = Style(color=Color.from_rgb(*tint), bgcolor=colour(bottom), bold=True)
            line.append("".join(ch for ch, _ in cells[start:i]), style)
            start = i
    return line


def _render_mono(probs, train, shade=MONO_SHADE, unsure=MONO_UNSURE, spread=None) -> Text:
    # One probability row per cell: no half blocks without colour.
    codes = _levels(probs[::2], None if spread is None else spread[::2], sure=True)
    points = _point_cells(train, codes.shape[0])
    lines = []
    for r in range(codes.shape[0]):
        chars = []
        for c in range(codes.shape[1]):
            label = points.get((r, c))
            if label is not None:
                chars.append(MONO_POINT[label % len(MONO_POINT)])
                continue
            cls, lvl = divmod(int(codes[r, c]), LEVELS)
            chars.append(shade[cls % len(shade)] if lvl >= LEVELS // 2 else unsure)
        lines.append("".join(chars))
    return Text("\n".join(lines))
