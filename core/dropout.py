"""Dropout masks and what theory says they do.

For a layer output a and its own mask m ~ Bernoulli(p), applied to a fixed input:
  inverted   (a·m/p): E[mean] ratio train/predict = 1, E[‖·‖²] ratio = 1/p (the norm grows!)
  unrescaled (a·m)  : E[mean] ratio = p,              E[‖·‖²] ratio = p
Inverted dropout preserves the first moment, not the norm.
"""

from __future__ import annotations

import numpy as np


def draw_mask(rng: np.random.Generator, p: float, uniform, mask, scaled) -> None:
    """Bernoulli(p) keep mask into ``mask`` and mask/p into ``scaled``, allocating nothing.
    float32 uniforms are plenty (resolution 2**-24) and cost half the random bits of float64."""
    rng.random(dtype=np.float32, out=uniform)
    np.less(uniform, np.float32(p), out=mask)
    np.multiply(mask, 1.0 / p, out=scaled)


def theory(rule: str, p: float) -> dict:
    """Train/predict ratios for a layer's own Bernoulli(p) mask applied to a fixed input."""
    if rule == "inverted":
        return {"mean_ratio_theory": 1.0, "sq_norm_ratio_theory": 1.0 / p}
    return {"mean_ratio_theory": p, "sq_norm_ratio_theory": p}
