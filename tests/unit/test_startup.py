"""Start-up does only what the first frame needs: the app on its default dataset imports none of the
modules only other paths use, and the garbage collector the command line pauses for start-up is
back on once the app is up (``tui.startup``). Each probe runs in a fresh interpreter: what one
process has imported, or frozen, says nothing about another. Timing is ``dropout-tui bench --ui``'s
business, not a test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Only recordings, CSV files, 1-D regression and the help screen use these.
NOT_AT_START = (
    "dropout_tui.core.session",
    "dropout_tui.core.csv_data",
    "dropout_tui.core.csv_export",
    "dropout_tui.core.curves",
    "dropout_tui.tui.widgets.help_screen",
)

# The app as ``dropout-tui`` starts it (tui.cli -> tui.app_main.run_app), without a terminal:
# the same modules, options, outputs and app, run by Textual's test driver instead.
PROBE = r"""
import asyncio, gc, json, sys
from dropout_tui.tui import cli
from dropout_tui.tui.startup import pause_collector

pause = "--pause" in sys.argv
if pause:
    pause_collector()  # as the console command does
from dropout_tui.tui import app_main  # noqa: F401  (the command's path imports it)
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.args import config_from_args, session_files_from_args
from dropout_tui.tui.outputs import Outputs

keys = [a for a in sys.argv[1:] if a.startswith("key:")]
args = cli.main_parser().parse_args([a for a in sys.argv[1:] if a != "--pause" and a not in keys])
config = config_from_args(args)
outputs = Outputs.open(config, session_files_from_args(args), mode="app", terminal=(80, 24))
collector_before = gc.isenabled()

async def main():
    app = DropoutApp(config, outputs=outputs, warmup=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key[4:])
            for _ in range(20):  # a screen pushed by a key mounts over a few turns of the loop
                await pilot.pause(0.05)
                if "dropout_tui.tui.widgets.help_screen" in sys.modules:
                    break
        return {"screen_ok": "unrescaled" in str(app.query_one("#col-unrescaled").border_title)}

got = asyncio.run(main())
outputs.close("quit", 0)
print(json.dumps({
    "modules": sorted(m for m in sys.modules if m.startswith("dropout_tui")),
    "collector_before": collector_before,
    "collector_after": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    **got,
}))
"""


def _probe(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_default_app_starts_without_the_modules_only_other_paths_use():
    got = _probe()
    assert got["screen_ok"]
    loaded = set(got["modules"])
    assert "dropout_tui.tui.app" in loaded and "dropout_tui.core.experiment" in loaded
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


def test_the_probe_sees_modules_loaded_on_first_use(tmp_path):
    """The same probe sees each deferred module once its path is taken: a recording, a CSV
    dataset, the help screen."""
    data = REPO_ROOT / "tests" / "data" / "iris.csv"
    got = set(_probe("--record", str(tmp_path / "s.jsonl"), "--data", str(data), "key:question_mark")["modules"])
    assert {"dropout_tui.core.session", "dropout_tui.core.csv_data",
            "dropout_tui.tui.widgets.help_screen"} <= got


def test_the_collector_paused_for_start_up_is_back_on_once_the_app_is_up():
    got = _probe("--pause")
    assert got["collector_before"] is False  # the probe did pause it
    assert got["collector_after"] is True
    assert got["frozen"] > 0  # start-up's objects: the later full collections skip them


def test_without_a_pause_the_app_leaves_the_collector_as_it_was():
    got = _probe()
    assert got["collector_before"] is True and got["collector_after"] is True
    assert got["frozen"] == 0  # nothing frozen that this process did not ask to freeze


COLLECTOR = r"""
import gc, json
from dropout_tui.tui.startup import pause_collector, resume_collector
out = {}
gc.disable()                 # someone else's pause
pause_collector(); resume_collector()
out["others_pause_kept"] = not gc.isenabled()
out["others_pause_frozen"] = gc.get_freeze_count()
gc.enable()
pause_collector()
out["paused"] = not gc.isenabled()
resume_collector(); resume_collector()
out["resumed"] = gc.isenabled()
out["frozen"] = gc.get_freeze_count()
print(json.dumps(out))
"""


def test_resume_undoes_only_its_own_pause():
    proc = subprocess.run([sys.executable, "-c", COLLECTOR], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == {"others_pause_kept": True, "others_pause_frozen": 0, "paused": True, "resumed": True,
                   "frozen": got["frozen"]}
    assert got["frozen"] > 0


def test_commands_other_than_the_app_run_with_the_collector_on():
    """The console command pauses the collector for the app's start-up only: a headless run
    (here: one that trains, through the real entry point) has it back before it starts."""
    code = ("import gc, sys\n"
            "from dropout_tui.tui import headless\n"
            "seen = []\n"
            "real = headless.run_headless\n"
            "def spy(config, args):\n"
            "    seen.append(gc.isenabled())\n"
            "    return real(config, args)\n"
            "headless.run_headless = spy\n"
            "sys.argv = ['dropout-tui', '--headless', '--steps', '2', '--json']\n"
            "from dropout_tui.tui.cli import main\n"
            "code = main()\n"
            "print(seen, gc.isenabled(), code, file=sys.stderr)\n"
            "sys.exit(0 if seen == [True] and gc.isenabled() and code == 0 else 1)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
