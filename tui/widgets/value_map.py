"""A 2-D regression's picture: the predicted value over the input plane as a heat map, with its scale.

The same grid and geometry as the decision-boundary map (``BoundaryMap``: half-block pixels, the
data's aspect kept, centred), one row less for the scale underneath. The colour scale runs over the
training targets' range, from blue (low) through the background to orange (high), in ``LEVELS``
steps; both columns use it, so one value is one colour on both sides. A prediction beyond the
targets' range gets a colour of its own (light blue below, red above): a stretched network shows
as patches of them. Training points are drawn on top, in a light neutral colour. The scale's two
numbers are in the target's units: a CSV file's target is fitted standardised, and they are
converted back (``BoundaryMaps.target_scale``).

Without colour (NO_COLOR) characters of increasing density stand in for the value, ``RAMP`` from
low to high, with ``<`` and ``>`` beyond the range; in ASCII mode with colour, coloured spaces.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

from dropout_tui.core.data import TargetScale

from .boundary_map import BoundaryMap, grid_for
from .loss_chart import styled_runs
from ..numbers import fmt
from .rows import Part, fit_row

LOW = np.array((59, 130, 246), float)
HIGH = np.array((245, 158, 11), float)
MID = np.array((24, 24, 32), float)
BELOW = (125, 211, 252)
ABOVE = (239, 68, 68)
POINT = (235, 235, 235)
LEVELS = 8  # inside the targets' range; level -1 is below it, LEVELS above it
RAMP = " .:-=+*#"  # one character per level, low to high (density)
BEYOND = ("<", ">")


def levels(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Level per pixel: 0..LEVELS-1 inside [lo, hi], -1 below, LEVELS above (non-finite: above —
    a diverged network's outputs are off every scale)."""
    span = hi - lo if hi > lo else 1.0
    t = (values - lo) / span
    lvl = np.floor(np.nan_to_num(t, nan=np.inf) * LEVELS)
    lvl = np.where(t == 1.0, LEVELS - 1, lvl)
    return np.clip(lvl, -1, LEVELS).astype(int)


def colour(level: int) -> Color:
    if level < 0:
        return Color.from_rgb(*BELOW)
    if level >= LEVELS:
        return Color.from_rgb(*ABOVE)
    t = (level + 0.5) / LEVELS * 2 - 1  # -1 … 1
    end = HIGH if t > 0 else LOW
    r, g, b = (MID + (end - MID) * (0.2 + 0.8 * abs(t))).astype(int)
    return Color.from_rgb(r, g, b)


def scale_of(train) -> tuple[float, float]:
    """(lo, hi): the training targets' range (the colour scale of both columns)."""
    y = np.asarray(train[2], float) if train is not None else np.array([])
    y = y[np.isfinite(y)]
    if not y.size:
        return -1.0, 1.0
    lo, hi = float(y.min()), float(y.max())
    return (lo, hi) if hi > lo else (lo - 1, hi + 1)


class ValueMap(BoundaryMap):
    """The heat map; ``set_map(values, train)`` with values (rows, cols, 1) from the worker's grid."""

    DEFAULT_CSS = "ValueMap { height: 10; }"

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(cols, pixel rows) of values this widget shows: the last row is the scale."""
        return grid_for(self.size.width, max(1, self.size.height - 1), self.aspect)

    _last: tuple | None = None

    def on_resize(self) -> None:
        # A new width moves the centring and the scale's row even when the grid keeps its shape
        # (then no new map comes): draw the last one again. (BoundaryMap's on_resize runs too.)
        if self._last is not None:
            self.set_map(*self._last)

    def set_map(self, probs: np.ndarray, train, spread: np.ndarray | None = None,
                target_scale: TargetScale | None = None) -> None:
        """``spread`` is ignored: a heat map of values has no Monte-Carlo brightness.
        ``target_scale``: the target's standardisation, for the scale's numbers (None: none)."""
        self._last = (probs, train, None, target_scale)
        if self.size.height < 2 or self.size.width < 1:
            return
        # A map made for an older size is drawn as it is, cropped to fit above the scale, until
        # the one for this size comes: the scale row never drops out.
        rows = min(probs.shape[0], 2 * (self.size.height - 1))
        cols = min(probs.shape[1], self.size.width)
        lo, hi = scale_of(train)
        codes = levels(probs[:rows, :cols, 0], lo, hi)
        mono = bool(self.app.no_color)
        if mono:
            body = _render_mono(codes[::2])
        else:
            body = _render_colour(codes, train, half=not self.ascii_only)
        width, height = self.size.width, self.size.height
        left, top = max(0, (width - cols) // 2), max(0, (height - 1 - rows // 2) // 2)
        lines = [Text()] * top + [Text(" " * left) + line for line in body.split("\n", allow_blank=True)]
        lines += [Text()] * max(0, height - 1 - len(lines))
        if target_scale is not None:
            lo, hi = float(target_scale.to_units(lo)), float(target_scale.to_units(hi))
        lines.append(legend(lo, hi, width, mono, self.roles.muted))
        self.show(Text("\n").join(lines))

    def clear(self) -> None:
        self._last = None
        self.show(Text("predicted value: computing…", self.roles.muted))


def legend(lo: float, hi: float, width: int, mono: bool, muted: str = "") -> Text:
    """The scale: low value, the levels, high value, and the marks beyond the range."""
    if mono:
        bar = Text(RAMP.replace(" ", "_", 1))
        beyond = Text.assemble(("beyond ", muted), "< >")
    else:
        bar = Text.assemble(*[("█", Style(color=colour(i))) for i in range(LEVELS)])
        beyond = Text.assemble(("beyond ", muted), ("█", Style(color=colour(-1))), " ",
                               ("█", Style(color=colour(LEVELS))))
    scale = Text.assemble(fmt(lo, 2, width=6), " ", bar, " ", fmt(hi, 2, width=6))
    return fit_row([Part("name", [Text("predicted value ", muted), Text("value ", muted), None], sep=""),
                    Part("scale", [scale], sep=""),
                    Part("beyond", [beyond, None], sep=" · ", style=muted)],
                   ["name", "beyond", "name"], width)


def _render_mono(codes: np.ndarray) -> Text:
    """One value row per cell (every other pixel row keeps the aspect)."""
    lines = []
    for row in codes:
        lines.append("".join(BEYOND[0] if c < 0 else BEYOND[1] if c >= LEVELS else RAMP[c] for c in row))
    return Text("\n".join(lines))


def _render_colour(codes: np.ndarray, train, half: bool) -> Text:
    """Half blocks (two pixels per cell), or in ASCII mode coloured spaces (every other pixel row);
    training points as a light dot (``o`` in ASCII) over the lower pixel's colour."""
    rows = codes.shape[0] // 2
    points = set()
    if train is not None:
        for r, c in zip(train[0], train[1]):
            points.add((int(r) // 2, int(c)))
    palette: dict[int, Color] = {}

    def col(code: int) -> Color:
        if code not in palette:
            palette[code] = colour(code)
        return palette[code]

    def cells(r: int):
        """(character, style) of each cell of text row ``r``."""
        top, bottom = codes[2 * r], codes[2 * r + 1] if half else codes[2 * r]
        for c in range(codes.shape[1]):
            if (r, c) in points:
                yield ("●" if half else "o"), Style(color=Color.from_rgb(*POINT), bgcolor=col(bottom[c]), bold=True)
            elif half:
                yield "▀", Style(color=col(top[c]), bgcolor=col(bottom[c]))
            else:
                yield " ", Style(bgcolor=col(top[c]))

    return Text("\n").join(styled_runs(cells(r)) for r in range(rows))
