"""Dropout masks and what theory says they do.

For a layer output a and its own mask m ~ Bernoulli(p), applied to a fixed input:
  inverted   (a·m/p): E[mean] ratio train/predict = 1, E[‖·‖²] ratio = 1/p (the norm grows!)
  unrescaled (a·m)  : E[mean] ratio = p,              E[‖·‖²] ratio = p
Inverted dropout preserves the first moment, not the norm.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def draw_mask(rng: np.random.Generator, p: float, uniform: np.ndarray, mask: np.ndarray,
              scaled: np.ndarray) -> None:
    """Bernoulli(p) keep mask into ``mask`` and mask/p into ``scaled``, allocating nothing.

    ``uniform`` is float32 scratch of the mask's shape (n, width); ``mask`` and ``scaled`` are in the
    network's dtype. float32 uniforms are plenty (resolution 2**-24) and cost half the random bits
    of float64."""
    rng.random(dtype=np.float32, out=uniform)
    np.less(uniform, np.float32(p), out=mask)
    np.multiply(mask, 1.0 / p, out=scaled)


class Theory(NamedTuple):
    mean_ratio: float
    sq_norm_ratio: float


def theory(rule: str, p: float) -> Theory:
    """Expected train/predict ratios of the mean and of E‖·‖² for a layer's own Bernoulli(p) mask
    applied to a fixed input: E[m/p] = 1 and E[(m/p)²] = 1/p for inverted dropout, E[m] = E[m²] = p
    without the rescale."""
    if rule == "inverted":
        return Theory(1.0, 1.0 / p)
    return Theory(p, p)
