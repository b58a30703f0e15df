"""Prediction curves of a 1-D regression: both runs' outputs on a grid of inputs, for drawing.

For each run, at every grid point x (``CurveGrid.compute``):

- ``pred``: prediction mode, every dropout multiplier 1.
- ``scaled`` (unrescaled run only, and only while some layer drops): every dropped layer's output,
  and the input with input dropout, multiplied by its keep_prob — weight scaling (Srivastava et
  al., "Dropout: a simple way to prevent neural networks from overfitting", JMLR 15, 2014,
  section 1 and Fig. 2), the "×p at test" of the snapshot.
- ``mc_mean`` / ``mc_std``: Monte-Carlo dropout (Gal & Ghahramani, "Dropout as a Bayesian
  approximation", ICML 2016, section 3; Gal's thesis, 2016, section 3.3.1): the mean and the
  population standard deviation of the output over T stochastic passes, masks drawn as in training
  (mask / keep_prob for the inverted run, the bare mask for the unrescaled one), both runs with the
  same masks. The masks come from the prediction rules' own stream (``core.prediction.mc_generator``:
  seeded by the Monte-Carlo seed and the step), so a curve at step t is the same however often it
  is drawn, and drawing it touches no training or snapshot stream.

Cost: T passes of ``n`` points per run, stacked into forward passes of at most ``STACK_ROWS`` rows;
buffers are made once per grid, so repeated ``compute()`` calls allocate only their results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import TargetScale, true_function
from .dropout import draw_mask
from .prediction import mc_generator

MARGIN = 0.03  # of the inputs' span, on each side, so the outermost points are not on the frame
STACK_ROWS = 4096  # rows per stacked forward pass of the Monte-Carlo passes
MC_PASSES = 50  # T on the screen: a band from 50 passes is steady; the rules' table goes to mc_max


@dataclass(frozen=True)
class RunCurve:
    """One run's outputs on the grid, each of shape (n,) in the units of the target the network
    fits (``Curves.target_scale`` takes a standardised one back to its own)."""
    pred: np.ndarray
    scaled: np.ndarray | None = None  # ×p at test: the unrescaled run while some layer drops
    mc_mean: np.ndarray | None = None  # None: no Monte-Carlo passes (T = 0 or nothing drops)
    mc_std: np.ndarray | None = None


@dataclass(frozen=True)
class Curves:
    """Both runs' curves over a 1-D input interval, with the data drawn beside them.

    ``x``: (n,) grid, ascending. ``true``: (n,) the noise-free target there, or None when the
    dataset has none (a user's CSV). ``x_train``/``y_train``: (m,) the training points.
    ``runs[rule]``: ``RunCurve``. ``passes``: T of the Monte-Carlo curves (0: none). ``step``: the
    step the weights belong to. ``target_scale``: the data's (``Dataset.target_scale``): for a
    standardised target, how a value drawn converts to the target's units for the axis (None:
    values are the target's own)."""
    x: np.ndarray
    true: np.ndarray | None
    x_train: np.ndarray
    y_train: np.ndarray
    runs: dict[str, RunCurve]
    passes: int
    step: int
    target_scale: TargetScale | None = None


def interval(data) -> tuple[float, float]:
    """(lo, hi) of the inputs a curve of 1-D ``data`` spans: every training and test point, with
    ``MARGIN`` of the span on each side. Raises ValueError for data that is not 1-D."""
    if data.n_features != 1:
        raise ValueError("prediction curves need a 1-D dataset")
    x = np.concatenate([data.x_train[:, 0], data.x_test[:, 0]])
    lo, hi = float(x.min()), float(x.max())
    pad = (hi - lo) * MARGIN if hi > lo else 1.0
    return lo - pad, hi + pad


class CurveGrid:
    """``n`` evenly spaced inputs over the data's interval; ``compute`` evaluates both runs there.
    ``passes``: T of the Monte-Carlo curves (0: none; at most the config's ``mc_max``). Made once
    per grid size: repeated curves reuse its buffers. Raises ValueError for data that is not 1-D,
    a regression-free experiment, or n < 2."""

    def __init__(self, exp, n: int, passes: int = MC_PASSES):
        data = exp.data
        if not data.regression:
            raise ValueError("prediction curves need a regression dataset")
        if n < 2:
            raise ValueError(f"n: expected at least 2 grid points, got {n}")
        self.exp, self.n = exp, n
        self.passes = max(0, min(int(passes), exp.config.mc_max))
        lo, hi = interval(data)
        dt = data.x_train.dtype
        self.x = np.linspace(lo, hi, n).astype(dt).reshape(n, 1)
        try:
            self.true: np.ndarray | None = true_function(data.name, self.x).astype(dt)
        except KeyError:  # a user's file: no known function behind it
            self.true = None
        self.x_train = data.x_train[:, 0].copy()
        self.y_train = data.y_train.astype(dt)
        any_net = next(iter(exp.runs.values())).net
        self._ws = {rule: run.net.workspace(n) for rule, run in exp.runs.items()}
        # The largest divisor of T whose stack stays under STACK_ROWS rows, so every stack is full.
        self.stack = max((d for d in range(1, self.passes + 1)
                          if self.passes % d == 0 and (d == 1 or d * n <= STACK_ROWS)), default=1)
        B = self.stack
        self._x_big = np.tile(self.x, (B, 1))
        self._big = {rule: run.net.workspace(n * B) for rule, run in exp.runs.items()}
        widths = [data.n_features, *exp.config.layers]
        self._masks = [(np.empty((n * B, w), np.float32), np.empty((n * B, w), dt), np.empty((n * B, w), dt))
                       for w in widths]
        self._outs = {rule: np.empty((max(1, self.passes), n), dt) for rule in exp.runs}
        self._none = [None] * (len(any_net.hidden) + 1)

    def compute(self) -> Curves:
        """Both runs' curves for their current weights and keep probabilities."""
        exp = self.exp
        probs = exp.site_keep_probs
        dropping = any(p < 1.0 for p in probs)
        runs: dict[str, RunCurve] = {}
        with np.errstate(all="ignore"):
            preds, scaled = {}, None
            for rule, run in exp.runs.items():
                ws = self._ws[rule]
                z = run.net.forward(ws, self.x, self._none, keep_products=2 if rule == "unrescaled" else 0)
                preds[rule] = z[:, 0].copy()
                if rule == "unrescaled" and dropping:
                    scaled = run.net.forward_scaled(ws, [p if p < 1.0 else None for p in probs])[:, 0].copy()
            T = self.passes if dropping else 0
            if T:
                self._monte_carlo(probs, T)
            for rule in exp.runs:
                mean = std = None
                if T:
                    outs = self._outs[rule][:T]
                    mean = outs.mean(axis=0)
                    std = outs.std(axis=0)  # population form, as the prediction rules' predictive_std
                runs[rule] = RunCurve(preds[rule], scaled if rule == "unrescaled" else None, mean, std)
        return Curves(self.x[:, 0].copy(), None if self.true is None else self.true.copy(), self.x_train,
                      self.y_train, runs, T, exp.step, exp.data.target_scale)

    def _monte_carlo(self, probs, T: int) -> None:
        """T stochastic passes of both runs into ``self._outs``; pass i's masks drawn site by site
        (input, then hidden layers), pass after pass, the same for both runs."""
        n, B = self.n, self.stack
        rng = mc_generator(self.exp)
        mults: list = [None] * len(probs)
        for first in range(0, T, B):
            for i in range(B):
                rows = slice(i * n, (i + 1) * n)
                for (u, m, s), p in zip(self._masks, probs):
                    if p < 1.0:
                        draw_mask(rng, p, u[rows], m[rows], s[rows])
            for rule, run in self.exp.runs.items():
                inverted = rule == "inverted"
                for j, ((_, m, s), p) in enumerate(zip(self._masks, probs)):
                    mults[j] = None if p >= 1.0 else (s if inverted else m)
                z = run.net.forward(self._big[rule], self._x_big, mults)
                self._outs[rule][first:first + B] = z[:, 0].reshape(B, n)
