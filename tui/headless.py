"""``dropout-tui --headless``: train without the UI, then print both runs side by side."""

from __future__ import annotations

import errno
import json
import signal
import sys

from rich import box
from rich.console import Console
from rich.table import Table

from dropout_tui.core.config import Config
from dropout_tui.core.data import TargetScale
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.report import result
from dropout_tui.core.snapshot import LayerStats, RulesResult, RunMetrics, Snapshot, docs
from dropout_tui.core.stepping import advance_with_snapshots

from .args import session_files_from_args
from .errors import EXIT_OK, EXIT_USAGE, UsageError, exit_for_signal
from .explain import Context, sentences
from .outputs import STDOUT, Outputs, Problem
from .progress import LateProgress
from .signals import SIGNALS, check_signals, signal_name
from .widgets.glyphs import ascii_wanted, prose
from .numbers import fmt, num, prob, ratio

MAX_CHUNK = 64  # steps between looks at a stop request (a signal); snapshots stay where they were


def train(exp: PairedExperiment, steps: int, on_snapshot=None, on_progress=None,
          should_stop=None) -> Snapshot | None:
    """Advance ``steps`` steps, taking a snapshot first (at step 0, as the app does: curves and
    recordings start where training did), then every ``eval_every`` steps and at the end, where it
    carries every prediction rule.
    Stops early as soon as ``should_stop()`` is true, returning the last snapshot so far (maybe None)."""
    last: list[Snapshot | None] = [None]

    def keep(snap: Snapshot) -> None:
        last[0] = snap
        if on_snapshot:
            on_snapshot(snap)

    if exp.step == 0:
        keep(exp.snapshot())
    end = exp.step + steps
    finished = advance_with_snapshots(exp, steps, keep, max_chunk=MAX_CHUNK, should_stop=should_stop,
                                      on_progress=on_progress, rules_at=end)
    if finished and (last[0] is None or last[0]["step"] != exp.step):
        keep(exp.snapshot(rules=True))  # the final state, when it is not on the snapshot grid (or --steps 0)
    return last[0]


def run_headless(config: Config, args) -> int:
    """Train, record (``--record``, ``--csv``), print. On SIGHUP/SIGTERM/SIGINT: close the files and
    return 128 + signum without printing a result (see ``tui.signals``); a signal before training
    starts makes no file. A file that cannot be written stops (said once on stderr) while training
    goes on; the exit status is then 2. A closed pipe on ``--csv -`` stops quietly, as SIGPIPE would."""
    files = session_files_from_args(args)
    check_stdout(args.json, files.csv)
    if files.cast is not None:
        raise UsageError("--cast: records the app's screen; with --headless use --record or --csv")
    exp = PairedExperiment(config)
    stop = SIGNALS
    check_signals()  # before any file is made
    outputs = Outputs.open(config, files, mode="headless", source=exp.source, report=report_problem)
    failed = True
    try:
        with stop.insisting():  # a second signal stops even a chunk that does not come back
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
    explanation = None
    if getattr(args, "explain", False) and snap is not None:
        explanation = [text for _, text in sentences(snap, Context.of(config, exp.arch))]
    print_result(config, snap, exp.arch, args.json, files.csv == STDOUT, ascii_wanted(getattr(args, "ascii", False)),
                 explanation, exp.data.target_scale)
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


def check_stdout(json_wanted: bool, csv: object) -> None:
    """``--csv -`` takes stdout for the CSV; ``--json`` wants it too: refuse the pair (one line)."""
    if json_wanted and csv == STDOUT:
        raise UsageError("--json with --csv -: both would write to stdout; give --csv a file name")


def print_result(config: Config, snap: Snapshot | None, arch: str, as_json: bool, csv_on_stdout: bool,
                 ascii_only: bool = False, explanation: list[str] | None = None,
                 target_scale: TargetScale | None = None) -> None:
    """The result on stdout: one JSON object (``--json``) or the table, then the explanation's
    sentences (``--explain``); with ``--csv -`` stdout carries the CSV alone, so the table goes to
    stderr. ``target_scale``: the data's standardised regression target (a CSV file), whose
    standardisation both say."""
    if snap is None:
        return
    if as_json:
        sys.stdout.write(json.dumps(result(config, snap, explanation, target_scale)) + "\n")
        return
    console = Console(stderr=csv_on_stdout)
    console.print(summary_table(config, snap, arch, ascii_only, target_scale))
    for text in explanation or []:
        console.print()
        console.print(prose(text) if ascii_only else text, highlight=False, markup=False)


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
    """The app's number format (``tui.numbers.fmt``): huge and tiny values in scientific
    notation, ``nan`` / ``inf`` as such, ``—`` for a value that is not there."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    return fmt(x, digits, 10)


# Rows of the summary table: run fields by their documented labels. A field only one run has
# (×p at test) shows blank in the other's column.
SUMMARY_FIELDS = ("diverged", "learning", "train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc",
                  "test_confidence", "test_rmse", "test_r2", "test_spread", "test_loss_scaled", "test_acc_scaled",
                  "test_confidence_scaled", "test_r2_scaled", "test_spread_scaled")
LAYER_ROWS = (("mean", "mean_train", "mean_pred"), ("norm", "norm_train", "norm_pred"))


def standardised_note(scale: TargetScale) -> str:
    """One line saying what a standardised target does to the numbers shown."""
    return (f"losses (MSE) and RMSE are of {scale.name} standardised with the training rows' mean "
            f"{num(scale.mean, 4)} and std {num(scale.std, 4)}; R² and spread have no units")


def summary_table(config: Config, snap: Snapshot, arch: str, ascii_only: bool = False,
                  target_scale: TargetScale | None = None) -> Table:
    """Both runs of one snapshot side by side, rows labelled from ``core.snapshot``'s field docs;
    the × columns are each layer's train / pred ratio, as in the app. ``ascii_only``: ASCII
    characters only (``--ascii``, TERM=linux), like the app. ``target_scale``: a standardised
    regression target (a CSV file): the title and caption say so, the RMSE row is labelled
    standardised and a row gives the RMSE in the target's units."""
    def t(text: str) -> str:
        return prose(text) if ascii_only else text

    scale = target_scale if "test_rmse" in snap["runs"]["inverted"] else None

    runs: list[RunMetrics] = [snap["runs"]["inverted"], snap["runs"]["unrescaled"]]
    run_docs, layer_docs = docs(RunMetrics), docs(LayerStats)
    inputs = snap.get("input_keep_prob", 1.0)
    caption = "×: the layer's train / pred ratio (1 = unchanged by dropout)"
    if scale is not None:
        caption += "\n" + standardised_note(scale)
    if "chance_acc" in snap:
        caption += (f"\nchance (always the most frequent class / the class frequencies): "
                    f"accuracy {_fmt(snap['chance_acc'])}, loss {_fmt(snap['chance_loss'])}")
    dataset = config.dataset_label + (f" · {scale.label}" if scale is not None else "")
    table = Table(title=t(f"{dataset} · {arch} {config.activation} · keep_prob {prob(snap['keep_prob'])}"
                          + (f" · input keep_prob {prob(inputs)}" if inputs < 1 else "")
                          + f" · step {snap['step']:,}"),
                  caption=t(caption), box=box.ASCII if ascii_only else box.HEAVY_HEAD)
    table.add_column("metric")
    table.add_column(t("inverted (÷p)"), justify="right")
    table.add_column(t("×"), justify="right")
    table.add_column("unrescaled", justify="right")
    table.add_column(t("×"), justify="right")
    for key in SUMMARY_FIELDS:
        if any(key in run for run in runs):
            inv, unr = (_fmt(run.get(key)) if key in run else "" for run in runs)
            label = run_docs[key].label
            if key == "test_rmse" and scale is not None:
                table.add_row(t(f"{label}, standardised"), t(inv), "", t(unr), "")
                # The one number in the target's own units: how far off a prediction is, typically.
                inv, unr = (num(_times(run.get(key), scale.std), 4) if key in run else "" for run in runs)
                table.add_row(t(f"{label}, {scale.name} units"), t(inv), "", t(unr), "")
                continue
            table.add_row(t(label), t(inv), "", t(unr), "")
    layers: list[list[LayerStats]] = [run["layers"] for run in runs]
    for li, lu in zip(*layers):
        table.add_section()
        for what, train, pred in LAYER_ROWS:
            digits = 3 if what == "mean" else 2
            table.add_row(
                t(f"{li['name']} {what}  train → pred"),
                t(f"{_fmt(li[train], digits)} → {_fmt(li[pred], digits)}"), t(_ratio(li[train], li[pred])),
                t(f"{_fmt(lu[train], digits)} → {_fmt(lu[pred], digits)}"), t(_ratio(lu[train], lu[pred])),
            )
        table.add_row(t(f"{li['name']} {layer_docs['weight_norm'].label}"), t(_fmt(li["weight_norm"], 2)), "",
                      t(_fmt(lu["weight_norm"], 2)), "")
    rules = [run.get("rules") for run in runs]
    if all(r is not None for r in rules):
        table.add_section()
        table.add_row(t("prediction rule: loss · " + ("acc" if "test_acc" in runs[0] else "R²")), "", "", "", "")
        for label, pick in _rule_rows(rules):  # type: ignore[arg-type]
            inv, unr = (t(_rule_cell(pick(r))) for r in rules)  # type: ignore[arg-type]
            table.add_row(t(f"  {label}"), inv, "", unr, "")
    return table


def _rule_rows(rules: list[RulesResult]):
    """(label, picker) per prediction rule, the Monte-Carlo ladder of the longer run."""
    rule_docs = docs(RulesResult)
    rows = [(rule_docs[name].label, lambda r, name=name: r.get(name))
            for name in ("no_dropout", "weight_scaling", "dropout_on")]
    for i, row in enumerate(rules[0]["mc_dropout"]):
        rows.append((f"MC dropout, T={row['T']}",
                     lambda r, i=i: r["mc_dropout"][i] if i < len(r["mc_dropout"]) else None))
    return rows


def _rule_cell(metrics) -> str:
    if metrics is None:
        return ""
    if "test_acc" in metrics:
        return f"{_fmt(metrics['test_loss'])} · {_pct(metrics['test_acc'])}"
    return f"{_fmt(metrics['test_loss'])} · R² {_fmt(metrics.get('test_r2'), 2)}"


def _times(x: object, factor: float) -> object:
    return x * factor if isinstance(x, float) else x


def _pct(x: object) -> str:
    return f"{100 * x:.1f}%" if isinstance(x, float) and x == x else "—"


def _ratio(a: float, b: float) -> str:
    return fmt(ratio(a, b), 2, 10)
