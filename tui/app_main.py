"""Run the Textual app from the command line: live (``dropout-tui``) or a replay.

Before anything is made or switched: the app needs a terminal to read keys from, the experiment
must fit in memory, and a signal that came during start-up stops it here (``tui.signals``). The
terminal's modes are saved before the app starts and put back after it ends, however it ends
(``tui.terminal``). After the app, what it could only show in notices (a file that stopped, not
enough memory) is printed once more as one line each, since the alternate screen is gone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
from typing import TYPE_CHECKING

from dropout_tui.core.config import Config, check_memory

from .args import SessionFiles, session_files_from_args
from .errors import EXIT_USAGE, UsageError, print_error
from .outputs import Outputs, check_files
from .signals import SIGNALS, Stopped, check_signals
from .terminal import TerminalState, steady_driver_class
from .widgets.glyphs import ascii_wanted

if TYPE_CHECKING:
    from dropout_tui.core.csv_data import CsvSource
    from dropout_tui.core.session import SessionFile


def need_a_terminal(headless_hint: str) -> None:
    try:
        interactive = os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        interactive = False
    if not interactive:
        raise UsageError(f"the app reads its keys from a terminal, and stdin is not one; {headless_hint}")


def _run(app, outputs: Outputs, terminal: TerminalState) -> int:
    if hasattr(app.driver_class, "_sigcont_application"):  # Textual's Linux driver
        app.driver_class = steady_driver_class(app.driver_class)
    if outputs.cast is not None:
        from .cast import cast_driver_class

        app.driver_class = cast_driver_class(app.driver_class, outputs.cast)
    if app.ascii_only:
        from .widgets.glyphs import ascii_driver_class

        # Outermost, so the terminal (and a --cast recording) gets exactly the ASCII text.
        app.driver_class = ascii_driver_class(app.driver_class)
    app.terminal_state = terminal
    switched = False  # the app may have left the terminal in its alternate screen
    atexit.register(terminal.restore, screen=True)
    try:
        check_signals()  # a signal during start-up: do not switch the terminal at all
        switched = True
        app.run()
        switched = False  # Textual left the alternate screen itself
    except Stopped as stopped:
        app.close_reason = str(stopped)  # the signal's name
        app.stopped_status = stopped.exit_status
    except BaseException:
        app.close_reason = "error"
        raise
    finally:
        # Leaving an alternate screen that was never entered would move the cursor (it restores
        # a saved position), so only when the app may have left it on.
        terminal.restore(screen=switched)
        atexit.unregister(terminal.restore)
        SIGNALS.reinstall()  # the event loop, closing, put the default actions back
        if app.return_code not in (None, 0) and app.close_reason == "quit":
            app.close_reason = "error"  # Textual caught an exception and showed it
        outputs.close(app.close_reason, app.trainer.step)
    if app.stopped_status is not None:
        return app.stopped_status
    for problem in outputs.problems:
        print_error(problem)
    if app.fatal_error:
        print_error(app.fatal_error)
        return EXIT_USAGE
    code = app.return_code or 0
    return EXIT_USAGE if code == 0 and outputs.problems else code


def run_app(config: Config, args) -> int:
    from .app import DropoutApp

    files = session_files_from_args(args)
    check_files(files, mode="app")  # a refused file first: it is the more specific complaint
    need_a_terminal("use --headless")
    size = shutil.get_terminal_size()
    check_memory(config, grid_points=size.columns * size.lines)  # the boundary maps too
    # The user's CSV is read once, before any file is opened: a bad one is refused with nothing written.
    source: CsvSource | None = None
    if config.data:
        from dropout_tui.core.csv_data import CsvSource  # only for --data: the toy datasets start without it

        source = CsvSource.read(config.data, test_path=config.test_data or None, label=config.label or None,
                                task=config.task)
    terminal = TerminalState()  # the modes to give back, saved before anything switches them
    check_signals()
    outputs = Outputs.open(config, files, mode="app", terminal=(size.columns, size.lines), source=source)
    try:
        app = DropoutApp(config, screenshot_dir=files.screenshot_dir, outputs=outputs, source=source,
                         ascii_only=ascii_wanted(getattr(args, "ascii", False)), warmup=True)
    except BaseException:
        outputs.close(SIGNALS.name or "error", 0)
        raise
    return _run(app, outputs, terminal)


def run_replay_app(session: SessionFile, files: SessionFiles, ascii_flag: bool = False,
                   data_path: str | None = None, test_path: str | None = None) -> int:
    from dropout_tui.core.csv_data import CsvDataError

    from .app import DropoutApp
    from .replay_trainer import ReplayTrainer

    need_a_terminal("use --headless or --verify")
    try:
        trainer = ReplayTrainer(session, data_path=data_path, test_path=test_path)
    except (CsvDataError, ValueError) as exc:
        raise UsageError(f"{session.path}: {exc}") from None
    terminal = TerminalState()
    check_signals()
    app = DropoutApp(trainer=trainer, screenshot_dir=files.screenshot_dir, ascii_only=ascii_wanted(ascii_flag))
    return _run(app, Outputs(), terminal)
