"""Regression: the train/predict mismatch in plain sight. Without the rescale the network's output is
too large at prediction time (stretched); ×p at test brings its scale back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionLog, read_session

STEPS = 3000
SEEDS = (0, 1, 2)
# ×p at test returns the unrescaled output spread to within this band of the inverted run's.
BAND = 0.25


@pytest.fixture(scope="module")
def sine_runs():
    out = []
    for seed in SEEDS:
        exp = PairedExperiment(Config.for_dataset("sine", seed=seed))
        exp.advance(STEPS)
        out.append(exp.snapshot())
    return out


def test_unrescaled_predictions_are_stretched_and_weight_scaling_restores_their_scale(sine_runs):
    for snap in sine_runs:
        inv, unr = snap["runs"]["inverted"], snap["runs"]["unrescaled"]
        assert not inv["diverged"] and not unr["diverged"]
        assert unr["test_spread"] > 1.2 > inv["test_spread"], snap["step"]
        assert abs(unr["test_spread_scaled"] - inv["test_spread"]) < BAND
        assert unr["test_loss"] > 2 * inv["test_loss"]
        assert unr["test_loss_scaled"] < unr["test_loss"] / 2
        assert "test_acc" not in inv and "test_confidence" not in unr  # absent, not fake
        assert inv["test_rmse"] == pytest.approx(inv["test_loss"] ** 0.5)
        assert inv["test_r2"] == pytest.approx(1 - inv["test_loss"] / snap["chance_loss"])


def test_keep_prob_one_makes_the_regression_runs_bit_identical():
    exp = PairedExperiment(Config.for_dataset("saddle", keep_prob=1.0, train_size=30, test_size=40))
    exp.advance(50)
    a, b = exp.runs["inverted"].net, exp.runs["unrescaled"].net
    assert all(np.array_equal(x, y) for x, y in zip(a.params, b.params))


def test_a_regression_session_records_and_verifies(tmp_path):
    config = Config.for_dataset("sine", train_size=20, test_size=30, mc_max=10)
    path = tmp_path / "sine.jsonl"
    with SessionLog(path, config) as log:
        exp = PairedExperiment(config)
        for _ in range(3):
            exp.advance(10)
            log.snapshot(exp.snapshot(rules=exp.step == 30))
    rep = Replayer(read_session(path), verify=True, rtol=0.0).run()
    assert rep.mismatch is None and rep.snapshots_compared == 3
    rules = rep.last_snapshot["runs"]["unrescaled"]["rules"]
    assert set(rules["mc_dropout"][-1]) == {"T", "test_loss", "test_r2", "test_spread", "predictive_std"}


@pytest.mark.parametrize("dataset, task", [("sine", "regression"), ("saddle", "regression"),
                                           ("moons", "classification")])
def test_the_json_config_names_the_task_its_numbers_are_of(dataset, task, capsys):
    from dropout_tui.tui.cli import main

    assert main(["--headless", "--dataset", dataset, "--steps", "2", "--layers", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["task"] == task
