"""The training loop the app runs in a worker thread, kept free of Textual so it can be tested alone.

The trainer owns the experiment; nothing else touches it. The UI sends commands (``send``), the loop
turns them into ``core.changes.Change``s between steps (the interpreter replays use too) and
publishes ``Update``s — everything the screen needs — at most every ``PUBLISH_S`` seconds, and at
once after a command, so that a key press shows within a frame rather than at the next tick.

The trainer also owns the policy of what a user may change (``refusal``): a replay refuses the keys
that would steer away from the recording, with the note the app shows.

Numbers belong to a step: a snapshot is taken once per step of an experiment, so changing keep_prob
while paused never re-evaluates the same weights under the new value (the Update's keep_prob then
differs from the snapshot's until a step runs, and the screen shows it as pending).

The prediction rules (``core.prediction``: no dropout, ×p, dropout left on, Monte-Carlo dropout)
cost far more than a snapshot, so they are evaluated only while the screen asks for them (the
``rules`` command), on their own wall-clock cadence (``RulesCadence``: at most ``RULES_SHARE`` of
the time) while training runs, and at once when paused (after a step, a reset or the request
itself) — except while a keep_prob change is pending, which would evaluate the old step's weights
under the new value. A command arriving midway abandons an evaluation, so a key is never held up
by the Monte-Carlo passes. Each Update carries the latest evaluation (``Update.rules``: a snapshot with
``rules`` in each run); its step says how old it is. The Monte-Carlo masks are seeded by step, so
when they are taken never changes what they are. The same holds for the decision map's
Monte-Carlo spread (the ``map_spread`` command, ``core.prediction.MCSpreadGrid``).

When both runs have diverged, training changes nothing any more: the trainer pauses itself and
stops counting steps.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING

from dropout_tui.core.boundary import BoundaryGrid, BoundaryMaps, aspect
from dropout_tui.core.changes import Change, apply_change, next_dataset_change
from dropout_tui.core.config import Config
from dropout_tui.core.data import TargetScale
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.prediction import MCSpreadGrid, RulesCadence
from dropout_tui.core.snapshot import Snapshot
from dropout_tui.core.stepping import advance_with_snapshots

if TYPE_CHECKING:
    from dropout_tui.core.csv_data import CsvSource
    from dropout_tui.core.curves import CurveGrid, Curves

# Steps per second for each speed; None = as fast as the CPU goes. The slow end lets a learner
# follow single steps.
SPEEDS: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1000, None)
PUBLISH_S = 0.25  # UI updates while free-running: 4 Hz keeps terminal output small over SSH
BOUNDARY_S = 1.0  # the decision-boundary map is the priciest thing on screen; 1 Hz is plenty
# Regression curves: width / height the curve view asks for (it takes any height it is given), and
# the Monte-Carlo rows per curve (grid points × passes) that keep one curve under ~30 ms, 3% of
# the time at BOUNDARY_S: T = 50 at 80 columns, fewer on wider screens, never under MC_MIN_PASSES.
CURVE_ASPECT = 2.0
MC_ROWS = 4000
MC_MIN_PASSES = 20
CHUNK_S = 0.02  # longest stretch of steps between command checks: bounds key latency
COMMANDS = ("keep_prob", "pause", "step", "reset", "dataset", "speed", "boundary_shape", "rules", "map_spread")
SPREAD_SHARE = 0.05  # of the time the map's Monte-Carlo spread may take while training runs
BOTH_DIVERGED = "both runs diverged: r resets"


def no_map_note(n_features: int) -> str:
    """Why a dataset gets no decision map: it is drawn over the input plane, so only for 2 features."""
    return f"no map: {n_features} feature{'' if n_features == 1 else 's'}"


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}/s"


@dataclass
class Update:
    """What the UI needs after some training: the state, new snapshots, maybe a map."""
    step: int
    keep_prob: float
    input_keep_prob: float
    paused: bool
    speed: float | None
    steps_per_s: float
    config: Config
    arch: str  # layer widths from input to output, e.g. 2-64-64-1
    replay: bool  # a recording steers the experiment
    next_dataset: str | None  # where the dataset key leads (None: no other dataset fits)
    snapshots: list[Snapshot] = field(default_factory=list)
    boundary: BoundaryMaps | None = None
    reset: bool = False  # history before this update belongs to an older experiment
    applied: int = 0  # commands applied before this update was made
    note: str = ""
    events: list[tuple[Change, int]] = field(default_factory=list)  # changes since the last update, with steps
    map_aspect: float | None = None  # width / height of the data plane a map shows (None: no map)
    # Which map the data gets: "boundary" (2-D classes), "values" (2-D regression: a heat map of
    # the predicted value), "curve" (1-D regression: the prediction curves), None (no map).
    map_kind: str | None = None
    curves: Curves | None = None  # 1-D regression: both runs' curves, when a map was asked for
    map_note: str | None = None  # why there is no map, for the screen (None: there is one)
    # The latest prediction-rules evaluation of this experiment (a snapshot whose runs carry
    # ``rules``; None: none yet, or not asked for), and the decision map's Monte-Carlo spread
    # ({run: (rows, cols)}) when asked for, with the step it was computed at.
    rules: Snapshot | None = None
    spread: dict | None = None
    spread_step: int | None = None
    # A CSV file's regression target, which the network fits standardised: the screen says so
    # and draws values in the target's units (None: numbers are the targets' own).
    target_scale: TargetScale | None = None


class Trainer:
    """Owns the experiment. ``run(publish, cancelled)`` is the thread body."""

    replay = False

    def __init__(self, config: Config | None = None, *, exp: PairedExperiment | None = None,
                 paused: bool = False, speed_index: int = len(SPEEDS) - 1,
                 on_event: Callable[[Change, int], None] | None = None,
                 on_snapshot: Callable[[Snapshot], None] | None = None, source: CsvSource | None = None):
        if exp is None:
            if config is None:
                raise ValueError("a Trainer needs a config or an experiment")
            exp = PairedExperiment(config, source=source)
        self.exp = exp
        self.paused = paused
        self.speed_index = speed_index
        self.boundary_shape: tuple[int, int] | None = None
        self._boundary: BoundaryGrid | None = None
        self._curves: CurveGrid | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._pending: list[Snapshot] = []
        self._events: list[tuple[Change, int]] = []
        self._reset_flag = False
        self._snapped: int | None = None  # step of the last snapshot kept (None after a restart)
        self._rate = _RateMeter()
        self._next_dataset: tuple[tuple, Change | None] | None = None
        self.applied = 0
        self.on_event = on_event  # called in the worker thread: (change, step)
        self.on_snapshot = on_snapshot  # called in the worker thread with every snapshot taken
        self.note = ""  # shown beside running/paused, e.g. "replay finished"
        self._aspect: tuple[object, float | None] | None = None
        self.rules_wanted = False  # the screen shows the prediction rules
        self.spread_wanted = False  # the decision map shows the Monte-Carlo spread
        self._rules: Snapshot | None = None
        self._rules_cadence = RulesCadence()
        self._spread: tuple[int, dict] | None = None  # (step, {run: (rows, cols) spread})
        self._spread_grid: MCSpreadGrid | None = None
        self._spread_cadence = RulesCadence(SPREAD_SHARE)
        self._snapped_probs: tuple[float, float] | None = None  # keep probabilities of the last snapshot

    # -- commands and policy, from any thread ----------------------------------------------------

    def send(self, name: str, *args: object) -> None:
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        self._commands.put((name, args))
        self._wake.set()

    def refusal(self, name: str) -> str | None:
        """Why the user may not send command ``name`` now, or None when they may."""
        return None

    @property
    def step(self) -> int:
        """The experiment's step (a plain int: safe to read from any thread)."""
        return self.exp.step

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    # -- applying commands, in the worker thread ---------------------------------------------------

    def _apply(self, name: str, args: tuple) -> None:
        if self.refusal(name) is not None:
            return
        if name == "keep_prob":
            self._change(Change("keep_prob", float(args[0])))  # type: ignore[arg-type]
        elif name == "pause":
            self.paused = bool(args[0])
            self._rate = _RateMeter()  # a rate across a pause would mean nothing
            self._change(Change("pause" if self.paused else "resume"))
        elif name == "step":
            if not self.paused or self._both_diverged():
                return
            self._train(1)
            self._change(Change("step"))
        elif name == "reset":
            self._change(Change("reset"))
        elif name == "dataset":
            change = self._dataset_change()
            if change is not None:  # no other dataset fits these sizes: the app said so
                self._change(change)
        elif name == "speed":
            index = max(0, min(len(SPEEDS) - 1, self.speed_index + int(args[0])))  # type: ignore[call-overload]
            if index != self.speed_index:
                self.speed_index = index
                self._rate = _RateMeter()
                self._change(Change("speed", speed_label(self.speed)))
        elif name == "boundary_shape":
            self.boundary_shape = args[0]  # type: ignore[assignment]
            self._boundary = self._curves = None
            self._spread_grid, self._spread = None, None
        elif name == "rules":
            self.rules_wanted = bool(args[0])
        elif name == "map_spread":
            self.spread_wanted = bool(args[0])

    def _change(self, change: Change) -> None:
        """Apply one change through the shared interpreter and record it at the step it takes effect."""
        step = self.exp.step
        self.exp = apply_change(self.exp, change)
        self._events.append((change, step))
        if self.on_event:
            self.on_event(change, step)
        if change.kind in ("reset", "dataset"):
            self._boundary = self._curves = None
            self._spread_grid, self._spread = None, None
            self._rules = None  # of the old experiment
            self._restart()

    def _dataset_change(self) -> Change | None:
        # Worked out once per experiment and keep probabilities (each try validates a config).
        key = (id(self.exp), self.exp.keep_prob, self.exp.input_keep_prob)
        cached = self._next_dataset
        if cached is None or cached[0] != key:
            cached = self._next_dataset = (key, next_dataset_change(self.exp))
        return cached[1]

    def _restart(self) -> None:
        if self.note == BOTH_DIVERGED:
            self.note = ""
        self._reset_flag = True
        self._pending = []
        self._snapped = None
        self._keep(self.exp.snapshot())
        self._rate = _RateMeter()

    def _keep(self, snap: Snapshot) -> None:
        """Every snapshot the trainer takes goes through here: to the UI and to any recording."""
        self._snapped = snap["step"]
        self._snapped_probs = (snap["keep_prob"], snap["input_keep_prob"])
        self._pending.append(snap)
        if self.on_snapshot:
            self.on_snapshot(snap)

    # -- the loop --------------------------------------------------------------------------------

    def prerun(self, steps: int) -> None:
        """Train ``steps`` steps now, in this thread, keeping the snapshots for the charts
        (deterministic starting states for tests and screenshots)."""
        if self.exp.step == 0:
            self._keep(self.exp.snapshot())  # curves start where training did
        advance_with_snapshots(self.exp, steps, self._keep)

    def initial_update(self) -> Update:
        """The first screen's worth: the state and a snapshot of the current step."""
        return self.make_update(boundary=True)

    def run(self, publish: Callable[[Update], object], cancelled: Callable[[], bool]) -> None:
        """Train until ``cancelled()``; hand each Update to ``publish`` (must be thread-safe)."""
        last_publish = last_boundary = time.perf_counter()
        chunk = 1
        while not cancelled():
            commanded = self.process_commands()
            now = time.perf_counter()
            if self.paused:
                if commanded:
                    publish(self.make_update(boundary=True))
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            speed = self.speed
            if speed is None:
                t0 = time.perf_counter()
                self._train(chunk)
                dt = time.perf_counter() - t0
                # Grow or shrink the chunk so that commands are looked at every CHUNK_S or so.
                chunk = max(1, min(chunk * 2, int(chunk * CHUNK_S / dt) if dt > 0 else chunk * 2))
            else:
                self._train(1)
                self._wake.wait(max(0.0, 1.0 / speed - (time.perf_counter() - now)))
                self._wake.clear()
            now = time.perf_counter()
            slow = speed is not None and speed <= 10
            # Training that paused itself (a replay reached its end) shows so at once.
            if commanded or slow or self.paused or now - last_publish >= PUBLISH_S:
                want_map = commanded or now - last_boundary >= BOUNDARY_S
                publish(self.make_update(boundary=want_map))
                last_publish = now
                if want_map:
                    last_boundary = now

    def process_commands(self) -> bool:
        did = False
        while True:
            try:
                name, args = self._commands.get_nowait()
            except queue.Empty:
                return did
            self._apply(name, args)
            self.applied += 1
            did = True

    def _train(self, steps: int) -> None:
        if self._both_diverged():
            return
        # At slow speeds every step gets a snapshot so each one can be followed on screen.
        every = 1 if self.speed is not None and self.speed <= 10 else None
        advance_with_snapshots(self.exp, steps, self._keep, every)
        self._rate.add(steps)
        self._both_diverged()

    def _both_diverged(self) -> bool:
        """True when both runs have diverged; then pause (once, as a recorded pause) with a note:
        a diverged run never updates again, so further steps would only count."""
        if not all(run.diverged for run in self.exp.runs.values()):
            return False
        if not self.paused:
            self.paused = True
            self._rate = _RateMeter()
            self._change(Change("pause"))
        self.note = BOTH_DIVERGED
        return True

    def make_update(self, boundary: bool) -> Update:
        exp = self.exp
        if self._reset_flag:  # a restart (here or in a replayed recording): older results are of another experiment
            self._rules, self._spread = None, None
        want_rules = self._rules_due()
        if self._snapped != exp.step:
            self._keep(self._snapshot(want_rules))
        elif want_rules:
            # This step's snapshot has gone out already (to the charts and any recording): the
            # rules travel in the Update alone, not as a second snapshot of the same step.
            self._snapshot(True)
        next_dataset = None if self.refusal("dataset") else self._dataset_change()
        update = Update(step=exp.step, keep_prob=exp.keep_prob, input_keep_prob=exp.input_keep_prob,
                        paused=self.paused, speed=self.speed,
                        steps_per_s=0.0 if self.paused else self._rate.rate(), config=exp.config,
                        arch=exp.arch, replay=self.replay,
                        next_dataset=None if next_dataset is None else str(next_dataset.value),
                        snapshots=self._pending, reset=self._reset_flag, events=self._events,
                        applied=self.applied, note=self.note, map_aspect=self._map_aspect(),
                        map_kind=map_kind(exp.data), rules=self._rules if self.rules_wanted else None,
                        target_scale=exp.data.target_scale)
        if update.map_aspect is None:
            update.map_note = no_map_note(exp.data.n_features)
        if boundary and self.boundary_shape and exp.data.n_features == 2:
            if self._boundary is None:
                self._boundary = BoundaryGrid(exp, *self.boundary_shape)
            update.boundary = self._boundary.compute()
        elif boundary and self.boundary_shape and update.map_kind == "curve" and self.boundary_shape[0] >= 2:
            if self._curves is None:
                from dropout_tui.core.curves import CurveGrid  # 1-D regression only: not loaded at start-up

                n = self.boundary_shape[0]
                self._curves = CurveGrid(exp, n, passes=max(MC_MIN_PASSES, min(50, MC_ROWS // n)))
            update.curves = self._curves.compute()
        if self.spread_wanted and self.boundary_shape and exp.data.n_features == 2:
            self._update_spread()
            if self._spread is not None:
                update.spread_step, update.spread = self._spread
        self._pending, self._events, self._reset_flag = [], [], False
        return update


    def _pending_keep_prob(self) -> bool:
        """A keep probability changed since this step's snapshot (it applies from the next step)."""
        exp = self.exp
        return self._snapped == exp.step and self._snapped_probs != (exp.keep_prob, exp.input_keep_prob)

    def _rules_due(self) -> bool:
        """Evaluate the prediction rules now? Only when asked for and not yet done at this step;
        then at once when paused or when there are none yet, else when the cadence allows."""
        rules = self._rules
        if not self.rules_wanted or (rules is not None and rules["step"] == self.exp.step):
            return False
        if self._pending_keep_prob():
            return False
        return self.paused or rules is None or self._rules_cadence.due()

    def _snapshot(self, rules: bool) -> Snapshot:
        if not rules:
            return self.exp.snapshot()
        t0 = time.perf_counter()
        # A command waiting (a key pressed) abandons the evaluation: the key is served first, and
        # the rules are evaluated again when next due (they are a fixed function of the step).
        snap = self.exp.snapshot(rules=True, should_stop=lambda: not self._commands.empty())
        self._rules_cadence.spent(time.perf_counter() - t0)
        if all("rules" in run for run in snap["runs"].values()):
            self._rules = snap
        return snap

    def _update_spread(self) -> None:
        exp = self.exp
        if self._spread is not None and self._spread[0] == exp.step:
            return
        if self._spread is not None and not (self.paused or self._spread_cadence.due()):
            return
        if self._pending_keep_prob():
            return
        if self._boundary is None:
            self._boundary = BoundaryGrid(exp, *self.boundary_shape)  # type: ignore[misc]
        grid = self._boundary
        if self._spread_grid is None or self._spread_grid.exp is not exp or self._spread_grid.points is not grid.points:
            self._spread_grid = MCSpreadGrid(exp, grid.points)
        t0 = time.perf_counter()
        spread = self._spread_grid.compute()
        self._spread_cadence.spent(time.perf_counter() - t0)
        self._spread = (exp.step, {rule: s.reshape(grid.rows, grid.cols).copy() for rule, s in spread.items()})

    def _map_aspect(self) -> float | None:
        data = self.exp.data
        if self._aspect is None or self._aspect[0] is not data:
            self._aspect = (data, CURVE_ASPECT if map_kind(data) == "curve" else aspect(data))
        return self._aspect[1]


def map_kind(data) -> str | None:
    """Which map ``data`` gets (see ``Update.map_kind``)."""
    if data.n_features == 2:
        return "values" if data.regression else "boundary"
    if data.n_features == 1 and data.regression:
        return "curve"
    return None


class _RateMeter:
    """Steps per second over the last couple of seconds."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self._marks: list[tuple[float, int]] = []
        self._total = 0

    def add(self, steps: int) -> None:
        self._total += steps
        now = time.perf_counter()
        self._marks.append((now, self._total))
        while len(self._marks) > 2 and now - self._marks[0][0] > self.window:
            self._marks.pop(0)

    def rate(self) -> float:
        if len(self._marks) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
