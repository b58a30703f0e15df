"""Regenerate the README's screenshots: ``python -m dropout_tui.tui.screenshots [OUT_DIR [NAME ...]]``
(all of them into ``screenshots/`` by default; NAMEs, e.g. ``dropout-tui-80x24.svg``, pick some).

The app drives itself (Textual's ``run_test``) from a fixed seed and a fixed number of steps, so
the pictures are reproducible and show what a user sees after a few seconds of training.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from dropout_tui.core.config import Config
from dropout_tui.core.data import DATASETS

from .app import DropoutApp

STEPS = 3000
SHOTS = [
    ("dropout-tui-80x24.svg", (80, 24), {}),
    ("dropout-tui-120x40.svg", (120, 40), {}),
    *[(f"dataset-{name}.svg", (120, 40), {"dataset": name}) for name in DATASETS],
]


async def _shoot(out_dir: Path, name: str, size: tuple[int, int], changes: dict) -> Path:
    app = DropoutApp(Config(**changes), worker=False, paused=True, prerun=STEPS)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        path = app.save_screenshot(filename=name, path=str(out_dir))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0] if args else "screenshots")
    wanted = set(args[1:])
    unknown = wanted - {name for name, _, _ in SHOTS}
    if unknown:
        print(f"screenshots: error: no screenshot named {', '.join(sorted(unknown))} "
              f"(one of {', '.join(name for name, _, _ in SHOTS)})", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, size, changes in SHOTS:
        if not wanted or name in wanted:
            print(asyncio.run(_shoot(out_dir, name, size, changes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
