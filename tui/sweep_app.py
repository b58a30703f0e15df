"""``dropout-tui sweep --tui``: the sweep's chart filling in as tasks finish.

←/→ move a keep_prob cursor and the panel below prints the exact numbers there; ↑/↓ pick a seed;
``m`` switches the chart between test loss and test accuracy; ``s`` saves an SVG; Enter opens the
live side-by-side app (``DropoutApp``) at the cursor's keep_prob and the chosen seed, and ``q`` in
it comes back here.

The tasks run in a ``SweepRunner``: a thread that drives the pool and outlives any one view, so the
sweep goes on while the live app is open (the two share the cores). The view polls it; it never
touches the pool. Regenerate the README's picture with
``python -m dropout_tui.tui.sweep_app OUT.svg [sweep options]``.
"""

from __future__ import annotations

import asyncio
import math
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar, cast

from dropout_tui.core.sweep import RULES, Pool, Task, TaskResult, mc_passes, run_tasks
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Footer, Static

from .errors import exit_for_signal
from .outputs import export_name
from .signals import SIGNALS, install_close_on_signals
from .sweep_cmd import (
    StdoutConsole,
    Sweep,
    chart_series,
    seeds_text,
    make_pool_or_usage,
    parse,
    print_tables,
    table_metrics,
    values_at,
)
from .widgets import glyphs as ascii_glyphs
from .widgets.sweep_chart import (
    ASCII,
    COLOUR,
    Glyphs,
    SweepChart,
    choose_glyphs,
    metric_label,
    rule_label,
    value_label,
)

POLL_S = 0.25  # how often the view looks for new results
CHART_MIN_ROWS = 10  # the chart's min-height in CSS


class SweepRunner:
    """Runs a sweep's missing tasks on ``pool`` in a background thread; results go to
    ``sweep.keep`` (so to its ``--out`` file) as they arrive. ``stop()`` cancels what has not
    finished and waits for the pool to shut down."""

    def __init__(self, sweep: Sweep, pool: Pool | None):
        self.sweep = sweep
        self.pool = pool
        self.todo = sweep.todo()
        self.total = len(sweep.tasks)
        self.started = time.monotonic()
        self.finished_here = 0
        self.error: BaseException | None = None
        self._stop = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.done = not self.todo or pool is None

    def start(self) -> None:
        if not self.done:
            self._thread = threading.Thread(target=self._run, name="sweep-runner", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self.pool is not None
        try:
            run_tasks(self.pool, self.todo, self._keep, lambda: self._stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the view and the command, not lost in a thread
            self.error = exc
        finally:
            self.done = True

    def _keep(self, task: Task, result: TaskResult) -> None:
        with self._lock:
            self.sweep.keep(task, result)
            self.finished_here += 1

    def results(self) -> list[TaskResult]:
        with self._lock:
            return self.sweep.ordered()

    def eta_s(self) -> float | None:
        """Seconds left at the rate so far (None before the first result)."""
        if not self.finished_here or self.done:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.finished_here * (len(self.todo) - self.finished_here)

    def wait(self) -> None:
        """Until every task has finished (or failed)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join()
        if self.pool is not None:
            try:
                self.pool.close()
            except Exception:  # noqa: BLE001, S110 - shutting down; the results are already kept
                pass
            self.pool = None


class SweepApp(App):
    TITLE = "dropout-tui sweep"
    CSS = """
    #status { height: 1; background: $boost; padding: 0 1; }
    SweepChart { height: 1fr; min-height: 10; padding: 0 1; }  /* CHART_MIN_ROWS */
    #values { height: auto; padding: 0 1; }
    """
    KEYS: ClassVar[list[Binding]] = [
        Binding("left", "cursor(-1)", "keep_prob", key_display="←→", id="sweep.left"),
        Binding("right", "cursor(1)", "keep_prob", show=False, id="sweep.right"),
        Binding("up", "seed(-1)", "seed", key_display="↑↓", id="sweep.seed_up"),
        Binding("down", "seed(1)", "seed", show=False, id="sweep.seed_down"),
        Binding("m", "metric", "metric", id="sweep.metric"),
        Binding("enter", "open", "live app", id="sweep.open"),
        Binding("s", "save_svg", "svg", id="sweep.svg"),
        Binding("q", "quit", "quit", id="sweep.quit"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    def __init__(self, runner: SweepRunner, *, metric: str = "test_loss", glyphs: Glyphs = COLOUR,
                 screenshot_dir: Path = Path("."), cursor: int | None = None, seed_index: int = 0):
        super().__init__()
        self.runner = runner
        self.sweep = runner.sweep
        self.spec = runner.sweep.spec
        self.metric = metric
        self.glyphs = glyphs
        self.screenshot_dir = screenshot_dir
        n = len(self.spec.keep_probs)
        self.cursor = min(n - 1, n // 2) if cursor is None else cursor
        self.seed_index = seed_index
        self.choice: tuple[float, int] | None = None  # (keep_prob, seed) to open in the live app
        self.signum: int | None = None
        self._shown: tuple[int, bool] | None = None
        self._window: Size | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield SweepChart(glyphs=self.glyphs)
        yield Static(id="values")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        try:
            install_close_on_signals(self._on_signal, loop=asyncio.get_running_loop())
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal support here (not the main thread, or not a Unix loop)
        self.set_interval(POLL_S, self._poll)
        self.redraw()

    def _on_signal(self, signum: int) -> None:
        self.signum = signum
        self.exit(return_code=exit_for_signal(signum))

    def _poll(self) -> None:
        state = (len(self.sweep.results), self.runner.done)
        if state != self._shown:
            self.redraw()

    # -- drawing ---------------------------------------------------------------------------------

    def redraw(self) -> None:
        done = self.runner.done  # before the results: a result that lands in between shows next time
        results = self.runner.results()
        try:
            chart = self.query_one(SweepChart)
        except NoMatches:  # the app is closing
            return
        self._shown = (len(results), done)
        xs, series = chart_series(self.spec, results, self.metric, rules=self.sweep.request.chart_rules)
        q = self.spec.input_keep_probs
        chart.set_data(xs, series, metric=self.metric, cursor=self.cursor,
                       seeds=self._text(seeds_text(self.spec, results)),
                       regression=self.sweep.request.regression, standardised=self.sweep.request.standardised,
                       note=f"input keep_prob {q[0]:g}" if len(q) > 1 else "")
        self.query_one("#status", Static).update(self._text(self._status(len(results))))
        self.query_one("#values", Static).update(self._text("\n".join(self._values(results))))

    @property
    def ascii_only(self) -> bool:
        return self.glyphs is ASCII

    def _text(self, text: str) -> str:
        """``text`` as this view's glyphs allow: ASCII signs and words on the Linux console."""
        return ascii_glyphs.prose(text) if self.ascii_only else text

    def get_key_display(self, binding: Binding) -> str:
        if self.ascii_only and binding.key == "enter":
            return "Enter"  # its symbol has no ASCII look-alike
        text = super().get_key_display(binding)
        return ascii_glyphs.cells(text) if self.ascii_only else text

    def _status(self, n: int) -> str:
        r = self.runner
        parts = [f"{n}/{r.total} tasks", f"{self.spec.steps:,} steps each"]
        if r.error is not None:
            parts.append(f"stopped: {r.error}")
        elif not r.done:
            eta = r.eta_s()
            workers = getattr(r.pool, "workers", None)
            parts.append(f"{workers} workers" if workers else "running")
            parts.append("ETA …" if eta is None else f"ETA {_duration(eta)}")
        elif n < r.total:
            parts.append("stopped")
        else:
            parts.append("done")
        return self.glyphs.sep.join(parts)

    def on_resize(self, event: events.Resize) -> None:
        # The event carries the new size; the app's own may still be the old one here.
        self._window = event.size
        self.redraw()  # the panel below the chart fits its rows to the window

    def _values(self, results: list[TaskResult]) -> list[str]:
        """The panel under the chart, fitted to the window: no row wider than it (elements drop
        out whole), and no more rows than leave the chart its minimum height: the seed's line goes
        first (the header then shrinks to the keep_prob and the seed), then rule rows from the end,
        saying how many are hidden."""
        window = self._window or self.size
        width = max(20, window.width - 2)
        room = max(1, window.height - 2 - CHART_MIN_ROWS)  # status line, footer, the chart
        p = self.spec.keep_probs[self.cursor]
        seed = self.spec.seeds[self.seed_index]
        regression = self.sweep.request.regression
        first, second = (metric_label(m, regression, self.glyphs, self.sweep.request.standardised)
                         for m in table_metrics(self.spec))
        mc = (f"{self.glyphs.sep}MC: T = {mc_passes(self.spec.base.mc_max)}"
              if any(RULES[r].path for r in self.sweep.request.rules) else "")
        sep, pm = self.glyphs.sep, self.glyphs.plus_minus
        q = self.spec.input_keep_probs
        point = f"keep_prob {p:g}" + (f", input {q[0]:g}" if len(q) > 1 else "")
        header = _fit([f"{point}{sep}{first} and {second.removeprefix('test ')}, mean {pm} std over seeds{mc}",
                       f"{point}{sep}mean {pm} std over seeds{mc}", f"{point}{mc}"], width)
        rows = values_at(self.spec, results, p, self.glyphs, self.sweep.request.rules, width)
        own = next((r for r in results if r["keep_prob"] == p and r["seed"] == seed
                    and r["input_keep_prob"] == self.spec.input_keep_probs[0]), None)
        if own is None:
            seed_line = _fit([f"seed {seed}: no result yet{sep}Enter opens the live app at keep_prob {p:g}, "
                              f"seed {seed}", f"seed {seed}: no result yet"], width)
        else:
            # The rules the live app's columns show without its rules view: no dropout at prediction;
            # the metric the chart shows (m switches it).
            shown = metric_label(self.metric, regression, self.glyphs, self.sweep.request.standardised)
            seed_line = f"seed {seed} {shown}:"
            for rule, m in own["final"].items():
                value = cast(float, m.get(self.metric, math.nan))
                entry = f"{rule_label(rule, self.glyphs)} {value_label(value, 6).strip()}"
                entry = (" " if seed_line.endswith(":") else "  ") + entry
                if not RULES[rule].path and len(seed_line) + len(entry) <= width:
                    seed_line += entry
        if len(rows) + 2 <= room:
            return [header, *rows, seed_line]
        # Short of rows: the seed's line goes, then rule rows from the end; the point and the seed
        # that Enter would open stay on the first line.
        q = self.spec.input_keep_probs
        at = f"keep_prob {p:g}" + (f", input {q[0]:g}" if len(q) > 1 else "") + f"{sep}seed {seed}"
        short = _fit([f"{at}{mc}", at, f"keep_prob {p:g}"], width)
        if len(rows) + 1 <= room:
            return [short, *rows]
        keep = max(0, room - 2)
        hidden = len(rows) - keep
        more = f"… {hidden} more rule{'s' if hidden != 1 else ''} in a taller window"[:width]
        return [short, *rows[:keep], more] if room >= 2 else [short]

    # -- actions ---------------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self.cursor = max(0, min(len(self.spec.keep_probs) - 1, self.cursor + delta))
        self.redraw()

    def action_seed(self, delta: int) -> None:
        self.seed_index = (self.seed_index + delta) % len(self.spec.seeds)
        self.redraw()

    def action_metric(self) -> None:
        loss, other = table_metrics(self.spec)
        self.metric = other if self.metric == loss else loss
        self.redraw()

    def action_open(self) -> None:
        self.choice = (self.spec.keep_probs[self.cursor], self.spec.seeds[self.seed_index])
        self.exit()

    def action_save_svg(self) -> None:
        try:
            if self.screenshot_dir.exists() and not self.screenshot_dir.is_dir():
                raise NotADirectoryError(f"{self.screenshot_dir} is not a directory")
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(filename=export_name("sweep", "svg"), path=str(self.screenshot_dir))
        except OSError as exc:
            self.notify(f"Could not save the screenshot: {exc}", severity="error")
            return
        self.notify(f"Screenshot saved to {path}", timeout=4)


def _fit(choices: list[str], width: int) -> str:
    """The first of ``choices`` (richest first) that fits ``width``; else the last, cut."""
    return next((c for c in choices if len(c) <= width), choices[-1][:width])


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


def run_sweep_app(sweep: Sweep) -> int:
    """The ``--tui`` view; Enter runs the live app and comes back. Returns the exit status."""
    request = sweep.request
    todo = sweep.todo()
    pool = make_pool_or_usage(request, len(todo)) if todo else None
    runner = SweepRunner(sweep, pool)
    runner.start()
    glyphs = choose_glyphs(ascii=request.ascii, colour=True)
    cursor, seed_index, metric = None, 0, request.metric
    status = 0
    try:
        while True:
            if SIGNALS.signum is not None:  # noted while the pool started, or between two views
                status = exit_for_signal(SIGNALS.signum)
                break
            app = SweepApp(runner, metric=metric, glyphs=glyphs, screenshot_dir=request.screenshot_dir,
                           cursor=cursor, seed_index=seed_index)
            try:
                app.run()
            finally:
                # The app's event loop, closing, put the default actions (death) back: a signal
                # while the workers stop, or in the live app's start-up, is noted instead.
                SIGNALS.reinstall()
            cursor, seed_index, metric = app.cursor, app.seed_index, app.metric
            if app.signum is not None:
                status = exit_for_signal(app.signum)
                break
            if app.choice is None:
                break
            status = _live_app(sweep, *app.choice)
            if status:
                break
    finally:
        runner.stop()
    if runner.error is not None and not isinstance(runner.error, Exception):
        raise runner.error
    results = sweep.ordered()
    if runner.error is not None:
        print(f"dropout-tui: error: {runner.error}", file=sys.stderr)
        status = status or 2
    if len(results) < len(sweep.tasks):
        print(f"dropout-tui: {len(results)} of {len(sweep.tasks)} tasks finished"
              + (f"; run again with --out {request.out} to finish" if request.out else ""), file=sys.stderr)
    if results and status == 0:
        console = StdoutConsole()
        print_tables(console, request, results, choose_glyphs(ascii=request.ascii))
    return status


def _live_app(sweep: Sweep, keep_prob: float, seed: int) -> int:
    """The live side-by-side app at one point of the sweep; returns its exit status (128 + N after
    signal N)."""
    from .app import DropoutApp

    spec = sweep.spec
    config = spec.base.with_changes(keep_prob=keep_prob, input_keep_prob=spec.input_keep_probs[0], seed=seed)
    # As the app launched on its own: the first steps at a pace the chart can show.
    app = DropoutApp(config, screenshot_dir=sweep.request.screenshot_dir, warmup=True)
    try:
        app.run()
    finally:
        SIGNALS.reinstall()  # as after the sweep's own view
    return app.return_code if app.return_code and app.return_code >= 128 else 0


async def _shoot(sweep: Sweep, out: Path, size: tuple[int, int]) -> Path:
    runner = SweepRunner(sweep, None)
    app = SweepApp(runner, glyphs=COLOUR)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        path = app.save_screenshot(filename=out.name, path=str(out.parent))
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m dropout_tui.tui.sweep_app OUT.svg [sweep options]``: run the sweep (give ``--out``
    to reuse finished results) and save the view as an SVG."""
    from .sweep_cmd import make_pool

    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].endswith(".svg"):
        print("usage: python -m dropout_tui.tui.sweep_app OUT.svg [sweep options]", file=sys.stderr)
        return 2
    out = Path(args[0])
    sweep = Sweep(parse(args[1:]))
    sweep.open_file()
    try:
        todo = sweep.todo()
        if todo:
            pool = make_pool(sweep.request, len(todo))
            try:
                run_tasks(pool, todo, sweep.keep)
            finally:
                pool.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        print(asyncio.run(_shoot(sweep, out, (100, 36))))
    finally:
        sweep.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
