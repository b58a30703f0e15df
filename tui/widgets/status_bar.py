"""The top line: what is training, how fast, in what state, and keep_prob with a bar."""

from __future__ import annotations

from rich.text import Text

from dropout_tui.core.snapshot import Snapshot

from ..trainer import Update, speed_label
from .diff_view import DiffView

BAR = 10


def state_text(update: Update, snapshot: Snapshot | None, paused: bool) -> str:
    """running / paused, which run diverged, and the trainer's note."""
    state = "paused" if paused else "running"
    if snapshot is not None:
        diverged = [rule for rule, run in snapshot["runs"].items() if run.get("diverged")]
        if diverged:
            state += " · " + " & ".join(diverged) + " diverged"
    if update.note:
        state += " · " + update.note
    return state


class StatusBar(DiffView):
    def set_state(self, update: Update, snapshot: Snapshot | None, *, keep_prob: float, paused: bool,
                  speed: float | None) -> None:
        """Show ``update``'s state with the values the user last set (shown at once, before the
        worker reports them back)."""
        config = update.config
        state = state_text(update, snapshot, paused)
        what = Text()
        if update.replay:
            what.append(" REPLAY ", "bold black on magenta")
            what.append(" ")
        what.append(config.dataset, "bold")
        what.append(f" · {update.arch} {config.activation} · {config.optimizer} lr {config.lr:g} · ")
        what.append(f"step {update.step:,}", "bold")
        rate = "—" if paused else f"{update.steps_per_s:,.0f}"
        what.append(f" · {rate} steps/s")

        how = Text()
        state_style = "bold red" if "diverged" in state else ("bold yellow" if paused else "bold green")
        how.append(state, state_style)
        how.append(f" · speed {speed_label(speed)}")
        knob = Text()
        knob.append("keep_prob ", "bold")
        knob.append(f"{keep_prob:.2f} ", "bold cyan")
        filled = round(keep_prob * BAR)
        knob.append("█" * filled, "cyan")
        knob.append("░" * (BAR - filled), "grey37")
        step = update.step

        def build(width: int) -> Text:
            one = Text.assemble(what, " · ", how, "   ", knob)
            # Decide on one line as if step and rate had their widest plausible digits, so a
            # ticking counter never flips the bar between one and two lines (each flip is a
            # layout pass, which repaints the whole screen).
            widest = one.cell_len - len(f"{step:,}") - len(rate) + len("99,999,999") + len("99,999")
            if widest <= width:
                return one
            # Two lines, each cut to the width: keep_prob must never wrap out of sight.
            gap = max(2, width - how.cell_len - knob.cell_len)
            text = Text.assemble(what, "\n", how, " " * gap, knob)
            text.no_wrap, text.overflow = True, "ellipsis"
            return text

        self.show_for_width(build)
