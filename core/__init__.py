"""dropout-tui's engine: pure NumPy, importable without the terminal UI."""

from .config import Config, ConfigError
from .experiment import RULES, PairedExperiment
from .metadata import version

__all__ = ["Config", "ConfigError", "PairedExperiment", "RULES", "version"]
