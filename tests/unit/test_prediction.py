"""Prediction rules (core.prediction): Monte-Carlo dropout against passes recomputed from the
network's public pieces, the law of large numbers on a linear network, determinism, and shape."""

from __future__ import annotations

import math
import tracemalloc
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_tui.core import prediction
from dropout_tui.core.config import Config
from dropout_tui.core.dropout import draw_mask
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.prediction import MC_LADDER, PredictionRules, mc_generator, mc_ladder

METRIC_KEYS = {"test_loss", "test_acc", "test_confidence"}


def _config(**changes) -> Config:
    base = dict(layers=(16, 16), train_size=60, test_size=80, eval_every=10)
    base.update(changes)
    return Config(**base).validate()


def _ref_passes(exp, T: int):
    """T stochastic passes of both runs, each drawn on its own from the Monte-Carlo stream with
    the network's ordinary forward pass on the test set: {rule: (logits, probabilities)}, each
    (T, n, k). Masks per pass, site by site (input, then hidden layers), shared by the runs."""
    rng = mc_generator(exp)
    x = exp.data.x_test
    n, dt = x.shape[0], x.dtype
    widths = [exp.data.n_features, *exp.config.layers]
    out = {rule: ([], []) for rule in exp.runs}
    for _ in range(T):
        masks = []
        for w, p in zip(widths, exp.site_keep_probs):
            if p >= 1:
                masks.append(None)
                continue
            u, m, s = np.empty((n, w), np.float32), np.empty((n, w), dt), np.empty((n, w), dt)
            draw_mask(rng, p, u, m, s)
            masks.append((m, s))
        for rule, run in exp.runs.items():
            mults = [None if ms is None else (ms[1] if rule == "inverted" else ms[0]) for ms in masks]
            ws = run.net.workspace(n)
            z = run.net.forward(ws, x, mults).copy()
            out[rule][0].append(z)
            out[rule][1].append(run.net.probabilities(ws).copy())
    return {rule: (np.array(zs), np.array(ps)) for rule, (zs, ps) in out.items()}


def _ref_metrics(mean_p: np.ndarray, passes: np.ndarray, y: np.ndarray) -> dict:
    """Loss, accuracy, confidence and predictive std of averaged probabilities, written directly."""
    if mean_p.shape[1] == 1:
        p1 = mean_p[:, 0]
        full = np.column_stack([1 - p1, p1])
        std = passes[:, :, 0].std(axis=0)  # of p(class 1)
    else:
        full = mean_p
        pred = mean_p.argmax(axis=1)
        std = passes[:, np.arange(len(y)), pred].std(axis=0)  # of the predicted class
    pred = full.argmax(axis=1)
    return {"test_loss": float(-np.mean(np.log(full[np.arange(len(y)), y]))),
            "test_acc": float(np.mean(pred == y)),
            "test_confidence": float(np.mean(full.max(axis=1))),
            "predictive_std": float(np.mean(std))}


# -- seeds ---------------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**63))
def test_a_sixth_seed_child_leaves_the_first_five_unchanged(seed):
    five = np.random.SeedSequence(seed).spawn(5)
    six = np.random.SeedSequence(seed).spawn(6)
    for a, b in zip(five, six):
        assert a.spawn_key == b.spawn_key and a.entropy == b.entropy
        assert np.array_equal(a.generate_state(8), b.generate_state(8))
    assert not np.array_equal(six[5].generate_state(8), six[4].generate_state(8))


def test_experiment_streams_are_the_children_by_index():
    exp = PairedExperiment(_config(seed=7))
    five = np.random.SeedSequence(7).spawn(5)
    assert np.array_equal(exp.metrics_seed.generate_state(4), five[4].generate_state(4))
    assert exp.mc_seed.spawn_key == (5,) and exp.mc_seed.entropy == 7
    # the training mask stream is child 3, as before the Monte-Carlo child was added
    assert exp._masks._bits.state == np.random.default_rng(five[3]).bit_generator.state


def test_mc_stream_is_seeded_by_its_own_child_and_the_step():
    exp = PairedExperiment(_config(seed=3))
    draws = {}
    for step in (0, 1, 2):
        exp.step = step  # the stream depends on the step alone, not on what happened before it
        draws[step] = mc_generator(exp).random(8)
        want = np.random.SeedSequence([exp.mc_seed.entropy, *exp.mc_seed.spawn_key, step])
        assert np.array_equal(draws[step], np.random.default_rng(want).random(8))
        metrics = np.random.default_rng([exp.metrics_seed.entropy, *exp.metrics_seed.spawn_key, step])
        assert not np.array_equal(draws[step], metrics.random(8))
    assert not np.array_equal(draws[0], draws[1]) and not np.array_equal(draws[1], draws[2])


# -- Monte-Carlo dropout against single passes -------------------------------------------------

CASES = [
    dict(keep_prob=0.5),
    dict(keep_prob=0.6, input_keep_prob=0.8, dataset="spiral", activation="tanh", layers=(12, 10, 8)),
    dict(keep_prob=0.7, layers=(20,), dtype="float32"),
    dict(keep_prob=0.5, input_keep_prob=0.7, dataset="blobs", test_size=100),
]


@pytest.mark.parametrize("changes", CASES)
def test_mc_is_the_mean_of_single_passes_from_the_same_stream(changes):
    """The predictive mean after T passes is bit for bit the pass-order sum of T single passes / T;
    the metrics agree to rounding: the loss is summed in the log domain, the std by Welford's
    update, both in a different order from the direct formulas here."""
    exp = PairedExperiment(_config(**changes))
    exp.advance(25)
    pr = PredictionRules(exp, mc_max=20)
    assert pr.stack > 1  # the stacked path is the one under test
    res = pr.evaluate()
    ref = _ref_passes(exp, pr.passes)
    y = exp.data.y_test
    tol = 1e-5 if changes.get("dtype") == "float32" else 1e-12
    for rule, (_, ps) in ref.items():
        total = np.zeros_like(ps[0])
        means = {}
        for t in range(pr.passes):
            total += ps[t]
            if t + 1 in pr.ladder:
                means[t + 1] = total / (t + 1)
        assert np.array_equal(pr.mc_mean(rule), means[pr.passes])
        for row in res[rule]["mc_dropout"]:
            T = row["T"]
            want = _ref_metrics(means[T], ps[:T], y)
            assert row["test_acc"] == want["test_acc"]
            for key in ("test_loss", "test_confidence", "predictive_std"):
                assert row[key] == pytest.approx(want[key], rel=tol, abs=tol), (rule, T, key)


def test_stacking_passes_changes_no_number(monkeypatch):
    exp = PairedExperiment(_config(keep_prob=0.5, input_keep_prob=0.8))
    exp.advance(10)
    stacked = PredictionRules(exp, mc_max=50)
    monkeypatch.setattr(prediction, "STACK_ROWS", 1)
    single = PredictionRules(exp, mc_max=50)
    assert stacked.stack > 1 and single.stack == 1
    assert stacked.evaluate() == single.evaluate()


@pytest.mark.parametrize("changes", [
    dict(keep_prob=1.0),
    dict(keep_prob=1.0, dataset="spiral", layers=(8, 8, 8)),
    dict(keep_prob=1.0, layers=(24,), activation="tanh"),
])
def test_dropout_on_at_keep_prob_one_is_no_dropout(changes):
    exp = PairedExperiment(_config(**changes))
    exp.advance(20)
    res = PredictionRules(exp, mc_max=50).evaluate()
    for r in res.values():
        on = {k: r["dropout_on"][k] for k in METRIC_KEYS}
        assert on == r["no_dropout"]  # bit-identical
        assert r["dropout_on"]["predictive_std"] < 1e-15
        for row in r["mc_dropout"]:  # T identical passes: the same up to the rounding of Σp / T
            assert row["test_acc"] == r["no_dropout"]["test_acc"]
            assert row["test_loss"] == pytest.approx(r["no_dropout"]["test_loss"], rel=1e-14)
            assert row["test_confidence"] == pytest.approx(r["no_dropout"]["test_confidence"], rel=1e-14)
    assert res["unrescaled"]["weight_scaling"] == res["unrescaled"]["no_dropout"]


def test_deterministic_rules_match_the_snapshot():
    for changes in CASES[:2]:
        exp = PairedExperiment(_config(**changes))
        exp.advance(30)
        snap = exp.snapshot()["runs"]
        res = PredictionRules(exp, mc_max=2).evaluate()
        for rule, r in res.items():
            pairs = [("no_dropout", "")] + ([("weight_scaling", "_scaled")] if rule == "unrescaled" else [])
            for name, suffix in pairs:
                assert r[name]["test_acc"] == snap[rule]["test_acc" + suffix]
                for key in ("test_loss", "test_confidence"):
                    assert r[name][key] == pytest.approx(snap[rule][key + suffix], rel=1e-12)


# -- law of large numbers on a linear network ----------------------------------------------------

def _identity(z, tmp, zeros):
    pass


def _identity_back(a, grad, tmp):
    pass


def _linear_experiment(**changes):
    exp = PairedExperiment(_config(lr=0.05, **changes))
    for run in exp.runs.values():
        run.net._act, run.net._act_back = _identity, _identity_back
    exp.advance(10)
    return exp


def _expected_logits(exp, rule):
    """E[logits] of a linear network: no dropout for inverted (E[m/p] = 1), weight scaling for
    unrescaled (E[m] = p), as the masks are independent and enter each product once."""
    net = exp.runs[rule].net
    ws = net.workspace(exp.data.x_test.shape[0])
    z = net.forward(ws, exp.data.x_test, [None] * len(exp.site_keep_probs), keep_products=2)
    if rule == "unrescaled":
        z = net.forward_scaled(ws, [p if p < 1 else None for p in exp.site_keep_probs])
    return z.copy()


def _z_bound(n_points: int, alpha: float = 1e-6) -> float:
    """|mean - E| <= z·s/√T for every point, with family-wise false-failure probability alpha
    (Bonferroni over the points, normal approximation of the mean of T = 200 passes)."""
    return NormalDist().inv_cdf(1 - alpha / (2 * n_points))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keep=st.floats(0.3, 0.9), input_keep=st.sampled_from([1.0, 0.6, 0.9]), seed=st.integers(0, 1000))
def test_mc_mean_of_logits_converges_to_weight_scaling_on_a_linear_network(keep, input_keep, seed):
    exp = _linear_experiment(keep_prob=keep, input_keep_prob=input_keep, seed=seed)
    T = MC_LADDER[-1]
    ref = _ref_passes(exp, T)
    for rule, (zs, _) in ref.items():
        mean, sd = zs.mean(axis=0), zs.std(axis=0, ddof=1)
        want = _expected_logits(exp, rule)
        bound = _z_bound(mean.size) * sd / math.sqrt(T) + 1e-12 * (1 + np.abs(want))
        assert np.all(np.abs(mean - want) <= bound), rule


def test_linear_network_check_tells_the_rules_apart():
    """The bound above is tight enough to fail when the other rule's expectation is used."""
    exp = _linear_experiment(keep_prob=0.5)
    T = MC_LADDER[-1]
    z_bound = _z_bound(exp.data.x_test.shape[0])
    for rule, (zs, _) in _ref_passes(exp, T).items():
        mean, half_width = zs.mean(axis=0), z_bound * zs.std(axis=0, ddof=1) / math.sqrt(T)
        net = exp.runs[rule].net
        ws = net.workspace(exp.data.x_test.shape[0])
        no_dropout = net.forward(ws, exp.data.x_test, [None] * len(exp.site_keep_probs), keep_products=2).copy()
        scaled = net.forward_scaled(ws, [p if p < 1 else None for p in exp.site_keep_probs]).copy()
        right, wrong = (no_dropout, scaled) if rule == "inverted" else (scaled, no_dropout)
        assert np.all(np.abs(mean - right) <= half_width + 1e-12 * (1 + np.abs(right)))
        assert np.any(np.abs(mean - wrong) > half_width)


# -- determinism -----------------------------------------------------------------------------------

def _state(exp):
    return ([p.copy() for run in exp.runs.values() for p in run.net.params],
            exp._masks._bits.state, exp._order_rng.bit_generator.state)


def _same_state(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) and a[1:] == b[1:]


def test_mc_numbers_do_not_depend_on_cadence_and_never_move_training():
    cfg = _config(keep_prob=0.5, input_keep_prob=0.8, batch_size=16)
    busy, quiet = PairedExperiment(cfg), PairedExperiment(cfg)
    pr = PredictionRules(busy, mc_max=20)
    for _ in range(4):
        busy.advance(10)
        busy.snapshot()
        pr.evaluate()
        pr.evaluate()
    busy_res = pr.evaluate()
    busy_snap = busy.snapshot()
    quiet.advance(40)
    assert _same_state(_state(busy), _state(quiet))
    quiet_snap = quiet.snapshot()
    assert busy_snap == quiet_snap
    assert busy_res == PredictionRules(quiet, mc_max=20).evaluate()
    busy.advance(15)
    quiet.advance(15)
    assert _same_state(_state(busy), _state(quiet))


def test_reused_buffers_carry_nothing_between_calls():
    exp = PairedExperiment(_config(keep_prob=0.5, dataset="spiral"))
    exp.advance(10)
    pr = PredictionRules(exp, mc_max=10)
    first = pr.evaluate()
    exp.set_keep_prob(0.8)
    exp.set_input_keep_prob(0.9)
    exp.advance(5)
    assert pr.evaluate() == PredictionRules(exp, mc_max=10).evaluate()
    assert pr.evaluate() != first


def test_evaluate_allocates_no_arrays_after_the_first_call():
    exp = PairedExperiment(_config(keep_prob=0.5, input_keep_prob=0.8, test_size=50_000))
    exp.advance(5)
    pr = PredictionRules(exp, mc_max=5)
    pr.evaluate()
    # Any array over the test points is at least one (n, 1) column. NumPy's ufuncs may still take
    # a fixed-size iteration buffer (8,192 elements, 64 KiB) when they broadcast or cast; that does
    # not grow with the data, so the bound is a fraction of one column.
    smallest_array = exp.data.x_test.shape[0] * exp.data.x_test.itemsize
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        pr.evaluate()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < smallest_array / 2


# -- shape -------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(mc_max=st.integers(1, MC_LADDER[-1]))
def test_ladder_respects_mc_max(mc_max):
    ladder = mc_ladder(mc_max)
    assert ladder[0] == 1 and max(ladder) <= mc_max
    assert set(ladder) == {t for t in MC_LADDER if t <= mc_max}


@pytest.mark.parametrize("mc_max", [1, 2, 7, 50])
def test_result_keys_and_ladder(mc_max):
    exp = PairedExperiment(_config(keep_prob=0.5))
    exp.advance(5)
    pr = PredictionRules(exp, mc_max=mc_max)
    res = pr.evaluate()
    assert set(res) == {"inverted", "unrescaled"}
    assert set(res["inverted"]) == {"no_dropout", "dropout_on", "mc_dropout"}
    assert set(res["unrescaled"]) == {"no_dropout", "weight_scaling", "dropout_on", "mc_dropout"}
    for r in res.values():
        assert set(r["no_dropout"]) == METRIC_KEYS
        assert set(r.get("weight_scaling", r["no_dropout"])) == METRIC_KEYS
        assert set(r["dropout_on"]) == METRIC_KEYS | {"predictive_std"}
        assert [row["T"] for row in r["mc_dropout"]] == [t for t in MC_LADDER if t <= mc_max]
        for row in r["mc_dropout"]:
            assert set(row) == METRIC_KEYS | {"predictive_std", "T"}
            assert all(math.isfinite(v) for v in row.values())
        assert r["mc_dropout"][0]["predictive_std"] == 0.0  # one pass has no spread
        assert {k: r["dropout_on"][k] for k in METRIC_KEYS} == {k: r["mc_dropout"][0][k] for k in METRIC_KEYS}
        assert r["dropout_on"]["predictive_std"] == r["mc_dropout"][-1]["predictive_std"]


@pytest.mark.parametrize("bad", [0, 201, -3, 2.5, True, "10", None])
def test_bad_mc_max_is_a_one_line_error(bad):
    exp = PairedExperiment(_config())
    with pytest.raises(ValueError) as err:
        PredictionRules(exp, mc_max=bad)
    assert "mc_max" in str(err.value) and "\n" not in str(err.value)


def test_a_diverged_run_predicts_nothing():
    exp = PairedExperiment(_config(keep_prob=0.5, dataset="spiral"))
    exp.advance(5)
    exp.runs["unrescaled"].net.flat_params[:] = np.nan
    res = PredictionRules(exp, mc_max=5).evaluate()
    bad, good = res["unrescaled"], res["inverted"]
    for rows in ([bad["no_dropout"], bad["weight_scaling"], bad["dropout_on"]] + bad["mc_dropout"]):
        assert math.isnan(rows["test_acc"]) and math.isnan(rows["test_confidence"])
    assert all(math.isfinite(v) for row in good["mc_dropout"] for v in row.values())


def test_loss_stays_finite_where_a_pass_rounds_the_true_class_to_zero():
    """Averaging probabilities in the log domain: a pass that gives the true class probability 0
    in floating point (|logit| > ~37) must not make the Monte-Carlo loss infinite."""
    exp = PairedExperiment(_config(keep_prob=0.5))
    exp.advance(5)
    net = exp.runs["inverted"].net
    net.W[-1][...] *= 400.0  # saturate the output: some passes are wrong with p_y == 0
    pr = PredictionRules(exp, mc_max=10)
    res = pr.evaluate()["inverted"]
    ps = _ref_passes(exp, 1)["inverted"][1][0, :, 0]
    y = exp.data.y_test
    assert np.any(np.where(y == 1, ps, 1 - ps) == 0)  # the case under test happens
    assert all(math.isfinite(row["test_loss"]) for row in res["mc_dropout"])
    assert math.isfinite(res["no_dropout"]["test_loss"])


def test_rules_cadence_spaces_evaluations_to_a_tenth_of_the_time():
    from dropout_tui.core.prediction import RulesCadence

    now = [0.0]
    cadence = RulesCadence(share=0.1, clock=lambda: now[0])
    assert cadence.due()  # the first one at once
    cadence.spent(0.5)  # an evaluation of 0.5 s: the next after 4.5 s of training
    now[0] = 4.4
    assert not cadence.due()
    now[0] = 4.5
    assert cadence.due()
    with pytest.raises(ValueError):
        RulesCadence(share=1.0)


@pytest.mark.parametrize("changes", [dict(dataset="sine", keep_prob=0.5),
                                     dict(dataset="saddle", keep_prob=0.6, input_keep_prob=0.8)])
def test_regression_mc_is_the_mean_of_single_passes(changes):
    """For regression the Monte-Carlo predictive mean is the outputs averaged over T passes, its loss
    their MSE, and the predictive std the spread of the output over passes."""
    exp = PairedExperiment(_config(lr=0.05, **changes))
    exp.advance(25)
    pr = PredictionRules(exp, mc_max=20)
    res = pr.evaluate()
    ref = _ref_passes(exp, pr.passes)
    y = exp.data.y_test
    for rule, (zs, _) in ref.items():
        assert np.array_equal(pr.mc_mean(rule), zs.sum(axis=0) / pr.passes)
        for row in res[rule]["mc_dropout"]:
            T = row["T"]
            mean = zs[:T].mean(axis=0)[:, 0]
            assert row["test_loss"] == pytest.approx(np.mean((mean - y) ** 2), rel=1e-12)
            assert row["test_r2"] == pytest.approx(1 - np.mean((mean - y) ** 2) / np.var(y), rel=1e-12)
            assert row["test_spread"] == pytest.approx(np.std(mean) / np.std(y), rel=1e-12)
            assert row["predictive_std"] == pytest.approx(zs[:T, :, 0].std(axis=0).mean(), rel=1e-10, abs=1e-15)
        assert "test_acc" not in res[rule]["no_dropout"]


def test_an_evaluation_abandoned_midway_returns_none_and_leaves_no_trace():
    """A caller with work waiting stops the Monte-Carlo passes between stacks; the next evaluation
    of the same step is the one a fresh evaluator gives."""
    exp = PairedExperiment(_config(mc_max=50))
    exp.advance(20)
    pr = PredictionRules(exp, mc_max=50)
    asked = []

    def stop_on_third_look() -> bool:
        asked.append(1)
        return len(asked) >= 3

    assert pr.evaluate(should_stop=stop_on_third_look) is None
    assert len(asked) == 3  # looked between stacks, and stopped at once when told
    assert pr.evaluate() == PredictionRules(exp, mc_max=50).evaluate()
    snap = exp.snapshot(rules=True, should_stop=lambda: True)
    assert all("rules" not in run for run in snap["runs"].values())


def test_a_diverged_runs_rules_are_not_a_number():
    # Weights past the float type: a Monte-Carlo pass that drops the infinite units gives a finite,
    # meaningless loss. The run's rules say nothing, as its other metrics do.
    import math

    from dropout_tui.core.config import Config
    from dropout_tui.core.experiment import PairedExperiment

    exp = PairedExperiment(Config(layers=(32, 32, 32, 32), input_keep_prob=0.8, keep_prob=0.1, lr=1.0,
                                  mc_max=20).validate())
    exp.advance(50)
    snap = exp.snapshot(rules=True)
    diverged = [name for name, run in snap["runs"].items() if run["diverged"]]
    assert diverged == ["inverted"]  # the setting diverges one run: else this test says nothing
    rules = snap["runs"]["inverted"]["rules"]
    assert all(math.isnan(v) for v in rules["no_dropout"].values())
    assert all(math.isnan(v) for k, v in rules["dropout_on"].items())
    assert [row["T"] for row in rules["mc_dropout"]] == [1, 2, 5, 10, 20]
    assert all(math.isnan(v) for row in rules["mc_dropout"] for k, v in row.items() if k != "T")
    kept = snap["runs"]["unrescaled"]["rules"]
    assert math.isfinite(kept["no_dropout"]["test_loss"]) and math.isfinite(kept["weight_scaling"]["test_loss"])
