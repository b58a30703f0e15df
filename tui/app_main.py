"""Launch the Textual app (placeholder until the app lands)."""

from __future__ import annotations


def run_app(config, args) -> int:
    from .app import DropoutApp

    app = DropoutApp(config, args)
    app.run()
    return app.return_code or 0
