"""Pilot tests: every key of the app, with the worker off so each key's effect is deterministic."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from dropout_tui.core.config import Config
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.trainer import SPEEDS
from dropout_tui.tui.widgets.help_screen import READING, HelpScreen
from dropout_tui.tui.widgets.status_bar import StatusBar
from rich.console import Console


@pytest.fixture
def make_app(small_config):
    """An app on the small config with the worker off, paused after 50 steps (each option overridable)."""
    def make(tmp_path=None, **kwargs) -> DropoutApp:
        options = dict(worker=False, paused=True, prerun=50)
        options.update(kwargs)
        return DropoutApp(small_config(), screenshot_dir=tmp_path or ".", **options)
    return make


def status_text(app) -> str:
    return app.query_one(StatusBar)._text.plain


@pytest.mark.parametrize("key, expected", [
    ("plus", 0.55), ("up", 0.55), ("minus", 0.45), ("down", 0.45),
    ("right", 0.51), ("shift+up", 0.51), ("left", 0.49), ("shift+down", 0.49),
])
async def test_keep_prob_keys_change_both_runs_and_the_status(make_app, key, expected):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert app.keep_prob == pytest.approx(expected)
        assert app.trainer.exp.keep_prob == pytest.approx(expected)
        assert f"keep_prob {expected:.2f}" in status_text(app)


async def test_keep_prob_is_clamped_to_its_range(small_config):
    app = DropoutApp(small_config(keep_prob=0.95), worker=False, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            await pilot.press("plus")
        assert app.trainer.exp.keep_prob == 1.0
        for _ in range(30):
            await pilot.press("minus")
        assert app.trainer.exp.keep_prob == pytest.approx(0.05)


async def test_space_pauses_and_resumes(make_app):
    app = make_app(paused=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        assert app.paused and app.trainer.paused
        assert "paused" in status_text(app)
        await pilot.press("space")
        assert not app.paused and not app.trainer.paused
        assert "running" in status_text(app)


async def test_n_steps_once_only_while_paused(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.trainer.exp.step
        await pilot.press("n")
        assert app.trainer.exp.step == before + 1
        assert f"step {before + 1:,}" in status_text(app)
        await pilot.press("space")  # running now: n is refused with a hint
        await pilot.press("n")
        assert app.trainer.exp.step == before + 1


async def test_r_resets_to_the_seeded_initial_weights(make_app):
    app = make_app(prerun=40)
    fresh = make_app(prerun=0).trainer.exp
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("minus")
        await pilot.press("r")
        exp = app.trainer.exp
        assert exp.step == 0
        assert exp.keep_prob == pytest.approx(0.45)  # reset keeps the chosen keep_prob
        for a, b in zip(exp.runs["inverted"].net.params, fresh.runs["inverted"].net.params):
            assert np.array_equal(a, b)
        assert app.history.runs["inverted"].steps == [0]


async def test_brackets_change_speed_within_range(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.speed is None  # max
        await pilot.press("left_square_bracket")
        assert app.trainer.speed == SPEEDS[-2]
        assert "speed 1000/s" in status_text(app)
        for _ in range(len(SPEEDS) + 2):
            await pilot.press("left_square_bracket")
        assert app.trainer.speed == SPEEDS[0]
        for _ in range(len(SPEEDS) + 2):
            await pilot.press("right_square_bracket")
        assert app.trainer.speed is None


async def test_d_switches_dataset_and_keeps_keep_prob(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("minus")
        await pilot.press("d")
        assert app.trainer.exp.config.dataset == "circles"
        assert app.trainer.exp.keep_prob == pytest.approx(0.45)
        assert app.trainer.exp.step == 0
        assert status_text(app).startswith("circles")


async def test_d_cycles_through_every_dataset_including_three_classes(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        seen = []
        for _ in range(7):
            await pilot.press("d")
            await pilot.press("n")
            seen.append(app.trainer.exp.config.dataset)
        assert sorted(seen) == sorted(["circles", "xor", "spiral", "blobs", "sine", "saddle", "moons"])


@pytest.mark.parametrize("size", [(60, 18), (80, 24)])
async def test_s_saves_an_svg_and_says_where_on_a_line_of_its_own(make_app, tmp_path, size):
    deep = tmp_path / ("a-rather-long-directory-name-" * 3) / "screens"
    app = make_app(deep)
    async with app.run_test(size=size) as pilot:
        await pilot.press("s")
        await pilot.pause()
        files = list(deep.glob("*.svg"))
        assert len(files) == 1 and files[0].read_text().startswith("<svg")
        assert re.fullmatch(r"dropout-tui-screenshot-\d{8}-\d{6}\.svg", files[0].name)  # export_name's scheme
        message = [n.message for n in app._notifications][-1]
        name_line = message.splitlines()[-1]
        # The path on its own line, shortened in the middle to the notice's width, the name whole.
        assert name_line.endswith(files[0].name) and len(name_line) <= min(60, int(size[0] * 0.9)) - 4


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_screen_lists_every_binding_and_closes(make_app, key):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200)
        with console.capture() as captured:
            for widget in app.screen.query("Static"):
                console.print(widget.content)
        text = " ".join(captured.get().split())
        for binding in app.BINDINGS:
            assert " ".join(binding.tooltip.split()) in text
        # The reading guide as written: no bracketed word taken for markup and dropped.
        assert " ".join(READING.split()) in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_code in (0, None)
    assert not app.is_running


async def test_command_palette_offers_the_actions(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Pause or resume training" in titles
        assert "Switch to the next dataset and restart" in titles


@pytest.mark.parametrize("size", [(40, 12), (59, 17), (60, 18), (80, 24), (120, 40), (200, 60)])
async def test_every_size_renders_without_error(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("plus", "n", "question_mark", "escape", "d", "r")
        await pilot.pause()
        small = app.screen.has_class("-too-small")
        assert small == (size[0] < 60 or size[1] < 18)


async def test_a_diverged_run_is_shown_and_the_other_keeps_training():
    # A huge learning rate: the inverted run, whose training activations are larger (÷p), blows up
    # within a few steps while the unrescaled one is still finite.
    config = Config(layers=(16, 16), train_size=60, test_size=60, lr=1e6, keep_prob=0.3, eval_every=5)
    app = DropoutApp(config, worker=False, paused=True, prerun=50)
    async with app.run_test(size=(80, 24)) as pilot:
        before = [p.copy() for p in app.trainer.exp.runs["unrescaled"].net.params]
        await pilot.press("n")
        runs = app._snapshot["runs"]
        assert runs["inverted"]["diverged"] and not runs["unrescaled"]["diverged"]
        assert "inverted diverged" in status_text(app)
        assert app.query_one("#col-inverted").has_class("diverged")
        assert not app.query_one("#col-unrescaled").has_class("diverged")
        after = app.trainer.exp.runs["unrescaled"].net.params
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_history_thins_out_but_keeps_the_newest_snapshot():
    from dropout_tui.tui.history import MAX_SNAPSHOTS, History

    history = History()
    snap = {"runs": {rule: {"test_loss": 0.5, "layers": []} for rule in ("inverted", "unrescaled")}}
    for step in range(1, 3 * MAX_SNAPSHOTS):
        history.add({**snap, "step": step})
    steps = history.runs["inverted"].steps
    assert len(steps) <= MAX_SNAPSHOTS
    assert steps[-1] == 3 * MAX_SNAPSHOTS - 1 and steps == sorted(steps)
    assert history.y_scale().high >= 0.5 and history.y_scale(log_x=True).high >= 0.5


@pytest.mark.parametrize("size, chart_shown", [((80, 24), False), ((120, 40), True)])
async def test_m_toggles_the_decision_boundary_map(make_app, size, chart_shown):
    from dropout_tui.tui.widgets.boundary_map import BoundaryMap
    from dropout_tui.tui.widgets.loss_chart import LossChart

    app = make_app()
    async with app.run_test(size=size) as pilot:
        map_before = app.query_one(BoundaryMap).display
        await pilot.press("m")
        await pilot.pause()
        boundary = app.query_one(BoundaryMap)
        assert boundary.display != map_before
        assert app.query_one(LossChart).display == chart_shown
        if boundary.display:
            assert "▀" in boundary._text.plain  # a real map, computed for this size


async def test_resizing_a_running_app_relayouts_for_the_new_size(make_app):
    from dropout_tui.tui.widgets.run_column import RunColumn

    app = make_app()
    async with app.run_test(size=(40, 12)) as pilot:
        assert app.screen.has_class("-too-small")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        column = app.query_one(RunColumn)
        assert not app.screen.has_class("-too-small") and not column.plan.map_shown
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert column.plan.map_shown  # room for the map beside the curves
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert app.screen.has_class("-too-small")


async def test_d_skips_datasets_the_sizes_do_not_fit(small_config):
    # 10 training points fit the 2-class sets (5 per class) and the regression sets (10 points),
    # but not spiral or blobs (3 classes, 15 points).
    app = DropoutApp(small_config(train_size=10, test_size=10), worker=False, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        seen = []
        for _ in range(6):
            await pilot.press("d")
            seen.append(app.trainer.exp.config.dataset)
        assert seen == ["circles", "xor", "sine", "saddle", "moons", "circles"]


async def test_minus_never_raises_a_keep_prob_below_the_floor(small_config):
    app = DropoutApp(small_config(keep_prob=0.01), worker=False, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("minus")
        assert app.trainer.exp.keep_prob == pytest.approx(0.01)
        await pilot.press("plus")
        assert app.trainer.exp.keep_prob == pytest.approx(0.06)


def test_axis_labels_keep_their_width_for_any_loss():
    from dropout_tui.tui.widgets.loss_chart import LABEL, tick_label

    for y in (0.0, 0.693, 9.99, 12.5, 123.4, 99999.0, 1.5e56, 1e-12, 3e300):
        assert len(tick_label(y)) == LABEL and float(tick_label(y)) > 0 or y == 0


def test_a_replay_that_ends_publishes_its_end_without_a_key(small_config, tmp_path):
    import threading

    from dropout_tui.core.experiment import PairedExperiment
    from dropout_tui.core.session import SessionLog, read_session
    from dropout_tui.tui.replay_trainer import ReplayTrainer

    path = tmp_path / "s.jsonl"
    exp = PairedExperiment(small_config())
    with SessionLog(path, small_config()) as log:
        exp.advance(30)
        log.snapshot(exp.snapshot())
    trainer = ReplayTrainer(read_session(path))
    updates, stop = [], threading.Event()
    worker = threading.Thread(target=trainer.run, args=(updates.append, stop.is_set))
    worker.start()
    try:
        for _ in range(100):
            if any(u.paused and "finished" in u.note for u in updates):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(5)
    assert any(u.paused and "finished" in u.note for u in updates)


@pytest.mark.parametrize("width", [80, 110, 118, 120, 125, 200])
async def test_status_line_count_does_not_flicker_with_the_counters(make_app, width):
    # Each change of line count is a layout pass, which repaints the whole screen.
    app = make_app()
    async with app.run_test(size=(width, 40)):
        bar = app.query_one(StatusBar)
        counts = set()
        for step, rate in [(5, 9.0), (12_345, 2_345.0), (9_999_999, 99_999.0)]:
            update = dataclasses.replace(app._last, step=step, steps_per_s=rate)
            bar.set_state(update, None, keep_prob=0.5, paused=False, speed=None)
            counts.add(bar._text.plain.count("\n"))
        assert len(counts) == 1


@pytest.mark.parametrize("dataset, ascii_only", [("moons", False), ("moons", True), ("sine", False)])
async def test_step_0_shows_the_training_loss_with_dropout_as_missing(small_config, dataset, ascii_only):
    """No step has run at step 0, so there is no loss with dropout: the missing-value glyph, not nan."""
    from dropout_tui.core.config import Config
    from dropout_tui.tui.widgets.run_column import RunColumn

    config = small_config() if dataset == "moons" else Config.for_dataset("sine", layers=(16, 16))
    app = DropoutApp(config, worker=False, paused=True, ascii_only=ascii_only)
    missing = "-" if ascii_only else "—"

    def train_rows() -> list[str]:
        return [col.query_one(".summary")._text.plain.split("\n")[1] for col in app.query(RunColumn)]

    async with app.run_test(size=(80, 24)) as pilot:
        for keys, step in (((), 0), (("n",), 1), (("r",), 0), (("n", "n"), 2)):
            await pilot.press(*keys)
            await pilot.pause()
            assert app.trainer.step == step
            for row in train_rows():
                assert "drop" in row and "nan" not in row, row
                assert (row.split()[-1] == missing) == (step == 0), row


async def test_an_update_that_arrives_while_the_app_closes_is_dropped(make_app):
    from dropout_tui.tui.app import Trained

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        last = app._last
    # The worker posts from its own thread: its last update can land after the widgets are gone.
    app.on_trained(Trained(last))
    assert not app.query("Explanation")
