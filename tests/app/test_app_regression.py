"""Pilot tests of the regression screen: the prediction curves for a 1-D set, the heat map of the
predicted value for a 2-D set, the rows that replace accuracy, and the dataset key between them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from dropout_tui.core.config import Config
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.widgets.boundary_map import BoundaryMap
from dropout_tui.tui.widgets.curve_view import CurveView
from dropout_tui.tui.widgets.run_column import RunColumn
from dropout_tui.tui.widgets.status_bar import StatusBar
from dropout_tui.tui.widgets.value_map import ValueMap


def shown_map(app) -> type | None:
    """The class of the map the inverted column shows (None: no map)."""
    col = app.query_one("#col-inverted", RunColumn)
    for cls, selector in ((BoundaryMap, ".boundary"), (CurveView, ".curve"), (ValueMap, ".values")):
        if col.query_one(selector).display:
            return cls
    return None


def regression_app(dataset: str, **changes) -> DropoutApp:
    config = Config.for_dataset(dataset, **changes)
    return DropoutApp(config, worker=False, paused=True, prerun=300)


@pytest.mark.parametrize("size", [(80, 24), (61, 19), (100, 33), (120, 40)])
async def test_sine_shows_the_prediction_curves_with_a_legend(size):
    app = regression_app("sine")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert shown_map(app) is CurveView
        for rule in ("inverted", "unrescaled"):
            view = app.query_one(f"#col-{rule}").query_one(CurveView)
            lines: list[str] = []
            for _ in range(80):  # the curves for the final size follow a resize once it settles
                lines = view._text.plain.split("\n") if view._text is not None else []
                if len(lines) == view.size.height:
                    break
                await pilot.pause(0.05)
            assert len(lines) == view.size.height  # every row used: no blank rows below
            assert any(0x2800 < ord(ch) <= 0x28FF for ch in view._text.plain)  # a braille curve
            legend = lines[-1]
            assert "pred" in legend
            assert ("×p" in legend) == (rule == "unrescaled")


async def test_m_hides_the_curves_and_brings_them_back():
    app = regression_app("sine")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert shown_map(app) is CurveView
        await pilot.press("m")
        await pilot.pause()
        assert shown_map(app) is None
        await pilot.press("m")
        await pilot.pause()
        assert shown_map(app) is CurveView


async def test_saddle_shows_a_heat_map_of_the_predicted_value_with_its_scale():
    app = regression_app("saddle")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert shown_map(app) is ValueMap
        view = app.query_one("#col-unrescaled").query_one(ValueMap)
        text = view._text.plain
        assert "▀" in text and "predicted value" in text.split("\n")[-1]


async def test_saddle_without_colour_shows_value_by_character_density(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = regression_app("saddle")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one("#col-inverted").query_one(ValueMap)
        rows = [line for line in view._text.plain.split("\n")[:-1] if line.strip()]
        grid = [line.strip() for line in rows]
        ramp = "".join(ch for ch in " .:-=+*#")
        # A saddle x1² − x2²: high at the middle of the left and right edges, low at the middle of
        # the top and bottom ones — denser characters for the higher value.
        mid, centre = grid[len(grid) // 2], len(grid[0]) // 2
        assert ramp.index(mid[0]) > ramp.index(grid[0][centre])
        assert ramp.index(mid[-1]) > ramp.index(grid[-1][centre])
        assert len(set("".join(grid))) >= 3


async def test_regression_rows_show_mse_r2_and_spread_never_accuracy():
    app = regression_app("sine")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        runs = app._snapshot["runs"]
        for rule in ("inverted", "unrescaled"):
            col = app.query_one(f"#col-{rule}")
            summary = col.query_one(".summary")._text.plain
            assert "MSE" in summary and "R²" in summary and "spread" in summary
            assert "acc" not in summary and "conf" not in summary
            spread = f"{runs[rule]['test_spread']:.3g}"
            assert spread.rstrip("0").rstrip(".") in summary or spread in summary
        scaled = app.query_one("#col-unrescaled").query_one(".scaled")._text.plain
        assert "MSE" in scaled and "spread" in scaled and "acc" not in scaled
        inverted_scaled = app.query_one("#col-inverted").query_one(".scaled")._text.plain
        assert "not needed" in inverted_scaled


async def test_d_cycles_through_curves_heat_map_and_boundary_and_back(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = {}
        for _ in range(7):
            await pilot.press("d")
            await pilot.press("n")
            await pilot.pause()
            seen[app.trainer.exp.config.dataset] = shown_map(app)
        assert seen["sine"] is CurveView
        assert seen["saddle"] is ValueMap
        assert seen["moons"] is BoundaryMap and seen["spiral"] is BoundaryMap
        assert app.trainer.exp.config.dataset == "moons"  # round the cycle and back


async def test_the_curves_come_from_the_worker_for_the_views_width():
    app = regression_app("sine")
    async with app.run_test(size=(100, 33)) as pilot:
        await pilot.pause()
        view = app.query_one("#col-inverted").query_one(CurveView)
        curves = view._curves
        assert curves is not None
        assert len(curves.x) == view.grid_shape[0]
        net = app.trainer.exp.runs["inverted"].net
        ws = net.workspace(len(curves.x))
        z = net.forward(ws, curves.x.reshape(-1, 1), [None] * (len(net.hidden) + 1))
        np.testing.assert_allclose(curves.runs["inverted"].pred, z[:, 0])
        assert curves.runs["inverted"].scaled is None and curves.runs["unrescaled"].scaled is not None


async def test_keep_prob_one_draws_no_scaled_curve_and_no_band():
    app = regression_app("sine", keep_prob=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for rule in ("inverted", "unrescaled"):
            legend = app.query_one(f"#col-{rule}").query_one(CurveView)._text.plain.split("\n")[-1]
            assert "×p" not in legend and "MC" not in legend


def test_regression_app_config_keeps_the_presets():
    # The tests above run sine at its presets (lr 0.05), as the app launches it.
    assert dataclasses.asdict(Config.for_dataset("sine"))["lr"] == 0.05


def price_file(path, features: int) -> str:
    """Prices around 50,000 from ``features`` features: a target the network fits standardised."""
    r = np.random.default_rng(1)
    x = r.uniform(-3, 3, (120, features))
    y = 50_000 + 20_000 * np.sin(x[:, 0]) + r.normal(0, 2_000, 120)
    rows = "".join(",".join(f"{v:.4f}" for v in (*xi, yi)) + "\n" for xi, yi in zip(x, y))
    path.write_text(",".join([*(f"x{j}" for j in range(features)), "price"]) + "\n" + rows)
    return str(path)


def csv_regression_app(path: str) -> DropoutApp:
    return DropoutApp(Config.for_dataset("csv", data=path, task="regression"), worker=False, paused=True,
                      prerun=300)


async def test_a_csv_target_is_named_standardised_and_the_curves_axis_is_in_its_units(tmp_path):
    app = csv_regression_app(price_file(tmp_path / "p.csv", 1))
    async with app.run_test(size=(100, 33)) as pilot:
        await pilot.pause()
        assert "p.csv · price standardised" in app.query_one(StatusBar)._text.plain
        scale = app.trainer.exp.data.target_scale
        view = app.query_one("#col-inverted").query_one(CurveView)
        for _ in range(40):
            if view._curves is not None:
                break
            await pilot.pause(0.05)
        lines = view._text.plain.split("\n")
        top, bottom = lines[0].split("┤")[0].strip(), lines[-2].split("┤")[0].strip()
        # the axis ends in price units around the targets (tens of thousands), not standardised ones
        lo, hi = float(bottom), float(top)
        y = scale.to_units(app.trainer.exp.data.y_train)
        assert lo <= y.min() < y.max() <= hi and hi > 10_000
        # the curves themselves are the network's outputs, on the standardised scale
        assert abs(float(view._curves.y_train.mean())) < 1e-9


async def test_a_csv_heat_map_scale_is_in_the_targets_units(tmp_path):
    app = csv_regression_app(price_file(tmp_path / "p2.csv", 2))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert shown_map(app) is ValueMap
        legend = app.query_one("#col-inverted").query_one(ValueMap)._text.plain.split("\n")[-1]
        y = app.trainer.exp.data.target_scale.to_units(app.trainer.exp.data.y_train)
        numbers = [w for w in legend.split() if w.replace(".", "").isdigit()]
        assert numbers[:2] == [f"{y.min():.0f}", f"{y.max():.0f}"]


async def test_a_built_in_set_says_nothing_about_standardising():
    app = regression_app("sine")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "standardised" not in app.query_one(StatusBar)._text.plain
