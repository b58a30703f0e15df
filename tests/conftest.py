"""Fixtures shared by every tier: ``tests/unit`` (engine, explanation, history, trainer, in-process
CLI), ``tests/app`` (the Textual app under a pilot, snapshots) and ``tests/e2e`` (real processes in
pseudo-terminals, subprocesses, signals, builds), which is marked ``e2e``: ``pytest -m "not e2e"``
is the quick loop."""

from __future__ import annotations

import os

import numpy as np
import pytest

# pytest-xdist's workers export COLUMNS=80 and LINES=24, which Rich and Textual take over the size
# of a terminal or pipe: the programs the tests start must see what a user's shell gives them.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def _small_config(**changes):
    """A small, fast experiment (2-16-16-out on 60 training points) with any field overridden."""
    from dropout_tui.core.config import Config

    base = dict(layers=(16, 16), train_size=60, test_size=100, eval_every=10)
    base.update(changes)
    return Config(**base).validate()


def _param_copies(exp) -> dict:
    """{rule: [copy of every parameter array]} for both runs of a PairedExperiment."""
    return {rule: [p.copy() for p in run.net.params] for rule, run in exp.runs.items()}


def _params_equal(a, b) -> bool:
    """Bit-for-bit equality of two parameter lists (NaN equal to NaN, so frozen diverged runs compare)."""
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b)
    )


def pytest_collection_modifyitems(config, items):
    e2e = pytest.mark.e2e
    # Under pytest-xdist's loadgroup scheduling the e2e tier runs on one worker, one test at a time:
    # its tests measure real processes (first frames, signals, pseudo-terminals), and two of them
    # side by side on a small machine would be measuring each other.
    one_worker = pytest.mark.xdist_group("e2e")
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(e2e)
            item.add_marker(one_worker)


@pytest.fixture
def small_config():
    """``small_config(**changes) -> Config``: a small, fast experiment, any field overridden."""
    return _small_config


@pytest.fixture
def core_param_copies():
    return _param_copies


@pytest.fixture
def core_params_equal():
    return _params_equal

