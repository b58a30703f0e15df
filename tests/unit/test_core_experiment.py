"""The paired experiment as a controlled comparison: shared initial weights, batches and masks; keep_prob = 1 identity;
determinism; snapshot frequency never moves the trajectory; keep_prob changes and reset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.network import Network
from dropout_tui.core.report import result
from dropout_tui.tui.headless import train


def _snapshot_json(exp) -> str:
    return json.dumps(result(exp.config, exp.snapshot()), sort_keys=True)


# -- keep_prob = 1: the two runs are bit-identical -------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [0, 16])
@pytest.mark.parametrize("input_keep_prob", [None, 1.0])
def test_keep_prob_one_runs_bit_identical_every_step(small_config, core_param_copies, core_params_equal,
                                                     batch_size, input_keep_prob, optimizer):
    extra = {} if input_keep_prob is None else {"input_keep_prob": input_keep_prob}
    exp = PairedExperiment(small_config(keep_prob=1.0, batch_size=batch_size, optimizer=optimizer,
                                             lr=0.05 if optimizer == "adam" else 0.3, l2=1e-3, **extra))
    start = core_param_copies(exp)["inverted"]
    for _ in range(25):
        exp.advance(1)
        params = core_param_copies(exp)
        assert core_params_equal(params["inverted"], params["unrescaled"]), f"differ at step {exp.step}"
    assert not core_params_equal(start, params["inverted"])  # training did move them
    snap = exp.snapshot()["runs"]
    for key in ("train_loss_dropout", "train_loss", "test_loss", "test_acc"):
        assert snap["inverted"][key] == snap["unrescaled"][key]


@pytest.mark.parametrize("batch_size", [0, 16])
def test_set_keep_prob_one_before_first_step_gives_identical_runs(small_config, core_param_copies,
                                                                  core_params_equal, batch_size):
    exp = PairedExperiment(small_config(keep_prob=0.5, batch_size=batch_size))
    exp.set_keep_prob(1.0)
    for _ in range(20):
        exp.advance(1)
        params = core_param_copies(exp)
        assert core_params_equal(params["inverted"], params["unrescaled"])


def test_keep_prob_one_mid_run_round_trip_keeps_runs_identical(small_config, core_param_copies,
                                                               core_params_equal):
    """Identical runs at keep_prob 1, a change to 0.5 that never reaches a step, back to 1: still identical."""
    exp = PairedExperiment(small_config(keep_prob=1.0, batch_size=16))
    exp.advance(7)
    exp.set_keep_prob(0.5)
    exp.set_input_keep_prob(0.8)
    exp.set_keep_prob(1.0)
    exp.set_input_keep_prob(1.0)
    for _ in range(15):
        exp.advance(1)
        params = core_param_copies(exp)
        assert core_params_equal(params["inverted"], params["unrescaled"])


# -- shared initial weights and masks -------------------------------------------------------------

def test_runs_share_initial_weights_and_part_after_one_step(small_config, core_param_copies,
                                                            core_params_equal):
    exp = PairedExperiment(small_config(keep_prob=0.5))
    params = core_param_copies(exp)
    assert core_params_equal(params["inverted"], params["unrescaled"])
    # separate arrays, not the same object trained twice
    assert all(a is not b for a, b in zip(exp.runs["inverted"].net.params, exp.runs["unrescaled"].net.params))
    exp.advance(1)
    params = core_param_copies(exp)
    assert not core_params_equal(params["inverted"], params["unrescaled"])
    exp.reset()
    params = core_param_copies(exp)
    assert core_params_equal(params["inverted"], params["unrescaled"])


@pytest.mark.parametrize("input_keep_prob", [1.0, 0.7])
def test_both_runs_see_the_same_mask_every_step(small_config, input_keep_prob):
    """With one example per step and tanh (never exactly 0), a dropped unit of h1 shows up as a zero
    row of gW[1] and a zero entry of gb[0]; a dropped input as a zero row of gW[0]. Those patterns
    must match between the two runs at every step, and follow the keep probabilities."""
    exp = PairedExperiment(small_config(activation="tanh", layers=(24, 24), keep_prob=0.5,
                                             input_keep_prob=input_keep_prob, batch_size=1, lr=0.05))
    dropped_h1_fraction, dropped_in_fraction = [], []
    for _ in range(40):
        exp.advance(1)
        inv, unr = exp.runs["inverted"].net, exp.runs["unrescaled"].net
        for l in range(len(inv.gW)):
            np.testing.assert_array_equal(inv.gW[l] == 0, unr.gW[l] == 0)
            np.testing.assert_array_equal(inv.gb[l] == 0, unr.gb[l] == 0)
        dropped_h1 = np.all(inv.gW[1] == 0, axis=1)
        np.testing.assert_array_equal(dropped_h1, inv.gb[0] == 0)
        dropped_h1_fraction.append(dropped_h1.mean())
        if not dropped_h1.all():
            dropped_in_fraction.append(np.all(inv.gW[0] == 0, axis=1).mean())
    assert 0.35 < np.mean(dropped_h1_fraction) < 0.65
    if input_keep_prob == 1.0:
        assert np.mean(dropped_in_fraction) == 0
    else:
        assert 0.1 < np.mean(dropped_in_fraction) < 0.5


# -- determinism -----------------------------------------------------------------------------------

DETERMINISM_CONFIGS = [
    dict(),
    dict(batch_size=16, optimizer="adam", lr=0.01, input_keep_prob=0.8, l2=1e-3),
    dict(dataset="spiral", activation="tanh", optimizer="momentum", lr=0.05, batch_size=25),
    dict(dataset="blobs", dtype="float32", keep_prob=0.3),
]


@pytest.mark.parametrize("changes", DETERMINISM_CONFIGS)
def test_same_config_and_seed_reproduce_every_number(small_config, core_param_copies,
                                                     core_params_equal, changes):
    cfg = small_config(**changes)
    a, b = PairedExperiment(cfg), PairedExperiment(cfg)
    assert _snapshot_json(a) == _snapshot_json(b)
    a.advance(40)
    b.advance(40)
    assert _snapshot_json(a) == _snapshot_json(b)
    for rule in ("inverted", "unrescaled"):
        assert core_params_equal(core_param_copies(a)[rule], core_param_copies(b)[rule])
    c = PairedExperiment(cfg.with_changes(seed=cfg.seed + 1))
    c.advance(40)
    assert _snapshot_json(a) != _snapshot_json(c)
    assert not core_params_equal(core_param_copies(a)["inverted"], core_param_copies(c)["inverted"])


def test_different_seeds_give_different_data_init_and_masks(small_config):
    a = PairedExperiment(small_config(seed=3))
    b = PairedExperiment(small_config(seed=4))
    assert not np.array_equal(a.data.x_train, b.data.x_train)
    assert not np.array_equal(a.runs["inverted"].net.W[0], b.runs["inverted"].net.W[0])


# -- snapshot frequency does not move the trajectory ----------------------------------------------

EVAL_CONFIGS = [
    dict(),
    dict(batch_size=16, input_keep_prob=0.8, optimizer="adam", lr=0.01),
]


@pytest.mark.parametrize("changes", EVAL_CONFIGS)
def test_snapshot_frequency_does_not_change_training(small_config, core_param_copies,
                                                     core_params_equal, changes):
    n = 100
    cfg = small_config(**changes)
    exps = {name: PairedExperiment(cfg) for name in ("every_step", "every_50", "never")}
    for step in range(n):
        exps["every_step"].snapshot()
        if step % 50 == 0:
            exps["every_50"].snapshot()
        for exp in exps.values():
            exp.advance(1)
    params = {name: core_param_copies(exp) for name, exp in exps.items()}
    for name in ("every_50", "never"):
        for rule in ("inverted", "unrescaled"):
            assert core_params_equal(params["every_step"][rule], params[name][rule]), (name, rule)
    finals = {name: _snapshot_json(exp) for name, exp in exps.items()}
    assert finals["every_step"] == finals["every_50"] == finals["never"]


def test_snapshot_twice_in_a_row_is_identical_and_changes_nothing(small_config, core_param_copies,
                                                                  core_params_equal):
    exp = PairedExperiment(small_config(input_keep_prob=0.9))
    exp.advance(5)
    before = core_param_copies(exp)
    assert _snapshot_json(exp) == _snapshot_json(exp)
    after = core_param_copies(exp)
    for rule in before:
        assert core_params_equal(before[rule], after[rule])
    assert exp.step == 5


def test_headless_train_result_independent_of_eval_every(small_config):
    results = []
    for every in (1, 7, 1000):
        exp = PairedExperiment(small_config(eval_every=every, batch_size=20))
        seen = []
        snap = train(exp, 60, on_snapshot=lambda s, seen=seen: seen.append(s["step"]))
        assert snap["step"] == exp.step == 60
        assert seen[-1] == 60
        assert all(s % every == 0 or s == 60 for s in seen)
        results.append(json.dumps(snap["runs"], sort_keys=True, default=str))
    assert results[0] == results[1] == results[2]


# -- keep_prob changes and reset -------------------------------------------------------------------

def _manual_full_batch_sgd_step(exp, rule):
    """What one full-batch SGD step without any dropout does to a run, computed from public pieces."""
    net = exp.runs[rule].net.copy()
    x = exp.data.x_train
    ws = net.workspace(x.shape[0])
    mults = [None] * (len(exp.config.layers) + 1)
    net.forward(ws, x, mults)
    net.backward(ws, net.targets(exp.data.y_train), mults, exp.config.l2)
    return [w - exp.config.lr * g for w, g in zip(net.params, [g for pair in zip(net.gW, net.gb) for g in pair])]


def test_keep_prob_change_applies_from_the_next_step_to_both_runs(small_config, core_param_copies,
                                                                  core_params_equal):
    exp = PairedExperiment(small_config(keep_prob=0.5, l2=1e-3))
    exp.advance(5)
    before = core_param_copies(exp)
    exp.set_keep_prob(1.0)
    assert exp.keep_prob == 1.0
    after_set = core_param_copies(exp)
    for rule in before:  # setting alone changes no weights
        assert core_params_equal(before[rule], after_set[rule])
    expected = {rule: _manual_full_batch_sgd_step(exp, rule) for rule in exp.runs}
    exp.advance(1)
    for rule, params in core_param_copies(exp).items():
        for got, want in zip(params, expected[rule]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # and at keep_prob 0.5 the next step would NOT have matched (the check can fail)
    exp2 = PairedExperiment(small_config(keep_prob=0.5, l2=1e-3))
    exp2.advance(5)
    expected2 = {rule: _manual_full_batch_sgd_step(exp2, rule) for rule in exp2.runs}
    exp2.advance(1)
    assert not all(np.allclose(g, w) for g, w in zip(core_param_copies(exp2)["inverted"], expected2["inverted"]))


@pytest.mark.parametrize("batch_size", [0, 16])
def test_set_keep_prob_before_first_step_equals_configured_keep_prob(small_config, core_param_copies,
                                                                     core_params_equal, batch_size):
    a = PairedExperiment(small_config(keep_prob=0.5, batch_size=batch_size))
    a.set_keep_prob(0.3)
    a.set_input_keep_prob(0.9)
    b = PairedExperiment(small_config(keep_prob=0.3, input_keep_prob=0.9, batch_size=batch_size))
    a.advance(20)
    b.advance(20)
    for rule in ("inverted", "unrescaled"):
        assert core_params_equal(core_param_copies(a)[rule], core_param_copies(b)[rule])


def test_mid_run_keep_prob_change_changes_the_continuation(small_config, core_param_copies,
                                                           core_params_equal):
    a = PairedExperiment(small_config(keep_prob=0.5))
    b = PairedExperiment(small_config(keep_prob=0.5))
    a.advance(10)
    b.advance(10)
    b.set_keep_prob(0.8)
    a.advance(1)
    b.advance(1)
    for rule in ("inverted", "unrescaled"):
        assert not core_params_equal(core_param_copies(a)[rule], core_param_copies(b)[rule]), rule


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), float("inf")])
def test_set_keep_prob_rejects_out_of_range(small_config, bad):
    exp = PairedExperiment(small_config())
    with pytest.raises(ValueError):
        exp.set_keep_prob(bad)
    with pytest.raises(ValueError):
        exp.set_input_keep_prob(bad)
    assert exp.keep_prob == 0.5 and exp.input_keep_prob == 1.0


@pytest.mark.parametrize("batch_size", [0, 16])
def test_reset_restarts_from_seed_keeping_current_keep_prob(small_config, core_param_copies,
                                                            core_params_equal, batch_size):
    cfg = small_config(keep_prob=0.5, batch_size=batch_size, optimizer="momentum", lr=0.05)
    fresh = core_param_copies(PairedExperiment(cfg))
    exp = PairedExperiment(cfg)
    exp.advance(13)
    exp.set_keep_prob(0.8)
    exp.set_input_keep_prob(0.9)
    exp.advance(4)
    exp.reset()
    assert exp.step == 0
    assert exp.keep_prob == 0.8 and exp.input_keep_prob == 0.9
    params = core_param_copies(exp)
    for rule in ("inverted", "unrescaled"):
        assert core_params_equal(params[rule], fresh[rule]), rule
        assert not exp.runs[rule].diverged
    # after reset the trajectory is a fresh experiment's at the kept probabilities (streams restart too;
    # momentum state is fresh)
    ref = PairedExperiment(cfg.with_changes(keep_prob=0.8, input_keep_prob=0.9))
    exp.advance(20)
    ref.advance(20)
    for rule in ("inverted", "unrescaled"):
        assert core_params_equal(core_param_copies(exp)[rule], core_param_copies(ref)[rule]), rule
    assert exp.snapshot()["step"] == 20


def test_network_init_scales(small_config):
    """He init (std sqrt(2/fan_in)) for the relu family's hidden layers, Glorot (sqrt(2/(in+out)))
    otherwise and always for the output layer."""
    rng = np.random.default_rng(0)
    for act in ("relu", "leaky_relu", "tanh", "sigmoid"):
        net = Network(300, (400, 200), 3, act, rng)
        he = act in ("relu", "leaky_relu")
        for l, (fan_in, fan_out) in enumerate([(300, 400), (400, 200), (200, 3)]):
            hidden = l < 2
            want = np.sqrt(2 / fan_in) if (he and hidden) else np.sqrt(2 / (fan_in + fan_out))
            assert net.W[l].std() == pytest.approx(want, rel=0.05), (act, l)
            assert abs(net.W[l].mean()) < 0.1 * want
            assert not net.b[l].any()


def test_config_round_trips_through_dict():
    cfg = Config(dataset="spiral", layers=(7, 5), activation="tanh", keep_prob=0.3, input_keep_prob=0.9,
                 lr=0.02, optimizer="adam", batch_size=10, l2=1e-4, seed=9, train_size=40, test_size=50,
                 noise=0.1, eval_every=3, dtype="float32").validate()
    assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
