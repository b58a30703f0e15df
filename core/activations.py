"""Hidden-layer activations, computed in place so the training loop allocates nothing.

``forward(z, tmp, zeros)`` overwrites z with f(z), using tmp (same shape) as scratch; ``zeros`` is an
all-zero array of z's shape to read, never write (ReLU's second operand: NumPy's maximum against the
scalar 0 misses its vectorised loop and is several times slower). ``backward(a, grad, tmp)``
multiplies grad in place by f'(z), written in terms of the output a = f(z), which is all the forward
pass keeps; it may overwrite a with f'(z) (the backward pass is a's last reader), which spares the
write and re-read of a scratch array the size of the layer (ReLU, leaky ReLU, tanh).
"""

from __future__ import annotations

import numpy as np

LEAK = 0.01


def _relu(z, tmp, zeros):
    np.maximum(z, zeros, out=z)


def _relu_back(a, grad, tmp):
    np.greater(a, 0, out=a)
    grad *= a


def _leaky(z, tmp, zeros):
    # max(z, LEAK*z) is the leaky ReLU because 0 < LEAK < 1.
    np.multiply(z, LEAK, out=tmp)
    np.maximum(z, tmp, out=z)


def _leaky_back(a, grad, tmp):
    # f'(z) = 1 for z > 0, LEAK otherwise; a > 0 exactly when z > 0.
    np.greater(a, 0, out=a)
    a *= 1 - LEAK
    a += LEAK
    grad *= a


def _tanh(z, tmp, zeros):
    np.tanh(z, out=z)


def _tanh_back(a, grad, tmp):
    np.multiply(a, a, out=a)
    np.subtract(1, a, out=a)
    grad *= a


def sigmoid_inplace(z, tmp=None, zeros=None):
    # 0.5 * (1 + tanh(z / 2)) never overflows, unlike 1 / (1 + exp(-z)).
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5


def _sigmoid_back(a, grad, tmp):
    np.subtract(1, a, out=tmp)
    tmp *= a
    grad *= tmp


ACTIVATIONS = {
    "relu": (_relu, _relu_back),
    "tanh": (_tanh, _tanh_back),
    "leaky_relu": (_leaky, _leaky_back),
    "sigmoid": (sigmoid_inplace, _sigmoid_back),
}

# He initialisation suits the ReLU family, Glorot the saturating ones.
HE_INIT = {"relu", "leaky_relu"}
