"""Optimisers: exact update rules against textbook formulas, and each one actually trains."""

from __future__ import annotations

import numpy as np
import pytest
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.optim import OPTIMIZERS, SGD, Adam, Momentum, make_optimizer


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    grads_seq = [[rng.normal(size=(3, 4)), rng.normal(size=4)] for _ in range(5)]
    return params, grads_seq


def test_sgd_rule():
    params, grads_seq = _problem()
    expected = [p.copy() for p in params]
    opt = SGD(0.1)
    for grads in grads_seq:
        opt.step(params, grads)
        expected = [e - 0.1 * g for e, g in zip(expected, grads)]
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-13, atol=1e-15)


def test_momentum_rule():
    params, grads_seq = _problem(1)
    expected = [p.copy() for p in params]
    velocity = [np.zeros_like(p) for p in params]
    opt = Momentum(0.05, 0.9)
    for grads in grads_seq:
        opt.step(params, grads)
        velocity = [0.9 * v - 0.05 * g for v, g in zip(velocity, grads)]
        expected = [e + v for e, v in zip(expected, velocity)]
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-12, atol=1e-14)


def test_adam_rule_matches_kingma_ba():
    params, grads_seq = _problem(2)
    expected = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = Adam(lr)
    for t, grads in enumerate(grads_seq, start=1):
        opt.step(params, grads)
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
        v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
        expected = [e - lr * (mi / (1 - b1 ** t)) / (np.sqrt(vi / (1 - b2 ** t)) + eps)
                    for e, mi, vi in zip(expected, m, v)]
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-10, atol=1e-13)


def test_make_optimizer_names():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "adam"}
    assert isinstance(make_optimizer("sgd", 0.1), SGD)
    assert isinstance(make_optimizer("momentum", 0.1), Momentum)
    assert isinstance(make_optimizer("adam", 0.1), Adam)
    with pytest.raises(ValueError):
        make_optimizer("rmsprop", 0.1)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("momentum", 0.05), ("adam", 0.01)])
@pytest.mark.parametrize("batch_size", [0, 20])
def test_each_optimizer_reduces_training_loss(small_config, optimizer, lr, batch_size):
    """Well-separated blobs, no dropout: 150 steps must cut the (prediction-mode) training loss."""
    exp = PairedExperiment(small_config(dataset="blobs", noise=0.0, keep_prob=1.0, optimizer=optimizer,
                                             lr=lr, batch_size=batch_size))
    start = exp.snapshot()["runs"]["inverted"]["train_loss"]
    exp.advance(150)
    snap = exp.snapshot()["runs"]["inverted"]
    assert not snap["diverged"]
    assert snap["train_loss"] < 0.6 * start, (start, snap["train_loss"])
    assert snap["train_acc"] > 0.8


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_optimizers_train_with_dropout_too(small_config, optimizer):
    lr = {"sgd": 0.5, "momentum": 0.05, "adam": 0.01}[optimizer]
    exp = PairedExperiment(small_config(dataset="blobs", noise=0.0, keep_prob=0.7, optimizer=optimizer,
                                             lr=lr))
    start = exp.snapshot()["runs"]
    exp.advance(150)
    end = exp.snapshot()["runs"]
    for rule in ("inverted", "unrescaled"):
        assert end[rule]["train_loss"] < start[rule]["train_loss"], rule
