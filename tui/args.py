"""Command-line pieces every subcommand shares: the parser, value parsers, the experiment options
(generated from ``Config``'s fields, so a new field is a new option) and the session-file options.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NoReturn
from collections.abc import Callable

from dropout_tui.core.config import Config, ConfigError, check_memory, default_of, option_name, parse_text
from dropout_tui.core.data import CSV, PRESETS

from .errors import UsageError


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no abbreviations: ``--data`` is not ``--dataset``, so
    adding an option can never change what an existing command line means."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse would print the whole usage block
        raise UsageError(message)


def number(option: str) -> Callable[[str], float]:
    """A parser for a finite number, naming ``option`` in its error."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{option}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise UsageError(f"{option}: expected a finite number, got {text!r}")
        return value
    return parse


def integer(option: str, minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """A parser for an integer (from ``minimum`` to ``maximum``), naming ``option`` in its error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{option}: expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise UsageError(f"{option}: expected an integer >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise UsageError(f"{option}: expected an integer <= {maximum:,}, got {value:,}")
        return value
    return parse


def _field_parser(f) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return parse_text(f, text)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    return parse


def _presets_text(name: str) -> list[str]:
    """The datasets' own defaults of field ``name`` as the help shows them: "csv all" (a size of 0
    takes every row), the two CSV tasks said once when they agree, sorted."""
    shown: dict[str, str] = {}
    for ds, values in PRESETS.items():
        if name in values:
            value = values[name]
            shown[ds] = "all" if value == 0 and name in ("train_size", "test_size") else str(value)
    if shown.get(f"{CSV} regression") == shown.get(CSV):
        shown.pop(f"{CSV} regression", None)
    return sorted(f"{ds} {text}" for ds, text in shown.items())


def add_experiment_options(parser: argparse.ArgumentParser) -> None:
    """One option per Config field, with the field's help, metavar and default."""
    group = parser.add_argument_group("experiment")
    for f in fields(Config):
        default = default_of(f)
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
        shown_presets = _presets_text(f.name)
        if shown_presets:
            shown += "; " + ", ".join(shown_presets)
        # None: not given, so config_from_args can tell a chosen value from a dataset's preset.
        group.add_argument(option_name(f), dest=f.name, metavar=f.metadata["metavar"], default=None,
                           type=_field_parser(f),
                           # An empty default (a file or column not given) says nothing; the help says what
                           # happens instead.
                           help=f"{f.metadata['help']}" + (f" (default {shown})" if shown else ""))


def config_from_args(args: argparse.Namespace) -> Config:
    """The validated Config the experiment options describe: the values given, else the
    dataset's preset, else the default; refused when it needs more memory than is available
    (``core.config.check_memory``). Raises ConfigError."""
    given = {f.name: getattr(args, f.name) for f in fields(Config) if getattr(args, f.name) is not None}
    for name in ("data", "test_data"):
        if given.get(name) == "":  # an unset shell variable: not "no file"
            raise UsageError(f"--{name.replace('_', '-')}: expected a file name, got an empty string")
    if given.get("data") and given.setdefault("dataset", CSV) != CSV:  # --data FILE.csv trains on that file
        raise UsageError(f"--data: trains on your file; --dataset {given['dataset']} names a built-in set "
                         "(give one of the two)")
    config = Config.for_dataset(**given)
    check_memory(config)
    return config


@dataclass(frozen=True)
class SessionFiles:
    """Where a session writes besides the screen (None: not written)."""
    record: Path | None = None
    csv: Path | None = None
    cast: Path | None = None
    force: bool = False
    screenshot_dir: Path = Path(".")


def path_option(option: str, stdout: bool = False) -> Callable[[str], Path]:
    """A file name for ``option``; '-' (stdout) only where ``stdout``."""
    def parse(text: str) -> Path:
        if not text:
            raise UsageError(f"{option}: expected a file name, got an empty string")
        if text == "-" and not stdout:
            raise UsageError(f"{option}: '-' (stdout) is for --csv only; give a file name (./- for a file named -)")
        return Path(text)
    return parse


def add_session_file_options(parser: argparse.ArgumentParser, *, record: bool = True, cast: bool = True,
                             csv_help: str = "write the metrics history as CSV, a row per snapshot and run, "
                                             "as it is made ('-' for stdout with --headless)") -> None:
    group = parser.add_argument_group("files")
    if record:
        group.add_argument("--record", metavar="FILE", type=path_option("--record"),
                           help="write a replayable session log (JSON Lines)")
    if cast:
        group.add_argument("--cast", metavar="FILE", type=path_option("--cast"),
                           help="write an asciicast v2 recording of the app's own output (app only)")
    group.add_argument("--csv", metavar="FILE", type=path_option("--csv", stdout=True), help=csv_help)
    group.add_argument("--force", action="store_true", help="overwrite existing output files")
    group.add_argument("--screenshot-dir", metavar="DIR", type=path_option("--screenshot-dir", stdout=True),
                       default=Path("."),
                       help="where the app's 's' saves SVG screenshots and 'e' CSV exports (default .)")


def session_files_from_args(args: argparse.Namespace) -> SessionFiles:
    return SessionFiles(record=getattr(args, "record", None), csv=getattr(args, "csv", None),
                        cast=getattr(args, "cast", None), force=bool(args.force),
                        screenshot_dir=args.screenshot_dir)


def add_display_options(parser: argparse.ArgumentParser) -> None:
    """How the screen is drawn (not part of the experiment, so not a Config field)."""
    group = parser.add_argument_group("display")
    group.add_argument("--ascii", action="store_true",
                       help="draw with ASCII characters only, for the Linux console or fonts without box, "
                            "block and braille glyphs (on by itself when TERM=linux; DROPOUT_TUI_ASCII=1 or 0 "
                            "forces it on or off)")
