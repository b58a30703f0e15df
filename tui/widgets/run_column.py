"""One run's column: loss curves, loss/accuracy, per-layer table, decision boundary.

Both columns have the same structure, the same widths and the same rows (``plan_column`` decides
the rows from the column's size alone), so they line up row for row; the unrescaled column's
"×p at test" row has a counterpart in the inverted column that says why it needs none.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from dropout_tui.core.snapshot import RunMetrics

from ..history import RunView, YScale
from .boundary_map import MIN_ROWS as MAP_MIN
from .boundary_map import BoundaryMap, rows_needed
from . import glyphs
from .diff_view import DiffView
from .layer_table import LayerTable
from .loss_chart import GLYPHS, GLYPHS_ASCII, LossChart, legend_text
from ..numbers import fit, pct
from .rows import Part, fit_row
from .rules_view import RulesView
from .theme import Roles

TITLES = {
    "inverted": ("inverted (÷ keep_prob in training)", "inverted (÷p)"),
    "unrescaled": ("unrescaled (no ÷ keep_prob)", "unrescaled"),
}
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
                aspect: float | None, *, note: bool = False) -> ColumnPlan:
    """Rows for the chart, legend, layer table and map in a column ``height`` × ``width`` (inside
    its border). The summary rows always show. ``map_wanted``: None lets the size decide (a map
    beside the curves when both have room), True asks for the map — in place of the curves and
    the table when it cannot have both —, False hides it. A map shows only with ``MAP_MIN`` rows,
    and only as many rows as it needs at this width; the curves take the rest. ``note``: the data
    has no map (``aspect`` None) and the map's place gets one row saying why, taken from the curves."""
    rest = height - SUMMARY_ROWS
    table_full = 1 + n_layers
    legend = 1 if width >= LEGEND_ONE_LINE else 2
    if aspect is not None and map_wanted is not False:
        need = rows_needed(width, aspect)
        beside = rest - legend - table_full - (CHART_TALL if map_wanted is None else CHART_MIN)
        rows = min(need, beside)
        if rows >= MAP_MIN:
            return ColumnPlan(chart=rest - legend - table_full - rows, legend=legend, table=table_full, map=rows)
        if map_wanted:
            rows = min(need, rest)
            if rows >= MAP_MIN:
                # The map in place of the curves; the table too if it fits whole in what is left.
                left = rest - rows
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
        self.rules_mode = False  # the prediction rules in place of the curves and the layer table

    def compose(self) -> ComposeResult:
        yield LossChart(classes="chart")
        yield DiffView(classes="legend")
        yield DiffView(classes="summary")
        yield DiffView(classes="scaled")
        yield LayerTable(classes="layers")
        yield RulesView(classes="rules")
        yield BoundaryMap(classes="boundary")

    def on_resize(self) -> None:
        plan = getattr(self.app, "plan_columns", None)
        if plan is not None:
            plan()

    @property
    def inner_size(self) -> tuple[int, int]:
        """(width, height) inside the border and padding."""
        return self.content_region.width, self.content_region.height

    def apply_plan(self, plan: ColumnPlan, rules_mode: bool | None = None) -> bool:
        """Give each part its rows (a layout pass: only when the plan or the mode changes). True if
        it did. In rules mode the prediction rules take the rows of the curves, their legend and
        the layer table, and the map's too when those are fewer than ``RULES_MIN``."""
        if rules_mode is None:
            rules_mode = self.rules_mode
        if plan == self.plan and rules_mode == self.rules_mode:
            return False
        self.plan, self.rules_mode = plan, rules_mode
        rules = boundary = 0
        if rules_mode:
            rules, boundary = plan.chart + plan.legend + plan.table, plan.map
            if rules < RULES_MIN:
                rules, boundary = rules + boundary, 0
            parts = ((".chart", 0), (".legend", 0), (".layers", 0), (".rules", rules), (".boundary", boundary))
        else:
            parts = ((".chart", plan.chart), (".legend", plan.legend), (".layers", plan.table), (".rules", 0),
                     (".boundary", plan.map))
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
        self.query_one(BoundaryMap).show(Text(note, roles.muted))

    def show_run(self, run: RunMetrics, history: RunView, scale: YScale, log_x: bool) -> None:
        roles: Roles = getattr(self.app, "roles", None) or Roles()
        ascii_only = bool(getattr(self.app, "ascii_only", False))
        mono = bool(self.app.no_color) or ascii_only
        glyphs = GLYPHS_ASCII if ascii_only else GLYPHS
        self.query_one(LossChart).set_data(history.steps, history.series, scale, log_x)
        rows = self.plan.legend if self.plan is not None else 1
        self.query_one(".legend", DiffView).show_for_width(
            lambda width: legend_text(width, rows, roles, mono, glyphs, scale, log_x))
        self.query_one(".summary", DiffView).show_for_width(lambda width: summary_text(run, width, roles))
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


def summary_text(run: RunMetrics, width: int, roles: Roles | None = None) -> Text:
    """The test and train rows. Their cells have fixed widths, so what drops out at a width is the
    same in both columns whatever the values: first the confidence (and the training loss with
    dropout) shorten, then they go."""
    roles = roles or Roles()
    conf = run.get("test_confidence")
    test = _cells("test ", roles.series["test_loss"], run.get("test_loss"), run.get("test_acc"),
                  [Text.assemble(("conf ", roles.muted), pct(conf, width=5).rjust(5)),
                   Text.assemble(("conf ", roles.muted), pct(conf, 0, width=4).rjust(4)), None], width, roles)
    # The training loss with dropout (what the optimiser sees) is the grey curve's latest value.
    dropout = Text.assemble(("drop ", roles.muted), fit(run.get("train_loss_dropout"), 5))
    train = _cells("train", roles.series["train_loss"], run.get("train_loss"), run.get("train_acc"),
                   [Text.assemble(("w/ dropout ", roles.muted), fit(run.get("train_loss_dropout"), 5))
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
    return fit_row([
        Part("label", [label], sep=""),
        Part("loss", [Text.assemble("loss ", (fit(run.get("test_loss_scaled"), 5), "bold"))], sep=" "),
        Part("acc", [Text.assemble("acc ", pct(run.get("test_acc_scaled"), width=5).rjust(5)), None], sep=sep),
    ], ["acc"], width)
