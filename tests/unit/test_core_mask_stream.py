"""MaskStream draws the training masks from raw 32-bit words compared with an integer threshold. It must
give bit for bit the masks of draw_mask (float32 uniforms compared with keep_prob) from the same
generator, over any sequence of sites: odd sizes that split a 64-bit word between draws, keep
probabilities whose float32 rounds to 1, tiny ones, float32 layers, and any choice of multipliers."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dropout_tui.core.config import FLOAT32_MAX, Config
from dropout_tui.core.dropout import MaskSite, MaskStream, draw_mask, keep_threshold
from dropout_tui.core.experiment import PairedExperiment

# Keep probabilities that matter: ordinary ones, ones at float32 rounding boundaries, ones whose
# float32 is 1 (everything kept), and ones so small that float32 is 0 or subnormal.
_SPECIAL_P = [0.5, 0.05, 1 - 2**-25, 1 - 2**-24, 1 - 2**-23, 0.99999999, 2**-24, 2**-25, 1e-30, 1e-300,
              0.1, 0.3, 0.7, 1 / 3]
probs = st.one_of(st.sampled_from(_SPECIAL_P), st.floats(min_value=1e-6, max_value=1.0, exclude_max=True))
site_shape = st.tuples(st.integers(1, 9), st.integers(1, 9))
steps = st.lists(st.lists(st.tuples(probs, site_shape), min_size=1, max_size=4), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(steps=steps, seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float64, np.float32]),
       want=st.sampled_from([(True, True), (True, False), (False, True)]))
def test_mask_stream_matches_draw_mask_bit_for_bit(steps, seed, dtype, want):
    want_mask, want_scaled = want
    # A float32 1/p that overflows is refused by Config (and NumPy 1.x and 2.x multiply 0 by it
    # differently: 0 or nan), so it is not compared.
    assume(dtype is np.float64 or all(1.0 / p < FLOAT32_MAX for step in steps for p, _ in step))
    with np.errstate(over="ignore", invalid="ignore"):
        _compare(steps, seed, dtype, want_mask, want_scaled)


def _compare(steps, seed, dtype, want_mask, want_scaled):
    ref_rng = np.random.default_rng(seed)
    stream = MaskStream(np.random.default_rng(seed))
    for step in steps:
        sites, bufs, expected = [], [], []
        for p, (n, w) in step:
            uniform = np.empty((n, w), np.float32)
            mask, scaled = np.empty((n, w), dtype), np.empty((n, w), dtype)
            draw_mask(ref_rng, p, uniform, mask, scaled)
            expected.append((mask, scaled))
            bufs.append((np.empty((n, w), bool), np.empty((n, w), dtype), np.empty((n, w), dtype)))
            sites.append(MaskSite(p, *bufs[-1]))
        stream.draw(sites, sum(s.size for s in sites), want_mask, want_scaled)
        for (keep, got_mask, got_scaled), (mask, scaled) in zip(bufs, expected):
            np.testing.assert_array_equal(keep, mask == 1)
            if want_mask:
                assert got_mask.tobytes() == mask.tobytes()
            if want_scaled:
                assert got_scaled.tobytes() == scaled.tobytes()


@given(p=probs)
def test_keep_threshold_agrees_with_float32_uniforms_at_the_boundary(p):
    t = keep_threshold(p)
    assert 0 <= t <= 2**32 and t % 256 == 0
    p32 = np.float32(p)
    # Every 32-bit word near the threshold: the float32 uniform NumPy makes from it, (w >> 8)·2**-24,
    # is below float32(p) exactly when w is below the threshold.
    words = np.arange(max(0, t - 512), min(2**32, t + 512), dtype=np.uint64)
    uniforms = (words >> np.uint64(8)).astype(np.float32) * np.float32(2**-24)
    np.testing.assert_array_equal(uniforms < p32, words < t)


def test_draws_split_anywhere_give_one_stream():
    # 7 words, then 9, then 1: each odd draw leaves half a 64-bit word for the next.
    a, b = MaskStream(np.random.default_rng(5)), MaskStream(np.random.default_rng(5))
    sizes = [(1, 7), (3, 3), (1, 1)]
    split = [MaskSite(0.5, np.empty(s, bool), np.empty(s), np.empty(s)) for s in sizes]
    for site in split:
        a.draw([site], site.size)
    whole = MaskSite(0.5, np.empty((1, 17), bool), np.empty((1, 17)), np.empty((1, 17)))
    b.draw([whole], whole.size)
    np.testing.assert_array_equal(np.concatenate([s.keep for s in split]), whole.keep)


@settings(max_examples=25, deadline=None)
@given(keep_prob=st.sampled_from([0.5, 0.3, 0.99999999, 1.0]), input_keep_prob=st.sampled_from([0.5, 0.7, 1.0]),
       layers=st.sampled_from([(3,), (5, 4), (3, 3, 7)]), batch_size=st.sampled_from([0, 7]),
       dtype=st.sampled_from(["float64", "float32"]))
def test_experiment_multipliers_are_draw_masks_layer_by_layer(keep_prob, input_keep_prob, layers, batch_size, dtype):
    # The experiment draws adjacent layers with one keep probability as one site, from one buffer;
    # each layer's multipliers must still be what draw_mask gives layer by layer, step after step.
    cfg = Config(layers=layers, keep_prob=keep_prob, input_keep_prob=input_keep_prob, train_size=31,
                 test_size=20, batch_size=batch_size, dtype=dtype)
    exp = PairedExperiment(cfg)
    ref_rng = np.random.default_rng(exp._mask_seed)
    widths = [exp.data.n_features, *layers]
    for n in (31, 7, 7, 3, 31):
        mults = exp._draw_masks(n)
        for i, (p, w) in enumerate(zip(exp.site_keep_probs, widths)):
            if p >= 1.0:
                assert mults["inverted"][i] is None and mults["unrescaled"][i] is None
                continue
            mask, scaled = np.empty((n, w), dtype), np.empty((n, w), dtype)
            draw_mask(ref_rng, p, np.empty((n, w), np.float32), mask, scaled)
            assert mults["unrescaled"][i].shape == (n, w)
            assert mults["unrescaled"][i].tobytes() == mask.tobytes()
            assert mults["inverted"][i].tobytes() == scaled.tobytes()
