"""Print pip constraints that pin every runtime dependency to its declared lower bound.

    python .ci/lowest_constraints.py > lowest.txt
    pip install -c lowest.txt '.[test-runner]'

Reads [project].dependencies from pyproject.toml. A dependency without a ">=" bound is an error:
a floor nobody tests is a promise nobody keeps. Needs Python 3.11+ (tomllib) and packaging.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def lowest_pins(pyproject: Path = PYPROJECT) -> list[str]:
    with pyproject.open("rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    pins = []
    for text in dependencies:
        req = Requirement(text)
        floors = [spec.version for spec in req.specifier if spec.operator == ">="]
        if len(floors) != 1:
            raise SystemExit(f"{PYPROJECT.name}: {text!r} needs exactly one '>=' lower bound")
        marker = f"; {req.marker}" if req.marker else ""
        pins.append(f"{req.name}=={floors[0]}{marker}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("".join(f"{pin}\n" for pin in lowest_pins()))
