"""core.curves: both runs' outputs on a grid of inputs for the regression curve view, and the heat
map's value levels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_tui.core.config import Config
from dropout_tui.core.curves import CurveGrid, interval
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.widgets.curve_view import frame, render
from dropout_tui.tui.widgets.value_map import LEVELS, RAMP, _render_mono, levels


def sine(steps: int = 200, **changes) -> PairedExperiment:
    exp = PairedExperiment(Config.for_dataset("sine", train_size=20, test_size=40, **changes))
    exp.advance(steps)
    return exp


def test_curves_are_the_networks_outputs_on_the_grid():
    exp = sine()
    curves = CurveGrid(exp, 33, passes=10).compute()
    lo, hi = interval(exp.data)
    assert curves.x[0] == pytest.approx(lo) and curves.x[-1] == pytest.approx(hi)
    np.testing.assert_allclose(curves.true, np.sin(np.pi * curves.x))
    for rule, run in exp.runs.items():
        ws = run.net.workspace(33)
        z = run.net.forward(ws, curves.x.reshape(-1, 1), [None] * 3)
        np.testing.assert_allclose(curves.runs[rule].pred, z[:, 0])
    # ×p at test: each dropped layer's output times keep_prob, for the unrescaled run only.
    net = exp.runs["unrescaled"].net
    W, b = net.W, net.b
    h = np.maximum(curves.x.reshape(-1, 1) @ W[0] + b[0], 0) * exp.keep_prob
    h = np.maximum(h @ W[1] + b[1], 0) * exp.keep_prob
    np.testing.assert_allclose(curves.runs["unrescaled"].scaled, (h @ W[2] + b[2])[:, 0], rtol=1e-10)
    assert curves.runs["inverted"].scaled is None


def test_monte_carlo_is_seeded_by_step_and_touches_no_training_stream():
    a, b = sine(), sine()
    grid = CurveGrid(a, 17, passes=8)
    first, again = grid.compute(), grid.compute()
    np.testing.assert_array_equal(first.runs["inverted"].mc_mean, again.runs["inverted"].mc_mean)
    assert np.all(first.runs["unrescaled"].mc_std > 0)
    a.advance(5)
    b.advance(5)
    for rule in a.runs:
        np.testing.assert_array_equal(a.runs[rule].net.flat_params, b.runs[rule].net.flat_params)


def test_monte_carlo_mean_and_std_are_those_of_the_passes():
    exp = sine()
    grid = CurveGrid(exp, 11, passes=6)
    curves = grid.compute()
    outs = grid._outs["inverted"][:6]
    np.testing.assert_allclose(curves.runs["inverted"].mc_mean, outs.mean(axis=0))
    np.testing.assert_allclose(curves.runs["inverted"].mc_std, outs.std(axis=0))


def test_keep_prob_one_gives_no_scaled_curve_and_no_monte_carlo():
    exp = sine(keep_prob=1.0)
    curves = CurveGrid(exp, 9).compute()
    assert curves.passes == 0
    np.testing.assert_array_equal(curves.runs["inverted"].pred, curves.runs["unrescaled"].pred)
    assert all(r.scaled is None and r.mc_mean is None for r in curves.runs.values())


def test_classification_and_two_features_are_refused():
    with pytest.raises(ValueError):
        CurveGrid(PairedExperiment(Config(train_size=20, test_size=20)), 10)
    with pytest.raises(ValueError):
        CurveGrid(PairedExperiment(Config.for_dataset("saddle", train_size=20, test_size=20)), 10)


def test_the_frame_holds_the_targets_and_both_columns_draw_in_it():
    exp = sine(400)
    curves = CurveGrid(exp, 40, passes=5).compute()
    lo, hi = frame(curves)
    assert lo <= curves.y_train.min() and hi >= curves.y_train.max()
    for rule in ("inverted", "unrescaled"):
        text = render(curves, rule, 25, 9, colour=False, braille=False).plain
        lines = text.split("\n")
        assert len(lines) == 9 and all(len(line) <= 25 for line in lines)
        assert "*" in text  # the prediction


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=40), st.floats(-3, 0), st.floats(0.1, 3))
def test_value_levels_never_decrease_with_the_value(values, lo, span):
    v = np.sort(np.array(values))
    lv = levels(v, lo, lo + span)
    assert np.all(np.diff(lv) >= 0)
    assert lv.min() >= -1 and lv.max() <= LEVELS
    chars = _render_mono(lv.reshape(1, -1)).plain
    density = ["<", *RAMP, ">"]
    assert [density.index(c) for c in chars] == sorted(density.index(c) for c in chars)
