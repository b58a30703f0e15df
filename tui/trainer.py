"""The training loop the app runs in a worker thread, kept free of Textual so it can be tested alone.

The UI never touches the experiment: it sends commands (``send``), the loop applies them between
steps and publishes ``Update``s at most every ``PUBLISH_S`` seconds, and at once after a command,
so that a key press shows within a frame rather than at the next tick.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from dropout_tui.core.boundary import BoundaryGrid
from dropout_tui.core.config import Config, ConfigError
from dropout_tui.core.data import DATASETS
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.stepping import advance_with_snapshots

# Steps per second for each speed; None = as fast as the CPU goes. The slow end lets a learner
# follow single steps.
SPEEDS: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1000, None)
PUBLISH_S = 0.25  # UI updates while free-running: 4 Hz keeps terminal output small (DESIGN §4)
BOUNDARY_S = 1.0  # the decision-boundary map is the priciest thing on screen; 1 Hz is plenty
CHUNK_S = 0.02  # longest stretch of steps between command checks: bounds key latency


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}/s"


@dataclass
class Update:
    """What the UI needs after some training: new snapshots, the latest state, maybe a map."""
    step: int
    keep_prob: float
    paused: bool
    speed: float | None
    steps_per_s: float
    config: Config
    snapshots: list[dict] = field(default_factory=list)
    boundary: dict | None = None  # rule -> (rows, cols) probability of the predicted class layout
    reset: bool = False  # history before this update belongs to an older experiment
    applied: int = 0  # commands applied before this update was made
    note: str = ""
    events: list[tuple[str, int, dict]] = field(default_factory=list)


class Trainer:
    """Owns the experiment. ``run(publish, cancelled)`` is the thread body."""

    def __init__(self, config: Config | None = None, *, exp: PairedExperiment | None = None,
                 paused: bool = False, speed_index: int = len(SPEEDS) - 1, on_event=None, on_snapshot=None):
        self.exp = exp if exp is not None else PairedExperiment(config)
        self.paused = paused
        self.speed_index = speed_index
        self.boundary_shape: tuple[int, int] | None = None
        self._boundary: BoundaryGrid | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._pending: list[dict] = []
        self._events: list[tuple[str, int, dict]] = []
        self._reset_flag = False
        self._rate = _RateMeter()
        self.applied = 0
        self.on_event = on_event  # called in the worker thread: (kind, step, payload)
        self.on_snapshot = on_snapshot  # called in the worker thread with every snapshot taken
        self.note = ""  # shown beside running/paused, e.g. "replay finished"

    # -- commands, from any thread ---------------------------------------------------------------

    def send(self, name: str, *args) -> None:
        self._commands.put((name, args))
        self._wake.set()

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def _apply(self, name: str, args) -> None:
        exp = self.exp
        if name == "keep_prob":
            exp.set_keep_prob(args[0])
            self._event("keep_prob", value=exp.keep_prob)
        elif name == "pause":
            self.paused = bool(args[0])
            self._rate = _RateMeter()  # a rate across a pause would mean nothing
            self._event("pause" if self.paused else "resume")
        elif name == "step":
            if not self.paused:
                return
            self._train(1)
            self._event("step")
        elif name == "reset":
            exp.reset()
            self._event("reset")
            self._restart()
        elif name == "dataset":
            config = next_dataset_config(exp)
            if config is None:
                return  # no other dataset fits these train/test sizes; the app says so
            self.exp = PairedExperiment(config)
            self._boundary = None
            self._event("dataset", value=config.dataset, config=config.to_dict())
            self._restart()
        elif name == "speed":
            index = max(0, min(len(SPEEDS) - 1, self.speed_index + args[0]))
            if index != self.speed_index:
                self.speed_index = index
                self._rate = _RateMeter()
                self._event("speed", value=speed_label(self.speed))
        elif name == "boundary_shape":
            self.boundary_shape = args[0]
            self._boundary = None

    def _event(self, kind: str, **payload) -> None:
        self._events.append((kind, self.exp.step, payload))
        if self.on_event:
            self.on_event(kind, self.exp.step, payload)

    def _restart(self) -> None:
        self._reset_flag = True
        self._pending = []
        self._keep(self.exp.snapshot())
        self._rate = _RateMeter()

    def _keep(self, snap: dict) -> None:
        """Every snapshot the trainer takes goes through here: to the UI and to any recording."""
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
        self._keep(self.exp.snapshot())
        return self.make_update(boundary=True)

    def run(self, publish, cancelled) -> None:
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
        # At slow speeds every step gets a snapshot so each one can be followed on screen.
        every = 1 if self.speed is not None and self.speed <= 10 else None
        advance_with_snapshots(self.exp, steps, self._keep, every)
        self._rate.add(steps)

    def make_update(self, boundary: bool) -> Update:
        exp = self.exp
        if not self._pending or self._pending[-1]["step"] != exp.step:
            self._keep(exp.snapshot())
        update = Update(step=exp.step, keep_prob=exp.keep_prob, paused=self.paused, speed=self.speed,
                        steps_per_s=0.0 if self.paused else self._rate.rate(), config=exp.config,
                        snapshots=self._pending, reset=self._reset_flag, events=self._events,
                        applied=self.applied, note=self.note)
        if boundary and self.boundary_shape and exp.data.n_features == 2:
            if self._boundary is None:
                self._boundary = BoundaryGrid(exp, *self.boundary_shape)
            update.boundary = self._boundary.compute()
        self._pending, self._events, self._reset_flag = [], [], False
        return update


def next_dataset_config(exp: PairedExperiment) -> Config | None:
    """The config for the next dataset in the cycle that the current sizes fit (spiral and blobs
    have three classes and need more points), keeping keep probabilities; None if none does."""
    names = list(DATASETS)
    start = names.index(exp.config.dataset)
    for i in range(1, len(names)):
        try:
            return exp.config.with_changes(dataset=names[(start + i) % len(names)], keep_prob=exp.keep_prob,
                                           input_keep_prob=exp.input_keep_prob)
        except ConfigError:
            continue
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

