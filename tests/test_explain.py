"""The explanation panel must say only what the numbers show (DESIGN §1)."""

from __future__ import annotations

import copy

import pytest

from core.config import Config
from core.experiment import PairedExperiment
from tui.explain import sentences


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


def test_keep_prob_one_says_the_runs_are_the_same(trained):
    snap = copy.deepcopy(trained)
    snap["keep_prob"] = 1.0
    words = text(snap)
    assert "same network" in words and "weaker" not in words


def test_every_number_quoted_is_a_live_number(trained):
    words = text(trained)
    inv, unr = trained["runs"]["inverted"], trained["runs"]["unrescaled"]
    for value in (unr["test_loss"], inv["test_loss"], unr["test_loss_scaled"]):
        assert f"{value:.3f}" in words
    last = unr["layers"][-1]
    assert f"{last['mean_train']:.3f}" in words and f"{last['mean_eval']:.3f}" in words


def test_loss_direction_follows_the_numbers(trained):
    higher = with_runs(trained, unrescaled__test_loss=0.9, inverted__test_loss=0.3)
    assert "higher than inverted's 0.300" in text(higher)
    lower = with_runs(trained, unrescaled__test_loss=0.2, inverted__test_loss=0.3)
    assert "lower than inverted's 0.300" in text(lower)
    assert "over-confident" not in text(lower)
    same = with_runs(trained, unrescaled__test_loss=0.31, inverted__test_loss=0.3)
    assert "about the same as" in text(same)


def test_over_confidence_needs_both_higher_loss_and_higher_confidence(trained):
    snap = with_runs(trained, unrescaled__test_loss=0.9, inverted__test_loss=0.3,
                     unrescaled__test_confidence=0.80, inverted__test_confidence=0.85)
    assert "over-confident" not in text(snap)
    snap = with_runs(snap, unrescaled__test_confidence=0.95)
    assert "over-confident" in text(snap)


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
