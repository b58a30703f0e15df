"""dropout-tui's engine: pure NumPy, importable without the terminal UI."""

from __future__ import annotations

from .config import Config, ConfigError
from .experiment import RULES, PairedExperiment

__all__ = ["Config", "ConfigError", "PairedExperiment", "RULES", "version"]


def version() -> str:
    """This distribution's version from its installed metadata (the one place it is set), or
    "unknown" when running from a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("dropout-tui")
    except PackageNotFoundError:
        return "unknown"
