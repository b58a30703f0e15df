"""Metrics snapshots: what each run looks like right now, cheap enough to take every few steps.

Layer statistics compare the same inputs in training mode — dropout masks applied and scaled by the
run's rule — and in prediction mode (no dropout). Those inputs are the first ``STATS_ROWS`` training
points (all of them for the default data sizes): a training-mode pass exists only for these
statistics, and over the whole of a large training set it would cost as much as the prediction-mode
pass. The data are shuffled when made, so the first rows are a fair sample. The masks
come from a generator seeded by (metrics seed, step), so a snapshot at step t is the same number
however often snapshots were taken before it, and never touches the training streams.

Losses and accuracies use every training and every test point.

Where a closed form holds — a layer's own mask on fixed input — the snapshot carries it beside the
measurement: the mean ratio is 1 (inverted) or p (unrescaled); the E‖·‖² ratio is 1/p or p.

Chance level: ``chance_acc`` is the test accuracy of always predicting the most frequent test class,
``chance_loss`` the test cross-entropy of always predicting the test class frequencies (the entropy
of the labels: no constant prediction does better). A run is ``learning`` when it has not diverged
and its test accuracy is more than ``CHANCE_MARGIN`` above chance. The loss does not enter: a run
whose loss is far above ``chance_loss`` can still be right far more often than chance (an
over-confident network, the typical harm of skipping the rescale), and that is a different story.

Everything is computed in buffers made on the first snapshot: a snapshot allocates no arrays, so
taking one every few steps costs no page faults (temporaries returned to the OS fault back in).

The snapshot's shape is defined in ``core.snapshot``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from .dropout import draw_mask, theory
from .network import Network, Workspace
from .prediction import PredictionRules, not_a_number
from .snapshot import LayerStats, RunMetrics, Snapshot

STATS_ROWS = 256  # training points the layer statistics (both modes) are measured on
CHANCE_MARGIN = 0.05  # test accuracy within 5 points of chance counts as "at chance"


def chance_level(labels: np.ndarray, n_classes: int) -> tuple[float, float]:
    """(accuracy, cross-entropy in nats) of the best constant predictions for integer ``labels``
    (shape (n,)): always the most frequent class, and always the class frequencies. Raises
    ValueError for no labels."""
    if labels.size == 0:
        raise ValueError("chance level of no labels")
    freq = np.bincount(labels, minlength=n_classes) / labels.size
    nz = freq[freq > 0]
    return float(freq.max()), float(-(nz * np.log(nz)).sum())


def regression_chance(targets: np.ndarray) -> float:
    """MSE of the best constant prediction of ``targets`` (n,): their mean; i.e. their variance."""
    if targets.size == 0:
        raise ValueError("chance level of no targets")
    return float(np.var(targets.astype(np.float64)))


def is_learning(diverged: bool, test_acc: float, chance_acc: float) -> bool:
    """True when a run beats chance: not diverged and test accuracy above ``chance_acc`` by more
    than CHANCE_MARGIN (nan accuracy is not above anything)."""
    return (not diverged) and math.isfinite(test_acc) and test_acc > chance_acc + CHANCE_MARGIN


class _Scratch:
    """Per row count: the buffers loss, accuracy and confidence need beyond a Workspace."""

    def __init__(self, n: int, dtype):
        self.lse = np.empty((n, 1), dtype)
        self.row = np.empty(n, dtype)
        self.pred = np.empty(n, np.intp)
        self.pred_bool = np.empty((n, 1), bool)
        self.eq = np.empty(n, bool)
        self.eq_col = np.empty((n, 1), bool)


class Snapshotter:
    """Takes snapshots of one experiment; keeps its own buffers so training's stay untouched."""

    def __init__(self, exp):
        self.exp = exp
        data = exp.data
        net = next(iter(exp.runs.values())).net
        dt = data.x_train.dtype
        # Targets and labels never change for an experiment: made once, in the forms the
        # loss and accuracy below compare against without temporaries.
        self._targets = {"train": net.targets(data.y_train), "test": net.targets(data.y_test)}
        self.regression = data.regression
        self._x = {"train": data.x_train, "test": data.x_test}
        self.chance_acc: float | None = None
        if self.regression:
            self.chance_loss = regression_chance(data.y_test)
            self._target_std = math.sqrt(self.chance_loss)
            self._train_var = regression_chance(data.y_train)
        else:
            self._labels = {"train": data.y_train.astype(np.intp), "test": data.y_test.astype(np.intp)}
            self._labels_bool = {k: (v == 1).reshape(-1, 1) for k, v in self._labels.items()}
            self.chance_acc, self.chance_loss = chance_level(self._labels["test"], data.n_classes)
        self._n_stats = min(STATS_ROWS, data.x_train.shape[0])
        self._x_stats = data.x_train[:self._n_stats]
        self._scratch = {n: _Scratch(n, dt) for n in {data.x_train.shape[0], data.x_test.shape[0]}}
        widths = [data.n_features, *exp.config.layers]
        n = self._n_stats
        self._mask_bufs = [(np.empty((n, w), np.float32), np.empty((n, w), dt), np.empty((n, w), dt))
                           for w in widths]
        self._rows = np.empty(n, dt)  # per-example squared norms
        self._own = [np.empty((n, w), dt) for w in exp.config.layers]  # a layer's output × its own mask
        self._ws: dict[tuple[str, int, int], Workspace] = {}
        self._rules: PredictionRules | None = None  # made on the first snapshot that asks for them

    def _workspace(self, run, tag: int, n: int) -> Workspace:
        key = (run.rule, tag, n)
        ws = self._ws.get(key)
        if ws is None:
            ws = self._ws[key] = run.net.workspace(n)
        return ws

    def take(self, rules: bool = False, should_stop: Callable[[], bool] | None = None) -> Snapshot:
        """Both runs at the experiment's current step; with ``rules``, each run also carries every
        prediction rule (``core.prediction``: far more work than the rest) unless ``should_stop``
        says to abandon them midway (then the snapshot has none). Changes no training state and
        draws from no training stream."""
        exp = self.exp
        with np.errstate(all="ignore"):
            masks = self._metric_masks()
            runs = {rule: self._run(run, masks) for rule, run in exp.runs.items()}
        if rules:
            if self._rules is None:
                self._rules = PredictionRules(exp, exp.config.mc_max)
            for rule, result in (self._rules.evaluate(should_stop) or {}).items():
                # A diverged run's weights hold inf: passes that happen to drop those units give
                # finite, meaningless numbers. Its rules are not a number, as its other metrics are.
                runs[rule]["rules"] = not_a_number(result) if runs[rule]["diverged"] else result
        # The dataset too: after a reset or a dataset change, steps start again at 0, and a CSV of
        # the history must still tell the experiments apart.
        snap: Snapshot = {"step": exp.step, "dataset": exp.config.dataset,
                          "keep_prob": exp.keep_prob, "input_keep_prob": exp.input_keep_prob,
                          "chance_loss": self.chance_loss, "runs": runs}
        if self.chance_acc is not None:
            snap["chance_acc"] = self.chance_acc
        return snap

    def _metric_masks(self):
        """One set of masks for both runs, as in training: (keep mask, mask / p) per site."""
        exp = self.exp
        rng = np.random.default_rng([exp.metrics_seed.entropy, *exp.metrics_seed.spawn_key, exp.step])
        out = []
        for bufs, p in zip(self._mask_bufs, exp.site_keep_probs):
            if p >= 1.0:
                out.append((None, None))
                continue
            draw_mask(rng, p, *bufs)
            out.append((bufs[1], bufs[2]))
        return out

    def _loss_acc(self, net, ws: Workspace, part: str) -> tuple[float, float]:
        """Mean cross-entropy and accuracy of the logits in ``ws.z`` against ``part``'s labels.
        Same stable formulas as ``Network.loss``, in preallocated buffers. For regression: the mean
        squared error and, in place of accuracy, the standard deviation of the outputs."""
        z, target = ws.z, self._targets[part]
        n = z.shape[0]
        s = self._scratch[n]
        if net.regression:
            np.subtract(z, target, out=ws.dz)
            mse = float(np.vdot(ws.dz, ws.dz)) / n
            return mse, float(np.std(z))
        if net.binary:
            # softplus(z) - t·z
            np.logaddexp(z, 0.0, out=ws.dz)
            np.multiply(target, z, out=ws.col)
            ws.dz -= ws.col
            loss = float(_sum(ws.dz)) / n
            np.greater(z, 0.0, out=s.pred_bool)
            np.equal(s.pred_bool, self._labels_bool[part], out=s.eq_col)
            hits = np.count_nonzero(s.eq_col)
        else:
            # logsumexp(z) - z[label], with the row maximum taken out before exp
            np.max(z, axis=1, keepdims=True, out=ws.col)
            np.subtract(z, ws.col, out=ws.dz)
            np.exp(ws.dz, out=ws.dz)
            np.sum(ws.dz, axis=1, keepdims=True, out=s.lse)
            np.log(s.lse, out=s.lse)
            s.lse += ws.col
            np.einsum("ij,ij->i", target, z, out=s.row)
            loss = (float(_sum(s.lse)) - float(_sum(s.row))) / n
            np.argmax(z, axis=1, out=s.pred)
            np.equal(s.pred, self._labels[part], out=s.eq)
            hits = np.count_nonzero(s.eq)
        if not math.isfinite(_sum(z)):
            return loss, math.nan  # nan logits all compare as one class: no accuracy to speak of
        return loss, int(hits) / n

    def _r2(self, mse: float) -> float:
        return 1.0 - mse / self.chance_loss if self.chance_loss > 0 else math.nan

    def _confidence(self, net, ws: Workspace) -> float:
        """Mean probability given to the predicted class: how sure the network is, right or wrong."""
        if not math.isfinite(_sum(ws.z)):
            return math.nan  # a diverged run is not sure of anything
        p = net.probabilities(ws)
        n = p.shape[0]
        if net.binary:
            # max(p, 1 - p) = 0.5 + |p - 0.5|
            p -= 0.5
            np.abs(p, out=p)
            return float(_sum(p)) / n + 0.5
        row = self._scratch[n].row
        np.max(p, axis=1, out=row)
        return float(_sum(row)) / n

    def _stats(self, a: np.ndarray) -> tuple[float, float, float]:
        """Mean entry, mean per-example L2 norm, mean per-example squared norm."""
        sq = self._rows
        np.einsum("ij,ij->i", a, a, out=sq)
        n = a.shape[0]
        mean_sq = float(_sum(sq)) / n
        np.sqrt(sq, out=sq)
        return float(_sum(a)) / a.size, float(_sum(sq)) / n, mean_sq

    def _run(self, run, masks) -> RunMetrics:
        exp = self.exp
        net: Network = run.net
        none = [None] * len(exp.site_keep_probs)  # no dropout anywhere: prediction mode
        n_stats = self._n_stats

        ev = self._workspace(run, 0, self._x["train"].shape[0])
        net.forward(ev, self._x["train"], none)
        train_loss, train_acc = self._loss_acc(net, ev, "train")  # regression: no accuracy

        # Training mode on the statistics rows. Without input dropout the first hidden layer sees
        # the same input in both modes, so its output (before its mask) is the prediction-mode
        # pass's, and only the layers above are computed; the logits are not needed.
        mults = [m if run.rule == "unrescaled" else s for m, s in masks]
        tr = self._workspace(run, 1, n_stats)
        if mults[0] is None:
            a0, m = ev.a[0][:n_stats], mults[1]
            h = a0 if m is None else np.multiply(a0, m, out=tr.d[0])
            tr.inputs[1] = h
            net.forward_from(tr, 1, h, mults, logits=False)
            train_out = [h] + [tr.a[l] if mults[l + 1] is None else tr.d[l]
                               for l in range(1, len(net.hidden))]
        else:
            net.forward(tr, self._x_stats, mults)
            train_out = [tr.a[l] if mults[l + 1] is None else tr.d[l] for l in range(len(net.hidden))]

        ts = self._workspace(run, 2, self._x["test"].shape[0])
        scaled = run.rule == "unrescaled"
        net.forward(ts, self._x["test"], none, keep_products=2 if scaled else 0)
        test_loss, test_acc = self._loss_acc(net, ts, "test")
        out: RunMetrics = {
            "diverged": run.diverged, "learning": False, "train_loss_dropout": run.last_loss(),
            "train_loss": train_loss, "test_loss": test_loss,
            "output_weight_norm": _norm(net.W[-1]), "layers": [],
        }
        if self.regression:
            out["test_rmse"] = math.sqrt(test_loss)
            out["test_r2"] = self._r2(test_loss)
            out["test_spread"] = test_acc / self._target_std if self._target_std else math.nan
            # Learning: beats the mean at prediction time, or the optimiser fits the training data
            # (with dropout on) better than the mean does. The second matters: an unrescaled net
            # can fit well in training and still predict worse than a constant, which is the
            # mismatch this tool shows, not a failure to learn.
            fit = 1.0 - out["train_loss_dropout"] / self._train_var if self._train_var > 0 else math.nan
            best = max((r2 for r2 in (out["test_r2"], fit) if math.isfinite(r2)), default=math.nan)
            out["learning"] = is_learning(run.diverged, best, 0.0)
        else:
            out["train_acc"], out["test_acc"] = train_acc, test_acc
            out["test_confidence"] = self._confidence(net, ts)
            out["learning"] = is_learning(run.diverged, test_acc, self.chance_acc or 0.0)
        if scaled:
            # Weight scaling (Srivastava et al., JMLR 2014, section 1 and Fig. 2): the same weights,
            # each dropped layer's output times its keep probability.
            net.forward_scaled(ts, [p if p < 1 else None for p in exp.site_keep_probs])
            loss_s, acc_s = self._loss_acc(net, ts, "test")
            out["test_loss_scaled"] = loss_s
            if self.regression:
                out["test_r2_scaled"] = self._r2(loss_s)
                out["test_spread_scaled"] = acc_s / self._target_std if self._target_std else math.nan
            else:
                out["test_acc_scaled"] = acc_s
                out["test_confidence_scaled"] = self._confidence(net, ts)

        layers = out["layers"]
        th = theory(run.rule, exp.keep_prob)
        for l in range(len(exp.config.layers)):
            a_pred = ev.a[l][:n_stats]  # the first rows: a view, the same inputs as ``tr``
            m = mults[l + 1]
            mean_p, norm_p, sq_p = self._stats(a_pred)
            mean_t, norm_t, _ = self._stats(train_out[l])
            # The layer's own mask on the prediction-mode input: the case the closed form covers.
            if m is None:
                mean_o, sq_o = mean_p, sq_p
            else:
                own = self._own[l]
                np.multiply(a_pred, m, out=own)
                mean_o = float(_sum(own)) / own.size
                sq_o = float(np.vdot(own, own)) / own.shape[0]
            stats: LayerStats = {
                "name": f"h{l + 1}",
                "mean_train": mean_t, "mean_pred": mean_p,
                "norm_train": norm_t, "norm_pred": norm_p,
                "weight_norm": _norm(net.W[l]),
                "grad_norm": _norm(net.gW[l]),
                "mean_ratio_own": _ratio(mean_o, mean_p),
                "mean_ratio_theory": th.mean_ratio,
                "sq_norm_ratio_own": _ratio(sq_o, sq_p),
                "sq_norm_ratio_theory": th.sq_norm_ratio,
            }
            layers.append(stats)
        # Divergence is decided by training alone (Run.train_step): a snapshot only reports it,
        # so taking metrics more or less often can never change what happens next.
        return out


# ndarray.sum() and np.linalg.norm() reach these through layers of Python wrappers: the same
# reductions called directly, as a snapshot does dozens of them.
_sum = partial(np.add.reduce, axis=None)  # all entries, as ndarray.sum()


def _norm(w: np.ndarray) -> float:
    """Frobenius norm, as np.linalg.norm computes it (sqrt of the flat dot product)."""
    return math.sqrt(np.vdot(w, w))


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else math.nan
