"""Per-layer activations in training vs prediction mode, their ratio, and the weight norm."""

from __future__ import annotations

from rich.text import Text

from .diff_view import DiffView
from .numbers import num, ratio, spark

WIDE = 56  # from this width on, the table adds a history of the mean ratio


class LayerTable(DiffView):
    DEFAULT_CSS = "LayerTable { height: auto; }"

    def set_run(self, run: dict, ratio_history: dict[str, list[float]]) -> None:
        self.show_for_width(lambda width: layer_text(run, ratio_history, width))


def layer_text(run: dict, ratio_history: dict[str, list[float]], width: int) -> Text:
    """Wide: one row per layer. Narrow (80 columns split in two): mean and norm on two rows per
    layer. Either way the mean ratio's recent history fills the room that is left."""
    wide = width >= WIDE
    head = "     mean train→pred   ×   norm train→pred   ×    ‖W‖" if wide else "         train → pred    ×"
    lines = [Text(head, "bold grey70")]
    if wide and width - len(head) >= 6:
        lines[0].append("  mean × history"[:width - len(head)], "bold grey70")
    for layer in run.get("layers", []):
        name = layer["name"]
        mt, me, nt, ne = layer["mean_train"], layer["mean_pred"], layer["norm_train"], layer["norm_pred"]
        weight = num(layer["weight_norm"])
        # Only the mean ratio is coloured: a norm ratio away from 1 is expected under both rules.
        norm = _pair(nt, ne, colour=False)
        if wide:
            line = Text.assemble((f"{name:<4}", "bold"), _pair(mt, me), "  ", norm, f"  {weight:>5}")
        else:
            line = Text.assemble((f"{name:<3}", "bold"), ("mean ", "grey70"), _pair(mt, me))
        room = width - line.cell_len - 2
        if room >= 3:
            line.append("  " + spark(ratio_history.get(name, [])[-room:]), "cyan")
        lines.append(line)
        if not wide:
            lines.append(Text.assemble("   ", ("norm ", "grey70"), norm, ("  ‖W‖ ", "grey70"), weight))
    return Text("\n").join(lines)


def _pair(train, pred, colour: bool = True) -> Text:
    r = ratio(train, pred)
    return Text.assemble(f"{num(train):>5}→{num(pred):<5}", (f"{num(r):>6}", _ratio_style(r) if colour else ""))


def _ratio_style(r: float) -> str:
    # Colour only how far from 1 a ratio is; what that means is the explanation panel's job.
    if not r == r:
        return "grey50"
    return "bold yellow" if abs(r - 1) > 0.15 else "green"
