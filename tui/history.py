"""The metrics history the app keeps: every snapshot while there are few, then thinned.

Snapshots arrive up to ~50 times a second at full speed. Past ``MAX_SNAPSHOTS`` every other one is
dropped (the newest always stays), so a session of hours keeps a bounded history whose resolution
halves as it grows — the charts show at most a few hundred points anyway, and the CSV export
(``e``) writes what is kept. Chart series are derived from the snapshots when asked for.

The loss charts share one y-scale (``History.y_scale``) so the columns compare by eye. On a linear
step axis it fits the later half of the axis — the recent past, so a detour to a tiny keep_prob
no longer flattens the present for the rest of the session; on a log step axis, every step.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from dropout_tui.core.snapshot import Snapshot

SERIES = ("train_loss_dropout", "train_loss", "test_loss")
MAX_SNAPSHOTS = 2048
HEADROOM = 1.08  # above the highest value, so the top curve does not run along the frame
SHRINK_BELOW = 0.6  # the y range shrinks only when the values fall below this share of it
RATIO_HISTORY = 24  # snapshots of per-layer mean ratio for the layer table's sparklines


class RunView:
    """One run's chart series, as lists, from the shared snapshot list. New snapshots extend the
    lists; only thinning (which replaces the snapshot list) rebuilds them."""

    def __init__(self, history: History, rule: str):
        self._history, self.rule = history, rule
        self._cache: tuple[int, dict] | None = None
        self._built: tuple[int, int, dict] | None = None  # (generation, snapshots covered, lists)

    def _build(self) -> dict:
        history = self._history
        snaps = history.snapshots
        built = self._built
        if built is None or built[0] != history.generation or built[1] > len(snaps):
            built = (history.generation, 0, {"steps": [], "series": {name: [] for name in SERIES}})
        _, done, lists = built
        for s in snaps[done:]:
            run = s["runs"][self.rule]
            lists["steps"].append(s["step"])
            for name in SERIES:
                lists["series"][name].append(_finite(run.get(name)))
        self._built = (history.generation, len(snaps), lists)
        ratios: dict[str, list[float]] = {}
        for s in snaps[-RATIO_HISTORY:]:
            for layer in s["runs"][self.rule].get("layers", []):
                ratios.setdefault(layer["name"], []).append(_ratio(layer.get("mean_train"), layer.get("mean_pred")))
        # New list objects each version, so a view handed out earlier never changes under its holder.
        return {"steps": list(lists["steps"]), "series": {k: list(v) for k, v in lists["series"].items()},
                "ratios": ratios}

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


@dataclass(frozen=True)
class YScale:
    """The loss charts' shared y range and the steps it was fitted to (``from_step`` 0: all)."""
    low: float
    high: float
    from_step: float


class History:
    def __init__(self):
        self.snapshots: list[Snapshot] = []
        self.version = 0
        self.generation = 0  # changes when the snapshot list is replaced (thinned), not appended to
        self._scales: dict[bool, tuple[int, YScale]] = {}
        self.runs = {"inverted": RunView(self, "inverted"), "unrescaled": RunView(self, "unrescaled")}

    def add(self, snapshot: Snapshot) -> None:
        if self.snapshots and snapshot["step"] <= self.snapshots[-1]["step"]:
            return  # the same step snapshotted twice (e.g. after a command): keep the first
        self.snapshots.append(snapshot)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            last = self.snapshots[-1]
            self.snapshots = self.snapshots[:-1:2] + [last]
            self.generation += 1
        self.version += 1

    def y_scale(self, log_x: bool = False) -> YScale:
        """The shared y range for a linear (fitted to the later half of the step axis) or a
        log step axis (fitted to every step). It grows at once but shrinks only when the values
        have fallen well below it, so the curves do not jump at every update."""
        cached = self._scales.get(log_x)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        steps = self.runs["inverted"].steps
        from_step = 0.0
        if steps and not log_x:
            from_step = nice_ceiling(steps[-1]) / 2
            if steps[0] >= from_step or steps[-1] < from_step:
                from_step = 0.0
        top = 1.0
        if steps:
            first = bisect_left(steps, from_step)
            highs = [float(np.nanmax(chunk)) for view in self.runs.values() for series in view.series.values()
                     if len(chunk := np.asarray(series[first:], float)) and not np.isnan(chunk).all()]
            if highs:
                top = nice_ceiling(max(highs) * HEADROOM, minimum=1e-3)
        if (cached is not None and cached[1].from_step == from_step
                and SHRINK_BELOW * cached[1].high <= top <= cached[1].high):
            top = cached[1].high
        scale = YScale(0.0, top, from_step)
        self._scales[log_x] = (self.version, scale)
        return scale


def nice_ceiling(x: float, minimum: float = 1.0) -> float:
    """The next round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above x (at least
    ``minimum``). Axes grow in such jumps: between jumps new points only add cells at the edge
    instead of shifting every curve (and re-sending every byte to the terminal)."""
    if not math.isfinite(x) or x <= minimum:
        return minimum if math.isfinite(x) else 1e300
    k = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * k >= x * (1 - 1e-12):
            return float(f"{m * k:.12g}")
    return float(f"{10 * k:.12g}")


def _finite(v) -> float:
    return v if isinstance(v, float) and math.isfinite(v) else math.nan


def _ratio(a, b) -> float:
    if isinstance(a, float) and isinstance(b, float) and b != 0 and math.isfinite(a) and math.isfinite(b):
        return a / b
    return math.nan
