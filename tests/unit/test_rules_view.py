"""The rules view's text: every value of the evaluation in a whole cell, at every size; rows and
columns give way in their stated order."""

from __future__ import annotations

import pytest
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.numbers import fit
from dropout_tui.tui.widgets.rules_view import pick_ts, plan_rows, rules_text, visible_columns


@pytest.fixture(scope="module")
def snaps():
    from dropout_tui.core.config import Config
    out = {}
    for name, dataset, changes in (("moons", "moons", {}), ("sine", "sine", {}), ("capped", "moons", {"mc_max": 20})):
        config = Config.for_dataset(dataset, layers=(16, 16), test_size=100, **changes)
        exp = PairedExperiment(config)
        exp.advance(300)
        out[name] = exp.snapshot(rules=True)
    return out


@pytest.mark.parametrize("name", ["moons", "sine", "capped"])
@pytest.mark.parametrize("rule", ["inverted", "unrescaled"])
def test_every_size_fits_and_quotes_the_evaluation(snaps, name, rule):
    snap = snaps[name]
    rules = snap["runs"][rule]["rules"]
    for width in range(14, 90, 3):
        for height in range(1, 26):
            text = rules_text(snap, rule, snap["step"], snap["keep_prob"], width, height)
            lines = text.plain.split("\n")
            assert len(lines) <= height
            assert all(len(line) <= width for line in lines), (width, height, lines)
            cols, _ = visible_columns(width, "test_r2" in rules["no_dropout"])
            if height >= 3 and "loss" in cols:
                row = next(line for line in lines if line.startswith("no d"))
                assert fit(rules["no_dropout"]["test_loss"], 5) in row
            for line in lines:
                if line.startswith(("MC T=", "T=")):
                    t = int(line.split("=")[1].split()[0])
                    mc = next(m for m in rules["mc_dropout"] if m["T"] == t)
                    if "loss" in cols:
                        assert fit(mc["test_loss"], 5) in line


def test_the_view_says_how_old_the_evaluation_is(snaps):
    snap = snaps["moons"]
    current = rules_text(snap, "inverted", snap["step"], snap["keep_prob"], 40, 13).plain
    behind = rules_text(snap, "inverted", snap["step"] + 250, snap["keep_prob"], 40, 13).plain
    pending = rules_text(snap, "inverted", snap["step"], 0.8, 60, 13).plain
    assert "behind" not in current and "250 steps behind" in behind
    assert "keep_prob 0.80 from next step" in pending
    assert "pending" in rules_text(snap, "inverted", snap["step"], 0.8, 27, 13).plain
    assert "evaluating" in rules_text(None, "inverted", 0, 0.5, 40, 13).plain
    # Narrower, the lag shortens to "250 behind" (never a minus number that reads as a value) or goes.
    shown = set()
    for width in range(14, 60):
        line = rules_text(snap, "inverted", snap["step"] + 250, snap["keep_prob"], width, 13).plain.split("\n")[0]
        assert "-250" not in line and ("250" not in line or "250 behind" in line or "250 steps behind" in line), line
        shown.add("250 steps behind" if "250 steps behind" in line else "250 behind" if "250" in line else "")
    assert shown == {"250 steps behind", "250 behind", ""}


def test_rows_and_chart_share_the_height():
    assert plan_rows(12, 8) == (2, 5)  # 80×24: two Monte-Carlo rows and the smallest chart
    assert plan_rows(25, 8) == (8, 12)
    assert plan_rows(9, 8) == (4, 0)  # no room for a chart: every row to the ladder
    mc, chart = plan_rows(20, 8)
    assert 5 + mc + chart == 20 and chart >= 5


def test_condensed_ladder_keeps_srivastavas_k_and_the_most_passes():
    ladder = [1, 2, 5, 10, 20, 50, 100, 200]
    assert pick_ts(ladder, 2) == [50, 200]
    assert pick_ts(ladder, 3) == [5, 50, 200]
    assert pick_ts(ladder, 8) == ladder
    assert pick_ts([1, 2, 5, 10, 20], 2) == [5, 20]  # capped by --mc-max: its largest T stays


def test_chart_marks_an_off_chart_reference_and_draws_the_curve(snaps):
    snap = snaps["moons"]
    text = rules_text(snap, "unrescaled", snap["step"], snap["keep_prob"], 40, 14, mono=True).plain
    lines = text.split("\n")
    assert any(line.startswith("T ") for line in lines)
    assert sum(line.count("o") for line in lines if "┤" in line or "│" in line) >= 3
