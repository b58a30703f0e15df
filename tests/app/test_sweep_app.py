"""The ``sweep --tui`` view under a pilot: it fills in as results arrive, the cursor prints the exact
numbers at its keep_prob, ``m`` switches the metric, ``s`` saves an SVG, Enter picks the point to open."""

from __future__ import annotations

import asyncio

from dropout_tui.core.sweep import InProcess, summarize
from dropout_tui.tui.sweep_app import SweepApp, SweepRunner
from dropout_tui.tui.sweep_cmd import Sweep, exact, parse
from dropout_tui.tui.widgets.sweep_chart import MONO
from textual.widgets import Static

ARGS = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--steps", "20", "--checkpoints", "2",
        "--keep-probs", "0.25:1:0.25", "--seeds", "2"]


def finished_sweep() -> Sweep:
    sweep = Sweep(parse(ARGS))
    runner = SweepRunner(sweep, InProcess())
    runner.start()
    runner.wait()
    runner.stop()
    assert len(sweep.results) == 8
    return sweep


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def chart_text(app) -> str:
    from dropout_tui.tui.widgets.sweep_chart import SweepChart

    return str(app.query_one(SweepChart).render())


async def test_the_view_fills_in_as_results_arrive():
    sweep = Sweep(parse(ARGS))
    runner = SweepRunner(sweep, InProcess())
    app = SweepApp(runner, glyphs=MONO)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        assert "0/8 tasks" in text_of(app, "#status") and chart_text(app).count("●") == 1  # the legend's
        runner.start()
        for _ in range(200):
            await asyncio.sleep(0.05)
            if "done" in text_of(app, "#status"):
                break
        await pilot.pause()
        assert "8/8 tasks" in text_of(app, "#status") and "done" in text_of(app, "#status")
        assert chart_text(app).count("●") == 4 + 1  # a marker per keep_prob, and the legend's
    runner.stop()


async def test_the_cursor_prints_the_exact_values_at_its_keep_prob(tmp_path):
    sweep = finished_sweep()
    app = SweepApp(SweepRunner(sweep, None), glyphs=MONO, screenshot_dir=tmp_path, cursor=0)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        assert "keep_prob 0.25 " in text_of(app, "#values")
        await pilot.press("right", "right")
        values = text_of(app, "#values")
        assert "keep_prob 0.75 " in values
        stats = summarize(sweep.ordered(), "test_loss")[(0.75, 1.0)]
        u = stats["unrescaled"]
        assert f"loss {exact(u.mean)} ±{u.std:.4f}" in values and "." in exact(u.mean)
        # A row per rule, the Monte-Carlo ones too, each with both metrics.
        mc = summarize(sweep.ordered(), "test_acc")[(0.75, 1.0)]["unrescaled_mc"]
        row = next(line for line in values.splitlines() if line.startswith("unrescaled, MC "))
        assert f"acc {exact(mc.mean)} ±{mc.std:.4f}" in row and row.endswith("n 2/2")
        await pilot.press("right", "right", "right")  # stops at the last keep_prob
        assert "keep_prob 1 " in text_of(app, "#values") and app.cursor == 3

        assert "test loss" in chart_text(app)
        await pilot.press("m")
        assert "test accuracy" in chart_text(app) and app.metric == "test_acc"

        await pilot.press("s")
        await pilot.pause()
        shots = list(tmp_path.glob("*.svg"))
        assert len(shots) == 1 and shots[0].read_text().startswith("<svg") and "keep_prob" in shots[0].read_text()

        await pilot.press("down")
        await pilot.press("left", "enter")
    assert app.choice == (0.75, 1)


async def test_q_leaves_without_a_choice():
    app = SweepApp(SweepRunner(finished_sweep(), None), glyphs=MONO)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.choice is None and app.signum is None


async def test_the_values_panel_fits_any_window_and_leaves_the_chart_its_rows():
    sweep = finished_sweep()
    for size in ((61, 19), (70, 16), (80, 24), (120, 40)):
        app = SweepApp(SweepRunner(sweep, None), glyphs=MONO, cursor=1)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            lines = text_of(app, "#values").splitlines()
            width, height = size
            assert all(len(line) <= width - 2 for line in lines), (size, lines)
            room = height - 2 - 10
            assert len(lines) <= room, (size, lines)
            if room >= 9:  # header, seven rules, the seed's line
                assert lines[0].startswith("keep_prob 0.5 ") and "MC: T = 50" in lines[0]
                assert "n 2/2" in lines[1] and lines[-1].startswith("seed 0 test loss: inverted ")
            else:  # the point and the seed stay on top; rule rows go from the end, counted
                assert lines[0] == "keep_prob 0.5 · seed 0 · MC: T = 50"
                if room < 8:
                    assert lines[-1].startswith(f"… {7 - (room - 2)} more rules")


async def test_the_seed_line_follows_the_metric():
    sweep = finished_sweep()
    app = SweepApp(SweepRunner(sweep, None), glyphs=MONO, cursor=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        own = next(r for r in sweep.ordered() if r["keep_prob"] == 0.5 and r["seed"] == 0)
        for metric, label in (("test_loss", "test loss"), ("test_acc", "test accuracy"), ("test_loss", "test loss")):
            assert app.metric == metric and label in chart_text(app)
            seed_line = text_of(app, "#values").splitlines()[-1]
            value = own["final"]["inverted"][metric]
            assert seed_line.startswith(f"seed 0 {label}: inverted {value:.3f}"), seed_line
            await pilot.press("m")


def test_enter_opens_the_live_app_with_the_launch_warm_up(monkeypatch):
    from dropout_tui.tui import sweep_app
    from dropout_tui.tui.app import WARMUP_SPEED, WARMUP_STEPS, DropoutApp

    opened = []

    def run(app, *args, **kwargs):  # the app as it would start, without a terminal
        opened.append((app._warmup, app.trainer.speed, app.trainer.exp.keep_prob))

    monkeypatch.setattr(DropoutApp, "run", run)
    monkeypatch.setattr(sweep_app.SIGNALS, "reinstall", lambda: None)  # leave pytest's handlers alone
    assert sweep_app._live_app(finished_sweep(), 0.5, 1) == 0
    assert opened == [(list(WARMUP_STEPS), WARMUP_SPEED, 0.5)]
