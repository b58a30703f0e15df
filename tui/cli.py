"""The ``dropout-tui`` command: the app, ``--headless`` training, ``bench`` and ``replay``.

Bad input never shows a traceback: one line on stderr naming the option, exit status 2.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys

from dropout_tui.core.config import Config, ConfigError, DTYPES
from dropout_tui.core.activations import ACTIVATIONS
from dropout_tui.core.data import DATASETS
from dropout_tui.core.metadata import version
from dropout_tui.core.optim import OPTIMIZERS

from .errors import UsageError

EXIT_USAGE = 2
DEFAULT_STEPS = 3000


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # argparse would otherwise take any unambiguous prefix (--data for --dataset), so a typo can
        # silently mean another option, and adding an option later can break a prefix users rely on.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):  # argparse would print the whole usage block; one line is the rule
        raise UsageError(message)


def version_line() -> str:
    """``dropout-tui 0.1.0 (numpy 2.4.6, textual 8.2.8, Python 3.11.7)``: the installed versions,
    read at run time from package metadata ("unknown" for one that is not installed)."""
    return (f"dropout-tui {version()} (numpy {version('numpy')}, textual {version('textual')}, "
            f"Python {platform.python_version()})")


class _VersionAction(argparse.Action):
    """``--version``: print :func:`version_line` on stdout and exit 0. argparse's own ``version``
    action would re-wrap the line to the terminal width."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit(0)


def _number(option: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{option}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise UsageError(f"{option}: expected a finite number, got {text!r}")
        return value
    return parse


def _integer(option: str):
    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{option}: expected an integer, got {text!r}") from None
    return parse


def _layers(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",")]
    if not parts or not all(p.isascii() and p.isdigit() and int(p) > 0 for p in parts):
        raise UsageError(f"--layers: expected positive integers separated by commas (e.g. 64,64), got {text!r}")
    return tuple(int(p) for p in parts)


def add_experiment_options(p: argparse.ArgumentParser) -> None:
    d = Config()
    g = p.add_argument_group("experiment")
    g.add_argument("--dataset", metavar="NAME", default=d.dataset,
                   help=f"one of {', '.join(DATASETS)} (default {d.dataset})")
    g.add_argument("--layers", metavar="N,N", type=_layers, default=d.layers,
                   help="hidden layer sizes, e.g. 64,64 (default 64,64)")
    g.add_argument("--activation", metavar="NAME", default=d.activation,
                   help=f"hidden activation: {', '.join(ACTIVATIONS)} (default {d.activation})")
    g.add_argument("--keep-prob", metavar="P", type=_number("--keep-prob"), default=d.keep_prob,
                   help=f"probability of keeping a hidden unit, in (0, 1] (default {d.keep_prob})")
    g.add_argument("--input-keep-prob", metavar="P", type=_number("--input-keep-prob"), default=d.input_keep_prob,
                   help="probability of keeping an input feature, in (0, 1] (default 1: no input dropout)")
    g.add_argument("--lr", metavar="X", type=_number("--lr"), default=d.lr, help=f"learning rate > 0 (default {d.lr})")
    g.add_argument("--optimizer", metavar="NAME", default=d.optimizer,
                   help=f"{', '.join(OPTIMIZERS)} (default {d.optimizer})")
    g.add_argument("--batch-size", metavar="N", type=_integer("--batch-size"), default=d.batch_size,
                   help="minibatch size; 0 = full batch (default 0)")
    g.add_argument("--l2", metavar="X", type=_number("--l2"), default=d.l2,
                   help="L2 penalty l2/2·Σ‖W‖² (default 0)")
    g.add_argument("--seed", metavar="N", type=_integer("--seed"), default=d.seed,
                   help=f"random seed (default {d.seed})")
    g.add_argument("--train-size", metavar="N", type=_integer("--train-size"), default=d.train_size,
                   help=f"training points (default {d.train_size})")
    g.add_argument("--test-size", metavar="N", type=_integer("--test-size"), default=d.test_size,
                   help=f"test points (default {d.test_size})")
    g.add_argument("--noise", metavar="X", type=_number("--noise"), default=d.noise,
                   help=f"data noise (default {d.noise})")
    g.add_argument("--eval-every", metavar="N", type=_integer("--eval-every"), default=d.eval_every,
                   help=f"steps between metrics snapshots (default {d.eval_every})")
    g.add_argument("--dtype", metavar="NAME", default=d.dtype, help=f"{', '.join(DTYPES)} (default {d.dtype})")


def config_from_args(args) -> Config:
    return Config(
        dataset=args.dataset, layers=args.layers, activation=args.activation, keep_prob=args.keep_prob,
        input_keep_prob=args.input_keep_prob, lr=args.lr, optimizer=args.optimizer,
        batch_size=args.batch_size, l2=args.l2, seed=args.seed, train_size=args.train_size,
        test_size=args.test_size, noise=args.noise, eval_every=args.eval_every, dtype=args.dtype,
    ).validate()


def main_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="dropout-tui",
        description="Train two identical networks side by side, one with inverted dropout "
                    "(÷ keep_prob while training) and one without, and watch where they differ. "
                    "Subcommands: 'dropout-tui bench' and 'dropout-tui replay FILE'.",
    )
    p.add_argument("--version", action=_VersionAction,
                   help="print the versions of dropout-tui, numpy, textual and Python, and exit")
    add_experiment_options(p)
    g = p.add_argument_group("headless")
    g.add_argument("--headless", action="store_true", help="train without the UI and print the result")
    g.add_argument("--steps", metavar="N", type=_integer("--steps"), default=None,
                   help=f"steps to train with --headless (default {DEFAULT_STEPS})")
    g.add_argument("--json", action="store_true",
                   help="with --headless: print one JSON object instead of a table")
    g = p.add_argument_group("recording")
    g.add_argument("--record", metavar="FILE", help="write a replayable session log (JSON Lines)")
    g.add_argument("--cast", metavar="FILE", help="write an asciicast v2 recording of the app's own output")
    g.add_argument("--csv", metavar="FILE",
                   help="write the metrics history as CSV, a row per snapshot and run, as it is made")
    g.add_argument("--force", action="store_true", help="overwrite existing --record/--cast/--csv files")
    g.add_argument("--screenshot-dir", metavar="DIR", default=".",
                   help="where 's' saves SVG screenshots and 'e' CSV exports (default .)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(argv)
    except (UsageError, ConfigError) as exc:
        print(f"dropout-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("dropout-tui: error: not enough memory for this experiment; try smaller "
              "--layers, --train-size or --test-size", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(argv: list[str]) -> int:
    from .threads import limit_blas_threads

    limit_blas_threads()
    if argv and argv[0] == "bench":
        from .bench_cmd import run_bench

        return run_bench(argv[1:])
    if argv and argv[0] == "replay":
        from .replay_cmd import run_replay

        return run_replay(argv[1:])
    args = main_parser().parse_args(argv)
    config = config_from_args(args)
    if not args.headless:
        for flag, given in (("--json", args.json), ("--steps", args.steps is not None)):
            if given:
                raise UsageError(f"{flag}: only with --headless (the app trains until you quit)")
    if args.steps is None:
        args.steps = DEFAULT_STEPS
    if args.steps < 0:
        raise UsageError(f"--steps: expected an integer >= 0, got {args.steps}")
    if args.headless:
        from .headless import run_headless

        return run_headless(config, args)
    from .app_main import run_app

    return run_app(config, args)


if __name__ == "__main__":
    sys.exit(main())
