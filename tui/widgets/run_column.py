"""One run's column: loss curves, loss/accuracy (regression: MSE, R², spread), per-layer table, and a
map: the decision boundary, for regression the prediction curves (1-D) or a heat map of the
predicted value (2-D).

Both columns have the same structure, the same widths and the same rows (``plan_column`` decides
the rows from the column's size alone), so they line up row for row; the unrescaled column's
"×p at test" row has a counterpart in the inverted column that says why it needs none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from dropout_tui.core.snapshot import RunMetrics

from ..history import RunView, YScale
from .boundary_map import MIN_ROWS as MAP_MIN
from .boundary_map import BoundaryMap, rows_needed
from .curve_view import CurveView
from .value_map import ValueMap
from . import glyphs
from .diff_view import DiffView
from .layer_table import LayerTable
from .loss_chart import GLYPHS, GLYPHS_ASCII, LossChart, legend_text
from ..numbers import fit, num, ok, pct, r2
from .rows import Part, fit_row
from .rules_view import RulesView
from .theme import Roles

TITLES = {
    "inverted": ("inverted (÷ keep_prob in training)", "inverted (÷p)"),
    "unrescaled": ("unrescaled (no ÷ keep_prob)", "unrescaled"),
}
# The widget each kind of map (``Update.map_kind``) is drawn by, by its class in the column.
MAP_VIEWS = {"boundary": ".boundary", "values": ".values", "curve": ".curve"}
SUMMARY_ROWS = 3  # test, train, ×p at test
RULES_MIN = 8  # the prediction rules take the map's rows too when they would have fewer than this
CHART_MIN = 4  # three plot rows and the step axis
CHART_TALL = 9  # the chart's height beside a map
WIDE = 48  # from this width on, values get two spaces between them
SCALED_LONG = 31  # from this width on, the ×p row's label is spelt out
LEGEND_ONE_LINE = 57  # from this width on the whole legend fits one line; narrower, it takes two


@dataclass(frozen=True)
class ColumnPlan:
    """Rows each part of a column gets (0: hidden)."""
    chart: int
    legend: int
    table: int
    map: int

    @property
    def map_shown(self) -> bool:
        return self.map > 0


def plan_column(height: int, width: int, n_layers: int, map_wanted: bool | None,
                aspect: float | None, *, note: bool = False, map_min: int = MAP_MIN,
                keep_table: bool = False) -> ColumnPlan:
    """Rows for the chart, legend, layer table and map in a column ``height`` × ``width`` (inside
    its border). The summary rows always show. ``map_wanted``: None lets the size decide (a map
    beside the curves when both have room), True asks for the map — in place of the curves and
    the table when it cannot have both —, False hides it. A map shows only with ``MAP_MIN`` rows,
    and only as many rows as it needs at this width; the curves take the rest. ``note``: the data
    has no map (``aspect`` None) and the map's place gets one row saying why, taken from the curves.
    ``map_min``: the fewest rows the map is legible in (``MAP_MIN``; the regression curves need
    fewer). ``keep_table``: a map asked for shrinks down to ``map_min`` rather than hide the layer
    table (the curve view fills any height; the explanation quotes the table)."""
    rest = height - SUMMARY_ROWS
    table_full = 1 + n_layers
    legend = 1 if width >= LEGEND_ONE_LINE else 2
    if aspect is not None and map_wanted is not False:
        need = rows_needed(width, aspect)
        beside = rest - legend - table_full - (CHART_TALL if map_wanted is None else CHART_MIN)
        rows = min(need, beside)
        if rows >= map_min:
            return ColumnPlan(chart=rest - legend - table_full - rows, legend=legend, table=table_full, map=rows)
        if map_wanted:
            rows = min(need, rest)
            if rows >= map_min:
                # The map in place of the curves; the table too if it fits whole in what is left.
                left = rest - rows
                if keep_table and left < table_full and rest - table_full >= map_min:
                    rows, left = rest - table_full, table_full
                table = table_full if left >= table_full else 0
                return ColumnPlan(chart=0, legend=0, table=table, map=rows + left - table)
    # No map: the curves get what the table leaves, but at least CHART_MIN rows; the legend's
    # second line and then the legend go first when rows are short.
    while legend and rest - legend - CHART_MIN < min(table_full, 3):
        legend -= 1
    table = max(0, min(table_full, rest - legend - CHART_MIN))
    if table == 1:
        table = 0  # a header without a layer says nothing
    chart = max(0, rest - legend - table)
    if note and aspect is None and chart > CHART_MIN:
        return ColumnPlan(chart=chart - 1, legend=legend, table=table, map=1)
    return ColumnPlan(chart=chart, legend=legend, table=table, map=0)


class RunColumn(Vertical):
    def __init__(self, rule: str, **kwargs):
        super().__init__(id=f"col-{rule}", classes="run-column", **kwargs)
        self.rule = rule
        self.border_title = TITLES[rule][0]
        self.plan: ColumnPlan | None = None
        self.map_kind: str | None = None
        self.rules_mode = False  # the prediction rules in place of the curves and the layer table

    def compose(self) -> ComposeResult:
        yield LossChart(classes="chart")
        yield DiffView(classes="legend")
        yield DiffView(classes="summary")
        yield DiffView(classes="scaled")
        yield LayerTable(classes="layers")
        yield RulesView(classes="rules")
        yield BoundaryMap(classes="boundary")
        yield CurveView(classes="curve")
        yield ValueMap(classes="values")

    def on_resize(self) -> None:
        plan = getattr(self.app, "plan_columns", None)
        if plan is not None:
            plan()

    @property
    def inner_size(self) -> tuple[int, int]:
        """(width, height) inside the border and padding."""
        return self.content_region.width, self.content_region.height

    @property
    def map_view(self):
        """The widget that draws this column's kind of map (the boundary map when there is none)."""
        return self.query_one(MAP_VIEWS.get(self.map_kind or "", ".boundary"))

    def show_map(self, maps, spread, kind: str | None) -> None:
        """Draw a grid of 2-D outputs: class probabilities (with the Monte-Carlo ``spread`` when
        given) on the boundary map, or for regression (``kind`` "values") predicted values."""
        if kind == "values":
            self.query_one(ValueMap).set_map(maps.probs[self.rule], maps.train, target_scale=maps.target_scale)
        else:
            self.query_one(".boundary", BoundaryMap).set_map(maps.probs[self.rule], maps.train, spread)

    def show_maps(self, update) -> None:
        """Draw what an Update brought besides a 2-D grid: 1-D regression ``curves``, or the note
        saying why there is no map."""
        if update.curves is not None:
            self.query_one(CurveView).set_curves(update.curves, self.rule)
        elif update.boundary is None and update.map_note:
            self.show_map_note(update.map_note)

    def clear_maps(self) -> None:
        for selector in MAP_VIEWS.values():
            view = self.query_one(selector)
            if isinstance(view, (BoundaryMap, CurveView)):
                view.clear()

    def apply_plan(self, plan: ColumnPlan, rules_mode: bool | None = None, map_kind: str | None = "keep") -> bool:
        """Give each part its rows (a layout pass: only when the plan, the mode or the kind of map
        changes). True if it did. In rules mode the prediction rules take the rows of the curves,
        their legend and the layer table, and the map's too when those are fewer than
        ``RULES_MIN``. ``map_kind``: ``Update.map_kind`` ("keep": as before)."""
        if rules_mode is None:
            rules_mode = self.rules_mode
        if map_kind == "keep":
            map_kind = self.map_kind
        if plan == self.plan and rules_mode == self.rules_mode and map_kind == self.map_kind:
            return False
        self.plan, self.rules_mode, self.map_kind = plan, rules_mode, map_kind
        shown = MAP_VIEWS.get(map_kind or "", ".boundary")
        rules = boundary = 0
        if rules_mode:
            rules, boundary = plan.chart + plan.legend + plan.table, plan.map
            if rules < RULES_MIN:
                rules, boundary = rules + boundary, 0
            parts = [(".chart", 0), (".legend", 0), (".layers", 0), (".rules", rules)]
        else:
            boundary = plan.map
            parts = [(".chart", plan.chart), (".legend", plan.legend), (".layers", plan.table), (".rules", 0)]
        parts += [(selector, boundary if selector == shown else 0) for selector in MAP_VIEWS.values()]
        for selector, rows in parts:
            widget = self.query_one(selector)
            widget.display = rows > 0
            if rows > 0:
                widget.styles.height = rows
        table = self.query_one(LayerTable)
        table.max_rows = plan.table or None
        table.rebuild()
        # "╭─ title ─…╮" whole, or the short title.
        long, short = TITLES[self.rule]
        title = long if len(long) + 5 <= self.outer_size.width else short
        self.border_title = glyphs.prose(title) if getattr(self.app, "ascii_only", False) else title
        return True

    def show_rules(self, rules_snapshot, step: int, keep_prob: float) -> None:
        """The prediction rules of the latest evaluation (None: not yet evaluated), for the step
        and keep_prob on screen (the view says when they are behind)."""
        self.query_one(RulesView).set_rules(rules_snapshot, self.rule, step, keep_prob)

    def show_map_note(self, note: str) -> None:
        """Say in the map's place why there is no map (when the plan gave it a row)."""
        roles: Roles = getattr(self.app, "roles", None) or Roles()
        self.query_one(".boundary", BoundaryMap).show(Text(note, roles.muted))

    def show_run(self, run: RunMetrics, history: RunView, scale: YScale, log_x: bool, step: int | None = None) -> None:
        """``run``'s numbers and curves; ``step`` is the snapshot's (at 0 no training step has run)."""
        roles: Roles = getattr(self.app, "roles", None) or Roles()
        ascii_only = bool(getattr(self.app, "ascii_only", False))
        mono = bool(self.app.no_color) or ascii_only
        glyphs = GLYPHS_ASCII if ascii_only else GLYPHS
        self.query_one(LossChart).set_data(history.steps, history.series, scale, log_x)
        rows = self.plan.legend if self.plan is not None else 1
        self.query_one(".legend", DiffView).show_for_width(
            lambda width: legend_text(width, rows, roles, mono, glyphs, scale, log_x))
        self.query_one(".summary", DiffView).show_for_width(lambda width: summary_text(run, width, roles, step))
        self.query_one(".scaled", DiffView).show_for_width(lambda width: scaled_text(run, width, roles))
        self.query_one(LayerTable).set_run(run, history.ratios)
        diverged = bool(run.get("diverged"))
        if diverged != self.has_class("diverged"):  # border changes repaint the whole column
            self.set_class(diverged, "diverged")
            self.border_subtitle = "DIVERGED - stopped" if diverged else ""


def _cells(label: str, label_style: str, loss, acc, third: list[Text | None], width: int, roles: Roles) -> Text:
    sep = "  " if width >= WIDE else " "
    parts = [
        Part("label", [Text(label, label_style)], sep=""),
        Part("loss", [Text.assemble("loss ", (fit(loss, 5), "bold"))], sep=sep),
        Part("acc", [Text.assemble("acc ", (pct(acc, width=5).rjust(5), "bold"))], sep=sep),
        Part("third", third, sep=sep),
    ]
    return fit_row(parts, ["third", "third"], width)


def _spread(x, label: str = "spread ") -> Text:
    # num(), as the explanation quotes it: the same digits here and in its sentence.
    return Text.assemble((label, ""), (num(x, 3, width=5).rjust(5), "bold"), "×")


def regression_summary(run: RunMetrics, width: int, roles: Roles | None = None, step: int | None = None) -> Text:
    """The test and train rows of a regression run: MSE (the loss), RMSE (with room), R² and the
    output spread (predictions' std ÷ targets' std) of the test set; the training MSE and RMSE
    without dropout and the loss with dropout. Short of width RMSE goes first, then R², then
    the training row's dropout loss shortens."""
    roles = roles or Roles()
    sep = "  " if width >= WIDE else " "
    test_loss, train_loss = run.get("test_loss"), run.get("train_loss")
    test = fit_row([
        Part("label", [Text("test ", roles.series["test_loss"])], sep=""),
        Part("mse", [Text.assemble("MSE ", (fit(test_loss, 5), "bold"))], sep=sep),
        Part("rmse", [Text.assemble(("RMSE ", roles.muted), fit(run.get("test_rmse"), 5)), None], sep=sep),
        Part("r2", [Text.assemble(("R² ", roles.muted), r2(run.get("test_r2"))), None], sep=sep),
        Part("spread", [_spread(run.get("test_spread")), _spread(run.get("test_spread"), "spr ")], sep=sep),
    ], ["rmse", "r2", "spread"], width)
    rmse = "RMSE" in test.plain
    train_rmse = math.sqrt(train_loss) if ok(train_loss) and train_loss >= 0 else train_loss
    drop = dropout_loss(run, step)
    train = fit_row([
        Part("label", [Text("train", roles.series["train_loss"])], sep=""),
        Part("mse", [Text.assemble("MSE ", (fit(train_loss, 5), "bold"))], sep=sep),
        Part("rmse", [Text.assemble(("RMSE ", roles.muted), fit(train_rmse, 5))] if rmse else [None], sep=sep),
        Part("drop", [Text.assemble(("w/ dropout ", roles.muted), fit(drop, 5)),
                      Text.assemble(("drop ", roles.muted), fit(drop, 5)), None], sep=sep),
    ], ["drop", "drop"], width)
    return Text("\n").join([test, train])


def dropout_loss(run: RunMetrics, step: int | None) -> float | None:
    """The training loss with dropout, or None (shown as missing) at step 0: no step has been
    taken, so there is no such loss yet (the snapshot holds nan there, which would read as a
    diverged run)."""
    return None if step == 0 else run.get("train_loss_dropout")


def summary_text(run: RunMetrics, width: int, roles: Roles | None = None, step: int | None = None) -> Text:
    """The test and train rows (``step``: the snapshot's, see ``dropout_loss``). Their cells have
    fixed widths, so what drops out at a width is the same in both columns whatever the values:
    first the confidence (and the training loss with dropout) shorten, then they go."""
    if "test_r2" in run:
        return regression_summary(run, width, roles, step)
    roles = roles or Roles()
    conf = run.get("test_confidence")
    test = _cells("test ", roles.series["test_loss"], run.get("test_loss"), run.get("test_acc"),
                  [Text.assemble(("conf ", roles.muted), pct(conf, width=5).rjust(5)),
                   Text.assemble(("conf ", roles.muted), pct(conf, 0, width=4).rjust(4)), None], width, roles)
    # The training loss with dropout (what the optimiser sees) is the grey curve's latest value.
    drop = dropout_loss(run, step)
    dropout = Text.assemble(("drop ", roles.muted), fit(drop, 5))
    train = _cells("train", roles.series["train_loss"], run.get("train_loss"), run.get("train_acc"),
                   [Text.assemble(("w/ dropout ", roles.muted), fit(drop, 5))
                    if width >= WIDE + 4 else dropout, dropout, None], width, roles)
    # Both rows drop their third cell together, so their columns stay aligned.
    if test.cell_len and ("conf" in test.plain) != ("drop" in train.plain or "dropout" in train.plain):
        train = _cells("train", roles.series["train_loss"], run.get("train_loss"), run.get("train_acc"), [None],
                       width, roles)
        test = _cells("test ", roles.series["test_loss"], run.get("test_loss"), run.get("test_acc"), [None],
                      width, roles)
    return Text("\n").join([test, train])


def scaled_text(run: RunMetrics, width: int, roles: Roles | None = None) -> Text:
    """The ×p at test row: the unrescaled weights with each dropped layer's output multiplied by its
    keep probability; in the inverted column, why it needs no such thing."""
    roles = roles or Roles()
    label = Text("×p at test" if width >= SCALED_LONG else "×p", roles.fix)
    if "test_loss_scaled" not in run:
        return fit_row([Part("label", [label], sep=""),
                        Part("why", [Text("not needed: ÷p in training", roles.muted),
                                     Text("not needed", roles.muted)], sep=" ")], ["why"], width)
    sep = "  " if width >= WIDE else " "
    if "test_spread_scaled" in run:  # regression: MSE, R² and the output spread of that evaluation
        return fit_row([
            Part("label", [label], sep=""),
            Part("loss", [Text.assemble("MSE ", (fit(run.get("test_loss_scaled"), 5), "bold"))], sep=" "),
            Part("r2", [Text.assemble(("R² ", roles.muted), r2(run.get("test_r2_scaled"))), None], sep=sep),
            Part("spread", [_spread(run.get("test_spread_scaled")),
                            _spread(run.get("test_spread_scaled"), "spr ")], sep=sep),
        ], ["r2", "spread"], width)
    return fit_row([
        Part("label", [label], sep=""),
        Part("loss", [Text.assemble("loss ", (fit(run.get("test_loss_scaled"), 5), "bold"))], sep=" "),
        Part("acc", [Text.assemble("acc ", pct(run.get("test_acc_scaled"), width=5).rjust(5)), None], sep=sep),
    ], ["acc"], width)
