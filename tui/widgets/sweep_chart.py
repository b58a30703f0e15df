"""A sweep's chart: a metric against keep_prob, one series per prediction rule, each point the mean
over seeds with its min–max band.

``chart_lines`` draws it as rows of Rich ``Text`` (the CLI prints them, the ``--tui`` view shows them
in a ``SweepChart``). Three glyph sets: colour; no colour (``NO_COLOR``, or output that is not a
terminal), where every series still has its own marker and band glyph; and ASCII (``--ascii``, or
``TERM=linux``, whose console font has no braille or geometric shapes), where every character is
below 128. At each keep_prob the rules are drawn side by side, one column apart ("dodged"), so
overlapping bands stay readable. A loss that spans more than a factor of ``LOG_RATIO`` is drawn on
a log scale (the axis says so): an unrescaled net's loss at small keep_prob would otherwise squash
every other point into one row.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from dropout_tui.core.sweep import PREDICTION_RULES, Stat
from rich.text import Text
from textual.widgets import Static

AXIS = 7  # characters of y labels and the axis line on the left
LOG_RATIO = 10.0
COLOURS = {"inverted": "deep_sky_blue1", "unrescaled": "orange1", "unrescaled_scaled": "medium_purple1",
           "inverted_dropout_on": "gold1", "unrescaled_dropout_on": "indian_red1", "inverted_mc": "spring_green2",
           "unrescaled_mc": "hot_pink"}
SPARE_COLOURS = ("grey70", "cyan3")  # for rules beyond these, in order
METRIC_LABELS = {"test_loss": "test loss", "test_acc": "test accuracy", "test_confidence": "test confidence",
                 "test_r2": "test R²", "test_spread": "output spread"}


def metric_label(metric: str, regression: bool = False, glyphs: Glyphs | None = None,
                 standardised: bool = False) -> str:
    """``test loss``, or for regression ``test MSE`` (the loss is the mean squared error), ``test MSE
    (standardised target)`` when the target is fitted standardised (a CSV file's); ASCII glyphs
    spell R² as R2."""
    if metric == "test_loss" and regression:
        return "test MSE" + (" (standardised target)" if standardised else "")
    label = METRIC_LABELS.get(metric, metric)
    return label.replace("²", "2") if glyphs is not None and glyphs.name == "ascii" else label


@dataclass(frozen=True)
class Glyphs:
    """The characters of one style. ``markers``/``bands`` are per rule, in ``PREDICTION_RULES`` order."""
    name: str
    colour: bool
    markers: tuple[str, ...]
    bands: tuple[str, ...]
    line: str
    cursor: str
    vertical: str
    horizontal: str
    corner: str
    tick: str
    dash: str  # in "min–max"
    times: str  # in "×p"
    sep: str = " · "  # between parts of a title
    plus_minus: str = "±"  # in "mean ± std"


# One of each per rule of core.sweep.PREDICTION_RULES, by its place there, so a rule keeps its look
# whichever rules a chart shows: no dropout at prediction filled (inverted ●, unrescaled ▲, ×p ■),
# dropout left on hollow (○ △), Monte-Carlo ◆ ▼. Glyphs cycle for rules beyond them.
COLOUR = Glyphs("colour", True, ("●", "▲", "■", "○", "△", "◆", "▼"), ("│",) * 7, "·", "┊", "│", "─", "└", "┬",
                "–", "×")
MONO = Glyphs("mono", False, ("●", "▲", "■", "○", "△", "◆", "▼"), ("│", "┆", "╎", "┃", "╏", "║", "┇"), "·", "┊",
              "│", "─", "└", "┬", "–", "×")
ASCII = Glyphs("ascii", False, ("o", "x", "#", "c", "v", "*", "+"), ("|", ":", "!", "I", "i", "l", ";"), ".", "'",
               "|", "-", "+", "+", "-", "x", ", ", "+-")


def choose_glyphs(*, ascii: bool = False, colour: bool = True) -> Glyphs:
    """ASCII for ``ascii`` or the Linux console (``TERM=linux``); else colour or mono."""
    if ascii or os.environ.get("TERM") == "linux":
        return ASCII
    return COLOUR if colour else MONO


def colour_of(rule: str, index: int) -> str:
    return COLOURS.get(rule) or SPARE_COLOURS[index % len(SPARE_COLOURS)]


def rule_index(rule: str) -> int:
    """The rule's place in ``PREDICTION_RULES``: its marker, band glyph and colour."""
    return next(i for i, r in enumerate(PREDICTION_RULES) if r.name == rule)


def rule_label(name: str, glyphs: Glyphs) -> str:
    label = next(r.label for r in PREDICTION_RULES if r.name == name)
    return label.replace("×", glyphs.times)


def value_label(y: float, width: int = AXIS - 1) -> str:
    """``y`` in at most ``width`` characters, right-aligned."""
    if not math.isfinite(y):
        return "—".rjust(width) if width else ""
    for text in (f"{y:.3f}", f"{y:.2f}", f"{y:.1f}", f"{y:.0f}", f"{y:.0e}"):
        if len(text) <= width:
            return text.rjust(width)
    return text[:width]


@dataclass(frozen=True)
class Scale:
    lo: float
    hi: float
    log: bool

    def row(self, y: float, height: int) -> int:
        """Row 0 at the top (``hi``), ``height - 1`` at the bottom (``lo``)."""
        a, b, v = (math.log10(self.lo), math.log10(self.hi), math.log10(max(y, self.lo))) if self.log \
            else (self.lo, self.hi, y)
        frac = 0.5 if b == a else (v - a) / (b - a)
        return min(height - 1, max(0, round((1 - frac) * (height - 1))))

    def value(self, row: int, height: int) -> float:
        frac = 1 - row / max(1, height - 1)
        if self.log:
            a, b = math.log10(self.lo), math.log10(self.hi)
            return 10 ** (a + frac * (b - a))
        return self.lo + frac * (self.hi - self.lo)


def y_scale(series: dict[str, list[Stat | None]], metric: str) -> Scale | None:
    values = [v for stats in series.values() for s in stats if s is not None for v in (s.min, s.max)
              if math.isfinite(v)]
    if not values:
        return None
    lo, hi = min(values), max(values)
    if metric == "test_loss" and lo > 0 and hi / lo > LOG_RATIO:
        return Scale(lo, hi, True)
    if hi == lo:
        pad = abs(hi) * 0.05 or 0.05
        return Scale(lo - pad, hi + pad, False)
    return Scale(lo, hi, False)


def chart_lines(xs: Sequence[float], series: dict[str, list[Stat | None]], width: int, height: int, *,
                metric: str = "test_loss", glyphs: Glyphs = COLOUR, cursor: int | None = None,
                seeds: int | str | None = None, regression: bool = False, standardised: bool = False,
                note: str = "") -> list[Text]:
    """``height`` rows of ``width`` cells: a title, the plot, the keep_prob axis and a legend.

    ``xs``: the keep_probs, ascending; ``series[rule][i]``: that rule's Stat at ``xs[i]`` (None: no
    result yet). ``cursor``: the index of a highlighted keep_prob. ``standardised``: the regression
    target is fitted standardised (the title says so). ``seeds``: their count, or a text such as
    "1–2 of 3 seeds"; ``note``: what else the title must say (e.g. the input keep_prob). The
    title drops whole parts, last first, to fit ``width``."""
    rules = [r.name for r in PREDICTION_RULES if r.name in series]
    legend = _legend(rules, glyphs, width)
    plot_h = max(2, height - 3 - len(legend))
    plot_w = max(4, width - AXIS)
    scale = y_scale(series, metric)
    parts = [metric_label(metric, regression, glyphs, standardised) + " against keep_prob"
             + (" (log scale)" if scale is not None and scale.log else "")]
    if note:
        parts.append(note)
    if seeds:
        count = seeds if isinstance(seeds, str) else f"{seeds} seed{'s' if seeds != 1 else ''}"
        parts.append(f"mean and min{glyphs.dash}max over {count}")
    while len(parts) > 1 and len(glyphs.sep.join(parts)) > width:
        parts.pop()
    lines = [Text(glyphs.sep.join(parts)[:width], "bold")]

    # Cells: (char, style) with a priority so markers beat bands beat lines beat the cursor.
    grid: list[list[tuple[str, str | None, int]]] = [[(" ", None, 0)] * plot_w for _ in range(plot_h)]

    def put(r: int, c: int, ch: str, style: str | None, prio: int) -> None:
        if 0 <= r < plot_h and 0 <= c < plot_w and prio >= grid[r][c][2]:
            grid[r][c] = (ch, style, prio)

    cols = _columns(xs, plot_w)
    spacing = min((b - a for a, b in pairwise(cols)), default=plot_w)
    # Side by side when each keep_prob's group and a gap fit between two ticks; else on one column.
    dodge = 1 if spacing >= len(rules) + 1 and plot_w > 2 * len(rules) else 0
    if cursor is not None and 0 <= cursor < len(cols):
        for r in range(plot_h):
            put(r, cols[cursor], glyphs.cursor, "grey50", 1)
    if scale is not None:
        for place, rule in enumerate(rules):
            k = rule_index(rule)
            style = colour_of(rule, k) if glyphs.colour else None
            offset = (place - (len(rules) - 1) // 2) * dodge
            points: list[tuple[int, int] | None] = []
            for i, s in enumerate(series[rule]):
                if s is None or not math.isfinite(s.mean):
                    points.append(None)
                    continue
                c = cols[i] + offset
                points.append((c, scale.row(s.mean, plot_h)))
                for r in range(scale.row(s.max, plot_h), scale.row(s.min, plot_h) + 1):
                    band = glyphs.bands[k % len(glyphs.bands)]
                    put(r, c, band, style and f"{style} dim" if glyphs.colour else None, 3)
            for a, b in pairwise(points):
                if a is None or b is None:
                    continue
                for c in range(a[0] + 1, b[0]):
                    r = round(a[1] + (b[1] - a[1]) * (c - a[0]) / (b[0] - a[0]))
                    put(r, c, glyphs.line, style, 2)
            for p in points:
                if p is not None:
                    put(p[1], p[0], glyphs.markers[k % len(glyphs.markers)], style and f"bold {style}", 4)

    if scale is None and any(s is not None for stats in series.values() for s in stats):
        message = "no finite value to draw: see the tables"[:plot_w]
        middle, left = plot_h // 2, max(0, (plot_w - len(message)) // 2)
        for k, ch in enumerate(message):
            put(middle, left + k, ch, "italic" if glyphs.colour else None, 5)
    for r in range(plot_h):
        if scale is None:
            label = "".rjust(AXIS - 1)
        elif r in (0, plot_h - 1) or (plot_h >= 8 and r == plot_h // 2):
            label = value_label(scale.value(r, plot_h))
        else:
            label = "".rjust(AXIS - 1)
        line = Text(label + glyphs.vertical, "grey62")
        row = grid[r]
        start = 0
        for i in range(1, plot_w + 1):
            if i == plot_w or row[i][1] != row[start][1]:
                line.append("".join(ch for ch, _, _ in row[start:i]), row[start][1])
                start = i
        lines.append(line)
    axis = [glyphs.horizontal] * plot_w
    for c in cols:
        axis[c] = glyphs.tick
    lines.append(Text(" " * (AXIS - 1) + glyphs.corner + "".join(axis), "grey62"))
    lines.append(_x_labels(xs, cols, plot_w, cursor))
    lines += legend
    return [line[:width] if len(line) > width else line for line in lines[:height]]


def _legend(rules: list[str], glyphs: Glyphs, width: int) -> list[Text]:
    """One entry per rule (marker and label), on as many lines of ``width`` as they need; an
    entry is never split between lines."""
    lines: list[Text] = [Text()]
    for rule in rules:
        k = rule_index(rule)
        style = colour_of(rule, k) if glyphs.colour else None
        entry = Text(glyphs.markers[k % len(glyphs.markers)], f"bold {style}" if style else "")
        entry.append(" " + rule_label(rule, glyphs))
        if len(lines[-1]) and len(lines[-1]) + 3 + len(entry) > width:
            lines.append(Text())
        if len(lines[-1]):
            lines[-1].append("   ")
        lines[-1].append_text(entry)
    return lines


def _columns(xs: Sequence[float], plot_w: int) -> list[int]:
    """Plot columns of the keep_probs: linear in keep_prob, a margin of 2 cells at each side."""
    if not xs:
        return []
    lo, hi = xs[0], xs[-1]
    if hi == lo:
        return [plot_w // 2] * len(xs)
    usable = max(1, plot_w - 5)
    return [2 + round((x - lo) / (hi - lo) * usable) for x in xs]


def _x_labels(xs: Sequence[float], cols: list[int], plot_w: int, cursor: int | None) -> Text:
    """keep_prob labels under their ticks, skipping any that would touch another (the cursor's
    label is placed first, so it always shows)."""
    chars = [" "] * (AXIS + plot_w)
    styles: list[str | None] = [None] * len(chars)
    order = list(range(len(xs)))
    if cursor is not None and 0 <= cursor < len(xs):
        order.remove(cursor)
        order.insert(0, cursor)
    placed: list[tuple[int, int]] = []
    for i in order:
        label = f"{xs[i]:g}"
        start = AXIS + cols[i] - (len(label) - 1) // 2
        end = start + len(label)  # exclusive
        if start < AXIS or end > len(chars) or any(start <= b and end >= a for a, b in placed):
            continue  # off the plot, or touching a label already placed (one space between)
        placed.append((start, end))
        for j, ch in enumerate(label):
            chars[start + j] = ch
            styles[start + j] = "reverse" if i == cursor else "grey62"
    text = Text()
    start = 0
    for i in range(1, len(chars) + 1):  # one append per run of a style, not per character
        if i == len(chars) or styles[i] != styles[start]:
            text.append("".join(chars[start:i]), styles[start])
            start = i
    return text


class SweepChart(Static):
    """The chart as a widget; ``set_data`` redraws it, and it redraws itself when resized."""

    DEFAULT_CSS = "SweepChart { height: 1fr; min-height: 8; }"

    def __init__(self, *, glyphs: Glyphs = COLOUR, **kwargs):
        super().__init__(**kwargs)
        self.glyphs = glyphs
        self._data: tuple | None = None

    def set_data(self, xs: Sequence[float], series: dict[str, list[Stat | None]], *, metric: str,
                 cursor: int | None, seeds: int | str | None, regression: bool = False,
                 standardised: bool = False, note: str = "") -> None:
        self._data = (list(xs), series, metric, cursor, seeds, regression, standardised, note)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width, height = self.content_size.width, self.content_size.height
        if self._data is None or width < AXIS + 8 or height < 6:
            return
        xs, series, metric, cursor, seeds, regression, standardised, note = self._data
        glyphs = MONO if self.glyphs is COLOUR and self.app.no_color else self.glyphs
        lines = chart_lines(xs, series, width, height, metric=metric, glyphs=glyphs, cursor=cursor, seeds=seeds,
                            regression=regression, standardised=standardised, note=note)
        text = Text("\n").join(lines)
        text.no_wrap, text.overflow = True, "crop"
        self.update(text)
