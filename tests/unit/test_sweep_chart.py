"""The sweep chart: it fits its box, puts each mean where it belongs, and stays readable without
colour and in plain ASCII."""

from __future__ import annotations

import math

import pytest
from dropout_tui.core.sweep import RULE_NAMES, Stat, stat
from dropout_tui.tui.widgets.sweep_chart import (
    ASCII,
    COLOUR,
    MONO,
    chart_lines,
    choose_glyphs,
    rule_label,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def series_of(means: dict[str, list[float]], spread: float = 0.0) -> dict[str, list[Stat | None]]:
    return {rule: [stat([m - spread, m, m + spread]) for m in values] for rule, values in means.items()}


XS = [0.2, 0.4, 0.6, 0.8, 1.0]
MEANS = {"inverted": [0.30, 0.28, 0.27, 0.26, 0.25],
         "unrescaled": [0.60, 0.45, 0.35, 0.30, 0.25],
         "unrescaled_scaled": [0.40, 0.33, 0.29, 0.27, 0.25]}


@pytest.mark.parametrize("glyphs", [COLOUR, MONO, ASCII], ids=lambda g: g.name)
def test_the_chart_fills_its_box(glyphs):
    lines = chart_lines(XS, series_of(MEANS, 0.02), 70, 16, glyphs=glyphs, cursor=2, seeds=3)
    assert len(lines) == 16
    assert all(line.cell_len <= 70 for line in lines)


def test_a_higher_mean_is_drawn_higher():
    lines = chart_lines(XS, series_of(MEANS), 70, 20, glyphs=MONO)
    # At keep_prob 0.2 the unrescaled loss (0.60) is the highest, inverted (0.30) the lowest.
    def col(glyph):
        return [(i, line.plain.index(glyph)) for i, line in enumerate(lines) if glyph in line.plain[7:]]
    first_inverted = min(col("●"), key=lambda rc: rc[1])
    first_unrescaled = min(col("▲"), key=lambda rc: rc[1])
    assert first_unrescaled[0] < first_inverted[0]


# Every rule, far enough apart that no marker covers another's.
ALL_MEANS = {rule: [0.2 + 0.15 * k + 0.01 * i for i in range(len(XS))] for k, rule in enumerate(RULE_NAMES)}


@pytest.mark.parametrize("glyphs", [MONO, ASCII], ids=lambda g: g.name)
def test_without_colour_every_rule_has_its_own_glyphs(glyphs):
    n = len(RULE_NAMES)
    assert len(set(glyphs.markers[:n])) == n and len(set(glyphs.bands[:n])) == n
    lines = chart_lines(XS, series_of(ALL_MEANS, 0.05), 80, 30, glyphs=glyphs)
    axis = next(i for i, line in enumerate(lines) if line.plain[6:7] == glyphs.corner)
    plot = "".join(line.plain[7:] for line in lines[1:axis])
    for marker, band in zip(glyphs.markers[:n], glyphs.bands[:n]):
        assert marker in plot and band in plot
    # The legend wraps onto as many lines as it needs, never cutting an entry.
    legend = [line.plain for line in lines[axis + 2:]]
    assert len(legend) == 2 and all(len(line) <= 80 for line in legend)
    for marker, rule in zip(glyphs.markers, RULE_NAMES):
        assert sum(line.count(f"{marker} {rule_label(rule, glyphs)}") for line in legend) == 1


@settings(max_examples=50, deadline=None)
@given(width=st.integers(20, 160), height=st.integers(6, 40),
       values=st.lists(st.one_of(st.floats(1e-6, 1e6), st.just(math.nan), st.just(math.inf)), min_size=3, max_size=3),
       cursor=st.integers(0, 4))
def test_ascii_is_ascii_whatever_the_numbers(width, height, values, cursor):
    means = {rule: [v] * len(XS) for rule, v in zip(RULE_NAMES, values)}
    lines = chart_lines(XS, series_of(means, 0.1), width, height, glyphs=ASCII, cursor=cursor, seeds=5)
    text = "\n".join(line.plain for line in lines)
    assert all(ord(ch) < 128 for ch in text)
    assert len(lines) <= height and all(line.cell_len <= width for line in lines)


def test_a_loss_spanning_a_decade_is_drawn_on_a_log_scale():
    means = dict(MEANS, unrescaled=[9.0, 3.0, 1.0, 0.4, 0.25])
    title = chart_lines(XS, series_of(means), 70, 16, glyphs=MONO)[0].plain
    assert "log scale" in title
    assert "log scale" not in chart_lines(XS, series_of(MEANS), 70, 16, glyphs=MONO)[0].plain
    # accuracy never: it is bounded and near its top
    assert "log scale" not in chart_lines(XS, series_of(means), 70, 16, glyphs=MONO, metric="test_acc")[0].plain


def test_missing_points_leave_gaps():
    series = series_of(MEANS)
    series["inverted"][1] = None
    lines = chart_lines(XS, series, 70, 16, glyphs=MONO)
    assert sum(line.plain[7:].count("●") for line in lines[1:-1]) == len(XS) - 1


def test_the_linux_console_gets_ascii(monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    assert choose_glyphs() is ASCII
    monkeypatch.setenv("TERM", "xterm-256color")
    assert choose_glyphs(colour=False) is MONO and choose_glyphs() is COLOUR and choose_glyphs(ascii=True) is ASCII
