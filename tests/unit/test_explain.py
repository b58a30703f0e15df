"""The explanation panel must say only what the numbers show."""

from __future__ import annotations

import copy

import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.tui.explain import sentences


def text(snap, **kw) -> str:
    return " ".join(s for _, s in sentences(snap, **kw))


@pytest.fixture(scope="module")
def trained():
    exp = PairedExperiment(Config(train_size=100, test_size=300))
    exp.advance(1500)
    return exp.snapshot()


def with_runs(snap, **changes):
    out = copy.deepcopy(snap)
    for key, value in changes.items():
        rule, field = key.split("__")
        out["runs"][rule][field] = value
    return out


def test_keep_prob_one_after_training_does_not_claim_identical_runs(trained):
    snap = copy.deepcopy(trained)
    snap["keep_prob"] = 1.0
    words = text(snap)
    assert "nothing is dropped now" in words and "same network" not in words
    assert "weaker" not in words and "Multiplying" not in words and "keeps the mean" not in words
    assert "Test loss" in words  # the difference trained in so far is still reported


def test_every_number_quoted_is_a_live_number(trained):
    words = text(trained)
    inv, unr = trained["runs"]["inverted"], trained["runs"]["unrescaled"]
    for value in (unr["test_loss"], inv["test_loss"], unr["test_loss_scaled"]):
        assert f"{value:.3f}" in words
    last = unr["layers"][-1]
    assert f"{last['mean_train']:.3f}" in words and f"{last['mean_pred']:.3f}" in words


def test_loss_direction_follows_the_numbers(trained):
    higher = with_runs(trained, unrescaled__test_loss=0.9, inverted__test_loss=0.3)
    assert "higher than inverted's 0.300" in text(higher)
    lower = with_runs(trained, unrescaled__test_loss=0.2, inverted__test_loss=0.3)
    assert "lower than inverted's 0.300" in text(lower)
    assert "over-confident" not in text(lower)
    same = with_runs(trained, unrescaled__test_loss=0.31, inverted__test_loss=0.3)
    assert "about the same as" in text(same)


def test_over_confidence_needs_higher_loss_and_confidence_beyond_accuracy(trained):
    snap = with_runs(trained, unrescaled__test_loss=0.9, inverted__test_loss=0.3,
                     unrescaled__test_confidence=0.84, unrescaled__test_acc=0.85)
    assert "over-confident" not in text(snap)  # 84% sure, 85% right: not over-confident
    snap = with_runs(snap, unrescaled__test_confidence=0.95)
    assert "over-confident" in text(snap) and "95.0%" in text(snap) and "85.0%" in text(snap)
    same_loss = with_runs(snap, unrescaled__test_loss=0.3)
    assert "over-confident" not in text(same_loss)


def test_harm_in_confidence_only_when_the_loss_shows_harm(trained):
    close = with_runs(trained, unrescaled__test_acc=0.885, inverted__test_acc=0.89,
                      unrescaled__test_loss=0.30, inverted__test_loss=0.30)
    assert "barely differs" in text(close) and "harm" not in text(close)


def test_no_weaker_signal_claim_when_the_ratio_is_not_below_one(trained):
    snap = copy.deepcopy(trained)
    for layer in snap["runs"]["unrescaled"]["layers"]:
        layer["mean_train"] = layer["mean_pred"] * 1.5
    assert "weaker" not in text(snap) and "weaker" not in text(snap, short=True)


def test_both_diverged_says_so_once(trained):
    snap = with_runs(trained, inverted__diverged=True, unrescaled__diverged=True)
    words = text(snap)
    assert "Both runs diverged" in words and "carries on" not in words


def test_scaled_at_test_compares_loss_with_loss(trained):
    snap = with_runs(trained, unrescaled__test_loss_scaled=0.2, inverted__test_loss=0.3,
                     unrescaled__test_acc_scaled=0.80)
    words = text(snap)
    assert "test loss 0.200 (lower than inverted's 0.300) and accuracy 80.0%" in words


def test_accuracy_claims(trained):
    close = with_runs(trained, unrescaled__test_acc=0.885, inverted__test_acc=0.89)
    assert "barely differs" in text(close)
    apart = with_runs(trained, unrescaled__test_acc=0.80, inverted__test_acc=0.90)
    assert "barely" not in text(apart) and "80.0%" in text(apart) and "lower" in text(apart)


def test_inverted_keeps_the_mean_not_the_norm_with_measured_and_theory(trained):
    words = text(trained)
    first = trained["runs"]["inverted"]["layers"][0]
    assert "mean" in words and "not its norm" in words
    assert f"{first['sq_norm_ratio_own']:.2f}" in words
    assert f"1/p = {1 / trained['keep_prob']:.2f}" in words


def test_diverged_run_is_named(trained):
    snap = with_runs(trained, inverted__diverged=True)
    assert "inverted run diverged" in text(snap)


def test_tanh_speaks_of_norms_not_means():
    exp = PairedExperiment(Config(activation="tanh", train_size=100, test_size=300))
    exp.advance(300)
    words = text(exp.snapshot(), activation="tanh")
    assert "norm is" in words or "'s norm" in words


def test_short_form_fits_an_80_column_panel(trained):
    words = text(trained, short=True)
    assert len(words) < len(text(trained))


def test_no_over_confidence_claim_when_inverted_is_just_as_over_confident(trained):
    snap = with_runs(trained, unrescaled__test_loss=0.9, inverted__test_loss=0.37,
                     unrescaled__test_confidence=0.973, unrescaled__test_acc=0.913,
                     inverted__test_confidence=0.972, inverted__test_acc=0.920)
    assert "over-confident" not in text(snap)
