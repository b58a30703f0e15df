"""A multilayer perceptron whose forward pass caches exactly what its backward pass needs.

Dropout enters as per-layer *multipliers*: ``mults[0]`` for the input, ``mults[l + 1]`` for hidden
layer l. Each is None (no dropout), an array the shape of the layer's output (a mask, already
divided by keep_prob for inverted dropout) or a scalar (keep_prob, for "scaled at test"). The
network itself knows nothing about training rules; the experiment decides the multipliers.

All work happens in a ``Workspace`` of preallocated buffers for one row count, so a training
step allocates no arrays (temporary arrays cost minor page faults on every step).

Matrix-vector products (one operand a vector or a single column) use ``np.dot``: it makes the same
BLAS call as ``np.matmul`` (the same numbers) for about 1 us less, a fifth of such a product's
time here. Matrix-matrix products stay with ``np.matmul``, because ``np.dot`` first zeroes its
output, which BLAS then zeroes again: on a 300x64 output that costs more than it saves.
``np.dot``'s ``out=`` must be C-contiguous, as every buffer here is.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from .activations import ACTIVATIONS, HE_INIT


class Workspace:
    """Buffers for ``n`` rows. ``inputs[l]`` is what layer l multiplied by its weights."""

    def __init__(self, net: Network, n: int):
        dt = net.dtype
        self.n = n
        self.a = [np.empty((n, h), dt) for h in net.hidden]  # activations before their mask
        self.d = [np.empty((n, h), dt) for h in net.hidden]  # after the mask
        self.g = [np.empty((n, h), dt) for h in net.hidden]  # gradient w.r.t. a layer's output
        self.tmp = [np.empty((n, h), dt) for h in net.hidden]
        # A zero operand for ReLU: np.maximum(a, zeros) runs several times faster than
        # np.maximum(a, 0.0), whose scalar operand misses NumPy's vectorised loop.
        self.zeros = [np.zeros((n, h), dt) for h in net.hidden]
        # Bias gradients as one matrix-vector product ones @ dz, a few times faster than a
        # column sum (dz.sum(axis=0)) at these shapes.
        self.ones = np.ones(n, dt)
        self.x_drop = np.empty((n, net.n_in), dt)
        self.z = np.empty((n, net.n_out), dt)  # logits
        self.dz = np.empty((n, net.n_out), dt)  # probabilities, then the logits' gradient
        self.col = np.empty((n, 1), dt)  # softmax row max / row sum
        self.inputs: list[np.ndarray | None] = [None] * (len(net.hidden) + 1)
        # Products h @ W before the bias, kept only when forward() is asked to (keep_products):
        # made on first use, as only evaluation workspaces want them.
        self.u: list[np.ndarray | None] = [None] * len(net.hidden)


class Network:
    def __init__(self, n_in: int, hidden, n_classes: int, activation: str,
                 rng: np.random.Generator, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        self.n_in = n_in
        self.hidden = tuple(hidden)
        self.binary = n_classes == 2
        self.regression = n_classes == 0  # one linear output, mean squared error
        self.n_out = 1 if self.binary or self.regression else n_classes
        self.activation = activation
        self._act, self._act_back = ACTIVATIONS[activation]
        sizes = [n_in, *self.hidden, self.n_out]
        self._shapes = list(zip(sizes[:-1], sizes[1:]))
        # All parameters live in one flat buffer (W0, b0, W1, b1, ...), and W/b are views into it,
        # likewise the gradients: the optimiser updates every parameter with a couple of NumPy
        # calls on the flat arrays instead of a couple per array (elementwise, so the numbers are
        # the same). As before, W/b/gW/gb must only ever be updated in place.
        self.flat_params = np.empty(sum(fi * fo + fo for fi, fo in self._shapes), self.dtype)
        self.W, self.b = self._views(self.flat_params)
        for i, (fan_in, fan_out) in enumerate(self._shapes):
            # The output layer feeds a sigmoid/softmax, so it gets Glorot whatever the hidden units are.
            he = activation in HE_INIT and i < len(self.hidden)
            std = np.sqrt(2.0 / fan_in) if he else np.sqrt(2.0 / (fan_in + fan_out))
            self.W[i][...] = rng.normal(0.0, std, (fan_in, fan_out)).astype(self.dtype)
            self.b[i][...] = 0
        self._alloc_grads()

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        W, b, i = [], [], 0
        for fan_in, fan_out in self._shapes:
            W.append(flat[i:i + fan_in * fan_out].reshape(fan_in, fan_out))
            i += fan_in * fan_out
            b.append(flat[i:i + fan_out])
            i += fan_out
        return W, b

    def _alloc_grads(self):
        self.flat_grads = np.zeros_like(self.flat_params)
        self.gW, self.gb = self._views(self.flat_grads)
        self._wtmp = [np.empty_like(w) for w in self.W]
        # Per-array lists for whoever wants them (tests, metrics): the same memory as the flat arrays.
        self.params = [p for pair in zip(self.W, self.b) for p in pair]
        self.grads = [g for pair in zip(self.gW, self.gb) for g in pair]

    def copy(self) -> Network:
        twin = object.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.flat_params = self.flat_params.copy()
        twin.W, twin.b = twin._views(twin.flat_params)
        twin._alloc_grads()
        return twin

    def workspace(self, n: int) -> Workspace:
        return Workspace(self, n)

    # -- forward / backward ------------------------------------------------------------------

    def forward(self, ws: Workspace, x: np.ndarray, mults, keep_products: int = 0) -> np.ndarray:
        """Logits for ``x`` with dropout multipliers ``mults``, into ``ws.z``. With ``keep_products``
        = k the first k hidden layers also keep h @ W in ``ws.u`` (for ``forward_scaled``)."""
        h = x
        if mults[0] is not None:
            np.multiply(x, mults[0], out=ws.x_drop)
            h = ws.x_drop
        ws.inputs[0] = h
        z = self.forward_from(ws, 0, h, mults, keep_products)
        assert z is not None  # logits=True
        return z

    def forward_from(self, ws: Workspace, start: int, h: np.ndarray, mults, keep_products: int = 0,
                     logits: bool = True) -> np.ndarray | None:
        """The forward pass from hidden layer ``start``, whose input ``h`` (multiplier applied) a
        caller already has; the layers below are not recomputed. ``logits=False`` stops after the
        last hidden layer."""
        inputs, W, b, act = ws.inputs, self.W, self.b, self._act
        for l in range(start, len(self.hidden)):
            a = ws.a[l]
            if l < keep_products:
                u = ws.u[l]
                if u is None:
                    u = ws.u[l] = np.empty_like(a)
                np.matmul(h, W[l], out=u)
                np.add(u, b[l], out=a)
            else:
                np.matmul(h, W[l], out=a)
                np.add(a, b[l], out=a)
            act(a, ws.tmp[l], ws.zeros[l])
            m = mults[l + 1]
            if m is None:
                h = a
            else:
                h = ws.d[l]
                np.multiply(a, m, out=h)
            inputs[l + 1] = h
        if not logits:
            return None
        z = ws.z
        (np.dot if self.n_out == 1 else np.matmul)(h, W[-1], out=z)
        np.add(z, b[-1], out=z)
        return z

    def forward_scaled(self, ws: Workspace, scales) -> np.ndarray:
        """Logits of the inputs of the last ``forward(ws, x, [None, ...], keep_products=2)``, now
        with scalar multipliers ``scales`` (None = 1): the "scaled at test" evaluation.

        Scaling a layer's input scales its product with W — (s·h) @ W = s·(h @ W) — so the layers
        whose input differs from the last pass's only by a scalar rescale its kept products instead
        of multiplying again: the first hidden layer always, the second too when the input is not
        scaled. Leaves ``ws`` unfit for ``backward``."""
        b, act = self.b, self._act
        reuse = 1 if scales[0] is not None else min(2, len(self.hidden))
        for l in range(reuse):
            s = scales[l]
            if s is None:  # input not scaled: the output is still the last pass's
                continue
            a = ws.a[l]
            np.multiply(cast(np.ndarray, ws.u[l]), s, out=a)
            np.add(a, b[l], out=a)
            act(a, ws.tmp[l], ws.zeros[l])
        a = ws.a[reuse - 1]
        m = scales[reuse]
        h = a if m is None else np.multiply(a, m, out=ws.d[reuse - 1])
        z = self.forward_from(ws, reuse, h, scales)
        assert z is not None  # logits=True
        return z

    def probabilities(self, ws: Workspace) -> np.ndarray:
        """Class probabilities of the last forward pass, into ``ws.dz`` (the logits stay): (n, 1)
        p(class 1) for two classes, (n, k) softmax for k; for regression the outputs themselves."""
        p = ws.dz
        if self.regression:
            np.copyto(p, ws.z)
        elif self.binary:
            # sigmoid(z) = 0.5·(1 + tanh(z/2)), as in sigmoid_inplace, with the copy folded into z/2.
            np.multiply(ws.z, 0.5, out=p)
            np.tanh(p, out=p)
            p += 1
            p *= 0.5
        else:
            np.max(ws.z, axis=1, keepdims=True, out=ws.col)
            np.subtract(ws.z, ws.col, out=p)
            np.exp(p, out=p)
            np.sum(p, axis=1, keepdims=True, out=ws.col)
            p /= ws.col
        return p

    def backward(self, ws: Workspace, target: np.ndarray, mults, l2: float = 0.0) -> None:
        """Fill ``gW``/``gb`` with the gradient of the mean loss + l2/2·Σ‖W‖²: cross-entropy of the
        softmax/sigmoid outputs (gradient p − t per row), or for regression the mean squared error
        (gradient 2(z − y) per row).

        ``target`` is the label column (binary), one-hot matrix, or target column (regression),
        shaped like the outputs. The activations ``ws.a`` are read here for the last time and may be
        left holding the activation's derivative instead (see ``activations``)."""
        dz = self.probabilities(ws)
        dz -= target
        dz *= (2.0 if self.regression else 1.0) / target.shape[0]
        inputs, W, gW, gb, ones = ws.inputs, self.W, self.gW, self.gb, ws.ones
        for l in range(len(W) - 1, -1, -1):
            (np.dot if dz.shape[1] == 1 else np.matmul)(cast(np.ndarray, inputs[l]).T, dz, out=gW[l])
            np.dot(ones, dz, out=gb[l])
            if l2:
                np.multiply(W[l], l2, out=self._wtmp[l])
                gW[l] += self._wtmp[l]
            if l == 0:
                break
            g = ws.g[l - 1]
            if dz.shape[1] == 1:
                # The binary output layer: dz @ W.T is an outer product. A broadcasting multiply
                # gives the same numbers (there is nothing to sum) 2-3x faster than matmul does
                # with an inner dimension of 1; with the row operand first, NumPy's loop is
                # another ~20% faster (300x64: 17 vs 22 us), and the product is the same.
                np.multiply(W[l].T, dz, out=g)
            else:
                np.matmul(dz, W[l].T, out=g)
            m = mults[l]
            if m is not None:
                g *= m
            self._act_back(ws.a[l - 1], g, ws.tmp[l - 1])
            dz = g

    # -- evaluation (allocates; not on the training hot path) ---------------------------------

    def loss(self, z: np.ndarray, target: np.ndarray) -> float:
        """Mean cross-entropy of logits ``z``, computed stably from the logits; for regression the
        mean squared error of outputs ``z``."""
        with np.errstate(all="ignore"):
            if self.regression:
                return float(np.mean((z - target) ** 2))
            if self.binary:
                return float(np.mean(np.logaddexp(0, z) - target * z))
            top = z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
            return float(np.mean(lse - (target * z).sum(axis=1)))

    def penalty(self, l2: float) -> float:
        return 0.5 * l2 * sum(float(np.sum(w * w)) for w in self.W)

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """Label column, one-hot matrix or target column in this network's dtype, as ``backward``
        wants."""
        if self.binary or self.regression:
            return labels.astype(self.dtype).reshape(-1, 1)
        return np.eye(self.n_out, dtype=self.dtype)[labels]
