"""``dropout-tui --headless``: train without the UI, then print both runs side by side."""

from __future__ import annotations

import json
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.report import result
from dropout_tui.core.stepping import advance_with_snapshots

from .outputs import Outputs
from .signals import StopOnSignals, signal_name

PROGRESS_AFTER_S = 1.0  # shorter runs finish before a bar would be worth drawing


MAX_CHUNK = 64  # steps between looks at a stop request (a signal); snapshots stay where they were


def train(exp: PairedExperiment, steps: int, on_snapshot=None, on_progress=None,
          should_stop=None) -> dict | None:
    """Advance ``steps`` steps, taking a snapshot every ``eval_every`` steps and at the end.
    Stops early as soon as ``should_stop()`` is true, returning the last snapshot so far (maybe None)."""
    last: list[dict | None] = [None]

    def keep(snap: dict) -> None:
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
    return 128 + signum without printing a result (see ``tui.signals``)."""
    if getattr(args, "cast", None):
        from .errors import UsageError

        raise UsageError("--cast: records the app's screen; with --headless use --record or --csv")
    exp = PairedExperiment(config)
    with StopOnSignals() as stop:
        outputs = Outputs.open(config, args, mode="headless")
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
        if stop.requested:
            _tell(f"dropout-tui: stopped by {signal_name(stop.signum)} at step {exp.step}"
                  + (f"; {args.record} closed" if getattr(args, "record", None) else ""))
            return stop.exit_status
    if args.json:
        sys.stdout.write(json.dumps(result(config, snap)) + "\n")
    else:
        Console().print(summary_table(config, snap))
    return 0


def _tell(line: str) -> None:
    """One line on stderr, unless the terminal is gone (SIGHUP)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _train_with_progress(exp: PairedExperiment, steps: int, on_snapshot=None,
                         should_stop=None) -> dict | None:
    console = Console(stderr=True)
    start = time.perf_counter()
    state = {"progress": None, "task": None}

    def on_progress(step: int) -> None:
        if state["progress"] is None:
            if not console.is_terminal or time.perf_counter() - start < PROGRESS_AFTER_S:
                return
            progress = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=console, transient=True)
            progress.start()
            state["progress"], state["task"] = progress, progress.add_task("train", total=steps)
        state["progress"].update(state["task"], completed=step)

    try:
        return train(exp, steps, on_snapshot=on_snapshot, on_progress=on_progress, should_stop=should_stop)
    finally:
        if state["progress"] is not None:
            try:
                state["progress"].stop()
            except (OSError, ValueError):  # the terminal went away (SIGHUP)
                pass


def _fmt(x, digits=3) -> str:
    if x is None or x != x:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    return f"{x:.{digits}f}"


def summary_table(config: Config, snap: dict) -> Table:
    inv, unr = snap["runs"]["inverted"], snap["runs"]["unrescaled"]
    table = Table(title=f"{config.dataset} · hidden {'-'.join(map(str, config.layers))} {config.activation} · "
                        f"keep_prob {snap['keep_prob']:.2f} · step {snap['step']}")
    table.add_column("metric")
    table.add_column("inverted (÷p)", justify="right")
    table.add_column("unrescaled", justify="right")
    rows = [
        ("diverged", "diverged"),
        ("train loss, with dropout", "train_loss_dropout"),
        ("train loss, predict mode", "train_loss"),
        ("train accuracy", "train_acc"),
        ("test loss", "test_loss"),
        ("test accuracy", "test_acc"),
        ("test confidence", "test_confidence"),
    ]
    for label, key in rows:
        table.add_row(label, _fmt(inv.get(key)), _fmt(unr.get(key)))
    table.add_row("test loss, scaled ×p at test", "", _fmt(unr.get("test_loss_scaled")))
    table.add_row("test accuracy, scaled ×p at test", "", _fmt(unr.get("test_acc_scaled")))
    for li, lu in zip(inv["layers"], unr["layers"]):
        name = li["name"]
        table.add_section()
        table.add_row(f"{name} mean  train / predict",
                      f"{_fmt(li['mean_train'])} / {_fmt(li['mean_eval'])}",
                      f"{_fmt(lu['mean_train'])} / {_fmt(lu['mean_eval'])}")
        table.add_row(f"{name} norm  train / predict",
                      f"{_fmt(li['norm_train'], 2)} / {_fmt(li['norm_eval'], 2)}",
                      f"{_fmt(lu['norm_train'], 2)} / {_fmt(lu['norm_eval'], 2)}")
        table.add_row(f"{name} weight norm", _fmt(li["weight_norm"], 2), _fmt(lu["weight_norm"], 2))
    return table
