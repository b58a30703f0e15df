"""Run the Textual app from the command line: live (``dropout-tui``) or a replay."""

from __future__ import annotations

import shutil


def _run(app, outputs) -> int:
    if outputs.cast is not None:
        from .cast import cast_driver_class

        app.driver_class = cast_driver_class(app.driver_class, outputs.cast)
    try:
        app.run()
    except BaseException:
        app.close_reason = "error"
        raise
    finally:
        if app.return_code not in (None, 0) and app.close_reason == "quit":
            app.close_reason = "error"  # Textual caught an exception and showed it
        outputs.close(app.close_reason, app.trainer.exp.step)
    return app.return_code or 0


def run_app(config, args) -> int:
    from .app import DropoutApp
    from .outputs import Outputs

    outputs = Outputs.open(config, args, mode="app", terminal=tuple(shutil.get_terminal_size()))
    try:
        app = DropoutApp(config, screenshot_dir=args.screenshot_dir, outputs=outputs)
    except BaseException:
        outputs.close("error", 0)
        raise
    return _run(app, outputs)


def run_replay_app(session, args) -> int:
    from .app import DropoutApp
    from .outputs import Outputs
    from .replay_trainer import ReplayTrainer

    app = DropoutApp(trainer=ReplayTrainer(session), screenshot_dir=getattr(args, "screenshot_dir", "."))
    return _run(app, Outputs())
