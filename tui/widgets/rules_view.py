"""One run's prediction rules: the same weights evaluated the ways people predict, side by side.

A status line (the step the rules were evaluated at, and whether that is behind), a header, then
one row per rule — no dropout; ×p at test (the unrescaled run only: the inverted run already
divided by keep_prob while training); dropout left on (one stochastic pass, as when
``model.eval()`` is forgotten); Monte-Carlo dropout averaged over T passes — with test loss,
accuracy and confidence (regression: RMSE and R²) and the Monte-Carlo predictive spread (``sd``:
the standard deviation of the predicted probability over passes). Below, when there are rows for
it, a chart of the Monte-Carlo test loss against T on a log axis with flat reference lines for no
dropout and ×p, where the averaged loss meets weight scaling (Srivastava et al., JMLR 2014, §7.5:
about T = 50).

Short of rows, the Monte-Carlo rows condense to a few T (``MC_PRIORITY``) and the chart goes; short
of width, whole columns drop (``DROP``); every value sits in a fixed cell (``numbers.fit``).
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text

from dropout_tui.core.snapshot import RunMetrics

from .diff_view import DiffView
from .loss_chart import AXIS, plotted_line, series_pixels, stack_pixels, tick_label
from ..numbers import fit, fmt, ok, pct, prob
from .rows import Part, fit_row
from .theme import Roles

VALUE = 5
CELL = VALUE + 1  # a value and the space before it
LONG_LABEL, SHORT_LABEL = 10, 7
# Label (long, short) of each row.
LABELS = {"no_dropout": ("no dropout", "no drop"), "weight_scaling": ("×p at test", "×p"),
          "dropout_on": ("dropout on", "drop on")}
COLUMNS = ("loss", "acc", "conf", "sd")
REG_COLUMNS = ("loss", "rmse", "r2", "sd")
HEADERS = {"loss": "loss", "acc": "acc", "conf": "conf", "sd": "sd", "rmse": "RMSE", "r2": "R²"}
DROP = ("conf", "r2", "acc", "rmse", "sd")  # which column goes first when the width is short
# Which T the Monte-Carlo rows keep when rows are short: Srivastava's k ≈ 50 first, then the
# most passes, a few passes, the ones between, and last T = 1 (the same numbers as "dropout on").
MC_PRIORITY = (50, 200, 5, 10, 20, 2, 100, 1)
FIXED_ROWS = 5  # status, header, no dropout, ×p, dropout on
MC_MIN = 2
CHART_MIN = 5  # legend, three plot rows, the T axis
CHART_PREF = 8
OFF_CHART = 2.0  # a reference line further above the curve than this many times its span is written, not drawn
MONO = {"mc": "o", "no_dropout": "-", "weight_scaling": "=", "overlap": "*"}


def plan_rows(height: int, n_ladder: int) -> tuple[int, int]:
    """(Monte-Carlo rows, chart rows) for a view ``height`` rows tall: the chart gets
    ``CHART_PREF`` rows when the ladder can still show ``MC_MIN`` rows, the rest go to the ladder,
    and without ``CHART_MIN`` rows for it there is no chart."""
    room = max(0, height - FIXED_ROWS)
    mc = max(min(n_ladder, MC_MIN), min(n_ladder, room - CHART_PREF))
    mc = min(mc, room)
    chart = room - mc
    if chart < CHART_MIN:
        mc = min(n_ladder, room)
        chart = room - mc if room - mc >= CHART_MIN else 0
    return mc, chart


def pick_ts(ladder: list[int], n: int) -> list[int]:
    """``n`` of the ladder's Ts, by ``MC_PRIORITY``, in ascending order."""
    if n >= len(ladder):
        return list(ladder)
    order = [t for t in MC_PRIORITY if t in ladder] + [t for t in ladder if t not in MC_PRIORITY]
    if ladder[-1] not in MC_PRIORITY[:2]:  # a capped ladder (--mc-max): its largest T matters
        order.insert(1, ladder[-1])
    chosen = []
    for t in order:
        if t not in chosen:
            chosen.append(t)
    return sorted(chosen[:n])


def visible_columns(width: int, regression: bool) -> tuple[list[str], int]:
    """The value columns that fit ``width`` after the label, and the label's width."""
    cols = list(REG_COLUMNS if regression else COLUMNS)
    label = LONG_LABEL if width >= LONG_LABEL + CELL * len(cols) else SHORT_LABEL
    for name in (None, *DROP):
        if name in cols:
            cols.remove(name)
        if label + CELL * len(cols) <= width:
            return cols, label
    return [], label


class RulesView(DiffView):
    """The rules of one run. ``set_rules(rules_snapshot, rule, state)``: ``rules_snapshot`` is the
    latest snapshot carrying ``rules`` (None: not evaluated yet), ``state`` the step and keep
    probability on screen, for the status line."""

    DEFAULT_CSS = "RulesView { height: 13; }"

    def set_rules(self, rules_snap, rule: str, step: int, keep_prob: float) -> None:
        mono = bool(self.app.no_color) or self.ascii_only
        self.show_for_width(lambda width: rules_text(rules_snap, rule, step, keep_prob, width,
                                                     max(1, self.size.height), self.roles, mono))

    def on_resize(self) -> None:
        if self._builder is not None and self.size.width > 0:
            self.show(self._builder(self.size.width))


def _status(snap, step: int, keep_prob: float, width: int, roles: Roles) -> Text:
    if snap is None:
        return fit_row([Part("what", [Text("prediction rules: evaluating…", roles.muted),
                                      Text("evaluating…", roles.muted)], sep="")], ["what"], width)
    at = snap["step"]
    parts = [Part("what", [Text("prediction rules", roles.header), Text("rules", roles.header)], sep=""),
             Part("step", [Text(f"at step {at:,}"), Text(f"step {at:,}")], sep=" ")]
    if snap["keep_prob"] != keep_prob:
        parts.append(Part("note", [Text(f"keep_prob {prob(keep_prob)} from next step", roles.warn),
                                   Text("keep_prob pending", roles.warn), Text("pending", roles.warn)],
                          sep=" · ", style=roles.faint))
    elif at != step:
        behind = step - at
        parts.append(Part("note", [Text(f"{behind:,} steps behind", roles.muted),
                                   Text(f"{behind:,} behind", roles.muted), None], sep=" · ", style=roles.faint))
    return fit_row(parts, ["what", "note", "step", "note", "note"], width)


def _values(metrics, cols: list[str], stochastic: bool) -> Text:
    out = Text()
    for c in cols:
        if c == "loss":
            out.append(" " + fit(metrics.get("test_loss"), VALUE), "bold")
        elif c == "acc":
            out.append(" " + pct(metrics.get("test_acc"), width=VALUE).rjust(VALUE))
        elif c == "conf":
            out.append(" " + pct(metrics.get("test_confidence"), width=VALUE).rjust(VALUE))
        elif c == "rmse":
            mse = metrics.get("test_loss")
            out.append(" " + fit(math.sqrt(mse) if ok(mse) and mse >= 0 else mse, VALUE))
        elif c == "r2":
            out.append(" " + fmt(metrics.get("test_r2"), 2, VALUE).rjust(VALUE))
        elif c == "sd":
            out.append(" " + (fit(metrics.get("predictive_std"), VALUE) if stochastic else " " * VALUE))
    return out


def rules_text(snap, rule: str, step: int, keep_prob: float, width: int, height: int, roles: Roles | None = None,
               mono: bool = False) -> Text:
    """The whole view for one run at ``width`` × ``height`` cells."""
    roles = roles or Roles()
    lines = [_status(snap, step, keep_prob, width, roles)]
    run: RunMetrics | None = snap["runs"].get(rule) if snap is not None else None
    rules = run.get("rules") if run is not None else None
    if rules is None:
        return Text("\n").join(lines[:height])
    regression = "test_r2" in rules["no_dropout"]
    cols, label_w = visible_columns(width, regression)
    short = label_w == SHORT_LABEL
    head = Text(" " * label_w, roles.header)
    for c in cols:
        head.append(" " + HEADERS[c].rjust(VALUE), roles.header)
    lines.append(head)

    def row(label: str, style: str, metrics, stochastic: bool) -> Text:
        return Text.assemble((label.ljust(label_w)[:label_w], style), _values(metrics, cols, stochastic))

    lines.append(row(LABELS["no_dropout"][short], roles.series.get("train_loss", ""), rules["no_dropout"], False))
    if "weight_scaling" in rules:
        lines.append(row(LABELS["weight_scaling"][short], roles.fix, rules["weight_scaling"], False))
    else:
        why = next((t for t in ("not needed: ÷p in training", "not needed", "n/a") if label_w + 1 + len(t) <= width),
                   "")
        lines.append(Text.assemble((LABELS["weight_scaling"][short].ljust(label_w), roles.fix), " ",
                                   (why, roles.muted)))
    lines.append(row(LABELS["dropout_on"][short], roles.warn, rules["dropout_on"], True))
    mc = rules["mc_dropout"]
    ladder = [m["T"] for m in mc]
    n_mc, chart_rows = plan_rows(height, len(ladder))
    shown = set(pick_ts(ladder, n_mc))
    for m in mc:
        if m["T"] in shown:
            label = f"MC T={m['T']}" if not short else f"T={m['T']}"
            lines.append(row(label, roles.series.get("test_loss", ""), m, True))
    if chart_rows:
        lines += chart_lines(rules, width, chart_rows, roles, mono)
    return Text("\n").join(lines[:height])


def chart_lines(rules, width: int, rows: int, roles: Roles, mono: bool) -> list[Text]:
    """A legend, ``rows - 2`` plot rows and the T axis: the Monte-Carlo test loss against T (log x)
    and flat lines at the no-dropout and ×p losses. A line far above the curve is named in the
    legend with its value and an arrow instead of squashing the curve."""
    mc = rules["mc_dropout"]
    ts = np.array([m["T"] for m in mc], float)
    losses = np.array([m["test_loss"] if ok(m["test_loss"]) else math.nan for m in mc], float)
    refs = {name: rules[name]["test_loss"] for name in ("no_dropout", "weight_scaling")
            if name in rules and ok(rules[name]["test_loss"])}
    finite = losses[np.isfinite(losses)]
    plot_w, plot_h = width - AXIS, rows - 2
    if plot_w < 4 or plot_h < 1 or len(finite) == 0:
        return []
    lo, hi = float(finite.min()), float(finite.max())
    core_hi = max([hi, *[v for k, v in refs.items() if k == "weight_scaling"]])
    lo = min([lo, *refs.values()])
    span = max(core_hi - lo, 1e-9)
    off = {k: v for k, v in refs.items() if v > core_hi + OFF_CHART * span}
    hi = max([core_hi, *[v for k, v in refs.items() if k not in off]])
    pad = max((hi - lo) * 0.08, 1e-6 * max(1.0, abs(hi)))
    y0, y1 = lo - pad, hi + pad
    px_w, px_h = (plot_w, plot_h) if mono else (plot_w * 2, plot_h * 4)
    top = math.log10(ts[-1]) if ts[-1] > 1 else 1.0
    xs = np.clip(np.rint(np.log10(ts) / top * (px_w - 1)), 0, px_w - 1).astype(int)
    every = np.arange(px_w)
    series = [(name, series_pixels(every, np.full(px_w, v), px_w, px_h, y0, y1))
              for name, v in refs.items() if name not in off]
    series.append(("mc", series_pixels(xs, losses, px_w, px_h, y0, y1)))
    styles = {"mc": roles.series.get("test_loss", ""), "no_dropout": roles.series.get("train_loss", ""),
              "weight_scaling": roles.fix, "overlap": roles.series.get("overlap", "bold")}
    names = [name for name, _ in series]
    bits, owners = stack_pixels(((i, image) for i, (_, image) in enumerate(series)), plot_h, plot_w, mono)
    out = [_legend(refs, off, width, roles, mono, styles)]
    ticks = {0: y1, plot_h - 1: y0}
    for r in range(plot_h):
        gutter = Text(tick_label(ticks[r]) + "┤", roles.muted) if r in ticks else Text(" " * (AXIS - 1) + "│",
                                                                                     roles.faint)
        out.append(gutter + plotted_line(owners[r], bits[r], names, styles, MONO, mono))
    out.append(Text("T".ljust(AXIS), roles.muted) + _t_axis(ts[-1], top, plot_w, roles))
    return out


def _t_axis(t_max: float, top: float, plot_w: int, roles: Roles) -> Text:
    line = [" "] * plot_w
    free = 0
    for t in (1, 2, 5, 10, 20, 50, 100, 200):
        if t > t_max:
            break
        label = str(t)
        c = int(round(math.log10(t) / top * (plot_w - 1))) if t_max > 1 else 0
        start = min(c, plot_w - len(label))
        if start < free:
            continue
        line[start:start + len(label)] = label
        free = start + len(label) + 1
    return Text("".join(line), roles.muted)


def _legend(refs: dict, off: dict, width: int, roles: Roles, mono: bool, styles: dict) -> Text:
    def key(name: str, long: str, short: str) -> list[Text | None]:
        mark = MONO[name] if mono else "━"
        value = f" {fmt(refs[name], 3, VALUE)}↑" if name in off else ""
        return [Text.assemble((mark, styles[name]), " ", (long + value, roles.muted)),
                Text.assemble((mark, styles[name]), " ", (short + value, roles.muted))]
    parts = [Part("mc", key("mc", "MC loss vs T", "MC"), sep="")]
    if "no_dropout" in refs:
        parts.append(Part("no_dropout", key("no_dropout", "no dropout", "none"), sep=" "))
    if "weight_scaling" in refs:
        parts.append(Part("weight_scaling", key("weight_scaling", "×p", "×p"), sep=" "))
    return fit_row(parts, ["mc", "no_dropout", "weight_scaling"], width)
