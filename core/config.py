"""Experiment configuration: every option the CLI, the app and a recording share, and its validation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from .activations import ACTIVATIONS
from .data import DATASETS, min_size
from .optim import OPTIMIZERS

DTYPES = ("float64", "float32")
KEEP_PROB_MIN = 0.05  # the app's floor; below it almost every unit is dropped every step
# Upper bounds that keep a typo from asking NumPy for terabytes: far beyond what trains at
# interactive speed, well inside what fits in memory.
MAX_WIDTH = 4096
MAX_DEPTH = 16
MAX_POINTS = 1_000_000


class ConfigError(ValueError):
    """Bad option value. ``option`` is the CLI spelling, so the message can name it."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass(frozen=True)
class Config:
    # Defaults: the over-fitting setting of DESIGN §1 (moons, noise 0.3, 200 train / 1,000 test,
    # 2-64-64-1 ReLU, full-batch SGD lr 0.3, keep_prob 0.5), where the runs part within seconds.
    dataset: str = "moons"
    layers: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    keep_prob: float = 0.5
    input_keep_prob: float = 1.0
    lr: float = 0.3
    optimizer: str = "sgd"
    batch_size: int = 0
    l2: float = 0.0
    seed: int = 0
    train_size: int = 200
    test_size: int = 1000
    noise: float = 0.3
    # Snapshots cost about 20 training steps on the largest benchmark net; one per 100 steps keeps
    # the pair with metrics near half the single-run speed and still gives 10-20 points a second.
    eval_every: int = 100
    dtype: str = "float64"
    momentum: float = field(default=0.9, metadata={"cli": False})

    def validate(self) -> Config:
        _prob("--keep-prob", self.keep_prob)
        _prob("--input-keep-prob", self.input_keep_prob)
        if not _finite(self.lr) or self.lr <= 0:
            raise ConfigError("--lr", f"expected a finite number > 0, got {self.lr!r}")
        if not _finite(self.l2) or self.l2 < 0:
            raise ConfigError("--l2", f"expected a finite number >= 0, got {self.l2!r}")
        if not _finite(self.noise) or self.noise < 0:
            raise ConfigError("--noise", f"expected a finite number >= 0, got {self.noise!r}")
        if not self.layers or any(not _int(n) or n < 1 for n in self.layers):
            raise ConfigError("--layers", "expected positive integers separated by commas, e.g. 64,64")
        if len(self.layers) > MAX_DEPTH or max(self.layers) > MAX_WIDTH:
            raise ConfigError("--layers", f"expected at most {MAX_DEPTH} layers of at most {MAX_WIDTH} units")
        _choice("--dataset", self.dataset, DATASETS)
        _choice("--activation", self.activation, tuple(ACTIVATIONS))
        _choice("--optimizer", self.optimizer, OPTIMIZERS)
        _choice("--dtype", self.dtype, DTYPES)
        if not _int(self.seed) or self.seed < 0:
            raise ConfigError("--seed", f"expected an integer >= 0, got {self.seed!r}")
        smallest = min_size(self.dataset)
        for option, value in (("--train-size", self.train_size), ("--test-size", self.test_size)):
            if not _int(value) or not smallest <= value <= MAX_POINTS:
                raise ConfigError(
                    option, f"expected an integer from {smallest} to {MAX_POINTS:,} for dataset {self.dataset}, "
                            f"got {value!r}"
                )
        if not _int(self.batch_size) or not 0 <= self.batch_size <= self.train_size:
            raise ConfigError(
                "--batch-size",
                f"expected 0 (full batch) up to the train size {self.train_size}, got {self.batch_size!r}",
            )
        if not _int(self.eval_every) or self.eval_every < 1:
            raise ConfigError("--eval-every", f"expected an integer >= 1, got {self.eval_every!r}")
        return self

    def with_changes(self, **changes) -> Config:
        return replace(self, **changes).validate()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["layers"] = list(self.layers)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError("config", f"unknown field {unknown[0]!r}")
        values = dict(data)
        if "layers" in values:
            if not isinstance(values["layers"], (list, tuple)):
                raise ConfigError("--layers", "expected a list of positive integers")
            values["layers"] = tuple(values["layers"])
        return cls(**values).validate()

    @property
    def full_batch(self) -> bool:
        return self.batch_size in (0, self.train_size)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _prob(option: str, p) -> None:
    if not _finite(p) or not 0 < p <= 1:
        raise ConfigError(option, f"expected a number in (0, 1], got {p!r}")
    if not math.isfinite(1.0 / p):  # inverted dropout divides by p
        raise ConfigError(option, f"expected a number in (0, 1] with a finite 1/p, got {p!r}")


def _choice(option: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(option, f"expected one of {', '.join(allowed)}, got {value!r}")
