"""Training throughput on three reference nets (``dropout-tui bench``).

Pure NumPy and the standard library: like the rest of core/, this never imports textual or rich.

For each reference net two loops are timed on real training steps:

- ``steps_per_s``: ONE run's training step without metrics — forward, dropout mask, backward,
  SGD update (``PairedExperiment.advance_run``);
- ``pair_steps_per_s``: the paired experiment as the app drives it — ``advance`` both runs and take
  a ``snapshot()`` every ``config.eval_every`` steps (the default interval unless ``eval_every``
  is given).

Each loop is warmed up first (workspaces, optimiser state and snapshot buffers are made on first
use; BLAS and the allocator settle), then timed ``repeats`` times with ``time.perf_counter``; the
best repeat is the rate, because on a shared machine noise only ever makes a repeat slower. Minor
page faults (``getrusage(RUSAGE_SELF).ru_minflt``) are counted over all the timed repeats, i.e. in
steady state: a hot loop that allocates nothing should take (almost) none.

The sweep row (``measure_sweep``) runs ``SWEEP_TASKS`` tasks of net B (``core.sweep``, one
paired experiment each, ``Budget.sweep_steps`` steps) on a process pool of 1 and of 2 workers: the
wall time of each (pool start-up included, as a user waits for it), the speed-up, and the rate of
the fastest task's training inside the 2-worker pool (timed in the worker, by ``run_task``) as a
share of B's pair rate, and the seconds its last checkpoint's dropout-on and Monte-Carlo rules took.

The default budget measures all three nets in about 16 s and the sweep row in about 10 s more;
``QUICK`` (for tests) in a few seconds, with rough numbers. The caller decides the BLAS thread
count; the CLI limits it to one first (``tui.threads``), so the numbers are for one core, as the app runs.
"""

from __future__ import annotations

import math
import resource
import time
from dataclasses import dataclass, field

from .config import Config
from .experiment import PairedExperiment
from .prediction import RULES_SHARE, RulesCadence
from .snapshot import Snapshot
from .stepping import advance_with_snapshots


@dataclass(frozen=True)
class Reference:
    name: str
    shape: str  # layer widths, input to output
    data: str
    config: Config
    data_shape: dict = field(default_factory=dict)
    target_steps_per_s: float = 0.0  # about 3× PyTorch on one thread for A and B, 2× for C

    @property
    def description(self) -> str:
        return f"{self.shape}, {self.data}"


# float64, relu, SGD, keep_prob 0.5 on the hidden layers (so masks are drawn and applied every step).
REFERENCES = (
    # The classic course assignment: 211 training points, a 20-3 ReLU net, full batch.
    Reference("A", "2-20-3-1", "211 points, full batch",
              Config(dataset="moons", layers=(20, 3), train_size=211, test_size=200, batch_size=0, lr=0.3),
              target_steps_per_s=7800),
    # The app's default net on 300 points.
    Reference("B", "2-64-64-1", "300 points, full batch",
              Config(dataset="moons", layers=(64, 64), train_size=300, test_size=1000, batch_size=0, lr=0.3),
              target_steps_per_s=2850),
    # The shape of the 8×8 digits problem (1,437 train / 360 test, 64 features, 10 classes), minibatches.
    # Noise 2 makes the blobs overlap enough for ~90% test accuracy and visible over-fitting, like
    # digits; with less the problem is separable and the loss goes to 0 within a few hundred steps.
    Reference("C", "64-256-256-10", "1,437 points, batch 64",
              Config(dataset="blobs", layers=(256, 256), train_size=1437, test_size=360, batch_size=64,
                     lr=0.05, noise=2.0),
              data_shape={"classes": 10, "features": 64}, target_steps_per_s=1200),
)

RULES_REFERENCE = "B"  # the app's default net: where the prediction rules' cost is measured
RULES_WINDOW = 3  # evaluations the measuring window spans (the first one comes at once)
PAIR_TARGET_RATIO = 0.45  # the pair with metrics should keep at least 45% of one run's rate
FAULTS_TARGET = 1.0  # minor page faults per step in steady state


@dataclass(frozen=True)
class Budget:
    """How long to spend: warm-up seconds, then ``repeats`` timed loops of about ``repeat_s`` each."""
    warmup_s: float = 0.3
    repeat_s: float = 0.4
    repeats: int = 5
    sweep_steps: int = 1000  # steps of each sweep task


DEFAULT = Budget()
QUICK = Budget(warmup_s=0.02, repeat_s=0.03, repeats=2, sweep_steps=50)
SWEEP_TASKS = 8
SWEEP_WORKERS = (1, 2)
SWEEP_SPEEDUP_TARGET = 1 / 0.6  # 2 workers finish 8 tasks in at most 0.6× one worker's time
SWEEP_RATE_TARGET = 0.9  # a task in the pool keeps at least 90% of the pair rate


@dataclass
class Timing:
    steps_per_s: float
    minor_faults_per_step: float
    steps_per_repeat: int
    repeats: int


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_loop(advance, budget: Budget, quantum: int = 1) -> Timing:
    """Time ``advance(n)``, which must perform n training steps. Steps per repeat are a multiple of
    ``quantum`` (the snapshot interval for the pair loop, so every repeat does the same mix)."""
    # Warm-up doubles as calibration: run whole quanta until warmup_s has passed.
    steps, start = 0, time.perf_counter()
    while True:
        advance(quantum)
        steps += quantum
        elapsed = time.perf_counter() - start
        if elapsed >= budget.warmup_s:
            break
    rate = steps / elapsed
    n = max(quantum, int(rate * budget.repeat_s) // quantum * quantum)
    advance(n)  # one untimed loop of the timed size: any buffer keyed on the loop length exists now
    best, faults = math.inf, 0
    for _ in range(budget.repeats):
        f0 = _minflt()
        t0 = time.perf_counter()
        advance(n)
        dt = time.perf_counter() - t0
        faults += _minflt() - f0
        best = min(best, dt)
    return Timing(n / best, faults / (n * budget.repeats), n, budget.repeats)


def _with_metrics(exp: PairedExperiment):
    """The paired loop as the app runs it: both runs, a snapshot every ``eval_every`` steps."""
    return lambda n: advance_with_snapshots(exp, n, _discard)


def _discard(snapshot: Snapshot) -> None:
    pass


def measure(ref: Reference, budget: Budget = DEFAULT, rule: str = "inverted",
            eval_every: int | None = None) -> dict:
    """One reference net: single-run and paired rates, faults per step, and whether a run diverged
    (a diverged run stops updating, which would make its steps cheap — the benchmark says so).
    ``eval_every`` overrides the snapshot interval of the pair loop (default: the config's)."""
    config = ref.config if eval_every is None else ref.config.with_changes(eval_every=eval_every)
    exp = PairedExperiment(config, data_shape=ref.data_shape)
    single = time_loop(lambda n: exp.advance_run(rule, n), budget)
    single_diverged = exp.runs[rule].diverged
    exp.reset()
    pair = time_loop(_with_metrics(exp), budget, quantum=exp.config.eval_every)
    pair_diverged = any(run.diverged for run in exp.runs.values())
    exp.reset()
    rules = measure_rules(exp, budget) if ref.name == RULES_REFERENCE else {}
    return {
        "name": ref.name,
        "shape": ref.shape,
        "data": ref.data,
        "steps_per_s": single.steps_per_s,
        "pair_steps_per_s": pair.steps_per_s,
        "minor_faults_per_step": single.minor_faults_per_step,
        "pair_minor_faults_per_step": pair.minor_faults_per_step,
        "pair_ratio": pair.steps_per_s / single.steps_per_s,
        "target_steps_per_s": ref.target_steps_per_s,
        "eval_every": exp.config.eval_every,
        "steps_per_repeat": single.steps_per_repeat,
        "pair_steps_per_repeat": pair.steps_per_repeat,
        "repeats": budget.repeats,
        "diverged": single_diverged or pair_diverged,
        **rules,
    }


def measure_rules(exp: PairedExperiment, budget: Budget) -> dict:
    """The prediction rules' cost on the app's cadence: one evaluation (Monte-Carlo dropout up to
    ``config.mc_max`` passes, both runs), and the pair loop's speed while evaluations are spaced by
    ``RulesCadence``, as a share of its speed without them. The window spans several evaluations
    (``RULES_WINDOW`` of them), since the cadence spreads their cost over ten times their length."""
    exp.snapshot(rules=True)  # buffers
    best = math.inf
    for _ in range(max(2, budget.repeats)):
        t0 = time.perf_counter()
        exp.snapshot(rules=True)
        best = min(best, time.perf_counter() - t0)
    quantum = exp.config.eval_every
    window = best / RULES_SHARE * RULES_WINDOW if budget is DEFAULT else budget.repeat_s

    def loop(with_rules: bool) -> tuple[float, int]:
        """(pair steps/s over one window, evaluations made), from a fresh start."""
        exp.reset()
        cadence, evaluations, steps = RulesCadence(), 0, 0
        start = time.perf_counter()
        while time.perf_counter() - start < window:
            advance_with_snapshots(exp, quantum, _discard)
            steps += quantum
            if with_rules and cadence.due():
                t0 = time.perf_counter()
                exp.snapshot(rules=True)
                cadence.spent(time.perf_counter() - t0)
                evaluations += 1
        return steps / (time.perf_counter() - start), evaluations

    # The same loop over the same window with and without the rules, alternated, each pair's
    # ratio kept: a best-of-repeats rate against one long window's mean would charge the
    # machine's noise to the rules.
    kept, rate, evaluations = 0.0, 0.0, 0
    for _ in range(2 if budget is DEFAULT else 1):
        plain, _ = loop(False)
        with_rules, n = loop(True)
        if with_rules / plain > kept:
            kept, rate, evaluations = with_rules / plain, with_rules, n
    return {"rules_eval_s": best, "mc_passes": exp.config.mc_max, "rules_evaluations": evaluations,
            "pair_steps_per_s_with_rules": rate, "rules_share_kept": kept}


def run(names=None, budget: Budget = DEFAULT, on_result=None, eval_every: int | None = None) -> list[dict]:
    """Measure the named reference nets (all by default), in order."""
    results = []
    for ref in REFERENCES:
        if names and ref.name not in names:
            continue
        res = measure(ref, budget, eval_every=eval_every)
        results.append(res)
        if on_result:
            on_result(res)
    return results


def timed_task(task) -> dict[str, float]:
    """Where ``run_task(task)`` spends its time, called where it runs (a worker process, for the
    sweep row): ``train_s`` (training and the checkpoints' metrics) and ``final_rules_s`` (the last
    checkpoint's dropout-on and Monte-Carlo rules)."""
    from .sweep import run_task

    timings: dict[str, float] = {}
    run_task(task, timings=timings)
    return timings


def measure_sweep(budget: Budget = DEFAULT, pair_steps_per_s: float | None = None) -> dict:
    """The sweep row: ``SWEEP_TASKS`` tasks of net B (keep_prob 0.5, seeds 0..7) on a process pool
    of each size in ``SWEEP_WORKERS``. ``pair_steps_per_s``: B's pair rate, measured here if not
    given."""
    from .sweep import DEFAULT_MC_MAX, LocalPool, SweepSpec

    ref = next(r for r in REFERENCES if r.name == "B")
    if pair_steps_per_s is None:
        exp = PairedExperiment(ref.config)
        pair_steps_per_s = time_loop(_with_metrics(exp), budget, quantum=exp.config.eval_every).steps_per_s
    # As a sweep runs it: the Monte-Carlo rules at the sweep's default T.
    spec = SweepSpec(ref.config.with_changes(mc_max=DEFAULT_MC_MAX), keep_probs=(0.5,),
                     seeds=tuple(range(SWEEP_TASKS)), steps=budget.sweep_steps, checkpoints=1).validate()
    tasks = spec.tasks()
    wall: dict[int, float] = {}
    task_s: dict[int, list[dict[str, float]]] = {}
    for workers in SWEEP_WORKERS:
        t0 = time.perf_counter()
        pool = LocalPool(workers)
        try:
            task_s[workers] = [f.result() for f in [pool.submit_call(timed_task, t) for t in tasks]]
        finally:
            pool.close()
        wall[workers] = time.perf_counter() - t0
    one, two = SWEEP_WORKERS
    # The fastest task, as the loops above report their best repeat: on a shared machine noise
    # only ever makes a task slower. Its training is what compares with the pair rate; the
    # stochastic rules at its end are reported beside it, as their own cost.
    fastest = min(task_s[two], key=lambda t: t["train_s"])
    task_rate = budget.sweep_steps / fastest["train_s"]
    return {
        "name": "sweep", "net": ref.name, "shape": ref.shape, "tasks": SWEEP_TASKS,
        "steps_per_task": budget.sweep_steps,
        "wall_s": {str(w): wall[w] for w in SWEEP_WORKERS},
        "speedup": wall[one] / wall[two],
        "time_ratio": wall[two] / wall[one],
        "task_steps_per_s": task_rate,
        "pair_steps_per_s": pair_steps_per_s,
        "task_rate_share": task_rate / pair_steps_per_s,
        "final_rules_s": min(t["final_rules_s"] for t in task_s[two]),
        "mc_passes": DEFAULT_MC_MAX,
    }
