"""The dropout-tui app: both runs side by side, live, under keyboard control."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path
from typing import ClassVar, Iterable

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from dropout_tui.core.config import KEY_FINE_STEP, KEY_FLOOR, KEY_STEP, Config, step_keep_prob
from dropout_tui.core.snapshot import Snapshot

from .history import History
from .outputs import Outputs, Problem, export_csv, export_file
from .signals import SIGNALS, blocked, install_close_on_signals, signal_name
from .threads import limit_blas_threads
from .trainer import SPEEDS, Trainer, Update
from .widgets.boundary_map import BoundaryMap
from .widgets.explanation import Explanation
from .widgets.help_screen import HelpScreen, key_names
from .widgets.run_column import RunColumn
from .widgets.status_bar import StatusBar

MIN_SIZE = (60, 18)  # below this a clear message beats a mangled screen
TALL = 32  # rows from which the decision-boundary maps are shown
EXIT_GRACE_S = 2.0  # after a signal, how long a clean exit may take before we leave regardless
RESIZE_SETTLE_S = 0.1  # the boundary maps follow a resize once the size has held this long
MEMORY_ERROR = "not enough memory for this experiment; try smaller --layers, --train-size or --test-size"


class Trained(Message):
    """Posted from the worker thread (post_message is thread-safe)."""

    def __init__(self, update: Update):
        super().__init__()
        self.update = update


class FileProblem(Message):
    """An output file stopped (a full disk): posted from whichever thread wrote it."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class DropoutApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "dropout-tui"
    # description: the footer's short label; tooltip: the help screen's full sentence. The footer
    # shows them in this order; n, d, s and e live in the help screen and the palette, because at 80
    # columns the footer has room for the rest only.
    KEYS: ClassVar[list[Binding]] = [
        Binding("plus,up", f"keep_prob({KEY_STEP})", "keep_prob↑", key_display="+", id="keep.up",
                tooltip=f"raise keep_prob by {KEY_STEP} (both runs, from the next step)"),
        Binding("minus,down", f"keep_prob({-KEY_STEP})", "keep_prob↓", key_display="-", id="keep.down",
                tooltip=f"lower keep_prob by {KEY_STEP} (down to {KEY_FLOOR})"),
        Binding("right,shift+up", f"keep_prob({KEY_FINE_STEP})", "keep_prob +0.01", show=False,
                id="keep.up_fine", tooltip=f"raise keep_prob by {KEY_FINE_STEP}"),
        Binding("left,shift+down", f"keep_prob({-KEY_FINE_STEP})", "keep_prob -0.01", show=False,
                id="keep.down_fine", tooltip=f"lower keep_prob by {KEY_FINE_STEP}"),
        Binding("space", "toggle_pause", "pause", key_display="space", id="pause",
                tooltip="pause or resume training"),
        Binding("r", "reset", "reset", id="reset",
                tooltip="restart both runs from the seed: same data, same initial weights"),
        Binding("right_square_bracket", "speed(1)", "speed", key_display="[ ]", id="speed.up",
                tooltip="train faster (1, 3, 10, 30, 100, 300, 1000 steps/s, then as fast as possible)"),
        Binding("left_square_bracket", "speed(-1)", "slower", key_display="[", show=False, id="speed.down",
                tooltip="train slower; at 10 steps/s and below every step is shown"),
        Binding("m", "toggle_map", "map", id="map",
                tooltip="decision-boundary map in place of the curves and table (small windows), or hide it"),
        Binding("question_mark,f1", "help", "help", key_display="?", id="help", tooltip="this help screen"),
        Binding("q", "quit", "quit", id="quit", tooltip="quit"),
    
        Binding("n", "step_once", "step", show=False, id="step", tooltip="one training step (while paused)"),
        Binding("d", "next_dataset", "data", show=False, id="dataset", tooltip="switch to the next dataset and restart"),
        Binding("s", "save_screenshot", "svg", show=False, id="screenshot", tooltip="save an SVG screenshot (--screenshot-dir)"),
        Binding("e", "export_csv", "csv", show=False, id="export",
                tooltip="export the metrics history as CSV (--screenshot-dir)"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    def __init__(self, config: Config | None = None, *, screenshot_dir: str | Path = ".", worker: bool = True,
                 paused: bool = False, prerun: int = 0, trainer: Trainer | None = None,
                 outputs: Outputs | None = None):
        super().__init__()
        limit_blas_threads()
        self.outputs = outputs or Outputs()
        self.trainer = trainer or Trainer(config, paused=paused, on_event=self.outputs.on_event,
                                          on_snapshot=self.outputs.on_snapshot)
        if prerun:
            self.trainer.prerun(prerun)
        self.screenshot_dir = Path(screenshot_dir)
        self.use_worker = worker
        self.history = History()
        # The first Update is made here, before any worker runs: from then on the screen learns
        # everything from Updates and never reads the experiment.
        first = self.trainer.initial_update()
        self.keep_prob, self.paused, self.speed = first.keep_prob, first.paused, first.speed
        self._first: Update | None = first
        self._last: Update = first
        self._sent = 0  # commands sent to the trainer; updates made before the last one are stale
        self._snapshot: Snapshot | None = None
        self._boundary_shape: tuple[int, int] | None = None
        self._resize_timer = None
        self._last_map_resize = -1e9
        self.close_reason = "quit"
        # How the app ended, for the command line to report after the terminal is back.
        self.fatal_error: str | None = None
        self.stopped_status: int | None = None
        self.terminal_state = None  # tui.terminal.TerminalState, restored by the watchdog too
        self._restore_signals = None
        self.outputs.report = self._report_problem

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="columns"):
            yield RunColumn("inverted")
            yield RunColumn("unrescaled")
        yield Explanation(id="explanation")
        yield Static("The window is too small for dropout-tui.\nMake it at least "
                     f"{MIN_SIZE[0]}×{MIN_SIZE[1]} (80×24 or larger is best); q quits.", id="too-small")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._layout_for_size()
        try:
            # The loop's handlers take over from the process's (tui.signals.SIGNALS), which noted
            # any signal that came during start-up: the first signal decides, whenever it came.
            with blocked():
                self._restore_signals = install_close_on_signals(SIGNALS.deliver, loop=asyncio.get_running_loop())
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal support here (not the main thread, or not a Unix loop)
        SIGNALS.listen(self._on_signal)
        for problem in list(self.outputs.problems):  # a file that stopped before the screen was up
            self._report_problem(problem)
        first, self._first = self._first, None
        if first is not None:
            self._apply(first)
        if self.use_worker:
            self._train_worker()

    def on_resize(self, event: events.Resize) -> None:
        # self.size still holds the old size while this handler runs: use the event's.
        self._layout_for_size(event.size)

    def _layout_for_size(self, size=None) -> None:
        w, h = size or self.size
        self.screen.set_class(w < MIN_SIZE[0] or h < MIN_SIZE[1], "-too-small")
        self.screen.set_class(h >= TALL, "-tall")

    def on_unmount(self) -> None:
        SIGNALS.listen(None)
        restore, self._restore_signals = self._restore_signals, None
        if restore is None:
            return
        if SIGNALS.installed:
            # Back to the process's handlers before the event loop closes, which would put the
            # default actions (death) in place while the files are still open.
            SIGNALS.take_back(asyncio.get_running_loop())
        else:
            restore()

    def on_boundary_map_resized(self) -> None:
        # A storm of resizes (a window dragged) asks for a map per size; a resize after a quiet
        # spell is answered at once, the rest only once the size has settled, so keys stay prompt
        # and no grid is built for a size already gone.
        now = time.monotonic()
        quiet = now - self._last_map_resize >= RESIZE_SETTLE_S
        self._last_map_resize = now
        if self._resize_timer is not None:
            self._resize_timer.stop()
            self._resize_timer = None
        if quiet:
            self._boundary_size_settled()
        else:
            self._resize_timer = self.set_timer(RESIZE_SETTLE_S, self._boundary_size_settled)

    def _boundary_size_settled(self) -> None:
        self._resize_timer = None
        maps = list(self.query(BoundaryMap))
        if not maps or not maps[0].display or maps[0].size.height < 2:
            return
        shape = maps[0].grid_shape
        if shape != self._boundary_shape:
            self._boundary_shape = shape
            self._command("boundary_shape", shape)

    def _on_signal(self, signum: int) -> None:
        # SIGHUP (the SSH link dropped), SIGTERM, SIGINT: the recordings get their closing record
        # now, whatever happens to the terminal next; then leave as on q. Called once, for the
        # first signal (tui.signals): it decides both the close reason and the exit status.
        self.close_reason = signal_name(signum)
        self.outputs.close_data(self.close_reason, self.trainer.step)
        self.exit(return_code=128 + signum)
        # With the terminal gone, restoring it can fail or block inside Textual's writer; the
        # recordings are already closed, so if a clean exit has not happened soon, leave anyway.
        watchdog = threading.Timer(EXIT_GRACE_S, self._leave_now, args=(128 + signum,))
        watchdog.daemon = True
        watchdog.start()

    def _leave_now(self, status: int) -> None:
        self.outputs.close(self.close_reason, self.trainer.step)
        if self.terminal_state is not None:
            self.terminal_state.restore(screen=True)
        os._exit(status)

    def _report_problem(self, problem: Problem) -> None:
        # Any thread: a writer stopped. post_message only queues, so this never blocks or raises.
        with contextlib.suppress(Exception):  # the app is not running (yet, or any more)
            self.post_message(FileProblem(str(problem)))

    def on_file_problem(self, message: FileProblem) -> None:
        self.notify(message.text, severity="error", timeout=15)

    def _fail(self, message: str) -> None:
        """End the app with one line to print after the terminal is back (exit status 2)."""
        self.fatal_error = message
        self.close_reason = "error"
        self.exit(return_code=2)

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a traceback after exiting; for a MemoryError the one line is ours.
        super()._handle_exception(error)
        if isinstance(error, MemoryError):
            self.fatal_error, self.close_reason = MEMORY_ERROR, "error"
            renderables = getattr(self, "_exit_renderables", None)
            if isinstance(renderables, list):
                renderables.clear()

    # -- the worker ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="train", name="train")
    def _train_worker(self) -> None:
        worker = get_current_worker()
        try:
            self.trainer.run(lambda update: self.post_message(Trained(update)), lambda: worker.is_cancelled)
        except MemoryError:
            try:
                self.call_from_thread(self._fail, MEMORY_ERROR)
            except RuntimeError:  # the app has stopped meanwhile
                self.fatal_error = MEMORY_ERROR

    def on_trained(self, message: Trained) -> None:
        self._apply(message.update)

    def _command(self, name: str, *args) -> None:
        self._sent += 1
        self.trainer.send(name, *args)
        if not self.use_worker:
            # No worker (tests, screenshots): apply at once so every key is deterministic.
            self.trainer.process_commands()
            self._apply(self.trainer.make_update(boundary=True))

    # -- drawing ---------------------------------------------------------------------------------

    def _apply(self, update: Update) -> None:
        if update.reset:
            self.history = History()
            for bm in self.query(BoundaryMap):
                bm.clear()
        for snap in update.snapshots:
            self.history.add(snap)
        if update.snapshots:
            self._snapshot = update.snapshots[-1]
        self._last = update
        if update.replay:
            for change, step in update.events:
                if change.kind in ("keep_prob", "input_keep_prob", "reset", "dataset"):
                    value = "" if change.value is None else f" → {change.value}"
                    self.notify(f"Recorded at step {step:,}: {change.kind}{value}", timeout=3)
        if update.applied >= self._sent:
            # Older updates would flick the screen back to a value the user has already changed.
            self.keep_prob, self.paused, self.speed = update.keep_prob, update.paused, update.speed
        self._draw(update)

    def _draw(self, update: Update) -> None:
        snap = self._snapshot
        if snap is None:
            return
        y_range = self.history.y_range()
        for col in self.query(RunColumn):
            col.show_run(snap["runs"][col.rule], self.history.runs[col.rule], y_range)
            if update.boundary is not None:
                col.query_one(BoundaryMap).set_map(update.boundary.probs[col.rule], update.boundary.train)
        self.query_one(Explanation).set_snapshot(snap, update.config.activation)
        self._draw_status()

    def _draw_status(self) -> None:
        # keep_prob, pause and speed as the user last set them: on screen at once, not when the
        # worker next reports.
        self.query_one(StatusBar).set_state(self._last, self._snapshot, keep_prob=self.keep_prob,
                                            paused=self.paused, speed=self.speed)

    # -- actions ---------------------------------------------------------------------------------

    def _refused(self, command: str) -> bool:
        reason = self.trainer.refusal(command)
        if reason:
            self.notify(reason, timeout=3)
        return reason is not None

    def action_keep_prob(self, delta: float) -> None:
        if self._refused("keep_prob"):
            return
        new = step_keep_prob(self.keep_prob, delta)
        if new == self.keep_prob:
            return
        self.keep_prob = new
        self._draw_status()
        self._command("keep_prob", new)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._draw_status()
        self._command("pause", self.paused)

    def action_step_once(self) -> None:
        if not self.paused:
            self.notify("Pause first (space), then n steps once.", timeout=3)
            return
        self._command("step")

    def action_reset(self) -> None:
        self._command("reset")
        self.notify("Replaying from the start." if self._last.replay else "Reset: same seed, same initial weights.",
                    timeout=2)

    def action_speed(self, direction: int) -> None:
        index = max(0, min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + direction))
        self.speed = SPEEDS[index]
        self._draw_status()
        self._command("speed", direction)

    def action_next_dataset(self) -> None:
        if self._refused("dataset"):
            return
        if self._last.next_dataset is None:
            config = self._last.config
            self.notify(f"No other dataset fits --train-size {config.train_size} / --test-size {config.test_size}.",
                        severity="warning")
            return
        self._command("dataset")

    def action_save_screenshot(self) -> None:
        # export_file leaves no partial file behind, and a directory that cannot be made is a
        # notice like any other failure.
        try:
            path = export_file(self.screenshot_dir, "screenshot", "svg", self.export_screenshot().encode("utf-8"))
        except OSError as exc:
            self.notify(f"Could not save the screenshot in {self.screenshot_dir}: {exc.strerror or exc}",
                        severity="error")
            return
        self.notify(f"Screenshot saved to {path}", timeout=4)

    def action_toggle_map(self) -> None:
        self.screen.toggle_class("-map")

    def action_export_csv(self) -> None:
        snapshots = list(self.history.snapshots)
        if not snapshots:
            self.notify("No metrics yet.", timeout=2)
            return
        try:
            path, rows = export_csv(self.screenshot_dir, snapshots)
        except OSError as exc:
            self.notify(f"Could not write the CSV in {self.screenshot_dir}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"{rows} rows ({len(snapshots)} snapshots × 2 runs) saved to {path}", timeout=4)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.KEYS))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Screenshot" ignores --screenshot-dir and its "Keys" panel is not our help.
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys"):
                yield command
        for b in self.KEYS:
            if b.action == "quit":
                continue
            title = b.tooltip[0].upper() + b.tooltip[1:]
            yield SystemCommand(title, f"key: {key_names(b.key)}", lambda action=b.action: self.run_action(action))

