"""The metrics history the app keeps: every snapshot while there are few, then thinned.

Snapshots arrive up to ~50 times a second at full speed. Past ``MAX_SNAPSHOTS`` every other one is
dropped (the newest always stays), so a session of hours keeps a bounded history whose resolution
halves as it grows — the charts show at most a few hundred points anyway, and the CSV export
(``e``) writes what is kept. Chart series are derived from the snapshots when asked for.
"""

from __future__ import annotations

import math

SERIES = ("train_loss_dropout", "train_loss", "test_loss")
MAX_SNAPSHOTS = 2048
RATIO_HISTORY = 24  # snapshots of per-layer mean ratio for the layer table's sparklines


class RunView:
    """One run's chart series, as lists, from the shared snapshot list."""

    def __init__(self, history: History, rule: str):
        self._history, self.rule = history, rule
        self._cache: tuple[int, dict] | None = None

    def _build(self) -> dict:
        snaps = self._history.snapshots
        runs = [s["runs"][self.rule] for s in snaps]
        series = {name: [_finite(r.get(name)) for r in runs] for name in SERIES}
        ratios: dict[str, list[float]] = {}
        for r in runs[-RATIO_HISTORY:]:
            for layer in r.get("layers", []):
                ratios.setdefault(layer["name"], []).append(_ratio(layer.get("mean_train"), layer.get("mean_pred")))
        return {"steps": [s["step"] for s in snaps], "series": series, "ratios": ratios}

    def _view(self) -> dict:
        if self._cache is None or self._cache[0] != self._history.version:
            self._cache = (self._history.version, self._build())
        return self._cache[1]

    @property
    def steps(self) -> list[int]:
        return self._view()["steps"]

    @property
    def series(self) -> dict[str, list[float]]:
        return self._view()["series"]

    @property
    def ratios(self) -> dict[str, list[float]]:
        return self._view()["ratios"]


class History:
    def __init__(self):
        self.snapshots: list[dict] = []
        self.version = 0
        self._y_range: tuple[int, tuple[float, float]] | None = None
        self.runs = {"inverted": RunView(self, "inverted"), "unrescaled": RunView(self, "unrescaled")}

    def add(self, snapshot: dict) -> None:
        if self.snapshots and snapshot["step"] <= self.snapshots[-1]["step"]:
            return  # the same step snapshotted twice (e.g. after a command): keep the first
        self.snapshots.append(snapshot)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            last = self.snapshots[-1]
            self.snapshots = self.snapshots[:-1:2] + [last]
        self.version += 1

    def y_range(self) -> tuple[float, float]:
        """One y-scale for both columns, so their curves compare by eye."""
        if self._y_range is None or self._y_range[0] != self.version:
            self._y_range = (self.version, self._compute_y_range())
        return self._y_range[1]

    def _compute_y_range(self) -> tuple[float, float]:
        values = [v for view in self.runs.values() for s in view.series.values() for v in s if math.isfinite(v)]
        if not values:
            return 0.0, 1.0
        values.sort()
        # The 98th percentile, not the max, so one early spike does not flatten every curve.
        top = values[min(len(values) - 1, int(0.98 * len(values)))]
        return 0.0, max(top * 1.05, 1e-3)


def _finite(v) -> float:
    return v if isinstance(v, float) and math.isfinite(v) else math.nan


def _ratio(a, b) -> float:
    if isinstance(a, float) and isinstance(b, float) and b != 0 and math.isfinite(a) and math.isfinite(b):
        return a / b
    return math.nan
