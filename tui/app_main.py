"""Run the Textual app from the command line: live (``dropout-tui``) or a replay."""

from __future__ import annotations

import shutil

from dropout_tui.core.config import Config
from dropout_tui.core.csv_data import CsvDataError, CsvSource
from dropout_tui.core.session import SessionFile

from .args import SessionFiles, session_files_from_args
from .errors import UsageError
from .outputs import Outputs
from .widgets.glyphs import ascii_wanted


def _run(app, outputs: Outputs) -> int:
    if outputs.cast is not None:
        from .cast import cast_driver_class

        app.driver_class = cast_driver_class(app.driver_class, outputs.cast)
    if app.ascii_only:
        from .widgets.glyphs import ascii_driver_class

        # Outermost, so the terminal (and a --cast recording) gets exactly the ASCII text.
        app.driver_class = ascii_driver_class(app.driver_class)
    try:
        app.run()
    except BaseException:
        app.close_reason = "error"
        raise
    finally:
        if app.return_code not in (None, 0) and app.close_reason == "quit":
            app.close_reason = "error"  # Textual caught an exception and showed it
        outputs.close(app.close_reason, app.trainer.step)
    return app.return_code or 0


def run_app(config: Config, args) -> int:
    from .app import DropoutApp

    files = session_files_from_args(args)
    size = shutil.get_terminal_size()
    # The user's CSV is read once, before any file is opened: a bad one is refused with nothing written.
    source = CsvSource.read(config.data, test_path=config.test_data or None, label=config.label or None,
                            task=config.task) if config.data else None
    outputs = Outputs.open(config, files, mode="app", terminal=(size.columns, size.lines), source=source)
    try:
        app = DropoutApp(config, screenshot_dir=files.screenshot_dir, outputs=outputs, source=source,
                         ascii_only=ascii_wanted(getattr(args, "ascii", False)), warmup=True)
    except BaseException:
        outputs.close("error", 0)
        raise
    return _run(app, outputs)


def run_replay_app(session: SessionFile, files: SessionFiles, ascii_flag: bool = False,
                   data_path: str | None = None, test_path: str | None = None) -> int:
    from .app import DropoutApp
    from .replay_trainer import ReplayTrainer

    try:
        trainer = ReplayTrainer(session, data_path=data_path, test_path=test_path)
    except (CsvDataError, ValueError) as exc:
        raise UsageError(f"{session.path}: {exc}") from None
    app = DropoutApp(trainer=trainer, screenshot_dir=files.screenshot_dir, ascii_only=ascii_wanted(ascii_flag))
    return _run(app, Outputs())
