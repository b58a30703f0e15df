"""One run's column: loss curves, loss/accuracy, per-layer table, decision boundary.

Both columns have the same structure; the unrescaled one adds the "scaled at test" line."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from dropout_tui.core.snapshot import RunMetrics

from ..history import RunView
from .boundary_map import BoundaryMap
from .diff_view import DiffView
from .layer_table import WIDE, LayerTable
from .loss_chart import LossChart, legend
from .numbers import num, pct

TITLES = {
    "inverted": "inverted (÷ keep_prob in training)",
    "unrescaled": "unrescaled (no ÷ keep_prob)",
}


class RunColumn(Vertical):
    def __init__(self, rule: str, **kwargs):
        super().__init__(id=f"col-{rule}", classes="run-column", **kwargs)
        self.rule = rule
        self.border_title = TITLES[rule]

    def compose(self) -> ComposeResult:
        yield LossChart(classes="chart")
        yield DiffView(classes="legend")
        yield DiffView(classes="summary")
        yield DiffView(classes="scaled")
        yield LayerTable(classes="layers")
        yield BoundaryMap(classes="boundary")

    def on_mount(self) -> None:
        self.query_one(".legend", DiffView).show(legend(self.app.no_color))

    def show_run(self, run: RunMetrics, history: RunView, y_range: tuple[float, float]) -> None:
        self.query_one(LossChart).set_data(history.steps, history.series, y_range)
        self.query_one(".summary", DiffView).show_for_width(lambda width: summary_text(run, width >= WIDE))
        self.query_one(".scaled", DiffView).show(scaled_text(run))
        self.query_one(LayerTable).set_run(run, history.ratios)
        diverged = bool(run.get("diverged"))
        if diverged != self.has_class("diverged"):  # border changes repaint the whole column
            self.set_class(diverged, "diverged")
            self.border_subtitle = "DIVERGED — stopped" if diverged else ""


def summary_text(run: RunMetrics, wide: bool = False) -> Text:
    # The training loss with dropout is the grey curve; its number joins in when there is room.
    gap = "  " if wide else " "
    text = Text.assemble(
        ("test  ", "orange1"), "loss ", (num(run.get("test_loss"), 3, fixed=True), "bold"),
        gap, "acc ", (pct(run.get("test_acc")), "bold"),
        gap, ("conf ", "grey70"), pct(run.get("test_confidence"), 1 if wide else 0), "\n",
        ("train ", "deep_sky_blue1"), "loss ", num(run.get("train_loss"), 3, fixed=True),
        gap, "acc ", pct(run.get("train_acc")),
    )
    if wide:
        text.append("  with dropout ", "grey50")
        text.append(num(run.get("train_loss_dropout"), 3, fixed=True))
    return text


def scaled_text(run: RunMetrics) -> Text:
    if "test_loss_scaled" not in run:
        # Keeps both columns the same shape; inverted dropout already matches at prediction time.
        return Text("no scaling needed at test time", "grey50")
    return Text.assemble(
        ("×p at test ", "bold orchid1"), "loss ", (num(run.get("test_loss_scaled"), 3, fixed=True), "bold"),
        "  acc ", pct(run.get("test_acc_scaled")),
    )
