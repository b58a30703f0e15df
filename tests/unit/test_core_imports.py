"""Import hygiene: the engine never imports the terminal UI libraries (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, json, pkgutil, sys
import dropout_tui.core
names = ["dropout_tui.core"]
for info in pkgutil.walk_packages(dropout_tui.core.__path__, "dropout_tui.core."):
    importlib.import_module(info.name)
    names.append(info.name)
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(json.dumps({"imported": names, "ui": ui}))
"""


def test_core_imports_without_textual_or_rich():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    expected = {f"dropout_tui.core.{name}" for name in ("config", "data", "activations", "network", "dropout", "optim",
                                                        "experiment", "metrics", "report")}
    assert expected <= set(out["imported"]), out["imported"]
    assert out["ui"] == [], f"core imported UI modules: {out['ui']}"


def test_the_check_can_fail():
    """The same probe sees rich when something does import it."""
    proc = subprocess.run([sys.executable, "-c", "import rich.table\n" + SCRIPT], capture_output=True,
                          text=True, timeout=60, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "rich" in json.loads(proc.stdout)["ui"]
