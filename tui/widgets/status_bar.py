"""The top line(s): what is training, how fast, in what state, and keep_prob with a bar.

One line when everything fits, else two: what (dataset, architecture, optimiser, step, rate) and
how (state, speed, keep_prob). A CSV file's regression target, which the network fits
standardised, is named after the dataset (``price standardised``): every MSE and RMSE on screen is of
that standardised target. Short of room, elements drop out whole in this order: optimiser and
learning rate, activation, architecture, the standardised target, steps/s, dataset; then the speed,
the keep_prob bar and the longer wordings. The state (running / paused), keep_prob, input keep_prob
(when input dropout is on) and the step never drop.
"""

from __future__ import annotations

from rich.text import Text

from dropout_tui.core.snapshot import Snapshot

from ..trainer import Update, speed_label
from .diff_view import DiffView
from ..numbers import prob
from .rows import Part, fit_row, fits
from .theme import Roles

BAR = 10
WHAT_DROP = ["optimizer", "activation", "arch", "target", "rate", "dataset"]
HOW_DROP = ["note", "pending", "speed", "bar", "note", "diverged", "pending", "input", "keep", "speed"]
ONE_LINE_DROP = ["optimizer", "activation", "arch", "target", "rate", "note", "speed", "bar", "dataset",
                 "pending", "note", "diverged", "pending", "input", "keep", "speed"]
WIDEST_STEP = len("99,999,999")
WIDEST_RATE = len("99,999")


def rate_text(steps_per_s: float, paused: bool) -> str:
    """``1 step/s``, ``2,345 steps/s``; ``—`` while paused."""
    if paused:
        return "— steps/s"
    shown = f"{steps_per_s:,.0f}"
    return f"{shown} {'step' if shown == '1' else 'steps'}/s"


def state_parts(update: Update, snapshot: Snapshot | None, paused: bool, roles: Roles) -> list[Part]:
    """running / paused, which run diverged, and the trainer's note."""
    diverged = []
    if snapshot is not None:
        diverged = [rule for rule, run in snapshot["runs"].items() if run.get("diverged")]
    style = roles.bad if diverged else (roles.warn if paused else roles.good)
    parts = [Part("state", [Text("paused" if paused else "running", style)])]
    if diverged:
        parts.append(Part("diverged", [Text(" & ".join(diverged) + " diverged", roles.bad),
                                       Text("diverged", roles.bad)]))
    if update.note:
        parts.append(Part("note", [Text(update.note, roles.muted), None]))
    return parts


def keep_parts(update: Update, snapshot: Snapshot | None, keep_prob: float, paused: bool,
               roles: Roles) -> list[Part]:
    """keep_prob (with a bar), pending while paused, and the input keep_prob when it is below 1."""
    value = Text.assemble(("keep_prob ", "bold"), (prob(keep_prob), roles.knob))
    short = Text.assemble(("p ", "bold"), (prob(keep_prob), roles.knob))
    # At least one cell for any keep_prob above 0, so 0.05 does not look like nothing kept.
    filled = max(1 if keep_prob > 0 else 0, min(BAR, round(keep_prob * BAR)))
    bar = Text.assemble(("█" * filled, roles.knob), ("░" * (BAR - filled), roles.faint))
    parts = [Part("keep", [value, short], sep="  ", right=True),
             Part("bar", [bar, None], sep=" ", right=True)]
    step_value = snapshot["keep_prob"] if snapshot is not None else keep_prob
    if paused and keep_prob != step_value:
        # The numbers on screen are the paused step's own; the new value trains from the next step.
        parts.append(Part("pending", [Text("from the next step", roles.warn), Text("next step", roles.warn),
                                      Text("next", roles.warn)], sep=" ", right=True))
    if update.input_keep_prob < 1:
        parts.append(Part("input", [Text.assemble("input keep_prob ", (prob(update.input_keep_prob), roles.knob)),
                                    Text.assemble("input ", (prob(update.input_keep_prob), roles.knob))],
                          sep=" · ", right=True))
    return parts


class StatusBar(DiffView):
    def set_state(self, update: Update, snapshot: Snapshot | None, *, keep_prob: float, paused: bool,
                  speed: float | None, warmup: bool = False) -> None:
        """Show ``update``'s state with the values the user last set (shown at once, before the
        worker reports them back)."""
        roles = self.roles
        config = update.config
        what = []
        if update.replay:
            what.append(Part("replay", [Text(" REPLAY ", roles.marker)], sep=" "))
        what += [
            Part("dataset", [Text(config.dataset_label, "bold"), None]),
            *([Part("target", [Text(update.target_scale.label, roles.muted), None])]
              if update.target_scale is not None else []),
            Part("arch", [Text(update.arch), None]),
            Part("activation", [Text(config.activation), None], sep=" "),
            Part("optimizer", [Text(f"{config.optimizer} lr {config.lr:g}"), None]),
            Part("step", [Text(f"step {update.step:,}", "bold")], reserve=WIDEST_STEP - len(f"{update.step:,}")),
            Part("rate", [Text(rate_text(update.steps_per_s, paused)), None],
                 reserve=WIDEST_RATE - len(f"{update.steps_per_s:,.0f}")),
        ]
        speed_text = f"speed {speed_label(speed)}" + (" warm-up (] skips)" if warmup else "")
        how = state_parts(update, snapshot, paused, roles)
        how.append(Part("speed", [Text(speed_text), Text(f"speed {speed_label(speed)}"), None]))
        how += keep_parts(update, snapshot, keep_prob, paused, roles)

        def build(width: int) -> Text:
            # One line only when nothing has to drop, judged with the counters at their widest,
            # so the line count (a layout pass, repainting the whole screen) never flickers.
            one = what + how
            if fits(one, width):
                return fit_row(one, [], width)
            return Text("\n").join([fit_row(what, WHAT_DROP, width), fit_row(how, HOW_DROP, width)])

        self.show_for_width(build)
