"""Prediction rules side by side: the same trained weights, evaluated the ways people predict.

For each run of a ``PairedExperiment``, on every test point:

- ``no_dropout``: prediction mode, every multiplier 1 (what ``model.eval()`` gives in PyTorch).
- ``weight_scaling`` (unrescaled run only): every dropped layer's output, and the input if input
  dropout is on, multiplied by its keep_prob (Srivastava et al., "Dropout: a simple way to prevent
  neural networks from overfitting", JMLR 15, 2014, section 1 and Fig. 2; compared with Monte-Carlo
  averaging in section 7.5). The inverted run already divided
  by keep_prob while training, so scaling it again would scale twice: it is not offered.
- ``dropout_on``: dropout left on at prediction, ONE stochastic forward pass with masks drawn as in
  training (mask / keep_prob for the inverted run, the bare mask for the unrescaled one) — what
  happens when someone forgets ``model.eval()``.
- ``mc_dropout``: Monte-Carlo dropout (Gal & Ghahramani, "Dropout as a Bayesian approximation",
  ICML 2016, section 3 and eq. 8; Gal's thesis, 2016, section 3.3.1): the predicted class
  probabilities averaged over T stochastic passes, for every T of ``MC_LADDER`` up to ``mc_max``.
  One set of T_max passes gives every T as a prefix average (T = 5 is the mean of the first 5
  passes), so the whole ladder costs T_max passes.

Metrics (``RuleMetrics``), all over the test set:

- ``test_loss``: mean cross-entropy of the predictive probabilities. For Monte-Carlo dropout those
  are the AVERAGED PROBABILITIES, p̄ = (1/T) Σ_t softmax(z_t) — the MC estimate of the predictive
  distribution (Gal & Ghahramani 2016, eq. 8) — not the softmax of averaged logits, which is a
  different (and more confident) predictor. It is computed in the log domain,
  log p̄_y = logsumexp_t(log p_t,y) - log T, so a probability that rounds to 0 in one pass does not
  make the loss infinite.
- ``test_acc``: fraction of test points whose predicted class (argmax of p̄; binary: p̄ > 0.5)
  is the label.
- ``test_confidence``: mean probability of the predicted class, max_c p̄_c.
- ``predictive_std`` (stochastic rules only): the standard deviation over passes of the predicted
  probability, averaged over test points. Binary: of p(class 1) (the same number as of p(class 0),
  since p(class 0) = 1 - p(class 1)). Multi-class: of the probability of the class the T-pass
  average predicts. Population form (divide by T, Gal 2016 section 3.3.1), so T = 1 gives 0.
  For ``dropout_on`` it is the spread of that one-pass prediction from call to call, estimated over
  all T_max passes: the same number as the largest-T ``mc_dropout`` row.

``dropout_on`` is the first Monte-Carlo pass: its loss, accuracy and confidence equal the T = 1
row of ``mc_dropout``.

Randomness: the Monte-Carlo masks come from their own stream, a generator seeded by (the
experiment's Monte-Carlo SeedSequence child, step), so the numbers at step t never depend on how
often they were taken before, and evaluating never touches the training or snapshot streams. Both
runs use the same masks for pass i, as in training: drawn once, applied as is (unrescaled) and
divided by keep_prob (inverted). Pass i's masks are drawn site by site (input, then hidden layers),
pass after pass, the same numbers however many passes are computed at once.

Cost: buffers are made on the first ``evaluate()``; later calls allocate no arrays. Several passes
are stacked into one forward pass of (passes·n_test) rows when the test set is small, where one
call per pass would spend its time in Python; without input dropout the first hidden layer's
output before its mask is the same in every pass and is computed once.

The loss/probability code lives in ``_ClassHead`` (``prepare`` a pass or a stack of passes, ``add``
one pass, ``metrics`` after T); for regression ``_RegHead`` does the same with outputs: the MSE of
the MC predictive mean (the outputs averaged over T passes), R², the output spread, and the std of
the output over passes.
"""

from __future__ import annotations

import math
import time
from functools import partial
from collections.abc import Callable
from typing import Any

import numpy as np

from .dropout import draw_mask
from .snapshot import MCMetrics, RuleMetrics, RulesResult, StochasticMetrics  # noqa: F401  (re-exported)

MC_LADDER = (1, 2, 5, 10, 20, 50, 100, 200)
# Share of the time the prediction rules may take while training runs: evaluations are spaced by
# (1 - share) / share times their own cost. Below the 10% they may cost, since an evaluation also
# leaves training's data out of the cache for a while (measured: at a 10% share training kept
# about 85% of its speed, at 7% about 93%).
RULES_SHARE = 0.07
# Stack passes until a forward pass has about this many rows. A pass costs ~40 NumPy calls, whose
# fixed overhead dominates at small test sets: at 80 test points (2-64-64-1) stacking 5 passes cut
# the time by ~20%; at 200 points it gained nothing and at 1,000 there is one pass per stack.
STACK_ROWS = 512


def not_a_number(result: RulesResult) -> RulesResult:
    """``result`` with every metric nan (the Monte-Carlo rows keep their T): the rules of a run
    whose weights are no longer finite."""
    def blank(metrics: dict) -> dict:
        return {k: (v if k == "T" else math.nan) for k, v in metrics.items()}

    out: dict = {}
    rows: Any
    for name, rows in result.items():
        out[name] = [blank(row) for row in rows] if isinstance(rows, list) else blank(rows)
    return out  # type: ignore[return-value]


def mc_ladder(mc_max: int) -> tuple[int, ...]:
    """The Ts of ``MC_LADDER`` up to ``mc_max``. Raises ValueError unless 1 <= mc_max <= 200."""
    if not isinstance(mc_max, (int, np.integer)) or isinstance(mc_max, bool) \
            or not 1 <= mc_max <= MC_LADDER[-1]:
        raise ValueError(f"mc_max: expected an integer from 1 to {MC_LADDER[-1]}, got {mc_max!r}")
    return tuple(t for t in MC_LADDER if t <= mc_max)


class RulesCadence:
    """When to evaluate the prediction rules during training so that they take at most ``share``
    of the time: after an evaluation that took t seconds, the next is due (1 - share) / share · t
    seconds later. Wall-clock based, so WHEN they are taken varies from run to run; WHAT they
    are at a given step never does (the masks are seeded by step)."""

    def __init__(self, share: float = RULES_SHARE, clock: Callable[[], float] = time.perf_counter):
        if not 0 < share < 1:
            raise ValueError(f"share: expected a number in (0, 1), got {share!r}")
        self.share, self._clock = share, clock
        self._next = clock()

    def due(self) -> bool:
        return self._clock() >= self._next

    def spent(self, seconds: float) -> None:
        """An evaluation just took ``seconds``: space the next one out accordingly."""
        self._next = self._clock() + seconds * (1 - self.share) / self.share


def mc_generator(exp) -> np.random.Generator:
    """The Monte-Carlo mask stream for the experiment's current step: seeded by (Monte-Carlo seed,
    step), like the snapshot's masks by (metrics seed, step)."""
    seed = exp.mc_seed
    return np.random.default_rng([seed.entropy, *seed.spawn_key, exp.step])


def fold(S: np.ndarray, M2: np.ndarray, x: np.ndarray, k: int, tmp: np.ndarray) -> None:
    """Fold sample number ``k`` (1 = the first) of a stream into its running sum ``S`` and its
    sum of squared deviations ``M2``, in place (``tmp``: scratch of their shape). Welford's update
    (Welford 1962; Knuth, TAOCP vol. 2, 4.2.2), M2 += (k-1)/k · (x - mean_{k-1})²: never negative,
    and stable where the two-sum form Σx² - (Σx)²/k cancels."""
    if k == 1:
        np.copyto(S, x)
        M2.fill(0)
        return
    np.divide(S, k - 1, out=tmp)
    np.subtract(x, tmp, out=tmp)
    np.multiply(tmp, tmp, out=tmp)
    tmp *= (k - 1) / k
    M2 += tmp
    S += x


class _ClassHead:
    """Cross-entropy, accuracy, confidence and predictive std of classification outputs, from
    one pass (a deterministic rule) or streamed over passes (Monte-Carlo dropout).

    Per test point it keeps, after k passes: S = Σ p_t (the probabilities: binary p(class 1),
    else the softmax), M2 = Σ (p_t - mean)² by Welford's update (stable where the two-sum form
    Σp² - (Σp)²/k cancels) and R = log Σ_t p_t,y, the true class's summed probability in the log
    domain. Mean probabilities are S / T: the plain running sum, so they equal a mean of T passes
    summed in pass order bit for bit."""

    def __init__(self, net, labels: np.ndarray, n: int, passes: int):
        dt, k, rows = net.dtype, net.n_out, n * passes
        self.binary, self.n = net.binary, n
        labels = labels.astype(np.intp)
        self.labels = labels
        self.labels_bool = (labels == 1).reshape(-1, 1)
        if self.binary:
            # log p_y = -softplus(-s·z) with s = +1 for class 1 and -1 for class 0.
            self.sign = np.tile((2.0 * labels - 1.0).astype(dt).reshape(-1, 1), (passes, 1))
        else:
            self.onehot = np.tile(np.eye(k, dtype=dt)[labels], (passes, 1))
            self.zmax = np.empty((rows, 1), dt)
            self.ez = np.empty((rows, k), dt)
            self.zy = np.empty((rows, 1), dt)  # the true class's logit
            self.flat_index = np.arange(n, dtype=np.intp) * k  # row starts in a raveled (n, k)
            self.index = np.empty(n, np.intp)
        self.logp = np.empty((rows, 1), dt)  # log p_y of each stacked pass
        self.zeros = np.zeros((rows, 1), dt)
        self.S = np.empty((n, k), dt)
        self.M2 = np.empty((n, k), dt)
        self.R = np.empty((n, 1), dt)
        self.mean = np.empty((n, k), dt)
        self.tmp = np.empty((n, k), dt)
        self.row = np.empty(n, dt)
        self.pred = np.empty(n, np.intp)
        self.pred_bool = np.empty((n, 1), bool)
        self.eq = np.empty(n, bool)
        self.eq_col = np.empty((n, 1), bool)
        self.finite = True

    def prepare(self, net, ws) -> None:
        """Take the logits of the last forward pass in ``ws`` (one pass of n rows, or a stack of
        passes): their probabilities (``net.probabilities``, into ``ws.dz``) and log p_y, computed
        stably from the logits, for ``add`` to fold in."""
        z = self._z = ws.z
        self._p = net.probabilities(ws)
        rows = z.shape[0]
        out = self._logp = self.logp[:rows]
        if self.binary:
            np.multiply(z, self.sign[:rows], out=out)
            np.negative(out, out=out)
            np.logaddexp(out, self.zeros[:rows], out=out)
            np.negative(out, out=out)
        else:
            # z_y - max - log Σ exp(z - max)
            zmax, ez = self.zmax[:rows], self.ez[:rows]
            np.max(z, axis=1, keepdims=True, out=zmax)
            np.subtract(z, zmax, out=ez)
            np.exp(ez, out=ez)
            np.sum(ez, axis=1, keepdims=True, out=out)
            np.log(out, out=out)
            out += zmax
            zy = self.zy[:rows]
            np.einsum("ij,ij->i", self.onehot[:rows], z, out=zy[:, 0])
            np.subtract(zy, out, out=out)

    def add(self, k: int, part: slice) -> None:
        """Fold in the prepared rows ``part`` (one pass, n rows) as pass number ``k`` (1 = the
        first)."""
        z, p, logp = self._z[part], self._p[part], self._logp[part]
        fold(self.S, self.M2, p, k, self.tmp)
        if k == 1:
            np.copyto(self.R, logp)
            self.finite = True
        else:
            np.logaddexp(self.R, logp, out=self.R)
        if self.finite and not math.isfinite(_sum(z)):
            self.finite = False  # nan logits predict nothing; see metrics()

    def metrics(self, T: int, with_std: bool) -> dict:
        """The metrics of the first ``T`` passes folded in (exactly T of them)."""
        n = self.n
        mean = self.mean
        np.divide(self.S, T, out=mean)
        # -mean_i log p̄_y = log T - mean_i R
        loss = math.log(T) - float(_sum(self.R)) / n
        out = {"test_loss": loss}
        if not self.finite:
            # A diverged run: nan logits compare as one class and are sure of nothing.
            out.update(test_acc=math.nan, test_confidence=math.nan)
            if with_std:
                out["predictive_std"] = math.nan
            return out
        tmp = self.tmp
        if self.binary:
            np.greater(mean, 0.5, out=self.pred_bool)
            np.equal(self.pred_bool, self.labels_bool, out=self.eq_col)
            hits = np.count_nonzero(self.eq_col)
            np.subtract(mean, 0.5, out=tmp)  # max(p, 1 - p) = 0.5 + |p - 0.5|
            np.abs(tmp, out=tmp)
            confidence = float(_sum(tmp)) / n + 0.5
            std_of = self.M2
        else:
            np.argmax(mean, axis=1, out=self.pred)
            np.equal(self.pred, self.labels, out=self.eq)
            hits = np.count_nonzero(self.eq)
            np.max(mean, axis=1, out=self.row)
            confidence = float(_sum(self.row)) / n
            # M2 of the predicted class, row by row
            np.add(self.flat_index, self.pred, out=self.index)
            std_of = np.take(self.M2.reshape(-1), self.index, out=self.row)
        out["test_acc"] = int(hits) / n
        out["test_confidence"] = confidence
        if with_std:
            sd = tmp if self.binary else self.row
            np.divide(std_of, T, out=sd)
            np.sqrt(sd, out=sd)
            out["predictive_std"] = float(_sum(sd)) / n
        return out


class _RegHead:
    """The regression counterpart of ``_ClassHead``: mean squared error, R² and output spread of
    the outputs, one pass or streamed over passes. Per test point it keeps S = Σ z_t and, by
    Welford's update, M2 = Σ (z_t - mean)²; the Monte-Carlo predictive mean is S / T and the
    predictive std sqrt(M2 / T) (Gal 2016, section 3.3.1: moments of the MC samples)."""

    def __init__(self, net, targets: np.ndarray, n: int, passes: int):
        dt = net.dtype
        self.n = n
        self.y = targets.astype(dt).reshape(-1, 1)
        self.var_y = float(np.var(self.y))
        self.S = np.empty((n, 1), dt)
        self.M2 = np.empty((n, 1), dt)
        self.mean = np.empty((n, 1), dt)
        self.tmp = np.empty((n, 1), dt)
        self.finite = True

    def prepare(self, net, ws) -> None:
        self._z = ws.z

    def add(self, k: int, part: slice) -> None:
        z = self._z[part]
        fold(self.S, self.M2, z, k, self.tmp)
        if k == 1:
            self.finite = True
        if self.finite and not math.isfinite(_sum(z)):
            self.finite = False

    def metrics(self, T: int, with_std: bool) -> dict:
        n, mean, tmp = self.n, self.mean, self.tmp
        np.divide(self.S, T, out=mean)
        np.subtract(mean, self.y, out=tmp)
        mse = float(np.vdot(tmp, tmp)) / n
        out = {"test_loss": mse}
        if not self.finite:
            out.update(test_r2=math.nan, test_spread=math.nan)
            if with_std:
                out["predictive_std"] = math.nan
            return out
        out["test_r2"] = 1.0 - mse / self.var_y if self.var_y > 0 else math.nan
        out["test_spread"] = float(np.std(mean)) / math.sqrt(self.var_y) if self.var_y > 0 else math.nan
        if with_std:
            np.divide(self.M2, T, out=tmp)
            np.sqrt(tmp, out=tmp)
            out["predictive_std"] = float(_sum(tmp)) / n
        return out


class _RunState:
    """One run's buffers: a test-set workspace, a stacked one for the passes and the head."""

    def __init__(self, net, x: np.ndarray, labels: np.ndarray, passes: int):
        n = x.shape[0]
        self.ws = net.workspace(n)
        self.big = net.workspace(n * passes)
        self.head = _RegHead(net, labels, n, passes) if net.regression else _ClassHead(net, labels, n, passes)
        self.mults: list = [None] * (len(net.hidden) + 1)
        self.mc_mean = np.empty((n, net.n_out), net.dtype)
        self.mc_mean_view = self.mc_mean.view()
        self.mc_mean_view.flags.writeable = False


class PredictionRules:
    """Every prediction rule of the module docstring for the experiment's CURRENT weights and
    keep probabilities, on its test set.

    ``exp``: a ``PairedExperiment``; the object stays valid across ``exp.reset()`` (same data and
    shapes) — make a new one for a new experiment. ``mc_max``: the largest number of Monte-Carlo
    passes; the ladder is the Ts of ``MC_LADDER`` up to it (``self.ladder``), and ``evaluate()``
    costs ``self.passes`` = its last T passes per run. Raises ValueError for an mc_max outside
    1..200. Buffers are per run, made on the first ``evaluate()``; about
    passes_per_stack · n_test · (5 · Σ hidden widths) floats per run."""

    def __init__(self, exp, mc_max: int = MC_LADDER[-1]):
        self.exp = exp
        self.ladder = mc_ladder(mc_max)
        self.passes = self.ladder[-1]
        n = exp.data.x_test.shape[0]
        # The largest divisor of T_max that keeps a stack near STACK_ROWS rows, so every stack is
        # full and one workspace serves them all.
        self.stack = max(d for d in range(1, self.passes + 1)
                         if self.passes % d == 0 and (d == 1 or d * n <= STACK_ROWS))
        self._state: dict[str, _RunState] | None = None

    def _buffers(self) -> dict[str, _RunState]:
        if self._state is None:
            exp, data, B = self.exp, self.exp.data, self.stack
            x = data.x_test
            n, dt = x.shape[0], x.dtype
            self._x_big = np.tile(x, (B, 1))
            self._none = [None] * (len(exp.config.layers) + 1)
            widths = [data.n_features, *exp.config.layers]
            self._mask_bufs = [(np.empty((n * B, w), np.float32), np.empty((n * B, w), dt),
                                np.empty((n * B, w), dt)) for w in widths]
            self._state = {rule: _RunState(run.net, x, data.y_test, B) for rule, run in exp.runs.items()}
        return self._state

    def evaluate(self, should_stop: Callable[[], bool] | None = None) -> dict[str, RulesResult] | None:
        """{run name: RulesResult} at the current step. Changes no training state and no other
        random stream; the same step always gives the same numbers. ``should_stop`` is asked
        between stacks of passes: when it says yes the evaluation is abandoned (None), so a
        caller with work waiting (a key pressed) is not held up by a whole evaluation."""
        exp = self.exp
        state = self._buffers()
        x = exp.data.x_test
        n, B = x.shape[0], self.stack
        probs = exp.site_keep_probs
        out: dict[str, dict] = {}
        with np.errstate(all="ignore"):
            for rule, run in exp.runs.items():
                st, net = state[rule], run.net
                net.forward(st.ws, x, self._none, keep_products=2 if rule == "unrescaled" else 0)
                out[rule] = {"no_dropout": self._single(net, st), "mc_dropout": []}

            rng = mc_generator(exp)
            for first in range(0, self.passes, B):
                if should_stop is not None and should_stop():
                    return None
                self._draw(rng, probs, n, B)
                for rule, run in exp.runs.items():
                    self._passes(run, state[rule], first, out[rule]["mc_dropout"], n, B)

            for rule, res in out.items():
                np.divide(state[rule].head.S, self.passes, out=state[rule].mc_mean)
                mc = res["mc_dropout"]
                res["dropout_on"] = {k: v for k, v in mc[0].items() if k not in ("T", "predictive_std")}
                res["dropout_on"]["predictive_std"] = mc[-1]["predictive_std"]
                if rule == "unrescaled":
                    # Srivastava et al. 2014: each dropped layer's output times its keep_prob.
                    st = state[rule]
                    exp.runs[rule].net.forward_scaled(st.ws, [p if p < 1 else None for p in probs])
                    res["weight_scaling"] = self._single(exp.runs[rule].net, st)
        return out  # type: ignore[return-value]

    def mc_mean(self, rule: str) -> np.ndarray:
        """The Monte-Carlo predictive mean after all ``self.passes`` passes of the last
        ``evaluate()``: (n_test, 1) p(class 1) for binary, else (n_test, n_classes) probabilities.
        A read-only view of a buffer the next ``evaluate()`` overwrites; copy it to keep it.
        Raises KeyError for an unknown run, RuntimeError before the first ``evaluate()``."""
        if self._state is None:
            raise RuntimeError("mc_mean: call evaluate() first")
        return self._state[rule].mc_mean_view

    def _single(self, net, st: _RunState) -> dict:
        """Metrics of the logits the last forward pass left in ``st.ws``: a deterministic rule."""
        st.head.prepare(net, st.ws)
        st.head.add(1, slice(0, st.ws.n))
        return st.head.metrics(1, with_std=False)

    def _draw(self, rng, probs, n: int, B: int) -> None:
        """Masks for the next B passes: pass by pass, site by site, so the stream does not depend
        on B."""
        for i in range(B):
            rows = slice(i * n, (i + 1) * n)
            for (u, m, s), p in zip(self._mask_bufs, probs):
                if p < 1.0:
                    draw_mask(rng, p, u[rows], m[rows], s[rows])

    def _passes(self, run, st: _RunState, first: int, rows_out: list, n: int, B: int) -> None:
        """B stacked passes of ``run`` with the masks just drawn; folds each into the head and
        appends the ladder rows they complete."""
        net, big, mults, probs = run.net, st.big, st.mults, self.exp.site_keep_probs
        inverted = run.rule == "inverted"
        for i, ((_, mask, scaled), p) in enumerate(zip(self._mask_bufs, probs)):
            mults[i] = None if p >= 1.0 else (scaled if inverted else mask)  # mask / p, or the mask
        if mults[0] is None:
            # Without input dropout the first hidden layer's output before its mask is the
            # prediction-mode pass's (st.ws.a[0]) in every pass: only its mask differs.
            a0, h = st.ws.a[0], big.d[0]
            h3 = h.reshape(B, n, h.shape[1])
            if mults[1] is None:
                np.copyto(h3, a0)
            else:
                np.multiply(mults[1].reshape(B, n, -1), a0, out=h3)
            big.inputs[1] = h
            net.forward_from(big, 1, h, mults)
        else:
            net.forward(big, self._x_big, mults)
        head = st.head
        head.prepare(net, big)
        ladder = self.ladder
        for i in range(B):
            k = first + i + 1
            head.add(k, slice(i * n, (i + 1) * n))
            if k in ladder:
                rows_out.append({"T": k, **head.metrics(k, with_std=True)})


_sum = partial(np.add.reduce, axis=None)  # all entries, as ndarray.sum(), without its wrappers


MAP_PASSES = 20  # Monte-Carlo passes behind a map's spread: its brightness has 4 levels, not 3 digits


class MCSpreadGrid:
    """The Monte-Carlo predictive spread of both runs at every point of a grid (a decision map):
    the standard deviation, over ``passes`` stochastic passes (dropout on, masks as in training:
    mask / keep_prob for the inverted run, the bare mask for the unrescaled one), of the predicted
    probability — binary: of p(class 1); multi-class: of the probability of the class the
    T-pass mean predicts; regression: of the output (Gal & Ghahramani, ICML 2016, section 3; Gal's
    thesis, 2016, section 3.3.1, population form).

    ``exp``: a ``PairedExperiment``; ``points``: (n, n_features) array in the data's dtype;
    ``passes``: at most ``min(MAP_PASSES, config.mc_max)`` by default. The masks come from the
    Monte-Carlo stream of the current step (``mc_generator``), like the prediction rules', so the
    spread at a step never depends on how often it was computed and touches no training stream.
    Buffers are made once; ``compute()`` allocates only its small result dict of views.
    Raises ValueError for a points array of the wrong width or passes < 1."""

    def __init__(self, exp, points: np.ndarray, passes: int | None = None):
        if points.ndim != 2 or points.shape[1] != exp.data.n_features:
            raise ValueError(f"points: expected shape (n, {exp.data.n_features}), got {points.shape}")
        passes = min(MAP_PASSES, exp.config.mc_max) if passes is None else passes
        if passes < 1:
            raise ValueError(f"passes: expected an integer >= 1, got {passes!r}")
        self.exp, self.points, self.passes = exp, points, passes
        n, dt = points.shape[0], points.dtype
        widths = [exp.data.n_features, *exp.config.layers]
        self._masks = [(np.empty((n, w), np.float32), np.empty((n, w), dt), np.empty((n, w), dt))
                       for w in widths]
        self._state = {}
        for rule, run in exp.runs.items():
            k = run.net.n_out
            self._state[rule] = (run.net.workspace(n), np.empty((n, k), dt), np.empty((n, k), dt),
                                 np.empty((n, k), dt), np.empty(n, dt))
        self._pred = np.empty(n, np.intp)

    def compute(self) -> dict[str, np.ndarray]:
        """{run name: (n,) spread} for the current weights and keep probabilities. The arrays are
        the object's buffers: the next ``compute()`` overwrites them."""
        exp = self.exp
        probs = exp.site_keep_probs
        rng = mc_generator(exp)
        out = {}
        with np.errstate(all="ignore"):
            for k in range(1, self.passes + 1):
                for (u, m, s), p in zip(self._masks, probs):
                    if p < 1.0:
                        draw_mask(rng, p, u, m, s)
                for rule, run in exp.runs.items():
                    ws, S, M2, d, _ = self._state[rule]
                    inverted = rule == "inverted"
                    mults = [None if p >= 1.0 else (s if inverted else m)
                             for (_, m, s), p in zip(self._masks, probs)]
                    run.net.forward(ws, self.points, mults)
                    fold(S, M2, run.net.probabilities(ws), k, d)
            for rule in exp.runs:
                _, S, M2, d, std = self._state[rule]
                np.divide(M2, self.passes, out=d)
                np.sqrt(d, out=d)
                if d.shape[1] == 1:
                    np.copyto(std, d[:, 0])
                else:
                    np.argmax(S, axis=1, out=self._pred)
                    np.copyto(std, np.take_along_axis(d, self._pred[:, None], axis=1)[:, 0])
                out[rule] = std
        return out
