"""Run the Textual app from the command line."""

from __future__ import annotations


def run_app(config, args) -> int:
    from .app import DropoutApp

    app = DropoutApp(config, screenshot_dir=args.screenshot_dir)
    app.run()
    return app.return_code or 0
