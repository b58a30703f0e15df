"""Dropout masks: Bernoulli statistics over many masks on a fixed input, and the closed forms
(core.dropout.theory) carried in every snapshot."""

from __future__ import annotations

import numpy as np
import pytest
from dropout_tui.core.dropout import draw_mask, theory
from dropout_tui.core.experiment import PairedExperiment

P_VALUES = (0.1, 0.3, 0.5, 0.8, 0.95)
N_MASKS = 250_000
WIDTH = 12


def _many_masks(p, seed=1234, dtype=np.float64):
    """N_MASKS independent masks of one WIDTH-wide layer, drawn by draw_mask in a single call."""
    rng = np.random.default_rng(seed)
    uniform = np.empty((N_MASKS, WIDTH), np.float32)
    mask = np.empty((N_MASKS, WIDTH), dtype)
    scaled = np.empty((N_MASKS, WIDTH), dtype)
    draw_mask(rng, p, uniform, mask, scaled)
    return mask, scaled


def _fixed_input():
    # Varied, positive and negative entries, so the ratios are not a trivial count of kept units.
    return np.random.default_rng(7).normal(1.0, 0.7, WIDTH)


@pytest.mark.parametrize("p", P_VALUES)
def test_mask_is_bernoulli_and_scaled_copy_is_mask_over_p(p):
    mask, scaled = _many_masks(p)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(scaled, mask * (1.0 / p))
    assert abs(mask.mean() - p) < 0.01 * p
    # columns (units) are dropped independently: per-unit keep rates all near p
    assert np.all(np.abs(mask.mean(axis=0) - p) < 0.05 * max(p, 1 - p) + 0.01)


@pytest.mark.parametrize("p", P_VALUES)
def test_mean_ratio_inverted_is_one_and_unrescaled_is_p(p):
    a = _fixed_input()
    mask, scaled = _many_masks(p)
    eval_mean = a.mean()
    inverted = (a * scaled).mean() / eval_mean
    unrescaled = (a * mask).mean() / eval_mean
    assert abs(inverted - 1.0) < 0.01
    assert abs(unrescaled / p - 1.0) < 0.01
    assert theory("inverted", p).mean_ratio == 1.0
    assert theory("unrescaled", p).mean_ratio == pytest.approx(p)


@pytest.mark.parametrize("p", P_VALUES)
def test_squared_norm_ratio_inverted_is_one_over_p_and_unrescaled_is_p(p):
    a = _fixed_input()
    mask, scaled = _many_masks(p)
    eval_sq = float(a @ a)
    inverted = np.einsum("ij,ij->i", a * scaled, a * scaled).mean() / eval_sq
    unrescaled = np.einsum("ij,ij->i", a * mask, a * mask).mean() / eval_sq
    assert abs(inverted * p - 1.0) < 0.01
    assert abs(unrescaled / p - 1.0) < 0.01
    assert theory("inverted", p).sq_norm_ratio == pytest.approx(1.0 / p)
    assert theory("unrescaled", p).sq_norm_ratio == pytest.approx(p)


def test_masks_differ_between_draws_and_reproduce_from_seed():
    m1, _ = _many_masks(0.5, seed=1)
    m2, _ = _many_masks(0.5, seed=1)
    m3, _ = _many_masks(0.5, seed=2)
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(m1, m3)


def test_float32_buffers():
    mask, scaled = _many_masks(0.25, dtype=np.float32)
    assert mask.dtype == scaled.dtype == np.float32
    assert abs(mask.mean() - 0.25) < 0.0025


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.9, 1.0])
def test_snapshot_carries_theory_for_each_run_and_layer(small_config, keep_prob):
    exp = PairedExperiment(small_config(layers=(8, 6, 4), keep_prob=keep_prob))
    exp.advance(3)
    snap = exp.snapshot()
    for rule in ("inverted", "unrescaled"):
        layers = snap["runs"][rule]["layers"]
        assert [layer["name"] for layer in layers] == ["h1", "h2", "h3"]
        for layer in layers:
            th = theory(rule, keep_prob)
            assert layer["mean_ratio_theory"] == pytest.approx(th.mean_ratio, rel=1e-12)
            assert layer["sq_norm_ratio_theory"] == pytest.approx(th.sq_norm_ratio, rel=1e-12)


def test_snapshot_theory_follows_keep_prob_changes(small_config):
    exp = PairedExperiment(small_config(keep_prob=0.5))
    exp.advance(2)
    exp.set_keep_prob(0.25)
    snap = exp.snapshot()
    assert snap["keep_prob"] == 0.25
    for rule in ("inverted", "unrescaled"):
        for layer in snap["runs"][rule]["layers"]:
            assert layer["sq_norm_ratio_theory"] == pytest.approx(theory(rule, 0.25).sq_norm_ratio)


def test_snapshot_measured_own_mask_ratios_are_near_theory(small_config):
    """One mask over the training set (200 rows x 64 units) is enough for a 5% agreement."""
    exp = PairedExperiment(small_config(layers=(64, 64), train_size=200, keep_prob=0.5,
                                             activation="sigmoid"))
    snap = exp.snapshot()
    for rule in ("inverted", "unrescaled"):
        for layer in snap["runs"][rule]["layers"]:
            assert layer["mean_ratio_own"] == pytest.approx(layer["mean_ratio_theory"], rel=0.05)
            assert layer["sq_norm_ratio_own"] == pytest.approx(layer["sq_norm_ratio_theory"], rel=0.05)
