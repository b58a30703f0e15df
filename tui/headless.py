"""``dropout-tui --headless``: train without the UI, then print both runs side by side."""

from __future__ import annotations

import errno
import json
import signal
import sys

from rich.console import Console
from rich.table import Table

from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.report import result
from dropout_tui.core.snapshot import LayerStats, RunMetrics, Snapshot, docs
from dropout_tui.core.stepping import advance_with_snapshots

from .args import session_files_from_args
from .errors import EXIT_OK, EXIT_USAGE, UsageError, exit_for_signal
from .outputs import Outputs, Problem
from .progress import LateProgress
from .signals import SIGNALS, check_signals, signal_name

MAX_CHUNK = 64  # steps between looks at a stop request (a signal); snapshots stay where they were


def train(exp: PairedExperiment, steps: int, on_snapshot=None, on_progress=None,
          should_stop=None) -> Snapshot | None:
    """Advance ``steps`` steps, taking a snapshot every ``eval_every`` steps and at the end.
    Stops early as soon as ``should_stop()`` is true, returning the last snapshot so far (maybe None)."""
    last: list[Snapshot | None] = [None]

    def keep(snap: Snapshot) -> None:
        last[0] = snap
        if on_snapshot:
            on_snapshot(snap)

    finished = advance_with_snapshots(exp, steps, keep, max_chunk=MAX_CHUNK, should_stop=should_stop,
                                      on_progress=on_progress)
    if finished and (last[0] is None or last[0]["step"] != exp.step):
        keep(exp.snapshot())  # the final state, when it is not on the snapshot grid (or --steps 0)
    return last[0]


def run_headless(config: Config, args) -> int:
    """Train, record (``--record``, ``--csv``), print. On SIGHUP/SIGTERM/SIGINT: close the files and
    return 128 + signum without printing a result (see ``tui.signals``); a signal before training
    starts makes no file. A file that cannot be written stops (said once on stderr) while training
    goes on; the exit status is then 2. A closed pipe on ``--csv -`` stops quietly, as SIGPIPE would."""
    files = session_files_from_args(args)
    if files.cast is not None:
        raise UsageError("--cast: records the app's screen; with --headless use --record or --csv")
    exp = PairedExperiment(config)
    stop = SIGNALS
    stop.insist = True  # a second signal stops even a chunk that does not come back
    check_signals()  # before any file is made
    outputs = Outputs.open(config, files, mode="headless", report=report_problem)
    failed = True
    try:
        snap = _train_with_progress(exp, args.steps, outputs.on_snapshot, lambda: stop.requested)
        failed = False
    finally:
        if stop.signum is not None:
            reason = signal_name(stop.signum)
        else:
            reason = "error" if failed else "end"
        outputs.close(reason, exp.step)
    if stop.signum is not None:
        if stop.signum != getattr(signal, "SIGPIPE", None):
            _tell(f"dropout-tui: stopped by {signal_name(stop.signum)} at step {exp.step}"
                  + (f"; {files.record} closed" if files.record is not None and outputs.log
                     and not outputs.log.stopped else ""))
        return exit_for_signal(stop.signum)
    if args.json:
        sys.stdout.write(json.dumps(result(config, snap)) + "\n")
    else:
        Console().print(summary_table(config, snap, exp.arch))
    return EXIT_USAGE if outputs.problems else EXIT_OK


def report_problem(problem: Problem) -> None:
    """A file stopped: one line on stderr, at once; a reader that went away from ``--csv -``
    ends the run quietly instead, as SIGPIPE ends a pipeline's writer."""
    error = problem.error
    if problem.option == "--csv" and problem.path == "<stdout>" and error is not None and error.errno == errno.EPIPE:
        if not SIGNALS.requested and hasattr(signal, "SIGPIPE"):
            SIGNALS.deliver(signal.SIGPIPE)
        return
    _tell(f"dropout-tui: error: {problem}")


def _tell(line: str) -> None:
    """One line on stderr, unless the terminal is gone (SIGHUP)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _train_with_progress(exp: PairedExperiment, steps: int, on_snapshot=None,
                         should_stop=None) -> Snapshot | None:
    with LateProgress("training", steps) as bar:
        return train(exp, steps, on_snapshot=on_snapshot, on_progress=bar.update, should_stop=should_stop)


def _fmt(x: object, digits: int = 3) -> str:
    if x is None or x != x:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)) and (abs(x) >= 10 ** 6 or 0 < abs(x) < 10 ** -digits):
        return f"{x:.{digits}g}" if abs(x) < float("inf") else ("∞" if x > 0 else "-∞")
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


# Rows of the summary table: run fields by their documented labels. A field only one run has
# (×p at test) shows blank in the other's column.
SUMMARY_FIELDS = ("diverged", "train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc",
                  "test_confidence", "test_loss_scaled", "test_acc_scaled", "test_confidence_scaled")
LAYER_ROWS = (("mean", "mean_train", "mean_pred"), ("norm", "norm_train", "norm_pred"))


def summary_table(config: Config, snap: Snapshot, arch: str) -> Table:
    """Both runs of one snapshot side by side, rows labelled from ``core.snapshot``'s field docs."""
    runs: list[RunMetrics] = [snap["runs"]["inverted"], snap["runs"]["unrescaled"]]
    run_docs, layer_docs = docs(RunMetrics), docs(LayerStats)
    table = Table(title=f"{config.dataset} · {arch} {config.activation} · "
                        f"keep_prob {snap['keep_prob']:g} · step {snap['step']:,}")
    table.add_column("metric")
    table.add_column("inverted (÷p)", justify="right")
    table.add_column("×", justify="right")
    table.add_column("unrescaled", justify="right")
    table.add_column("×", justify="right")
    for key in SUMMARY_FIELDS:
        if any(key in run for run in runs):
            inv, unr = (_fmt(run.get(key)) if key in run else "" for run in runs)
            table.add_row(run_docs[key].label, inv, "", unr, "")
    layers: list[list[LayerStats]] = [run["layers"] for run in runs]
    for li, lu in zip(*layers):
        table.add_section()
        for what, train, pred in LAYER_ROWS:
            digits = 3 if what == "mean" else 2
            table.add_row(
                f"{li['name']} {what}  train → pred",
                f"{_fmt(li[train], digits)} → {_fmt(li[pred], digits)}", _ratio(li[train], li[pred]),
                f"{_fmt(lu[train], digits)} → {_fmt(lu[pred], digits)}", _ratio(lu[train], lu[pred]),
            )
        table.add_row(f"{li['name']} {layer_docs['weight_norm'].label}", _fmt(li["weight_norm"], 2), "",
                      _fmt(lu["weight_norm"], 2), "")
    return table


def _ratio(a: float, b: float) -> str:
    if not isinstance(a, float) or not isinstance(b, float) or b == 0 or a != a or b != b:
        return "—"
    return f"{a / b:.2f}"
