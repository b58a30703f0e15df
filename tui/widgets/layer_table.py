"""Per-layer activations in training vs prediction mode, their ratio, and the weight norm.

One row per hidden layer, in fixed-width cells. Short of width, whole columns drop out in this
order: the norm's train→pred values, the mean ratio's history, ‖W‖, the norm ratio; the mean's
train→pred values and their ratio always stay. Short of rows (``max_rows``), the first layers
show and a last row says how many more there are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from dropout_tui.core.snapshot import LayerStats, RunMetrics

from .diff_view import DiffView
from ..numbers import RATIO_WARN, fit, fmt, ratio, spark
from .theme import Roles

VALUE = 5  # characters of each value in a train→pred pair
NAME = 4
SPARK_MIN = 3


@dataclass(frozen=True)
class Column:
    name: str
    width: int  # including the space before it


COLUMNS = (Column("mean", NAME + 2 * VALUE + 1), Column("ratio", 6), Column("norm", 1 + NAME + 2 * VALUE + 1),
           Column("norm_ratio", 6), Column("weight", 6))
DROP = ("norm", "spark", "weight", "norm_ratio")


class LayerTable(DiffView):
    DEFAULT_CSS = "LayerTable { height: auto; }"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_rows: int | None = None

    def set_run(self, run: RunMetrics, ratio_history: dict[str, list[float]]) -> None:
        self.show_for_width(lambda width: layer_text(run, ratio_history, width, self.roles, self.max_rows,
                                                     self.ascii_only))


def visible_columns(width: int) -> tuple[list[str], int]:
    """The columns that fit ``width`` (dropping in ``DROP`` order) and the room left for the mean
    ratio's history (0: none)."""
    shown = [c.name for c in COLUMNS]
    history = True
    for step in (None, *DROP):
        if step == "spark":
            history = False
        elif step is not None:
            shown.remove(step)
        used = sum(c.width for c in COLUMNS if c.name in shown)
        if used > width:
            continue
        room = width - used - 2
        if not history:
            return shown, 0
        if room >= SPARK_MIN:
            return shown, room
    return shown, 0


def layer_text(run: RunMetrics, ratio_history: dict[str, list[float]], width: int, roles: Roles | None = None,
               max_rows: int | None = None, ascii_only: bool = False) -> Text:
    roles = roles or Roles()
    shown, room = visible_columns(width)
    arrow = _arrow(ascii_only)
    head = Text(f"mean train{arrow}pred", roles.header)
    head.append("     ×", roles.header)
    if "norm" in shown:
        head.append(f" norm train{arrow}pred", roles.header)
    if "norm_ratio" in shown:
        head.append("     ×" if "norm" in shown else " norm×", roles.header)
    if "weight" in shown:
        head.append("   ‖W‖", roles.header)
    if room:
        label = next((t for t in ("mean × history", "history") if len(t) <= room), "")
        head.append("  " + label, roles.header)
    layers = run.get("layers", [])
    if max_rows is not None and 1 + len(layers) > max_rows:
        keep = max(0, max_rows - 2)
        more = len(layers) - keep
        rows = [_row(layer, shown, room, ratio_history, roles, ascii_only) for layer in layers[:keep]]
        plural = "s" if more > 1 else ""
        note = next((t for t in (f"+{more} more layer{plural} (taller window)", f"+{more} more layer{plural}",
                                 f"+{more} more") if len(t) <= width), "+")
        rows.append(Text(note, roles.muted))
    else:
        rows = [_row(layer, shown, room, ratio_history, roles, ascii_only) for layer in layers]
    return Text("\n").join([head, *rows])


def _row(layer: LayerStats, shown: list[str], room: int, ratio_history, roles: Roles, ascii_only: bool) -> Text:
    name = layer["name"]
    mt, me, nt, ne = layer["mean_train"], layer["mean_pred"], layer["norm_train"], layer["norm_pred"]
    line = Text.assemble((f"{name:<{NAME}}", "bold"), _pair(mt, me, _arrow(ascii_only)))
    r = ratio(mt, me)
    # Only the mean ratio is coloured: a norm ratio away from 1 is expected under both rules.
    line.append(" " + fit(r, 5, 2), _ratio_style(r, roles))
    if "norm" in shown:
        line.append(" " * (1 + NAME))
        line.append_text(_pair(nt, ne, _arrow(ascii_only)))
    if "norm_ratio" in shown:
        line.append(" " + fit(ratio(nt, ne), 5, 2))
    if "weight" in shown:
        line.append(" " + fit(layer["weight_norm"], 5, 1))
    if room:
        history = spark(ratio_history.get(name, [])[-room:], ascii_only=ascii_only)
        line.append("  " + history, roles.series.get("train_loss", ""))
    return line


def _arrow(ascii_only: bool) -> str:
    # One cell between the two values. ASCII mode's usual '>' would read as "greater than"
    # (0.195>0.375); '/' is true as well as short: the ratio that follows is train / pred.
    return "/" if ascii_only else "→"


def _pair(train, pred, arrow: str = "→") -> Text:
    return Text(f"{fmt(train, 3, VALUE):>{VALUE}}{arrow}{fmt(pred, 3, VALUE):<{VALUE}}")


def _ratio_style(r: float, roles: Roles) -> str:
    # Colour only how far from 1 a ratio is; what that means is the explanation panel's job.
    if math.isnan(r):
        return roles.muted
    return roles.warn if abs(r - 1) > RATIO_WARN else roles.good
