"""Snapshot tests of a deterministic state (fixed seed, fixed steps, no free-running worker).

Regenerate after an intended change of the screen (and a look at the SVGs):
pytest -n0 tests/app/test_app_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from dropout_tui.core.config import Config
from dropout_tui.tui.app import DropoutApp

# The SVGs belong to the Textual pinned in the test extra (pyproject.toml); the lowest-versions run
# in .ci/run deselects these with -m "not snapshot".
pytestmark = pytest.mark.snapshot

STEPS = 2000


def app_at(steps: int = STEPS, **changes) -> DropoutApp:
    return DropoutApp(Config(**changes), worker=False, paused=True, prerun=steps)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_default_experiment(snap_compare, size):
    assert snap_compare(app_at(), terminal_size=size)


def test_help_screen(snap_compare):
    async def open_help(pilot):
        # Let the help screen settle (its scroll bar comes with a second layout pass) before the
        # picture is taken, however busy the machine is.
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.pause(0.3)
        await pilot.pause()

    assert snap_compare(app_at(), run_before=open_help, terminal_size=(80, 24))


def test_three_class_spiral_with_a_map(snap_compare):
    assert snap_compare(app_at(dataset="spiral"), terminal_size=(120, 40))


def test_keep_prob_one_makes_the_runs_identical(snap_compare):
    assert snap_compare(app_at(keep_prob=1.0), terminal_size=(80, 24))


def test_too_small_window_message(snap_compare):
    assert snap_compare(app_at(50), terminal_size=(50, 14))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_no_color(snap_compare, monkeypatch, size):
    # Textual reads NO_COLOR when the app is made: the curves and the map draw with glyphs.
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(app_at(), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_ascii(snap_compare, size):
    app = DropoutApp(Config(), worker=False, paused=True, prerun=STEPS, ascii_only=True)
    assert snap_compare(app, terminal_size=size)


def test_a_small_odd_window_with_a_deep_net_and_input_dropout(snap_compare):
    app = app_at(1000, layers=(32, 32, 32, 32), activation="leaky_relu", optimizer="momentum", lr=0.05,
                 dataset="spiral", input_keep_prob=0.8)
    assert snap_compare(app, terminal_size=(61, 19))


def regression_app(dataset: str, steps: int = STEPS, ascii_only: bool = False, **changes) -> DropoutApp:
    return DropoutApp(Config.for_dataset(dataset, **changes), worker=False, paused=True, prerun=steps,
                      ascii_only=ascii_only)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_sine_prediction_curves(snap_compare, size):
    assert snap_compare(regression_app("sine"), terminal_size=size)


def test_sine_prediction_curves_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(regression_app("sine"), terminal_size=(80, 24))


def test_sine_prediction_curves_ascii(snap_compare):
    assert snap_compare(regression_app("sine", ascii_only=True), terminal_size=(80, 24))


def test_saddle_heat_map_of_the_predicted_value(snap_compare):
    assert snap_compare(regression_app("saddle"), terminal_size=(120, 40))


def test_saddle_heat_map_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def show_map(pilot):
        await pilot.press("m")  # at 100×33 the map takes the loss curves' place on request
        await pilot.pause()

    assert snap_compare(regression_app("saddle"), run_before=show_map, terminal_size=(100, 33))


async def _rules_view(pilot):
    await pilot.press("v")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_prediction_rules_view(snap_compare, size):
    assert snap_compare(app_at(), run_before=_rules_view, terminal_size=size)


def test_prediction_rules_view_ascii_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = DropoutApp(Config(), worker=False, paused=True, prerun=STEPS, ascii_only=True)
    assert snap_compare(app, run_before=_rules_view, terminal_size=(80, 24))
