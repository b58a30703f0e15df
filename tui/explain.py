"""The explanation panel's words, built from the live numbers of one snapshot.

Rules: inverted dropout keeps each unit's *mean*, not its norm; without the rescale
the harm shows mostly in loss and confidence, often little in accuracy. Every comparison below
is stated only when the numbers show it, with the numbers beside it.
"""

from __future__ import annotations

import math

SAME_LOSS = 0.10  # relative gap under which two losses count as "about the same"
SAME_ACC = 0.02  # accuracy gap (fraction) under which accuracies "barely differ"
SAME_CONF = 0.02
WEAKER = 0.95  # a train/predict ratio below this is a weaker training signal worth a sentence
CLOSE = 0.10  # a one-mask measurement within 10% of theory is shown as confirming it


def _ok(*xs) -> bool:
    return all(x is not None and isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _compare_loss(a: float, b: float) -> str:
    """How loss a stands to loss b, in words."""
    if a > b * (1 + SAME_LOSS):
        return "higher than"
    if a < b / (1 + SAME_LOSS):
        return "lower than"
    return "about the same as"


def _strength(layer: dict, activation: str) -> tuple[str, float, float] | None:
    """(what, train value, predict value) for how strong a layer's output is. Means of tanh units
    sit near zero with either sign, so for tanh the per-example norm says it better."""
    keys = ("norm_train", "norm_pred") if activation == "tanh" else ("mean_train", "mean_pred")
    tr, ev = layer.get(keys[0]), layer.get(keys[1])
    if not isinstance(tr, float) or not isinstance(ev, float) or not _ok(tr, ev) or ev <= 0:
        return None
    return ("norm" if activation == "tanh" else "mean activation"), tr, ev


def sentences(snapshot: dict, activation: str = "relu", short: bool = False) -> list[tuple[str, str]]:
    """(style tag, sentence) pairs, most important first; tags: "why", "harm", "fix", "note", "warn"."""
    out: list[tuple[str, str]] = []
    inv, unr = snapshot["runs"]["inverted"], snapshot["runs"]["unrescaled"]
    p = snapshot["keep_prob"]
    q = snapshot.get("input_keep_prob", 1.0)
    step = snapshot["step"]

    diverged = [name for name, run in (("inverted", inv), ("unrescaled", unr)) if run.get("diverged")]
    if len(diverged) == 2:
        out.append(("warn", "Both runs diverged (a loss or weight became infinite) and stopped. "
                            "Press r to reset, or try a smaller --lr."))
        return out
    if diverged:
        out.append(("warn", f"The {diverged[0]} run diverged (a loss or weight became infinite) and stopped; "
                            "the other run carries on. Press r to reset."))
    if step == 0:
        out.append(("note", "Step 0: both networks start from the same weights and will see the same data "
                            "and the same dropout masks. The only difference is the ÷ keep_prob."))
        return out
    dropping = p < 1 or q < 1
    if not dropping:
        out.append(("note", "keep_prob is 1.00: nothing is dropped now, so both runs take the same kind of "
                            "step; any difference below comes from steps trained with dropout. "
                            "Press - to drop units."))

    # Why: the unrescaled net trains on weaker signals than it meets at prediction time.
    layers = unr.get("layers", [])
    strength = _strength(layers[-1], activation) if layers and dropping else None
    if strength and strength[1] / strength[2] < WEAKER:
        what, tr, ev = strength
        ratio = tr / ev
        name = layers[-1]["name"]
        per_layer = [(l["name"], _strength(l, activation)) for l in layers]
        chain = ", ".join(f"{n} ×{st[1] / st[2]:.2f}" for n, st in per_layer if st)
        knobs = f"keep_prob {p:.2f} per layer" + (f", input keep {q:.2f}" if q < 1 else "")
        if short:
            out.append(("why", f"Unrescaled trains on weaker signals: {name} {what.split()[0]} "
                               f"{_num(tr)} training, {_num(ev)} predicting (×{ratio:.2f})."))
        else:
            chained = len(layers) > 1 and all(st for _, st in per_layer)
            out.append(("why", f"Without the rescale, dropout weakens what each layer passes on while "
                               f"training: {name}'s {what} is {_num(tr)} in training but {_num(ev)} "
                               f"when predicting (×{ratio:.2f}; {knobs}"
                               + (f"; by layer: {chain}" if chained else "") +
                               "). The layers after it learned on the weaker signal."))

    # Harm: loss and calibration, then accuracy, each only as far as the numbers go.
    lu, li = unr.get("test_loss"), inv.get("test_loss")
    au, ai = unr.get("test_acc"), inv.get("test_acc")
    cu, ci = unr.get("test_confidence"), inv.get("test_confidence")
    rel = _compare_loss(lu, li) if _ok(lu, li) else None
    if rel:
        line = (f"Test loss {lu:.3f}, {rel} inverted's {li:.3f}" if short else
                f"Test loss: unrescaled {lu:.3f}, {rel} inverted's {li:.3f}")
        # Over-confident means sure beyond its own hit rate, not merely surer than the other run,
        # and by more than the inverted run is: late in training both can over-fit alike.
        gap_i = ci - ai if _ok(ci, ai) else 0.0
        if rel == "higher than" and _ok(cu, au) and cu - au > max(SAME_CONF, gap_i + SAME_CONF):
            line += (f": over-confident, {_pct(cu)} sure, {_pct(au)} right" if short else
                     f" — it is over-confident when predicting: {_pct(cu)} mean confidence for "
                     f"{_pct(au)} accuracy" + (f" (inverted: {_pct(ci)} for {_pct(ai)})" if _ok(ci, ai) else ""))
        out.append(("harm", line + "."))
    if _ok(au, ai):
        if abs(au - ai) <= SAME_ACC:
            harm_in_loss = rel == "higher than"
            out.append(("harm", f"Accuracy barely differs ({_pct(au)} vs inverted's {_pct(ai)})"
                                + (": the harm is in the confidence, not (yet) in the decisions."
                                   if harm_in_loss and not short else ".")))
        else:
            word = "lower" if au < ai else "higher"
            out.append(("harm", f"Accuracy {_pct(au)} vs inverted's {_pct(ai)}." if short else
                                f"Test accuracy: unrescaled {_pct(au)}, {word} than inverted's {_pct(ai)}."))

    # Fix: scaling at test time, compared loss to loss and accuracy to accuracy.
    ls, as_ = unr.get("test_loss_scaled"), unr.get("test_acc_scaled")
    if dropping and _ok(ls):
        loss_part = f"test loss {ls:.3f}" + (f" ({_compare_loss(ls, li)} inverted's {li:.3f})" if _ok(li) else "")
        if short:
            out.append(("fix", f"×p at test: loss {ls:.3f}."))
        else:
            acc_part = f" and accuracy {_pct(as_)}" if _ok(as_) else ""
            sites = "each dropped layer (and the input)" if q < 1 else "each dropped layer"
            out.append(("fix", f"Multiplying {sites} by its keep probability at test time (Srivastava et al. "
                               f"2014) gives the same unrescaled weights {loss_part}{acc_part}."))

    # What inverted dropout keeps and what it does not, when one mask's measurement shows it clearly.
    il = inv.get("layers", [])
    if il and p < 1 and activation != "tanh":  # tanh means sit near zero: their ratio is noise
        first = il[0]
        mo, so, so_t = first.get("mean_ratio_own"), first.get("sq_norm_ratio_own"), first.get("sq_norm_ratio_theory")
        if _ok(mo, so, so_t) and abs(mo - 1) <= CLOSE and abs(so / so_t - 1) <= CLOSE:
            if short:
                out.append(("note", f"Inverted keeps the mean (×{mo:.2f}), not the norm (E‖·‖² ×{so:.2f} ≈ 1/p)."))
            else:
                out.append(("note", f"Inverted dropout keeps each unit's mean (its own mask on {first['name']}: "
                                    f"×{mo:.2f}, theory 1) but not its norm: E‖·‖² grows ×{so:.2f} "
                                    f"(theory 1/p = {so_t:.2f}), so the per-example norm about ×{so ** 0.5:.2f}. "
                                    "Deeper layers can drift from ×1 too: their noisy inputs pass through "
                                    "a non-linearity."))
    return out


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.2e}"
