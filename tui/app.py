"""The dropout-tui app: both runs side by side, live, under keyboard control."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from collections.abc import Iterable

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, SearchIcon
from textual.containers import Horizontal
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widgets import Static
from textual.worker import get_current_worker

from dropout_tui.core.boundary import BoundaryMaps
from dropout_tui.core.config import KEY_FINE_STEP, KEY_FLOOR, KEY_STEP, Config, step_keep_prob
from dropout_tui.core.snapshot import Snapshot

from .explain import Context
from .history import History
from .outputs import Outputs, Problem, export_csv, export_file
from .signals import SIGNALS, blocked, install_close_on_signals, signal_name
from .startup import resume_collector
from .threads import limit_blas_threads
from .trainer import SPEEDS, Trainer, Update
from .widgets import glyphs
from .widgets.boundary_map import BoundaryMap
from .widgets.diff_view import DiffView
from .widgets.boundary_map import MIN_ROWS as MAP_MIN_ROWS
from .widgets.curve_view import MIN_ROWS as CURVE_MIN_ROWS
from .widgets.explanation import Explanation
from .widgets.key_bar import KeyBar
from .widgets.run_column import RunColumn, plan_column
from .widgets.status_bar import StatusBar
from .widgets.theme import UNCHECKABLE_THEMES, Roles, roles_for

if TYPE_CHECKING:
    from dropout_tui.core.csv_data import CsvSource

MIN_SIZE = (60, 18)  # below this a clear message beats a mangled screen
EXIT_GRACE_S = 2.0  # after a signal, how long a clean exit may take before we leave regardless
# Explanation panel rows (with its top border) by terminal height: (from this height, rows).
EXPLANATION_ROWS = ((0, 3), (20, 4), (28, 5), (36, 8))
# The launch speed ramp: the first steps at a pace a learner can follow on the chart, then faster
# each time training passes one of these steps, up to full speed. A reset or dataset change starts
# it again; any speed key ends it for the session (the user has taken over the speed).
WARMUP_SPEED = 30
WARMUP_STEPS = (100, 500, 2000, 5000)
TOAST_WIDTH = 60  # Textual's toast width; ours may take 90% of a narrow window
# Keys that share one label in the key bar ("+ - keep_prob").
KEEP_GROUP = Binding.Group("keep_prob")
SPEED_GROUP = Binding.Group("speed")
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
    # description: the key bar's short label; tooltip: the help screen's sentence (at most 46
    # characters: one line at 80 columns). The key bar shows them in this order when ``check_action`` allows (pause or
    # resume and n by the state; no keep_prob keys in a replay), dropping whole entries when short of
    # width in the order ``widgets.key_bar.drop_order`` states; d, s, e, l and u live in the help screen
    # and the palette, because at 80 columns the key bar has room for the rest only.
    KEYS: ClassVar[list[Binding]] = [
        Binding("plus,up", f"keep_prob({KEY_STEP})", "keep_prob↑", key_display="+", id="keep.up",
                tooltip=f"raise keep_prob by {KEY_STEP} (both runs)", group=KEEP_GROUP),
        Binding("minus,down", f"keep_prob({-KEY_STEP})", "keep_prob↓", key_display="-", id="keep.down",
                tooltip=f"lower keep_prob by {KEY_STEP} (down to {KEY_FLOOR})", group=KEEP_GROUP),
        Binding("right,shift+up", f"keep_prob({KEY_FINE_STEP})", "keep_prob +0.01", show=False,
                id="keep.up_fine", tooltip=f"raise keep_prob by {KEY_FINE_STEP}"),
        Binding("left,shift+down", f"keep_prob({-KEY_FINE_STEP})", "keep_prob -0.01", show=False,
                id="keep.down_fine", tooltip=f"lower keep_prob by {KEY_FINE_STEP}"),
        Binding("space", "pause", "pause", key_display="space", id="pause", tooltip="pause or resume training"),
        Binding("space", "resume", "resume", key_display="space", id="resume", tooltip="resume training"),
        Binding("n", "step_once", "step", id="step", tooltip="one training step (while paused)"),
        # While running, n is not offered; pressed anyway, it says how to use it.
        Binding("n", "step_hint", show=False, id="step.hint"),
        Binding("r", "reset", "reset", id="reset",
                tooltip="restart both runs: same seed, data and weights"),
        Binding("left_square_bracket", "speed(-1)", "slower", key_display="[", id="speed.down",
                tooltip="slower (at 10 steps/s and less: every step)", group=SPEED_GROUP),
        Binding("right_square_bracket", "speed(1)", "faster", key_display="]", id="speed.up",
                tooltip="faster: 1 3 10 30 100 300 1000 steps/s, max", group=SPEED_GROUP),
        Binding("m", "toggle_map", "map", id="map",
                tooltip="decision-boundary map on or off"),
        Binding("v", "toggle_rules", "rules", id="rules",
                tooltip="prediction rules, or curves and layers"),
        Binding("question_mark,f1", "help", "help", key_display="?", id="help", tooltip="this help screen"),
        Binding("q,ctrl+c", "quit", "quit", key_display="q", id="quit",
                tooltip="quit (recordings get their closing record)"),

        Binding("u", "toggle_spread", "map sd", show=False, id="spread",
                tooltip="map brightness: confidence or MC spread"),
        Binding("l", "toggle_log_x", "log x", show=False, id="log_x",
                tooltip="loss chart: linear or log step axis"),
        Binding("d", "next_dataset", "data", show=False, id="dataset",
                tooltip="switch to the next dataset and restart"),
        Binding("s", "save_screenshot", "svg", show=False, id="screenshot",
                tooltip="save an SVG screenshot (into --screenshot-dir)"),
        Binding("e", "export_csv", "csv", show=False, id="export",
                tooltip="export the metrics as CSV (--screenshot-dir)"),
        # In a replay the keep_prob and dataset keys are hidden; pressed anyway, they say why.
        Binding("plus,up,minus,down,right,left,shift+up,shift+down", "refused('keep_prob')", show=False,
                id="refused.keep"),
        Binding("d", "refused('dataset')", show=False, id="refused.dataset"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    def __init__(self, config: Config | None = None, *, screenshot_dir: str | Path = ".", worker: bool = True,
                 paused: bool = False, prerun: int = 0, trainer: Trainer | None = None,
                 outputs: Outputs | None = None, source: CsvSource | None = None, ascii_only: bool = False,
                 warmup: bool = False):
        super().__init__()
        limit_blas_threads()
        self.ascii_only = ascii_only
        for name in UNCHECKABLE_THEMES:
            if name in self.available_themes:
                self.unregister_theme(name)
        self.roles = Roles()
        self.outputs = outputs or Outputs()
        # Launch at a pace a learner can follow; ``warmup`` ramps up from there (see WARMUP_STEPS).
        # _warmup_on: the schedule applies to this session (until a speed key); _warmup: the steps
        # still to pass in the current experiment (empty: no warm-up is being followed now).
        self._warmup_on = warmup and trainer is None
        self._warmup: list[int] = list(WARMUP_STEPS) if self._warmup_on else []
        speed_index = SPEEDS.index(WARMUP_SPEED) if self._warmup else len(SPEEDS) - 1
        self.trainer = trainer or Trainer(config, paused=paused, speed_index=speed_index,
                                          on_event=self.outputs.on_event, on_snapshot=self.outputs.on_snapshot,
                                          source=source)
        if prerun:
            self.trainer.prerun(prerun)
        self.screenshot_dir = Path(screenshot_dir)
        self.use_worker = worker
        self.history = History()
        self._history_origin = "the start"  # where the history (and so the CSV export) begins
        # The first Update is made here, before any worker runs: from then on the screen learns
        # everything from Updates and never reads the experiment.
        first = self.trainer.initial_update()
        self.keep_prob, self.paused, self.speed = first.keep_prob, first.paused, first.speed
        self._first: Update | None = first
        self._last: Update = first
        self._last_replay_notice: Notification | None = None  # see _replay_notice
        self._sent = 0  # commands sent to the trainer; updates made before the last one are stale
        self._snapshot: Snapshot | None = None
        self._boundary_shape: tuple[int, int] | None = None
        self.map_wanted: bool | None = None  # None: the window size decides; m sets it
        self.log_x = False
        self.rules_view = False  # v: the prediction rules in place of the curves and layer table
        self.map_spread = False  # u: the map's brightness is the Monte-Carlo spread
        self._spread: dict | None = None
        self._maps: BoundaryMaps | None = None  # the latest decision maps, to redraw them when a spread arrives
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
        self._explanation = Explanation(id="explanation")
        yield self._explanation
        yield Static(self.glyph_text("The window is too small for dropout-tui.\nMake it at least "
                                     f"{MIN_SIZE[0]}×{MIN_SIZE[1]} (80×24 or larger is best); q quits."),
                     id="too-small")
        yield KeyBar(id="keys")

    def glyph_text(self, text: str) -> str:
        """Running text as this terminal can show it (ASCII mode: signs become words)."""
        return glyphs.prose(text) if self.ascii_only else text

    def on_mount(self) -> None:
        # Here, not in __init__: before Textual 8 a class change restyles the screen, which does
        # not exist yet there. Mounting comes before the first frame, so every frame has it.
        self.set_class(self.ascii_only, "-ascii")
        # Textual's scroll bars draw with one renderer per process: each app sets the one it needs.
        ScrollBar.renderer = glyphs.ascii_scrollbar_render() if self.ascii_only else ScrollBarRender
        self._theme_changed()
        self.theme_changed_signal.subscribe(self, lambda theme: self._theme_changed())
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
        # The command line ran start-up without the garbage collector (tui.startup): it is needed
        # again from the first frame on.
        self.call_after_refresh(resume_collector)

    def on_resize(self, event: events.Resize) -> None:
        # self.size still holds the old size while this handler runs: use the event's.
        self._layout_for_size(event.size)

    def _theme_changed(self) -> None:
        self.roles = roles_for(self.get_css_variables(), no_color=bool(self.no_color))
        # Plain text on the status line, key bar and help panel, at a legible contrast in every theme.
        for selector, colour in (("#status", self.roles.on_panel), ("#keys", self.roles.on_footer)):
            self.query_one(selector).styles.color = colour or None
        if self._snapshot is not None:
            for view in self.query(DiffView):
                view.rebuild()
            self._draw(self._last)

    def _layout_for_size(self, size=None) -> None:
        w, h = size or self.size
        screen = self.query_one("#columns").screen  # the main screen, even under the help screen
        screen.set_class(w < MIN_SIZE[0] or h < MIN_SIZE[1], "-too-small")
        rows = max(r for start, r in EXPLANATION_ROWS if h >= start)
        self.query_one(Explanation).styles.height = rows
        # Two columns of exactly one width, so they hold the same rows and cells; an odd
        # terminal width leaves one blank column at the right.
        for col in self.query(RunColumn):
            col.styles.width = max(1, w // 2)

    def plan_columns(self) -> None:
        """Give each column's parts their rows for the current size, map choice and experiment."""
        cols = list(self.query(RunColumn))
        if not cols or cols[0].inner_size[1] <= 0:
            return
        width, height = cols[0].inner_size
        kind = self._last.map_kind
        # A 1-D regression's curves are its picture: shown unless m hid them, the loss curves
        # making room for them.
        wanted = True if self.map_wanted is None and kind == "curve" else self.map_wanted
        plan = plan_column(height, width, len(self._last.config.layers), wanted, self._last.map_aspect,
                           note=self._last.map_note is not None,
                           map_min=CURVE_MIN_ROWS if kind == "curve" else MAP_MIN_ROWS, keep_table=kind == "curve")
        changed = False
        for col in cols:
            for view in col.query(BoundaryMap):
                view.set_aspect(self._last.map_aspect)
            changed = col.apply_plan(plan, map_kind=kind) or changed
        if changed and self._snapshot is not None:
            self._draw(self._last)

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
        # A storm of resizes (a window dragged) asks for a map per size. A map was last asked for
        # a while ago: this one is answered at once (the m key, a single resize); otherwise once
        # the size has held, so keys stay prompt and no grid is built for a size already gone.
        quiet = time.monotonic() - self._last_map_resize >= RESIZE_SETTLE_S
        if self._resize_timer is not None:
            self._resize_timer.stop()
            self._resize_timer = None
        if quiet:
            self._boundary_size_settled()
        else:
            self._resize_timer = self.set_timer(RESIZE_SETTLE_S, self._boundary_size_settled)

    def _boundary_size_settled(self) -> None:
        self._resize_timer = None
        maps = [col.map_view for col in self.query(RunColumn)]
        if not maps or not maps[0].display or maps[0].size.height < getattr(maps[0], "min_rows", MAP_MIN_ROWS):
            return
        shape = maps[0].grid_shape
        if shape != self._boundary_shape:
            self._boundary_shape = shape
            self._command("boundary_shape", shape)
            self._last_map_resize = time.monotonic()  # after: without a worker the map is made here

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
        # The worker's last update can arrive while the app closes, after the screen's widgets
        # have been removed: there is nothing left to draw it on.
        if not self._explanation.is_attached:
            return
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
        replan = (update.map_aspect != self._last.map_aspect or update.map_kind != self._last.map_kind
                  or len(update.config.layers) != len(self._last.config.layers))
        if update.reset:
            self.history = History()
            kinds = [change.kind for change, _ in update.events if change.kind in ("reset", "dataset")]
            self._history_origin = "the last dataset change" if kinds[-1:] == ["dataset"] else "the last reset"
            self._maps = self._spread = None
            for col in self.query(RunColumn):
                col.clear_maps()
        for snap in update.snapshots:
            self.history.add(snap)
        if update.snapshots:
            self._snapshot = update.snapshots[-1]
        self._last = update
        if update.replay:
            recorded = [(change, step) for change, step in update.events
                        if change.kind in ("keep_prob", "input_keep_prob", "reset", "dataset")]
            if recorded:
                self._replay_notice(*recorded[-1], earlier=len(recorded) - 1)
        if update.applied >= self._sent:
            # Older updates would flick the screen back to a value the user has already changed.
            if update.paused != self.paused:
                self.refresh_bindings()
            self.keep_prob, self.paused, self.speed = update.keep_prob, update.paused, update.speed
            self._ramp(update.step)
        if replan:
            self.plan_columns()
        self._draw(update)

    def _replay_notice(self, change, step: int, earlier: int = 0) -> None:
        """The latest recorded change in one notice that each new one replaces: a replay at speed
        passes many, and a toast each would stack until they cover the screen.

        Textual's ``notify`` cannot replace a notice, and it posts a message, so a notice may not
        be in the rack yet when the next one comes: this adds and removes them at once, with the
        calls ``notify`` ends in (``_on_notify``) and a dismissed toast uses (``_unnotify``)."""
        value = "" if change.value is None else f" → {change.value}"
        more = f" (and {earlier} earlier)" if earlier else ""
        notice = Notification(self.glyph_text(f"Recorded at step {step:,}: {change.kind}{value}{more}"),
                              timeout=3, markup=False)
        add, remove = getattr(self, "_on_notify", None), getattr(self, "_unnotify", None)
        if add is None or remove is None:  # private to Textual: a release without them gets plain notices
            self.notify(notice.message, timeout=notice.timeout, markup=False)
            return
        old, self._last_replay_notice = self._last_replay_notice, notice
        if old is not None:
            remove(old, refresh=False)
        add(Notify(notice))

    def _ramp(self, step: int) -> None:
        """The launch ramp: one speed up each time training passes the next of WARMUP_STEPS."""
        if self._warmup and not self.paused and step >= self._warmup[0]:
            self._warmup.pop(0)
            self.speed = SPEEDS[min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + 1)]
            self._command("speed", 1)

    def _draw(self, update: Update) -> None:
        snap = self._snapshot
        if snap is None:
            return
        scale = self.history.y_scale(self.log_x)
        if update.boundary is not None:
            self._maps = update.boundary
        spread_arrived = update.spread is not None and update.spread is not self._spread
        if update.spread is not None:
            self._spread = update.spread
        for col in self.query(RunColumn):
            col.show_run(snap["runs"][col.rule], self.history.runs[col.rule], scale, self.log_x, snap["step"])
            if self.rules_view:
                col.show_rules(update.rules, update.step, self.keep_prob)
            if self._maps is not None and (update.boundary is not None or spread_arrived):
                spread = self._spread.get(col.rule) if self.map_spread and self._spread else None
                col.show_map(self._maps, spread, update.map_kind)
            else:
                col.show_maps(update)
        # The keep probabilities the next step will use: when they differ from the snapshot's (changed
        # while paused), the explanation says the numbers are still the old step's.
        context = Context.of(update.config, update.arch, keep_prob=self.keep_prob,
                             input_keep_prob=update.input_keep_prob, rules=update.rules,
                             rules_first=self.rules_view)
        self.query_one(Explanation).set_snapshot(snap, context)
        self._draw_status()

    def _draw_status(self) -> None:
        # keep_prob, pause and speed as the user last set them: on screen at once, not when the
        # worker next reports.
        self.query_one(StatusBar).set_state(self._last, self._snapshot, keep_prob=self.keep_prob,
                                            paused=self.paused, speed=self.speed, warmup=bool(self._warmup))

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """What the footer offers follows the state: pause or resume, and in a replay no keep_prob
        or dataset keys (the trainer's ``refusal`` is the policy; pressed anyway, they say why)."""
        if action == "pause":
            return not self.paused
        if action in ("resume", "step_once"):
            return self.paused
        if action == "step_hint":
            return not self.paused
        if action == "keep_prob":
            return self.trainer.refusal("keep_prob") is None
        if action == "next_dataset":
            return self.trainer.refusal("dataset") is None
        if action == "refused":
            return bool(parameters) and self.trainer.refusal(str(parameters[0])) is not None
        return True

    def action_refused(self, command: str) -> None:
        reason = self.trainer.refusal(command)
        if reason:
            self.notify(self.glyph_text(reason), timeout=3)

    def action_help_quit(self) -> None:
        # Textual binds ctrl+c to a hint about ctrl+q; over SSH ctrl+c is what people press to leave.
        self.exit()

    def action_keep_prob(self, delta: float) -> None:
        if self.trainer.refusal("keep_prob"):
            self.action_refused("keep_prob")
            return
        new = step_keep_prob(self.keep_prob, delta)
        if new == self.keep_prob:
            return
        self.keep_prob = new
        self._draw_status()
        self._command("keep_prob", new)

    def action_pause(self) -> None:
        self._set_paused(True)

    def action_resume(self) -> None:
        self._set_paused(False)

    def action_toggle_pause(self) -> None:
        self._set_paused(not self.paused)

    def _set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._draw_status()
        self.refresh_bindings()
        self._command("pause", self.paused)

    def action_step_once(self) -> None:
        if not self.paused:
            self.action_step_hint()
            return
        self._command("step")

    def action_step_hint(self) -> None:
        self.notify("Pause first (space), then n steps once.", timeout=3)

    def _restart_warmup(self) -> None:
        """A new experiment starts slow again, as at launch, unless the user has set the speed."""
        if not self._warmup_on:
            return
        self._warmup = list(WARMUP_STEPS)
        delta = SPEEDS.index(WARMUP_SPEED) - SPEEDS.index(self.speed)
        self.speed = WARMUP_SPEED
        if delta:
            self._command("speed", delta)
        self._draw_status()

    def action_reset(self) -> None:
        self._command("reset")
        self._restart_warmup()
        self.notify("Replaying from the start." if self._last.replay else "Reset: same seed, same initial weights.",
                    timeout=2)

    def action_speed(self, direction: int) -> None:
        self._warmup_on, self._warmup = False, []  # the user has taken over the speed
        index = max(0, min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + direction))
        self.speed = SPEEDS[index]
        self._draw_status()
        self._command("speed", direction)

    def action_next_dataset(self) -> None:
        if self.trainer.refusal("dataset"):
            self.action_refused("dataset")
            return
        if self._last.next_dataset is None:
            config = self._last.config
            self.notify(f"No other dataset fits --train-size {config.train_size} / --test-size {config.test_size}.",
                        severity="warning")
            return
        self._command("dataset")
        self._restart_warmup()

    def action_toggle_map(self) -> None:
        cols = list(self.query(RunColumn))
        shown = bool(cols) and cols[0].plan is not None and cols[0].plan.map_shown
        if self._last.map_aspect is None:
            self.notify(f"{(self._last.map_note or 'no map').capitalize()} (a map needs 2).", timeout=3)
            return
        self.map_wanted = not shown
        self.plan_columns()
        if self.map_wanted and cols and cols[0].plan is not None and not cols[0].plan.map_shown:
            self.map_wanted = None
            self.notify(f"The map needs a taller window (at least {MAP_MIN_ROWS} rows for it).", timeout=3)

    def action_toggle_rules(self) -> None:
        self.rules_view = not self.rules_view
        for col in self.query(RunColumn):
            if col.plan is not None:
                col.apply_plan(col.plan, self.rules_view)
            else:
                col.rules_mode = self.rules_view
        self._command("rules", self.rules_view)
        if self._snapshot is not None:
            self._draw(self._last)

    def action_toggle_spread(self) -> None:
        if self._last.map_aspect is None:
            self.notify("No map: the data has more than two features.", timeout=3)
            return
        if self._last.map_kind != "boundary":
            # Regression: the curve view draws its own ±2σ band; the heat map shows values.
            self.notify("The map's Monte-Carlo spread is for class maps; the curves show a ±2σ band.", timeout=3)
            return
        self.map_spread = not self.map_spread
        self._spread = None
        self._command("map_spread", self.map_spread)
        self.notify(self.glyph_text("Map brightness: Monte-Carlo spread (brighter = less sure)." if self.map_spread
                                    else "Map brightness: confidence (brighter = surer)."), timeout=3)
        if self._maps is not None and not self.map_spread:
            for col in self.query(RunColumn):
                col.show_map(self._maps, None, self._last.map_kind)

    def action_toggle_log_x(self) -> None:
        self.log_x = not self.log_x
        if self._snapshot is not None:
            self._draw(self._last)

    def _notify_path(self, what: str, path: str | Path) -> None:
        """A notice naming a file: the path on a line of its own, shortened in the middle to the
        toast's width, so it never breaks mid-name."""
        width = min(TOAST_WIDTH, int(self.size.width * 0.9)) - 4
        shown = short_path(str(path), width, "..." if self.ascii_only else "…")
        self.notify(f"{what}\n{shown}", timeout=4, markup=False)

    def action_save_screenshot(self) -> None:
        # export_file leaves no partial file behind, and a directory that cannot be made is a
        # notice like any other failure.
        try:
            path = export_file(self.screenshot_dir, "screenshot", "svg", self.export_screenshot().encode("utf-8"))
        except OSError as exc:
            self.notify(f"Could not save the screenshot in {self.screenshot_dir}: {exc.strerror or exc}",
                        severity="error")
            return
        self._notify_path("Screenshot saved:", path)

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
        n = len(snapshots)
        # The history starts again at a reset or dataset change: say what the file covers.
        what = (f"{plural(rows, 'row')} ({plural(n, 'snapshot')} × 2 runs) saved,\n"
                f"steps {snapshots[0]['step']:,}–{snapshots[-1]['step']:,}, since {self._history_origin}:")
        self._notify_path(self.glyph_text(what), path)

    def action_help(self) -> None:
        from .widgets.help_screen import HelpScreen  # on first use: not needed for the first frame

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.KEYS, ascii_only=self.ascii_only,
                                        palette_key=self.COMMAND_PALETTE_BINDING))

    # -- the command palette and key names ------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .widgets.help_screen import key_names  # on first use: not needed for the first frame

        # Textual's own "Screenshot" ignores --screenshot-dir and its "Keys" panel is not our help.
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys", "Quit"):
                yield command
        seen = set()
        for b in self.KEYS:
            if not b.tooltip or b.action in seen or b.action in ("resume", "refused"):
                continue
            seen.add(b.action)
            action = "toggle_pause" if b.action == "pause" else b.action
            if not self.check_action(action.split("(")[0], ()):
                continue
            title = self.glyph_text(b.tooltip[0].upper() + b.tooltip[1:])
            # Run after the palette has closed, so the screen (and its footer) is whole again: a
            # screenshot from here is the same as one from its key.
            yield SystemCommand(title, f"key: {key_names(b.key, self.ascii_only)}",
                                lambda action=action: self.call_after_refresh(self.run_action, action))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            palette_class = AsciiCommandPalette if self.ascii_only else CommandPalette
            self.push_screen(palette_class(id="--command-palette",
                                           placeholder=self.glyph_text("Search for commands…")))

    def search_themes(self) -> None:
        if not self.ascii_only:
            super().search_themes()
            return
        from textual.theme import ThemeProvider

        self.push_screen(AsciiCommandPalette(providers=[ThemeProvider], placeholder="Search for themes..."))

    def get_key_display(self, binding: Binding) -> str:
        text = super().get_key_display(binding)
        return glyphs.cells(text) if self.ascii_only else text


class AsciiCommandPalette(CommandPalette):
    """Textual's command palette with an ASCII search icon (its borders: ``app.tcss``)."""

    def on_mount(self) -> None:
        for icon in self.query(SearchIcon):
            icon.icon = ">"


def plural(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``, ``1,234 rows``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def short_path(path: str, width: int, ellipsis: str = "…") -> str:
    """``path`` in at most ``width`` characters: whole when it fits, else the start of the
    directory, an ellipsis and the file name (itself cut in the middle only when even the name
    alone is too long)."""
    if len(path) <= width:
        return path
    head, _, name = path.rpartition("/")
    if len(name) + len(ellipsis) + 1 > width:
        keep = max(0, width - len(ellipsis))
        return name[:keep - keep // 2] + ellipsis + name[len(name) - keep // 2:]
    room = width - len(name) - len(ellipsis) - 1
    return head[:room] + ellipsis + "/" + name
