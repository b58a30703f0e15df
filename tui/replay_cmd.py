"""``dropout-tui replay FILE``: play a recorded session again.

- ``replay FILE``: in the app (``tui.app_main.run_replay_app(session, args)``).
- ``replay FILE --headless``: re-run it and print the final result like ``--headless`` (``--json``).
- ``replay FILE --headless --verify``: re-run it and compare every recorded snapshot. Bit-identical
  when the numpy version is the recording's, else within a relative tolerance (``--rtol``, default
  1e-6). Exit 0 when everything matches, 1 at the first difference (named on stdout), 2 for a file
  that cannot be replayed (one line on stderr).
"""

from __future__ import annotations

import json
import sys

import numpy as np

from dropout_tui.core.config import ConfigError
from dropout_tui.core.recording import (CsvLog, DEFAULT_RTOL, Replayer, SessionFormatError,
                            default_rtol, normalise, read_session)
from dropout_tui.core.report import result

from .cli import EXIT_USAGE, UsageError, _Parser, _number
from .outputs import open_output

EXIT_MISMATCH = 1


def replay_parser() -> _Parser:
    p = _Parser(prog="dropout-tui replay",
                description="Play a session recorded with --record: in the app, or headless; "
                            "--verify re-runs it and checks every recorded snapshot.")
    p.add_argument("file", metavar="FILE", help="a session log written by --record")
    p.add_argument("--headless", action="store_true", help="replay without the UI and print the final result")
    p.add_argument("--verify", action="store_true",
                   help="with --headless: compare every recorded snapshot; exit 0 match, 1 mismatch, 2 bad file")
    p.add_argument("--json", action="store_true", help="with --headless: print one JSON object instead of a table")
    p.add_argument("--rtol", type=_number("--rtol"), default=None,
                   help=f"relative tolerance for --verify (default 0 = bit-identical with the recording's "
                        f"numpy version, {DEFAULT_RTOL:g} with another)")
    p.add_argument("--csv", metavar="OUT", help="with --headless: write the replayed metrics history as CSV")
    p.add_argument("--force", action="store_true", help="overwrite an existing --csv file")
    return p


def _error(message: str) -> int:
    print(f"dropout-tui: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def load_session(path: str):
    """The validated session, or raises UsageError with the one line to show."""
    try:
        session = read_session(path)
    except SessionFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a session log") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for warning in session.warnings:
        print(f"dropout-tui: warning: {path}: {warning}", file=sys.stderr)
    return session


def run_replay(argv: list[str]) -> int:
    args = replay_parser().parse_args(argv)
    if args.rtol is not None and args.rtol < 0:
        raise UsageError(f"--rtol: expected a number >= 0, got {args.rtol}")
    if not args.headless and (args.verify or args.json or args.csv):
        flag = "--verify" if args.verify else "--json" if args.json else "--csv"
        raise UsageError(f"{flag}: only with --headless")
    session = load_session(args.file)
    if not args.headless:
        return _replay_in_app(session, args)
    return _replay_headless(session, args)


def _replay_in_app(session, args) -> int:
    from . import app_main

    run_replay_app = getattr(app_main, "run_replay_app", None)
    if run_replay_app is None:
        return _error("replay in the app is not available in this build yet; "
                      "use 'dropout-tui replay FILE --headless'")
    return run_replay_app(session, args) or 0


def _replay_headless(session, args) -> int:
    rtol = default_rtol(session) if args.rtol is None else args.rtol
    recorded_numpy = session.versions.get("numpy")
    if args.verify and args.rtol is None and rtol:
        print(f"dropout-tui: note: recorded with numpy {recorded_numpy}, replaying with {np.__version__}: "
              f"comparing within a relative tolerance of {rtol:g}", file=sys.stderr)
    csv_log = open_output("--csv", args.csv,
                          lambda: CsvLog(args.csv, len(session.config.layers), force=args.force))
    try:
        replayer = Replayer(session, verify=args.verify, rtol=rtol)
        while not replayer.done:
            for record in replayer.advance(None):
                if csv_log is not None and record["type"] == "snapshot":
                    csv_log.write(record)
    except SessionFormatError as exc:  # the file changed under us since it was validated
        raise UsageError(f"{session.path}: {exc}") from None
    except (ConfigError, ValueError, MemoryError) as exc:
        raise UsageError(f"{session.path}: cannot replay: {exc}") from None
    finally:
        if csv_log is not None:
            csv_log.close()

    if args.verify:
        if replayer.mismatch is not None:
            print(f"mismatch: {replayer.mismatch}")
            return EXIT_MISMATCH
        how = "bit-identical" if rtol == 0 else f"within a relative tolerance of {rtol:g}"
        print(f"verified: {replayer.snapshots_compared} snapshots and {replayer.events_applied} events "
              f"replayed {how} (to step {replayer.exp.step})")
        return 0

    exp = replayer.exp
    snap = replayer.last_snapshot
    if snap is None or snap["step"] != exp.step:
        snap = normalise(exp.snapshot())
    if args.json:
        sys.stdout.write(json.dumps(result(exp.config, snap)) + "\n")
    else:
        from rich.console import Console

        from .headless import summary_table

        Console().print(summary_table(exp.config, snap))
    return 0
