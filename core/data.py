"""Toy datasets made from a seed. Few noisy training points and many test points by default,
so a 64-64 network over-fits and dropout has something to do.

Classification sets (labels 0..k-1): moons, circles, xor, spiral, blobs. Regression sets (a real
target): sine (1-D: noisy samples of sin πx on [-1, 1]) and saddle (2-D: x₁² − x₂² on [-1, 1]²),
whose noise-free function ``true_function`` gives, for drawing it beside the fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_PER_CLASS = 5


@dataclass(frozen=True)
class TargetScale:
    """How a regression target was standardised before training: the network fits
    y' = (y − ``mean``) / ``std``, where ``mean`` and ``std`` (population form, > 0) are those of
    the training split's targets, in the target's own units, and ``name`` is the target's name
    (a CSV file's label column)."""
    name: str
    mean: float
    std: float

    @property
    def label(self) -> str:
        """What the screen and the headless table call the target the network fits: ``price standardised``."""
        return f"{self.name} standardised"

    def to_units(self, y):
        """Standardised values ``y`` (a float or an array of any shape) in the target's units:
        ``mean + std·y``. A difference or an RMSE converts with ``std`` alone."""
        return self.mean + self.std * y


@dataclass(frozen=True)
class Dataset:
    """A train/test split. ``x_*``: (n, n_features) in the experiment's dtype. ``y_*``: (n,) int
    class labels in 0..n_classes-1, or for regression (``n_classes`` 0) the targets in the
    experiment's dtype. ``target_scale``: for a regression target that was standardised (a user's
    CSV), how (``y_*`` are then the standardised targets); None when the network fits the
    targets as they are (the built-in sets, which are already on a unit scale, and classification)."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    target_scale: TargetScale | None = None

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def regression(self) -> bool:
        return self.n_classes == 0


def _moons(n, noise, rng):
    n_top = n // 2
    t_top = rng.uniform(0, np.pi, n_top)
    t_bot = rng.uniform(0, np.pi, n - n_top)
    x = np.concatenate([
        np.column_stack([np.cos(t_top), np.sin(t_top)]),
        np.column_stack([1 - np.cos(t_bot), 0.5 - np.sin(t_bot)]),
    ])
    y = np.concatenate([np.zeros(n_top, int), np.ones(n - n_top, int)])
    return x + rng.normal(0, noise, x.shape), y


def _circles(n, noise, rng):
    y = rng.integers(0, 2, n)
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 1, 0.5, 1.0)
    x = np.column_stack([r * np.cos(t), r * np.sin(t)])
    # Circle gaps are 0.5 wide, so the same noise number is a harder problem than on moons.
    return x + rng.normal(0, noise * 0.5, x.shape), y


def _xor(n, noise, rng):
    x = rng.uniform(-1, 1, (n, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    return x + rng.normal(0, noise * 0.5, x.shape), y


def _spiral(n, noise, rng, classes=3):
    y = rng.integers(0, classes, n)
    r = rng.uniform(0.05, 1, n)
    t = y * (2 * np.pi / classes) + r * 4 + rng.normal(0, noise * 0.7, n)
    return np.column_stack([r * np.sin(t), r * np.cos(t)]), y


def _blobs(n, noise, rng, classes=3, features=2):
    # Centres on a fixed layout (not drawn) so that the problem is the same for every seed.
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = np.zeros((classes, features))
    centres[:, 0] = np.cos(angles)
    centres[:, 1 % features] += np.sin(angles)
    if features > 2:
        centres[:, 2:] = np.random.default_rng(classes * 1000 + features).normal(0, 1, (classes, features - 2))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(0, 0.35 + noise, (n, features)), y


# Regression: the noise number is the target noise's standard deviation, halved, so the default
# 0.3 gives the ~0.15 at which a 64-64 net fitting 40 points visibly chases the noise.
SINE_RANGE = (-1.0, 1.0)
SADDLE_RANGE = (-1.0, 1.0)


def _sine(n, noise, rng):
    x = rng.uniform(*SINE_RANGE, (n, 1))
    return x, np.sin(np.pi * x[:, 0]) + rng.normal(0, noise * 0.5, n)


def _saddle(n, noise, rng):
    x = rng.uniform(*SADDLE_RANGE, (n, 2))
    return x, x[:, 0] ** 2 - x[:, 1] ** 2 + rng.normal(0, noise * 0.5, n)


def true_function(name: str, x: np.ndarray) -> np.ndarray:
    """The noise-free target of regression set ``name`` at points ``x`` (n, n_features): (n,).
    Raises KeyError for a classification set."""
    if name == "sine":
        return np.sin(np.pi * x[:, 0])
    if name == "saddle":
        return x[:, 0] ** 2 - x[:, 1] ** 2
    raise KeyError(name)


_MAKERS = {"moons": _moons, "circles": _circles, "xor": _xor, "spiral": _spiral, "blobs": _blobs,
           "sine": _sine, "saddle": _saddle}
_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spiral": 3, "blobs": 3, "sine": 0, "saddle": 0}
DATASETS = tuple(_MAKERS)
REGRESSION_SETS = tuple(name for name, k in _CLASSES.items() if k == 0)
# Settings a dataset is shown with where they differ from the general defaults: the regression
# sets diverge at the classification default lr 0.3 (the inverted run's 1/p-scaled signal meets an
# unbounded output), and the sine fit over-fits visibly with few points.
PRESETS: dict[str, dict[str, float | int]] = {
    "sine": {"lr": 0.05, "train_size": 40, "test_size": 400},
    "saddle": {"lr": 0.05, "train_size": 100, "test_size": 1000},
    # A user's CSV: every row (0 = all; --train-size / --test-size subsample); a regression target
    # is shown at the regression sets' lr.
    "csv": {"train_size": 0, "test_size": 0},
    "csv regression": {"train_size": 0, "test_size": 0, "lr": 0.05},
}
CSV = "csv"  # the dataset name of a user's file (Config.data)


def presets(dataset: str, task: str = "classification") -> dict[str, float | int]:
    """The settings ``dataset`` is shown with where they differ from the general defaults."""
    if dataset == CSV and task == "regression":
        return PRESETS["csv regression"]
    return PRESETS.get(dataset, {})
MIN_REGRESSION = 10  # a fit needs a few points; the split needs at least this many


def n_classes(name: str) -> int:
    """The class count of a built-in dataset (0 for a regression set). Raises KeyError."""
    return _CLASSES[name]


def is_regression(name: str) -> bool:
    return _CLASSES.get(name) == 0


def min_size(name: str) -> int:
    """The fewest points a split of dataset ``name`` may have: a few per class."""
    k = _CLASSES.get(name, 2)
    return MIN_PER_CLASS * k if k else MIN_REGRESSION


def make_dataset(name: str, train_size: int, test_size: int, noise: float,
                 rng: np.random.Generator, dtype=np.float64, **shape) -> Dataset:
    """``train_size`` + ``test_size`` points of dataset ``name`` drawn from ``rng``, shuffled, then
    split: train and test come from one draw, so they share a distribution. ``noise`` is the
    standard deviation of the Gaussian noise in data units (scaled per dataset, see the makers).
    ``shape`` passes ``classes``/``features`` to blobs (the benchmark's 64-feature, 10-class
    problem). Raises KeyError for an unknown name (``Config.validate`` checks names first)."""
    maker = _MAKERS[name]
    # + 0.0 turns -0.0 (a valid noise of zero) into 0.0: NumPy refuses a scale whose sign bit is set.
    x, y = maker(train_size + test_size, noise + 0.0, rng, **shape)
    order = rng.permutation(len(y))
    x, y = x[order].astype(dtype), y[order]
    classes = shape.get("classes", _CLASSES[name])
    if classes == 0:
        y = y.astype(dtype)
    return Dataset(name, x[:train_size], y[:train_size], x[train_size:], y[train_size:], classes)
