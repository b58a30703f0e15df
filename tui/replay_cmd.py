"""``dropout-tui replay FILE``: play a recorded session again.

- ``replay FILE``: in the app (the speed keys, pause and single steps work; the recording steers).
- ``replay FILE --headless``: re-run it and print the final result like ``--headless`` (``--json``).
- ``replay FILE --verify``: re-run it headless and compare every recorded snapshot. Bit-identical
  when the numpy version is the recording's, else within a relative tolerance (``--rtol``, default
  1e-6). Exit 0 when everything matches, 1 at the first difference (named on stdout; with
  ``--json`` a JSON object), 2 for a file that cannot be replayed (one line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from dropout_tui.core.config import ConfigError
from dropout_tui.core.replay import DEFAULT_RTOL, Replayed, Replayer, default_rtol, normalise, one_blas_thread
from dropout_tui.core.report import json_safe
from dropout_tui.core.session import SessionFile, SessionFormatError, read_session

from .args import Parser, add_display_options, add_session_file_options, number, session_files_from_args
from .errors import EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, UsageError, warn
from .headless import report_problem
from .outputs import STDOUT, Outputs, check_distinct
from .signals import SIGNALS, check_signals
from .widgets.glyphs import ascii_wanted


def replay_parser() -> Parser:
    p = Parser(prog="dropout-tui replay",
               description="Play a session recorded with --record: in the app, or headless; "
                           "--verify re-runs it and checks every recorded snapshot.")
    p.add_argument("file", metavar="FILE", help="a session log written by --record")
    p.add_argument("--headless", action="store_true", help="replay without the UI and print the final result")
    p.add_argument("--verify", action="store_true",
                   help="replay headless and compare every recorded snapshot; exit 0 match, 1 mismatch, 2 bad file")
    p.add_argument("--json", action="store_true", help="headless: print one JSON object instead of a table")
    p.add_argument("--rtol", type=number("--rtol"), default=None,
                   help=f"relative tolerance for --verify (default 0 = bit-identical with the recording's "
                        f"numpy version, {DEFAULT_RTOL:g} with another)")
    p.add_argument("--data", metavar="FILE", default=None,
                   help="the recording's CSV file, when it was too large to be recorded with it (checked by SHA-256)")
    p.add_argument("--test-data", metavar="FILE", default=None, help="likewise its separate test file")
    add_session_file_options(p, record=False, cast=False,
                             csv_help="headless: write the replayed metrics history as CSV ('-' for stdout)")
    add_display_options(p)
    return p


def load_session(path: str) -> SessionFile:
    """The validated session, or raises UsageError with the one line to show. A FIFO,
    ``<(cat log)`` or ``/dev/stdin`` from a pipe is read once (``core.session.read_session``)."""
    try:
        with SIGNALS.interrupting():  # a FIFO nobody writes to waits in open() until a signal
            session = read_session(path)
    except SessionFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a session log") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for warning in session.warnings:
        warn(f"{path}: {warning}")
    return session


def run(argv: list[str]) -> int:
    args = replay_parser().parse_args(argv)
    for option, value in (("FILE", args.file), ("--data", args.data), ("--test-data", args.test_data)):
        if value == "":  # an unset shell variable
            raise UsageError(f"{option}: expected a file name, got an empty string")
    if args.rtol is not None and args.rtol < 0:
        raise UsageError(f"--rtol: expected a number >= 0, got {args.rtol}")
    headless = args.headless or args.verify
    if not headless and (args.json or args.csv):
        raise UsageError(f"{'--json' if args.json else '--csv'}: only with --headless or --verify")
    files = session_files_from_args(args)
    # Before reading: an output must never name the file being replayed (nor overwrite it).
    check_distinct([("--csv", files.csv)], [("the session log being replayed", Path(args.file))])
    check_signals()
    session = load_session(args.file)
    try:
        if not headless:
            from .app_main import run_replay_app

            return run_replay_app(session, files, args.ascii, data_path=args.data, test_path=args.test_data)
        return _replay_headless(session, args, files)
    finally:
        session.release()


def _replay_headless(session: SessionFile, args, files) -> int:
    from .headless import check_stdout, print_result

    check_stdout(args.json, files.csv)
    # With --csv - stdout carries the CSV alone; what would be printed there goes to stderr.
    report = sys.stderr if files.csv == STDOUT else sys.stdout
    rtol = default_rtol(session) if args.rtol is None else args.rtol
    recorded_numpy = session.versions.get("numpy")
    if args.verify and args.rtol is None and rtol:
        print(f"dropout-tui: note: recorded with numpy {recorded_numpy}, replaying with {np.__version__}: "
              f"comparing within a relative tolerance of {rtol:g}", file=sys.stderr)
    stop = SIGNALS
    check_signals()  # before any file is made
    outputs = Outputs.open(session.config, files, mode="replay", inputs=[("the session log being replayed",
                                                                           Path(session.path))],
                           report=report_problem)
    reason = "error"
    try:
        replayer = Replayer(session, verify=args.verify, rtol=rtol, data_path=args.data, test_path=args.test_data)
        with stop.insisting():  # a second signal stops even a chunk that does not come back
            while not replayer.done and not stop.requested:
                for passed in replayer.advance(None):
                    if isinstance(passed, Replayed):
                        outputs.on_snapshot(passed.snapshot)
        reason = "end"
    except SessionFormatError as exc:  # the file changed under us since it was validated
        raise UsageError(f"{session.path}: {exc}") from None
    except (ConfigError, ValueError, MemoryError) as exc:
        raise UsageError(f"{session.path}: cannot replay: {exc or 'not enough memory'}") from None
    finally:
        outputs.close(stop.name or reason, None)
    if stop.signum is not None:
        if stop.name != "SIGPIPE":
            print(f"dropout-tui: stopped by {stop.name} at step {replayer.exp.step:,}", file=sys.stderr)
        return stop.exit_status or EXIT_USAGE

    if args.verify:
        mismatch = replayer.mismatch
        if args.json:
            out = {"verified": mismatch is None, "rtol": rtol, "snapshots": replayer.snapshots_compared,
                   "events": replayer.events_applied, "step": replayer.exp.step,
                   "mismatch": None if mismatch is None else json_safe(mismatch.as_dict())}
            sys.stdout.write(json.dumps(out) + "\n")
        elif mismatch is not None:
            print(f"mismatch: {mismatch}", file=report)
        else:
            how = "bit-identical" if rtol == 0 else f"within a relative tolerance of {rtol:g}"
            print(f"verified: {replayer.snapshots_compared} snapshots and {replayer.events_applied} events "
                  f"replayed {how} (to step {replayer.exp.step})", file=report)
        if outputs.problems:
            return EXIT_USAGE
        return EXIT_OK if mismatch is None else EXIT_MISMATCH

    exp = replayer.exp
    snap = replayer.last_snapshot
    if snap is None or snap["step"] != exp.step:
        with one_blas_thread():
            snap = normalise(exp.snapshot())
    print_result(exp.config, snap, exp.arch, args.json, files.csv == STDOUT, ascii_wanted(args.ascii),
                 target_scale=exp.data.target_scale)
    return EXIT_USAGE if outputs.problems else EXIT_OK
