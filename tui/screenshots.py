"""Regenerate the README's screenshots: ``python -m dropout_tui.tui.screenshots [OUT_DIR [NAME ...]]``
(all of them into ``screenshots/`` by default; NAMEs, e.g. ``dropout-tui-80x24.svg``, pick some).

The app drives itself (Textual's ``run_test``) from a fixed seed and a fixed number of steps, so
the pictures are reproducible and show what a user sees after a few seconds of training: at the
sizes the README names, per dataset (and the Iris petals CSV), in ASCII mode, without colour
(NO_COLOR), in a small odd window with a deep net, in a light theme, and with the prediction rules
shown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dropout_tui.core.config import Config
from dropout_tui.core.data import DATASETS

from .app import DropoutApp

STEPS = 3000
# A user's CSV: the 2-feature Iris (petal length and width) from the test fixtures, so a clone
# (not an installed wheel, which has no tests/) can draw it.
IRIS_PETALS = Path(__file__).resolve().parents[1] / "tests" / "data" / "iris-petals.csv"
DEEP = {"layers": (32, 32, 32, 32, 32, 32), "activation": "leaky_relu", "optimizer": "momentum", "lr": 0.05,
        "dataset": "spiral", "input_keep_prob": 0.8}


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    changes: dict = field(default_factory=dict)
    ascii_only: bool = False
    no_color: bool = False
    theme: str | None = None
    keys: tuple[str, ...] = ()  # pressed before the picture (e.g. v: the prediction rules)


SHOTS = [
    Shot("dropout-tui-80x24.svg", (80, 24)),
    Shot("dropout-tui-120x40.svg", (120, 40)),
    *[Shot(f"dataset-{name}.svg", (120, 40), {"dataset": name}) for name in DATASETS],
    Shot("dropout-tui-ascii-80x24.svg", (80, 24), ascii_only=True),
    Shot("dropout-tui-no-color-80x24.svg", (80, 24), no_color=True),
    Shot("dropout-tui-61x19.svg", (61, 19), DEEP),
    Shot("dropout-tui-light-120x40.svg", (120, 40), theme="textual-light"),
    # The prediction rules (v): no dropout, ×p, dropout left on, Monte-Carlo dropout against T.
    Shot("prediction-rules-120x40.svg", (120, 40), keys=("v",)),
    Shot("prediction-rules-80x24.svg", (80, 24), keys=("v",)),
    # Regression: the prediction curves (sine) and the heat map of the predicted value (saddle).
    Shot("regression-sine-80x24.svg", (80, 24), {"dataset": "sine"}),
    Shot("regression-sine-no-color-80x24.svg", (80, 24), {"dataset": "sine"}, no_color=True),
    Shot("regression-sine-ascii-80x24.svg", (80, 24), {"dataset": "sine"}, ascii_only=True),
    Shot("regression-saddle-80x24.svg", (80, 24), {"dataset": "saddle"}),
    Shot("regression-saddle-no-color-120x40.svg", (120, 40), {"dataset": "saddle"}, no_color=True),
    *([Shot("dataset-iris-petals.svg", (120, 40), {"dataset": "csv", "data": str(IRIS_PETALS)})]
      if IRIS_PETALS.is_file() else []),
]


async def _shoot(out_dir: Path, shot: Shot) -> Path:
    saved = os.environ.get("NO_COLOR")
    if shot.no_color:
        os.environ["NO_COLOR"] = "1"  # Textual reads it when the app is made
    try:
        app = DropoutApp(Config.for_dataset(**shot.changes), worker=False, paused=True, prerun=STEPS,
                         ascii_only=shot.ascii_only)
    finally:
        if shot.no_color:
            if saved is None:
                del os.environ["NO_COLOR"]
            else:
                os.environ["NO_COLOR"] = saved
    async with app.run_test(size=shot.size) as pilot:
        if shot.theme:
            app.theme = shot.theme
        for key in shot.keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause()
        await pilot.pause()
        path = app.save_screenshot(filename=shot.name, path=str(out_dir))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """Exit status 0, or 2 for a bad argument (one line on stderr, nothing written)."""
    names = [shot.name for shot in SHOTS]
    # argparse, so that "--help" is help and not a directory to fill with pictures.
    parser = argparse.ArgumentParser(prog="python -m dropout_tui.tui.screenshots", allow_abbrev=False,
                                     description="Regenerate the README's screenshots (SVG).")
    parser.add_argument("out_dir", nargs="?", default="screenshots", metavar="OUT_DIR",
                        help="where to write them (default screenshots)")
    parser.add_argument("wanted", nargs="*", metavar="NAME", help=f"only these: {', '.join(names)}")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    out_dir, wanted = Path(args.out_dir), set(args.wanted)
    unknown = wanted - set(names)
    if unknown:
        print(f"screenshots: error: no screenshot named {', '.join(sorted(unknown))} "
              f"(one of {', '.join(names)})", file=sys.stderr)
        return 2
    if out_dir.exists() and not out_dir.is_dir():
        print(f"screenshots: error: {out_dir} is not a directory", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        if not wanted or shot.name in wanted:
            print(asyncio.run(_shoot(out_dir, shot)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
