"""``dropout-tui sweep``: test loss and accuracy (regression: MSE and R²) against keep_prob for
every prediction rule, over seeds, on every core or on a Dask cluster (see ``core.sweep``).

Output: Rich tables per metric (rows keep_prob, columns rule, cells mean and min–max over the
seeds; the rules without dropout at prediction in one table, those with it on in another) and a
chart; or ``--json`` (one object on stdout), ``--csv`` (long format, a row per task,
checkpoint and rule); or ``--tui`` (the chart filling in as tasks finish). ``--out FILE.jsonl``
keeps every result as it arrives, and a sweep given the same file again runs only what is missing.

Exit status (``tui.errors``): 0 done; 2 bad input (one line on stderr); 128 + N stopped by signal N,
after printing what had finished (and with ``--out``, every finished result is in the file).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import sys
from dataclasses import dataclass, fields
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dropout_tui.core.config import CSV, Config
from dropout_tui.core.csv_data import CsvSource
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.fileio import OutputExistsError, OutputRefusedError, check_output, open_new, write_all
from dropout_tui.core.report import json_safe
from dropout_tui.core.sweep import (
    DEFAULT_CHECKPOINTS,
    DEFAULT_MC_MAX,
    DEFAULT_STEPS,
    MAX_STEPS,
    PREDICTION_RULES,
    RULE_NAMES,
    RULES,
    DaskPool,
    LocalPool,
    Pool,
    ResultsFile,
    Stat,
    SweepError,
    SweepSpec,
    Task,
    TaskResult,
    check_scheduler,
    csv_columns,
    csv_rows,
    default_workers,
    mc_passes,
    metrics_of,
    parse_keep_probs,
    parse_seeds,
    results_are_regression,
    run_tasks,
    summarize,
    task_source,
    summary_rows,
)
from rich import box
from rich.console import Console
from rich.table import Table

from .args import Parser, add_experiment_options, integer, path_option
from .errors import UsageError, exit_for_signal
from .outputs import STDOUT, check_distinct
from .progress import LateProgress
from .signals import SIGNALS, check_signals, signal_name
from .widgets.sweep_chart import (
    ASCII,
    Glyphs,
    chart_lines,
    choose_glyphs,
    metric_label,
    rule_label,
)

DEFAULT_KEEP_PROBS = "0.1:1.0:0.1"
DEFAULT_SEEDS = "5"
CHART_HEIGHT = 18
# The experiment options a sweep sets per task, and what to give instead.
PER_TASK = {"keep_prob": "--keep-probs", "input_keep_prob": "--input-keep-probs", "seed": "--seeds"}
METRIC_CHOICES = {"loss": "test_loss", "acc": "test_acc", "r2": "test_r2"}
# Seven series are more than a character chart keeps apart; one pass with dropout on runs beside the
# Monte-Carlo average of such passes, a little worse, so by default the chart leaves it to the tables.
CHART_RULES = tuple(r.name for r in PREDICTION_RULES if r.path != ("dropout_on",))
TABLE_GROUPS = (
    ("no dropout at prediction", tuple(r.name for r in PREDICTION_RULES if not r.path)),
    ("dropout on at prediction", tuple(r.name for r in PREDICTION_RULES if r.path)),
)


def _parser() -> Parser:
    p = Parser(
        prog="dropout-tui sweep",
        description="Train one paired experiment per keep_prob and seed (in parallel) and show final test "
                    "loss and accuracy (regression: MSE and R²) against keep_prob for every prediction rule: "
                    "each run with no dropout at prediction, the unrescaled one with outputs ×keep_prob at test "
                    "(weight scaling), and each with dropout left on: one pass, or the average of T passes "
                    "(Monte-Carlo dropout).",
        epilog="examples:\n  dropout-tui sweep --keep-probs 0.1:1.0:0.1 --seeds 5\n"
               "  dropout-tui sweep --keep-probs 0.3,0.5,0.8 --seeds 3,7,9 --out moons.jsonl --tui\n"
               "  dropout-tui sweep --scheduler tcp://10.0.0.5:8786 --json > sweep.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_experiment_options(p)
    # A sweep sets these per task: None marks "not given", so giving one can be refused by name;
    # and they are left out of --help (argparse has no public way to hide a generated option).
    p.set_defaults(**{name: None for name in PER_TASK}, eval_every=None)
    for action in p._actions:
        if action.dest in PER_TASK or action.dest == "eval_every":
            action.help = argparse.SUPPRESS
        elif action.dest == "mc_max":
            action.help = (f"the Monte-Carlo rules average T passes: the largest of 1, 2, 5, 10, 20, 50, 100, 200 "
                           f"up to this (default {DEFAULT_MC_MAX}, where Srivastava et al. 2014 found the average "
                           "matches weight scaling)")
    g = p.add_argument_group("sweep")
    g.add_argument("--keep-probs", metavar="LIST|RANGE", default=DEFAULT_KEEP_PROBS,
                   help="keep_probs: a list 0.3,0.5,0.8 or an inclusive range START:STOP:STEP "
                        f"(default {DEFAULT_KEEP_PROBS})")
    g.add_argument("--input-keep-probs", metavar="LIST|RANGE", default=None,
                   help="input-feature keep_probs, crossed with --keep-probs (default 1: no input dropout)")
    g.add_argument("--seeds", metavar="N|LIST", default=DEFAULT_SEEDS,
                   help=f"N: seeds 0..N-1; or a list 3,7,9 (one seed: 7,) (default {DEFAULT_SEEDS})")
    g.add_argument("--steps", metavar="N", type=integer("--steps", 1), default=DEFAULT_STEPS,
                   help=f"training steps per task, at most {MAX_STEPS:,} (default {DEFAULT_STEPS})")
    g.add_argument("--checkpoints", metavar="N", type=integer("--checkpoints", 1), default=DEFAULT_CHECKPOINTS,
                   help=f"steps at which each task records its curve, evenly spaced, the last at --steps "
                        f"(default {DEFAULT_CHECKPOINTS})")
    g = p.add_argument_group("where tasks run")
    g.add_argument("--workers", metavar="N", type=integer("--workers", 1), default=None,
                   help=f"worker processes (default: the cores this process may use, {default_workers()}; "
                        "with --scheduler local, the cluster's workers)")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run on Dask distributed: tcp://host:port of a running scheduler, or 'local' for a "
                        "LocalCluster of worker processes (pip install 'dropout-tui[cluster]')")
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="FILE.jsonl", type=path_option("--out"), default=None,
                   help="append each result to this JSON Lines file as it arrives; run again with the same "
                        "file to finish an interrupted sweep (only missing tasks run)")
    g.add_argument("--json", action="store_true", help="print one JSON object (results and summary) on stdout")
    g.add_argument("--csv", metavar="FILE", type=path_option("--csv", stdout=True), default=None,
                   help="write every result as CSV, a row per task, checkpoint and rule ('-' for stdout)")
    g.add_argument("--force", action="store_true", help="overwrite an existing --csv file")
    g.add_argument("--metric", choices=tuple(METRIC_CHOICES), default="loss",
                   help="what the chart shows: test loss (regression: MSE), test accuracy, or for regression "
                        "test R² (default loss)")
    g.add_argument("--rules", metavar="LIST", default=None,
                   help=f"the prediction rules the tables and chart show, of {','.join(RULE_NAMES)} (default: "
                        "all in the tables; in the chart all but dropout left on for one pass, whose curve runs "
                        "beside the Monte-Carlo one; the results, --json and --csv always hold every rule)")
    g.add_argument("--ascii", action="store_true",
                   help="only ASCII characters in tables and chart (the default with TERM=linux)")
    g.add_argument("--tui", action="store_true",
                   help="show the chart filling in as tasks finish; ←/→ pick a keep_prob, Enter opens the live app "
                        "there")
    g.add_argument("--screenshot-dir", metavar="DIR", type=Path, default=Path("."),
                   help="where --tui's 's' saves SVG screenshots (default .)")
    return p


@dataclass(frozen=True)
class Request:
    spec: SweepSpec
    workers: int | None
    scheduler: str | None
    out: Path | None
    json: bool
    csv: Path | None
    force: bool
    metric: str
    ascii: bool
    tui: bool
    screenshot_dir: Path
    rules: tuple[str, ...] = RULE_NAMES  # shown in the tables
    chart_rules: tuple[str, ...] = RULE_NAMES  # shown in the chart

    @property
    def regression(self) -> bool:
        return self.spec.base.regression

    @property
    def standardised(self) -> bool:
        return spec_standardises_target(self.spec)


def spec_standardises_target(spec: SweepSpec) -> bool:
    """A regression sweep over a CSV file: each task fits the target standardised with its own
    split's training rows (``core.csv_data``), so its MSE is of that standardised target."""
    return spec.base.dataset == CSV and spec.base.regression


def parse_rules(text: str) -> tuple[str, ...]:
    """Rule names from ``inverted,unrescaled_mc`` (in the table's order). Raises UsageError."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in RULES]
    if unknown or not names:
        raise UsageError(f"--rules: expected names from {','.join(RULE_NAMES)}, got {text!r}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--rules: {', '.join(twice)} is given twice")
    return tuple(n for n in RULE_NAMES if n in names)


def parse(argv: list[str]) -> Request:
    """The validated request of a command line. Raises UsageError or ConfigError."""
    args = _parser().parse_args(argv)
    for name, instead in PER_TASK.items():
        if getattr(args, name) is not None:
            raise UsageError(f"--{name.replace('_', '-')}: a sweep sets it per task; use {instead}")
    if args.eval_every is not None:
        raise UsageError("--eval-every: a sweep takes metrics at its --checkpoints only")
    values = {f.name: getattr(args, f.name) for f in fields(Config)
              if f.name not in PER_TASK and f.name != "eval_every" and getattr(args, f.name) is not None}
    if values.get("data") and "dataset" not in values:
        values["dataset"] = CSV  # --data FILE.csv sweeps over that file, as it trains on it
    values.setdefault("mc_max", DEFAULT_MC_MAX)
    base = Config.for_dataset(**values)
    keep_probs = parse_keep_probs(args.keep_probs, "--keep-probs")
    input_keep_probs = (parse_keep_probs(args.input_keep_probs, "--input-keep-probs")
                        if args.input_keep_probs is not None else (1.0,))
    spec = SweepSpec(base, keep_probs, parse_seeds(args.seeds), input_keep_probs, args.steps,
                     args.checkpoints, data=_csv_record(base)).validate()
    if spec.data is not None:
        # A bad file or a size the file cannot give is one line here, before any worker starts.
        PairedExperiment(spec.tasks()[0].config, source=task_source(spec.tasks()[0]))
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
        if args.workers is not None and args.scheduler != "local":
            raise UsageError("--workers: a running Dask cluster has its own workers; give --workers only "
                             "with --scheduler local")
    if args.json and args.tui:
        raise UsageError("--json: not with --tui (the view is the output)")
    if args.csv == Path("-") and (args.json or args.tui):
        raise UsageError("--csv -: stdout carries --json or the --tui view; give --csv a file name")
    # Every file is checked before the sweep's work: a results file and a CSV naming one file
    # would leave only the CSV; a CSV that cannot be made would be found only at the end.
    check_distinct([("--out", args.out), ("--csv", args.csv)])
    if args.csv is not None and args.csv != STDOUT:
        try:  # what writing it at the end would refuse, refused before the sweep's work
            check_output(args.csv, args.force)
        except OutputExistsError:
            raise UsageError(f"--csv: {args.csv} exists; use --force to overwrite it") from None
        except OutputRefusedError as exc:
            raise UsageError(f"--csv: {exc}") from None
        parent = args.csv.parent
        if not parent.is_dir():
            raise UsageError(f"--csv: {parent} is not a directory")
    if args.tui and args.screenshot_dir.exists() and not args.screenshot_dir.is_dir():
        raise UsageError(f"--screenshot-dir: {args.screenshot_dir} is not a directory")
    metric = METRIC_CHOICES[args.metric]
    if metric not in metrics_of(spec.base.regression):
        raise UsageError(f"--metric {args.metric}: " + ("a regression sweep has no accuracy; use r2 or loss"
                                                        if metric == "test_acc" else
                                                        "R² is for regression; use acc or loss"))
    rules = RULE_NAMES if args.rules is None else parse_rules(args.rules)
    chart_rules = CHART_RULES if args.rules is None else rules
    return Request(spec, args.workers, args.scheduler, args.out, args.json, args.csv, args.force,
                   metric, args.ascii, args.tui, args.screenshot_dir, rules, chart_rules)


def _csv_record(base: Config) -> dict | None:
    """What every task of a sweep over a CSV gets: the file's text (small files) or name and
    SHA-256, read once here. Raises CsvDataError."""
    if base.dataset != CSV:
        return None
    return CsvSource.read(base.data, test_path=base.test_data or None, label=base.label or None,
                          task=base.task).record()


def run(argv: list[str], view: Callable[[Sweep], int] | None = None) -> int:
    """Run the sweep a command line asks for: headless, or through ``view`` (the live chart) when
    it asks for ``--tui``. Raises UsageError."""
    try:
        request = parse(argv)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    if request.tui and view is None:
        raise UsageError("--tui: this entry point has no live view; run it as 'dropout-tui sweep --tui'")
    if request.tui:
        from .app_main import need_a_terminal

        need_a_terminal("leave out --tui to print the tables")  # before any file or worker is made
    return Sweep(request).main(view if request.tui else None)


def make_pool(request: Request, n_tasks: int) -> Pool:
    """The pool a request asks for. Raises SweepError (unreachable scheduler, Dask missing)."""
    if request.scheduler is not None:
        return DaskPool(request.scheduler, request.workers)
    return LocalPool(max(1, min(request.workers or default_workers(), n_tasks)))


class Sweep:
    """One sweep as the command runs it: its tasks, the results file, the results so far."""

    def __init__(self, request: Request):
        self.request = request
        self.spec = request.spec
        self.tasks = self.spec.tasks()
        self.file: ResultsFile | None = None
        self.results: dict[tuple, TaskResult] = {}

    def open_file(self) -> None:
        if self.request.out is None:
            return
        try:
            self.file = ResultsFile.open(self.request.out, self.spec)
        except SweepError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"--out: cannot open {self.request.out}: {exc.strerror or exc}") from None
        keys = {t.key for t in self.tasks}
        for key, result in self.file.done.items():
            if key in keys:
                self.results[key] = result
        if self.file.dropped_partial:
            _tell(f"dropout-tui: {self.request.out}: its last line was incomplete (an interrupted write); "
                  "that task runs again")
        if self.results:
            _tell(f"dropout-tui: resuming: {len(self.results)} of {len(self.tasks)} tasks are in {self.request.out}")

    def todo(self) -> list[Task]:
        return [t for t in self.tasks if t.key not in self.results]

    def keep(self, task: Task, result: TaskResult) -> None:
        if self.file is not None:
            try:
                self.file.append(result)
            except OSError as exc:
                raise UsageError(f"--out: cannot write {self.request.out}: {exc.strerror or exc}") from None
        self.results[task.key] = result

    def ordered(self) -> list[TaskResult]:
        """The results in task order (keep_prob, input keep_prob, seed)."""
        return [self.results[k] for k in sorted(self.results)]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def main(self, view: Callable[[Sweep], int] | None = None) -> int:
        """Open the results file, run the tasks still to do headless or in ``view``, close it.
        Raises ``tui.signals.Stopped`` for a signal that came during start-up: before any file is made."""
        check_signals()
        self.open_file()
        try:
            if view is not None:
                return view(self)
            return self._headless()
        finally:
            self.close()

    def _headless(self) -> int:
        todo = self.todo()
        finished = True
        # The process's own handlers (``cli.main`` installed them before the imports): a signal
        # that came during start-up is not forgotten. A second signal is only noted: stopping takes
        # at most STOP_CHECK_STEPS steps per running task, and an exception raised in the middle
        # of the pool's shutdown would leave its processes behind and the exit waiting for them.
        stop = SIGNALS
        stop.insist = False
        if todo:
            pool = make_pool_or_usage(self.request, len(todo))
            glyphs = choose_glyphs(ascii=self.request.ascii)
            label = f"sweep{glyphs.sep}{_where(self.request, pool)}"
            with LateProgress(label, len(todo), ascii_only=glyphs is ASCII) as bar:
                done = [0]

                def on_result(task: Task, result: TaskResult) -> None:
                    self.keep(task, result)
                    done[0] += 1
                    bar.update(done[0])

                try:
                    finished = run_tasks(pool, todo, on_result, lambda: stop.requested)
                except SweepError as exc:
                    raise UsageError(str(exc)) from None
                except MemoryError:
                    raise UsageError("a task ran out of memory; try smaller --layers, --train-size or "
                                     "--test-size, or fewer --workers") from None
                finally:
                    _close_pool(pool)
        signum = stop.signum
        if signum is not None:
            _tell(f"dropout-tui: stopped by {signal_name(signum)}: {len(self.results)} of {len(self.tasks)} "
                  "tasks finished" + (f", all in {self.request.out}" if self.file is not None else ""))
        if self.results:
            self.output(complete=finished and signum is None)
        return exit_for_signal(signum) if signum is not None else 0

    def output(self, complete: bool) -> None:
        results = self.ordered()
        request = self.request
        if request.csv == Path("-"):
            write_csv(request.csv, results, request.force)
        if request.json:
            _print(json.dumps(json_result(self.spec, results, complete)))
        elif request.csv != Path("-"):
            console = StdoutConsole()
            glyphs = choose_glyphs(ascii=request.ascii, colour=console.color_system is not None)
            print_tables(console, request, results, glyphs)
            width = min(console.width, 100)
            several = len(self.spec.input_keep_probs) > 1
            for q in self.spec.input_keep_probs:  # one chart per input keep_prob: x is keep_prob
                xs, series = chart_series(self.spec, results, request.metric, input_keep_prob=q,
                                          rules=request.chart_rules)
                for line in chart_lines(xs, series, width, CHART_HEIGHT, metric=request.metric, glyphs=glyphs,
                                        seeds=seeds_text(self.spec, results, glyphs.dash),
                                        regression=request.regression, standardised=request.standardised,
                                        note=f"input keep_prob {q:g}" if several else ""):
                    console.print(line, soft_wrap=True)
        if request.csv is not None and request.csv != Path("-"):
            # Written after what is printed: a file that fails now loses nothing on screen.
            write_csv(request.csv, results, request.force)


def make_pool_or_usage(request: Request, n_tasks: int) -> Pool:
    try:
        return make_pool(request, n_tasks)
    except SweepError as exc:
        raise UsageError(str(exc)) from None


def _close_pool(pool: Pool) -> None:
    try:
        pool.close()
    except Exception as exc:  # noqa: BLE001 - a pool that fails to shut down must not hide the sweep's outcome
        _tell(f"dropout-tui: warning: shutting down the workers: {exc}")


def _where(request: Request, pool: Pool) -> str:
    n = getattr(pool, "workers", None)
    if request.scheduler == "local":
        return f"Dask LocalCluster, {n} workers"
    if request.scheduler is not None:
        return f"Dask at {request.scheduler}, {n} workers"
    return f"{n} worker process{'es' if n != 1 else ''}"


def _tell(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # the terminal went away (SIGHUP)
        pass


def _print(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader went away (``| head``): ``cli.main`` ends quietly, as SIGPIPE would
    except (OSError, ValueError):  # the terminal went away (SIGHUP)
        pass


class StdoutConsole(Console):
    """Rich's console on stdout, whose reader may go away (``| head``): Rich then exits with status
    1 by itself; this raises BrokenPipeError instead, which ``cli.main`` ends quietly with 141, as
    the main command does."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


# -- outputs ---------------------------------------------------------------------------------------


def json_result(spec: SweepSpec, results: list[TaskResult], complete: bool) -> dict[str, Any]:
    """``{"config", "steps", "checkpoints", "keep_probs", "input_keep_probs", "seeds", "rules",
    "complete", "results", "summary"}``; non-finite numbers as null."""
    identity = spec.identity()
    return json_safe({
        **identity, "keep_probs": list(spec.keep_probs), "input_keep_probs": list(spec.input_keep_probs),
        "seeds": list(spec.seeds), "rules": {r.name: r.meaning for r in PREDICTION_RULES},
        "mc_passes": mc_passes(spec.base.mc_max),
        "complete": complete, "results": results, "summary": summary_rows(results),
    })


def write_csv(path: Path, results: list[TaskResult], force: bool) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_columns(results_are_regression(results)))
    writer.writerows(csv_rows(results))
    data = buf.getvalue().encode()
    if path == Path("-"):
        _print(data.decode().rstrip("\n"))
        return
    try:
        fd = open_new(path, force)
    except (OutputExistsError, OutputRefusedError) as exc:
        raise UsageError(f"--csv: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--csv: cannot write {path}: {exc.strerror or exc}") from None
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def points(spec: SweepSpec) -> list[tuple[float, float]]:
    return [(p, q) for p in spec.keep_probs for q in spec.input_keep_probs]


def _number(v: float, digits: int) -> str:
    """``digits`` decimals, or 3 significant digits for a value too large for them (an exploding
    regression's MSE)."""
    return f"{v:.{digits}f}" if abs(v) < 10_000 else f"{v:.3g}"


def cell(s: Stat | None, glyphs: Glyphs, digits: int = 3, compact: bool = False) -> str:
    """``mean (min–max)`` (``compact``: the mean alone) of the finite values; ``—`` without one.
    Seeds without a finite value are counted: all diverged (``2/4 diverged``), or not finite
    although their run trained on (``3/4 not finite, 1 diverged``: outputs past the float type)."""
    if s is None or s.n == 0:
        return ""
    dash = glyphs.dash
    if s.n_finite == 0:
        text = "—" if glyphs is not ASCII else "-"
    elif s.n_finite == 1 or compact:
        text = _number(s.mean, digits)
    else:
        text = f"{_number(s.mean, digits)} ({_number(s.min, digits)}{dash}{_number(s.max, digits)})"
    missing = s.n - s.n_finite
    if missing > s.diverged:
        text += f" {missing}/{s.n} not finite" + (f", {s.diverged} diverged" if s.diverged else "")
    elif s.diverged:
        text += f" {s.diverged}/{s.n} diverged"
    return text


def seeds_text(spec: SweepSpec, results: list[TaskResult], dash: str = "–") -> str:
    """``5 seeds``; or, before every task has finished, how many each point has so far:
    ``1–2 of 3 seeds`` (``2 of 3 seeds`` when the same everywhere; ``dash`` between the two)."""
    n = len(spec.seeds)
    counts: dict[tuple[float, float], int] = {}
    for r in results:
        key = (r["keep_prob"], r["input_keep_prob"])
        counts[key] = counts.get(key, 0) + 1
    done = [counts.get(point, 0) for point in points(spec)]
    plural = "s" if n != 1 else ""
    if not done or min(done) == n:
        return f"{n} seed{plural}"
    lo, hi = min(done), max(done)
    return f"{lo} of {n} seed{plural}" if lo == hi else f"{lo}{dash}{hi} of {n} seed{plural}"


def summary_table(spec: SweepSpec, results: list[TaskResult], metric: str, glyphs: Glyphs,
                  rules: tuple[str, ...] = RULE_NAMES, group: str = "", compact: bool = False) -> Table:
    """Rows: keep_prob (× input keep_prob); columns: ``rules``; cells: mean (min–max) over the
    seeds (``compact``: the mean). The best mean of each rule is bold: the lowest loss, the highest
    accuracy or R²."""
    stats = summarize(results, metric)
    base = spec.base
    sep = glyphs.sep
    spread = "mean" if compact else f"mean (min{glyphs.dash}max)"
    title = metric_label(metric, spec.base.regression, glyphs, spec_standardises_target(spec)) \
        + (f"{sep}{group}" if group else "")
    caption = (f"{spread} over {seeds_text(spec, results, glyphs.dash)} after {spec.steps:,} steps\n"
               f"{base.dataset_label}{sep}hidden {','.join(map(str, base.layers))} {base.activation}{sep}"
               f"{base.optimizer} lr {base.lr:g}" + ("" if base.full_batch else f"{sep}batch {base.batch_size}"))
    if any(RULES[r].path for r in rules):
        T = mc_passes(base.mc_max)
        caption += (f"\nMC: Monte-Carlo dropout, the average of T = {T} passes with dropout on" if T > 1 else
                    "\nMC: Monte-Carlo dropout with T = 1 pass (--mc-max 1): the same as dropout on")
    if compact:
        caption += f"\n(min{glyphs.dash}max in a wider terminal, --json or --csv)"
    # A table narrower than its caption would wrap the caption mid-phrase: it is made as wide as
    # the caption's longest line (the console narrows it again where it must).
    table = Table(title=title, caption=caption, min_width=max(map(len, caption.splitlines())),
                  box=box.ASCII if glyphs is ASCII else box.HEAVY_HEAD)
    two = len(spec.input_keep_probs) > 1
    table.add_column("keep_prob" + (" / input" if two else ""), justify="right")
    for rule in rules:
        table.add_column(rule_label(rule, glyphs), justify="right")
    best: dict[str, float] = {}
    for rule in rules:
        means = [s[rule].mean for s in stats.values() if math.isfinite(s[rule].mean)]
        if means:
            best[rule] = min(means) if metric == "test_loss" else max(means)
    for point in points(spec):
        row = stats.get(point)
        label = f"{point[0]:g}" + (f" / {point[1]:g}" if two else "")
        cells = []
        for rule in rules:
            s = row[rule] if row else None
            text = cell(s, glyphs, compact=compact)
            cells.append(f"[bold]{text}[/]" if s is not None and s.mean == best.get(rule) else text)
        table.add_row(label, *cells)
    return table


def summary_tables(spec: SweepSpec, results: list[TaskResult], metric: str, glyphs: Glyphs,
                   rules: tuple[str, ...] = RULE_NAMES, width: int | None = None) -> list[Table]:
    """One table per group of ``TABLE_GROUPS`` that has a rule of ``rules``. A table wider than
    ``width`` with full cells shows the means alone (the whole cell or none: never cut); one still
    too wide is split into tables of fewer rules."""
    from rich.console import Console

    def fits(table: Table, wrapped_headers: bool = False) -> bool:
        """Within ``width``: unwrapped; or, for bare means (no spaces to wrap at), with headers
        wrapped at their spaces — never a value or a word cut."""
        if width is None:
            return True
        caption_width, table.min_width = table.min_width, None  # the cells decide, not the caption
        try:
            measure = Console(width=10_000).measure(table)
            return (measure.minimum if wrapped_headers else measure.maximum) <= width
        finally:
            table.min_width = caption_width

    def fitted(shown: tuple[str, ...], group: str) -> list[Table]:
        table = summary_table(spec, results, metric, glyphs, shown, group)
        if fits(table):
            return [table]
        table = summary_table(spec, results, metric, glyphs, shown, group, compact=True)
        if fits(table, wrapped_headers=True) or len(shown) == 1:
            return [table]
        half = (len(shown) + 1) // 2
        return fitted(shown[:half], group) + fitted(shown[half:], group)

    tables = []
    for group, members in TABLE_GROUPS:
        shown = tuple(r for r in members if r in rules)
        if shown:
            tables += fitted(shown, group)
    return tables


def table_metrics(spec: SweepSpec) -> tuple[str, str]:
    """The tables' metrics: loss and accuracy, or for regression MSE and R²."""
    return metrics_of(spec.base.regression)[:2]  # type: ignore[return-value]


def print_tables(console: Console, request: Request, results: list[TaskResult], glyphs: Glyphs) -> None:
    for metric in table_metrics(request.spec):
        for table in summary_tables(request.spec, results, metric, glyphs, request.rules, console.width):
            console.print(table)


def chart_series(spec: SweepSpec, results: list[TaskResult], metric: str, input_keep_prob: float | None = None,
                 rules: tuple[str, ...] = RULE_NAMES) -> tuple[list[float], dict[str, list[Stat | None]]]:
    """The chart's x values (keep_probs) and each of ``rules``' Stat at them, at one input
    keep_prob (the first of the sweep's by default)."""
    q = spec.input_keep_probs[0] if input_keep_prob is None else input_keep_prob
    stats = summarize(results, metric)
    xs = list(spec.keep_probs)
    series: dict[str, list[Stat | None]] = {
        rule: [stats[(p, q)][rule] if (p, q) in stats else None for p in xs] for rule in rules}
    return xs, series


def exact(v: float) -> str:
    """A value for the cursor's panel: 4 decimals in 8 characters (more digits than the table)."""
    if not math.isfinite(v):
        return "—".rjust(8)
    text = f"{v:.4f}"
    return (text if len(text) <= 8 else f"{v:.3g}").rjust(8)


VALUE_NAMES = {"test_loss": "loss", "test_acc": "acc", "test_r2": "R²"}


def values_at(spec: SweepSpec, results: list[TaskResult], keep_prob: float, glyphs: Glyphs,
              rules: tuple[str, ...] = RULE_NAMES, width: int | None = None) -> list[str]:
    """Exact numbers at one keep_prob, a row per rule: the mean ± std over the seeds of both table
    metrics (loss and accuracy, or MSE and R²), and how many seeds gave a finite value. Rows wider
    than ``width`` lose, in this order, the count, the std, then the second metric: whole
    elements, the same in every row, so the columns stay aligned."""
    q = spec.input_keep_probs[0]
    mine = [r for r in results if r["keep_prob"] == keep_prob and r["input_keep_prob"] == q]
    stats = {m: summarize(mine, m).get((keep_prob, q), {}) for m in table_metrics(spec)}
    regression = spec.base.regression
    name_width = max(len(rule_label(r, glyphs)) for r in rules)

    def rows(level: int) -> list[str]:
        out = []
        for rule in rules:
            name = rule_label(rule, glyphs).ljust(name_width)
            parts = []
            for i, (metric, by_rule) in enumerate(stats.items()):
                s = by_rule.get(rule)
                if s is None or (i > 0 and level >= 3):
                    continue
                label = "MSE" if regression and metric == "test_loss" else VALUE_NAMES[metric]
                if glyphs is ASCII:
                    label = label.replace("²", "2")
                std = f" {glyphs.plus_minus}{exact(s.std).strip():<7}" if level < 2 else ""
                parts.append(f"{label} {exact(s.mean)}{std}")
            if not parts:
                out.append(f"{name}  no result yet")
                continue
            s0 = next(iter(stats.values()))[rule]
            # Out of the seeds asked for: before every task has finished, fewer have a value.
            count = (f"  n {s0.n_finite}/{len(spec.seeds)}" if level < 1 else "") \
                + (f"  diverged {s0.diverged}" if s0.diverged else "")
            out.append(f"{name}  " + "  ".join(parts) + count)
        return out

    for level in range(4):
        candidate = rows(level)
        if width is None or max(map(len, candidate)) <= width:
            return candidate
    return [row[:width] for row in candidate]
