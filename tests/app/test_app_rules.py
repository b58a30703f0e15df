"""Pilot tests of the prediction-rules view (v) and the map's Monte-Carlo spread (u), worker off."""

from __future__ import annotations

import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.explain import PREDICTION_RULES, Context, explain
from dropout_tui.tui.widgets.explanation import Explanation
from dropout_tui.tui.widgets.boundary_map import BoundaryMap
from dropout_tui.tui.widgets.layer_table import LayerTable
from dropout_tui.tui.widgets.loss_chart import LossChart
from dropout_tui.tui.numbers import fit, pct
from dropout_tui.tui.widgets.rules_view import RulesView


def make(config: Config, steps: int = 300) -> DropoutApp:
    return DropoutApp(config, worker=False, paused=True, prerun=steps)


async def test_v_shows_the_rules_of_the_step_and_back(small_config):
    config = small_config(mc_max=20)
    app = make(config)
    async with app.run_test(size=(100, 33)) as pilot:
        assert not any(view.display for view in app.query(RulesView))
        await pilot.press("v")
        await pilot.pause()
        fresh = PairedExperiment(config)
        fresh.advance(300)
        want = fresh.snapshot(rules=True)
        for view in app.query(RulesView):
            col = view.parent
            assert view.display and not col.query_one(LayerTable).display and not col.query_one(LossChart).display
            text = view._text.plain
            rules = want["runs"][col.rule]["rules"]
            assert "at step 300" in text
            no_dropout = next(line for line in text.split("\n") if line.startswith("no dropout"))
            assert fit(rules["no_dropout"]["test_loss"], 5) in no_dropout
            assert pct(rules["no_dropout"]["test_acc"], width=5) in no_dropout
            dropout_on = next(line for line in text.split("\n") if line.startswith("dropout on"))
            assert fit(rules["dropout_on"]["predictive_std"], 5) in dropout_on
            if col.rule == "unrescaled":
                scaled = next(line for line in text.split("\n") if line.startswith("×p at test"))
                assert fit(rules["weight_scaling"]["test_loss"], 5) in scaled
        assert app.trainer.rules_wanted
        await pilot.press("v")
        await pilot.pause()
        assert not any(view.display for view in app.query(RulesView))
        assert all(table.display for table in app.query(LayerTable))
        assert not app.trainer.rules_wanted


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (61, 19), (100, 33)])
async def test_rules_view_fits_every_size(size):
    app = make(Config(), 500)
    async with app.run_test(size=size) as pilot:
        await pilot.press("v")
        await pilot.pause()
        for view in app.query(RulesView):
            assert view.display and view.size.height >= 8
            lines = view._text.plain.split("\n")
            assert len(lines) <= view.size.height
            assert all(len(line) <= view.size.width for line in lines), lines
            # Every rule has its row, and at least two Monte-Carlo rows.
            assert sum(line.startswith(("MC T=", "T=")) for line in lines) >= 2
            assert any(line.startswith(("dropout on", "drop on")) for line in lines)
        # The explanation speaks of the prediction rules first while they are shown.
        context = Context.of(app._last.config, app._last.arch, rules=app._last.rules, rules_first=True)
        shown = explain(app._snapshot, context)
        assert shown and shown[0].rule.id in PREDICTION_RULES
        words = " ".join(app.query_one(Explanation)._text.plain.split())
        assert " ".join(shown[0].text.split()[:5]) in words  # the long or the short form


async def test_u_switches_the_map_to_the_monte_carlo_spread(small_config):
    app = make(small_config(mc_max=10), 300)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        maps = list(app.query(BoundaryMap))
        assert maps and maps[0].display
        before = maps[0]._text.spans[:]
        await pilot.press("u")
        await pilot.pause()
        assert app.trainer.spread_wanted and app._spread is not None
        assert maps[0]._text.spans != before  # brightness from the spread, not the confidence
        await pilot.press("u")
        await pilot.pause()
        assert not app.trainer.spread_wanted
        assert maps[0]._text.spans == before
