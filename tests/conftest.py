"""Shared fixtures for the core-engine and headless-CLI tests (tests/test_core_*.py, tests/test_cli_*.py).

Helpers are exposed as fixtures with a ``core_`` prefix so they do not clash with fixtures
other test files may define.
"""

from __future__ import annotations

import numpy as np
import pytest


def _small_config(**changes):
    """A small, fast experiment (2-16-16-out on 60 training points) with any field overridden."""
    from dropout_tui.core.config import Config

    base = dict(layers=(16, 16), train_size=60, test_size=80, eval_every=10)
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


@pytest.fixture
def core_small_config():
    return _small_config


@pytest.fixture
def core_param_copies():
    return _param_copies


@pytest.fixture
def core_params_equal():
    return _params_equal

