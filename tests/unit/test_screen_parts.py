"""The screen's building blocks without an app: number formats, rows of elements, the column plan,
the chart, the map grid, ASCII translation and theme colours."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from dropout_tui.tui.history import YScale, nice_ceiling
from dropout_tui.tui.widgets import glyphs
from dropout_tui.tui.widgets.boundary_map import grid_for, rows_needed
from dropout_tui.tui.widgets.layer_table import (
    COLUMNS,
    DROP,
    layer_text,
    visible_columns,
)
from dropout_tui.tui.widgets.loss_chart import (
    EMA_POINTS,
    GLYPHS,
    GLYPHS_ASCII,
    chart_text,
    ema,
    legend_text,
    tick_label,
    x_axis,
    x_position,
)
from dropout_tui.tui.numbers import MIN_WIDTH, fit, fmt, pct, prob, r2, steps
from dropout_tui.tui.widgets.rows import Part, fit_row
from dropout_tui.tui.widgets.run_column import (
    CHART_MIN,
    SUMMARY_ROWS,
    plan_column,
    scaled_text,
    summary_text,
)
from dropout_tui.tui.widgets.theme import MIN_CONTRAST, Roles, contrast, roles_for
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text

any_float = st.floats(allow_nan=True, allow_infinity=True)

# -- numbers --------------------------------------------------------------------------------------


@given(any_float, st.integers(MIN_WIDTH, 12), st.integers(0, 4))
def test_fit_fills_its_cell_exactly_for_any_float(x, width, decimals):
    assert len(fit(x, width, decimals)) == width


@given(st.floats(min_value=-1e307, max_value=1e307), st.integers(MIN_WIDTH, 10))
def test_fit_stays_honest_about_the_value(x, width):
    text = fit(x, width).strip()
    shown = float(text)
    # Never a non-zero value shown as zero, and never off by more than the digits shown allow.
    assert (shown == 0) == (x == 0)
    if x != 0:
        mantissa = text.split("e")[0]
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(text.split("e")[1]) if "e" in text else 0
        assert abs(shown - x) <= 0.51 * 10 ** (exponent - digits) * (1 + 1e-9) + 1e-12 * abs(x)


@given(st.one_of(st.just(0.0), st.floats(min_value=1e-99, max_value=9.4e99)))
def test_five_characters_hold_any_loss_norm_or_ratio(x):
    assert "#" not in fit(x, 5) and len(fit(x, 5)) == 5


@pytest.mark.parametrize("x, text", [(6.17e136, "6.17e136"), (1e-12, "1.00e-12"), (float("nan"), "nan"),
                                     (float("inf"), "inf"), (None, "—"), (0.2718, "0.272"), (27.95, "27.950")])
def test_fmt_names_each_kind_of_value(x, text):
    assert fmt(x) == text


@pytest.mark.parametrize("p, text", [(0.5, "0.50"), (0.05, "0.05"), (0.567, "0.567"), (0.001, "0.001"),
                                     (1e-6, "1e-6"), (0.9999, "0.9999"), (1.0, "1.00")])
def test_keep_prob_never_shows_as_zero_or_one_when_it_is_not(p, text):
    assert prob(p) == text


@given(st.floats(min_value=1e-300, max_value=1.0))
def test_prob_is_short_and_parses_back_near_p(p):
    text = prob(p)
    assert len(text) <= 8 and float(text) > 0
    assert abs(float(text) - p) <= max(5e-5, 0.006 * p) or text == "1.00" and p > 0.9999


def test_percent_and_step_labels():
    assert pct(1.0) == "100.0%" and pct(1.0, width=5) == "100%" and pct(0.898) == "89.8%"
    assert [steps(n) for n in (0, 500, 1500, 20000, 3e6)] == ["0", "500", "1.5k", "20k", "3M"]


# -- rows -----------------------------------------------------------------------------------------


def test_rows_drop_whole_parts_in_the_stated_order_and_never_cut_a_value():
    def parts():
        return [Part("a", [Text("alpha 1.234")], sep=""), Part("b", [Text("beta 5.678"), Text("b 5.678"), None]),
                Part("c", [Text("gamma 9.999"), None]), Part("k", [Text("keep 0.50")], right=True)]
    widths = {}
    for width in range(30, 60):
        text = fit_row(parts(), ["c", "b", "b"], width).plain
        assert len(text) <= width
        for value in ("1.234", "0.50"):
            assert value in text  # never dropped, never cut
        for piece in ("5.678", "9.999"):
            assert piece in text or piece[0] not in text.replace("0.50", "").replace("1.234", "")
        widths[width] = text
    assert "gamma" not in widths[40] and "beta 5.678" in widths[50]
    assert "gamma" in widths[59]


# -- the column plan ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(6, 70), st.integers(26, 120), st.integers(1, 8), st.sampled_from([None, True, False]),
       st.one_of(st.none(), st.floats(0.3, 3.0)))
def test_column_plan_fills_the_column_and_shows_a_map_only_when_legible(height, width, layers, wanted, aspect):
    plan = plan_column(height, width, layers, wanted, aspect)
    rest = height - SUMMARY_ROWS
    used = plan.chart + plan.legend + plan.table + plan.map
    assert used >= rest
    if rest >= CHART_MIN + 1:
        assert plan.chart + plan.legend + plan.table + plan.map == rest  # no blank rows
    assert plan.map == 0 or plan.map >= 8
    assert plan.map == 0 or aspect is not None and wanted is not False
    assert plan.map > 0 or plan.chart >= min(CHART_MIN, rest)
    assert plan.table != 1  # a header alone says nothing
    if plan.map and plan.chart:  # beside the curves: no more rows than the data's shape needs
        assert plan.map <= rows_needed(width, aspect)


def test_m_gives_the_maps_room_to_the_curves():
    shown = plan_column(30, 57, 2, None, 1.4)
    hidden = plan_column(30, 57, 2, False, 1.4)
    assert shown.map >= 8 and hidden.map == 0 and hidden.chart == shown.chart + shown.map


@given(st.integers(4, 200), st.integers(2, 80), st.floats(0.2, 5.0))
def test_the_map_grid_keeps_the_datas_aspect(width, height, aspect):
    cols, px_rows = grid_for(width, height, aspect)
    assert 1 <= cols <= width and 2 <= px_rows <= 2 * height and px_rows % 2 == 0
    # Half-block pixels are square: the grid's shape is the data's, to within a pixel's rounding.
    assert abs(cols / px_rows - aspect) <= aspect * (1 / px_rows + 1 / cols) + 1e-9 or cols == width == 1


# -- summary rows, layer table ----------------------------------------------------------------------


def _run(scale: float = 1.0, scaled: bool = True) -> dict:
    run = {"test_loss": 0.272 * scale, "test_acc": 0.898, "test_confidence": 0.861, "train_loss": 0.263 * scale,
           "train_acc": 1.0, "train_loss_dropout": 0.302 * scale,
           "layers": [{"name": f"h{i}", "mean_train": 0.18 * scale, "mean_pred": 0.17, "norm_train": 3.9 * scale,
                       "norm_pred": 2.8, "weight_norm": 10.6 * scale} for i in (1, 2)]}
    if scaled:
        run.update(test_loss_scaled=0.257 * scale, test_acc_scaled=0.903)
    return run


def _labels(text: Text) -> list[str]:
    return [line.split()[0] if line.strip() else "" for line in text.plain.split("\n")]


@pytest.mark.parametrize("scale", [1.0, 40.0, 6.17e136, float("nan")])
@pytest.mark.parametrize("width", [27, 28, 33, 37, 45, 57, 80])
def test_summary_rows_fit_and_both_columns_show_the_same_rows(scale, width):
    inverted, unrescaled = _run(scale, scaled=False), _run(1.0)
    for build in (summary_text, scaled_text):
        a, b = build(inverted, width), build(unrescaled, width)
        assert all(len(line) <= width for line in a.plain.split("\n") + b.plain.split("\n"))
        assert _labels(a) == _labels(b)
    # The same cells drop at a width whatever the values, so the columns line up.
    assert [len(x) for x in summary_text(inverted, width).plain.split("\n")] == \
           [len(x) for x in summary_text(unrescaled, width).plain.split("\n")]


def test_the_training_loss_with_dropout_shows_at_80_columns():
    assert "drop 0.302" in summary_text(_run(), 37).plain


@pytest.mark.parametrize("width", range(24, 90, 3))
def test_layer_table_drops_whole_columns(width):
    text = layer_text(_run(6.17e136), {"h1": [1.0, 0.9]}, width).plain
    assert all(len(line) <= width for line in text.split("\n"))
    shown, _ = visible_columns(width)
    assert {"mean", "ratio"} <= set(shown)
    dropped = {c.name for c in COLUMNS if c.name not in shown}
    in_order = [name for name in DROP if name != "spark"]
    assert dropped == set(in_order[:len(dropped)])  # in the stated order


@pytest.mark.parametrize("width", [37, 57, 80])
def test_the_ascii_layer_table_never_shows_a_pair_as_an_inequality(width):
    text = glyphs.cells(layer_text(_run(), {"h1": [1.0, 0.9]}, width, ascii_only=True).plain)
    assert text.isascii() and "train/pred" in text
    # "0.195>0.375" would read as a false "greater than"; train/pred is the ratio that follows.
    assert not re.search(r"\d>[\d.-]", text)
    assert re.search(r"\d/[\d.-]", text)


def test_a_short_layer_table_says_how_many_layers_it_leaves_out():
    run = _run()
    run["layers"] = run["layers"] * 3
    text = layer_text(run, {}, 37, max_rows=4).plain.split("\n")
    assert len(text) == 4 and text[-1].startswith("+4 more layers")


# -- the chart --------------------------------------------------------------------------------------


def test_ema_follows_the_values_and_skips_gaps():
    values = np.array([1.0, 1.0, math.nan, 3.0, 3.0, 3.0])
    out = ema(values)
    assert out[0] == 1.0 and math.isnan(out[2]) and 1.0 < out[3] < out[4] < out[5] < 3.0
    assert out[3] == pytest.approx(1.0 + 2 / (EMA_POINTS + 1) * 2.0)


def test_y_ticks_keep_their_width():
    for y in (0, 0.3, 0.15, 12, 1e-12, 6.17e136, 2.5e-4):
        label = tick_label(y)
        assert len(label) == 5 and (y == 0 or float(label) > 0)


@pytest.mark.parametrize("log_x", [False, True])
@pytest.mark.parametrize("plot_w", [12, 25, 31, 51, 110])
@pytest.mark.parametrize("last", [1, 30, 999, 3001, 420_000])
def test_the_step_axis_has_labels_that_never_overlap(log_x, plot_w, last):
    x_max = nice_ceiling(last)
    line = x_axis(x_max, plot_w, log_x, x_position(log_x, x_max), Roles()).plain
    assert len(line) == plot_w and line.startswith("0")
    labels = line.split()
    assert len(labels) >= 2 or plot_w < 16
    assert all(re.fullmatch(r"\d+(\.\d)?[kMG]?", label) for label in labels)


def _chart(mono: bool, glyph_set=GLYPHS, log_x=False, width=40, height=8) -> Text:
    steps = list(range(0, 3001, 100))
    series = {"train_loss_dropout": [0.5 + 0.1 * (i % 2) for i in range(len(steps))],
              "train_loss": [0.4] * len(steps), "test_loss": [0.4] * len(steps)}
    return chart_text(steps, series, YScale(0.0, 0.8, 1500.0), log_x, width, height, Roles(), mono, glyph_set)


def test_the_chart_has_y_ticks_a_step_axis_and_marks_overlapping_curves():
    lines = _chart(mono=True).plain.split("\n")
    assert len(lines) == 8 and all(len(line) == 40 for line in lines)
    assert lines[0].strip().startswith("0.8") and lines[-2].strip().startswith("0")
    assert lines[-1].startswith("steps 0") and "3k" in lines[-1]
    body = "".join(lines[:-1])
    assert "*" in body and "o" not in body  # train and test coincide: drawn as overlap
    assert "·" in body  # the smoothed dropout loss, apart from them


def test_ascii_chart_is_ascii():
    # The curves' glyphs are ASCII of their own; the axis goes through the widgets' translation.
    assert glyphs.text_cells(_chart(mono=True, glyph_set=GLYPHS_ASCII)).plain.isascii()


@pytest.mark.parametrize("width", [27, 37, 57, 80])
@pytest.mark.parametrize("log_x", [False, True])
def test_the_legend_names_the_smoothing_and_the_y_range_where_it_fits(width, log_x):
    rows = 1 if width >= 57 else 2
    text = legend_text(width, rows, Roles(), False, GLYPHS, YScale(0, 0.8, 1500.0), log_x).plain
    assert all(len(line) <= width for line in text.split("\n"))
    assert "train" in text and "test" in text
    if width >= 37:
        assert f"EMA {EMA_POINTS}" in text and ("log x" in text if log_x else "1.5k+" in text)


# -- ASCII and themes -------------------------------------------------------------------------------


def test_cells_keep_widths_and_prose_reads():
    text = "keep_prob 0.50 █████░░░░░ · h1 0.18→0.18 ×0.98 ‖W‖ ⠉⣿ ╭─╮"
    out = glyphs.cells(text)
    assert out.isascii() and len(out) == len(text)
    assert glyphs.prose("E‖·‖² grows ×2 — ÷p").isascii()
    styled = glyphs.text_cells(Text.assemble(("×p", "bold"), " at test"))
    assert styled.plain == "xp at test" and styled.spans[0].end == 2


@pytest.mark.parametrize("environ, flag, expected", [
    ({"TERM": "linux"}, False, True), ({"TERM": "xterm-256color"}, False, False), ({}, True, True),
    ({"TERM": "linux", glyphs.ENV: "0"}, False, False), ({"TERM": "xterm", glyphs.ENV: "1"}, False, True),
])
def test_ascii_mode_is_on_for_the_linux_console_and_by_choice(environ, flag, expected):
    assert glyphs.ascii_wanted(flag, environ) is expected


def test_roles_reach_the_contrast_target_on_a_pale_theme():
    from textual.color import Color

    variables = {"background": "#E0E0E0", "panel": "#D0D0D0", "surface": "#D8D8D8", "foreground": "#1F1F1F",
                 "success": "#4EBF71", "warning": "#FEA62B", "error": "#B93C5B", "accent": "#FEA62B",
                 "footer-background": "#D0D0D0", "footer-key-foreground": "#0178D4",
                 "footer-description-foreground": "#1F1F1F"}
    roles = roles_for(variables)
    for name, colour in roles.colours.items():
        need = 3.0 if name == "faint" else MIN_CONTRAST
        for surface in roles.surfaces[name]:
            assert contrast(colour, surface) >= need - 1e-9, name
    assert contrast(Color.parse("#FEA62B"), Color.parse("#E0E0E0")) < MIN_CONTRAST  # the raw hue would fail


def test_regression_curves_shrink_to_keep_the_layer_table():
    # 61×19: eight rows under the summary. The curves asked for keep the table whole (the
    # explanation quotes it) when they can shrink to their minimum; a fixed-aspect map cannot.
    kept = plan_column(11, 28, 2, True, 2.0, map_min=5, keep_table=True)
    assert (kept.map, kept.table, kept.chart) == (5, 3, 0)
    taken = plan_column(11, 28, 2, True, 2.0, map_min=5)
    assert taken.table == 0 and taken.map == 8
    too_short = plan_column(10, 28, 2, True, 2.0, map_min=5, keep_table=True)
    assert too_short.table == 0 and too_short.map == 7


@given(st.floats(-0.1, 1.0, allow_nan=False))
def test_an_r2_near_zero_shows_its_value_in_four_cells(x):
    text = r2(x)
    # A hair below zero is where the unrescaled run is about as good as predicting the mean:
    # that value, not a row of #s, must show.
    assert len(text) == 4 and "#" not in text
    shown = float(text.strip().replace("-.", "-0."))
    assert abs(shown - x) <= 0.0051 or abs(shown - x) <= 0.05 * abs(x)
    assert (shown < 0) == (x < 0) or shown == 0 or text.strip() == "-.00"


@pytest.mark.parametrize("sentence", [
    "Input dropout: inverted trains on inputs ×1.25 (1/q) whenever they are kept, so it misjudges their "
    "true size: where the class depends on that size, a network tuned to the enlarged inputs misreads them.",
    "Input dropout: inverted trains on inputs x1.25 (1/q) whenever they are kept, so it misjudges their "
    "true size: where the class depends on that size, a network tuned to the enlarged inputs misreads them.",
])
@pytest.mark.parametrize("width, lines", [(59, 2), (40, 3), (78, 1)])
def test_a_sentence_longer_than_the_panel_says_that_it_goes_on(sentence, width, lines):
    from dropout_tui.tui.widgets.explanation import fit as fit_panel

    shown = fit_panel([("why", sentence)], width, lines).plain.split("\n")
    assert len(shown) <= lines and all(len(line) <= width for line in shown)
    mark = "…" if not sentence.isascii() else "..."
    assert shown[-1].endswith(" " + mark)  # never a cut that reads as the sentence's end
    assert sentence.startswith(" ".join(" ".join(shown)[: -len(mark) - 1].split()))
