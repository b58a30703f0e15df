"""Loss curves drawn with braille dots (2×4 per cell).

Hand-drawn rather than textual-plotext or textual-plot: those take ~45 ms to render a 100×25 plot
and style every cell, and the app draws two charts several times a second on the
same core as the training worker. Here a chart is a few hundred cells in runs of one colour.
"""

from __future__ import annotations

import math

from rich.text import Text

from .diff_view import DiffView

# Series in drawing priority (later wins a shared cell): name -> (style, legend, mono glyph)
SERIES = {
    "train_loss_dropout": ("grey58", "train (dropout)", "·"),
    "train_loss": ("deep_sky_blue1", "train", "+"),
    "test_loss": ("orange1", "test", "●"),
}
AXIS = 6  # characters of y labels on the left
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [dot row][dot col]


class LossChart(DiffView):
    DEFAULT_CSS = "LossChart { height: 6; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._data: tuple | None = None

    def set_data(self, steps: list[int], series: dict[str, list[float]], y_range: tuple[float, float]) -> None:
        self._data = (steps, series, y_range)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width, height = self.size.width - AXIS, self.size.height
        if self._data is None or width < 4 or height < 1:
            return
        steps, series, (y0, y1) = self._data
        x_max = nice_ceiling(steps[-1]) if steps else 1
        lines = plot_lines(steps, series, width, height, y0, y1, self.app.no_color, x_max)
        self.show(Text("\n").join(self._label(row, height, y0, y1) + line for row, line in enumerate(lines)))

    @staticmethod
    def _label(row: int, height: int, y0: float, y1: float) -> Text:
        if row == 0:
            return Text(f"{axis_label(y1)}│", "grey62")
        if row == height - 1:
            return Text(f"{axis_label(y0)}│", "grey62")
        return Text("     │", "grey62")


def axis_label(y: float) -> str:
    """Exactly AXIS - 1 characters, whatever the loss (a diverging run's can be astronomical)."""
    for text in (f"{y:.2f}", f"{y:.1f}", f"{y:.0f}", f"{y:.0e}"):
        if len(text) <= AXIS - 1:
            return text.rjust(AXIS - 1)
    return "  inf" if y > 0 else " -inf"


def nice_ceiling(x: float) -> float:
    """The next round number (1, 1.5, 2, 3, 4, 5, 6, 8 × 10^k) at or above x: the x-axis grows in
    jumps, so between jumps new points only add cells at the right instead of shifting every
    curve (and re-sending every byte), and the curves still fill most of the width."""
    if x <= 1:
        return 1
    k = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if m * k >= x:
            return m * k
    return 10 * k


def plot_lines(steps, series, width, height, y0, y1, mono=False, x_max=None) -> list[Text]:
    """Rows of text plotting each series against step (0..x_max) on a shared y-range."""
    cols_px, rows_px = width * 2, height * 4
    cells = [[0] * width for _ in range(height)]
    owner: list[list[str | None]] = [[None] * width for _ in range(height)]
    if steps:
        last = max(x_max or steps[-1], 1)
        xs = [min(cols_px - 1, int(s / last * (cols_px - 1))) for s in steps]
        for name in SERIES:
            values = series.get(name, [])
            prev = None
            for x, v in zip(xs, values):
                if not math.isfinite(v):
                    prev = None
                    continue
                y = int(round((1 - (min(max(v, y0), y1) - y0) / (y1 - y0)) * (rows_px - 1)))
                for xx, yy in _segment(prev, (x, y)):
                    r, c = yy // 4, xx // 2
                    cells[r][c] |= _BITS[yy % 4][xx % 2]
                    owner[r][c] = name
                prev = (x, y)
    lines = []
    for r in range(height):
        line = Text()
        run_style: str | None = None
        run_chars: list[str] = []
        for c in range(width):
            who = owner[r][c]
            style: str | None = None
            if who is None:
                ch = " "
            elif mono:
                ch = SERIES[who][2]
            else:
                ch, style = chr(0x2800 + cells[r][c]), SERIES[who][0]
            if style != run_style and run_chars:
                line.append("".join(run_chars), run_style)
                run_chars = []
            run_style = style
            run_chars.append(ch)
        if run_chars:
            line.append("".join(run_chars), run_style)
        lines.append(line)
    return lines


def _segment(prev, cur):
    """Dots joining the previous point to this one, so sparse early curves stay connected."""
    x, y = cur
    if prev is None:
        return [(x, y)]
    px, py = prev
    if x == px:
        return [(x, yy) for yy in range(min(py, y), max(py, y) + 1)]
    dots = []
    for xx in range(px + 1, x + 1):
        a = py + (y - py) * (xx - 1 - px) / (x - px)
        b = py + (y - py) * (xx - px) / (x - px)
        dots.extend((xx, yy) for yy in range(round(min(a, b)), round(max(a, b)) + 1))
    return dots


def legend(mono: bool = False) -> Text:
    text = Text()
    for style, label, glyph in SERIES.values():
        if text:
            text.append(" ")
        text.append(glyph if mono else "━", None if mono else style)
        text.append(f" {label}", "grey70")
    return text
