"""Over generated settings — every dataset, activation and optimiser, depth 1-5, keep_prob 0.05-1,
input keep 0.3-1, lr 1e-3 to 1e3, float32 and float64 — the explanation tells the truth: for each
snapshot (half-way and at the end of a run), every sentence's precondition holds and no sentence
contradicts a number the screen shows (``claims.check``), in the long and the short form, with and
without a keep_prob still pending. The end-of-run snapshot carries the prediction rules (no
dropout, ×p, dropout left on, Monte-Carlo dropout up to a drawn mc_max); the half-way one is also
explained beside them as the app does (``Context.rules``: an evaluation of a later step), with the
prediction sentences first.

Sizes are small (60 training and 100 test points, up to 16 units a layer) and runs are capped at
1,500 steps, so ~150 settings run in well under a minute on an idle machine.
``pytest --hypothesis-show-statistics`` shows how often each rule spoke."""

from __future__ import annotations

from claims import check
from dropout_tui.core.activations import ACTIVATIONS
from dropout_tui.core.config import Config
from dropout_tui.core.data import DATASETS
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.optim import OPTIMIZERS
from dropout_tui.tui.explain import Context, explain
from dropout_tui.tui.threads import limit_blas_threads
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

MAX_STEPS = 1500


def once_in(n: int, rare, common):
    """A draw from ``rare`` about once in ``n`` draws, else one from ``common``."""
    return st.integers(1, n).flatmap(lambda k: rare if k == 1 else common)


@st.composite
def experiments(draw):
    depth = draw(st.integers(1, 5))
    # The whole range of each setting, weighted towards where networks learn (lr 0.03-3, no input
    # dropout) so that the comparisons get checked as often as the broken runs.
    lr_exponent = st.one_of(st.floats(-3, 3), st.floats(-1.5, 0.5))
    return Config(
        dataset=draw(st.sampled_from(DATASETS)),
        activation=draw(st.sampled_from(tuple(ACTIVATIONS))),
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        layers=tuple(draw(st.lists(st.integers(2, 16), min_size=depth, max_size=depth))),
        keep_prob=draw(once_in(8, st.just(1.0), st.floats(0.05, 1.0))),
        input_keep_prob=draw(once_in(3, st.floats(0.3, 1.0), st.just(1.0))),
        lr=10 ** draw(lr_exponent),
        l2=draw(st.sampled_from([0.0, 0.001, 0.01])),
        batch_size=draw(st.sampled_from([0, 16])),
        dtype=draw(st.sampled_from(["float64", "float32"])),
        seed=draw(st.integers(0, 3)),
        train_size=60, test_size=100, eval_every=100, mc_max=draw(st.sampled_from([1, 2, 10, 50, 200])),
    ).validate()


def _check(snap, config, arch, pending, rules=None):
    contexts = [Context.of(config, arch), Context.of(config, arch, keep_prob=pending)]
    if rules is not None:
        contexts += [Context.of(config, arch, rules=rules, rules_first=True),
                     Context.of(config, arch, keep_prob=pending, rules=rules)]
    for ctx in contexts:
        for short in (False, True):
            shown = explain(snap, ctx, short=short)
            problems = check(snap, ctx, shown)
            assert problems == [], (config, snap["step"], problems)
            for s in shown:
                event(f"rule {s.rule.id}")


def small(**changes) -> Config:
    base = {"layers": (16, 16), "train_size": 60, "test_size": 100, "eval_every": 100}
    base.update(changes)
    return Config(**base).validate()


# Besides the generated settings, ones where each story is known to be told (learning runs, drift,
# ×p beating inverted, input dropout, a tiny keep_prob), so every rule's checks run on every change.
@example(config=small(), steps=1500, pending=0.3)
@example(config=small(dataset="spiral", optimizer="momentum", lr=0.05, layers=(16, 16, 16)), steps=1500,
         pending=0.5)
@example(config=small(dataset="circles", keep_prob=1.0, input_keep_prob=0.5), steps=1500, pending=0.9)
@example(config=small(keep_prob=0.1), steps=1000, pending=0.05)
@example(config=small(keep_prob=0.01), steps=300, pending=0.5)
@example(config=small(activation="tanh", dtype="float32"), steps=800, pending=0.5)
# float32, a tiny keep_prob and lr 1: the inverted run's outputs without dropout overflow while its
# weights are still finite (not diverged): no accuracy to quote.
@example(config=small(dataset="moons", layers=(5, 15, 15, 2), activation="leaky_relu", keep_prob=0.05078125,
                      input_keep_prob=0.3125, lr=1.0, batch_size=16, mc_max=1, dtype="float32"),
         steps=93, pending=1.0)
# An R² just above the learning margin (0.0503) that two decimals would print as 0.05.
@example(config=Config(dataset="saddle", layers=(9,), activation="tanh", keep_prob=0.07691895966780762,
                       lr=0.7805901725946539, optimizer="adam", batch_size=16, l2=0.01, seed=0, train_size=60,
                       test_size=100, eval_every=100, mc_max=1).validate(), steps=1230, pending=1.0)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=experiments(), steps=st.floats(0, 1).map(lambda u: int(u * MAX_STEPS)), pending=st.floats(0.05, 1.0))
def test_every_sentence_holds_for_generated_settings(config, steps, pending):
    limit_blas_threads()
    exp = PairedExperiment(config)
    exp.advance(steps // 2)
    half = exp.snapshot()
    _check(half, config, exp.arch, pending)
    exp.advance(steps - steps // 2)
    end = exp.snapshot(rules=True)
    _check(end, config, exp.arch, pending)
    _check(half, config, exp.arch, pending, rules=end)
    event(f"ran {steps // 500 * 500}-{steps // 500 * 500 + 499} steps")
