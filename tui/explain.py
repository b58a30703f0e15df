"""The explanation panel's words: a table of rules, each stating one claim about one snapshot.

A rule is (id, tag, precondition, sentence builder, the numbers it quotes). A sentence is shown
only when its rule's precondition holds on the numbers of the snapshot, and it quotes only numbers
the screen shows, formatted as the screen formats them (``tui.numbers``), saying where they
are when that is not obvious ("h2's mean ratio in the table"), or numbers it derives in the
sentence itself (1/p from keep_prob). Rules are listed most important first; the panel shows them
in order until one does not fit.

What the rules rest on (p = keep_prob, q = the input keep probability):

- A layer's own Bernoulli(p) mask on a fixed input: inverted dropout keeps the expected mean
  (ratio 1) and multiplies E‖·‖² by 1/p; without the rescale both shrink by p. The per-example
  norm the table shows grows by at most √(1/p) (Jensen: E‖x‖ ≤ √E‖x‖²), by less when few units are
  active. Only the first dropped layer's input is the same in both modes; deeper layers (and every
  layer under input dropout) see noisy inputs through a non-linearity, so their mean ratio drifts.
  For a convex activation (ReLU, leaky ReLU) fed an unbiased noisy pre-activation, Jensen's
  inequality says the drift is upwards on average.
- Unrescaled training followed by ×p at test (weight scaling: Srivastava et al., JMLR 2014,
  section 1 and Fig. 2) is exactly an inverted-dropout network whose weights after each dropped
  site are V = p·W: it starts from p times the shared initial weights, plain SGD or heavy-ball
  momentum moves V with p² times the learning rate (∂L/∂W = p·∂L/∂V, and V moves p times W's
  step; both optimisers are linear in the gradient), and an L2 penalty l2 on W is l2/p² on V. Adam
  normalises gradient scale, so there the step ratio is not p². Either way ×p
  beating inverted in one run is one optimisation path against another, not a verdict on the rules.
- A run at chance (``learning`` false in the snapshot) or diverged is never compared with another.
- Prediction rules (``core.prediction``): dropout left on at prediction is one stochastic pass, what
  a forgotten ``model.eval()`` gives; Monte-Carlo dropout averages T such passes (Gal & Ghahramani,
  ICML 2016). Srivastava et al. (JMLR 2014, section 7.5) found that about k = 50 sampled networks
  match weight scaling. The sentences quote the latest evaluation (the snapshot's own, or
  ``Context.rules``) and name its step when it is not the snapshot's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dropout_tui.core.config import Config, format_keep_prob
from dropout_tui.core.metrics import CHANCE_MARGIN, is_learning
from dropout_tui.core.snapshot import LayerStats, RunMetrics, Snapshot

from .numbers import RATIO_WARN, fit, fmt, num, ok, pct, ratio

LOSS_CELL = 5  # characters of a loss in the run columns (tui.widgets.run_column)

SAME_LOSS = 0.10  # relative gap under which two losses count as "about the same"
ACC_POINTS = 0.02  # "accuracy barely differs": at most 2 points apart ...
ERR_RATIO = 1.25  # ... and neither run makes more than 1.25 times the other's errors
SAME_CONF = 0.02  # confidence beyond accuracy by more than this is over-confidence
WEAKER = 0.95  # an unrescaled train/pred ratio below this is a weaker training signal worth a sentence
DRIFT = RATIO_WARN  # a mean ratio further than this from 1 is shown in the warning colour (layer table)
KEEPS = 0.05  # "keeps h1's mean" only within 5% of 1: h1's own-mask ratio is 1 up to one mask's noise
LOSS_FAR = 10.0  # a test loss this many times the chance-level loss is "far above" it
SILENT = 1e-3  # a ReLU layer whose mean output is below this when predicting has (nearly) gone silent
HUGE_WEIGHTS = 100.0  # one run's weights this many times the other's (same initial weights) are out of scale ...
HUGE_NORM = 1000.0  # ... and this large: >10x the initial ‖W‖ of any allowed layer (He: √(2·fan_out) ≤ 91)
CONVEX = ("relu", "leaky_relu")  # activations for which Jensen's inequality gives the drift's sign
MEAN_IS_NOISE = ("tanh",)  # zero-centred: a mean ratio of means near zero says nothing

REACH = 0.01  # Monte-Carlo dropout "reaches" a reference loss when at most 1% above it
BEAT = 0.05  # ... and "does better" than it when more than 5% below it
SD_PASSES = 20  # the fewest Monte-Carlo passes whose spread is quoted as the call-to-call sd
MC_PAPER_K = 50  # Srivastava et al. 2014, section 7.5: about this many sampled networks match weight scaling

TAGS = ("why", "harm", "fix", "note", "warn")


@dataclass(frozen=True)
class Context:
    """What the explanation needs beyond the snapshot: the settings it speaks of, and the keep
    probabilities the next step will use (None when they are the snapshot's own)."""
    activation: str = "relu"
    optimizer: str = "sgd"
    lr: float = 0.3
    l2: float = 0.0
    dataset: str = "moons"
    n_inputs: int = 2
    full_batch: bool = True
    keep_prob: float | None = None
    input_keep_prob: float | None = None
    # The latest prediction-rules evaluation (a snapshot whose runs carry ``rules``) when the
    # snapshot explained has none; ``rules_first``: their sentences come before the others.
    rules: Snapshot | None = None
    rules_first: bool = False
    # The app's keys act on what is explained; printed text (--headless --explain) names options.
    keys: bool = True

    @classmethod
    def of(cls, config: Config, arch: str | None = None, *, keep_prob: float | None = None,
           input_keep_prob: float | None = None, rules: Snapshot | None = None,
           rules_first: bool = False, keys: bool = True) -> Context:
        """The context of ``config``; ``arch`` ("2-64-64-1") gives the input count; ``keep_prob`` /
        ``input_keep_prob``: the values the next step will use, if the user changed them."""
        n_inputs = int(arch.split("-")[0]) if arch else 2
        return cls(activation=config.activation, optimizer=config.optimizer, lr=config.lr, l2=config.l2,
                   dataset=config.dataset, n_inputs=n_inputs, full_batch=config.full_batch,
                   keep_prob=keep_prob, input_keep_prob=input_keep_prob, rules=rules, rules_first=rules_first,
                   keys=keys)


class View:
    """One snapshot with its context, and the facts the rules' preconditions are written in."""

    def __init__(self, snapshot: Snapshot, context: Context):
        self.snap, self.ctx = snapshot, context
        self.inv: RunMetrics = snapshot["runs"]["inverted"]
        self.unr: RunMetrics = snapshot["runs"]["unrescaled"]
        self.p: float = snapshot["keep_prob"]
        self.q: float = snapshot.get("input_keep_prob", 1.0)
        self.step: int = snapshot["step"]
        self.dropping = self.p < 1 or self.q < 1
        self.chance_acc = snapshot.get("chance_acc", math.nan)
        self.chance_loss = snapshot.get("chance_loss", math.nan)
        # Regression runs carry R² and output spread in place of accuracy and confidence.
        self.regression = "test_r2" in self.inv or "test_r2" in self.unr
        own = all("rules" in run for run in snapshot["runs"].values())
        rules = snapshot if own else context.rules
        if rules is not None and not all("rules" in run for run in rules["runs"].values()):
            rules = None
        self.rules: Snapshot | None = rules

    def run(self, rule: str) -> RunMetrics:
        return self.inv if rule == "inverted" else self.unr

    def diverged(self, rule: str) -> bool:
        return bool(self.run(rule).get("diverged"))

    def learning(self, rule: str) -> bool:
        """Whether the run predicts better than chance, the condition for comparing it with the
        other run or naming it the better one.

        Classification: the snapshot's verdict; recordings made before it existed are judged the
        same way, and without a chance level (older still) a running run is taken to learn: no
        sentence then says a run is at chance, which the numbers could not show.
        Regression: its test R² is above CHANCE_MARGIN (0.05). The snapshot's ``learning`` flag
        also counts a training fit with dropout on; that fit only *explains* an unrescaled run
        whose prediction-mode outputs are mis-scaled (``misscaled``), it never makes a run one to
        compare: a run that fits its training rows and predicts worse than the mean has not learned
        anything a comparison could rest on."""
        run = self.run(rule)
        if self.diverged(rule):
            return False
        if self.regression:
            return is_learning(False, run.get("test_r2", math.nan), 0.0)
        if "learning" in run:
            return bool(run["learning"])
        if not ok(self.chance_acc):
            return not self.diverged(rule)
        return is_learning(self.diverged(rule), run.get("test_acc", math.nan), self.chance_acc)

    @property
    def both_learning(self) -> bool:
        return self.learning("inverted") and self.learning("unrescaled")

    def fits_training(self, rule: str) -> bool:
        """Regression, full batch: the run's loss with dropout on (the latest step's, on every
        training point) is below the training targets' variance by more than the margin, i.e. its
        training fit with dropout on has R² above 0.05. Read from the snapshot's ``learning`` flag,
        which is (test R² or that fit) above 0.05: so only for a run whose test R² is not. With
        minibatches ``train_loss_dropout`` is one small batch's loss, no fit of the training set."""
        run = self.run(rule)
        return (self.regression and self.ctx.full_batch and self.step > 0 and not self.diverged(rule)
                and not self.learning(rule) and bool(run.get("learning")))

    def scaled_predicts(self) -> bool:
        """Regression: the unrescaled weights with ×p at test have test R² above the margin."""
        return self.regression and is_learning(self.diverged("unrescaled"),
                                               self.unr.get("test_r2_scaled", math.nan), 0.0)

    def misscaled(self) -> bool:
        """Regression: the unrescaled run predicts no better than the mean without dropout, but its
        weights did learn at the scale they trained at: ×p at test predicts, or, beside a learning
        inverted run, it fits its training data with dropout on (full batch). A training fit alone,
        where neither run predicts, may be a fit of noise: nothing is explained by it then. Such a
        run is explained (and its harm shown beside a learning inverted run), never named the
        better one."""
        return (self.regression and self.dropping and self.step > 0 and not self.diverged("unrescaled")
                and not self.learning("unrescaled")
                and (self.scaled_predicts() or (self.fits_training("unrescaled") and self.learning("inverted"))))

    def unrescaled_learned(self) -> bool:
        """The unrescaled run predicts, or (regression) its outputs are only mis-scaled."""
        return self.learning("unrescaled") or self.misscaled()

    @property
    def comparable(self) -> bool:
        """The runs may be compared: both learning, or (regression) a learning inverted run beside
        a mis-scaled unrescaled one, whose harm is the comparison."""
        return self.learning("inverted") and self.unrescaled_learned()

    def stuck(self, rule: str) -> bool:
        """Not diverged, not learning, after at least one step."""
        return self.step > 0 and not self.diverged(rule) and not self.learning(rule)


@dataclass(frozen=True)
class Rule:
    """One claim. ``when(view)`` is its precondition on the numbers; ``say(view, short)`` its
    sentence; ``quotes`` names the on-screen numbers it may quote (documentation and tests);
    ``last``: when shown, no later rule is (the rest would compare what must not be compared)."""
    id: str
    tag: str
    when: Callable[[View], bool]
    say: Callable[[View, bool], str]
    quotes: tuple[str, ...]
    last: bool | Callable[[View], bool] = False

    def stops(self, view: View) -> bool:
        """Whether no later rule is shown after this one on ``view``."""
        return self.last(view) if callable(self.last) else self.last


@dataclass(frozen=True)
class Shown:
    rule: Rule
    text: str

    @property
    def tag(self) -> str:
        return self.rule.tag


# -- formats: the screen's (tui.numbers) ------------------------------------------------


SMALL_LOSS = 0.01  # below this a loss is quoted to 3 significant figures (0.00254), not 3 decimals


def r2_text(x: float) -> str:
    """A test R² as the column shows it (two decimals), with more where two would put it on the
    other side of the learning margin: 0.0503 is learning and reads "0.0503", not "0.05"."""
    text = fmt(x, 2)
    for decimals in range(3, 11):
        if not ok(x) or (float(text) > CHANCE_MARGIN) == (x > CHANCE_MARGIN):
            break
        text = fmt(x, decimals)
    return text


def loss_text(x: float) -> str:
    """A loss as the run columns show it: the five-character cell of ``tui.numbers.fit``
    (``0.346``, ``12.35``, ``4.3e12``); below 0.01, 3 significant figures (``0.00254``), so that
    the percentages and "about the same" beside two small losses can be checked from the printed
    numbers (0.002 against 0.003 would read as 33% apart when they are 5% apart)."""
    if ok(x) and 0 < abs(x) < SMALL_LOSS:
        if abs(x) >= 1e-4:
            return f"{x:.{2 - math.floor(math.log10(abs(x)))}f}"
        mantissa, exponent = f"{x:.2e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return fit(x, LOSS_CELL).strip()


def factor(x: float) -> str:
    """A factor derived from keep_prob in the sentence itself (1/p, 1/q): 2, 1.43, 100."""
    return f"{x:.3g}"


ACTIVATION_NAMES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}


def _act(v: View) -> str:
    return ACTIVATION_NAMES.get(v.ctx.activation, v.ctx.activation)


def ratio_text(a: float, b: float) -> str:
    """The layer table's ratio column: a / b, as the table prints it."""
    return table_ratio(ratio(a, b))


def table_ratio(r: float) -> str:
    """A ratio as the layer table prints it (two decimals in five characters), so a sentence that
    points at the table quotes what is there."""
    return fit(r, 5, 2).strip()


def kp(p: float) -> str:
    """A keep probability as the status line shows it (never 0.001 as 0.00)."""
    return format_keep_prob(p)


def _other(rule: str) -> str:
    return "unrescaled" if rule == "inverted" else "inverted"


def _finite(*xs) -> bool:
    return all(ok(x) for x in xs)


# -- the rules' preconditions and sentences -------------------------------------------------------


def _both_diverged(v: View) -> bool:
    return v.diverged("inverted") and v.diverged("unrescaled")


def _say_both_diverged(v: View, short: bool) -> str:
    if short:
        return ("Both runs diverged (a loss or weight became infinite): training stopped."
                + (" r resets." if v.ctx.keys else f" Try a smaller --lr (now {v.ctx.lr:g})."))
    remedy = (f"Press r to reset, or try a smaller --lr (now {v.ctx.lr:g})." if v.ctx.keys else
              f"Rerun with a smaller --lr (now {v.ctx.lr:g}).")
    return ("Both runs diverged (a loss or a weight became infinite), so training stopped: no step can "
            f"change them now. {remedy}")


def _pending(v: View) -> bool:
    c = v.ctx
    return (c.keep_prob is not None and c.keep_prob != v.p) or \
        (c.input_keep_prob is not None and c.input_keep_prob != v.q)


def _say_pending(v: View, short: bool) -> str:
    c = v.ctx
    changes = []
    if c.keep_prob is not None and c.keep_prob != v.p:
        changes.append(("keep_prob", c.keep_prob, v.p))
    if c.input_keep_prob is not None and c.input_keep_prob != v.q:
        changes.append(("input keep_prob", c.input_keep_prob, v.q))
    new = " and ".join(f"{name} {kp(value)}" for name, value, _ in changes)
    old = " and ".join(kp(was) for _, _, was in changes)
    if short:
        return f"{new} applies from the next step; these are step {v.step:,}'s numbers at {old}."
    return (f"{new} applies from the next step; the numbers below are step {v.step:,}'s, trained and "
            f"measured at {old}.")


def _one_diverged(v: View) -> bool:
    return v.diverged("inverted") != v.diverged("unrescaled")


def _inverted_blow_up(v: View, short: bool) -> str:
    """Why the inverted run alone can diverge: the only difference between the runs is its ÷p (or
    ÷q), which makes the kept units, and the gradients through them, larger while training."""
    if short:
        return f" {'÷p' if v.p < 1 else '÷q'} makes its training passes larger: try a smaller --lr."
    if v.p < 1:
        what = (f"its ÷ keep_prob makes the kept units 1/p = {factor(1 / v.p)} times as large while training "
                "(E‖·‖² ×1/p per dropped layer)")
    else:
        what = (f"its ÷ input keep_prob makes the kept input features 1/q = {factor(1 / v.q)} times as large "
                "while training")
    # SGD and momentum step by the gradient itself; Adam divides it by its own running size, so
    # there the larger units, not larger steps, are what differs.
    steps = ("the inverted run takes larger steps than the unrescaled one" if v.ctx.optimizer in ("sgd", "momentum")
             else "the inverted run's training passes run larger than the unrescaled one's")
    return (f" The runs differ only in the rescale: {what}, and the gradients with them, so at --lr {v.ctx.lr:g} "
            f"{steps}. Try a smaller --lr.")


def _say_one_diverged(v: View, short: bool) -> str:
    bad = "inverted" if v.diverged("inverted") else "unrescaled"
    good = _other(bad)
    why = _inverted_blow_up(v, short) if bad == "inverted" and v.dropping else ""
    if short:
        return f"The {bad} run diverged and stopped; nothing here compares the runs.{why}"
    survivor = f"the {good} run carries on"
    if good == "unrescaled" and v.misscaled():
        survivor += (f": without dropout it predicts at test R² {r2_text(v.unr['test_r2'])}, with ×p at test at "
                     f"R² {r2_text(v.unr['test_r2_scaled'])}")
    elif v.stuck(good):
        run = v.run(good)
        if v.regression:
            how = score(v, run) if ok(run.get("test_r2")) else "its outputs beyond floating point"
        elif ok(run.get("test_acc")):
            how = f"{score(v, run)}, chance {pct(v.chance_acc)}"
        else:
            how = "its outputs without dropout beyond floating point"
        survivor += f", but it is not learning either ({how})"
    return (f"The {bad} run diverged (a loss or a weight became infinite) and stopped updating; {survivor}. "
            f"A stopped run is not compared with a running one.{why}")


def _step_zero(v: View) -> bool:
    return v.step == 0 and not v.diverged("inverted") and not v.diverged("unrescaled")


def _say_step_zero(v: View, short: bool) -> str:
    return ("Step 0: both networks start from the same weights and will see the same data and the same "
            "dropout masks. The only difference is the ÷ keep_prob.")


def _neither_learning(v: View) -> bool:
    return v.stuck("inverted") and v.stuck("unrescaled") and not v.misscaled()


def _versus_mean(r2: float) -> str:
    """How a test R² at or below the margin stands to always predicting the mean, in words."""
    return "worse than" if r2 < 0 else "no better than"


def _fit_clause(v: View, rule: str) -> str:
    """", though it fits its training data with dropout on" / ", and it does not fit ..." where the
    training fit can be read (full batch), else ""."""
    if not (v.regression and v.ctx.full_batch):
        return ""
    if v.fits_training(rule):
        return ", though it fits its training data with dropout on"
    return ", and it does not fit its training data with dropout on either"


def _say_misscaled(v: View, short: bool) -> str:
    """The unrescaled run whose weights learned at the scale they trained at, and which predicts no
    better than the mean without dropout: what it fits, and what ×p at test makes of it."""
    u = v.unr
    r2 = r2_text(u["test_r2"])
    spread = f" (outputs {num(u['test_spread'])}× as wide as the targets)" if ok(u.get("test_spread")) else ""
    scaled = f", with ×p at test R² {r2_text(u['test_r2_scaled'])}" if v.scaled_predicts() else ""
    if short:
        return f"Unrescaled: test R² {r2} without dropout{scaled}."
    if v.fits_training("unrescaled"):
        return (f"The unrescaled run fits its training data with dropout on; without dropout it predicts at "
                f"test R² {r2}{spread}{scaled}.")
    return f"The unrescaled run predicts at test R² {r2} without dropout{spread}{scaled}."


def _loss_vs_chance(v: View, losses: list[float]) -> str:
    """", far above the 0.693 of always predicting the class frequencies" when the losses are."""
    if not ok(v.chance_loss) or not all(ok(x) for x in losses):
        return ""
    if all(x > LOSS_FAR * v.chance_loss for x in losses):
        word = "far above"
    elif all(x > v.chance_loss * (1 + SAME_LOSS) for x in losses):
        word = "above"
    else:
        return ""
    const = "the mean" if v.regression else "the class frequencies"
    return f", {word} the {loss_text(v.chance_loss)} of always predicting {const}"


def score(v: View, run: RunMetrics) -> str:
    """How well a run predicts, as its column shows it: test accuracy, or for regression test R²."""
    if v.regression:
        return f"test R² {r2_text(run.get('test_r2', math.nan))}"
    return f"test accuracy {pct(run.get('test_acc'))}"


def _say_neither_learning(v: View, short: bool) -> str:
    if v.regression:
        return _say_neither_predicts(v, short)
    ai, au = v.inv["test_acc"], v.unr["test_acc"]
    li, lu = v.inv["test_loss"], v.unr["test_loss"]
    if not (ok(ai) and ok(au)):
        # A run whose outputs without dropout overflow (weights still finite) has no accuracy.
        scores = [f"test accuracy {pct(a)} ({name})" for name, a in (("inverted", ai), ("unrescaled", au)) if ok(a)]
        quoted = (": " + scores[0] + " and the other's outputs beyond floating point,") if scores \
            else ": their outputs without dropout are beyond floating point,"
        return (f"Neither run is learning{quoted} no better than the {pct(v.chance_acc)} of always predicting "
                f"the most frequent class. Comparing them would mean nothing; try another --lr (now {v.ctx.lr:g}).")
    if short:
        return (f"Neither run beats chance ({pct(v.chance_acc)}): test accuracy {pct(ai)} and {pct(au)}. "
                "Nothing to compare.")
    losses = _loss_vs_chance(v, [li, lu])
    loss_part = f"; test loss {loss_text(li)} and {loss_text(lu)}{losses}" if losses else ""
    knobs = [f"another --lr (now {v.ctx.lr:g})"]
    if v.p < 1:
        knobs.append(f"a larger keep_prob (now {kp(v.p)})")
    knobs.append("more steps")
    return (f"Neither run is learning: test accuracy {pct(ai)} (inverted) and {pct(au)} (unrescaled), "
            f"no better than the {pct(v.chance_acc)} of always predicting the most frequent class{loss_part}. "
            f"Comparing them would mean nothing; try {', '.join(knobs[:-1])} or {knobs[-1]}.")


def _say_neither_predicts(v: View, short: bool) -> str:
    """Regression, neither run's test R² above the margin (and no mis-scaled unrescaled run)."""
    pairs = [(name, run["test_r2"]) for name, run in (("inverted", v.inv), ("unrescaled", v.unr))
             if ok(run.get("test_r2"))]
    scaled: float = v.unr.get("test_r2_scaled", math.nan)
    if ok(scaled) and v.dropping:
        pairs.append(("with ×p at test", scaled))
    worse = "; each does worse than it" if pairs and all(r2 < 0 for _, r2 in pairs) else ""
    quoted = ", ".join(f"{r2_text(r2)} {name}" for name, r2 in pairs)
    r2s = f" (test R² {quoted}{worse})" if pairs else " (their outputs beyond floating point)"
    if short:
        return f"Neither run predicts better than the mean{r2s}: nothing to compare."
    fits = [name for name in ("inverted", "unrescaled") if v.fits_training(name)]
    if not v.ctx.full_batch:
        tail = f" Comparing their MSEs would mean nothing; try another --lr (now {v.ctx.lr:g}) or more steps."
    elif fits:
        who = "both fit" if len(fits) == 2 else f"the {fits[0]} run fits"
        tail = (f" Yet {who} the training data with dropout on: what was fitted there does not carry over to the "
                "test set. Comparing their MSEs would mean nothing.")
    else:
        tail = (" Neither fits its training data with dropout on either. Comparing them would mean nothing; "
                f"try another --lr (now {v.ctx.lr:g}) or more steps.")
    return f"Neither run predicts the test set better than always predicting the mean{r2s}.{tail}"


def _one_stuck(v: View) -> bool:
    return (v.stuck("inverted") and v.unrescaled_learned()) or \
        (v.stuck("unrescaled") and not v.misscaled() and v.learning("inverted"))


def _stuck_rule(v: View) -> str:
    return "inverted" if v.stuck("inverted") else "unrescaled"


def _say_one_stuck(v: View, short: bool) -> str:
    bad = _stuck_rule(v)
    run, good = v.run(bad), v.run(_other(bad))
    if v.regression:
        if ok(run.get("test_r2")):
            mine = f": {score(v, run)}, {_versus_mean(run['test_r2'])} always predicting the mean"
        else:
            mine = ": its outputs are beyond floating point"
        if v.learning(_other(bad)):
            theirs = f" The {_other(bad)} run reaches {score(v, good)}."
        else:  # the unrescaled run, mis-scaled
            theirs = " " + _say_misscaled(v, short)
        if short:
            return f"The {bad} run is not learning{mine}.{theirs}"
        return f"The {bad} run is not learning{mine}{_fit_clause(v, bad)}.{theirs}"
    if not ok(run["test_acc"]):
        # Its weights are still finite (else it would have diverged), but without dropout its
        # outputs overflow the float type: there is no accuracy to quote.
        if short:
            return (f"The {bad} run's outputs without dropout are beyond floating point: no test accuracy "
                    f"({_other(bad)}: {pct(good['test_acc'])}).")
        return (f"The {bad} run is not learning: without dropout its outputs are beyond floating point, so it "
                f"has no test accuracy (always predicting the most frequent class gives {pct(v.chance_acc)}). "
                f"The {_other(bad)} run reaches {pct(good['test_acc'])}.")
    if short:
        return (f"The {bad} run is no better than chance: test accuracy {pct(run['test_acc'])} "
                f"(chance {pct(v.chance_acc)}; {_other(bad)}: {pct(good['test_acc'])}).")
    losses = _loss_vs_chance(v, [run["test_loss"]])
    loss_part = (f"; its test loss {loss_text(run['test_loss'])} is{losses[1:]}"
                 + (f", at {pct(run['test_confidence'])} confidence" if ok(run["test_confidence"]) else "")
                 if losses else "")
    return (f"The {bad} run is not learning: test accuracy {pct(run['test_acc'])}, no better than the "
            f"{pct(v.chance_acc)} of always predicting the most frequent class{loss_part}. The {_other(bad)} "
            f"run reaches {pct(good['test_acc'])}.")


def _weights_out_of_scale(v: View) -> tuple[str, str, float, float] | None:
    """(run, layer name, its ‖W‖, the other run's) for the layer where one run's weights are the
    furthest beyond HUGE_WEIGHTS times the other's, when a run is stuck or its loss is far above chance."""
    best = None
    for rule in ("inverted", "unrescaled"):
        run, other = v.run(rule), v.run(_other(rule))
        if v.diverged(rule) or v.diverged(_other(rule)):
            continue
        if not (v.stuck(rule) or (ok(run["test_loss"]) and ok(v.chance_loss)
                                  and run["test_loss"] > LOSS_FAR * v.chance_loss)):
            continue
        for mine, theirs in zip(run["layers"], other["layers"]):
            a, b = mine["weight_norm"], theirs["weight_norm"]
            # Large against the other run AND in itself: the other run's weights can also have
            # shrunk (an L2 penalty, Adam), which is no blow-up.
            if (_finite(a, b) and b > 0 and a > HUGE_WEIGHTS * b and a > HUGE_NORM
                    and (best is None or a / b > best[2] / best[3])):
                best = (rule, mine["name"], a, b)
    return best


TINY_P = 0.2  # keep_prob at or below this: 1/p ≥ 5, a factor the ÷p alone can be blamed for


def _tiny_keep_prob(v: View) -> bool:
    found = _weights_out_of_scale(v)
    return found is not None and found[0] == "inverted" and v.p < 1


def _say_tiny_keep_prob(v: View, short: bool) -> str:
    _, name, mine, theirs = _weights_out_of_scale(v)  # type: ignore[misc]
    loss = v.inv["test_loss"]
    big_loss = ok(loss) and ok(v.chance_loss) and loss > LOSS_FAR * v.chance_loss
    enormous = f" Without dropout those weights make enormous outputs: test loss {loss_text(loss)}." if big_loss else ""
    if v.p > TINY_P:
        # A factor 1/p of 2 or 3 cannot be told from the learning rate: at keep_prob 0.5 the same
        # network without any dropout blows up at a learning rate that blows the inverted run up
        # (sine, lr 0.5). The unrescaled run survives because its steps are smaller, which is the
        # learning rate's story: named as the likely cause, with its remedy.
        sgd = v.ctx.optimizer in ("sgd", "momentum")
        if short:
            return (f"Inverted's ‖W‖ into {name} is {num(mine)} (unrescaled {num(theirs)}): --lr {v.ctx.lr:g} is "
                    "likely too large; try a smaller --lr.")
        return (f"The inverted run's weights into {name} reached ‖W‖ {num(mine)}, against {num(theirs)} in the "
                f"unrescaled run from the same start: the learning rate (--lr {v.ctx.lr:g}) is the likely cause, "
                f"not the ÷ keep_prob alone. The unrescaled run is another optimisation path: "
                f"{_optimisation_path(v)}" + (", so its steps are smaller" if sgd else "")
                + f". Try a smaller --lr.{enormous}")
    if short:
        return (f"At keep_prob {kp(v.p)} inverted scales kept units ×{factor(1 / v.p)}: its ‖W‖ into {name} "
                f"is {num(mine)} (unrescaled {num(theirs)})" + (f", test loss {loss_text(loss)}." if big_loss else "."))
    return (f"At keep_prob {kp(v.p)} inverted dropout multiplies the units it keeps by 1/p = {factor(1 / v.p)} "
            "while training, and the gradients of the weights they feed grow with them: its weights into "
            f"{name} reached ‖W‖ {num(mine)}, against {num(theirs)} in the unrescaled run from the same start."
            f"{enormous} A smaller --lr makes smaller steps.")


def _silent_layer(v: View, rule: str) -> LayerStats | None:
    if v.ctx.activation not in CONVEX or not v.stuck(rule):
        return None
    for layer in v.run(rule)["layers"]:
        m = layer["mean_pred"]
        if ok(m) and abs(m) < SILENT:
            return layer
    return None


def _silent(v: View) -> bool:
    return any(_silent_layer(v, r) is not None for r in ("inverted", "unrescaled"))


def _say_silent(v: View, short: bool) -> str:
    rule = "inverted" if _silent_layer(v, "inverted") is not None else "unrescaled"
    layer = _silent_layer(v, rule)
    assert layer is not None
    tr = layer["mean_train"]
    if ok(tr) and abs(tr) >= SILENT:
        # Silent only without the masks: the noise of training mode still lifts it above zero.
        if short:
            return (f"The {rule} run's {layer['name']} is almost silent when predicting (mean "
                    f"{num(layer['mean_pred'])}), not in training ({num(tr)}).")
        return (f"The {rule} run's {layer['name']} is active in training (mean {num(tr)}) but almost silent when "
                f"predicting ({num(layer['mean_pred'])}): its {_act(v)} units fire with dropout's noise and "
                "hardly without it.")
    if short:
        return f"The {rule} run's {layer['name']} is almost silent (mean {num(layer['mean_pred'])} predicting)."
    return (f"The {rule} run's {layer['name']} has gone almost silent: its {_act(v)} units' mean output is "
            f"{num(layer['mean_pred'])} when predicting.")


def _input_story(v: View) -> bool:
    # Only where the input is all that is dropped: with hidden dropout as well, the same gap can
    # come from the hidden layers (a 6-layer net at keep_prob 0.5 shows it with no input dropout
    # at all), and one pair of runs cannot tell the two apart.
    if v.p < 1:
        return False
    if v.regression:
        return _input_story_regression(v)
    return (v.q < 1 and not v.diverged("inverted") and v.learning("unrescaled")
            and _finite(v.inv["test_acc"], v.unr["test_acc"], v.inv["test_loss"], v.unr["test_loss"])
            and v.inv["test_acc"] < v.unr["test_acc"] - ACC_POINTS
            # Told only when inverted reads the test set worse by its loss too: beside a lower
            # inverted loss (an over-confident unrescaled run), "misreads" would not hold.
            and v.inv["test_loss"] > v.unr["test_loss"])


def _input_story_regression(v: View) -> bool:
    """Input dropout, and the inverted run predicts the test set clearly worse than the unrescaled
    one (which learns): by its loss, hence by its R²."""
    i, u = v.inv, v.unr
    return (v.q < 1 and not v.diverged("inverted") and v.learning("unrescaled")
            and _finite(i["test_loss"], u["test_loss"], i.get("test_r2"), u.get("test_r2"))
            and i["test_loss"] > u["test_loss"] * (1 + SAME_LOSS))


TARGETS = {"sine": "y = sin πx depends on where x is",
           "saddle": "y = x₁² − x₂² depends on the inputs' size"}


def _say_input_story_regression(v: View, short: bool) -> str:
    ri, ru = r2_text(v.inv["test_r2"]), r2_text(v.unr["test_r2"])
    scale = factor(1 / v.q)
    if short:
        return (f"Input dropout: inverted trains on kept inputs ×{scale} (1/q), so it learned the function on "
                f"enlarged inputs: test R² {ri} vs unrescaled {ru}.")
    n = v.ctx.n_inputs
    target = TARGETS.get(v.ctx.dataset)
    why = (f"{target}, so the function it learned on enlarged inputs mispredicts the real ones" if target else
           "where the target depends on the inputs' size or position, the function it learned on enlarged "
           "inputs mispredicts the real ones")
    whole = (" (with one input feature, an example is either kept whole or zeroed)" if n == 1 else "")
    return (f"With input dropout the inverted run multiplies each kept input feature by 1/q = {scale} while "
            f"training, so it learned on inputs {scale}× as large as the ones it predicts on; {why} "
            f"(test R² {ri}, unrescaled {ru}). The unrescaled run saw every kept feature at its true "
            f"size{whole}.")


def _say_input_story(v: View, short: bool) -> str:
    if v.regression:
        return _say_input_story_regression(v, short)
    ai, au = pct(v.inv["test_acc"]), pct(v.unr["test_acc"])
    scale = factor(1 / v.q)
    if short:
        return (f"Input dropout: inverted trains on inputs ×{scale} (1/q) whenever they are kept, so it "
                f"misjudges their true size: {ai} vs unrescaled {au}.")
    n = v.ctx.n_inputs
    none = (1 - v.q) ** n
    where = ("On circles the class is the distance from the centre, so it learned circles "
             f"{scale}× too large and misreads the real ones" if v.ctx.dataset == "circles" else
             "Where the class depends on that size, a network tuned to the enlarged inputs misreads the real ones")
    empty = (f" (With {n} input features, {pct(none, 0)} of the examples have no input at all in a step, "
             "in both runs.)" if none >= 0.01 else "")
    return (f"With input dropout the inverted run multiplies each kept input feature by 1/q = {scale} while "
            f"training, so an example whose features are all kept lies {scale}× as far from the origin as "
            f"when predicting: each feature keeps its mean, the example does not keep its size. {where} "
            f"(test accuracy {ai}, unrescaled {au}); the unrescaled run saw every fully kept example at "
            f"its true size.{empty}")


def _strength(layer: LayerStats, activation: str) -> tuple[str, float, float] | None:
    """(what, train value, pred value) for how strong a layer's output is. Means of tanh units sit
    near zero with either sign, so for tanh the per-example norm says it better."""
    keys = ("norm_train", "norm_pred") if activation in MEAN_IS_NOISE else ("mean_train", "mean_pred")
    tr, ev = layer.get(keys[0]), layer.get(keys[1])
    if not _finite(tr, ev):
        return None
    tr, ev = float(tr), float(ev)  # type: ignore[arg-type]
    if ev <= 0 or tr < 0:
        return None
    return ("norm" if activation in MEAN_IS_NOISE else "mean"), tr, ev


def _weaker_layer(v: View) -> tuple[str, float, float, str] | None:
    layers = v.unr["layers"]
    # Only while both runs learn (or the inverted run diverged: then this is the unrescaled run's
    # own story): beside a run at chance this is not the story the numbers tell.
    alone = v.diverged("inverted") and v.unrescaled_learned()
    if not v.dropping or not layers or not (v.comparable or alone):
        return None
    st = _strength(layers[-1], v.ctx.activation)
    if st is None or st[1] / st[2] >= WEAKER:
        return None
    return st[0], st[1], st[2], layers[-1]["name"]


def _weaker(v: View) -> bool:
    return _weaker_layer(v) is not None


def _say_weaker(v: View, short: bool) -> str:
    what, tr, ev, name = _weaker_layer(v)  # type: ignore[misc]
    r = ratio_text(tr, ev)
    if short:
        return (f"Unrescaled trains on weaker signals: {name} {what} {num(tr)} training, {num(ev)} "
                f"predicting (×{r}).")
    sites = []
    if v.p < 1:
        sites.append(f"keep_prob {kp(v.p)} per layer")
    if v.q < 1:
        sites.append(f"input keep {kp(v.q)}")
    per_layer = [(layer["name"], _strength(layer, v.ctx.activation)) for layer in v.unr["layers"]]
    chain = ""
    if len(per_layer) > 1 and all(st for _, st in per_layer):
        chain = "; by layer: " + ", ".join(f"{n} ×{ratio_text(st[1], st[2])}" for n, st in per_layer if st)
    lu, li = v.unr["test_loss"], v.inv["test_loss"]
    # The weaker signal is a fact of training, not a verdict: said so where the unrescaled run
    # nevertheless predicts the test set better.
    better = (f" Yet here the unrescaled run does better on the test set (test loss {loss_text(lu)} against "
              f"inverted's {loss_text(li)}).") if _finite(lu, li) and lu * (1 + SAME_LOSS) < li else ""
    if v.p >= 1:
        # Input dropout alone: the kept features keep their true size; the hidden layers' lower
        # means in training come from features dropped whole, not from weakened ones.
        return (f"Without the rescale, input dropout zeroes input features while training and leaves the kept "
                f"ones at their true size, so {name}'s {what} is {num(tr)} in training but {num(ev)} when "
                f"predicting (×{r} in the table; {', '.join(sites)}{chain}): the inputs are dropped whole, not "
                f"weakened.{better}")
    return (f"Without the rescale, dropout weakens what the layers pass on while training: {name}'s {what} "
            f"is {num(tr)} in training but {num(ev)} when predicting (×{r} in the table; {', '.join(sites)}"
            f"{chain}). The layers after it learned on the weaker signal.{better}")


def _tuned_to_weak(v: View) -> bool:
    # Full batch only: a minibatch's loss is of other points than the whole training set's.
    u = v.unr
    return (v.dropping and v.ctx.full_batch and v.unrescaled_learned() and v.step > 0
            and _finite(u["train_loss_dropout"], u["train_loss"])
            and u["train_loss_dropout"] * (1 + SAME_LOSS) < u["train_loss"])


def _say_tuned_to_weak(v: View, short: bool) -> str:
    d, t = loss_text(v.unr["train_loss_dropout"]), loss_text(v.unr["train_loss"])
    if short:
        return f"Unrescaled: train loss {d} with dropout, {t} without: it fits better at the weakened scale."
    # Causally neutral: an untrained net's outputs can already be too wide, so that any shrinking
    # lowers its loss; "tuned to" would claim what the numbers at one step cannot separate.
    return (f"The unrescaled run's training loss is lower with dropout on ({d}, the latest step) than without "
            f"it ({t}): its outputs fit the training targets better at the weakened scale it trains at than "
            "at full scale.")


def _train_above_test(v: View) -> bool:
    i = v.inv
    return (v.dropping and v.ctx.full_batch and v.learning("inverted") and v.step > 0
            and _finite(i["train_loss_dropout"], i["test_loss"], i["train_loss"])
            and i["train_loss_dropout"] > i["test_loss"] * (1 + SAME_LOSS))


def _say_train_above_test(v: View, short: bool) -> str:
    i = v.inv
    d, te, tr = loss_text(i["train_loss_dropout"]), loss_text(i["test_loss"]), loss_text(i["train_loss"])
    if short:
        return f"Inverted: train loss with dropout {d} > test loss {te}: dropout thins the training pass."
    return (f"Why is the inverted run's training loss with dropout ({d}) above its test loss ({te})? It is "
            "measured on a thinned, noisy network at each step, while the test loss uses the whole network; "
            f"without dropout its training loss is {tr}.")


def _compare_loss(a: float, b: float) -> str:
    """How loss a stands to loss b, in words."""
    if a > b * (1 + SAME_LOSS):
        return "higher than"
    if a < b / (1 + SAME_LOSS):
        return "lower than"
    return "about the same as"


def _loss_compare(v: View) -> bool:
    return v.step > 0 and v.comparable and _finite(v.unr["test_loss"], v.inv["test_loss"])


def _over_confident(v: View) -> bool:
    """Sure beyond its own hit rate, and by more than the inverted run is: late in training both
    can over-fit alike."""
    u, i = v.unr, v.inv
    if v.regression or not _finite(u["test_confidence"], u["test_acc"]):
        return False
    gap_i = i["test_confidence"] - i["test_acc"] if _finite(i["test_confidence"], i["test_acc"]) else 0.0
    return u["test_confidence"] - u["test_acc"] > max(SAME_CONF, gap_i + SAME_CONF)


def _say_loss_compare(v: View, short: bool) -> str:
    u, i = v.unr, v.inv
    lu, li = u["test_loss"], i["test_loss"]
    rel = _compare_loss(lu, li)
    what = "Test MSE" if v.regression else "Test loss"
    # Regression: R² below 0 is the sharpest form of the harm (worse than a constant), said beside
    # the loss whose R² it is.
    below = {name: f" (R² {r2_text(run['test_r2'])}, worse than always predicting the mean)"
             for name, run in (("unrescaled", u), ("inverted", i))
             if v.regression and not short and ok(run.get("test_r2")) and run["test_r2"] < 0}
    line = (f"{what} {loss_text(lu)}, {rel} inverted's {loss_text(li)}" if short else
            f"{what}: unrescaled {loss_text(lu)}{below.get('unrescaled', '')}, {rel} inverted's "
            f"{loss_text(li)}{below.get('inverted', '')}")
    if rel == "higher than" and _over_confident(v):
        cu, au, ci, ai = u["test_confidence"], u["test_acc"], i["test_confidence"], i["test_acc"]
        line += (f": over-confident, {pct(cu)} sure, {pct(au)} right" if short else
                 f"; it is over-confident when predicting: {pct(cu)} mean confidence for {pct(au)} accuracy"
                 + (f" (inverted: {pct(ci)} for {pct(ai)})" if _finite(ci, ai) else ""))
    if (not short and not v.regression and rel == "higher than" and ok(v.chance_loss)
            and lu > v.chance_loss * (1 + SAME_LOSS) and li < v.chance_loss):
        line += (f", above even the {loss_text(v.chance_loss)} of always predicting the class frequencies, "
                 f"while its accuracy beats chance ({pct(v.chance_acc)})")
    return line + "."


STRETCH = 1.10  # an output spread this far above 1, and above the inverted run's, is stretched


def _stretched(v: View) -> bool:
    u, i = v.unr, v.inv
    # Both learning: beside a run that is not (its spread near 0, a flat line), "stretched
    # compared with inverted" would compare with nothing.
    return (v.regression and v.dropping and v.step > 0 and not v.diverged("inverted")
            and not v.diverged("unrescaled") and v.comparable
            and _finite(u.get("test_spread"), i.get("test_spread"))
            and u["test_spread"] > STRETCH and u["test_spread"] > i["test_spread"] * STRETCH)


def _say_stretched(v: View, short: bool) -> str:
    u, i = v.unr, v.inv
    su, si = num(u["test_spread"]), num(i["test_spread"])
    scaled: float = u.get("test_spread_scaled", math.nan)
    narrows = ok(scaled) and scaled < u["test_spread"]
    fix = ""
    if narrows:
        # A good fit of noisy targets spreads less than they do (its spread is about √R²), so the
        # yardstick is the inverted run's spread, not 1: well below it, ×p went too far.
        si_v = i["test_spread"]
        fix = (f"; ×p at test brings it to {num(scaled)}×" if scaled >= si_v / STRETCH else
               f"; ×p at test narrows it to {num(scaled)}×, too far: narrower than inverted's {si}×")
    if short:
        return f"Unrescaled predictions are stretched: spread {su}× the targets' (inverted {si}×){fix}."
    stretched = f"Predicting, the unrescaled net's outputs spread {su}× as wide as the targets (inverted: {si}×)"
    if not narrows:
        return stretched + "."
    # The cause is claimed only where ×p at test, which undoes the weakening, does narrow them.
    return (f"{stretched}: it trained on signals dropout weakened, and without dropout the full signal "
            f"overshoots{fix}.")


def _acc_compare(v: View) -> bool:
    return (v.step > 0 and not v.regression and v.both_learning
            and _finite(v.unr.get("test_acc"), v.inv.get("test_acc")))


def barely_differs(a: float, b: float) -> bool:
    """Two accuracies "barely differ": at most ACC_POINTS apart AND neither error rate more than
    ERR_RATIO times the other (94% vs 96% is 6% vs 4% errors: half as many again, not "barely")."""
    ea, eb = 1 - a, 1 - b
    if abs(a - b) > ACC_POINTS:
        return False
    lo, hi = min(ea, eb), max(ea, eb)
    return hi == 0 or (lo > 0 and hi / lo <= ERR_RATIO)


def _say_acc_compare(v: View, short: bool) -> str:
    au, ai = v.unr["test_acc"], v.inv["test_acc"]
    if barely_differs(au, ai):
        harm_in_loss = _loss_compare(v) and _compare_loss(v.unr["test_loss"], v.inv["test_loss"]) == "higher than"
        return (f"Accuracy barely differs ({pct(au)} vs inverted's {pct(ai)})"
                + (": the harm is in the confidence, not (yet) in the decisions." if harm_in_loss and not short
                   else "."))
    word = "lower" if au < ai else "higher"
    if short:
        return f"Accuracy {pct(au)} vs inverted's {pct(ai)}."
    return f"Test accuracy: unrescaled {pct(au)}, {word} than inverted's {pct(ai)}."


def _scaled(v: View) -> bool:
    u = v.unr
    return (v.dropping and v.step > 0 and v.unrescaled_learned()
            and _finite(u.get("test_loss_scaled"), u["test_loss"]))


def scaled_effect(v: View) -> str:
    """What ×p at test did to the unrescaled weights' test loss: "fixes" (lower than its own
    no-dropout loss AND close to or below inverted's, inverted learning, and for regression its own
    test R² above the margin), "lowers" (lower, but not that), "same" or "raises"."""
    u = v.unr
    ls, lu = u["test_loss_scaled"], u["test_loss"]
    if ls * (1 + SAME_LOSS) < lu:
        li = v.inv["test_loss"]
        # Regression: a "fix" must predict better than the mean (its R² above the margin).
        if (v.learning("inverted") and ok(li) and ls <= li * (1 + SAME_LOSS)
                and (not v.regression or v.scaled_predicts())):
            return "fixes"
        return "lowers"
    if ls > lu * (1 + SAME_LOSS):
        return "raises"
    return "same"


def _sites(v: View) -> str:
    if v.p < 1 and v.q < 1:
        return "each dropped layer and the input"
    return "each dropped layer" if v.p < 1 else "the input"


def _say_scaled(v: View, short: bool) -> str:
    u, i = v.unr, v.inv
    ls, lu, li = loss_text(u["test_loss_scaled"]), loss_text(u["test_loss"]), loss_text(i["test_loss"])
    effect = scaled_effect(v)
    acc = ""
    a_s: float = u.get("test_acc_scaled", math.nan)
    a_u: float = u.get("test_acc", math.nan)
    if ok(a_s):
        acc = f", accuracy {pct(a_s)}"
        # The loss alone can hide what the predictions lost: say where accuracy falls to chance,
        # or clearly below the unrescaled run's own.
        if not is_learning(False, a_s, v.chance_acc if ok(v.chance_acc) else 0.0):
            acc += f", at chance ({pct(v.chance_acc)})"
        elif ok(a_u) and a_s < a_u - ACC_POINTS:
            acc = f", though accuracy falls from {pct(a_u)} to {pct(a_s)}"
    if ok(u.get("test_spread_scaled")):
        acc = f", output spread {num(u.get('test_spread_scaled'))}×"
    if effect == "fixes":
        rel = _compare_loss(u["test_loss_scaled"], i["test_loss"])
        if short:
            return f"×p at test fixes it: loss {lu} → {ls} ({rel} inverted's {li})."
        return (f"Multiplying {_sites(v)} by its keep probability at test time (Srivastava et al. 2014) "
                f"brings the unrescaled weights' test loss from {lu} to {ls}, {rel} inverted's {li}{acc}.")
    if effect == "lowers":
        above = v.learning("inverted") and ok(i["test_loss"]) and u["test_loss_scaled"] > i["test_loss"]
        tail = f", still above inverted's {li}" if above else ""
        if v.regression and ok(u.get("test_r2_scaled")) and not v.scaled_predicts():
            # Lower, and still no fix: with ×p the weights predict no better than the mean.
            tail += (f", to test R² {r2_text(u['test_r2_scaled'])}, still {_versus_mean(u['test_r2_scaled'])} "
                     "always predicting the mean")
        if short:
            return f"×p at test lowers the loss {lu} → {ls}{tail}."
        return (f"Multiplying {_sites(v)} by its keep probability at test time lowers the unrescaled "
                f"weights' test loss from {lu} to {ls}{tail}{acc}.")
    if effect == "raises":
        if short:
            return f"×p at test raises the loss {lu} → {ls}."
        return (f"Multiplying {_sites(v)} by its keep probability at test time does not help here: it "
                f"raises the unrescaled weights' test loss from {lu} to {ls}{acc}.")
    if short:
        return f"×p at test leaves the loss about the same ({lu} → {ls})."
    return (f"Multiplying {_sites(v)} by its keep probability at test time leaves the unrescaled weights' "
            f"test loss about the same ({lu} → {ls}){acc}.")


def _path_gap(v: View) -> bool:
    """×p at test leaves the unrescaled run clearly worse than inverted: the scale at prediction is
    not all that separates them."""
    u, i = v.unr, v.inv
    return (_scaled(v) and v.comparable and ok(i["test_loss"]) and i["test_loss"] > 0
            and u["test_loss"] > i["test_loss"] * (1 + SAME_LOSS)
            and u["test_loss_scaled"] > i["test_loss"] * (1 + SAME_LOSS))


def _scaled_factor(v: View) -> tuple[float, str]:
    """The keep probability that names the ×p factor, and its letter: with hidden dropout the
    hidden keep_prob, with input dropout alone the input's."""
    return (v.p, "p") if v.p < 1 else (v.q, "q")


def _optimisation_path(v: View) -> str:
    """How an unrescaled run with ×p at test differs from the inverted run, as an inverted-dropout
    network: where its weights started and how the optimiser moves them."""
    p, name = _scaled_factor(v)
    p2 = factor(p * p)
    opt = v.ctx.optimizer
    if opt in ("sgd", "momentum"):
        how = ("plain SGD" if opt == "sgd" else "momentum SGD") + (
            f" moves them with {name}² = {p2} times the learning rate")
        l2 = f", an L2 penalty acts on them as l2/{name}² = {num(v.ctx.l2 / (p * p))}" if v.ctx.l2 > 0 else ""
    else:
        how = f"Adam rescales their gradients, so its steps on them differ too (not by {name}²)"
        l2 = ""
    return (f"unrescaled training with ×p at test is an inverted-dropout network whose weights after each "
            f"dropped site are {name} times the unrescaled ones, so they started {name} times smaller{l2}, and "
            f"{how}")


def _say_path_gap(v: View, short: bool) -> str:
    ls, li = loss_text(v.unr["test_loss_scaled"]), loss_text(v.inv["test_loss"])
    if short:
        return f"×p at test leaves a gap ({ls} against inverted's {li}): the runs trained along different paths."
    return (f"×p at test does not close the gap ({ls} against inverted's {li}), so the scale at prediction is "
            f"not all that separates the runs: {_optimisation_path(v)}. Another optimisation path, "
            "which here has not reached the inverted run's test loss.")


def _scaled_beats_inverted(v: View) -> bool:
    return (_scaled(v) and v.comparable and scaled_effect(v) == "fixes"
            and _compare_loss(v.unr["test_loss_scaled"], v.inv["test_loss"]) == "lower than")


def _say_scaled_beats_inverted(v: View, short: bool) -> str:
    p, name = _scaled_factor(v)
    p2 = factor(p * p)
    opt = v.ctx.optimizer
    if short:
        if opt in ("sgd", "momentum"):
            return f"One run proves no rule: {opt} moves those weights with {name}² = {p2} × the step."
        return "One run proves no rule: the two trained along different paths."
    return (f"×p beating inverted here is one run, not a verdict: {_optimisation_path(v)}. Same "
            "prediction rule, another optimisation path.")


def _drifting(v: View) -> list[tuple[str, float]]:
    """Inverted-run layers whose table mean ratio is in the warning colour and whose input is noisy."""
    if v.ctx.activation in MEAN_IS_NOISE or not v.learning("inverted") or not v.dropping:
        return []
    out = []
    for k, layer in enumerate(v.inv["layers"]):
        noisy_input = v.q < 1 or (k >= 1 and v.p < 1)
        r = ratio(layer["mean_train"], layer["mean_pred"])
        if noisy_input and ok(r) and abs(r - 1) > DRIFT and layer["mean_pred"] > 0:
            out.append((layer["name"], r))
    return out


def _h1_keeps_mean(v: View) -> tuple[float, float] | None:
    """(mean ratio, norm ratio) of the inverted run's h1 when its input is the same in both modes
    (no input dropout), its mean ratio is in the table's normal colour and its norm ratio is above 1."""
    layers = v.inv["layers"]
    if (v.q < 1 or v.p >= 1 or not layers or v.ctx.activation in MEAN_IS_NOISE or not v.learning("inverted")):
        return None
    h1 = layers[0]
    mr, nr = ratio(h1["mean_train"], h1["mean_pred"]), ratio(h1["norm_train"], h1["norm_pred"])
    if not _finite(mr, nr) or h1["mean_pred"] <= 0 or abs(mr - 1) > KEEPS or float(num(nr)) <= 1:
        return None
    return mr, nr


def _keeps_mean(v: View) -> bool:
    return _h1_keeps_mean(v) is not None and not _drifting(v)


def norm_bound_text(v: View, nr: float) -> str:
    """"at most √(1/p) = B, ..." when the norm ratio ``nr`` as printed is within the bound, else ""
    (one mask's noise can exceed what holds in expectation)."""
    bound = 1 / math.sqrt(v.p)
    if float(table_ratio(nr)) <= float(num(bound)):
        return f"at most √(1/p) = {num(bound)}, less when few units are active"
    return ""


def _say_keeps_mean(v: View, short: bool) -> str:
    mr, nr = _h1_keeps_mean(v)  # type: ignore[misc]
    if short:
        return f"Inverted keeps h1's mean (×{table_ratio(mr)}), not its norm (×{table_ratio(nr)})."
    bound = norm_bound_text(v, nr)
    return (f"Inverted dropout keeps h1's mean (×{table_ratio(mr)} in the table) but not its norm "
            f"(×{table_ratio(nr)}): "
            f"E‖·‖² of a layer's own mask grows by 1/p = {factor(1 / v.p)}, so the norm by "
            + (bound if bound else "less than √(1/p) on average") + ".")


def _drift(v: View) -> bool:
    return bool(_drifting(v))


def _say_drift(v: View, short: bool) -> str:
    drifting = _drifting(v)
    names = ", ".join(f"{name} ×{table_ratio(r)}" for name, r in drifting)
    first = drifting[0][0]
    h1 = _h1_keeps_mean(v)
    kept = f"keeps h1's mean (×{table_ratio(h1[0])}) but " if h1 is not None and first != "h1" else ""
    if short:
        if h1 is not None and first != "h1":
            shown = ", ".join(f"{name}'s (×{table_ratio(r)})" for name, r in drifting)
            return (f"Inverted keeps h1's mean (×{table_ratio(h1[0])}) but not {shown}: a noisy input through a "
                    f"{_act(v)} shifts the mean.")
        return f"Inverted mean ratio {names}: a noisy input through a {_act(v)} shifts the mean."
    act = f"a {_act(v)}"
    why = ("input dropout makes its input noisy" if first == "h1" else f"{first}'s input is already noisy")
    jensen = ""
    # The first noisy layer's pre-activation is unbiased (the rescale below it is exact in
    # expectation); a convex activation then raises the mean on average (Jensen).
    if v.ctx.activation in CONVEX and drifting[0][1] > 1 and first == ("h1" if v.q < 1 else "h2"):
        jensen = f"; {act} is convex, so noise can only raise its mean on average (Jensen's inequality)"
    return (f"Inverted dropout {kept}shows a mean ratio (train→pred, in the table) of {names}: each layer's "
            f"rescale matches its own mask in expectation, but {why} and passes through {act}, so its mean "
            f"in training mode differs{jensen}.")


def _tanh_noise_layer(v: View) -> tuple[str, LayerStats, float] | None:
    """(run, layer, mean ratio) of a tanh layer whose mean ratio is in the warning colour while its
    mean is near zero next to its norm (|mean| ≤ 5% of the per-example norm): a ratio of two
    near-zero numbers."""
    if v.ctx.activation not in MEAN_IS_NOISE or v.step == 0:
        return None
    # Each run's ratio against its own closed form (1 inverted, p unrescaled: the snapshot's
    # mean_ratio_theory): an unrescaled ratio near p is the theory, not noise. Inverted first: its
    # ratios are the ones read as "inverted is wrong too".
    for rule in ("inverted", "unrescaled"):
        if v.diverged(rule):
            continue
        for layer in v.run(rule)["layers"]:
            m, n, r = layer["mean_pred"], layer["norm_pred"], ratio(layer["mean_train"], layer["mean_pred"])
            theory = layer.get("mean_ratio_theory", 1.0 if rule == "inverted" else v.p)
            if _finite(m, n, r, theory) and n > 0 and abs(m) <= 0.05 * n and abs(r - theory) > DRIFT:
                return rule, layer, r
    return None


def _tanh_noise(v: View) -> bool:
    return _tanh_noise_layer(v) is not None


def _say_tanh_noise(v: View, short: bool) -> str:
    rule, layer, r = _tanh_noise_layer(v)  # type: ignore[misc]
    name, m, n = layer["name"], num(layer["mean_pred"]), num(layer["norm_pred"])
    if short:
        return f"tanh means sit near zero ({rule} {name}: mean {m}, norm {n}): their ratios are noise."
    return (f"tanh units average near zero with either sign ({rule} {name}: mean {m} when predicting, against "
            f"a norm of {n}), so mean ratios like its ×{table_ratio(r)} in the table are noise; the norms carry "
            "the story.")


def _keep_prob_one(v: View) -> bool:
    return v.step > 0 and not v.dropping


def _say_keep_prob_one(v: View, short: bool) -> str:
    return ("keep_prob is 1.00: nothing is dropped now, so both runs take the same kind of step; any "
            "difference below comes from steps trained with dropout."
            + (" Press - to drop units." if v.ctx.keys else " Set --keep-prob below 1 to drop units."))


# -- prediction rules -------------------------------------------------------------------------------


def _rules_of(v: View, rule: str):
    """(run metrics, its rules) in the latest evaluation, when that run was learning and dropout
    was on there; else None."""
    snap = v.rules
    if snap is None or (snap["keep_prob"] >= 1 and snap.get("input_keep_prob", 1.0) >= 1):
        return None
    run = snap["runs"][rule]
    if run.get("diverged") or not run.get("learning", True):
        return None
    # Regression: the snapshot's flag also counts a training fit with dropout on. The inverted
    # run's rules are compared with its no-dropout prediction, which must then beat the mean; the
    # unrescaled run's are compared with ×p at test (``mc_story`` checks that one).
    if rule == "inverted" and "test_r2" in run and not is_learning(False, run["test_r2"], 0.0):
        return None
    return run, run["rules"]


def _at(v: View) -> str:
    """"At step N, " when the rules were evaluated at another step than the snapshot's."""
    assert v.rules is not None
    return "" if v.rules["step"] == v.step else f"At step {v.rules['step']:,}, "


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def rise(a: float, b: float) -> float:
    """How much b is above a, as a fraction of a."""
    return (b - a) / a


def _left_on(v: View) -> tuple[float, float, float, float] | None:
    """(no-dropout loss, dropout-on loss, rise, predictive std) of the inverted run when leaving
    dropout on raises its loss by at least 1% as printed."""
    found = _rules_of(v, "inverted")
    if found is None:
        return None
    rules = found[1]
    a, b = rules["no_dropout"]["test_loss"], rules["dropout_on"]["test_loss"]
    sd = rules["dropout_on"].get("predictive_std", math.nan)
    if not _finite(a, b, sd) or a <= 0 or b <= a or round(100 * rise(a, b)) < 1:
        return None
    return a, b, rise(a, b), sd


def _left_on_lowers(v: View) -> tuple[float, float, float] | None:
    """(no-dropout loss, dropout-on loss, drop as a fraction) of the inverted run when leaving
    dropout on lowers its test loss clearly (by more than SAME_LOSS) and that stochastic pass itself
    beats chance: with input dropout, the pass the inverted run trained on can predict better than
    its no-dropout rule."""
    snap = v.rules
    if snap is None or (snap["keep_prob"] >= 1 and snap.get("input_keep_prob", 1.0) >= 1):
        return None
    run = snap["runs"]["inverted"]
    if run.get("diverged"):
        return None
    rules = run["rules"]
    a, b = rules["no_dropout"]["test_loss"], rules["dropout_on"]["test_loss"]
    if not _finite(a, b) or a <= 0 or not b * (1 + SAME_LOSS) < a:
        return None
    if not _rule_beats_chance(v, rules["dropout_on"]):
        return None
    return a, b, (a - b) / a


def _dropout_left_on(v: View) -> bool:
    return _left_on(v) is not None or _left_on_lowers(v) is not None


def _say_left_on_lowers(v: View, short: bool) -> str:
    a, b, r = _left_on_lowers(v)  # type: ignore[misc]
    if short:
        return _cap(f"{_at(v)}dropout left on at prediction lowers inverted's test loss by {pct(r, 0)} "
                    f"({loss_text(a)} → {loss_text(b)}).")
    return _cap(f"{_at(v)}dropout left on at prediction (one stochastic pass, masks as in training) lowers the "
                f"inverted run's test loss by {pct(r, 0)} ({loss_text(a)} → {loss_text(b)}): with its masks it sees "
                + ("inputs at the scale it trained on." if v.rules["input_keep_prob"] < 1 else  # type: ignore[index]
                   "the thinned, rescaled network it trained as."))


def _say_dropout_left_on(v: View, short: bool) -> str:
    if _left_on(v) is None:
        return _say_left_on_lowers(v, short)
    a, b, r, sd = _left_on(v)  # type: ignore[misc]
    what = "output" if v.regression else "predicted probability"
    if short:
        return _cap(f"{_at(v)}dropout left on at prediction (a forgotten model.eval()) raises inverted's test "
                    f"loss by {pct(r, 0)} ({loss_text(a)} → {loss_text(b)}).")
    passes = _rules_of(v, "inverted")[1]["mc_dropout"][-1]["T"]  # type: ignore[index]
    # The spread is estimated over the evaluation's passes: with a handful (--mc-max 1 gives
    # 0) it would misstate how much the predictions change.
    change = (f", and its predictions change from call to call (sd {fit(sd, 5).strip()} of the {what})"
              if passes >= SD_PASSES else "")
    return _cap(f"{_at(v)}dropout left on at prediction (one stochastic pass, what a forgotten model.eval() "
                f"gives) raises the inverted run's test loss by {pct(r, 0)} ({loss_text(a)} → {loss_text(b)})"
                f"{change}.")


REFERENCE = {"unrescaled": ("weight_scaling", "×p at test"), "inverted": ("no_dropout", "no-dropout")}


def _rule_beats_chance(v: View, metrics) -> bool:
    """A prediction rule's own metrics beat chance as a run's must to be ``learning``: test accuracy
    more than 5 points above chance_acc, or for regression test R² above 0.05."""
    assert v.rules is not None
    if "test_r2" in metrics:
        return is_learning(False, metrics["test_r2"], 0.0)
    return is_learning(False, metrics.get("test_acc", math.nan), v.rules.get("chance_acc", math.nan))


def mc_story(v: View, rule: str):
    """How Monte-Carlo dropout's test loss stands to the run's deterministic rule (×p for the
    unrescaled run, no dropout for the inverted one): ("beats", ref, None, None, last row) when the
    largest T is more than BEAT below the reference; ("reaches", ref, T, loss at T, last row) when
    every T from T on is within REACH of the reference, ("above", ref, None, None, last row) when
    the largest T is still at least 1% above it as printed; None otherwise, without two rows, or
    when the reference or the largest T is at chance (nothing to compare)."""
    found = _rules_of(v, rule)
    if found is None:
        return None
    rules = found[1]
    key = REFERENCE[rule][0]
    mc = rules["mc_dropout"]
    if key not in rules or len(mc) < 2:
        return None
    ref = rules[key]["test_loss"]
    losses = [m["test_loss"] for m in mc]
    if not _finite(ref, *losses) or ref <= 0:
        return None
    if not (_rule_beats_chance(v, rules[key]) and _rule_beats_chance(v, mc[-1])):
        return None
    if losses[-1] < ref * (1 - BEAT):
        return "beats", ref, None, None, mc[-1]
    first = None
    for i in range(len(mc) - 1, -1, -1):
        if losses[i] <= ref * (1 + REACH):
            first = i
        else:
            break
    if first is not None:
        return "reaches", ref, mc[first]["T"], losses[first], mc[-1]
    if round(100 * rise(ref, losses[-1])) >= 1:
        return "above", ref, None, None, mc[-1]
    return None


def _better_still(rules, ref: float, mc_loss: float) -> str:
    """"; predicting without dropout does better still (0.281)" when the unrescaled weights' own
    no-dropout loss is below both ×p's and Monte-Carlo's: neither rule is then the one to use."""
    nd = rules["no_dropout"]["test_loss"]
    if ok(nd) and nd < min(ref, mc_loss) * (1 - SAME_LOSS):
        return f"; predicting without dropout does better still here ({loss_text(nd)})"
    return ""


def _say_mc(v: View, rule: str, short: bool) -> str:
    kind, ref, t, at_t, last = mc_story(v, rule)  # type: ignore[misc]
    name = REFERENCE[rule][1]
    rules = _rules_of(v, rule)[1]  # type: ignore[index]
    still = _better_still(rules, ref, last["test_loss"]) if rule == "unrescaled" else ""
    if kind == "beats":
        r = 1 - last["test_loss"] / ref
        if short:
            return (f"{_at(v)}MC dropout ({rule}) at T = {last['T']}: {loss_text(last['test_loss'])}, {pct(r, 0)} "
                    f"below the {name} loss {loss_text(ref)}.")
        one = rules["mc_dropout"][0]
        one_pass = (f" (one pass, T = 1, already gives {loss_text(one['test_loss'])})"
                    if one["T"] == 1 and one["test_loss"] < ref else "")
        rule_name = "×p at test" if rule == "unrescaled" else "predicting without dropout"
        # The paper's match was in error rate on MNIST; a loss rewards the softer averaged
        # probabilities, so here the average can do better than the rule that approximates it.
        return _cap(f"{_at(v)}averaging {last['T']} passes with dropout on (Monte-Carlo dropout) does better "
                    f"than {rule_name}: the {rule} run's test loss is {loss_text(last['test_loss'])}, "
                    f"{pct(r, 0)} below its {name} loss {loss_text(ref)}{one_pass}{still}. {_cap(rule_name)} (weight "
                    "scaling) only approximates that average; Srivastava et al. (2014) found the two about "
                    f"equal in error rate on MNIST from about k = {MC_PAPER_K} passes.")
    if kind == "reaches":
        below = (f"; at T = {last['T']} it is below it ({loss_text(last['test_loss'])})"
                 if last["test_loss"] < ref and last["T"] != t else "")
        if short:
            return (f"{_at(v)}MC dropout ({rule}) is at most 1% above the {name} loss {loss_text(ref)} from T = {t} "
                    f"on{below}.")  # "MC" starts the sentence either way
        return _cap(f"{_at(v)}averaging T passes with dropout on (Monte-Carlo dropout) brings the {rule} run's "
                    f"test loss to at most 1% above its {name} loss {loss_text(ref)} from T = {t} on (T = {t}: "
                    f"{loss_text(at_t)}){below}{still}; Srivastava et al. (2014) found about k = {MC_PAPER_K} "
                    "passes match weight scaling in error rate on MNIST.")
    r = rise(ref, last["test_loss"])
    if short:
        return (f"{_at(v)}MC dropout ({rule}) at T = {last['T']}: {loss_text(last['test_loss'])}, {pct(r, 0)} "
                f"above the {name} loss {loss_text(ref)}.")
    return _cap(f"{_at(v)}averaging {last['T']} passes with dropout on (Monte-Carlo dropout) gives the {rule} "
                f"run a test loss of {loss_text(last['test_loss'])}, still {pct(r, 0)} above its {name} loss "
                f"{loss_text(ref)}{still}.")


RULES: tuple[Rule, ...] = (
    Rule("both_diverged", "warn", _both_diverged, _say_both_diverged, ("runs.diverged",), last=True),
    Rule("pending", "note", _pending, _say_pending, ("keep_prob", "step")),
    # Only the inverted run diverged: the unrescaled run's own sentences (which compare nothing)
    # may follow; when the unrescaled run diverged, nothing is said of the inverted one alone.
    Rule("one_diverged", "warn", _one_diverged, _say_one_diverged, ("runs.diverged",),
         last=lambda v: not v.diverged("inverted")),
    Rule("step_zero", "note", _step_zero, _say_step_zero, (), last=True),
    Rule("neither_learning", "warn", _neither_learning, _say_neither_learning,
         ("test_acc", "test_loss", "chance_acc", "chance_loss")),
    Rule("one_stuck", "warn", _one_stuck, _say_one_stuck,
         ("test_acc", "test_loss", "test_confidence", "chance_acc", "chance_loss")),
    Rule("tiny_keep_prob", "why", _tiny_keep_prob, _say_tiny_keep_prob,
         ("keep_prob", "layers.weight_norm", "inverted.test_loss")),
    Rule("silent", "why", _silent, _say_silent, ("layers.mean_pred",)),
    Rule("input_story", "why", _input_story, _say_input_story, ("input_keep_prob", "test_acc")),
    Rule("keep_prob_one", "note", _keep_prob_one, _say_keep_prob_one, ("keep_prob",)),
    Rule("weaker", "why", _weaker, _say_weaker,
         ("unrescaled.layers.mean_train", "unrescaled.layers.mean_pred", "layer mean ratios", "keep_prob")),
    Rule("loss_compare", "harm", _loss_compare, _say_loss_compare,
         ("test_loss", "test_confidence", "test_acc", "chance_loss", "chance_acc")),
    # A mean ratio in the warning colour under inverted dropout invites "inverted is wrong too":
    # explained before the rest of the evidence.
    Rule("stretched", "harm", _stretched, _say_stretched,
         ("unrescaled.test_spread", "inverted.test_spread", "unrescaled.test_spread_scaled")),
    Rule("drift", "note", _drift, _say_drift, ("inverted.layers mean ratios",)),
    Rule("tanh_noise", "note", _tanh_noise, _say_tanh_noise, ("layers.mean_pred", "layers.norm_pred")),
    Rule("tuned_to_weak", "why", _tuned_to_weak, _say_tuned_to_weak,
         ("unrescaled.train_loss_dropout", "unrescaled.train_loss")),
    Rule("acc_compare", "harm", _acc_compare, _say_acc_compare, ("test_acc",)),
    Rule("scaled", "fix", _scaled, _say_scaled,
         ("unrescaled.test_loss_scaled", "unrescaled.test_acc_scaled", "test_loss")),
    Rule("path_gap", "why", _path_gap, _say_path_gap,
         ("unrescaled.test_loss_scaled", "inverted.test_loss", "keep_prob")),
    Rule("scaled_beats_inverted", "note", _scaled_beats_inverted, _say_scaled_beats_inverted, ("keep_prob",)),
    Rule("keeps_mean", "note", _keeps_mean, _say_keeps_mean, ("inverted.h1 mean and norm ratios", "keep_prob")),
    Rule("train_above_test", "note", _train_above_test, _say_train_above_test,
         ("inverted.train_loss_dropout", "inverted.test_loss", "inverted.train_loss")),
    Rule("dropout_left_on", "harm", _dropout_left_on, _say_dropout_left_on,
         ("rules.inverted.no_dropout.test_loss", "rules.inverted.dropout_on.test_loss",
          "rules.inverted.dropout_on.predictive_std")),
    Rule("mc_unrescaled", "fix", lambda v: mc_story(v, "unrescaled") is not None,
         lambda v, short: _say_mc(v, "unrescaled", short),
         ("rules.unrescaled.weight_scaling.test_loss", "rules.unrescaled.mc_dropout.test_loss")),
    Rule("mc_inverted", "note", lambda v: mc_story(v, "inverted") is not None,
         lambda v, short: _say_mc(v, "inverted", short),
         ("rules.inverted.no_dropout.test_loss", "rules.inverted.mc_dropout.test_loss")),
)
PREDICTION_RULES = ("dropout_left_on", "mc_unrescaled", "mc_inverted")
# The notes that come first whatever is asked for: what must be said before any comparison.
FIRST = ("both_diverged", "pending", "one_diverged", "step_zero")
RULES_BY_ID = {rule.id: rule for rule in RULES}


def explain(snapshot: Snapshot, context: Context | None = None, short: bool = False) -> list[Shown]:
    """The rules whose preconditions hold on ``snapshot``, with their sentences, most important first."""
    v = View(snapshot, context or Context())
    out: list[Shown] = []
    order = RULES
    if v.ctx.rules_first:
        ahead = [r for r in RULES if r.id in FIRST] + [r for r in RULES if r.id in PREDICTION_RULES]
        order = tuple(ahead) + tuple(r for r in RULES if r not in ahead)
    for rule in order:
        if rule.when(v):
            out.append(Shown(rule, rule.say(v, short)))
            if rule.stops(v):
                break
    return out


def sentences(snapshot: Snapshot, context: Context | None = None, short: bool = False) -> list[tuple[str, str]]:
    """(style tag, sentence) pairs, most important first; tags: "why", "harm", "fix", "note", "warn"."""
    return [(s.tag, s.text) for s in explain(snapshot, context, short)]
