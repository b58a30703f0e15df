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
    "Loss curves share one y-scale. Grey: training loss with dropout (what the optimiser sees); "
    "blue: training loss in prediction mode; orange: test loss.\n\n"
    "Layer table: each hidden layer's mean activation and per-example norm in training mode "
    "(masks applied) → prediction mode (no dropout), and their ratio ×. Inverted dropout keeps "
    "the mean of a layer's own mask (×1) but not the norm (E‖·‖² ×1/p). Without the rescale both "
    "shrink by p per layer, compounding with depth. ‖W‖ is the weight norm.\n\n"
    "The unrescaled column also shows its test loss when each dropped layer is multiplied by keep_prob "
    "at test time (Srivastava et al. 2014): the same weights, evaluated differently.\n\n"
    "The map shows the predicted class (colour) and confidence (brightness); dots are training points."
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
            keys.add_row(_pretty(b.key), b.tooltip or b.description)
        with VerticalScroll(id="help-body"):
            yield Static(Text("dropout-tui — keys", style="bold"))
            yield Static(keys)
            yield Static(Text("\nHow to read the screen", style="bold"))
            yield Static(READING)
            yield Static(Text("\nescape, q, ? or F1 closes this screen.", style="grey62"))


def _pretty(key: str) -> str:
    names = {"plus": "+", "minus": "-", "space": "space", "question_mark": "?",
             "right_square_bracket": "]", "left_square_bracket": "[", "shift+up": "shift+↑",
             "shift+down": "shift+↓", "up": "↑", "down": "↓", "left": "←", "right": "→", "f1": "F1"}
    return " or ".join(names.get(k.strip(), k.strip()) for k in key.split(","))
