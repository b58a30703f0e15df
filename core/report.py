"""The JSON shape of a result: ``--headless --json``, session logs and replays all use it."""

from __future__ import annotations

import math

RUN_KEYS = ("diverged", "train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc")
SCALED_KEYS = ("test_loss_scaled", "test_acc_scaled")
LAYER_KEYS = ("name", "mean_train", "mean_eval", "norm_train", "norm_eval", "weight_norm", "grad_norm")


def json_safe(obj):
    """Non-finite floats become None (JSON has no nan/inf); containers are copied."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def result(config, snapshot: dict) -> dict:
    """``{"config", "step", "runs"}`` as documented in the README; extra per-run and per-layer
    fields (confidence, theory ratios) ride along."""
    return json_safe({"config": config.to_dict(), "step": snapshot["step"], "runs": snapshot["runs"]})
