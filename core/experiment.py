"""The paired experiment: two copies of one network that differ only in the dropout rescale.

Both runs start from the same weights, see the same minibatches in the same order and the same
dropout mask at every step: the mask is drawn once and applied to both, divided by keep_prob for
the inverted run and not for the unrescaled one. With keep_prob = 1 the two are bit-identical.

Random streams are independent children of one SeedSequence (data, init, batch order, masks,
metrics, Monte-Carlo dropout), so taking metrics more or less often never moves the training
trajectory. SeedSequence children are defined by their index, so adding a child at the end leaves
the earlier streams exactly as they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .config import Config, ConfigError, check_keep_prob
from .data import CSV, Dataset, make_dataset
from .dropout import MaskSite, MaskStream
from .metrics import Snapshotter
from .network import Network, Workspace
from .optim import make_optimizer
from .snapshot import RUNS, Snapshot

if TYPE_CHECKING:
    from .csv_data import CsvSource

RULES = RUNS  # the training rules, in the order the screen shows them


class Run:
    """One network, its optimiser and training rule; stops updating once it diverges."""

    def __init__(self, rule: str, net: Network, optimizer):
        self.rule = rule
        self.net = net
        self.opt = optimizer
        self.diverged_at: int | None = None
        self._ws: dict[int, Workspace] = {}
        self._last: tuple[Workspace, np.ndarray] | None = None
        self._frozen_loss: float | None = None
        # The optimiser steps the network's flat parameter buffer as one array: every optimiser is
        # elementwise, so this is the same update as per array, in two NumPy calls instead of ~2·depth.
        self._flat = ([net.flat_params], [net.flat_grads])

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def workspace(self, n: int) -> Workspace:
        ws = self._ws.get(n)
        if ws is None:
            ws = self._ws[n] = self.net.workspace(n)
        return ws

    def train_step(self, x, target, mults, l2: float, step: int) -> None:
        # A weight can become inf/nan where the logits do not show it (tanh(inf) = 1), so look at
        # the weights before every update: the sum of squares in the common case (one BLAS dot,
        # 1.5-2x faster than np.add.reduce here; it is non-finite whenever a weight is), min/max
        # only to confirm, because the sum can also overflow while every weight is finite.
        flat = self.net.flat_params
        if not math.isfinite(flat.dot(flat)) and not (
                math.isfinite(np.minimum.reduce(flat)) and math.isfinite(np.maximum.reduce(flat))):
            self.mark_diverged(step)
            return
        ws = self.workspace(x.shape[0])
        z = self.net.forward(ws, x, mults)
        self._last = (ws, target)
        if not math.isfinite(np.add.reduce(z, axis=None)):  # an overflowing loss
            self.mark_diverged(step)
            return
        self.net.backward(ws, target, mults, l2)
        self.opt.step(*self._flat)

    def mark_diverged(self, step: int) -> None:
        if self.diverged_at is None:
            self._frozen_loss = self.last_loss()
            self.diverged_at = step

    def last_loss(self) -> float:
        """Training loss (with dropout) of the latest step, from the logits it left behind."""
        if self._frozen_loss is not None:
            return self._frozen_loss
        if self._last is None:
            return math.nan
        ws, target = self._last
        return self.net.loss(ws.z, target)


class PairedExperiment:
    """Owns both runs. ``keep_prob`` may change between any two steps; ``reset`` restarts both
    from the seed (same data, same initial weights), keeping the current keep probabilities.

    ``data_shape`` passes ``classes``/``features`` to the blobs maker (the benchmark's 64-feature,
    10-class problem). ``source``: the user's parsed CSV (``core.csv_data.CsvSource``), read from
    ``config.data`` when not given; kept, so that a later experiment (a dataset change, a replay)
    reuses the same rows. Raises ConfigError for an invalid config, CsvDataError for a bad file,
    MemoryError if it does not fit."""

    def __init__(self, config: Config, *, data_shape: dict | None = None, source: CsvSource | None = None):
        self.config = config.validate()
        self._data_shape = data_shape or {}
        self.keep_prob = config.keep_prob
        self.input_keep_prob = config.input_keep_prob
        seeds = np.random.SeedSequence(config.seed).spawn(6)
        (self._data_seed, self._init_seed, self._order_seed, self._mask_seed, self.metrics_seed,
         self.mc_seed) = seeds
        dtype = np.dtype(config.dtype)
        data_rng = np.random.default_rng(self._data_seed)
        if source is None and config.data:
            # Imported here: only a run on the user's CSV needs the reader, and the app's start-up
            # (the toy datasets) should not pay for loading it.
            from .csv_data import CsvSource

            source = CsvSource.read(config.data, test_path=config.test_data or None, label=config.label or None,
                                    task=config.task)
        self.source = source
        if config.dataset == CSV:
            assert source is not None  # validate() requires --data for the csv dataset
            self.data: Dataset = source.split(test_fraction=config.test_fraction, train_size=config.train_size or None,
                                              test_size=config.test_size or None, rng=data_rng, dtype=dtype)
            if config.batch_size > len(self.data.y_train):
                raise ConfigError("--batch-size", f"expected at most the {len(self.data.y_train)} training rows "
                                                  f"of {self.data.name}, got {config.batch_size}")
        else:
            self.data = make_dataset(config.dataset, config.train_size, config.test_size, config.noise,
                                     data_rng, dtype, **self._data_shape)
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        cfg, data = self.config, self.data
        net = Network(data.n_features, cfg.layers, data.n_classes, cfg.activation,
                      np.random.default_rng(self._init_seed), cfg.dtype)
        self.runs = {rule: Run(rule, net.copy(), make_optimizer(cfg.optimizer, cfg.lr, cfg.momentum))
                     for rule in RULES}
        self.step = 0
        self._order_rng = np.random.default_rng(self._order_seed)
        self._masks = MaskStream(np.random.default_rng(self._mask_seed))
        self._target_train = net.targets(data.y_train)
        n = data.x_train.shape[0]
        self._batch = n if cfg.batch_size in (0, n) else cfg.batch_size
        self._perm = np.arange(n)
        self._batch_bufs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._mask_bufs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # keep, mask, scaled
        # Per row count: the keep probabilities it was made for, the sites to draw and each rule's
        # multipliers (pointing into the mask buffers). Remade only when a keep probability
        # changes, so a step spends no Python on them; the last minibatch of an epoch may be
        # smaller, so more than one row count is in use.
        self._plans: dict[int, tuple[tuple[float, float], list[MaskSite], int, dict]] = {}
        self._snapshotter = Snapshotter(self)

    def snapshot(self, rules: bool = False, should_stop: Callable[[], bool] | None = None) -> Snapshot:
        """Metrics of both runs at the current step (see ``core.snapshot``); with ``rules``, every
        prediction rule too (Monte-Carlo dropout up to ``config.mc_max`` passes: costly), unless
        ``should_stop()`` turns true midway: then none. Changes no training state."""
        return self._snapshotter.take(rules, should_stop)

    def set_keep_prob(self, p: float) -> None:
        """keep_prob of every hidden layer from the next step on. Raises ConfigError if invalid."""
        self.keep_prob = check_keep_prob(p, "keep_prob")

    def set_input_keep_prob(self, p: float) -> None:
        """keep_prob of the input features from the next step on. Raises ConfigError if invalid."""
        self.input_keep_prob = check_keep_prob(p, "input_keep_prob")

    @property
    def site_keep_probs(self) -> list[float]:
        """Keep probability of each dropout site: the input, then every hidden layer."""
        return [self.input_keep_prob] + [self.keep_prob] * len(self.config.layers)

    @property
    def arch(self) -> str:
        """Layer widths from input to output, e.g. ``2-64-64-1``."""
        net = self.runs["inverted"].net
        return "-".join(map(str, (net.n_in, *net.hidden, net.n_out)))

    # -- training -------------------------------------------------------------------------------

    def advance(self, steps: int = 1) -> None:
        # Overflow in a diverging run is expected and handled (the run stops); don't warn.
        with np.errstate(all="ignore"):
            for _ in range(steps):
                self._one_step()

    def advance_run(self, rule: str, steps: int = 1) -> None:
        """Train ONE run alone: the batches and masks ``advance`` would draw, applied to ``rule``'s
        run only. The other run stays behind, so the pair is no longer a controlled comparison
        until ``reset()`` — this exists to measure one run's cost (``core.bench``)."""
        only = (self.runs[rule],)
        with np.errstate(all="ignore"):
            for _ in range(steps):
                self._one_step(only)

    def _one_step(self, runs=None) -> None:
        x, target = self._next_batch()
        runs = runs or self.runs.values()
        # Multipliers only for the runs that train this step; the random words are drawn all the
        # same, so the stream never depends on which runs train.
        want = {run.rule for run in runs if run.diverged_at is None}
        mults = self._draw_masks(x.shape[0], "unrescaled" in want, "inverted" in want)
        l2 = self.config.l2
        for run in runs:
            if run.diverged_at is None:
                run.train_step(x, target, mults[run.rule], l2, self.step)
        self.step += 1

    def _next_batch(self):
        data = self.data
        if self._batch == data.x_train.shape[0]:
            return data.x_train, self._target_train
        n = data.x_train.shape[0]
        per_epoch = -(-n // self._batch)
        i = self.step % per_epoch
        if i == 0:
            self._order_rng.shuffle(self._perm)
        idx = self._perm[i * self._batch:(i + 1) * self._batch]
        bufs = self._batch_bufs.get(len(idx))
        if bufs is None:
            bufs = self._batch_bufs[len(idx)] = (
                np.empty((len(idx), data.x_train.shape[1]), data.x_train.dtype),
                np.empty((len(idx), self._target_train.shape[1]), self._target_train.dtype),
            )
        np.take(data.x_train, idx, axis=0, out=bufs[0])
        np.take(self._target_train, idx, axis=0, out=bufs[1])
        return bufs

    def _draw_masks(self, n: int, want_mask: bool = True, want_scaled: bool = True) -> dict:
        """Draw this step's masks for ``n`` rows; returns each rule's multipliers."""
        probs = (self.input_keep_prob, self.keep_prob)
        plan = self._plans.get(n)
        if plan is None or plan[0] != probs:
            plan = self._plans[n] = (probs, *self._mask_plan(n))
        _, sites, total, mults = plan
        self._masks.draw(sites, total, want_mask, want_scaled)
        return mults

    def _mask_plan(self, n: int) -> tuple[list[MaskSite], int, dict]:
        """The mask sites to draw for ``n`` rows, their total size, and each rule's multipliers:
        (n, width) views of the sites' buffers, None where a layer has no dropout.

        The keep masks and multipliers of all layers live in one buffer each, in draw order, so
        adjacent layers with one keep probability (the hidden layers) are drawn as one site: one
        comparison and one multiply for all of them instead of one per layer."""
        bufs = self._mask_bufs.get(n)
        widths = [self.data.n_features, *self.config.layers]
        if bufs is None:
            size, dt = n * sum(widths), self.data.x_train.dtype
            bufs = self._mask_bufs[n] = (np.empty(size, bool), np.empty(size, dt), np.empty(size, dt))
        keep, mask, scaled = bufs
        mults: dict[str, list[np.ndarray | None]] = {rule: [None] * len(widths) for rule in RULES}
        spans: list[list] = []  # [p, start, end] of each site, in draw order
        start = 0
        for i, (p, w) in enumerate(zip(self.site_keep_probs, widths)):
            end = start + n * w
            if p < 1.0:
                mults["inverted"][i] = scaled[start:end].reshape(n, w)
                mults["unrescaled"][i] = mask[start:end].reshape(n, w)
                if spans and spans[-1][0] == p and spans[-1][2] == start:
                    spans[-1][2] = end
                else:
                    spans.append([p, start, end])
            start = end
        sites = [MaskSite(p, keep[a:b], mask[a:b], scaled[a:b]) for p, a, b in spans]
        return sites, sum(site.size for site in sites), mults

