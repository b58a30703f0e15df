"""``dropout-tui bench``: training throughput on the three reference nets (see ``core.bench``).

Prints a Rich table, or with ``--json`` exactly one JSON object on stdout:
``{"configs": [{"name", "steps_per_s", "pair_steps_per_s", "minor_faults_per_step", ...}, ...]}``
(extra keys ride along). ``dropout_tui.tui.cli`` limits BLAS to one thread before calling ``run``.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from dropout_tui.core import bench
from dropout_tui.core.prediction import RULES_SHARE
from dropout_tui.core.config import Config

from .args import Parser, integer
from .errors import UsageError

RULES_KEPT_TARGET = 0.90  # the prediction rules must not cost training more than a tenth of its speed
# Other work on the machine takes cores and cache from every measurement here.
IDLE = "the targets assume an otherwise idle machine"


def _parser() -> Parser:
    p = Parser(
        prog="dropout-tui bench",
        description="Measure training steps/s on three reference nets (float64, relu, SGD): one run "
                    "without metrics, and the paired experiment with a metrics snapshot every "
                    "eval_every steps; also minor page faults per step in steady state.",
    )
    p.add_argument("--quick", action="store_true",
                   help="a few short repeats (seconds, for tests); the numbers are rough")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--ui", action="store_true",
                   help="instead: run the app in a pseudo-terminal and measure what a person feels "
                        "(steps/s with the UI, bytes/s written, key-to-screen latency, first frame)")
    p.add_argument("--eval-every", type=integer("--eval-every", 1), default=None, metavar="N",
                   help=f"steps between snapshots in the pair loop (default: the app's, {Config().eval_every})")
    p.add_argument("--only", metavar="NAMES", default=None,
                   help=f"comma-separated subset of {','.join(r.name for r in bench.REFERENCES)},sweep (default all)")
    return p


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    known = [r.name for r in bench.REFERENCES] + ["SWEEP"]
    names = [t.strip().upper() for t in text.split(",")]
    bad = [n for n in names if n not in known]
    if not names or bad:
        raise UsageError(f"--only: expected names from {','.join(known)} separated by commas, got {text!r}")
    return names


def _blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else None


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    names = _names(args.only)
    if args.ui:
        return _run_ui(args)
    budget = bench.QUICK if args.quick else bench.DEFAULT
    err = Console(stderr=True)
    with_sweep = names is None or "SWEEP" in names
    if args.json:
        results = bench.run(names, budget, eval_every=args.eval_every)
        out = {"configs": results, "blas_threads": _blas_threads(), "quick": args.quick}
        if with_sweep:
            out["sweep"] = bench.measure_sweep(budget, _pair_rate_b(results))
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    with err.status("measuring…") as status:
        results = bench.run(names, budget, eval_every=args.eval_every,
                            on_result=lambda r: status.update(f"measured {r['name']}, measuring…"))
        if with_sweep:
            status.update(f"measuring a sweep of {bench.SWEEP_TASKS} tasks on 1 and 2 worker processes…")
            sweep = bench.measure_sweep(budget, _pair_rate_b(results))
    if results:
        Console().print(_table(results, args.quick))
        Console().print(_rules_table([r for r in results if "rules_eval_s" in r]))
    if with_sweep:
        Console().print(_sweep_table(sweep, args.quick))
    return 0


def _pair_rate_b(results: list[dict]) -> float | None:
    """B's pair rate when this run measured B (with the app's snapshot interval), else None."""
    return next((r["pair_steps_per_s"] for r in results
                 if r["name"] == "B" and r["eval_every"] == Config().eval_every), None)


def _sweep_table(r: dict, quick: bool) -> Table:
    one, two = (str(w) for w in bench.SWEEP_WORKERS)
    table = Table(
        title=f"sweep · {r['tasks']} tasks of net {r['net']} {r['shape']} × {r['steps_per_task']:,} steps · "
              "worker processes",
        caption=("--quick: rough numbers (start-up dominates)\n" if quick else "")
                + f"wall: pool start-up included; task rate: the fastest task's training, timed inside the "
                  f"{two}-worker pool, against {r['net']}'s pair rate; final rules: its dropout-on and "
                  f"Monte-Carlo (T = {r['mc_passes']}) evaluation at the end\ntargets: {two} workers ≤ "
                  f"{1 / bench.SWEEP_SPEEDUP_TARGET:.1f}× the time of {one}; task rate ≥ "
                  f"{bench.SWEEP_RATE_TARGET:.0%} of the pair rate; " + IDLE,
    )
    for name in (f"wall, {one} worker", f"wall, {two} workers", "time ratio", "task steps/s", "of pair rate",
                 "final rules"):
        table.add_column(name, justify="right")
    table.add_row(
        f"{r['wall_s'][one]:.2f} s", f"{r['wall_s'][two]:.2f} s",
        f"{r['time_ratio']:.2f}× {_mark(r['time_ratio'] <= 1 / bench.SWEEP_SPEEDUP_TARGET)}",
        f"{r['task_steps_per_s']:,.0f}",
        f"{r['task_rate_share']:.0%} {_mark(r['task_rate_share'] >= bench.SWEEP_RATE_TARGET)}",
        f"{r['final_rules_s']:.2f} s",
    )
    return table


def _run_ui(args) -> int:
    from dropout_tui.core.report import json_safe

    from .bench_ui import run_ui_bench

    with Console(stderr=True).status("running the app in a pseudo-terminal…"):
        out = run_ui_bench(seconds=2.0 if args.quick else 5.0, keys=4 if args.quick else 10)
    if args.json:
        sys.stdout.write(json.dumps(json_safe(out)) + "\n")
        return 0
    table = Table(title="the app as a person feels it (1 BLAS thread)")
    # Short headers: the table must fit 80 columns. The caption says what each is measured against.
    for name in ("size", "steps/s", "share", "out, run", "out, idle", "key", "1st frame", "memory"):
        table.add_column(name, justify="left" if name == "size" else "right")
    for r in out["ui"]:
        table.add_row(
            r["size"], f"{r['ui_steps_per_s']:,.0f}", f"{r['ui_share_of_headless']:.0%}",
            f"{r['bytes_per_s_training'] / 1000:,.1f} kB", f"{r['bytes_per_s_paused'] / 1000:,.1f} kB",
            f"{r['key_latency_median_ms']:.0f} / {r['key_latency_worst_ms']:.0f} ms",
            f"{r['first_frame_s']:.2f} s", f"{r['peak_rss_mb']:.0f} MB",
        )
    code = out["bytecode"]
    compiled = (f"\n1st frame: {code['without_bytecode']} of our {code['modules']} modules have no cached bytecode "
                "(PYTHONDONTWRITEBYTECODE, or an install that cannot write it); the app compiles those it loads "
                "at every start" if code["without_bytecode"] else "")
    table.caption = ("share: of the headless rate; out: bytes per second written to the terminal, training / paused; "
                     "key: key press to screen, median / worst.\n"
                     "targets: ≥ 90% of headless; ≤ 20 kB/s at 80x24, ≤ 35 kB/s at 120x40; key→screen ≤ 50 ms; "
                     "first frame ≤ 0.5 s; peak memory ≤ 150 MB; " + IDLE + compiled)
    Console().print(table)
    return 0


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[red]✗[/]"


def _table(results: list[dict], quick: bool) -> Table:
    every = sorted({r["eval_every"] for r in results})
    targets = " / ".join(f"{r['name']} {r['target_steps_per_s']:,.0f}" for r in results)
    table = Table(
        title="training steps/s · float64 · relu · SGD · keep_prob 0.5",
        caption=f"best of {results[0]['repeats'] if results else 0} repeats · BLAS threads: {_blas_threads()}"
                + (" · --quick: rough numbers" if quick else "")
                + f"\npair = both runs + a metrics snapshot every {'/'.join(map(str, every))} steps"
                + f"\ntargets: one run {targets}; pair ≥ {bench.PAIR_TARGET_RATIO:.0%} of one run;"
                  f" < {bench.FAULTS_TARGET:g} minor page fault per step; " + IDLE,
    )
    table.add_column("net")
    table.add_column("data")
    table.add_column("one run", justify="right")
    table.add_column("pair", justify="right")
    table.add_column("pair/one", justify="right")
    table.add_column("faults/step one, pair", justify="right")
    for r in results:
        ratio_ok = r["pair_ratio"] >= bench.PAIR_TARGET_RATIO
        faults_ok = max(r["minor_faults_per_step"], r["pair_minor_faults_per_step"]) < bench.FAULTS_TARGET
        table.add_row(
            f"{r['name']} {r['shape']}" + (" [red]diverged[/]" if r["diverged"] else ""),
            r["data"],
            f"{r['steps_per_s']:,.0f} {_mark(r['steps_per_s'] >= r['target_steps_per_s'])}",
            f"{r['pair_steps_per_s']:,.0f}",
            f"{r['pair_ratio']:.0%} {_mark(ratio_ok)}",
            f"{r['minor_faults_per_step']:.1f}, {r['pair_minor_faults_per_step']:.1f} {_mark(faults_ok)}",
        )
    return table


def _rules_table(results: list[dict]) -> Table:
    """The prediction rules' cost: what Monte-Carlo dropout takes from training in the app."""
    table = Table(
        title="prediction rules (no dropout, ×p, dropout on, Monte-Carlo dropout up to T passes)",
        caption=f"with rules: the pair loop evaluating them on the app's cadence (at most "
                f"{RULES_SHARE:.0%} of the time); target: keeps ≥ {RULES_KEPT_TARGET:.0%} of the pair rate",
    )
    for name in ("net", "T", "one evaluation", "refreshed every", "pair with rules", "kept"):
        table.add_column(name, justify="left" if name == "net" else "right")
    for r in results:
        kept = r["rules_share_kept"]
        table.add_row(f"{r['name']} {r['shape']}", str(r["mc_passes"]), f"{1000 * r['rules_eval_s']:,.0f} ms",
                      f"{r['rules_eval_s'] / RULES_SHARE:,.1f} s",
                      f"{r['pair_steps_per_s_with_rules']:,.0f} ({r['rules_evaluations']} evaluations)",
                      f"{kept:.0%} {_mark(kept >= RULES_KEPT_TARGET)}")
    return table
