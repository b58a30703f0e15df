"""Divergence: a run whose loss or weights become non-finite stops updating and says so; the other run
carries on; snapshots stay JSON-safe (non-finite -> null)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.report import json_safe, result


def _no_nan_tokens(text: str):
    def reject(token):
        raise AssertionError(f"non-JSON constant {token} in output")
    return json.loads(text, parse_constant=reject)


def _numbers(obj):
    """Every number (not bool) in a nested snapshot, as a flat list."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    if isinstance(obj, (int, float)):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    return [x for v in obj for x in _numbers(v)]


def _advance_until_diverged(exp, max_steps=50):
    for _ in range(max_steps):
        exp.advance(1)
        if any(run.diverged for run in exp.runs.values()):
            return
    raise AssertionError("no run diverged")


def test_huge_learning_rate_diverges_freezes_and_reports_null(small_config, core_param_copies,
                                                              core_params_equal):
    cfg = small_config(lr=1e300, keep_prob=0.5)
    exp = PairedExperiment(cfg)
    _advance_until_diverged(exp)
    exp.advance(2)  # let both runs reach the overflow
    assert all(run.diverged for run in exp.runs.values())
    frozen = core_param_copies(exp)
    exp.advance(10)
    for rule, params in core_param_copies(exp).items():
        assert core_params_equal(params, frozen[rule]), f"{rule} kept updating after divergence"
    snap = exp.snapshot()
    for rule in ("inverted", "unrescaled"):
        assert snap["runs"][rule]["diverged"] is True
    raw = _numbers(snap["runs"])
    assert any(not math.isfinite(x) for x in raw), "expected non-finite numbers in a diverged snapshot"
    out = result(cfg, snap)
    text = json.dumps(out, allow_nan=False)  # raises on nan/inf
    parsed = _no_nan_tokens(text)
    assert parsed["runs"]["inverted"]["diverged"] is True
    assert None in _flatten_values(parsed["runs"])
    assert all(x is None or math.isfinite(x) for x in _numbers(parsed))


def _flatten_values(obj):
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _flatten_values(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _flatten_values(v)]
    return [obj]


# Configurations where, at the time of writing, one run diverges before the other; whichever run is
# still finite must keep changing while the diverged one is frozen.
@pytest.mark.parametrize("changes", [
    dict(layers=(8, 8), lr=1e60, keep_prob=0.1, train_size=50, test_size=50),
    dict(layers=(8, 8), lr=1e20, keep_prob=0.2, train_size=50, test_size=50),
])
def test_diverged_run_frozen_other_keeps_training(small_config, core_param_copies, core_params_equal,
                                                  changes):
    exp = PairedExperiment(small_config(**changes))
    _advance_until_diverged(exp, max_steps=200)
    for _ in range(5):
        before = core_param_copies(exp)
        exp.advance(1)
        after = core_param_copies(exp)
        for rule, run in exp.runs.items():
            if run.diverged:
                assert core_params_equal(before[rule], after[rule]), rule
            else:
                assert not core_params_equal(before[rule], after[rule]), rule
    snap = exp.snapshot()
    assert [snap["runs"][r]["diverged"] for r in ("inverted", "unrescaled")] == \
           [exp.runs[r].diverged for r in ("inverted", "unrescaled")]
    json.dumps(result(exp.config, snap), allow_nan=False)


@pytest.mark.parametrize("victim", ["inverted", "unrescaled"])
def test_injected_nan_weight_stops_only_that_run(small_config, core_param_copies, core_params_equal,
                                                 victim):
    exp = PairedExperiment(small_config(keep_prob=0.5, batch_size=16))
    exp.advance(3)
    exp.runs[victim].net.W[1][0, 0] = np.nan
    other = "unrescaled" if victim == "inverted" else "inverted"
    for _ in range(6):
        before = core_param_copies(exp)
        exp.advance(1)
        after = core_param_copies(exp)
        assert exp.runs[victim].diverged
        assert not exp.runs[other].diverged
        assert core_params_equal(before[victim], after[victim])
        assert not core_params_equal(before[other], after[other])
    snap = exp.snapshot()
    assert snap["runs"][victim]["diverged"] is True
    assert snap["runs"][other]["diverged"] is False
    assert all(math.isfinite(x) for x in _numbers(snap["runs"][other]))
    parsed = _no_nan_tokens(json.dumps(result(exp.config, snap)))
    assert parsed["runs"][victim]["diverged"] is True
    # reset clears the flag and restarts both runs
    exp.reset()
    assert not any(run.diverged for run in exp.runs.values())
    params = core_param_copies(exp)
    assert core_params_equal(params["inverted"], params["unrescaled"])
    assert all(np.isfinite(p).all() for p in params[victim])


def test_json_safe_replaces_non_finite_numbers():
    obj = {"a": math.nan, "b": [1.0, math.inf, -math.inf, (2.5, math.nan)], "c": True, "d": "x", "e": 3}
    safe = json_safe(obj)
    assert safe == {"a": None, "b": [1.0, None, None, [2.5, None]], "c": True, "d": "x", "e": 3}
    assert obj["a"] != obj["a"]  # input untouched
    json.dumps(safe, allow_nan=False)


def test_json_safe_handles_numpy_scalars():
    safe = json_safe({"x": np.float64("nan"), "y": np.float64(2.0)})
    assert json.loads(json.dumps(safe, allow_nan=False)) == {"x": None, "y": 2.0}


# -- divergence found by training alone --------------------------------------------------------------------------------

def test_non_finite_weight_is_detected_by_training_itself(small_config, core_param_copies,
                                                          core_params_equal):
    exp = PairedExperiment(small_config(activation="tanh", keep_prob=1.0))
    exp.advance(2)
    exp.runs["inverted"].net.W[0][0, 0] = np.inf  # tanh(±inf) = ±1: logits stay finite
    before = core_param_copies(exp)["inverted"]
    exp.advance(3)  # no snapshot
    assert exp.runs["inverted"].diverged, "run with an inf weight not flagged as diverged"
    assert core_params_equal(before, core_param_copies(exp)["inverted"])


def test_snapshot_frequency_cannot_change_trajectory_with_inf_weight(small_config, core_param_copies,
                                                                     core_params_equal):
    exps = [PairedExperiment(small_config(activation="tanh", keep_prob=1.0)) for _ in range(2)]
    for exp in exps:
        exp.advance(2)
        exp.runs["inverted"].net.W[0][0, 0] = np.inf  # tanh saturates: logits stay finite
    exps[0].snapshot()
    for exp in exps:
        exp.advance(5)
    assert exps[0].runs["inverted"].diverged == exps[1].runs["inverted"].diverged
    p0, p1 = core_param_copies(exps[0]), core_param_copies(exps[1])
    assert core_params_equal(p0["inverted"], p1["inverted"])


def test_finite_but_huge_weights_are_not_flagged_diverged(small_config):
    """A weight norm can overflow (weights ~1e200) while every weight is finite: not a divergence."""
    exp = PairedExperiment(small_config(activation="tanh", keep_prob=1.0))
    exp.advance(2)
    exp.runs["inverted"].net.W[0][0, :] = 1e200
    with np.errstate(all="ignore"):
        snap = exp.snapshot()
    assert snap["runs"]["inverted"]["diverged"] is False
    assert not exp.runs["inverted"].diverged
    json.dumps(result(exp.config, snap), allow_nan=False)
