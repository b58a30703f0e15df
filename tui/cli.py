"""The ``dropout-tui`` command: the app, ``--headless`` training, and the subcommands of ``COMMANDS``.

Bad input never shows a traceback: one line on stderr naming the option, exit status 2
(every status is in ``tui.errors``).

This module imports only the standard library at the top: ``main`` installs the signal handlers
(``tui.signals.SIGNALS``) before NumPy and Textual are loaded, so a Ctrl-C or SIGTERM during
start-up is noted and ends the command with its status before any file is made, not with a
KeyboardInterrupt traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import EXIT_USAGE, UsageError, exit_for_signal, print_error
from .signals import Stopped, check_signals, process_signals
from .startup import pause_collector, resume_collector

if TYPE_CHECKING:
    from .args import Parser

DEFAULT_STEPS = 3000

# Options people bring from other frameworks, where dropout is given as the drop probability.
DROP_RATE_SPELLINGS = ("--dropout", "--rate", "--drop-rate", "--dropout-rate", "--p")


@dataclass(frozen=True)
class Command:
    """A subcommand: ``dropout-tui NAME ...`` runs ``run(argv)`` of ``module`` (imported on use).
    ``signals``: the module winds down by itself on ``tui.signals.SIGNALS`` (it writes files);
    otherwise the default signal actions are back while it runs."""
    name: str
    usage: str
    summary: str
    module: str
    signals: bool = True

    def run(self, argv: list[str]) -> int:
        module = importlib.import_module(f"dropout_tui.tui.{self.module}")
        if not self.signals:
            from .signals import SIGNALS

            check_signals()
            SIGNALS.restore()
        return module.run(argv)


COMMANDS = (
    Command("replay", "replay FILE [--headless [--verify]]",
            "play a session recorded with --record again, in the app or headless; --verify checks every number",
            "replay_cmd"),
    Command("sweep", "sweep [--keep-probs 0.1:1.0:0.1] [--seeds N]",
            "final test loss and accuracy against keep_prob for every rule, over seeds, on every core "
            "(or a Dask cluster)", "sweep_main"),
    Command("bench", "bench [--ui]", "measure training speed (and with --ui, what the app costs a terminal)",
            "bench_cmd", signals=False),
)


def version_line() -> str:
    """``dropout-tui X (numpy …, textual …, Python …)``: what a bug report needs."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from dropout_tui.core import version as ours

    def of(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    return (f"dropout-tui {ours()} (numpy {of('numpy')}, textual {of('textual')}, rich {of('rich')}, "
            f"Python {platform.python_version()})")


class _Version(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()


def main_parser() -> Parser:
    from .args import Parser, add_display_options, add_experiment_options, add_session_file_options, integer

    commands = "\n".join(f"  dropout-tui {c.usage:<44} {c.summary}" for c in COMMANDS)
    from dropout_tui.core.config import MAX_STEPS

    p = Parser(
        prog="dropout-tui",
        description="Train two identical networks side by side, one with inverted dropout "
                    "(÷ keep_prob while training) and one without, and watch where they differ.",
        epilog=f"commands (each has its own --help):\n{commands}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action=_Version, help="print the version (and numpy's, textual's, Python's)")
    add_experiment_options(p)
    g = p.add_argument_group("headless")
    g.add_argument("--headless", action="store_true", help="train without the UI and print the result")
    g.add_argument("--steps", metavar="N", type=integer("--steps", 0, MAX_STEPS), default=None,
                   help=f"steps to train with --headless (default {DEFAULT_STEPS}, at most {MAX_STEPS:,})")
    g.add_argument("--json", action="store_true", help="with --headless: print one JSON object instead of a table")
    g.add_argument("--explain", action="store_true",
                   help="with --headless: also print the explanation panel's sentences for the final snapshot "
                        "(with --json: as \"explanation\")")
    add_session_file_options(p)
    add_display_options(p)
    return p


MEMORY_ERROR = "not enough memory for this experiment; try smaller --layers, --train-size or --test-size"


def main(argv: list[str] | None = None) -> int:
    whole_process = argv is None  # the console script; tests call main([...]) in-process
    argv = sys.argv[1:] if argv is None else list(argv)
    if whole_process:
        pause_collector()  # until the app's first frame, or until another command starts (tui.startup)
    with process_signals(until_exit=whole_process):
        try:
            code = _dispatch(argv)
            sys.stdout.flush()  # a full disk under stdout is found here, not silently at exit
            return code
        except UsageError as exc:
            print_error(exc)
            return EXIT_USAGE
        except ValueError as exc:
            from dropout_tui.core.config import ConfigError
            from dropout_tui.core.csv_data import CsvDataError

            if not isinstance(exc, (ConfigError, CsvDataError)):
                raise
            print_error(exc)
            return EXIT_USAGE
        except MemoryError:
            print_error(MEMORY_ERROR)
            return EXIT_USAGE
        except Stopped as stopped:
            return stopped.exit_status
        except KeyboardInterrupt:
            return exit_for_signal(signal.SIGINT)
        except BrokenPipeError:
            # Whoever read stdout has gone (``| head``): stop quietly, as SIGPIPE would.
            _drop_stdout()
            return exit_for_signal(getattr(signal, "SIGPIPE", 13))
        except OSError as exc:
            # Output that cannot be written (stdout on a full disk, a file that went away): one
            # line, not a traceback. Files the command opened itself report their own errors.
            print_error(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}")
            _drop_stdout()
            return EXIT_USAGE
        finally:
            resume_collector()  # whatever ended the command before the app's first frame


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so Python does not fail again flushing it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _dispatch(argv: list[str]) -> int:
    from .threads import limit_blas_threads

    limit_blas_threads()
    for command in COMMANDS:
        if argv and argv[0] == command.name:
            resume_collector()  # only the live app's start-up runs without it
            return command.run(argv[1:])
    from .args import config_from_args

    _refuse_drop_rate(argv)
    args = main_parser().parse_args(argv)
    config = config_from_args(args)
    if not args.headless:
        # Each with the reason it means nothing to the app.
        for flag, given, why in (
                ("--json", args.json, "the app shows its numbers on screen"),
                ("--explain", args.explain, "the app explains on screen, as it trains"),
                ("--steps", args.steps is not None, "the app trains until you quit")):
            if given:
                raise UsageError(f"{flag}: only with --headless ({why})")
    if args.steps is None:
        args.steps = DEFAULT_STEPS
    if args.headless:
        resume_collector()
        from .headless import run_headless

        return run_headless(config, args)
    from .app_main import run_app

    return run_app(config, args)


def _refuse_drop_rate(argv: list[str]) -> None:
    """TensorFlow and PyTorch take the probability of DROPPING a unit; this tool, like the original
    dropout papers, the probability of keeping it. Say so rather than 'unrecognized arguments'."""
    for arg in argv:
        name = arg.split("=", 1)[0]
        if name in DROP_RATE_SPELLINGS:
            raise UsageError(f"{name}: unknown option; did you mean --keep-prob (= 1 − drop rate)? "
                             "e.g. a dropout rate of 0.2 is --keep-prob 0.8")


if __name__ == "__main__":
    sys.exit(main())
