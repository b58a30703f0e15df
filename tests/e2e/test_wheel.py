"""The built artefacts work: the sdist builds a wheel, both pass ``twine check``, and the wheel,
installed into a fresh virtual environment (dependencies from the package index, nothing from
this checkout), runs the CLI, the app with its stylesheet, and the screenshot script.

Slow (about a minute) and needs the package index; marked ``e2e``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]

APP_PROBE = r"""
import asyncio, html, json, re, sys
from pathlib import Path
import dropout_tui.tui
from dropout_tui.core.config import Config
from dropout_tui.tui.app import DropoutApp

async def main():
    app = DropoutApp(Config(), worker=False, paused=True, prerun=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
        tcss = Path(dropout_tui.tui.__file__).with_name("app.tcss")
        return {
            "tcss": str(tcss), "tcss_exists": tcss.is_file(),
            "stylesheet_has_tcss": app.stylesheet.has_source(str(tcss)),
            "rules": len(app.stylesheet.rules),
            "status_max_height": app.query_one("#status").styles.max_height.value,
            "screen": html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " "),
        }

print(json.dumps(asyncio.run(main())))
"""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PYTHONWARNINGS="ignore", TERM="dumb", COLUMNS="120")
    return env


def _run(cmd, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Without --sdist/--wheel, build makes the sdist and then the wheel from the unpacked sdist,
    # so a file missing from the sdist (the stylesheet, say) breaks the wheel too.
    _run([sys.executable, "-m", "build", "--outdir", out, REPO], cwd=out)
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", root / "env"], cwd=root)
    (wheel,) = dist.glob("*.whl")
    _run([root / "env" / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], cwd=root)
    return root / "env"


def test_sdist_and_wheel_pass_twine_check(dist):
    files = sorted(p.name for p in dist.iterdir())
    assert files == [f"dropout_tui-{VERSION}-py3-none-any.whl", f"dropout_tui-{VERSION}.tar.gz"], files
    proc = _run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())], cwd=dist)
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_version(venv, tmp_path):
    out = _run([venv / "bin" / "dropout-tui", "--version"], cwd=tmp_path).stdout
    assert re.fullmatch(rf"dropout-tui {re.escape(VERSION)} \(numpy \S+, textual \S+, rich \S+, Python \S+\)\n",
                        out), out


def test_headless_json(venv, tmp_path):
    out = _run([venv / "bin" / "dropout-tui", "--headless", "--steps", "50", "--json"], cwd=tmp_path).stdout
    result = json.loads(out)
    assert result["step"] == 50
    assert set(result["runs"]) == {"inverted", "unrescaled"}


def test_first_frame_with_its_stylesheet(venv, tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(APP_PROBE)
    got = json.loads(_run([venv / "bin" / "python", probe], cwd=tmp_path).stdout)
    assert got["tcss_exists"] and Path(got["tcss"]).is_relative_to(venv), got["tcss"]
    assert got["stylesheet_has_tcss"] and got["rules"] > 0
    assert got["status_max_height"] == 2  # set only in app.tcss
    screen = got["screen"]
    assert "moons" in screen and "step 20" in screen and "keep_prob 0.50" in screen, screen


def test_screenshot_script_writes_svgs(venv, tmp_path):
    # Two of the seven (all of them take most of a minute): one per window size.
    names = ["dropout-tui-80x24.svg", "dataset-xor.svg"]
    _run([venv / "bin" / "python", "-m", "dropout_tui.tui.screenshots", tmp_path / "shots", *names], cwd=tmp_path)
    svgs = sorted(p.name for p in (tmp_path / "shots").iterdir())
    assert svgs == sorted(names)
    for name in names:
        text = (tmp_path / "shots" / name).read_text()
        assert text.lstrip().startswith("<svg") and "keep_prob" in text.replace("&#160;", " "), name


def test_nothing_named_core_or_tui_at_the_top_level(venv, tmp_path):
    code = ("import importlib.metadata, json; "
            "print(json.dumps([str(f) for f in importlib.metadata.files('dropout-tui')]))")
    files = json.loads(_run([venv / "bin" / "python", "-c", code], cwd=tmp_path).stdout)
    top = {Path(f).parts[0] for f in files}
    assert "dropout_tui" in top
    assert not top & {"core", "tui", "core.py", "tui.py"}, sorted(top)
    (site,) = venv.glob("lib/python*/site-packages")
    assert not {"core", "tui"} & {p.name for p in site.iterdir()}
