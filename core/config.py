"""Experiment configuration: every option the CLI, the app and a recording share, and its validation.

Each field of ``Config`` carries its command-line spelling, metavar, help and value kind in its
metadata, so the CLI's options are generated from this one list, and a value read from a file is
type-checked and validated by the same code as a value typed on the command line.
"""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from itertools import pairwise
from typing import Any

from .activations import ACTIVATIONS
from .data import CSV, DATASETS, is_regression, min_size, n_classes, presets
from .optim import OPTIMIZERS

DTYPES = ("float64", "float32")
TASKS = ("classification", "regression")
# Upper bounds that keep a typo from asking NumPy for terabytes: far beyond what trains at
# interactive speed. Whether a setting within them fits in this machine's memory is
# ``check_memory``'s question.
MAX_WIDTH = 4096
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32
MAX_DEPTH = 16
MAX_POINTS = 1_000_000
MC_MAX = 200  # the top of the Monte-Carlo ladder
# The most steps a session trains, and so the most a recording may ask a replay to train, counted
# over every reset and dataset change: about an hour at the default size on one core. A bound on
# the work a two-line file can ask for, and the upper bound of --steps.
MAX_STEPS = 10_000_000
# Data noise: the datasets span about 2 units, so at 1e6 the points are pure noise already; far
# beyond, the points' squares overflow float32 and the boundary map's extent (max - min) overflows.
MAX_NOISE = 1e6

# keep_prob: any value in (0, 1] whose reciprocal is finite is a valid experiment (inverted dropout
# divides by it). The keys step it by KEY_STEP / KEY_FINE_STEP and stop at KEY_FLOOR: below it almost
# every unit is dropped every step, which a key press should not reach by accident.
KEY_FLOOR = 0.05
KEY_STEP = 0.05
KEY_FINE_STEP = 0.01

KINDS = ("int", "float", "str", "layers")


class ConfigError(ValueError):
    """Bad option value. ``option`` is the CLI spelling, so the message can name it."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message

    def __reduce__(self):
        # Raised in a sweep's worker process, the error travels back pickled.
        return (type(self), (self.option, self.message))


def _opt(default: Any, kind: str, metavar: str, help: str) -> Any:
    """A dataclass field whose metadata says how the CLI spells, parses and explains it."""
    return field(default=default, metadata={"kind": kind, "metavar": metavar, "help": help})


@dataclass(frozen=True)
class Config:
    # Defaults: the over-fitting setting where the two runs part within seconds: moons with noise
    # 0.3, 200 training and 1,000 test points, a 2-64-64-1 ReLU net, full-batch SGD at lr 0.3,
    # keep_prob 0.5.
    dataset: str = _opt("moons", "str", "NAME", f"one of {', '.join(DATASETS)}")
    layers: tuple[int, ...] = _opt((64, 64), "layers", "N,N", "hidden layer sizes, e.g. 64,64")
    activation: str = _opt("relu", "str", "NAME", f"hidden activation: {', '.join(ACTIVATIONS)}")
    keep_prob: float = _opt(0.5, "float", "P", "probability of keeping a hidden unit, in (0, 1]")
    input_keep_prob: float = _opt(1.0, "float", "P",
                                  "probability of keeping an input feature, in (0, 1]; 1 = no input dropout")
    lr: float = _opt(0.3, "float", "X", "learning rate > 0")
    optimizer: str = _opt("sgd", "str", "NAME", f"{', '.join(OPTIMIZERS)}")
    momentum: float = _opt(0.9, "float", "MU", "momentum coefficient in [0, 1) for --optimizer momentum")
    batch_size: int = _opt(0, "int", "N", "minibatch size; 0 = full batch")
    l2: float = _opt(0.0, "float", "X", "L2 penalty l2/2·Σ‖W‖² over weight matrices")
    seed: int = _opt(0, "int", "N", "seed for data, initial weights, batch order and masks")
    train_size: int = _opt(200, "int", "N", "training points (few, so the network over-fits)")
    test_size: int = _opt(1000, "int", "N", "test points")
    noise: float = _opt(0.3, "float", "X", "data noise")
    # A user's data: --data FILE.csv (dataset "csv"; see core.csv_data for the format).
    data: str = _opt("", "str", "FILE", "a CSV file of your own: numeric features, then the label column")
    test_data: str = _opt("", "str", "FILE", "with --data: a CSV with the same columns to test on, instead of "
                                             "splitting the file")
    label: str = _opt("", "str", "NAME", "with --data: the label column's header name (default: the last column)")
    test_fraction: float = _opt(0.3, "float", "F", "with --data: the share of rows held out for testing, in (0, 1)")
    task: str = _opt("classification", "str", "NAME", "with --data: classification or regression (a numeric "
                                                      "label fitted with mean squared error)")
    # Snapshots cost about 20 training steps on the largest benchmark net; one per 100 steps keeps
    # the pair with metrics near half the single-run speed and still gives 10-20 points a second.
    eval_every: int = _opt(100, "int", "N", "steps between metrics snapshots")
    # Monte-Carlo dropout averages up to this many stochastic passes (the ladder 1, 2, 5, 10, 20,
    # 50, 100, 200 up to it); 200 reaches past the ~50 where averaging matches weight scaling.
    mc_max: int = _opt(200, "int", "T", "most Monte-Carlo dropout passes averaged, 1 to 200")
    dtype: str = _opt("float64", "str", "NAME", f"{', '.join(DTYPES)}")

    def validate(self) -> Config:
        """Check every field as the engine needs it; returns self. Raises ConfigError."""
        check_keep_prob(self.keep_prob, "--keep-prob")
        check_keep_prob(self.input_keep_prob, "--input-keep-prob")
        if not _finite(self.lr) or self.lr <= 0:
            raise ConfigError("--lr", f"expected a finite number > 0, got {self.lr!r}")
        if not _finite(self.momentum) or not 0 <= self.momentum < 1:
            raise ConfigError("--momentum", f"expected a number in [0, 1), got {self.momentum!r}")
        if not _finite(self.l2) or self.l2 < 0:
            raise ConfigError("--l2", f"expected a finite number >= 0, got {self.l2!r}")
        if not _finite(self.noise) or not 0 <= self.noise <= MAX_NOISE:
            raise ConfigError("--noise", f"expected a number from 0 to {MAX_NOISE:g}, got {self.noise!r}")
        if not isinstance(self.layers, tuple) or not self.layers or any(not _int(n) or n < 1 for n in self.layers):
            raise ConfigError("--layers", "expected positive integers separated by commas, e.g. 64,64")
        if len(self.layers) > MAX_DEPTH or max(self.layers) > MAX_WIDTH:
            raise ConfigError("--layers", f"expected at most {MAX_DEPTH} layers of at most {MAX_WIDTH} units")
        _choice("--dataset", self.dataset, (*DATASETS, CSV))
        _choice("--task", self.task, TASKS)
        for option, value in (("--data", self.data), ("--test-data", self.test_data), ("--label", self.label)):
            if not isinstance(value, str) or "\0" in value:
                raise ConfigError(option, f"expected a file or column name, got {value!r}")
        if self.dataset == CSV and not self.data:
            raise ConfigError("--dataset", "csv needs --data FILE.csv")
        if not self.data:
            for option, value in (("--test-data", self.test_data), ("--label", self.label)):
                if value:
                    raise ConfigError(option, "only with --data")
            if self.task != "classification":
                raise ConfigError("--task", "only with --data: the built-in sets know their task "
                                            "(sine and saddle are regression)")
        if not _finite(self.test_fraction) or not 0 < self.test_fraction < 1:
            raise ConfigError("--test-fraction", f"expected a number in (0, 1), got {self.test_fraction!r}")
        _choice("--activation", self.activation, tuple(ACTIVATIONS))
        _choice("--optimizer", self.optimizer, OPTIMIZERS)
        _choice("--dtype", self.dtype, DTYPES)
        if self.dtype == "float32":
            for option, p in (("--keep-prob", self.keep_prob), ("--input-keep-prob", self.input_keep_prob)):
                if 1.0 / p > FLOAT32_MAX:  # inverted dropout's 1/p would be inf in the layers
                    raise ConfigError(option, f"with --dtype float32, expected a number with 1/p below "
                                              f"{FLOAT32_MAX:.3g}, got {p!r}")
        if not _int(self.seed) or self.seed < 0:
            raise ConfigError("--seed", f"expected an integer >= 0, got {self.seed!r}")
        smallest = min_size(self.dataset)
        for option, size in (("--train-size", self.train_size), ("--test-size", self.test_size)):
            if self.dataset == CSV:  # 0 = every row of the file; more than it has is found on loading
                if not _int(size) or not 0 <= size <= MAX_POINTS:
                    raise ConfigError(option, f"expected 0 (every row) or a row count up to {MAX_POINTS:,}, "
                                              f"got {size!r}")
            elif not _int(size) or not smallest <= size <= MAX_POINTS:
                raise ConfigError(
                    option, f"expected an integer from {smallest} to {MAX_POINTS:,} for dataset {self.dataset}, "
                            f"got {size!r}"
                )
        if not _int(self.batch_size) or self.batch_size < 0 or (self.train_size and self.batch_size > self.train_size):
            raise ConfigError(
                "--batch-size",
                f"expected 0 (full batch) up to the train size {self.train_size}, got {self.batch_size!r}",
            )
        if not _int(self.eval_every) or not 1 <= self.eval_every <= MAX_STEPS:
            raise ConfigError("--eval-every", f"expected an integer from 1 to {MAX_STEPS:,}, got {self.eval_every!r}")
        if not _int(self.mc_max) or not 1 <= self.mc_max <= MC_MAX:
            raise ConfigError("--mc-max", f"expected an integer from 1 to {MC_MAX}, got {self.mc_max!r}")
        return self

    def with_changes(self, **changes: Any) -> Config:
        """A validated copy with ``changes`` applied. Raises ConfigError."""
        return replace(self, **changes).validate()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, ``layers`` as a list."""
        out = asdict(self)
        out["layers"] = list(self.layers)
        return out

    @classmethod
    def from_dict(cls, data: object) -> Config:
        """A validated Config from JSON-like data (a recording's header or event). Every value is
        type-checked by its field's kind before the same validation as the command line; missing
        fields take their defaults. Raises ConfigError naming the field's CLI spelling."""
        if not isinstance(data, dict):
            raise ConfigError("config", "expected an object")
        specs = {f.name: f for f in fields(cls)}
        unknown = sorted(k for k in data if k not in specs)
        if unknown:
            raise ConfigError("config", f"unknown field {unknown[0]!r}")
        values = {name: from_json(specs[name], value) for name, value in data.items()}
        return cls(**values).validate()

    @classmethod
    def for_dataset(cls, dataset: str = "moons", **given: Any) -> Config:
        """A validated Config for ``dataset``: the ``given`` values, else the dataset's preset
        (``core.data.PRESETS``), else the general default. Raises ConfigError."""
        task = given.get("task", "classification")
        return cls(**{**presets(dataset, task), **given, "dataset": dataset}).validate()

    def follow_dataset(self, dataset: str, **changes: Any) -> Config:
        """This config on ``dataset``: a value that is the current dataset's default (its preset or
        the general default) becomes the new dataset's; a value the user chose stays. Raises
        ConfigError."""
        general = {f.name: f.default for f in fields(self)}
        old, new = presets(self.dataset, self.task), presets(dataset, self.task)
        moved = {}
        for name in {*old, *new}:
            if getattr(self, name) == old.get(name, general[name]):
                moved[name] = new.get(name, general[name])
        return self.with_changes(**moved, **changes, dataset=dataset)

    @property
    def dataset_label(self) -> str:
        """What the screen calls the dataset: its name, or the user's file name."""
        return os.path.basename(self.data) if self.dataset == CSV else self.dataset

    @property
    def regression(self) -> bool:
        """Whether the network fits a number: a built-in regression set, or a CSV file with
        ``task`` regression."""
        return self.task == "regression" if self.dataset == CSV else is_regression(self.dataset)

    @property
    def full_batch(self) -> bool:
        """Every step sees every training point (a CSV's row count is known only once loaded:
        there, a batch size from 1 up trains in minibatches)."""
        return self.batch_size in (0, self.train_size)


def option_name(f: Field) -> str:
    """The command-line spelling of a Config field: ``keep_prob`` -> ``--keep-prob``."""
    return "--" + f.name.replace("_", "-")


def default_of(f: Field) -> Any:
    return None if f.default is MISSING else f.default


def from_json(f: Field, value: object) -> Any:
    """A field's value read from JSON, type-checked by its kind (range checks are ``validate``'s)."""
    kind, option = f.metadata["kind"], option_name(f)
    if kind == "int":
        if not _int(value):
            raise ConfigError(option, f"expected an integer, got {value!r}")
    elif kind == "float":
        if not _finite(value):
            raise ConfigError(option, f"expected a finite number, got {value!r}")
        value = float(value)  # type: ignore[arg-type]
    elif kind == "str":
        if not isinstance(value, str):
            raise ConfigError(option, f"expected a string, got {value!r}")
    elif kind == "layers":
        if not isinstance(value, (list, tuple)) or not all(_int(n) for n in value):
            raise ConfigError(option, f"expected a list of positive integers, got {value!r}")
        value = tuple(value)
    return value


def parse_text(f: Field, text: str) -> Any:
    """A field's value from command-line text, by its kind. Raises ConfigError."""
    kind, option = f.metadata["kind"], option_name(f)
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(option, f"expected an integer, got {text!r}") from None
    if kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(option, f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ConfigError(option, f"expected a finite number, got {text!r}")
        return value
    if kind == "layers":
        parts = [p.strip() for p in text.split(",")]
        if not all(p.isascii() and p.isdigit() and int(p) > 0 for p in parts):
            raise ConfigError(option, f"expected positive integers separated by commas (e.g. 64,64), got {text!r}")
        return tuple(int(p) for p in parts)
    return text


def check_keep_prob(p: object, option: str = "keep_prob") -> float:
    """``p`` as a float if it is a valid keep probability: finite, in (0, 1], with a finite 1/p
    (inverted dropout divides by it). Raises ConfigError naming ``option``."""
    if not _finite(p) or not 0 < p <= 1:  # type: ignore[operator]
        raise ConfigError(option, f"expected a number in (0, 1], got {p!r}")
    if not math.isfinite(1.0 / p):  # type: ignore[operator]
        raise ConfigError(option, f"expected a number in (0, 1] with a finite 1/p, got {p!r}")
    return float(p)  # type: ignore[arg-type]


def format_keep_prob(p: float) -> str:
    """keep_prob as text with enough digits for any accepted value: two decimals for the keys'
    0.01 grid (``0.50``, ``1.00``), otherwise four significant digits (``0.001``, ``0.1235``,
    ``1e-05``), so a value is never shown as a different one (0.001 as ``0.00``)."""
    if round(p, 2) == p:
        return f"{p:.2f}"
    return f"{p:.4g}"


def step_keep_prob(p: float, delta: float) -> float:
    """keep_prob after a key press of ``delta``: rounded to the key grid, within [KEY_FLOOR, 1], and
    never moved against the key's direction (from below the floor, ``-`` does nothing)."""
    new = round(min(1.0, max(KEY_FLOOR, p + delta)), 2)
    if (new - p) * delta < 0:
        return p
    return new


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _choice(option: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(option, f"expected one of {', '.join(allowed)}, got {value!r}")


# -- memory ------------------------------------------------------------------------------------------

# Optimiser state per parameter, in parameter-sized arrays: SGD's scratch buffer, plus the velocity
# (momentum) or both moment estimates (Adam).
_OPTIMIZER_ARRAYS = {"sgd": 1, "momentum": 2, "adam": 3}
# The options whose size the memory an experiment needs grows with, in the order a message names them.
SIZE_OPTIONS = ("layers", "train_size", "test_size", "batch_size")


def estimate_bytes(config: Config, *, grid_points: int = 0) -> int:
    """An ESTIMATE of the bytes the two runs of ``config`` allocate, from the buffers the engine
    makes and writes to: parameters with their gradients, weight scratch and optimiser state (two
    networks, and the one they are copied from); per run, a workspace of about ``rows × 4 · hidden
    units`` numbers for each batch size trained (activations before and after the mask, gradients,
    scratch) and ``rows × 2 · hidden units`` for each set a snapshot evaluates (train, statistics
    rows, test); dropout masks; the data. ``grid_points``: points of the app's decision-boundary
    maps, evaluated by both networks. Leaves out the interpreter, NumPy and the UI (tens of MB) and
    NumPy's temporaries. It errs high: for experiments of 0.7 to 3.4 GB the resident memory
    measured after a few steps and a snapshot was 55 to 90% of it. Does not validate ``config``."""
    from .metrics import STATS_ROWS

    item = 4 if config.dtype == "float32" else 8
    k = n_classes(config.dataset) if config.dataset in DATASETS else 2
    n_in, n_out = 2, 1 if k <= 2 else k  # a regression set (k = 0) has one output
    hidden = [int(w) for w in config.layers]
    widths = [n_in, *hidden, n_out]
    params = sum(fi * fo + fo for fi, fo in pairwise(widths))
    units = sum(hidden)
    n_train, n_test = int(config.train_size), int(config.test_size)
    batch = n_train if config.batch_size in (0, n_train) else min(int(config.batch_size), n_train)
    stats = min(STATS_ROWS, n_train)

    def workspace(rows: int, arrays: int) -> int:  # numbers of a core.network.Workspace that are written
        return rows * (arrays * units + n_in + 2 * n_out + 2)

    def masks(rows: int) -> int:  # bytes: a float32 draw and two mask arrays per dropout site
        return rows * (n_in + units) * (4 + 2 * item)

    numbers = params * (2 * (3 + _OPTIMIZER_ARRAYS.get(config.optimizer, 3)) + 3)
    batches = [batch] + ([n_train % batch] if batch and n_train % batch else [])
    numbers += 2 * sum(workspace(b, 4) for b in batches)
    numbers += 2 * (workspace(n_train, 2) + workspace(stats, 2) + workspace(n_test, 2)) + stats * units  # snapshots
    numbers += 2 * workspace(grid_points, 2)
    numbers += 2 * (n_train + n_test) * (n_in + n_out)  # data and targets
    return numbers * item + sum(masks(b) for b in batches) + masks(stats)


def available_memory() -> int | None:
    """Bytes this process may still allocate, or None when it cannot be told: the least of the
    kernel's MemAvailable (/proc/meminfo; elsewhere free pages from sysconf), the headroom under a
    cgroup v2 memory limit (containers) and under RLIMIT_AS (``ulimit -v``)."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (OSError, ValueError, AttributeError):
            pass
    headroom = _cgroup_headroom()
    if headroom is not None:
        found.append(headroom)
    headroom = _rlimit_headroom()
    if headroom is not None:
        found.append(headroom)
    return min(found) if found else None


def _cgroup_headroom() -> int | None:
    """limit - usage of this process's cgroup (v2) and its ancestors, the least; None without a limit."""
    try:
        with open("/proc/self/cgroup") as f:
            path = next((line.strip()[3:] for line in f if line.startswith("0::")), None)
    except OSError:
        return None
    if path is None:
        return None
    best = None
    parts = [p for p in path.split("/") if p]
    for depth in range(len(parts), -1, -1):
        base = os.path.join("/sys/fs/cgroup", *parts[:depth])
        try:
            with open(os.path.join(base, "memory.max")) as f:
                limit = f.read().strip()
            if limit == "max":
                continue
            with open(os.path.join(base, "memory.current")) as f:
                used = int(f.read().strip())
        except (OSError, ValueError):
            continue
        room = max(0, int(limit) - used)
        best = room if best is None else min(best, room)
    return best


def _rlimit_headroom() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        return max(0, soft - size)
    except (ImportError, OSError, ValueError, StopIteration):
        return None


def human_bytes(n: float) -> str:
    """``38 GB``, ``512 MB``: two or three significant digits, decimal units."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def check_memory(config: Config, *, grid_points: int = 0, available: int | None = None) -> None:
    """Refuse ``config`` when ``estimate_bytes`` says it needs more memory than is available
    (``available``: bytes, default ``available_memory()``; nothing is refused when that cannot be
    told). The message names the option that asks for most of it, with both numbers:
    ``--layers: this experiment needs about 38 GB; 21 GB are available``. Raises ConfigError."""
    need = estimate_bytes(config, grid_points=grid_points)
    if available is None:
        available = available_memory()
    if available is None or need <= available:
        return
    defaults = Config()
    # The option whose default would save the most: resetting it alone shows what it costs.
    saved = {name: need - estimate_bytes(replace(config, **{name: getattr(defaults, name)}), grid_points=grid_points)
             for name in SIZE_OPTIONS}
    name = max(SIZE_OPTIONS, key=lambda n: saved[n])
    raise ConfigError("--" + name.replace("_", "-"),
                      f"this experiment needs about {human_bytes(need)}; {human_bytes(available)} are available")
