"""The JSON shape of a result: ``--headless --json`` and headless replays print it."""

from __future__ import annotations

import math
from typing import Any

from .config import Config
from .snapshot import Snapshot


def json_safe(obj: Any) -> Any:
    """Non-finite floats become None (JSON has no nan/inf); containers are copied."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def result(config: Config, snapshot: Snapshot) -> dict[str, Any]:
    """``{"config", "step", "keep_prob", "input_keep_prob", "runs"}``: the README's documented shape."""
    return json_safe({"config": config.to_dict(), "step": snapshot["step"], "keep_prob": snapshot["keep_prob"],
                      "input_keep_prob": snapshot["input_keep_prob"], "runs": snapshot["runs"]})
