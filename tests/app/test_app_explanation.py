"""The explanation panel in the app: what it says follows the step shown, and it fits its panel."""

from __future__ import annotations

from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.widgets.explanation import Explanation
from dropout_tui.tui.widgets.status_bar import StatusBar


def panel(app) -> str:
    return app.query_one(Explanation)._text.plain


async def test_keep_prob_turned_while_paused_is_pending_until_a_step(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=50)
    async with app.run_test(size=(80, 24)) as pilot:
        before = app._snapshot
        await pilot.press("minus")
        await pilot.pause()
        # The numbers are still step 50's, measured at 0.50; the panel says the new value waits.
        assert app._snapshot is before and app._snapshot["keep_prob"] == 0.5
        assert panel(app).startswith("keep_prob 0.45 applies from the next step; these are step 50's "
                                     "numbers at 0.50.")
        await pilot.press("n")
        await pilot.pause()
        assert app._snapshot["step"] == 51 and app._snapshot["keep_prob"] == 0.45
        assert "applies from the next step" not in panel(app)


async def test_the_panel_keeps_to_its_lines(small_config):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        widget = app.query_one(Explanation)
        assert panel(app)
        assert 0 < len(widget._cells) <= widget.size.height


async def test_both_runs_diverged_stops_stepping_and_says_so(small_config):
    app = DropoutApp(small_config(lr=1e30, keep_prob=1.0), worker=False, paused=True, prerun=10)
    async with app.run_test(size=(80, 24)) as pilot:
        step = app.trainer.step
        await pilot.press("n")
        await pilot.pause()
        assert app.trainer.step == step
        status = app.query_one(StatusBar)._text.plain
        # the state stays on the status line; its note gives way at 80 columns, the panel says it whole
        assert "paused" in status and "inverted & unrescaled diverged" in status
        assert panel(app).startswith("Both runs diverged")


async def test_a_narrower_window_wraps_the_same_sentences_anew(small_config):
    """Paused, nothing new arrives: a resize alone must re-wrap the panel, whose text is the same
    at both widths, rather than crop lines laid out for the old width."""
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(61, 19)
        await pilot.pause()
        await pilot.pause(0.2)
        explanation = app.query_one(Explanation)
        width = explanation.size.width
        assert explanation._strips and all(strip.cell_length == width for strip in explanation._strips)
