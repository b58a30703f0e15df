"""Decision-boundary maps: both networks' class probabilities on a grid over a 2-D dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import TargetScale
from .network import Workspace

MARGIN = 0.1  # of the data's span, on each side, so edge points are not on the frame


@dataclass(frozen=True)
class BoundaryMaps:
    """Both runs' prediction-mode class probabilities on the grid, and where the training points fall.

    ``probs[rule]``: (rows, cols, n_classes) probabilities, row 0 at the top of the screen.
    ``train``: (row, col, label) arrays of the training points' nearest grid cells (for
    regression, the label is the target the network fits). ``target_scale``: the data's
    (``Dataset.target_scale``): for a standardised regression target, how a value converts to the
    target's units for the scale (None: values are the target's own)."""
    probs: dict[str, np.ndarray]
    train: tuple[np.ndarray, np.ndarray, np.ndarray]
    target_scale: TargetScale | None = None


def extent(data) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each of shape (2,): the corners of the plane a map of ``data`` shows — every
    training and test point, with ``MARGIN`` of the span on each side. Raises ValueError for data
    that is not 2-D."""
    if data.n_features != 2:
        raise ValueError("decision-boundary maps need a 2-D dataset")
    x = np.concatenate([data.x_train, data.x_test])
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * MARGIN
    return lo - pad, hi + pad


def aspect(data) -> float | None:
    """Width / height of the plane a map of ``data`` shows (None: not 2-D, no map)."""
    if data.n_features != 2:
        return None
    lo, hi = extent(data)
    span = hi - lo
    return float(span[0] / span[1]) if span[1] > 0 and span[0] > 0 else 1.0


class BoundaryGrid:
    """A ``rows`` × ``cols`` grid of points spanning the data; ``compute`` evaluates both runs
    in prediction mode. Made once per map size, so repeated maps reuse their buffers."""

    def __init__(self, exp, cols: int, rows: int):
        self.exp, self.cols, self.rows = exp, cols, rows
        self.lo, self.hi = extent(exp.data)
        xs = np.linspace(self.lo[0], self.hi[0], cols)
        ys = np.linspace(self.hi[1], self.lo[1], rows)  # row 0 at the top of the screen
        gx, gy = np.meshgrid(xs, ys)
        self.points = np.column_stack([gx.ravel(), gy.ravel()]).astype(exp.data.x_train.dtype)
        self.train_cells = (*self.cell_of(exp.data.x_train), exp.data.y_train)
        self._ws: dict[str, Workspace] = {}

    def compute(self) -> BoundaryMaps:
        """Both runs' maps for their current weights (prediction mode: no dropout)."""
        out = {}
        exp = self.exp
        with np.errstate(all="ignore"):
            for rule, run in exp.runs.items():
                net = run.net
                ws = self._ws.get(rule)
                if ws is None:
                    ws = self._ws[rule] = net.workspace(len(self.points))
                net.forward(ws, self.points, [None] * (len(net.hidden) + 1))
                p = net.probabilities(ws)
                probs = np.hstack([1 - p, p]) if net.binary else p.copy()
                out[rule] = probs.reshape(self.rows, self.cols, -1)
        return BoundaryMaps(out, self.train_cells, exp.data.target_scale)

    def cell_of(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid (row, col) nearest to each point of ``x``."""
        fx = (x[:, 0] - self.lo[0]) / (self.hi[0] - self.lo[0])
        fy = (self.hi[1] - x[:, 1]) / (self.hi[1] - self.lo[1])
        cols = np.clip(np.rint(fx * (self.cols - 1)), 0, self.cols - 1).astype(int)
        rows = np.clip(np.rint(fy * (self.rows - 1)), 0, self.rows - 1).astype(int)
        return rows, cols
