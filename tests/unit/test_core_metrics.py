"""Snapshot numbers recomputed independently from the networks' public pieces, plus the documented keys."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.metrics import CHANCE_MARGIN, chance_level, is_learning
from dropout_tui.core.report import result
from dropout_tui.core.snapshot import LayerStats, RunMetrics

CLASSIFICATION_KEYS = {"train_acc", "test_acc", "test_confidence"}
REQUIRED_RUN_KEYS = set(RunMetrics.__required_keys__) | CLASSIFICATION_KEYS
SCALED_KEYS = {"test_loss_scaled", "test_acc_scaled", "test_confidence_scaled"}
LAYER_KEYS = set(LayerStats.__required_keys__)


def _ref_forward(net, x, mults):
    """Hidden outputs (after any multiplier) and logits, computed without net.forward."""
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[net.activation]
    h = x if mults[0] is None else x * mults[0]
    outs = []
    for l in range(len(net.hidden)):
        a = f(h @ net.W[l] + net.b[l])
        outs.append(a)
        h = a if mults[l + 1] is None else a * mults[l + 1]
    return outs, h @ net.W[-1] + net.b[-1]


def _ref_loss_acc(net, z, y):
    if net.binary:
        z = z[:, 0]
        loss = np.mean(np.logaddexp(0, z) - y * z)
        acc = np.mean((z > 0).astype(int) == y)
    else:
        top = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
        loss = np.mean(lse - z[np.arange(len(y)), y])
        acc = np.mean(z.argmax(axis=1) == y)
    return float(loss), float(acc)


@pytest.mark.parametrize("changes", [
    dict(activation="relu", keep_prob=0.5),
    dict(dataset="spiral", activation="tanh", keep_prob=0.6, input_keep_prob=0.8, layers=(12, 10, 8)),
    dict(activation="sigmoid", keep_prob=1.0, batch_size=16),
])
def test_prediction_mode_numbers_match_independent_computation(small_config, changes):
    exp = PairedExperiment(small_config(**changes))
    exp.advance(25)
    snap = exp.snapshot()
    assert snap["step"] == 25
    assert snap["keep_prob"] == exp.keep_prob and snap["input_keep_prob"] == exp.input_keep_prob
    data = exp.data
    n_hidden = len(exp.config.layers)
    for rule, run in exp.runs.items():
        net, got = run.net, snap["runs"][rule]
        none = [None] * (n_hidden + 1)
        hidden, z = _ref_forward(net, data.x_train, none)
        loss, acc = _ref_loss_acc(net, z, data.y_train)
        assert got["train_loss"] == pytest.approx(loss, rel=1e-9)
        assert got["train_acc"] == pytest.approx(acc)
        _, zt = _ref_forward(net, data.x_test, none)
        loss, acc = _ref_loss_acc(net, zt, data.y_test)
        assert got["test_loss"] == pytest.approx(loss, rel=1e-9)
        assert got["test_acc"] == pytest.approx(acc)
        if rule == "unrescaled":
            scaled = [p if p < 1 else None for p in exp.site_keep_probs]
            _, zs = _ref_forward(net, data.x_test, scaled)
            loss, acc = _ref_loss_acc(net, zs, data.y_test)
            assert got["test_loss_scaled"] == pytest.approx(loss, rel=1e-9)
            assert got["test_acc_scaled"] == pytest.approx(acc)
        else:
            assert "test_loss_scaled" not in got and "test_acc_scaled" not in got
        assert len(got["layers"]) == n_hidden
        for l, layer in enumerate(got["layers"]):
            a = hidden[l]
            assert layer["name"] == f"h{l + 1}"
            assert layer["mean_pred"] == pytest.approx(a.mean(), rel=1e-9, abs=1e-12)
            assert layer["norm_pred"] == pytest.approx(np.linalg.norm(a, axis=1).mean(), rel=1e-9)
            assert layer["weight_norm"] == pytest.approx(np.linalg.norm(net.W[l]), rel=1e-12)
            assert layer["grad_norm"] == pytest.approx(np.linalg.norm(net.gW[l]), rel=1e-12)
            if exp.keep_prob == 1.0 and exp.input_keep_prob == 1.0:
                assert layer["mean_train"] == pytest.approx(layer["mean_pred"], rel=1e-12)
                assert layer["norm_train"] == pytest.approx(layer["norm_pred"], rel=1e-12)
        assert math.isfinite(got["train_loss_dropout"])


def test_train_loss_dropout_is_the_loss_the_optimiser_saw(small_config):
    """At keep_prob 1 the dropout loss of step t is the prediction-mode loss of the weights before step t."""
    exp = PairedExperiment(small_config(keep_prob=1.0))
    before = exp.snapshot()["runs"]["inverted"]["train_loss"]
    assert math.isnan(exp.snapshot()["runs"]["inverted"]["train_loss_dropout"])  # no step yet
    exp.advance(1)
    assert exp.snapshot()["runs"]["inverted"]["train_loss_dropout"] == pytest.approx(before, rel=1e-12)


def test_layer_norms_show_the_rescale(small_config):
    """Training-mode mean of h1 is ≈ prediction-mode mean for inverted, ≈ p × it for unrescaled
    (the first hidden layer sees the same input in both modes)."""
    p = 0.5
    exp = PairedExperiment(small_config(layers=(256, 8), train_size=200, keep_prob=p,
                                             activation="sigmoid"))
    snap = exp.snapshot()["runs"]
    h1_inv, h1_unr = snap["inverted"]["layers"][0], snap["unrescaled"]["layers"][0]
    assert h1_inv["mean_train"] / h1_inv["mean_pred"] == pytest.approx(1.0, rel=0.03)
    assert h1_unr["mean_train"] / h1_unr["mean_pred"] == pytest.approx(p, rel=0.03)
    # mean per-example norm in training mode: inverted larger than prediction mode, unrescaled smaller
    assert h1_inv["norm_train"] > h1_inv["norm_pred"] > h1_unr["norm_train"]


def test_result_shape(small_config):
    exp = PairedExperiment(small_config(layers=(5, 4, 3)))
    exp.advance(3)
    out = result(exp.config, exp.snapshot())
    assert set(out) == {"config", "step", "keep_prob", "input_keep_prob", "chance_acc", "chance_loss", "runs"}
    assert out["config"] == exp.config.to_dict()
    assert out["step"] == 3
    assert set(out["runs"]) == {"inverted", "unrescaled"}
    for rule, run in out["runs"].items():
        # exactly the typed definition: the ×p fields for the unrescaled run only, nothing else
        assert set(run) == REQUIRED_RUN_KEYS | (SCALED_KEYS if rule == "unrescaled" else set())
        assert [layer["name"] for layer in run["layers"]] == ["h1", "h2", "h3"]
        for layer in run["layers"]:
            assert set(layer) == LAYER_KEYS
    json.dumps(out, allow_nan=False)


def test_result_carries_the_explanation_only_when_asked(small_config):
    exp = PairedExperiment(small_config())
    snap = exp.snapshot()
    assert "explanation" not in result(exp.config, snap)
    assert result(exp.config, snap, ["a sentence."])["explanation"] == ["a sentence."]


@pytest.mark.parametrize("labels, n, acc, loss", [
    ([0, 1, 0, 1], 2, 0.5, math.log(2)),
    ([0, 0, 0, 1], 2, 0.75, -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))),
    ([0, 1, 2], 3, 1 / 3, math.log(3)),
    ([2, 2, 2], 3, 1.0, 0.0),  # one class: a constant prediction is perfect
])
def test_chance_level_is_majority_accuracy_and_label_entropy(labels, n, acc, loss):
    got_acc, got_loss = chance_level(np.array(labels), n)
    assert got_acc == pytest.approx(acc) and got_loss == pytest.approx(loss)


def test_chance_loss_is_the_loss_of_predicting_the_class_frequencies(small_config):
    """A network whose output weights are zero and whose output bias gives the test class
    frequencies scores exactly chance_loss and, predicting one class everywhere, chance_acc."""
    for dataset in ("moons", "spiral"):
        exp = PairedExperiment(small_config(dataset=dataset, test_size=150))
        y = exp.data.y_test
        freq = np.bincount(y, minlength=exp.data.n_classes) / len(y)
        for run in exp.runs.values():
            run.net.W[-1][...] = 0
            if run.net.binary:
                run.net.b[-1][...] = math.log(freq[1] / freq[0])
            else:
                run.net.b[-1][...] = np.log(freq)
        snap = exp.snapshot()
        for run in snap["runs"].values():
            assert run["test_loss"] == pytest.approx(snap["chance_loss"], rel=1e-9)
            assert run["test_acc"] == pytest.approx(snap["chance_acc"])
            assert run["learning"] is False


def test_learning_needs_accuracy_above_chance_by_the_margin_and_no_divergence():
    assert is_learning(False, 0.5 + CHANCE_MARGIN + 0.001, 0.5)
    assert not is_learning(False, 0.5 + CHANCE_MARGIN, 0.5)
    assert not is_learning(False, 0.3, 0.5)  # below chance is not learning either
    assert not is_learning(True, 0.99, 0.5)
    assert not is_learning(False, math.nan, 0.5)
