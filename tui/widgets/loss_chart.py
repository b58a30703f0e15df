"""Loss curves against training step, with y ticks, an x axis labelled in steps, and a legend.

Drawn with braille dots (2×4 per cell) in colour; with NO_COLOR or in ASCII mode one glyph per
cell and series (· + o, ASCII . + o), so the curves stay apart without colour. Drawing order is
the legend's: training loss with dropout, training loss, test loss; a cell that two curves share is
drawn in the overlap colour (or ``*``), so a curve hidden under another still shows where it runs.
The training loss with dropout is noisy (a fresh mask, and with --batch-size a fresh minibatch,
every step): it is smoothed with an exponential moving average over ``EMA_POINTS`` points, and the
legend says so. Many points in one pixel column are averaged.

Hand-drawn rather than textual-plot or textual-plotext: both re-render and re-send the whole plot
at every update (measured with ``dropout-tui bench --ui``: 20 kB/s at 80×24 with textual-plot,
33 kB/s at 120×40 with textual-plotext, against 13 and 23 kB/s here), take about 3.4× as long to
draw, draw their frames with box characters that ASCII mode cannot use, and textual-plot binds
+, -, the arrow keys and r (zoom, pan, reset) — the keys that steer keep_prob here. Here a chart is
a few hundred cells in runs of one colour, and ``DiffView`` sends only the cells that changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from rich.style import StyleType
from rich.text import Text

from ..history import YScale, nice_ceiling
from .diff_view import DiffView
from ..numbers import fmt
from ..numbers import steps as step_label
from .rows import Part, fit_row
from .theme import Roles

SERIES = ("train_loss_dropout", "train_loss", "test_loss")  # drawing order: later on top
LABELS = {"train_loss_dropout": ("train+dropout", "dropout"), "train_loss": ("train", "train"),
          "test_loss": ("test", "test")}
GLYPHS = {"train_loss_dropout": "·", "train_loss": "+", "test_loss": "o", "overlap": "*"}
GLYPHS_ASCII = {"train_loss_dropout": ".", "train_loss": "+", "test_loss": "o", "overlap": "*"}
SMOOTHED = ("train_loss_dropout",)
EMA_POINTS = 8
AXIS = 6  # the y labels' gutter: five characters and the axis
LABEL = 5
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [dot row][dot col]


def ema(values, points: int = EMA_POINTS) -> np.ndarray:
    """Exponential moving average with weight 2 / (points + 1) on each new value; a missing
    value (nan) is skipped and the average goes on from the next one."""
    alpha = 2.0 / (points + 1)
    avg = math.nan
    out = []
    for v in values.tolist() if isinstance(values, np.ndarray) else values:
        if math.isfinite(v):
            avg = v if math.isnan(avg) else avg + alpha * (v - avg)
            out.append(avg)
        else:
            out.append(math.nan)
    return np.array(out, float)


def tick_label(y: float) -> str:
    """A y tick in ``LABEL`` characters: ``0.3``, ``0.15``, ``12``, ``2e-4``, ``6e136``."""
    if y == 0:
        return "0".rjust(LABEL)
    text = f"{y:.3f}".rstrip("0").rstrip(".")
    if len(text) <= LABEL and float(text) != 0:
        return text.rjust(LABEL)
    return fmt(y, 3, LABEL).rjust(LABEL)


def x_position(log_x: bool, x_max: float) -> Callable[[np.ndarray], np.ndarray]:
    """Where on [0, 1] each step falls: linear in step, or in log10(1 + step)."""
    if log_x:
        top = math.log10(1 + x_max)
        return lambda s: np.log10(1 + np.asarray(s, float)) / top
    return lambda s: np.asarray(s, float) / x_max


class LossChart(DiffView):
    DEFAULT_CSS = "LossChart { height: 6; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._data: tuple | None = None

    def set_data(self, steps: list[int], series: dict[str, list[float]], scale: YScale,
                 log_x: bool = False) -> None:
        self._data = (steps, series, scale, log_x)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width, height = self.size.width, self.size.height
        if self._data is None or width < AXIS + 4 or height < 2:
            return
        steps, series, scale, log_x = self._data
        mono = bool(self.app.no_color) or self.ascii_only
        self.show(chart_text(steps, series, scale, log_x, width, height, self.roles, mono,
                             GLYPHS_ASCII if self.ascii_only else GLYPHS))


def chart_text(steps, series, scale: YScale, log_x: bool, width: int, height: int, roles: Roles,
               mono: bool, glyphs: dict[str, str]) -> Text:
    """The whole chart: ``height - 1`` plot rows with y labels, then the step axis."""
    rows, plot_w = height - 1, width - AXIS
    x_max = nice_ceiling(steps[-1]) if steps else 1.0
    where = x_position(log_x, x_max)
    y0, y1 = scale.low, scale.high
    lines = plot_lines(steps, series, plot_w, rows, y0, y1, where, roles, mono, glyphs)
    px_h = rows if mono else rows * 4
    tick_rows: dict[int, float] = {}
    for value in (y1, y0, (y0 + y1) / 2) if rows >= 5 else (y1, y0):
        row = round((1 - (value - y0) / (y1 - y0)) * (px_h - 1)) // (1 if mono else 4)
        tick_rows.setdefault(row, value)
    out = []
    for r, line in enumerate(lines):
        if r in tick_rows:
            gutter = Text(tick_label(tick_rows[r]) + "┤", roles.muted)
        else:
            gutter = Text(" " * LABEL + "│", roles.faint)
        out.append(gutter + line)
    out.append(Text("steps ", roles.muted) + x_axis(x_max, plot_w, log_x, where, roles))
    return Text("\n").join(out)


def x_axis(x_max: float, plot_w: int, log_x: bool, where, roles: Roles) -> Text:
    """Step labels under the plot at their ticks, never overlapping."""
    if log_x:
        ticks = [0.0] + [10.0 ** k for k in range(int(math.log10(max(1.0, x_max))) + 1)]
    else:
        most = max(1, plot_w // 8)  # labels such as "1.5k" need room between them
        spacing = next((m * 10.0 ** k for k in range(16) for m in (1, 2, 2.5, 5)
                        if x_max / (m * 10.0 ** k) <= most), x_max)
        ticks = [i * spacing for i in range(int(x_max / spacing + 1e-9) + 1)]
    line = [" "] * plot_w
    free = 0  # first column a label may start at
    cols = np.clip(np.rint(where(np.array(ticks)) * (plot_w - 1)), 0, plot_w - 1).astype(int)
    for t, c in zip(ticks, cols):
        label = step_label(t)
        start = min(int(c), plot_w - len(label))
        if start < free or start < 0:
            continue
        line[start:start + len(label)] = label
        free = start + len(label) + 1
    return Text("".join(line), roles.muted)


def _binned(xs: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    """Mean of the finite values in each pixel column (nan where a column has none)."""
    good = np.isfinite(values)
    counts = np.bincount(xs[good], minlength=width)
    sums = np.bincount(xs[good], weights=values[good], minlength=width)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def series_pixels(xs: np.ndarray, values: np.ndarray, px_w: int, px_h: int, y0: float, y1: float) -> np.ndarray:
    """A (px_h, px_w) boolean image of one curve: the mean value in each pixel column, joined to
    the previous column that has one by a straight line (so sparse early curves stay connected)."""
    image = np.zeros((px_h, px_w), bool)
    column = _binned(xs, values, px_w)
    cols = np.flatnonzero(np.isfinite(column))
    if len(cols) == 0:
        return image
    ys = np.rint((1 - (np.clip(column[cols], y0, y1) - y0) / (y1 - y0)) * (px_h - 1)).astype(int)
    image[ys[0], cols[0]] = True
    # Each later point: every column from just after the previous point up to it gets the part of
    # the straight line over that column (a vertical run from its left to its right edge).
    prev_x, prev_y = cols[:-1], ys[:-1]
    gap = cols[1:] - prev_x
    pair = np.repeat(np.arange(len(gap)), gap)  # one entry per column to fill
    step = np.arange(len(pair)) - np.repeat(np.cumsum(gap) - gap, gap)  # 0 .. gap-1 within a pair
    span = (ys[1:] - prev_y)[pair] / gap[pair]
    a = prev_y[pair] + span * step
    b = a + span
    lo, hi = np.rint(np.minimum(a, b)).astype(int), np.rint(np.maximum(a, b)).astype(int)
    x = prev_x[pair] + step + 1
    # Fill [lo, hi] in each of those columns: +1 at lo, -1 below hi, then a running sum down.
    marks = np.zeros((px_h + 1, px_w), int)
    np.add.at(marks, (lo, x), 1)
    np.add.at(marks, (hi + 1, x), -1)
    image |= np.cumsum(marks, axis=0)[:px_h] > 0
    return image


def plot_lines(steps, series, plot_w: int, rows: int, y0: float, y1: float, where, roles: Roles,
               mono: bool, glyphs: dict[str, str]) -> list[Text]:
    """Rows of text plotting each series on the shared y range: braille dots in colour, one
    glyph per cell and series without (``mono``)."""
    px_w, px_h = (plot_w, rows) if mono else (plot_w * 2, rows * 4)
    images = []
    if steps and y1 > y0:
        xs = np.clip(np.rint(where(np.asarray(steps, float)) * (px_w - 1)), 0, px_w - 1).astype(int)
        for index, name in enumerate(SERIES):
            values = series.get(name, [])[:len(xs)]
            if len(values) == 0:
                continue
            values = ema(values) if name in SMOOTHED else np.asarray(values, float)
            images.append((index, series_pixels(xs[:len(values)], values, px_w, px_h, y0, y1)))
    bits, owners = stack_pixels(images, rows, plot_w, mono)
    styles = {name: roles.series.get(name, "") for name in (*SERIES, "overlap")}
    return [plotted_line(owners[r], bits[r], SERIES, styles, glyphs, mono) for r in range(rows)]


def stack_pixels(images: Iterable[tuple[int, np.ndarray]], rows: int, cols: int,
                 mono: bool) -> tuple[np.ndarray, np.ndarray]:
    """Overlay pixel images, each with its series index i: bool arrays of (rows·4, cols·2) pixels,
    or (rows, cols) when ``mono``. Returns (the braille dot bits of each cell, its owners: bit i set
    where series i has a pixel in the cell), both (rows, cols) ints."""
    bits = np.zeros((rows, cols), int)
    owners = np.zeros((rows, cols), int)
    for index, image in images:
        if mono:
            owners |= image.astype(int) << index
            continue
        # Braille: each cell is 4 pixel rows by 2 pixel columns, one bit per dot.
        cells = image.reshape(rows, 4, cols, 2)
        for dot_row in range(4):
            for dot_col in range(2):
                bits |= cells[:, dot_row, :, dot_col].astype(int) * _BITS[dot_row][dot_col]
        owners |= cells.any(axis=(1, 3)).astype(int) << index
    return bits, owners


def plotted_line(owners: np.ndarray, bits: np.ndarray, names, styles: dict, glyphs: dict[str, str],
                 mono: bool) -> Text:
    """One row of ``stack_pixels``: each cell the braille dots (or, ``mono``, the glyph) of the
    series ``names[i]`` that owns it, in its style, or "overlap" where several share it."""
    def cells():
        for who, dots in zip(owners.tolist(), bits.tolist()):
            if not who:
                yield " ", None
                continue
            drawn = "overlap" if who & (who - 1) else names[who.bit_length() - 1]
            yield (glyphs[drawn] if mono else chr(0x2800 + dots)), styles[drawn]
    return styled_runs(cells())


def styled_runs(cells: Iterable[tuple[str, StyleType | None]]) -> Text:
    """A line of (character, style) cells, one span per run of equal style."""
    line = Text()
    run_style: StyleType | None = None
    run: list[str] = []
    for ch, style in cells:
        if style != run_style and run:
            line.append("".join(run), run_style)
            run = []
        run_style = style
        run.append(ch)
    if run:
        line.append("".join(run), run_style)
    return line


def legend_text(width: int, rows: int, roles: Roles, mono: bool, glyphs: dict[str, str], scale: YScale,
                log_x: bool) -> Text:
    """The legend in ``rows`` lines (1 or 2): each series' mark and name, the smoothing, and what
    the y range fits. Short of width, parts shorten or drop in a stated order (``rows``)."""
    def key(name: str, label: str) -> Text:
        mark = glyphs[name] if mono else "━"
        return Text.assemble((mark, roles.series.get(name, "")), " ", (label, roles.muted))

    def series_name(label: str) -> Text:
        return key("train_loss_dropout", label)

    long, short = LABELS["train_loss_dropout"]
    dropout = Part("dropout", [series_name(f"{long} (EMA {EMA_POINTS})"), series_name(f"{short} (EMA {EMA_POINTS})"),
                               series_name(long), series_name(short)], sep="")
    train = Part("train", [key("train_loss", LABELS["train_loss"][0])], sep=" ")
    test = Part("test", [key("test_loss", LABELS["test_loss"][0])], sep=" ")
    if log_x:
        note = [Text("y: every step · log x", roles.muted), Text("y: all · log x", roles.muted),
                Text("log x", roles.muted), None]
    elif scale.from_step:
        since = step_label(scale.from_step)
        note = [Text(f"y fits steps {since}+", roles.muted), Text(f"y: steps {since}+", roles.muted),
                Text(f"y: {since}+", roles.muted), None]
    else:
        note = [Text("y fits every step", roles.muted), Text("y: all steps", roles.muted), None]
    if rows >= 2:
        first = fit_row([dropout, train, test], ["dropout", "dropout", "dropout"], width)
        overlap = [key("overlap", "both: curves overlap"), key("overlap", "both"), None]
        second = fit_row([Part("overlap", overlap, sep=""),
                          Part("scale", note, sep=" · ", style=roles.faint)],
                         ["overlap", "scale", "scale", "overlap", "scale"], width)
        return Text("\n").join([first, second])
    parts = [dropout, train, test, Part("overlap", [key("overlap", "both"), None], sep=" "),
             Part("scale", note, sep=" · ", style=roles.faint)]
    return fit_row(parts, ["scale", "dropout", "overlap", "dropout", "scale", "dropout", "scale", "scale"], width)


def legend_width(scale: YScale, log_x: bool) -> int:
    """Cells the legend needs on one line with nothing shortened."""
    return len(legend_text(10 ** 4, 1, Roles(), False, GLYPHS, scale, log_x).plain.rstrip())
