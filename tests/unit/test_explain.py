"""The explanation panel must say only what the numbers show.

Example tests run the settings where a kind of fault was seen and check the sentences against the
numbers of that run (never against numbers copied from a run); every example also passes the
independent checks of ``claims.check``. The property test at the end runs those checks over
generated settings."""

from __future__ import annotations

import copy
import math

import pytest
from claims import DRIFT, check, matches
from dropout_tui.core.config import Config, format_keep_prob
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.explain import (
    ACC_POINTS,
    ERR_RATIO,
    RULES,
    Context,
    barely_differs,
    explain,
    factor,
    loss_text,
    sentences,
)
from dropout_tui.tui.numbers import num, pct


def run_story(steps: int, **changes):
    """(snapshot, context) after ``steps`` steps of Config(**changes): the settings as given."""
    config = Config(**changes)
    exp = PairedExperiment(config)
    exp.advance(steps)
    return exp.snapshot(), Context.of(config, exp.arch)


def text(snap, ctx=None, short=False) -> str:
    return " ".join(s for _, s in sentences(snap, ctx or Context(), short=short))


def ids(snap, ctx=None, short=False) -> list[str]:
    return [s.rule.id for s in explain(snap, ctx or Context(), short=short)]


def assert_truthful(snap, ctx):
    for short in (False, True):
        shown = explain(snap, ctx, short=short)
        assert check(snap, ctx, shown) == []


def with_runs(snap, **changes):
    out = copy.deepcopy(snap)
    for key, value in changes.items():
        rule, field = key.split("__")
        out["runs"][rule][field] = value
    return out


# -- the default run: the story, the direct evidence, and drift in the inverted run ------------


@pytest.fixture(scope="module")
def default():
    return run_story(3000)


def test_default_run_is_told_truthfully(default):
    assert_truthful(*default)


def test_a_warning_coloured_inverted_layer_is_named_with_its_table_ratio(default):
    snap, ctx = default
    inv = snap["runs"]["inverted"]
    warned = [(lay["name"], lay["mean_train"] / lay["mean_pred"]) for lay in inv["layers"]
              if abs(lay["mean_train"] / lay["mean_pred"] - 1) > DRIFT]
    assert warned  # the premise: the default run shows drift at h2
    for short in (False, True):
        words = text(snap, ctx, short)
        for name, r in warned:
            assert f"{name}'s (×{num(r)})" in words or f"{name} ×{num(r)}" in words
        # The old claim quoted h1's own-mask ratio and an E‖·‖² ratio that is nowhere on screen.
        assert "Inverted keeps the mean" not in words
        for layer in inv["layers"]:
            assert f"×{layer['sq_norm_ratio_own']:.2f}" not in words


def test_the_drift_sentence_fits_the_80_column_panel(default):
    from dropout_tui.tui.widgets.explanation import fit

    snap, ctx = default
    shown = fit(sentences(snap, ctx, short=True), 78, 4).plain
    assert "h2's (×" in shown


def test_the_most_direct_evidence_is_said_when_the_numbers_show_it(default):
    snap, ctx = default
    unr, inv = snap["runs"]["unrescaled"], snap["runs"]["inverted"]
    assert unr["train_loss_dropout"] < unr["train_loss"]  # the premise, from the run
    words = text(snap, ctx)
    assert f"lower with dropout on ({loss_text(unr['train_loss_dropout'])}" in words
    assert f"without it ({loss_text(unr['train_loss'])})" in words
    assert inv["train_loss_dropout"] > inv["test_loss"]
    assert f"training loss with dropout ({loss_text(inv['train_loss_dropout'])}) above its test loss" in words


def test_loss_direction_follows_the_numbers(default):
    snap, ctx = default
    higher = with_runs(snap, unrescaled__test_loss=0.9, inverted__test_loss=0.3)
    assert "higher than inverted's 0.300" in text(higher, ctx)
    lower = with_runs(snap, unrescaled__test_loss=0.2, inverted__test_loss=0.3)
    assert "lower than inverted's 0.300" in text(lower, ctx) and "over-confident" not in text(lower, ctx)
    same = with_runs(snap, unrescaled__test_loss=0.31, inverted__test_loss=0.3)
    assert "about the same as inverted's 0.300" in text(same, ctx)
    for s in (higher, lower, same):
        assert_truthful(s, ctx)


def test_over_confidence_needs_higher_loss_and_confidence_beyond_accuracy(default):
    snap, ctx = default
    s = with_runs(snap, unrescaled__test_loss=0.9, inverted__test_loss=0.3, unrescaled__test_confidence=0.84,
                  unrescaled__test_acc=0.85, inverted__test_confidence=0.86, inverted__test_acc=0.86)
    assert "over-confident" not in text(s, ctx)  # 84% sure, 85% right: not over-confident
    s = with_runs(s, unrescaled__test_confidence=0.95)
    assert "over-confident" in text(s, ctx) and "95.0%" in text(s, ctx) and "85.0%" in text(s, ctx)
    assert "over-confident" not in text(with_runs(s, unrescaled__test_loss=0.3), ctx)
    # ... and by more than the inverted run is: late in training both can over-fit alike
    alike = with_runs(s, unrescaled__test_confidence=0.973, unrescaled__test_acc=0.913,
                      inverted__test_confidence=0.972, inverted__test_acc=0.920)
    assert "over-confident" not in text(alike, ctx)


# -- accuracy: "barely differs" needs both margins ---------------------------------------------


@pytest.mark.parametrize("a, b, barely", [
    (0.881, 0.898, True),  # 1.7 points, 11.9% vs 10.2% errors
    (0.885, 0.890, True),
    (0.960, 0.980, False),  # 2 points, but twice the errors
    (0.974, 0.995, False),  # several times the errors
    (0.70, 0.75, False),  # 5 points
    (1.0, 1.0, True),
    (0.995, 1.0, False),  # no errors against some
])
def test_barely_differs_needs_absolute_and_relative_margins(a, b, barely):
    assert barely_differs(a, b) is barely
    err = sorted([1 - a, 1 - b])
    if barely:
        assert abs(a - b) <= ACC_POINTS and (err[1] == 0 or err[1] / err[0] <= ERR_RATIO)


def test_accuracy_claims(default):
    snap, ctx = default
    close = with_runs(snap, unrescaled__test_acc=0.885, inverted__test_acc=0.89)
    assert "barely differs" in text(close, ctx)
    apart = with_runs(snap, unrescaled__test_acc=0.96, inverted__test_acc=0.98)
    assert "barely" not in text(apart, ctx) and "96.0%, lower than inverted's 98.0%" in text(apart, ctx)
    assert_truthful(close, ctx)
    assert_truthful(apart, ctx)


def test_harm_in_confidence_only_when_the_loss_shows_harm(default):
    snap, ctx = default
    close = with_runs(snap, unrescaled__test_acc=0.885, inverted__test_acc=0.89,
                      unrescaled__test_loss=0.30, inverted__test_loss=0.30)
    assert "barely differs" in text(close, ctx) and "harm" not in text(close, ctx)


# -- ×p at test: "fixes" only when it does ------------------------------------------------------


def test_scaled_fixes_only_when_lower_than_its_own_and_near_inverted(default):
    snap, ctx = default
    fix = with_runs(snap, unrescaled__test_loss=0.5, unrescaled__test_loss_scaled=0.28, inverted__test_loss=0.27)
    assert "brings the unrescaled weights' test loss from 0.500 to 0.280" in text(fix, ctx)
    worse = with_runs(snap, unrescaled__test_loss=0.444, unrescaled__test_loss_scaled=0.958)
    words = text(worse, ctx)
    assert "raises the unrescaled weights' test loss from 0.444 to 0.958" in words and "brings" not in words
    assert "raises the loss 0.444 → 0.958" in text(worse, ctx, short=True)
    above = with_runs(snap, unrescaled__test_loss=0.9, unrescaled__test_loss_scaled=0.6, inverted__test_loss=0.3)
    assert "lowers the unrescaled weights' test loss from 0.900 to 0.600, still above inverted's 0.300" in \
        text(above, ctx)
    for s in (fix, worse, above):
        assert_truthful(s, ctx)


def test_scaled_beating_inverted_says_why_for_the_optimiser_in_use(default):
    snap, _ = default
    s = with_runs(snap, unrescaled__test_loss=0.5, unrescaled__test_loss_scaled=0.13, inverted__test_loss=0.18)
    p2 = factor(snap["keep_prob"] ** 2)
    sgd = text(s, Context(optimizer="sgd"))
    assert f"plain SGD moves them with p² = {p2} times the learning rate" in sgd
    assert "one run, not a verdict" in sgd and "l2/p²" not in sgd
    with_l2 = text(s, Context(optimizer="sgd", l2=0.01))
    assert f"l2/p² = {num(0.01 / snap['keep_prob'] ** 2)}" in with_l2
    assert "momentum SGD moves them with p²" in text(s, Context(optimizer="momentum"))
    adam = text(s, Context(optimizer="adam"))
    assert "times the learning rate" not in adam and "not by p²" in adam


# -- norms: √(1/p) is a bound, not the ratio to expect -----------------------------------------


def dead_units(snap, norm_ratio: float):
    """The default snapshot with inverted h1's norm ratio set (as with many dead ReLU units) and no
    drift below it, so the mean-and-norm sentence is the one that speaks."""
    s = copy.deepcopy(snap)
    inv = s["runs"]["inverted"]["layers"]
    inv[0]["norm_train"] = inv[0]["norm_pred"] * norm_ratio
    for layer in inv[1:]:
        layer["mean_train"] = layer["mean_pred"]
    return s


def test_norm_growth_is_quoted_from_the_table_with_sqrt_as_a_bound(default):
    snap, ctx = default
    s = dead_units(snap, 1.15)
    words = text(s, ctx)
    bound = num(1 / math.sqrt(snap["keep_prob"]))
    assert "not its norm (×1.15)" in words and f"at most √(1/p) = {bound}" in words
    assert "about ×" not in words
    assert_truthful(s, ctx)


def test_no_bound_is_claimed_when_the_measured_ratio_is_above_it(default):
    snap, ctx = default
    s = dead_units(snap, 1.6)  # one mask's noise can exceed the expectation's bound
    words = text(s, ctx)
    assert "not its norm (×1.60)" in words and "at most" not in words
    assert_truthful(s, ctx)


def test_tiny_keep_prob_norm_ratio_is_below_the_bound():
    """At keep_prob 0.1 the inverted h1 norm ratio on screen is well below √(1/p) (Jensen), which
    is why the panel never presents √(1/p) as the ratio to expect."""
    snap, ctx = run_story(1000, keep_prob=0.1)
    h1 = snap["runs"]["inverted"]["layers"][0]
    assert h1["norm_train"] / h1["norm_pred"] < 0.95 / math.sqrt(0.1)
    assert "√(1/p) =" not in text(snap, ctx) or "at most √(1/p)" in text(snap, ctx)
    assert_truthful(snap, ctx)


def test_tanh_speaks_of_norms_not_means():
    snap, ctx = run_story(300, activation="tanh", train_size=100, test_size=300)
    words = text(snap, ctx)
    assert "norm is" in words or "'s norm" in words
    assert "mean is" not in words
    assert_truthful(snap, ctx)


# -- runs that are not learning are not compared -------------------------------------------------


def test_runs_at_chance_are_said_to_be_and_never_compared():
    snap, ctx = run_story(300, activation="sigmoid", lr=1000.0)
    assert not snap["runs"]["inverted"]["learning"] and not snap["runs"]["unrescaled"]["learning"]
    assert ids(snap, ctx) == ["neither_learning"]
    words = text(snap, ctx)
    assert pct(snap["chance_acc"]) in words and loss_text(snap["chance_loss"]) in words
    for word in ("higher than", "lower than", "barely", "fixes", "brings"):
        assert word not in words
    assert_truthful(snap, ctx)


def test_tiny_keep_prob_blowing_up_the_inverted_loss_is_explained():
    snap, ctx = run_story(500, keep_prob=0.01)
    inv = snap["runs"]["inverted"]
    assert inv["test_loss"] > 1000 * snap["chance_loss"]  # the premise: the loss has blown up
    words = text(snap, ctx)
    assert "tiny_keep_prob" in ids(snap, ctx)
    assert "1/p = 100" in words and f"test loss {loss_text(inv['test_loss'])}" in words
    assert_truthful(snap, ctx)


def test_a_run_at_chance_beside_a_learning_one_is_named():
    snap, ctx = run_story(3000, keep_prob=0.01)
    assert not snap["runs"]["inverted"]["learning"] and snap["runs"]["unrescaled"]["learning"]
    assert ids(snap, ctx)[0] == "one_stuck"
    assert text(snap, ctx).startswith("The inverted run is not learning")
    assert "weaker" not in ids(snap, ctx) and "loss_compare" not in ids(snap, ctx)
    assert_truthful(snap, ctx)


# -- input dropout -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def circles_input():
    return run_story(1500, dataset="circles", keep_prob=1.0, input_keep_prob=0.5)


def test_input_dropout_opens_with_the_run_it_breaks(circles_input):
    snap, ctx = circles_input
    inv, unr = snap["runs"]["inverted"], snap["runs"]["unrescaled"]
    assert not inv["learning"] and unr["learning"]  # the premise
    shown = ids(snap, ctx)
    assert shown[:2] == ["one_stuck", "input_story"] and "weaker" not in shown
    words = text(snap, ctx)
    assert "1/q = 2" in words and "circles" in words
    assert f"test accuracy {pct(inv['test_acc'])}, unrescaled {pct(unr['test_acc'])}" in words
    assert "25% of the examples have no input at all" in words
    assert_truthful(snap, ctx)


def test_input_story_is_not_told_beside_a_lower_inverted_loss(circles_input):
    """Lower accuracy alone does not make inverted the run that "misreads" the test set when its
    test loss is the lower one (an over-confident unrescaled run)."""
    import copy

    snap, ctx = circles_input
    snap = copy.deepcopy(snap)
    snap["runs"]["unrescaled"]["test_loss"] = 2 * snap["runs"]["inverted"]["test_loss"]
    assert "input_story" not in ids(snap, ctx)
    assert_truthful(snap, ctx)


def test_scaling_the_input_at_test_is_reported_as_what_it_did(circles_input):
    snap, ctx = circles_input
    unr = snap["runs"]["unrescaled"]
    assert unr["test_loss_scaled"] > unr["test_loss"]  # the premise: ×q makes it worse here
    words = text(snap, ctx)
    assert f"raises the unrescaled weights' test loss from {loss_text(unr['test_loss'])} to " \
           f"{loss_text(unr['test_loss_scaled'])}" in words


def test_inverted_trained_on_doubled_inputs_reads_doubled_test_inputs(circles_input):
    """The input story's premise, measured: the inverted net that fails on the test inputs is
    right on the same inputs scaled by 1/q, the size it trained on when every feature was kept."""
    import numpy as np

    config = Config(dataset="circles", keep_prob=1.0, input_keep_prob=0.5)
    exp = PairedExperiment(config)
    exp.advance(1500)
    net, data = exp.runs["inverted"].net, exp.data
    ws = net.workspace(len(data.y_test))
    accs = []
    for scale in (1.0, 2.0):
        net.forward(ws, data.x_test * scale, [None] * (len(net.hidden) + 1))
        accs.append(float(np.mean((ws.z[:, 0] > 0) == (data.y_test == 1))))
    assert accs[0] == pytest.approx(circles_input[0]["runs"]["inverted"]["test_acc"])
    assert accs[1] > accs[0] + 0.3


# -- a deeper net, momentum, three classes ------------------------------------------------------


def test_deep_leaky_momentum_spiral_is_told_truthfully():
    snap, ctx = run_story(1500, layers=(32, 32, 32, 32), activation="leaky_relu", optimizer="momentum",
                          lr=0.05, dataset="spiral")
    assert_truthful(snap, ctx)
    unr, inv = snap["runs"]["unrescaled"], snap["runs"]["inverted"]
    if unr["test_loss_scaled"] * 1.1 < inv["test_loss"]:
        assert "momentum SGD moves them with p² = 0.25 times the learning rate" in text(snap, ctx)
    if not barely_differs(unr["test_acc"], inv["test_acc"]):
        assert "barely" not in text(snap, ctx)


# -- states: step 0, keep_prob 1, pending keep_prob, divergence -----------------------------------


def test_step_zero_says_only_what_is_the_same(default):
    snap, _ = run_story(0, train_size=60, test_size=100)
    assert ids(snap) == ["step_zero"]


def test_keep_prob_one_after_training_does_not_claim_identical_runs(default):
    snap, ctx = default
    s = copy.deepcopy(snap)
    s["keep_prob"] = 1.0
    words = text(s, ctx)
    assert "nothing is dropped now" in words and "same network" not in words
    assert "weaker" not in words and "×p at test" not in words and "keeps h1's mean" not in words
    assert "Test loss" in words  # the difference trained in so far is still reported


def test_pending_keep_prob_says_the_numbers_are_the_steps(default):
    snap, _ = default
    pending = Context.of(Config(), "2-64-64-1", keep_prob=0.3)
    words = text(snap, pending)
    assert words.startswith(f"keep_prob 0.30 applies from the next step; the numbers below are step "
                            f"{snap['step']:,}'s, trained and measured at 0.50.")
    tiny = Context.of(Config(), "2-64-64-1", keep_prob=0.001)
    assert "keep_prob 0.001 applies" in text(snap, tiny)
    assert "pending" not in ids(snap, Context.of(Config(), "2-64-64-1", keep_prob=0.5))
    assert_truthful(snap, pending)


def test_both_diverged_says_so_and_nothing_else(default):
    snap, ctx = default
    s = with_runs(snap, inverted__diverged=True, unrescaled__diverged=True)
    assert ids(s, ctx) == ["both_diverged"]
    assert "Both runs diverged" in text(s, ctx) and "carries on" not in text(s, ctx)


def test_one_diverged_run_is_named_and_not_compared(default):
    snap, ctx = default
    s = with_runs(snap, inverted__diverged=True)
    shown = ids(s, ctx)
    assert shown[0] == "one_diverged"
    # Only the unrescaled run's own sentences may follow: nothing that compares the runs.
    assert not {"loss_compare", "acc_compare", "path_gap", "scaled_beats_inverted", "drift", "keeps_mean",
                "train_above_test", "input_story"} & set(shown)
    assert "inverted run diverged" in text(s, ctx)
    s = with_runs(snap, unrescaled__diverged=True)
    assert ids(s, ctx) == ["one_diverged"]


def test_no_weaker_signal_claim_when_the_ratio_is_not_below_one(default):
    snap, ctx = default
    s = copy.deepcopy(snap)
    for layer in s["runs"]["unrescaled"]["layers"]:
        layer["mean_train"] = layer["mean_pred"] * 1.5
    assert "weaker" not in text(s, ctx) and "weaker" not in text(s, ctx, short=True)


def test_short_form_is_shorter(default):
    snap, ctx = default
    assert len(text(snap, ctx, short=True)) < len(text(snap, ctx))


def test_recordings_without_a_learning_field_are_judged_the_same_way(default):
    snap, ctx = default
    old = copy.deepcopy(snap)
    for run in old["runs"].values():
        del run["learning"]
    assert sentences(old, ctx) == sentences(snap, ctx)
    older = copy.deepcopy(old)
    del older["chance_acc"], older["chance_loss"]
    assert not {"neither_learning", "one_stuck"} & set(ids(older, ctx))
    assert "loss_compare" in ids(older, ctx)


@pytest.mark.parametrize("p, shown", [(0.5, "0.50"), (1.0, "1.00"), (0.05, "0.05"), (0.001, "0.001"),
                                      (0.123456, "0.1235"), (1e-5, "1e-05")])
def test_keep_prob_is_shown_with_enough_digits(p, shown):
    assert format_keep_prob(p) == shown
    assert float(shown) == pytest.approx(p, rel=1e-3)


def test_every_rule_has_an_id_a_tag_and_quotes():
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.tag in ("why", "harm", "fix", "note", "warn") for r in RULES)


def test_the_drift_threshold_is_the_layer_tables_warning_colour():
    from dropout_tui.tui.explain import DRIFT as EXPLAIN_DRIFT
    from dropout_tui.tui.widgets.layer_table import _ratio_style
    from dropout_tui.tui.widgets.theme import roles_for

    roles = roles_for({"success": "#4EBF71", "warning": "#FFA62B"})  # a dark theme's
    assert EXPLAIN_DRIFT == DRIFT
    assert _ratio_style(1 + DRIFT + 0.01, roles) != _ratio_style(1.0, roles)
    assert _ratio_style(1 + DRIFT - 0.01, roles) == _ratio_style(1.0, roles)
    assert _ratio_style(1 - DRIFT - 0.01, roles) != _ratio_style(1.0, roles)


def test_quoted_numbers_are_matched_to_their_printed_precision():
    assert matches("0.272", 0.27249) and not matches("0.272", 0.2731)
    assert matches("4.29e+12", 4.293e12) and matches("88.1%", 0.8806) and not matches("88.1%", 0.8816)
