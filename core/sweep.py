"""Sweeps: final test loss and accuracy against keep_prob, for every prediction rule, over seeds.

A sweep is a list of independent tasks, one per (keep_prob, input_keep_prob, seed). A task trains
one ``PairedExperiment`` for ``steps`` steps and returns the metrics of every prediction rule at a
few checkpoint steps (the last one is ``steps``). Tasks are pure: config in, numbers out, nothing
shared, so they run in any order on any number of processes or machines and give the same bits —
each task pins BLAS to one thread itself, because a multi-threaded BLAS may split a product's sums
differently (``core.replay.one_blas_thread``).

Where tasks run:

- ``run_task`` in this process;
- ``LocalPool``: a ``ProcessPoolExecutor`` of worker processes started by a fork server (spawn where
  there is none), never forked from this possibly threaded process; each worker pins BLAS to one
  thread and ignores SIGINT, SIGTERM and SIGHUP from its start (the parent decides when to stop and
  tells the workers; a worker exits by itself when the parent is gone);
- ``DaskPool``: Dask distributed, on a running scheduler (``tcp://host:port``) or a LocalCluster of
  worker processes with one thread each (the optional ``cluster`` extra).

``run_tasks`` drives any of them and hands each result over as it arrives; ``ResultsFile`` appends
each one to a JSON Lines file and reads a file back to resume a sweep. The summary over seeds is
``summarize``.

Prediction rules (``PREDICTION_RULES``) are read from the typed snapshot (``core.snapshot``) by one
function, ``rule_metrics``; a rule that the snapshot gains is one more entry in that table.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import re
import signal
import stat as file_stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from .config import Config, ConfigError, check_keep_prob, option_name
from .fileio import write_all
from .report import json_safe
from .snapshot import Snapshot

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: results files are not locked
    fcntl = None  # type: ignore[assignment]

FORMAT = "dropout-tui-sweep"
VERSION = 2  # 2: the stochastic rules, regression metrics
DEFAULT_STEPS = 3000
MAX_STEPS = 1_000_000  # a typo's guard: at ~1,000 paired steps a second, 1e6 is a quarter of an hour per task
DEFAULT_CHECKPOINTS = 5
MAX_CHECKPOINTS = 100
MAX_VALUES = 1000  # keep_probs (or seeds) in one sweep
MAX_RESULTS_BYTES = 1 << 30  # a results file read back whole to resume; a result line is a few kB
STOP_CHECK_STEPS = 100  # steps between a task's looks at a stop request
CONNECT_TIMEOUT_S = 5.0

# The Config fields a task sets itself; the rest of the config is the sweep's identity. eval_every is
# left out because a sweep takes metrics at its checkpoints only, so it changes no number.
TASK_FIELDS = ("keep_prob", "input_keep_prob", "seed")
IGNORED_FIELDS = ("eval_every",)


class SweepError(ValueError):
    """A bad sweep request, results file or cluster. ``str()`` is one line, naming the option."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option


class Stopped(Exception):
    """A task gave up because the sweep was asked to stop."""


# -- prediction rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionRule:
    """How a trained network predicts: which training run's weights, and where its test metrics
    are in the snapshot: flat run fields (``test_loss`` + ``suffix`` etc.) for a deterministic rule,
    or ``run["rules"][path...]`` for a rule computed only with ``snapshot(rules=True)`` — the
    stochastic ones, which a task takes at its last checkpoint only (``final_only``)."""
    name: str  # the key in results and JSON
    label: str  # tables and legends
    run: str  # "inverted" or "unrescaled": the training run whose weights predict
    meaning: str
    suffix: str = ""  # snapshot field suffix of a deterministic rule's test metrics
    path: tuple[str | int, ...] = ()  # into the run's ``rules``: a stochastic rule
    final_only: bool = False


# Dropout left on at prediction: one stochastic pass, masks as in training (the model.eval() that
# was forgotten). Monte-Carlo dropout (Gal & Ghahramani, ICML 2016, eq. 8): the predictions of T
# such passes averaged; T is the largest of the ladder up to the sweep's --mc-max, 50 by default,
# where Srivastava et al. (JMLR 2014, section 7.5) found the average matches weight scaling.
PREDICTION_RULES = (
    PredictionRule("inverted", "inverted", "inverted",
                   "trained with inverted dropout (kept units ÷ keep_prob); no dropout at prediction"),
    PredictionRule("unrescaled", "unrescaled", "unrescaled",
                   "trained with dropout and no rescale; no dropout at prediction"),
    # Weight scaling (Srivastava et al., JMLR 2014, section 1 and Fig. 2): the unrescaled run's
    # weights with each dropped layer's output multiplied by its keep probability at test time.
    PredictionRule("unrescaled_scaled", "unrescaled ×p", "unrescaled",
                   "trained with dropout and no rescale; each dropped layer's output ×keep_prob at prediction "
                   "(weight scaling)", suffix="_scaled"),
    PredictionRule("inverted_dropout_on", "inverted, dropout on", "inverted",
                   "trained with inverted dropout; dropout left on at prediction, one pass (masks ÷ keep_prob)",
                   path=("dropout_on",), final_only=True),
    PredictionRule("unrescaled_dropout_on", "unrescaled, dropout on", "unrescaled",
                   "trained with dropout and no rescale; dropout left on at prediction, one pass (bare masks)",
                   path=("dropout_on",), final_only=True),
    PredictionRule("inverted_mc", "inverted, MC", "inverted",
                   "trained with inverted dropout; Monte-Carlo dropout at prediction: T passes with dropout on, "
                   "predictions averaged", path=("mc_dropout", -1), final_only=True),
    PredictionRule("unrescaled_mc", "unrescaled, MC", "unrescaled",
                   "trained with dropout and no rescale; Monte-Carlo dropout at prediction: T passes with "
                   "dropout on, predictions averaged", path=("mc_dropout", -1), final_only=True),
)
RULE_NAMES = tuple(r.name for r in PREDICTION_RULES)
RULES = {r.name: r for r in PREDICTION_RULES}
CHECKPOINT_RULES = tuple(r.name for r in PREDICTION_RULES if not r.final_only)
DEFAULT_MC_MAX = 50

# The test metrics of a rule: classification or regression (mean squared error, R², output spread).
CLASSIFICATION_METRICS = ("test_loss", "test_acc", "test_confidence")
REGRESSION_METRICS = ("test_loss", "test_r2", "test_spread")
METRICS = tuple(dict.fromkeys(CLASSIFICATION_METRICS + REGRESSION_METRICS))


def metrics_of(regression: bool) -> tuple[str, ...]:
    return REGRESSION_METRICS if regression else CLASSIFICATION_METRICS


class RuleMetrics(TypedDict, total=False):
    """One prediction rule's test metrics at one step (nan for a value that is not finite):
    ``CLASSIFICATION_METRICS`` or ``REGRESSION_METRICS``, and ``diverged``."""
    test_loss: float
    test_acc: float
    test_confidence: float
    test_r2: float
    test_spread: float
    diverged: bool  # its training run's weights became non-finite


class Checkpoint(TypedDict):
    step: int
    rules: dict[str, RuleMetrics]


class TaskResult(TypedDict):
    """A finished task: its key, the metrics of every rule at the last step (``final``, the same as
    ``curve[-1]["rules"]``) and at every checkpoint (``curve``; the stochastic rules at the last
    one only)."""
    keep_prob: float
    input_keep_prob: float
    seed: int
    steps: int
    final: dict[str, RuleMetrics]
    curve: list[Checkpoint]


def mc_passes(mc_max: int) -> int:
    """T of the Monte-Carlo rules: the largest of the ladder (``core.prediction.MC_LADDER``) up to
    ``mc_max``. Raises ValueError outside 1..200."""
    from .prediction import mc_ladder

    return mc_ladder(mc_max)[-1]


def results_are_regression(results: Iterable[TaskResult]) -> bool:
    """Whether results are of a regression sweep (their metrics are MSE, R², spread)."""
    return any("test_r2" in m for r in results for m in r["final"].values())


def rule_metrics(snapshot: Snapshot) -> dict[str, RuleMetrics]:
    """The test metrics of every rule in ``PREDICTION_RULES`` that ``snapshot`` holds: the
    deterministic rules always, the stochastic ones when it was taken with ``rules=True``. Raises
    KeyError if the snapshot lacks a deterministic rule's fields."""
    out: dict[str, RuleMetrics] = {}
    for rule in PREDICTION_RULES:
        run: Any = snapshot["runs"][rule.run]
        names = metrics_of("test_r2" in run)
        if rule.path:
            source: Any = run.get("rules")
            if source is None:
                continue
            for step in rule.path:
                source = source[step]
            values = {m: float(source[m]) for m in names}
        else:
            values = {m: float(run[m + rule.suffix]) for m in names}
        out[rule.name] = {**values, "diverged": bool(run["diverged"])}  # type: ignore[typeddict-item]
    return out


# -- tasks -----------------------------------------------------------------------------------------

TaskKey = tuple[float, float, int]  # (keep_prob, input_keep_prob, seed)


@dataclass(frozen=True)
class Task:
    """One paired experiment to train: a complete, validated config, the steps to train and the
    steps at which to take the metrics (ascending, the last equal to ``steps``). ``data``: for a
    user's CSV, ``CsvSource.record()`` of the file(s) the sweep was started on — the text itself
    when small, so a worker on another machine needs no copy, else names and SHA-256 that the
    worker checks against ``config.data``/``config.test_data`` (a file changed mid-sweep is refused,
    not mixed into the results)."""
    config: Config
    steps: int
    checkpoints: tuple[int, ...]
    data: dict | None = None

    @property
    def key(self) -> TaskKey:
        c = self.config
        return (c.keep_prob, c.input_keep_prob, c.seed)


def checkpoint_steps(steps: int, n: int) -> tuple[int, ...]:
    """``n`` steps spread evenly up to ``steps`` (the last is ``steps``); fewer when steps < n."""
    n = max(1, min(n, steps))
    return tuple(sorted({round(steps * i / n) for i in range(1, n + 1)}))


def run_task(task: Task, should_stop: Callable[[], bool] | None = None,
             timings: dict[str, float] | None = None) -> TaskResult:
    """Train ``task``'s paired experiment to ``task.steps`` and take every rule's metrics at each
    checkpoint. Deterministic: the same task gives the same bits in any process (BLAS is pinned to
    one thread here). Raises Stopped if ``should_stop()`` becomes true (checked every
    ``STOP_CHECK_STEPS`` steps), MemoryError if the experiment does not fit. ``timings``, if given,
    gets the seconds spent training and checkpointing (``"train_s"``) and in the last checkpoint's
    stochastic rules (``"final_rules_s"``): kept out of the result, which must not depend on them."""
    from .experiment import PairedExperiment
    from .replay import one_blas_thread

    curve: list[Checkpoint] = []
    t0 = time.perf_counter()
    rules_s = 0.0
    with one_blas_thread():
        exp = PairedExperiment(task.config, source=task_source(task))
        for target in task.checkpoints:
            while exp.step < target:
                if should_stop is not None and should_stop():
                    raise Stopped()
                exp.advance(min(STOP_CHECK_STEPS, target - exp.step))
            last = exp.step == task.checkpoints[-1]
            if last:
                t1 = time.perf_counter()
                snapshot = exp.snapshot(rules=True)
                rules_s = time.perf_counter() - t1
            else:
                snapshot = exp.snapshot()
            curve.append({"step": exp.step, "rules": rule_metrics(snapshot)})
    if timings is not None:
        timings["train_s"] = time.perf_counter() - t0 - rules_s
        timings["final_rules_s"] = rules_s
    c = task.config
    return {"keep_prob": c.keep_prob, "input_keep_prob": c.input_keep_prob, "seed": c.seed,
            "steps": task.steps, "final": curve[-1]["rules"], "curve": curve}


def task_source(task: Task):
    """The CsvSource a task trains on (None for a built-in dataset). Raises CsvDataError for a file
    that is missing or no longer the one the sweep was started on."""
    if task.data is None:
        return None
    from .csv_data import CsvSource

    c = task.config
    return CsvSource.from_record(task.data, label=c.label or None, task=c.task, data_path=c.data or None,
                                 test_path=c.test_data or None)


def result_key(result: TaskResult) -> TaskKey:
    return (result["keep_prob"], result["input_keep_prob"], result["seed"])


# -- the sweep -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """Every task of a sweep: ``base``'s config with each keep_prob × input_keep_prob × seed.
    ``validate()`` raises SweepError/ConfigError."""
    base: Config
    keep_probs: tuple[float, ...]
    seeds: tuple[int, ...]
    input_keep_probs: tuple[float, ...] = (1.0,)
    steps: int = DEFAULT_STEPS
    checkpoints: int = DEFAULT_CHECKPOINTS
    data: dict | None = None  # a CSV dataset's CsvSource.record(), handed to every task

    def validate(self) -> SweepSpec:
        if not self.keep_probs:
            raise SweepError("--keep-probs", "expected at least one keep_prob")
        for p in self.keep_probs:
            check_keep_prob(p, "--keep-probs")
        if not self.input_keep_probs:
            raise SweepError("--input-keep-probs", "expected at least one keep_prob")
        for p in self.input_keep_probs:
            check_keep_prob(p, "--input-keep-probs")
        if not self.seeds:
            raise SweepError("--seeds", "expected at least one seed")
        if any(not _int(s) or s < 0 for s in self.seeds):
            raise SweepError("--seeds", f"expected integers >= 0, got {list(self.seeds)!r}")
        if not _int(self.steps) or not 1 <= self.steps <= MAX_STEPS:
            raise SweepError("--steps", f"expected an integer from 1 to {MAX_STEPS:,}, got {self.steps!r}")
        if not _int(self.checkpoints) or not 1 <= self.checkpoints <= MAX_CHECKPOINTS:
            raise SweepError("--checkpoints",
                             f"expected an integer from 1 to {MAX_CHECKPOINTS}, got {self.checkpoints!r}")
        self.base.validate()
        return self

    @property
    def checkpoint_steps(self) -> tuple[int, ...]:
        return checkpoint_steps(self.steps, self.checkpoints)

    def tasks(self) -> list[Task]:
        """Every task, seed-major: every keep_prob (× input keep_prob) of the first seed, then of
        the next, so a sweep's first results already span the whole keep_prob axis. Raises
        ConfigError if a combination is invalid."""
        steps = self.checkpoint_steps
        base = self.base.with_changes(eval_every=Config().eval_every)
        return [Task(base.with_changes(keep_prob=p, input_keep_prob=q, seed=s), self.steps, steps, self.data)
                for s in self.seeds for p in self.keep_probs for q in self.input_keep_probs]

    def identity(self) -> dict[str, Any]:
        """What a results file must share with this sweep for its results to belong to it."""
        config = self.base.to_dict()
        for name in TASK_FIELDS + IGNORED_FIELDS:
            config.pop(name)
        identity: dict[str, Any] = {"config": config, "steps": self.steps,
                                    "checkpoints": list(self.checkpoint_steps)}
        if self.data is not None:
            # The file's content, not only its name, decides whether results belong together.
            identity["data_sha256"] = {part: None if entry is None else entry["sha256"]
                                       for part, entry in self.data.items()}
        return identity


def _int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


# -- parsing the command line's lists ---------------------------------------------------------------

_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"


def parse_keep_probs(text: str, option: str = "--keep-probs") -> tuple[float, ...]:
    """keep_probs from ``0.3,0.5,0.8`` (a list, in any order, no repeats) or ``START:STOP:STEP``
    (an inclusive range: 0.1:1.0:0.1 is 0.1, 0.2, …, 1.0; values are rounded to 12 decimals, so
    they are the floats of their decimal spellings). Returned ascending. Every value is checked by
    ``check_keep_prob``. Raises ConfigError naming ``option``."""
    text = text.strip()
    if not text:
        raise ConfigError(option, "expected a list (0.3,0.5,0.8) or a range (0.1:1.0:0.1), got nothing")
    if ":" in text:
        values = _range(text, option)
    else:
        values = [_float(part, option) for part in text.split(",")]
    if len(values) > MAX_VALUES:
        raise ConfigError(option, f"expected at most {MAX_VALUES} values, got {len(values)}")
    seen: set[float] = set()
    for v in values:
        check_keep_prob(v, option)
        if v in seen:
            raise ConfigError(option, f"{v:g} is given twice")
        seen.add(v)
    return tuple(sorted(values))


def _float(text: str, option: str) -> float:
    text = text.strip()
    if not re.fullmatch(_NUMBER, text):
        raise ConfigError(option, f"expected a number, got {text!r}")
    return float(text)


def _range(text: str, option: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != 3:
        raise ConfigError(option, f"expected a range START:STOP:STEP such as 0.1:1.0:0.1, got {text!r}")
    start, stop, step = (_float(p, option) for p in parts)
    if step <= 0:
        raise ConfigError(option, f"expected a step > 0 in {text!r}")
    if stop < start:
        raise ConfigError(option, f"expected START <= STOP in {text!r}")
    # Count the steps with a little slack, so 0.1:1.0:0.1 ends at 1.0 although 0.9 / 0.1 < 9 in
    # binary floating point; then round each value to its decimal spelling.
    n = math.floor((stop - start) / step + 1e-9)
    if n + 1 > MAX_VALUES:
        raise ConfigError(option, f"expected at most {MAX_VALUES} values, got {n + 1}")
    return [round(start + i * step, 12) for i in range(n + 1)]


def parse_seeds(text: str, option: str = "--seeds") -> tuple[int, ...]:
    """Seeds from ``N`` (the first N: 0..N-1) or a list ``3,7,9`` (a single seed: ``7,``).
    Raises ConfigError naming ``option``."""
    text = text.strip()
    parts = [p.strip() for p in text.split(",")]
    if "," in text:
        if parts and parts[-1] == "":
            parts.pop()  # "7," is the one seed 7
        if not parts or not all(p.isascii() and p.isdigit() for p in parts):
            raise ConfigError(option, f"expected seeds >= 0 separated by commas, got {text!r}")
        seeds = [int(p) for p in parts]
        if len(set(seeds)) != len(seeds):
            raise ConfigError(option, f"a seed is given twice in {text!r}")
    else:
        if not (text.isascii() and text.isdigit()):
            raise ConfigError(option, f"expected a number of seeds or a list such as 3,7,9, got {text!r}")
        n = int(text)
        if n < 1:
            raise ConfigError(option, "expected at least one seed, got 0")
        if n > MAX_VALUES:  # before making a list of them
            raise ConfigError(option, f"expected at most {MAX_VALUES} seeds, got {n}")
        seeds = list(range(n))
    if len(seeds) > MAX_VALUES:
        raise ConfigError(option, f"expected at most {MAX_VALUES} seeds, got {len(seeds)}")
    return tuple(seeds)


def default_workers() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, which a
    container's CPU limit sets), else the machine's core count."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count is not None:
        return count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# -- running tasks ---------------------------------------------------------------------------------


class Pool(Protocol):
    """Where tasks run. ``submit`` returns a handle; ``wait`` returns (done, pending) within about
    ``timeout`` seconds; ``result`` a done handle's result (or raises the task's exception)."""

    def submit(self, task: Task) -> Any: ...

    def wait(self, handles: set, timeout: float) -> tuple[set, set]: ...

    def result(self, handle: Any) -> TaskResult: ...

    def cancel(self, handles: Iterable) -> None: ...

    def close(self) -> None: ...


class InProcess:
    """Runs each task in this process, at submission (for tests and ``--workers 1`` comparisons)."""

    def __init__(self):
        self._stop = False

    def submit(self, task: Task) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(run_task(task, lambda: self._stop))
        except Exception as exc:  # noqa: BLE001 - handed over as a pool would: raised by result()
            future.set_exception(exc)
        return future

    def wait(self, handles: set, timeout: float) -> tuple[set, set]:
        return set(handles), set()

    def result(self, handle: cf.Future) -> TaskResult:
        return handle.result()

    def cancel(self, handles: Iterable) -> None:
        self._stop = True

    def close(self) -> None:
        pass


_worker_stop: Any = None  # the pool's stop event, in a worker process

# What a terminal or a shell sends the whole foreground process group: Ctrl+C, a closed terminal,
# ``kill -TERM -- -PGID`` (and ``timeout``). The sweep process handles them and stops its workers
# itself; its helper processes must not die of them.
GROUP_SIGNALS: tuple[int, ...] = tuple(
    s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
    if s is not None)


class group_signals_blocked:
    """``with group_signals_blocked(): start processes``: ``GROUP_SIGNALS`` are held back in this
    thread meanwhile (one that comes is handled after, by this process's handlers). A process or
    thread started inside inherits the blocked mask, so a helper (fork server, resource tracker,
    pool worker, Dask worker) cannot die of a Ctrl+C while it is still importing, before it could
    set its own handlers. Nothing happens where there is no ``pthread_sigmask`` (Windows)."""

    def __enter__(self) -> None:
        self._old = None
        if hasattr(signal, "pthread_sigmask"):
            self._old = signal.pthread_sigmask(signal.SIG_BLOCK, GROUP_SIGNALS)

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (if it is not running) with ``GROUP_SIGNALS``
    blocked. On its own, before any other helper: starting it blocks SIGINT and SIGTERM and then
    UNblocks them in the calling thread, rather than putting the mask back, so a helper started
    after it in the same ``group_signals_blocked`` would be born without them blocked. Every
    process a pool starts (fork server, workers, Dask's) asks for the tracker."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no tracker, no masks
        return
    from multiprocessing import resource_tracker

    with group_signals_blocked():
        resource_tracker.ensure_running()


def _init_worker(stop_event: Any, parent_alive: Any = None) -> None:
    """Runs first in every worker process: the parent handles Ctrl+C, SIGTERM and a closed
    terminal (and sets ``stop_event`` to stop the tasks), so a worker ignores them rather than
    dying with a traceback, or leaving the pool broken while the parent winds down; BLAS gets one
    thread, as the pool has one process per core.

    ``parent_alive``: the read end of a pipe only the parent writes to. When the parent closes it
    (a pool whose workers must go) or dies (even by SIGKILL), the worker exits at once: it ignores
    SIGTERM, and it would otherwise wait for work forever."""
    global _worker_stop
    for sig in GROUP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # born with them blocked (group_signals_blocked): ignored now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, GROUP_SIGNALS)
    _worker_stop = stop_event
    if parent_alive is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_alive,), name="parent-watch", daemon=True).start()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _exit_with_parent(parent_alive: Any) -> None:
    from multiprocessing.connection import wait

    wait([parent_alive])  # EOF: the parent closed its end or is gone
    os._exit(1)


def _run_in_worker(task: Task) -> TaskResult:
    stop = _worker_stop
    return run_task(task, None if stop is None else stop.is_set)


def start_method() -> str:
    """``forkserver`` where the OS has it (Linux, BSD, macOS), else ``spawn``: a worker is never
    forked from this process, which may run threads (a UI, BLAS) whose locks a fork would copy."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class LocalPool:
    """``workers`` processes on this machine (``concurrent.futures.ProcessPoolExecutor``).

    The fork server preloads nothing, so it stays a plain single-threaded Python that forks
    workers; they import numpy themselves. ``cancel`` drops the tasks not yet started and tells the
    running ones to stop (at their next ``STOP_CHECK_STEPS``); ``close`` waits for the workers to
    exit. Raises SweepError for ``workers`` < 1.

    Signals: the fork server, the resource tracker and the workers start with ``GROUP_SIGNALS``
    blocked and the workers then ignore them, so a Ctrl+C, SIGTERM or SIGHUP sent to the whole
    process group stops the sweep through this process alone (which sets the stop event). A worker
    exits when this process closes the pool or dies (``_init_worker``)."""

    def __init__(self, workers: int):
        if not _int(workers) or workers < 1:
            raise SweepError("--workers", f"expected an integer >= 1, got {workers!r}")
        context = multiprocessing.get_context(start_method())
        self.workers = workers
        _start_resource_tracker()
        with group_signals_blocked():
            if context.get_start_method() == "forkserver":
                # The default preloads __main__, which for the dropout-tui script imports numpy, and
                # OpenBLAS starts threads on import: the server would then fork a threaded process.
                context.set_forkserver_preload([])  # type: ignore[attr-defined]
                from multiprocessing import forkserver

                forkserver.ensure_running()  # now, while the signals are blocked
            self._stop = context.Event()
            # Workers hold only the read end: it reaches EOF when this process closes the write end
            # or dies, whoever else (the fork server, other workers) is still alive.
            self._alive_r, self._alive_w = context.Pipe(duplex=False)
            self._alive_lock = threading.Lock()
            self._executor = cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                                    initargs=(self._stop, self._alive_r))

    def submit(self, task: Task) -> cf.Future:
        return self.submit_call(_run_in_worker, task)

    def submit_call(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Run any picklable ``fn(*args)`` in a worker (the benchmark times tasks there)."""
        with group_signals_blocked():  # a worker started here is born with them blocked, too
            future = self._executor.submit(fn, *args)
        future.add_done_callback(self._on_done)
        return future

    def _on_done(self, future: cf.Future) -> None:
        # A worker died: the executor fails every future, then terminates the other workers with
        # SIGTERM and waits for them. They ignore SIGTERM, so they are told to exit here, or that
        # wait (and ``close``) would never end.
        if not future.cancelled() and isinstance(future.exception(), cf.process.BrokenProcessPool):
            self._release_workers()

    def wait(self, handles: set, timeout: float) -> tuple[set, set]:
        done, pending = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def result(self, handle: cf.Future) -> TaskResult:
        try:
            return handle.result()
        except cf.process.BrokenProcessPool:
            raise SweepError("--workers", "a worker process died (out of memory, or killed)") from None

    def cancel(self, handles: Iterable) -> None:
        self._stop.set()
        for h in handles:
            h.cancel()

    def close(self) -> None:
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        finally:
            self._release_workers()
            self._alive_r.close()

    def _release_workers(self) -> None:
        """Every worker exits at once (``_init_worker``)."""
        with self._alive_lock:  # the executor's thread may call this too; an fd is closed once
            if not self._alive_w.closed:
                self._alive_w.close()


_ADDRESS = re.compile(r"(tcp|tls|ws|wss|inproc|ucx)://[^\s/]+")


def check_scheduler(address: str) -> str:
    """``local`` or a Dask scheduler address such as ``tcp://host:8786``. Raises SweepError."""
    if address == "local" or _ADDRESS.fullmatch(address):
        return address
    raise SweepError("--scheduler", f"expected 'local' or an address such as tcp://host:8786, got {address!r}")


class DaskPool:
    """Tasks on Dask distributed: ``address`` ``local`` starts a LocalCluster of ``workers``
    processes with one thread each (torn down by ``close``); otherwise connects to the scheduler at
    ``address`` within ``connect_timeout`` seconds. Its workers need dropout-tui installed.
    Raises SweepError when Dask is not installed or the scheduler cannot be reached.

    ``cancel`` drops tasks not yet started; a remote task already running finishes on its worker
    and its result is discarded (a LocalCluster's workers are stopped by ``close``)."""

    def __init__(self, address: str, workers: int | None = None, connect_timeout: float = CONNECT_TIMEOUT_S):
        check_scheduler(address)
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError("--scheduler", "needs Dask distributed: pip install 'dropout-tui[cluster]'") from None
        self._cluster = None
        self.address = address
        # Every thread Dask starts here (its event loop, which starts the LocalCluster's worker
        # processes) inherits the blocked signals, and so do those processes: a Ctrl+C to the
        # process group reaches this process alone, which closes the cluster, instead of every
        # Dask worker printing a KeyboardInterrupt traceback. They exit when this process is gone
        # (Dask watches for that itself) or closes the cluster (stop message, then SIGKILL).
        _start_resource_tracker()
        with group_signals_blocked():
            if address == "local":
                import dask

                n = workers or default_workers()
                # dashboard_address=None: the dashboard needs bokeh and a free port; a sweep needs neither.
                # A task is thousands of small NumPy calls holding the GIL; every wake-up of a
                # worker's other threads takes it away. The statistical profiler (a stack sample every
                # 10 ms, for the dashboard) is off, and the event-loop tick (20 ms) and memory monitor
                # (100 ms) run once a second: measured on a busy 2-core machine, a task ran 1.5-2.5×
                # slower than in the local pool with Dask's defaults, about 1.2× with these. The
                # workers read this configuration when the cluster starts them.
                # silence_logs=CRITICAL, in this process and the workers: stopping, a worker whose
                # heartbeat finds the scheduler already gone logs an ERROR with a traceback (seen
                # after a Ctrl+C on a loaded machine). What goes wrong with a task reaches the sweep
                # through its result, and the sweep says it in one line.
                with dask.config.set({"distributed.worker.profile.enabled": False,
                                      "distributed.admin.tick.interval": "1s",
                                      "distributed.worker.memory.monitor-interval": "1s"}):
                    self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=logging.CRITICAL)
                self.client = Client(self._cluster, timeout=connect_timeout)
                self.workers = n
            else:
                try:
                    self.client = Client(address, timeout=connect_timeout)
                except (OSError, TimeoutError) as exc:
                    raise SweepError("--scheduler", f"cannot reach {address} within {connect_timeout:g} s "
                                                    f"({type(exc).__name__})") from None
                except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: another service read a garbage frame length
                    raise SweepError("--scheduler", f"{address} did not answer as a Dask scheduler "
                                                    f"({type(exc).__name__})") from None
                self.workers = len(self.client.scheduler_info().get("workers", {}))

    def submit(self, task: Task) -> Any:
        # pure=False: every submission runs, even of a task submitted before (e.g. after a cancel).
        return self.client.submit(run_task, task, pure=False, retries=0)

    def wait(self, handles: set, timeout: float) -> tuple[set, set]:
        from distributed import wait

        try:
            wait(list(handles), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        done = {h for h in handles if h.done()}
        return done, set(handles) - done

    def result(self, handle: Any) -> TaskResult:
        return handle.result()

    def cancel(self, handles: Iterable) -> None:
        handles = list(handles)
        if handles:
            self.client.cancel(handles)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def run_tasks(pool: Pool, tasks: Sequence[Task], on_result: Callable[[Task, TaskResult], None],
              should_stop: Callable[[], bool] | None = None, poll_s: float = 0.2) -> bool:
    """Submit every task to ``pool`` and call ``on_result(task, result)`` in this thread as each
    finishes, in whatever order they finish. ``should_stop()`` is looked at every ``poll_s``
    seconds: when true, tasks not yet finished are cancelled and this returns False (True when all
    finished). A task's exception is raised here, after the others are cancelled."""
    if should_stop is not None and should_stop():  # asked while the pool was starting
        return False
    order = {id(task): i for i, task in enumerate(tasks)}
    handles = {pool.submit(task): task for task in tasks}
    pending = set(handles)
    try:
        while pending:
            done, pending = pool.wait(pending, poll_s)
            # The pool reports a batch in no particular order; handing it over in task order makes
            # the order of a results file depend on timing only, never on set iteration.
            for handle in sorted(done, key=lambda h: order[id(handles[h])]):
                on_result(handles[handle], pool.result(handle))
            # Looked at after the hand-over: work that has finished is kept, even when stopping.
            if pending and should_stop is not None and should_stop():
                return False
        return True
    finally:
        if pending:
            pool.cancel(pending)


# -- results files ---------------------------------------------------------------------------------


class ResultsFile:
    """A sweep's results as JSON Lines: a header with the sweep's identity (config without the
    task fields, steps, checkpoint steps), then one ``TaskResult`` per line, appended as each task
    finishes, in one ``write`` each, so a killed sweep leaves at most its last line incomplete.

    ``ResultsFile.open(path, spec)`` creates the file, or reads an existing one: its finished
    results are ``done`` (keyed by ``result_key``), a cut-off last line is dropped
    (``dropped_partial``), and a file made with a different configuration is refused naming the
    first difference. The file is locked while open, so two sweeps cannot append to it at once.
    Raises SweepError (option ``--out``) or OSError."""

    def __init__(self, path: str, fd: int, done: dict[TaskKey, TaskResult], dropped_partial: bool):
        self.path = path
        self._fd = fd
        self.done = done
        self.dropped_partial = dropped_partial
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | os.PathLike, spec: SweepSpec) -> ResultsFile:
        path = os.fspath(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            st = os.fstat(fd)
            if not file_stat.S_ISREG(st.st_mode):  # a device or a pipe: nothing to resume, no end to its bytes
                raise SweepError("--out", f"{path} is not a regular file")
            if st.st_size > MAX_RESULTS_BYTES:
                raise SweepError("--out", f"{path} is {st.st_size:,} bytes, more than a results file holds "
                                          f"(at most {MAX_RESULTS_BYTES:,})")
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SweepError("--out", f"{path} is in use by another sweep") from None
            data = _read_all(fd)
            identity = spec.identity()
            if not data:
                write_all(fd, _line({"type": "header", "format": FORMAT, "version": VERSION, **identity,
                                     "rules": {r.name: r.meaning for r in PREDICTION_RULES}}))
                return cls(path, fd, {}, False)
            done, keep = _parse_results(path, data, identity)
            if keep < len(data):
                os.ftruncate(fd, keep)  # the last line was cut off: the next result starts cleanly
            return cls(path, fd, done, keep < len(data))
        except BaseException:
            os.close(fd)
            raise

    def append(self, result: TaskResult) -> None:
        """One result line, written whole. Raises OSError."""
        with self._lock:
            write_all(self._fd, _line({"type": "result", **result}))
            self.done[result_key(result)] = result

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def _line(obj: dict) -> bytes:
    return (json.dumps(json_safe(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode()


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse_results(path: str, data: bytes, identity: dict) -> tuple[dict[TaskKey, TaskResult], int]:
    """Finished results of a results file's bytes, and how many bytes end with a complete line."""
    keep = data.rfind(b"\n") + 1
    lines = data[:keep].split(b"\n")[:-1]
    if not lines:
        raise SweepError("--out", f"{path}: not a dropout-tui sweep results file (no complete first line)")
    header = _json_line(path, lines[0], 1)
    if header.get("type") != "header" or header.get("format") != FORMAT:
        raise SweepError("--out", f"{path}: not a dropout-tui sweep results file")
    version = header.get("version")
    if version != VERSION:
        why = (" (made before the dropout-on and Monte-Carlo rules, which its results lack)" if version == 1
               else "")
        shown = version if _int(version) else "unknown"
        raise SweepError("--out", f"{path}: sweep file version {shown}{why}; this dropout-tui reads version "
                                  f"{VERSION} (give another --out file)")
    difference = _difference(header, identity)
    if difference:
        raise SweepError("--out", f"{path} holds another sweep: it was made with {difference}; "
                                  "give the same options or another --out file")
    done: dict[TaskKey, TaskResult] = {}
    for number, raw in enumerate(lines[1:], start=2):
        if raw.strip():
            result = _result_from_json(path, _json_line(path, raw, number), number)
            done[result_key(result)] = result
    return done, keep


def _json_line(path: str, raw: bytes, number: int) -> dict:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SweepError("--out", f"{path}: line {number} is not JSON") from None
    if not isinstance(obj, dict):
        raise SweepError("--out", f"{path}: line {number} is not a JSON object")
    return obj


def _difference(header: dict, identity: dict) -> str | None:
    """The first difference between a file's identity and this sweep's, as option spellings."""
    from dataclasses import fields

    names = {f.name: f for f in fields(Config)}
    theirs, ours = header.get("config"), identity["config"]
    if not isinstance(theirs, dict):
        return "no configuration"
    for name in sorted(set(theirs) | set(ours), key=lambda n: list(names).index(n) if n in names else 99):
        # A field added since the file was made (--data, --mc-max...) counts as its default there.
        default = names[name].default if name in names else None
        a, b = theirs.get(name, default), ours.get(name)
        if a != b:
            spelling = option_name(names[name]) if name in names else name
            return f"{spelling} {_shown(a)}, not {_shown(b)}"
    theirs_data, ours_data = header.get("data_sha256"), identity.get("data_sha256")
    if theirs_data != ours_data:
        def shown(hashes):
            return "no CSV file" if not isinstance(hashes, dict) else \
                ", ".join(f"{k} SHA-256 {str(v)[:12]}…" for k, v in hashes.items() if v)
        return f"other data ({shown(theirs_data)}, not {shown(ours_data)})"
    if header.get("steps") != identity["steps"]:
        return f"--steps {header.get('steps')}, not {identity['steps']}"
    if header.get("checkpoints") != identity["checkpoints"]:
        return f"checkpoints at steps {header.get('checkpoints')}, not {identity['checkpoints']} (--checkpoints)"
    rules = list(header.get("rules") or {})
    if rules != list(RULE_NAMES):
        return f"the prediction rules {','.join(rules) or '(none)'}, not {','.join(RULE_NAMES)} (another version)"
    return None


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _number(x: object) -> float:
    if x is None:
        return math.nan  # JSON has no nan/inf: a non-finite value was written as null
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError
    return float(x)


def _rules_from_json(obj: object, final: bool) -> dict[str, RuleMetrics]:
    """One checkpoint's rules: every rule at the last (``final``), the deterministic ones before it;
    every rule with the same metrics, of classification or of regression."""
    if not isinstance(obj, dict):
        raise TypeError
    out: dict[str, RuleMetrics] = {}
    names = metrics_of(any(isinstance(m, dict) and "test_r2" in m for m in obj.values()))
    for name in RULE_NAMES if final else CHECKPOINT_RULES:
        m = obj[name]
        if not isinstance(m["diverged"], bool):
            raise TypeError
        out[name] = {**{k: _number(m[k]) for k in names}, "diverged": m["diverged"]}  # type: ignore[typeddict-item]
    return out


def _result_from_json(path: str, obj: dict, number: int) -> TaskResult:
    try:
        if obj["type"] != "result":
            raise TypeError
        keep_prob = check_keep_prob(obj["keep_prob"])
        input_keep_prob = check_keep_prob(obj["input_keep_prob"])
        seed, steps = obj["seed"], obj["steps"]
        if not _int(seed) or not _int(steps) or not isinstance(obj["curve"], list) or not obj["curve"]:
            raise TypeError
        raw = obj["curve"]
        curve: list[Checkpoint] = [{"step": c["step"], "rules": _rules_from_json(c["rules"], i == len(raw) - 1)}
                                   for i, c in enumerate(raw)]
        if any(not _int(c["step"]) for c in curve):
            raise TypeError
        return {"keep_prob": keep_prob, "input_keep_prob": input_keep_prob, "seed": seed, "steps": steps,
                "final": _rules_from_json(obj["final"], True), "curve": curve}
    except (KeyError, TypeError, ValueError):
        raise SweepError("--out", f"{path}: line {number} is not a sweep result") from None


# -- summaries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    """One metric of one rule at one point (keep_prob, input_keep_prob) over its seeds: ``n``
    results, ``n_finite`` of them finite, and the mean, sample standard deviation (nan for one
    value), min and max of the finite ones (nan when there are none); ``diverged`` counts the
    seeds whose training run diverged."""
    n: int
    n_finite: int
    mean: float
    std: float
    min: float
    max: float
    diverged: int


# Below this size, squares of differences and their sum over any sweep's seeds stay finite.
_NO_OVERFLOW = 2.0 ** 480


def stat(values: Sequence[float], diverged: int = 0) -> Stat:
    """The Stat of ``values`` (see ``Stat``). Values of any finite size: an exploding run's loss of
    1e196 must not overflow the squares, so values that large are summed divided by the largest."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return Stat(len(values), 0, math.nan, math.nan, math.nan, math.nan, diverged)
    largest = max(abs(v) for v in finite)
    # Only where the squares could overflow: scaling tiny values would round twice (once scaled,
    # once back into the subnormal range), so ordinary values take the plain formulas. The scale is
    # a power of two, so dividing and multiplying back are exact for values this large.
    scale = math.ldexp(1.0, math.frexp(largest)[1] - 1) if largest > _NO_OVERFLOW else 1.0
    scaled = [v / scale for v in finite]
    mean_s = math.fsum(scaled) / len(scaled)
    std_s = (math.sqrt(math.fsum((v - mean_s) ** 2 for v in scaled) / (len(scaled) - 1))
             if len(scaled) > 1 else math.nan)
    # A float product past the largest float is inf, not an error.
    mean = mean_s * scale
    return Stat(len(values), len(finite), mean, std_s * scale, min(finite), max(finite), diverged)


Point = tuple[float, float]  # (keep_prob, input_keep_prob)


def summarize(results: Iterable[TaskResult], metric: str) -> dict[Point, dict[str, Stat]]:
    """``metric`` (one of ``METRICS``) of every rule at every point, over the seeds there, from the
    final metrics (nan where the results lack that metric: accuracy of a regression sweep). Points
    in ascending order; every rule present at every point."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    by_point: dict[Point, list[TaskResult]] = {}
    for r in results:
        by_point.setdefault((r["keep_prob"], r["input_keep_prob"]), []).append(r)
    out: dict[Point, dict[str, Stat]] = {}
    for point in sorted(by_point):
        rs = by_point[point]
        out[point] = {rule: stat([r["final"][rule].get(metric, math.nan) for r in rs],  # type: ignore[misc]
                                 sum(r["final"][rule]["diverged"] for r in rs))
                      for rule in RULE_NAMES}
    return out


def summary_rows(results: Sequence[TaskResult]) -> list[dict[str, Any]]:
    """The summary as JSON-ready rows: one per point, rule and metric (of the results' kind)."""
    rows = []
    for metric in metrics_of(results_are_regression(results)):
        for (p, q), rules in summarize(results, metric).items():
            for rule, s in rules.items():
                rows.append({"keep_prob": p, "input_keep_prob": q, "rule": rule, "metric": metric,
                             "n": s.n, "n_finite": s.n_finite, "mean": s.mean, "std": s.std,
                             "min": s.min, "max": s.max, "diverged": s.diverged})
    return rows


def csv_columns(regression: bool) -> tuple[str, ...]:
    return ("keep_prob", "input_keep_prob", "seed", "step", "rule", *metrics_of(regression), "diverged")


def csv_rows(results: Sequence[TaskResult]) -> Iterator[list[str]]:
    """Long-format rows (``csv_columns``): one per task, checkpoint and rule that checkpoint holds
    (the stochastic rules at the last one only). Empty cells stand for non-finite values."""
    names = metrics_of(results_are_regression(results))
    for r in results:
        for cp in r["curve"]:
            for rule, m in cp["rules"].items():
                values = [m.get(k, math.nan) for k in names]
                yield [repr(r["keep_prob"]), repr(r["input_keep_prob"]), str(r["seed"]), str(cp["step"]), rule,
                       *(repr(v) if math.isfinite(v) else "" for v in values),  # type: ignore[arg-type]
                       "1" if m["diverged"] else "0"]
