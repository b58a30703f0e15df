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
    "gives its predicted class. A run whose test accuracy is within 5 points of chance (always "
    "predicting the most frequent class) is not learning, and the panel never compares it.\n\n"
    "Layer table: each hidden layer's mean activation and mean per-example norm in training mode "
    "(masks applied) → prediction mode (no dropout), and their ratio × (green near 1, yellow away "
    "from it); the bars are the recent history of the mean ratio (mid-height = 1). ‖W‖ is the "
    "weight norm.\n\n"
    "What to expect, p = keep_prob. For a layer's own mask on a fixed input, inverted dropout keeps "
    "the expected mean (ratio 1) and multiplies E‖·‖² by 1/p; the per-example norm in the table then "
    "grows by at most √(1/p), and by less when few units are active (E‖x‖ ≤ √E‖x‖²). Without the "
    "rescale the mean and E‖·‖² shrink by p, the norm to at most √p. Through depth the unrescaled "
    "mean ratio drops by about p per further ReLU layer once trained, by less (about √p) at "
    "initialisation. Only the first dropped layer sees the same input in both modes: deeper layers "
    "of the inverted run (and every layer, with input dropout) get noisy inputs through a "
    "non-linearity, so their mean ratio drifts from 1 (for a ReLU layer fed by the first dropped "
    "layer, upwards on average: a ReLU is convex). tanh units average near zero with either sign, so their "
    "mean ratios are noise: read their norms.\n\n"
    "×p at test (unrescaled column): the same unrescaled weights evaluated with each dropped "
    "layer's output multiplied by its keep probability (Srivastava et al. 2014): a different "
    "evaluation, not a third run. It usually lowers the unrescaled loss, not always. It is the "
    "prediction rule of an inverted-dropout net whose weights after each dropped layer are p times "
    "the unrescaled ones, trained from p times smaller weights with p² times the learning rate "
    "(SGD or momentum; Adam differs again): when it beats inverted, that is one optimisation path "
    "against another, not a better rule.\n\n"
    "keep_prob changed while paused applies from the next step; the numbers stay the shown step's "
    "until a step runs. When both runs have diverged, training pauses itself: r resets.\n\n"
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
