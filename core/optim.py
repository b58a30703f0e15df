"""Optimisers. They see only parameter and gradient arrays and update the parameters in place;
state buffers are made on the first step, so later steps allocate nothing."""

from __future__ import annotations

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")


class SGD:
    def __init__(self, lr: float):
        self.lr = lr
        self._tmp: list[np.ndarray] | None = None

    def _scratch(self, params):
        if self._tmp is None:
            self._tmp = [np.empty_like(p) for p in params]
        return self._tmp

    def step(self, params, grads) -> None:
        for p, g, t in zip(params, grads, self._scratch(params)):
            np.multiply(g, self.lr, out=t)
            p -= t


class Momentum(SGD):
    """Heavy-ball momentum: v <- mu*v - lr*g, p <- p + v."""

    def __init__(self, lr: float, mu: float = 0.9):
        super().__init__(lr)
        self.mu = mu
        self._v: list[np.ndarray] | None = None

    def step(self, params, grads) -> None:
        if self._v is None:
            self._v = [np.zeros_like(p) for p in params]
        for p, g, v, t in zip(params, grads, self._v, self._scratch(params)):
            v *= self.mu
            np.multiply(g, self.lr, out=t)
            v -= t
            p += v


class Adam(SGD):
    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self._m: list[np.ndarray] | None = None
        self._v: list[np.ndarray] | None = None

    def step(self, params, grads) -> None:
        if self._m is None or self._v is None:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        ms, vs = self._m, self._v
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Bias corrections folded into the step size and epsilon, as in Kingma & Ba §2.
        step = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        eps = self.eps * np.sqrt(1 - b2 ** self.t)
        for p, g, m, v, t in zip(params, grads, ms, vs, self._scratch(params)):
            m *= b1
            np.multiply(g, 1 - b1, out=t)
            m += t
            v *= b2
            np.multiply(g, g, out=t)
            t *= 1 - b2
            v += t
            np.sqrt(v, out=t)
            t += eps
            np.divide(m, t, out=t)
            t *= step
            p -= t


def make_optimizer(name: str, lr: float, momentum: float = 0.9):
    if name == "sgd":
        return SGD(lr)
    if name == "momentum":
        return Momentum(lr, momentum)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"unknown optimizer {name!r}")
