"""Installed versions, read from package metadata at run time.

dropout-tui's own version is written in one place, ``version`` in pyproject.toml; everything that
shows or records it (``dropout-tui --version``, session-log headers) reads it back from here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

DISTRIBUTION = "dropout-tui"


def version(distribution: str = DISTRIBUTION) -> str:
    """The installed version of ``distribution`` (default: dropout-tui itself), e.g. ``"0.1.0"``.

    Returns ``"unknown"`` when it is not installed, e.g. when running from a source tree that was
    never pip-installed. Never raises.
    """
    try:
        return _distribution_version(distribution)
    except PackageNotFoundError:
        return "unknown"
