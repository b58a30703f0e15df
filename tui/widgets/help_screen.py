"""The help screen: every key with what it does, and how to read the panels."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

READING = (
    "Two copies of one network train side by side: same initial weights, same data order, the same "
    "dropout mask at every step. The only difference: the inverted run divides the kept activations "
    "by keep_prob while training; the unrescaled run does not.\n\n"
    "Loss curves share one y-scale in both columns: training loss with dropout (what the optimiser "
    "sees; grey, or ·), training loss in prediction mode (blue, or +) and test loss (orange, or ●). "
    "Under the curves: test and train loss and accuracy, and conf, the mean probability the network "
    "gives its predicted class.\n\n"
    "Layer table: each hidden layer's mean activation and mean per-example norm in training mode "
    "(masks applied) → prediction mode (no dropout), and their ratio × (green near 1, yellow away "
    "from it); the bars are the recent history of the mean ratio (mid-height = 1). ‖W‖ is the "
    "weight norm.\n\n"
    "What to expect, p = keep_prob, for a layer's own mask on a fixed input: inverted dropout keeps "
    "the mean (ratio 1) but not the norm: E‖·‖² grows by 1/p, so the per-example norm by about "
    "1/√p. Without the rescale the mean shrinks by p and E‖·‖² by p (the norm by about √p), and "
    "the shrink roughly compounds through the layers. Deeper layers of the inverted run can drift "
    "from 1 as well: their noisy inputs pass through a non-linearity.\n\n"
    "×p at test (unrescaled column): the same unrescaled weights evaluated with each dropped "
    "layer's output multiplied by its keep probability (Srivastava et al. 2014): a different "
    "evaluation, not a third run.\n\n"
    "The map shows the predicted class (colour, or shading) and confidence (brightness); dots "
    "(or o x +) are training points, in their true class's colour."
)


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, bindings: list[Binding]):
        super().__init__(id="help")
        self._key_bindings = bindings

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for b in self._key_bindings:
            keys.add_row(key_names(b.key), b.tooltip or b.description)
        with VerticalScroll(id="help-body"):
            yield Static(Text("dropout-tui — keys", style="bold"))
            yield Static(keys)
            yield Static(Text("\nHow to read the screen", style="bold"))
            yield Static(READING)
            yield Static(Text("\nescape, q, ? or F1 closes this screen.", style="grey62"))


def key_names(key: str) -> str:
    names = {"plus": "+", "minus": "-", "space": "space", "question_mark": "?",
             "right_square_bracket": "]", "left_square_bracket": "[", "shift+up": "shift+↑",
             "shift+down": "shift+↓", "up": "↑", "down": "↓", "left": "←", "right": "→", "f1": "F1"}
    return " or ".join(names.get(k.strip(), k.strip()) for k in key.split(","))
