"""The facts the explanation's sentences rest on, checked on the engine itself.

- Unrescaled training with ×p at test is inverted dropout on V = p·W, started from p times the
  initial weights, with p² times the learning rate (SGD, momentum) and L2 as l2/p².
- √(1/p) bounds the inverted per-example norm ratio (Jensen), it is not the ratio to expect.
- A ReLU layer fed by the first dropped layer has a training-mode mean at least its prediction-mode
  mean on average (the ReLU is convex, its pre-activation unbiased).
"""

from __future__ import annotations

import numpy as np
import pytest
from dropout_tui.core.dropout import draw_mask
from dropout_tui.core.network import Network
from dropout_tui.core.optim import make_optimizer

P = 0.3
LR = 0.05  # small enough that momentum and Adam keep the toy network's outputs varied


def _paired_training(optimizer: str, lr_on_v: float, l2: float = 0.001, steps: int = 100):
    """Train W without the rescale and V = p·W (after each dropped layer) with inverted dropout on
    the same masks; return both nets' prediction-time logits: W with ×p, V as it is."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(float).reshape(-1, 1)
    w_net = Network(2, (16, 16), 2, "relu", np.random.default_rng(1))
    v_net = w_net.copy()
    after_dropped = [False, True, True]  # W0 takes the (undropped) input; W1, W2 take dropped layers
    for w, dropped in zip(v_net.W, after_dropped):
        if dropped:
            w *= P
    # Per parameter: the learning rate on V, and the L2 weight that l2/2·‖W‖² puts on V.
    lrs, l2s = [], []
    for dropped in after_dropped:
        lrs += [lr_on_v if dropped else LR, LR]
        l2s += [l2 / P ** 2 if dropped else l2, 0.0]
    w_opt = make_optimizer(optimizer, LR)
    v_opts = [make_optimizer(optimizer, lr) for lr in lrs]
    ws_w, ws_v = w_net.workspace(40), v_net.workspace(40)
    mask_rng = np.random.default_rng(2)
    bufs = [(np.empty((40, 16), np.float32), np.empty((40, 16)), np.empty((40, 16))) for _ in range(2)]
    for _ in range(steps):
        for b in bufs:
            draw_mask(mask_rng, P, *b)
        w_net.forward(ws_w, x, [None, bufs[0][1], bufs[1][1]])
        w_net.backward(ws_w, y, [None, bufs[0][1], bufs[1][1]], l2)
        w_opt.step(w_net.params, w_net.grads)
        v_net.forward(ws_v, x, [None, bufs[0][2], bufs[1][2]])
        v_net.backward(ws_v, y, [None, bufs[0][2], bufs[1][2]], 0.0)
        for k, (param, grad) in enumerate(zip(v_net.params, v_net.grads)):
            v_opts[k].step([param], [grad + l2s[k] * param])
    w_net.forward(ws_w, x, [None, P, P])
    v_net.forward(ws_v, x, [None, None, None])
    return ws_w.z.copy(), ws_v.z.copy()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_unrescaled_with_scaling_is_inverted_on_p_times_the_weights_at_p_squared_lr(optimizer):
    z_w, z_v = _paired_training(optimizer, lr_on_v=LR * P ** 2)
    assert z_v.std() > 0.01  # the premise: a network that still tells the points apart
    assert np.abs(z_w - z_v).max() < 1e-9 * max(1.0, np.abs(z_v).max())
    # ... and not with the same learning rate: the p² is what the equivalence needs.
    z_w, z_v = _paired_training(optimizer, lr_on_v=LR)
    assert np.abs(z_w - z_v).max() > 1e-3


def test_adam_does_not_follow_the_p_squared_rule():
    z_w, z_v = _paired_training("adam", lr_on_v=LR * P ** 2)
    assert z_w.std() > 0.05 and z_v.std() > 0.05
    assert np.abs(z_w - z_v).max() > 1e-2


@pytest.mark.parametrize("active", [1.0, 0.1])
def test_sqrt_inverse_p_bounds_the_inverted_norm_ratio(active):
    """E‖a·m/p‖² = ‖a‖²/p exactly; the mean per-example norm ratio stays below √(1/p), far below
    when few units are active."""
    rng = np.random.default_rng(3)
    a = rng.random((200, 64)) * (rng.random((200, 64)) < active)
    draws = 400
    sq, norms = 0.0, 0.0
    for _ in range(draws):
        m = (rng.random(a.shape) < P) / P
        sq += np.mean(np.sum((a * m) ** 2, axis=1)) / draws
        norms += np.mean(np.linalg.norm(a * m, axis=1)) / draws
    assert sq / np.mean(np.sum(a ** 2, axis=1)) == pytest.approx(1 / P, rel=0.02)
    ratio = norms / np.mean(np.linalg.norm(a, axis=1))
    assert ratio < 1 / np.sqrt(P)
    if active < 1:  # about 6 active units of 64: well below the bound
        assert ratio < 0.9 / np.sqrt(P)
    else:  # all 64 active: close to it
        assert ratio > 0.97 / np.sqrt(P)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_a_convex_layer_after_the_first_dropped_one_rises_on_average(activation):
    rng = np.random.default_rng(4)
    net = Network(2, (32, 32), 2, activation, np.random.default_rng(5))
    x = rng.normal(size=(100, 2))
    ws = net.workspace(100)
    net.forward(ws, x, [None, None, None])
    pred = ws.a[1].mean()
    bufs = (np.empty((100, 32), np.float32), np.empty((100, 32)), np.empty((100, 32)))
    train = 0.0
    for _ in range(300):
        draw_mask(rng, P, *bufs)
        net.forward(ws, x, [None, bufs[2], None])  # h1 dropped (inverted), h2 as it comes out
        train += ws.a[1].mean() / 300
    assert train > pred
