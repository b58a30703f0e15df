"""Datasets (core.data) and the float32 option."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dropout_tui.core.config import Config, ConfigError
from dropout_tui.core.data import DATASETS, REGRESSION_SETS, make_dataset, min_size, true_function
from dropout_tui.core.experiment import PairedExperiment

EXPECTED_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spiral": 3, "blobs": 3, "sine": 0, "saddle": 0}
CLASSIFICATION = [name for name, k in EXPECTED_CLASSES.items() if k]


def test_every_documented_dataset_exists():
    assert set(DATASETS) == set(EXPECTED_CLASSES)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("sizes", [(37, 211), (200, 1000)])
def test_shapes_classes_and_sizes(name, sizes):
    train, test = sizes
    ds = make_dataset(name, train, test, 0.3, np.random.default_rng(5))
    assert ds.n_classes == EXPECTED_CLASSES[name]
    assert ds.x_train.shape == (train, 2) and ds.x_test.shape == (test, 2)
    assert ds.y_train.shape == (train,) and ds.y_test.shape == (test,)
    assert ds.n_features == 2
    assert np.issubdtype(ds.y_train.dtype, np.integer)
    for y in (ds.y_train, ds.y_test):
        assert y.min() >= 0 and y.max() < ds.n_classes
    # with a few hundred points every class shows up in both splits
    if train >= 200:
        assert set(np.unique(ds.y_train)) == set(range(ds.n_classes))
        assert set(np.unique(ds.y_test)) == set(range(ds.n_classes))
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()
    assert ds.x_train.dtype == np.float64


@pytest.mark.parametrize("name", DATASETS)
def test_deterministic_per_seed(name):
    a = make_dataset(name, 50, 60, 0.2, np.random.default_rng(11))
    b = make_dataset(name, 50, 60, 0.2, np.random.default_rng(11))
    c = make_dataset(name, 50, 60, 0.2, np.random.default_rng(12))
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", DATASETS)
def test_experiment_data_deterministic_per_seed(small_config, name):
    cfg = small_config(dataset=name)
    a, b = PairedExperiment(cfg), PairedExperiment(cfg)
    np.testing.assert_array_equal(a.data.x_train, b.data.x_train)
    np.testing.assert_array_equal(a.data.y_test, b.data.y_test)
    c = PairedExperiment(cfg.with_changes(seed=cfg.seed + 1))
    assert not np.array_equal(a.data.x_train, c.data.x_train)
    features = 1 if name == "sine" else 2
    assert a.data.x_train.shape == (cfg.train_size, features) and a.data.x_test.shape == (cfg.test_size, features)
    out = a.runs["inverted"].net.n_out
    assert out == (1 if EXPECTED_CLASSES[name] in (0, 2) else EXPECTED_CLASSES[name])


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_noise_changes_the_points_not_the_labels(name):
    quiet = make_dataset(name, 80, 80, 0.0, np.random.default_rng(3))
    noisy = make_dataset(name, 80, 80, 0.5, np.random.default_rng(3))
    assert not np.allclose(quiet.x_train, noisy.x_train)


@pytest.mark.parametrize("name", DATASETS)
def test_minimum_sizes_enforced_by_config(name):
    smallest = min_size(name)
    Config(dataset=name, train_size=smallest, test_size=smallest, batch_size=0).validate()
    for field in ("train_size", "test_size"):
        with pytest.raises(ConfigError) as info:
            Config(dataset=name, **{field: smallest - 1}).validate()
        assert info.value.option == "--" + field.replace("_", "-")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("name", ["moons", "spiral"])
def test_float32_option_gives_float32_params_and_runs(small_config, optimizer, name):
    cfg = small_config(dtype="float32", dataset=name, optimizer=optimizer, batch_size=16,
                            input_keep_prob=0.9, l2=1e-3, lr=0.01 if optimizer != "sgd" else 0.3)
    exp = PairedExperiment(cfg)
    assert exp.data.x_train.dtype == np.float32 and exp.data.x_test.dtype == np.float32
    exp.advance(30)
    for run in exp.runs.values():
        assert not run.diverged
        for arr in (*run.net.params, *run.net.gW, *run.net.gb):
            assert arr.dtype == np.float32
            assert np.isfinite(arr).all()
    snap = exp.snapshot()
    for rule in ("inverted", "unrescaled"):
        r = snap["runs"][rule]
        for key in ("train_loss_dropout", "train_loss", "test_loss", "train_acc", "test_acc"):
            assert isinstance(r[key], float) and math.isfinite(r[key]), key


def test_float32_and_float64_start_from_the_same_weights(small_config):
    a = PairedExperiment(small_config(dtype="float32"))
    b = PairedExperiment(small_config(dtype="float64"))
    for w32, w64 in zip(a.runs["inverted"].net.W, b.runs["inverted"].net.W):
        np.testing.assert_allclose(w32, w64, rtol=1e-6)
    np.testing.assert_allclose(a.data.x_train, b.data.x_train, rtol=1e-6)


@pytest.mark.parametrize("name", REGRESSION_SETS)
def test_regression_sets_are_noisy_samples_of_their_true_function(name):
    ds = make_dataset(name, 400, 600, 0.3, np.random.default_rng(3))
    assert ds.regression and ds.n_classes == 0
    assert ds.y_train.dtype == np.float64 and ds.y_train.shape == (400,)
    assert ds.n_features == (1 if name == "sine" else 2)
    assert np.all(np.abs(ds.x_train) <= 1)  # both live on [-1, 1] per feature
    # the noise is the residual from the true function: zero mean, std = noise / 2
    resid = np.concatenate([ds.y_train - true_function(name, ds.x_train), ds.y_test - true_function(name, ds.x_test)])
    assert abs(resid.mean()) < 0.02 and resid.std() == pytest.approx(0.15, rel=0.1)
    with pytest.raises(KeyError):
        true_function("moons", ds.x_train)


def test_a_regression_preset_follows_the_dataset_unless_chosen():
    """sine is shown at lr 0.05 with 40 points; a value the user chose stays when the dataset changes."""
    sine = Config.for_dataset("sine")
    assert (sine.lr, sine.train_size, sine.test_size) == (0.05, 40, 400)
    assert Config.for_dataset("sine", lr=0.01).lr == 0.01
    back = sine.follow_dataset("moons")
    assert (back.lr, back.train_size, back.test_size) == (0.3, 200, 1000)
    chosen = Config(lr=0.2).follow_dataset("saddle")
    assert chosen.lr == 0.2 and chosen.train_size == 100


def test_a_noise_of_minus_zero_is_a_noise_of_zero():
    # -0.0 passes "noise >= 0", and NumPy refuses a normal scale whose sign bit is set.
    from dropout_tui.core.config import Config
    from dropout_tui.core.experiment import PairedExperiment

    a = PairedExperiment(Config(noise=-0.0).validate()).data.x_train
    b = PairedExperiment(Config(noise=0.0).validate()).data.x_train
    assert (a == b).all()
