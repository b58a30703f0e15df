"""Snapshot tests of a deterministic state (fixed seed, fixed steps, no free-running worker).

Regenerate after an intended change of the screen: pytest tests/app/test_app_snapshots.py --snapshot-update
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
    assert snap_compare(app_at(), press=["question_mark"], terminal_size=(80, 24))


def test_three_class_spiral_with_a_map(snap_compare):
    assert snap_compare(app_at(dataset="spiral"), terminal_size=(120, 40))


def test_keep_prob_one_makes_the_runs_identical(snap_compare):
    assert snap_compare(app_at(keep_prob=1.0), terminal_size=(80, 24))


def test_too_small_window_message(snap_compare):
    assert snap_compare(app_at(50), terminal_size=(50, 14))
