"""The JSON shape of a result: ``--headless --json`` and headless replays print it."""

from __future__ import annotations

import math
import typing
from typing import Any

from .config import Config
from .data import TargetScale
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


def result(config: Config, snapshot: Snapshot, explanation: list[str] | None = None,
           target_scale: TargetScale | None = None) -> dict[str, Any]:
    """``{"config", "step", "keep_prob", "input_keep_prob", "chance_acc", "chance_loss", "runs"}``: the
    README's documented shape; with ``explanation`` (the panel's sentences) also ``"explanation"``;
    with ``target_scale`` (a CSV file's regression target, which the network fits standardised)
    also ``"target_scale": {"name", "mean", "std"}`` in the target's units, so that a reader can
    take the standardised losses and RMSE back to them (RMSE × std). Snapshots recorded before
    chance levels existed lack them, and so does their result. ``config["task"]`` is the task the
    numbers are of, for the built-in sets too (sine and saddle: "regression")."""
    out: dict[str, Any] = {"config": config.to_dict()}
    # The task the numbers are of: the field itself is the --data option's (a built-in set knows
    # its own task and keeps the default there), which would call sine "classification".
    out["config"]["task"] = "regression" if config.regression else "classification"
    snap: dict[str, Any] = dict(snapshot)
    out.update((k, snap[k]) for k in typing.get_type_hints(Snapshot) if k != "dataset" and k in snap)
    if target_scale is not None:
        out["target_scale"] = {"name": target_scale.name, "mean": target_scale.mean, "std": target_scale.std}
    if explanation is not None:
        out["explanation"] = list(explanation)
    return json_safe(out)
