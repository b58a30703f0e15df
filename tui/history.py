"""Metric history the app keeps for its charts: plain lists, appended as snapshots arrive."""

from __future__ import annotations

import math

SERIES = ("train_loss_dropout", "train_loss", "test_loss")
RATIO_HISTORY = 24  # snapshots of per-layer ratio kept for the little sparklines


class RunHistory:
    def __init__(self):
        self.steps: list[int] = []
        self.series: dict[str, list[float]] = {name: [] for name in SERIES}
        self.ratios: dict[str, list[float]] = {}

    def add(self, step: int, run: dict) -> None:
        if self.steps and step <= self.steps[-1]:
            return  # the same step snapshotted twice (e.g. after a command): keep the first
        self.steps.append(step)
        for name in SERIES:
            v = run.get(name)
            self.series[name].append(v if isinstance(v, float) and math.isfinite(v) else math.nan)
        for layer in run.get("layers", []):
            r = _ratio(layer.get("mean_train"), layer.get("mean_eval"))
            hist = self.ratios.setdefault(layer["name"], [])
            hist.append(r)
            del hist[:-RATIO_HISTORY]


class History:
    def __init__(self):
        self.runs = {"inverted": RunHistory(), "unrescaled": RunHistory()}

    def add(self, snapshot: dict) -> None:
        for rule, run in snapshot["runs"].items():
            self.runs[rule].add(snapshot["step"], run)

    def y_range(self) -> tuple[float, float]:
        """One y-scale for both columns, so their curves compare by eye."""
        values = [v for h in self.runs.values() for s in h.series.values() for v in s if math.isfinite(v)]
        if not values:
            return 0.0, 1.0
        values.sort()
        # The 98th percentile, not the max, so one early spike does not flatten every curve.
        top = values[min(len(values) - 1, int(0.98 * len(values)))]
        return 0.0, max(top * 1.05, 1e-3)


def _ratio(a, b) -> float:
    if isinstance(a, float) and isinstance(b, float) and b != 0 and math.isfinite(a) and math.isfinite(b):
        return a / b
    return math.nan
