"""The help screen: every key with what it does, then how to read the screen.

The key list comes first and fits 80×24 whole (one line per key); the reading guide follows
below it, and a line that never scrolls away says how to get there and how to leave.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from dropout_tui.core.prediction import RULES_SHARE

from . import glyphs
from .loss_chart import EMA_POINTS

READING = (
    "Two copies of one network train side by side: same initial weights, same data order, the same "
    "dropout mask at every step. The only difference: the inverted run divides the kept activations "
    "by keep_prob while training; the unrescaled run does not.\n\n"
    "Status line: state (running / paused), keep_prob (and input keep_prob when inputs are dropped). "
    "A keep_prob changed while paused shows \"from the next step\": the numbers on screen are still "
    "the paused step's own, until a step runs. When both runs have diverged, training pauses itself: "
    "r resets. The app starts at 30 steps/s and speeds up as training goes on (warm-up), so the "
    "first steps can be seen; [ and ] take over the speed.\n\n"
    "Loss chart: one y-scale in both columns. Training loss with dropout (what the optimiser sees; "
    f"grey, or ·), smoothed by an exponential moving average over {EMA_POINTS} points; training loss "
    "in prediction mode (blue, or +); test loss (orange, or o). Curves are drawn in that order and a "
    "cell two curves share is drawn white (or *): \"both\" in the legend. The x axis is in steps. "
    "With a linear step axis the y range fits the later half of the axis (\"y: steps 1.5k+\": older, "
    "higher values run off the top); l switches to a log step axis with every step in range, which "
    "keeps the early phase of a long run readable.\n\n"
    "Under the curves: test and train loss and accuracy; conf, the mean probability the network "
    "gives its predicted class; drop, the latest training loss with dropout. For regression (sine, "
    "saddle, a numeric CSV label) the loss is the mean squared error, with R² and the output spread "
    "(the predictions' standard deviation over the targets'). A CSV label is fitted standardised "
    "with its training rows' mean and standard deviation (the top line says \"price standardised\"): "
    "its MSE and RMSE are in those standard deviations, while R² and spread have no units and the "
    "curves' axis and the heat map's scale are in the label's own units. A run within 5 points of chance "
    "accuracy (always predicting the most frequent class; for regression no better than the mean) "
    "is not learning, and the panel never compares it.\n\n"
    "Layer table: each hidden layer's mean activation and mean per-example norm in training mode "
    "(masks applied) → prediction mode (no dropout), and their ratio × (green near 1, yellow away "
    "from it); the history is the recent mean ratio (mid-height = 1). ‖W‖ is the weight norm. "
    "Narrow windows drop the norm's values first, then the history, ‖W‖ and the norm ratio.\n\n"
    "What to expect, p = keep_prob. For a layer's own mask on a fixed input (in the table: the first "
    "dropped layer, without input dropout), inverted dropout keeps the expected mean (ratio 1) and "
    "multiplies E‖·‖² by 1/p; that layer's per-example norm then grows by at most √(1/p), and by less "
    "when few units are active (E‖x‖ ≤ √E‖x‖²). Without the rescale the mean and E‖·‖² shrink by p, "
    "the norm to at most √p. Through depth the unrescaled mean ratio drops by about p per further "
    "ReLU layer once trained, by less (about √p) at initialisation. Only the first dropped layer "
    "sees the same input in both modes: deeper layers of the inverted run (and every layer, with "
    "input dropout) get noisy inputs through a non-linearity, so their mean ratio drifts from 1 (for "
    "a ReLU layer fed by the first dropped layer, upwards on average: a ReLU is convex) and their "
    "norm ratio can pass √(1/p). tanh units average near zero with either sign, so their mean ratios "
    "are noise: read their norms.\n\n"
    "×p at test (unrescaled column): the same unrescaled weights evaluated with each dropped "
    "layer's output multiplied by its keep probability (Srivastava et al. 2014): a different "
    "evaluation, not a third run. It usually lowers the unrescaled loss, not always. It is the "
    "prediction rule of an inverted-dropout net whose weights after each dropped layer are p times "
    "the unrescaled ones, trained from p times smaller weights with p² times the learning rate "
    "(SGD or momentum; Adam differs again): when it beats inverted, that is one optimisation path "
    "against another, not a better rule. The inverted run needs none: it divides by p in training.\n\n"
    "Prediction rules (v): the same weights used to predict four ways. no dropout (model.eval()); "
    "×p at test (unrescaled only); dropout on: dropout left on, one stochastic pass, what a forgotten "
    "model.eval() gives; MC T=…: Monte-Carlo dropout, the probabilities of T such passes averaged. "
    "sd is the spread of the predicted probability over passes. The chart draws the MC test loss "
    "against T (log axis) with flat lines at the no-dropout and ×p losses: Srivastava et al. (2014) "
    "found about T = 50 passes match weight scaling. The first line gives the step they were "
    f"evaluated at: while training runs they take at most {RULES_SHARE:.0%} of the time, so they can be some "
    "steps behind the curves; paused, they are of the step shown. u makes the map's brightness "
    "the MC spread (brighter = less sure) instead of the confidence.\n\n"
    "The map shows the predicted class (colour, or shading) and confidence (brightness); dots "
    "(or o x +) are training points, in their true class's colour. It keeps the data's proportions "
    "(a circle stays round) and shows when the window has room for it; m hides it or, in small "
    "windows, shows it in place of the curves."
)
PALETTE_TIP = "command palette: every action by name; themes"


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help", id="help.close"),
        Binding("down,j", "scroll(1)", "down", show=False),
        Binding("up,k", "scroll(-1)", "up", show=False),
        Binding("pagedown,space", "page(1)", "next page", show=False),
        Binding("pageup", "page(-1)", "previous page", show=False),
    ]

    def __init__(self, bindings: list[Binding], *, ascii_only: bool = False, palette_key: str = "ctrl+p"):
        super().__init__(id="help")
        self._key_bindings = bindings
        self.ascii_only = ascii_only
        self.palette_key = palette_key

    def _text(self, text: str) -> str:
        return glyphs.prose(text) if self.ascii_only else text

    def key_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every key, in the app's order; keys that share an action
        (space: pause and resume) share a row."""
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for b in self._key_bindings:
            if not b.tooltip or b.key in seen:
                continue
            seen.add(b.key)
            keys = key_names(b.key + (",ctrl+q" if b.action == "quit" else ""), self.ascii_only)
            rows.append((keys, self._text(b.tooltip)))
        rows.append((self.palette_key, PALETTE_TIP))
        return rows

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for name, what in self.key_rows():
            keys.add_row(name, what)
        # Text on the panel at a legible contrast in every theme (the app's roles), set before the
        # first frame.
        colour = getattr(getattr(self.app, "roles", None), "on_surface", "") or None
        body = VerticalScroll(id="help-body")
        hint = Static(self._text("↓ / PgDn: how to read the screen · escape, q, ? or F1 closes"), id="help-hint")
        body.styles.color = hint.styles.color = colour
        with body:
            yield Static(Text("dropout-tui: keys", style="bold"))
            yield Static(keys, id="help-keys")
            yield Static(Text("\nHow to read the screen", style="bold"))
            # Text, not a str: a str is Rich markup, which would take "[ and ]" for a tag.
            yield Static(Text(self._text(READING)))
        yield hint

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body").scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        body = self.query_one("#help-body")
        body.scroll_relative(y=pages * max(1, body.size.height - 1), animate=False)


def key_names(key: str, ascii_only: bool = False) -> str:
    names = {"plus": "+", "minus": "-", "space": "space", "question_mark": "?",
             "right_square_bracket": "]", "left_square_bracket": "[", "shift+up": "shift+↑",
             "shift+down": "shift+↓", "up": "↑", "down": "↓", "left": "←", "right": "→", "f1": "F1"}
    if ascii_only:
        names.update({"shift+up": "shift+up", "shift+down": "shift+down", "up": "up", "down": "down",
                      "left": "left", "right": "right"})
    parts = [names.get(k.strip(), k.strip()) for k in key.split(",")]
    return " or ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " or " + parts[-1]
