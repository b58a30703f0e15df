"""A 1-D regression's picture, one run per column: the prediction curve over the input interval, the
training points and the true function, drawn with braille dots (2 × 4 per cell).

For the unrescaled column the "×p at test" curve too (the same weights, each dropped layer's output
multiplied by its keep_prob), and, when Monte-Carlo passes were made, the MC predictive mean with a
±2σ band (the spread of the output over passes). Both columns share one frame — the y range of
everything either column draws, never wider than the targets' range by more than ``CLIP_SPANS`` of
it each way —, so a stretched curve looks stretched beside the other column. Values beyond the
frame are drawn on its edge. The y axis is labelled in the target's units: a CSV file's target is
fitted standardised, and its labels are converted back (``Curves.target_scale``).

Without colour (NO_COLOR) only the prediction is braille; the other curves are characters (``+``
×p, ``~`` MC mean, ``·`` true function, ``o`` training points, ``░`` the band); in ASCII mode
everything is such characters (the prediction ``*``), coloured when there is colour. The last row
is the legend naming each curve by its mark.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

from .boundary_map import BoundaryMap
from .diff_view import DiffView
from ..numbers import fmt
from .rows import Part, fit_row
from .theme import Roles

if TYPE_CHECKING:
    from dropout_tui.core.curves import Curves  # the engine's curves load with the first 1-D regression

AXIS = 5  # "-1.5┤": the y labels' width and the axis
CLIP_SPANS = 1.5  # the frame reaches at most this many target spans beyond the targets' range
MIN_PLOT_ROWS = 2
MIN_ROWS = 5  # four rows of curve (16 dot rows) and the legend: the fewest the layout gives the view
LAYERS = ("pred", "scaled", "mc", "points", "true")  # drawing priority, highest first
CHARS = {"pred": "*", "scaled": "+", "mc": "~", "true": "·", "points": "o"}
CHARS_ASCII = {"pred": "*", "scaled": "+", "mc": "~", "true": ".", "points": "o"}
BAND, BAND_ASCII = "░", ":"
# Braille dot bits by (dot column 0-1, dot row 0-3) inside a cell (Unicode's braille patterns).
BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def plot_width(width: int) -> int:
    """Cells of curve in a view ``width`` cells wide (the rest is the y axis)."""
    return max(1, width - AXIS)


def points_for(width: int) -> int:
    """Grid points a curve needs to fill a view ``width`` cells wide: one per braille dot column."""
    return 2 * plot_width(width)


def frame(curves: Curves) -> tuple[float, float]:
    """(lo, hi) of the y range both columns show: every finite value drawn (targets, both runs'
    curves, the MC bands), clamped to ``CLIP_SPANS`` target spans beyond the targets' range and
    widened to round numbers, so that small changes of the curves do not move the frame. In the
    units the curves are in (the network's); the numbers are round in the target's units, where
    the axis labels them."""
    targets = [curves.y_train] + ([curves.true] if curves.true is not None else [])
    t = np.concatenate(targets)
    t = t[np.isfinite(t)]
    tlo, thi = (float(t.min()), float(t.max())) if t.size else (-1.0, 1.0)
    span = thi - tlo if thi > tlo else 1.0
    values = [t]
    for run in curves.runs.values():
        values += [a for a in (run.pred, run.scaled) if a is not None]
        if run.mc_mean is not None and run.mc_std is not None:
            values += [run.mc_mean - 2 * run.mc_std, run.mc_mean + 2 * run.mc_std]
    v = np.concatenate(values)
    v = v[np.isfinite(v)]
    lo = max(float(v.min()), tlo - CLIP_SPANS * span) if v.size else tlo
    hi = min(float(v.max()), thi + CLIP_SPANS * span) if v.size else thi
    lo, hi = to_units(curves, lo), to_units(curves, hi)
    step = 10 ** math.floor(math.log10(hi - lo)) / 2 if hi > lo else 0.5
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    scale = curves.target_scale
    return (lo, hi) if scale is None else ((lo - scale.mean) / scale.std, (hi - scale.mean) / scale.std)


def to_units(curves: Curves, y: float) -> float:
    """A value as drawn, in the target's units (the same value unless the target is standardised)."""
    return y if curves.target_scale is None else float(curves.target_scale.to_units(y))


class CurveView(DiffView):
    DEFAULT_CSS = "CurveView { height: 10; }"
    min_rows = MIN_ROWS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = ""
        self._curves: Curves | None = None

    def on_resize(self) -> None:
        # The curves are computed in the worker for a number of points: ask for the new one, as
        # the boundary map does for its grid (DiffView's own on_resize runs too).
        if self.display:  # a hidden view needs no curves: no request for them
            self.post_message(BoundaryMap.Resized())
        self._redraw()

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(grid points, rows) the curves should come with for this size."""
        return points_for(self.size.width), self.size.height

    def set_curves(self, curves: Curves, rule: str) -> None:
        self._curves, self.rule = curves, rule
        self._redraw()

    def rebuild(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self._curves is None or self.size.width <= 0 or self.size.height <= 0:
            return
        app = self.app
        self.show(render(self._curves, self.rule, self.size.width, self.size.height, self.roles,
                         colour=not app.no_color, braille=not self.ascii_only))

    def clear(self) -> None:
        self._curves = None
        self.show(Text("curves: computing…", self.roles.muted))


def _interp(curves: Curves, y: np.ndarray | None, xs: np.ndarray) -> np.ndarray | None:
    return None if y is None else np.interp(xs, curves.x, y)


def render(curves: Curves, rule: str, width: int, height: int, roles: Roles | None = None, *,
           colour: bool = True, braille: bool = True) -> Text:
    """The view of ``rule``'s curves in ``width`` × ``height`` cells (the last row the legend)."""
    roles = roles or Roles()
    run = curves.runs[rule]
    rows = max(MIN_PLOT_ROWS, height - 1)
    pw = plot_width(width)
    lo, hi = frame(curves)
    xlo, xhi = float(curves.x[0]), float(curves.x[-1])
    dots_x = np.linspace(xlo, xhi, 2 * pw)
    cells_x = np.linspace(xlo, xhi, 2 * pw)[::2] * 0.5 + np.linspace(xlo, xhi, 2 * pw)[1::2] * 0.5
    band = run.mc_mean is not None and run.mc_std is not None and curves.passes >= 2
    lines = {"pred": run.pred, "scaled": run.scaled, "true": curves.true,
             "mc": run.mc_mean if band else None}
    shown = {name for name, y in lines.items() if y is not None} | {"points"}

    def dot_row(y: np.ndarray) -> np.ndarray:
        r = np.rint((hi - y) / (hi - lo) * (4 * rows - 1))
        return np.clip(np.nan_to_num(r, nan=-1.0, posinf=-1.0, neginf=-1.0), -1, 4 * rows - 1).astype(int)

    # Per cell: braille bits of each layer and the character layers.
    bits = {name: np.zeros((rows, pw), np.uint8) for name in LAYERS}
    chars: dict[tuple[int, int], str] = {}
    char_layer: dict[tuple[int, int], str] = {}
    as_braille = set(LAYERS) if braille and colour else ({"pred"} if braille else set())
    glyph = CHARS if braille else CHARS_ASCII
    for name in reversed(LAYERS):  # lowest priority first: later ones win
        if name == "points":
            px = np.clip(np.rint((curves.x_train - xlo) / (xhi - xlo) * (2 * pw - 1)), 0, 2 * pw - 1).astype(int)
            pr = dot_row(curves.y_train)
            dots = [(int(c), int(row)) for c, row in zip(px, pr) if row >= 0]
        else:
            y = lines[name]
            if y is None:
                continue
            on_dots = _interp(curves, y, dots_x)
            assert on_dots is not None
            dots = _connected(dot_row(on_dots))
        for c, dot in dots:
            if name in as_braille:
                bits[name][dot // 4, c // 2] |= BITS[c % 2][dot % 4]
            else:
                key = (dot // 4, c // 2)
                chars[key], char_layer[key] = glyph[name], name
    band_rows: list[tuple[int, int]] = []
    if band:
        mean = _interp(curves, run.mc_mean, cells_x)
        std = _interp(curves, run.mc_std, cells_x)
        assert mean is not None and std is not None
        top, bottom = dot_row(mean + 2 * std) // 4, dot_row(mean - 2 * std) // 4
        band_rows = [(int(t), int(b)) if t >= 0 and b >= 0 else (rows, -1) for t, b in zip(top, bottom)]
    styles = _styles(roles, colour)
    band_bg = _band_background(roles) if colour else None
    out = []
    # Labels in the target's units: the top, the bottom, and the row where the target is 0.
    ulo, uhi = to_units(curves, lo), to_units(curves, hi)
    zero = int(np.rint(uhi / (uhi - ulo) * (rows - 1))) if ulo < 0 < uhi else -1
    for r in range(rows):
        label = fmt(uhi, 1, width=4) if r == 0 else fmt(ulo, 1, width=4) if r == rows - 1 \
            else "0" if r == zero else ""
        line = Text(label.rjust(AXIS - 1)[-(AXIS - 1):] + ("┤" if label else "│"), roles.faint)
        for c in range(pw):
            in_band = bool(band_rows) and band_rows[c][0] <= r <= band_rows[c][1]
            layer = next((name for name in LAYERS if bits[name][r, c]), None)
            code = 0
            for name in LAYERS:
                code |= int(bits[name][r, c])
            if layer is not None and (char_layer.get((r, c)) is None
                                      or LAYERS.index(layer) < LAYERS.index(char_layer[(r, c)])):
                ch, style = chr(0x2800 + code), styles[layer]
            elif (r, c) in chars:
                ch, style = chars[(r, c)], styles[char_layer[(r, c)]]
            elif in_band and band_bg is None:
                ch, style = (BAND if braille else BAND_ASCII), styles["mc"]
            else:
                ch, style = " ", Style()
            if in_band and band_bg is not None:
                style = style + Style(bgcolor=band_bg)
            line.append(ch, style)
        out.append(line)
    out.append(legend(curves, rule, width, roles, shown, colour=colour, braille=braille, band=band))
    return Text("\n").join(out)


def _connected(r: np.ndarray) -> list[tuple[int, int]]:
    """(dot column, dot row) of a line through one row per column, with the vertical steps between
    neighbouring columns filled (in the left column of each step) so a steep curve stays whole."""
    dots = []
    n = len(r)
    for c in range(n):
        a = int(r[c])
        if a < 0:
            continue
        b = int(r[c + 1]) if c + 1 < n and r[c + 1] >= 0 else a
        lo, hi = (a, (a + b) // 2) if b >= a else ((a + b + 1) // 2, a)
        dots += [(c, row) for row in range(lo, hi + 1)]
        if c + 1 < n and b >= 0 and b != a:
            lo2, hi2 = ((a + b) // 2 + 1, b) if b > a else (b, (a + b + 1) // 2 - 1)
            dots += [(c + 1, row) for row in range(lo2, hi2 + 1)]
    return dots


def _styles(roles: Roles, colour: bool) -> dict[str, Style]:
    if not colour:
        return {name: Style(bold=name == "pred") for name in LAYERS}
    return {"pred": Style.parse(f"bold {roles.series['test_loss']}".strip()) if roles.series.get("test_loss")
            else Style(bold=True),
            "scaled": Style.parse(roles.fix or "bold"),
            "mc": Style.parse(roles.good or "bold"),
            "true": Style.parse(roles.muted or "dim"),
            "points": Style.parse(roles.series.get("train_loss") or "bold")}


def _band_background(roles: Roles) -> Color | None:
    """A dim tint of the MC colour on the panel's background, for the ±2σ band."""
    good, surfaces = roles.colours.get("good"), roles.surfaces.get("good")
    if good is None or not surfaces:
        return None
    c = surfaces[0].blend(good, 0.28)
    return Color.from_rgb(c.r, c.g, c.b)


def legend(curves: Curves, rule: str, width: int, roles: Roles, shown: set[str], *, colour: bool = True,
           braille: bool = True, band: bool = False) -> Text:
    """One row naming each curve by its mark; names shorten, then the least needed drop out."""
    styles = _styles(roles, colour)
    glyph = CHARS if braille else CHARS_ASCII

    def mark(name: str) -> tuple[str, Style]:
        if colour and braille:
            return ("•" if name == "points" else "━"), styles[name]
        if name == "pred" and braille:
            return "⠤", styles[name]
        return glyph[name], styles[name]

    def key(name: str, *labels: str | None) -> list[Text | None]:
        m = mark(name)
        return [None if label is None else Text.assemble(m, " ", (label, roles.muted)) for label in labels]

    # ASCII mode writes the band's sign as words (± and σ have no one-cell ASCII stand-in).
    pm = "±2σ" if braille else "+-2sd"
    mc_label = f"MC mean {pm}, T={curves.passes}"
    parts = [Part("pred", key("pred", "prediction", "pred"), sep="")]
    if "scaled" in shown:
        parts.append(Part("scaled", key("scaled", "×p at test", "×p"), sep=" "))
    if band:
        mc = key("mc", mc_label, f"MC {pm}", "MC")
        if colour and braille and mc[0] is not None:
            bg = _band_background(roles)
            if bg is not None:
                mc = [Text.assemble(mark("mc"), " ", (text, Style(bgcolor=bg)))
                      for text in (mc_label, f"MC {pm}", "MC")]
        parts.append(Part("mc", mc, sep=" "))
    if "true" in shown:
        parts.append(Part("true", key("true", "true function", "true", None), sep=" "))
    parts.append(Part("points", key("points", "training points", "train", None), sep=" "))
    return fit_row(parts, ["true", "points", "pred", "scaled", "mc", "mc", "points", "true"], width)
