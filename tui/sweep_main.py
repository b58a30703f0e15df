"""``dropout-tui sweep``: the sweep of ``tui.sweep_cmd``, printed headless or, with ``--tui``, shown
filling in by ``tui.sweep_app``. Its own module so that neither of those two imports the other's
caller: the live view builds on the command's parts, and only this entry point knows both."""

from __future__ import annotations

from .sweep_cmd import Sweep
from .sweep_cmd import run as run_sweep


def run(argv: list[str]) -> int:
    return run_sweep(argv, view=_live_view)


def _live_view(sweep: Sweep) -> int:
    from .sweep_app import run_sweep_app  # Textual is loaded only for --tui

    return run_sweep_app(sweep)
