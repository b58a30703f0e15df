"""The screen at every size, value and terminal, rendered in-process.

One app per state, resized through the sizes (a resize relays out the whole screen as a terminal's
would): no line wider than its widget, keep_prob and the running/paused state on screen, and both
columns with the same rows. ASCII mode: every character below 128. Themes: every theme the palette
offers is legible.
"""

from __future__ import annotations

import io
import re

import pytest
from dropout_tui.core.changes import Change
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.session import SessionLog, read_session
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.replay_trainer import ReplayTrainer
from dropout_tui.tui.widgets.diff_view import DiffView
from dropout_tui.tui.widgets.explanation import Explanation
from dropout_tui.tui.widgets.help_screen import HelpScreen
from dropout_tui.tui.widgets.key_bar import KeyBar
from dropout_tui.tui.widgets.run_column import RunColumn
from dropout_tui.tui.widgets.status_bar import StatusBar
from dropout_tui.tui.widgets.theme import MIN_CONTRAST, contrast
from rich.console import Console

SIZES = [(60, 18), (61, 19), (70, 20), (80, 24), (100, 33), (120, 40), (137, 41), (200, 60), (240, 70)]
CORE_SIZES = [(60, 18), (61, 19), (80, 24), (100, 33), (137, 41)]  # for every state but the default
SMALL = {"layers": (16, 16), "train_size": 100, "test_size": 200}


def _runs(app) -> dict:
    return app._snapshot["runs"]


# name: (config changes, steps trained first, what makes the state what it says)
STATES = {
    "default": ({}, 300, lambda runs: True),
    "test loss of 10 and more": (dict(SMALL, keep_prob=0.05, optimizer="adam", lr=0.1), 300,
                                 lambda runs: runs["unrescaled"]["test_loss"] >= 10),
    "100% accuracy": (dict(SMALL, noise=0.05, dataset="circles", optimizer="adam", lr=0.05), 300,
                      lambda runs: runs["inverted"]["test_acc"] == 1.0),
    "a diverged run": (dict(SMALL, lr=1e6, keep_prob=0.3), 50, lambda runs: runs["inverted"]["diverged"]),
    "six hidden layers": ({"layers": (32,) * 6, "activation": "leaky_relu", "optimizer": "momentum", "lr": 0.05,
                           "dataset": "spiral", "train_size": 100, "test_size": 200}, 100,
                          lambda runs: len(runs["inverted"]["layers"]) == 6),
    "input dropout, tiny keep_prob": (dict(SMALL, input_keep_prob=0.8, keep_prob=0.001), 100,
                                      lambda runs: True),
}


def screen_text(app) -> str:
    """What the terminal shows, as text (the help screen, toasts and the palette included)."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system=None, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def row_labels(column: RunColumn) -> list[str]:
    """What starts each row of the column's text parts: labels, and the chart's y ticks."""
    labels = []
    for selector in (".chart", ".legend", ".summary", ".scaled", ".layers"):
        view = column.query_one(selector, DiffView)
        if not view.display or view._text is None:
            continue
        for line in view._text.plain.split("\n"):
            labels.append(line[:6] if selector == ".chart" else (line.split() or [""])[0])
    return labels


def check_screen(app, where: str) -> None:
    width, height = app.size
    if width < 60 or height < 18:
        return
    for view in app.screen.query(DiffView):
        if not view.display or view._text is None or view.size.width <= 0:
            continue
        if isinstance(view, Explanation):  # running text wraps at spaces, and all of it shows
            assert len(view._cells) <= view.size.height, f"{where}: the explanation is cut"
            continue
        for line in view._text.split("\n"):
            assert line.cell_len <= view.size.width, \
                f"{where}: {type(view).__name__} line wider than it: {line.plain!r}"
    text = screen_text(app)
    status = app.query_one(StatusBar)._text.plain
    assert "keep_prob" in status and re.search(r"\b(running|paused)\b", status), f"{where}: {status!r}"
    assert "keep_prob" in text and ("running" in text or "paused" in text), where
    if app._last.input_keep_prob < 1:
        assert "input" in status, where
    inverted, unrescaled = app.query(RunColumn)
    assert inverted.plan == unrescaled.plan and inverted.size == unrescaled.size, where
    assert row_labels(inverted) == row_labels(unrescaled), where


async def walk_sizes(app, pilot, label: str, sizes=SIZES) -> None:
    for size in sizes:
        await pilot.resize_terminal(*size)
        await pilot.pause()
        check_screen(app, f"{label} at {size[0]}x{size[1]}")


@pytest.mark.parametrize("state", list(STATES))
async def test_every_size_holds_every_state(state):
    changes, steps, holds = STATES[state]
    app = DropoutApp(Config(**changes), worker=False, paused=True, prerun=steps)
    async with app.run_test(size=SIZES[0]) as pilot:
        assert holds(_runs(app)), state
        await walk_sizes(app, pilot, state, SIZES if state == "default" else CORE_SIZES)
        await pilot.press("m")  # the map on (small windows) or off (large ones), at sizes again
        await walk_sizes(app, pilot, f"{state}, map toggled", [(61, 19), (80, 24), (137, 41)])


async def test_every_size_holds_running_and_paused_and_a_replay(small_config, tmp_path):
    app = DropoutApp(small_config(), worker=False, paused=False, prerun=100)
    async with app.run_test(size=SIZES[0]) as pilot:
        await walk_sizes(app, pilot, "running", [(61, 19), (100, 33)])
    path = tmp_path / "s.jsonl"
    exp = PairedExperiment(small_config())
    with SessionLog(path, small_config()) as log:
        log.snapshot(exp.snapshot())
        exp.advance(30)
        exp.set_keep_prob(0.7)
        log.event(Change("keep_prob", 0.7), exp.step)
        exp.advance(30)
        log.snapshot(exp.snapshot())
    app = DropoutApp(trainer=ReplayTrainer(read_session(path), paused=True), worker=False)
    async with app.run_test(size=SIZES[0]) as pilot:
        for _ in range(40):
            await pilot.press("n")
        await walk_sizes(app, pilot, "replay", [(60, 18), (80, 24), (137, 41)])
        assert "REPLAY" in app.query_one(StatusBar)._text.plain


# -- the status line --------------------------------------------------------------------------------


async def test_status_keeps_keep_prob_and_state_with_a_long_architecture():
    config = Config(layers=(32, 32, 32, 32), activation="leaky_relu", optimizer="momentum", lr=0.05,
                    dataset="spiral", input_keep_prob=0.9)
    app = DropoutApp(config, worker=False, paused=True, prerun=10)
    async with app.run_test(size=(60, 18)) as pilot:
        for width in (60, 61, 80, 100):
            await pilot.resize_terminal(width, 24)
            await pilot.pause()
            status = app.query_one(StatusBar)._text.plain
            lines = status.split("\n")
            assert all(len(line) <= width - 2 for line in lines)
            assert "keep_prob 0.50" in status and "paused" in status and "input" in status and "step 10" in status
            # What drops first: the optimiser, then the architecture; never part of a value.
            if "2-32-32-32-32-3" not in status:
                assert "momentum" not in status


def test_a_keep_prob_changed_while_paused_is_shown_as_pending(small_config):
    from dropout_tui.tui.trainer import Trainer

    trainer = Trainer(small_config(), paused=True)
    update = trainer.initial_update()
    snapshot = update.snapshots[-1]

    async def run():
        app = DropoutApp(trainer=trainer, worker=False)
        async with app.run_test(size=(80, 24)):
            bar = app.query_one(StatusBar)
            bar.set_state(update, snapshot, keep_prob=0.3, paused=True, speed=None)
            assert "keep_prob 0.30" in bar._text.plain and "from the next step" in bar._text.plain
            bar.set_state(update, snapshot, keep_prob=snapshot["keep_prob"], paused=True, speed=None)
            assert "next" not in bar._text.plain
            bar.set_state(update, snapshot, keep_prob=0.3, paused=False, speed=None)  # running: it is live
            assert "next" not in bar._text.plain

    import asyncio

    asyncio.run(run())


@pytest.mark.parametrize("rate, text", [(1.0, "1 step/s"), (1.4, "1 step/s"), (2.0, "2 steps/s"),
                                        (2345.0, "2,345 steps/s")])
def test_one_step_per_second_is_singular(rate, text):
    from dropout_tui.tui.widgets.status_bar import rate_text

    assert rate_text(rate, paused=False) == text


# -- keys, key bar, help, palette -----------------------------------------------------------------


def key_bar(app) -> str:
    return app.query_one(KeyBar)._text.plain


async def test_the_key_bar_follows_the_state(small_config):
    app = DropoutApp(small_config(), worker=False, paused=False, prerun=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "space pause" in key_bar(app) and "keep_prob" in key_bar(app)
        await pilot.press("space")
        await pilot.pause()
        assert "space resume" in key_bar(app)
        await pilot.resize_terminal(60, 18)
        await pilot.pause()
        bar = key_bar(app)
        assert len(bar) <= 59 and "q quit" in bar and "? help" in bar and "keep_prob" in bar


ENTRIES = {"keep": "+ - keep_prob", "pause": "space pause", "resume": "space resume", "step": "n step",
           "reset": "r reset", "speed": "[ ] speed", "map": "m map", "rules": "v rules", "help": "? help",
           "quit": "q quit"}


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (100, 33), (61, 19), (60, 18)])
async def test_the_key_bar_offers_n_while_paused_and_drops_entries_in_the_stated_order(small_config, size):
    from dropout_tui.tui.widgets.key_bar import drop_order

    app = DropoutApp(small_config(), worker=False, paused=False, prerun=20)
    async with app.run_test(size=size) as pilot:
        for paused in (False, True):
            await pilot.pause()
            bar = key_bar(app)
            assert len(bar) < size[0]
            always = ["keep", "resume" if paused else "pause", *(["step"] if paused else []), "help", "quit"]
            assert all(ENTRIES[name] in bar for name in always), bar
            assert ("n step" in bar) == paused and ("space pause" in bar) != paused
            # Entries leave in the state's order: whatever is shown is a tail of it.
            order = drop_order(paused)
            shown = [name for name in order if ENTRIES[name] in bar]
            assert shown == list(order[len(order) - len(shown):]), (paused, bar)
            if size[0] >= 100:
                assert shown == list(order), bar
            elif size[0] == 80:  # all but the speed while paused: the views stay
                assert shown == list(order[1:] if paused else order), bar
            await pilot.press("space")
        await pilot.press("n")  # running again: n is not offered, and says how to use it
        await pilot.pause()
        assert app.trainer.step == 20 and "n steps once" in list(app._notifications)[-1].message
        await pilot.press("space", "n")  # paused: one step
        assert app.trainer.step == 21


async def test_a_replay_hides_the_keep_prob_keys_and_says_why_when_pressed(small_config, tmp_path):
    path = tmp_path / "s.jsonl"
    exp = PairedExperiment(small_config())
    with SessionLog(path, small_config()) as log:
        log.snapshot(exp.snapshot())
        exp.advance(10)
        log.snapshot(exp.snapshot())
    app = DropoutApp(trainer=ReplayTrainer(read_session(path), paused=True), worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "keep_prob" not in key_bar(app) and "q quit" in key_bar(app)
        await pilot.press("plus")
        await pilot.press("d")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("recording sets keep_prob" in m for m in messages)
        assert app.trainer.exp.keep_prob == small_config().keep_prob


async def test_ctrl_c_quits_like_q(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert not app.is_running and app.return_code in (0, None) and app.close_reason == "quit"


async def test_help_lists_every_key_whole_at_80x24(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = screen_text(app)
        rows = help_screen.key_rows()
        keys = " ".join(k for k, _ in rows)
        for needed in ("ctrl+p", "ctrl+c", "ctrl+q", "space", "+", "[", "]", "m", "l", "n", "d", "s", "e"):
            assert needed in keys.split() or needed in keys
        for name, what in rows:  # every key's line on screen at once, unwrapped
            assert re.search(re.escape(name) + r"\s+" + re.escape(what), text), (name, what)
        assert "PgDn" in text  # and how to reach the rest
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_screenshot_from_the_palette_equals_the_key(small_config, tmp_path):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=50, screenshot_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        first = sorted(tmp_path.glob("*.svg"))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"save an svg")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.pause()
    shots = sorted(tmp_path.glob("*.svg"))
    assert len(first) == 1
    if len(shots) == 1:  # both in the same second: the same name
        pytest.skip("the two screenshots got the same file name")
    assert len(shots) == 2
    a, b = (s.read_text() for s in shots)
    assert a == b and "keep_prob" in b


async def test_warm_up_starts_slow_and_ends_at_a_speed_key(small_config):
    from dropout_tui.tui.app import WARMUP_SPEED, WARMUP_STEPS
    from dropout_tui.tui.trainer import SPEEDS

    app = DropoutApp(small_config(), worker=False, paused=True, warmup=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.trainer.speed == WARMUP_SPEED and "warm-up" in app.query_one(StatusBar)._text.plain
        await pilot.press("space")  # running: the ramp acts on the steps the updates report
        app.trainer.process_commands()
        app.trainer._train(WARMUP_STEPS[0])
        app._apply(app.trainer.make_update(boundary=False))
        app.trainer.process_commands()
        assert app.trainer.speed == SPEEDS[SPEEDS.index(WARMUP_SPEED) + 1]
        await pilot.press("right_square_bracket")
        assert app._warmup == [] and "warm-up" not in app.query_one(StatusBar)._text.plain


async def test_reset_and_dataset_change_start_the_warm_up_again_until_a_speed_key(small_config):
    from dropout_tui.tui.app import WARMUP_SPEED, WARMUP_STEPS
    from dropout_tui.tui.trainer import SPEEDS

    app = DropoutApp(small_config(), worker=False, paused=True, warmup=True)

    def train_to(step: int) -> None:  # as the worker would: steps, then an update the ramp reads
        app.trainer._train(step - app.trainer.step)
        app._apply(app.trainer.make_update(boundary=False))
        app.trainer.process_commands()

    def status() -> str:
        return app.query_one(StatusBar)._text.plain

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        for step in WARMUP_STEPS[:3]:
            train_to(step)
        assert app.trainer.speed == 1000 and app.speed == 1000 and "warm-up" in status()
        for key in ("r", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert app.trainer.step == 0 and app.trainer.speed == WARMUP_SPEED == app.speed
            assert app._warmup == list(WARMUP_STEPS) and "speed 30/s warm-up" in status()
            train_to(WARMUP_STEPS[0])  # and it ramps up again
            assert app.trainer.speed == SPEEDS[SPEEDS.index(WARMUP_SPEED) + 1] and "warm-up" in status()
        train_to(WARMUP_STEPS[-1])  # the schedule's end: full speed, no warm-up claimed
        assert app.trainer.speed is None and app._warmup == [] and "warm-up" not in status()
        await pilot.press("r")
        assert app.trainer.speed == WARMUP_SPEED and "warm-up" in status()
        await pilot.press("right_square_bracket")  # the user takes over: their speed stays
        for key in ("r", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert app.trainer.step == 0 and app.trainer.speed == 100 == app.speed
            assert "speed 100/s" in status() and "warm-up" not in status()
            train_to(WARMUP_STEPS[1])
            assert app.trainer.speed == 100


async def test_l_switches_the_step_axis_to_log(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=2000)
    async with app.run_test(size=(120, 40)) as pilot:
        legend = app.query_one(".legend", DiffView)
        assert "log x" not in legend._text.plain
        await pilot.press("l")
        await pilot.pause()
        assert "log x" in legend._text.plain
        axis = app.query_one(".chart", DiffView)._text.plain.split("\n")[-1]
        assert "1k" in axis and "10 " in axis  # powers of ten


async def test_m_in_a_window_too_short_for_a_map_says_so(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=20)
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert not app.query_one(RunColumn).plan.map_shown
        assert any("taller window" in n.message for n in app._notifications)


# -- ASCII mode and themes ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["default", "a diverged run", "input dropout, tiny keep_prob"])
async def test_ascii_mode_draws_only_ascii_at_every_size(state, tmp_path):
    changes, steps, _ = STATES[state]
    app = DropoutApp(Config(**changes), worker=False, paused=True, prerun=steps, ascii_only=True,
                     screenshot_dir=tmp_path)
    async with app.run_test(size=SIZES[0]) as pilot:
        for i, size in enumerate((SIZES if state == "default" else CORE_SIZES) + [(59, 17)]):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            if i == 3:
                await pilot.press("m", "s")  # the map, and a notice naming a file
                await pilot.pause()
            text = screen_text(app)
            assert max(map(ord, text)) < 128, (size, sorted({c for c in text if ord(c) >= 128}))
        await pilot.resize_terminal(80, 24)
        for keys in (["question_mark"], ["escape", "ctrl+p"]):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            text = screen_text(app)
            assert max(map(ord, text)) < 128, (keys, sorted({c for c in text if ord(c) >= 128}))


async def test_every_offered_theme_is_legible(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=20)
    async with app.run_test(size=(80, 24)) as pilot:
        offered = sorted(app.available_themes)
        assert "ansi-dark" not in offered and "textual-light" in offered
        for name in offered:
            app.theme = name
            await pilot.pause()
            roles = app.roles
            for role, colour in roles.colours.items():
                need = 3.0 if role == "faint" else MIN_CONTRAST  # the bar's empty part, the axis: not text
                for surface in roles.surfaces[role]:
                    assert contrast(colour, surface) >= need - 1e-9, (name, role)
            # The roles are what is on screen: the ×p line and the table header use them.
            scaled = app.query_one("#col-unrescaled .scaled", DiffView)._text
            assert any(roles.fix.split()[-1] in str(span.style) for span in scaled.spans), name


def test_textual_s_own_uncheckable_themes_are_not_offered():
    from dropout_tui.tui.widgets.theme import UNCHECKABLE_THEMES

    app = DropoutApp(Config(layers=(4,)), worker=False)
    assert not set(UNCHECKABLE_THEMES) & set(app.available_themes)


async def test_without_ascii_mode_the_same_screen_is_not_ascii(small_config):
    # The ASCII test can fail: the same screen text, drawn normally, has box and braille glyphs.
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert max(map(ord, screen_text(app))) >= 128


async def test_the_app_and_the_headless_table_name_the_architecture_alike(small_config):
    from dropout_tui.tui.headless import summary_table

    config = small_config(layers=(16, 8))
    app = DropoutApp(config, worker=False, paused=True, prerun=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = summary_table(config, app._snapshot, app._last.arch)
        assert "2-16-8-1" in app.query_one(StatusBar)._text.plain and "2-16-8-1" in str(table.title)
