"""The decision map's Monte-Carlo spread (``core.prediction.MCSpreadGrid``): the standard deviation
over stochastic passes of the predicted probability at each grid point, from the Monte-Carlo
stream of the step."""

from __future__ import annotations

import numpy as np
import pytest
from dropout_tui.core.boundary import BoundaryGrid
from dropout_tui.core.dropout import draw_mask
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.prediction import MCSpreadGrid, mc_generator


def _reference(exp, points, passes):
    """The same spread the plain way: every pass's probabilities kept, then np.std."""
    rng = mc_generator(exp)
    n = points.shape[0]
    widths = [exp.data.n_features, *exp.config.layers]
    probs = {rule: [] for rule in exp.runs}
    for _ in range(passes):
        masks = []
        for w, p in zip(widths, exp.site_keep_probs):
            u, m, s = np.empty((n, w), np.float32), np.empty((n, w)), np.empty((n, w))
            if p < 1.0:
                draw_mask(rng, p, u, m, s)
                masks.append((m, s))
            else:
                masks.append(None)
        for rule, run in exp.runs.items():
            mults = [None if ms is None else (ms[1] if rule == "inverted" else ms[0]) for ms in masks]
            ws = run.net.workspace(n)
            run.net.forward(ws, points, mults)
            probs[rule].append(run.net.probabilities(ws).copy())
    out = {}
    for rule, ps in probs.items():
        stack = np.stack(ps)  # (passes, n, k)
        std = stack.std(axis=0)
        if std.shape[1] == 1:
            out[rule] = std[:, 0]
        else:
            pred = stack.mean(axis=0).argmax(axis=1)
            out[rule] = std[np.arange(n), pred]
    return out


@pytest.mark.parametrize("changes", [{}, {"dataset": "spiral"}, {"input_keep_prob": 0.7}])
def test_spread_is_the_std_over_passes(small_config, changes):
    exp = PairedExperiment(small_config(**changes))
    exp.advance(60)
    grid = BoundaryGrid(exp, 9, 7)
    got = MCSpreadGrid(exp, grid.points, passes=6).compute()
    want = _reference(exp, grid.points, 6)
    for rule in exp.runs:
        np.testing.assert_allclose(got[rule], want[rule], rtol=1e-9, atol=1e-12)
        assert (got[rule] > 0).any()


def test_spread_is_zero_without_dropout_and_the_same_however_often_taken(small_config):
    exp = PairedExperiment(small_config(keep_prob=1.0))
    exp.advance(20)
    grid = BoundaryGrid(exp, 6, 5)
    spread = MCSpreadGrid(exp, grid.points, passes=4).compute()
    assert all(np.abs(s).max() < 1e-12 for s in spread.values())  # rounding of the running sum only

    exp = PairedExperiment(small_config())
    exp.advance(20)
    grid = BoundaryGrid(exp, 6, 5)
    maker = MCSpreadGrid(exp, grid.points, passes=4)
    first = {k: v.copy() for k, v in maker.compute().items()}
    exp.snapshot(rules=True)  # other Monte-Carlo work at the same step
    again = maker.compute()
    for rule in exp.runs:
        assert (first[rule] == again[rule]).all()


def test_bad_points_are_refused(small_config):
    exp = PairedExperiment(small_config())
    with pytest.raises(ValueError, match="points"):
        MCSpreadGrid(exp, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="passes"):
        MCSpreadGrid(exp, np.zeros((4, 2)), passes=0)
