"""Finite-difference gradient checks of core.network with a FIXED dropout mask, in float64.

The multipliers list is built here, independent of the experiment: index 0 is the input, index l+1 is
hidden layer l; an array mask already divided by p (inverted rule) or a plain 0/1 mask (unrescaled).
The objective is ``net.loss(z, target) + net.penalty(l2)``; ``net.backward`` must fill ``gW``/``gb``
with its gradient.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from dropout_tui.core.activations import ACTIVATIONS
from dropout_tui.core.network import Network

ACTS = ("relu", "tanh", "leaky_relu", "sigmoid")
OUTPUTS = {"binary": 2, "softmax": 3}
RULES = ("inverted", "unrescaled")
N_IN, HIDDEN, N_ROWS = 3, (5, 4), 7
P_IN, P_HID = 0.7, 0.6
L2 = 0.03
H = 1e-6
KINK = 1e-4


def _reference_forward(net, x, mults):
    """Plain NumPy forward pass, written independently of Network.forward.
    Returns (logits, list of hidden pre-activations)."""
    f = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }[net.activation]
    h = x if mults[0] is None else x * mults[0]
    pre = []
    for l in range(len(net.hidden)):
        z = h @ net.W[l] + net.b[l]
        pre.append(z)
        h = f(z)
        if mults[l + 1] is not None:
            h = h * mults[l + 1]
    return h @ net.W[-1] + net.b[-1], pre


def _reference_loss(net, z, labels):
    if net.binary:
        p = 1 / (1 + np.exp(-z[:, 0]))
        return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def _masks(rng, rule, n_rows, widths, probs):
    """Fixed Bernoulli masks (with at least one dropped and one kept entry each), scaled per rule."""
    mults = []
    for w, p in zip(widths, probs):
        while True:
            m = (rng.random((n_rows, w)) < p).astype(np.float64)
            if p >= 1 or 0 < m.sum() < m.size:
                break
        mults.append(m / p if rule == "inverted" else m)
    return mults


def _problem(act, n_classes, rule, input_dropout=True):
    """A small float64 net with random (non-zero) biases, fixed input/masks and no ReLU kink nearby.
    Seeds are tried in order until every hidden pre-activation is at least KINK away from 0."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        net = Network(N_IN, HIDDEN, n_classes, act, rng, np.float64)
        for b in net.b:
            b[...] = rng.normal(0, 0.5, b.shape)
        x = rng.normal(0, 1, (N_ROWS, N_IN))
        labels = rng.integers(0, n_classes, N_ROWS)
        probs = [P_IN if input_dropout else 1.0] + [P_HID] * len(HIDDEN)
        mults = _masks(rng, rule, N_ROWS, (N_IN, *HIDDEN), probs)
        if not input_dropout:
            mults[0] = None
        _, pre = _reference_forward(net, x, mults)
        if min(np.abs(z).min() for z in pre) > KINK:
            return net, x, labels, mults
    raise AssertionError("no seed without a ReLU kink found")  # pragma: no cover


def _objective(net, ws, x, target, mults, l2):
    z = net.forward(ws, x, mults)
    return net.loss(z, target) + net.penalty(l2)


def _numeric_grads(net, x, target, mults, l2):
    ws = net.workspace(x.shape[0])
    grads = []
    for p in net.params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + H
            up = _objective(net, ws, x, target, mults, l2)
            p[idx] = old - H
            down = _objective(net, ws, x, target, mults, l2)
            p[idx] = old
            g[idx] = (up - down) / (2 * H)
        grads.append(g)
    return grads


def _analytic_grads(net, x, target, forward_mults, backward_mults, l2):
    ws = net.workspace(x.shape[0])
    net.forward(ws, x, forward_mults)
    net.backward(ws, target, backward_mults, l2)
    # net.grads is the flat [gW0, gb0, gW1, gb1, ...] list matching net.params
    flat = [g for pair in zip(net.gW, net.gb) for g in pair]
    return [g.copy() for g in flat]


def _rel_error(a, b):
    a = np.concatenate([g.ravel() for g in a])
    b = np.concatenate([g.ravel() for g in b])
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("act", ACTS)
def test_gradient_matches_finite_differences(act, output, rule):
    net, x, labels, mults = _problem(act, OUTPUTS[output], rule)
    target = net.targets(labels)
    numeric = _numeric_grads(net, x, target, mults, L2)
    analytic = _analytic_grads(net, x, target, mults, mults, L2)
    err = _rel_error(numeric, analytic)
    assert err < 1e-6, f"{act}/{output}/{rule}: relative error {err:.2e}"
    # every parameter block gets a real gradient (not trivially zero)
    assert all(np.any(g != 0) for g in analytic)


@pytest.mark.parametrize("act", ACTS)
def test_gradient_without_dropout_and_without_l2(act):
    net, x, labels, _ = _problem(act, 3, "inverted", input_dropout=False)
    mults = [None] * (len(HIDDEN) + 1)
    target = net.targets(labels)
    err = _rel_error(_numeric_grads(net, x, target, mults, 0.0),
                     _analytic_grads(net, x, target, mults, mults, 0.0))
    assert err < 1e-6


def test_gradient_check_detects_mask_forgotten_in_backward():
    """The classic dropout bug: mask applied in forward, forgotten in backward. The check must see it."""
    net, x, labels, mults = _problem("tanh", 2, "inverted")
    target = net.targets(labels)
    numeric = _numeric_grads(net, x, target, mults, L2)
    wrong = _analytic_grads(net, x, target, mults, [None] * len(mults), L2)
    assert _rel_error(numeric, wrong) > 1e-2


def test_gradient_check_detects_wrong_l2_term():
    net, x, labels, mults = _problem("relu", 3, "unrescaled")
    target = net.targets(labels)
    numeric = _numeric_grads(net, x, target, mults, L2)
    without_l2 = _analytic_grads(net, x, target, mults, mults, 0.0)
    assert _rel_error(numeric, without_l2) > 1e-3


def test_l2_penalises_weights_only():
    net, x, labels, mults = _problem("tanh", 3, "inverted")
    target = net.targets(labels)
    g0 = _analytic_grads(net, x, target, mults, mults, 0.0)
    g1 = _analytic_grads(net, x, target, mults, mults, L2)
    for i, (a, b) in enumerate(zip(g0, g1)):
        if i % 2 == 0:  # weights
            np.testing.assert_allclose(b - a, L2 * net.W[i // 2], rtol=1e-9, atol=1e-15)
        else:  # biases
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-15)
    assert net.penalty(L2) == pytest.approx(0.5 * L2 * sum(float((w ** 2).sum()) for w in net.W), rel=1e-12)


@pytest.mark.parametrize("act,output,rule", list(itertools.product(ACTS, OUTPUTS, RULES)))
def test_forward_and_loss_match_reference(act, output, rule):
    net, x, labels, mults = _problem(act, OUTPUTS[output], rule)
    ws = net.workspace(x.shape[0])
    z = net.forward(ws, x, mults).copy()
    ref, _ = _reference_forward(net, x, mults)
    np.testing.assert_allclose(z, ref, rtol=1e-12, atol=1e-12)
    assert net.loss(z, net.targets(labels)) == pytest.approx(_reference_loss(net, ref, labels), rel=1e-10)
    # scalar multipliers ("scaled at test" evaluation)
    scalars = [P_IN, P_HID, P_HID]
    z = net.forward(ws, x, scalars).copy()
    np.testing.assert_allclose(z, _reference_forward(net, x, scalars)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_loss_is_numerically_stable_for_huge_logits(n_classes):
    net = Network(2, (3,), n_classes, "relu", np.random.default_rng(0))
    labels = np.array([0, 1, 1, 0])
    target = net.targets(labels)
    width = 1 if n_classes == 2 else n_classes
    z = np.zeros((4, width))
    if n_classes == 2:
        z[:, 0] = [-800.0, 800.0, -800.0, 800.0]  # right, right, wrong, wrong
        expected = (0 + 0 + 800 + 800) / 4
    else:
        z[np.arange(4), labels] = 800.0  # all right
        z[2] = [0, -800, 800]  # wrong by 1600 on row 2
        expected = 1600 / 4
    loss = net.loss(z, target)
    assert np.isfinite(loss)
    assert loss == pytest.approx(expected, rel=1e-9)


def test_every_activation_is_covered():
    assert set(ACTS) == set(ACTIVATIONS)
