"""Per-layer activations in training vs prediction mode, their ratio, and the weight norm."""

from __future__ import annotations

from rich.text import Text

from .change_only import ChangeOnlyStatic
from .numbers import num, ratio, spark

WIDE = 56  # from this width on, the table adds a history of the mean ratio


class LayerTable(ChangeOnlyStatic):
    DEFAULT_CSS = "LayerTable { height: auto; }"

    def set_run(self, run: dict, ratio_history: dict[str, list[float]]) -> None:
        self.show(layer_text(run, ratio_history, self.size.width or 40))


def layer_text(run: dict, ratio_history: dict[str, list[float]], width: int) -> Text:
    """Wide: one row per layer, with the mean ratio's recent history in what room is left.
    Narrow (80 columns split in two): mean and norm on two rows per layer."""
    wide = width >= WIDE
    head = ("      mean train→pred ×      norm train→pred ×      ‖W‖" if wide
            else "      train → pred      ×      ‖W‖")
    spark_room = width - len(head) - 2
    if wide and spark_room >= 4:
        head += "  " + "mean × history"[:spark_room]
    lines = [Text(head, "bold grey70")]
    for layer in run.get("layers", []):
        name = layer["name"]
        mt, me, nt, ne = layer["mean_train"], layer["mean_eval"], layer["norm_train"], layer["norm_eval"]
        mean = _pair(mt, me)
        norm = _pair(nt, ne)
        weight = f" {num(layer['weight_norm']):>6}"
        if wide:
            line = Text.assemble((f"{name:<4}", "bold"), ("mean", "grey70"), mean, " ", ("norm", "grey70"),
                                 norm, weight)
            if spark_room >= 4:
                line.append("  " + spark(ratio_history.get(name, [])[-spark_room:]), "cyan")
            lines.append(line)
        else:
            lines.append(Text.assemble((f"{name:<3}", "bold"), ("mean", "grey70"), mean, weight))
            lines.append(Text.assemble("   ", ("norm", "grey70"), norm))
    return Text("\n").join(lines)


def _pair(train, pred) -> Text:
    r = ratio(train, pred)
    return Text.assemble(f"{num(train):>6}→{num(pred):<6}", (f"{num(r):>5}", _ratio_style(r)))


def _ratio_style(r: float) -> str:
    # Colour only how far from 1 a ratio is; what that means is the explanation panel's job.
    if not r == r:
        return "grey50"
    return "bold yellow" if abs(r - 1) > 0.15 else "green"
