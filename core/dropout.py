"""Dropout masks and what theory says they do.

For a layer output a and its own mask m ~ Bernoulli(p), applied to a fixed input:
  inverted   (a·m/p): E[mean] ratio train/predict = 1, E[‖·‖²] ratio = 1/p (the norm grows!)
  unrescaled (a·m)  : E[mean] ratio = p,              E[‖·‖²] ratio = p
Inverted dropout preserves the first moment, not the norm.
"""

from __future__ import annotations

import math
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


def keep_threshold(p: float) -> int:
    """The integer T with ``u < float32(p)`` exactly when ``w < T``, for every float32 uniform
    ``u = (w >> 8) · 2**-24`` that NumPy makes from a 32-bit word w. In [0, 2**32]; 2**32 keeps all."""
    # u < P  <=>  (w >> 8) < P·2**24  <=>  (w >> 8) < ceil(P·2**24)  <=>  w < ceil(P·2**24)·2**8;
    # P·2**24 is exact in float64, as P has a 24-bit significand.
    return math.ceil(float(np.float32(p)) * 2**24) * 2**8


class MaskSite:
    """A stretch of mask buffers for ``MaskStream.draw`` that shares one keep probability ``p`` in
    (0, 1): one dropout site, or several adjacent ones drawn with one NumPy call each. ``keep`` is
    the bool keep mask; ``mask`` (0/1, the unrescaled run's multiplier) and ``scaled`` (mask / p, the
    inverted run's) are made from it in the layers' float dtype. All three are C-contiguous and of
    one size; only their flat order matters here."""

    __slots__ = ("p", "keep", "mask", "scaled", "inv_p", "threshold", "size")

    def __init__(self, p: float, keep: np.ndarray, mask: np.ndarray, scaled: np.ndarray):
        self.p = p
        # Flat views (reshape(-1) of a C-contiguous array copies nothing).
        self.keep, self.mask, self.scaled = keep.reshape(-1), mask.reshape(-1), scaled.reshape(-1)
        self.size = keep.size
        # 1/p in the layers' dtype, as draw_mask's multiply rounds it (inf in float32 for p < ~3e-39).
        with np.errstate(over="ignore"):
            self.inv_p = mask.dtype.type(1.0 / p)
        t = keep_threshold(p)
        # None: float32(p) rounds to 1, so every uniform is below it and every unit is kept.
        self.threshold = np.uint32(t) if t < 2**32 else None


class MaskStream:
    """Bernoulli keep masks drawn from ``rng``: bit for bit the masks ``draw_mask`` makes from the same
    generator, one site after another, at about half the cost.

    ``draw_mask`` turns each 32-bit word of the generator into a float32 uniform and compares it
    with keep_prob; here the words come straight from the bit generator (``random_raw``: one 64-bit
    word is two 32-bit words, low half first, as the generator's own 32-bit draws split it) and are
    compared with the equivalent integer threshold (``keep_threshold``). Filling float32 uniforms
    takes about twice as long per word as ``random_raw``, and was the largest single cost of a
    2-64-64-1 step. The price is one array of raw words per ``draw`` (``random_raw`` has no
    ``out=``), which malloc hands back from its free list every step: no page faults (see
    ``dropout-tui bench``).

    A draw of an odd number of words leaves half of a 64-bit word over; the next draw starts with
    it, as the generator's 32-bit draws do, so the stream does not depend on how draws are split.
    Only this object may draw from ``rng``.
    """

    def __init__(self, rng: np.random.Generator):
        self._bits = rng.bit_generator
        self._carry: np.uint32 | None = None

    def draw(self, sites, total: int, want_mask: bool = True, want_scaled: bool = True) -> None:
        """Fill each ``MaskSite``'s keep mask, in order, and the multipliers asked for (a run that
        does not train this step needs none, but its words are drawn all the same). ``total`` is
        the sum of the sites' sizes."""
        if total == 0:
            return
        carry = self._carry
        need = total if carry is None else total - 1
        words = self._bits.random_raw((need + 1) >> 1).view(np.uint32)
        pos = 0
        for site in sites:
            size, keep = site.size, site.keep
            t = site.threshold
            if t is None:
                keep.fill(True)
                pos += size if carry is None else size - 1
            elif carry is None:
                np.less(words[pos:pos + size], t, out=keep)
                pos += size
            else:
                keep[0] = carry < t
                np.less(words[pos:pos + size - 1], t, out=keep[1:])
                pos += size - 1
            carry = None
            if want_mask:
                np.copyto(site.mask, keep)
                if want_scaled:
                    np.multiply(site.mask, site.inv_p, out=site.scaled)
            elif want_scaled:
                # The same numbers as mask * (1/p): bool -> 0/1 in the dtype of 1/p, then one multiply.
                np.multiply(keep, site.inv_p, out=site.scaled)
        self._carry = words[pos] if pos < words.size else None


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
