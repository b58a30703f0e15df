"""The explanation panel's words, built from the live numbers of one snapshot.

Rules (DESIGN §1): inverted dropout keeps each unit's *mean*, not its norm; without the rescale
the harm shows mostly in loss and confidence, often little in accuracy. Every comparison below
is stated only when the numbers show it, with the numbers beside it.
"""

from __future__ import annotations

import math

SAME_LOSS = 0.10  # relative gap under which two losses count as "about the same"
SAME_ACC = 0.02  # accuracy gap (fraction) under which accuracies "barely differ"
SAME_CONF = 0.02


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
    keys = ("norm_train", "norm_eval") if activation == "tanh" else ("mean_train", "mean_eval")
    tr, ev = layer.get(keys[0]), layer.get(keys[1])
    if not _ok(tr, ev) or ev <= 0:
        return None
    return ("norm" if activation == "tanh" else "mean activation"), tr, ev


def sentences(snapshot: dict, activation: str = "relu", short: bool = False) -> list[tuple[str, str]]:
    """(style tag, sentence) pairs; tags: "why", "harm", "fix", "note", "warn"."""
    out: list[tuple[str, str]] = []
    inv, unr = snapshot["runs"]["inverted"], snapshot["runs"]["unrescaled"]
    p = snapshot["keep_prob"]
    q = snapshot.get("input_keep_prob", 1.0)
    step = snapshot["step"]

    for name, run in (("inverted", inv), ("unrescaled", unr)):
        if run.get("diverged"):
            out.append(("warn", f"The {name} run diverged (a loss or weight became infinite) and stopped; "
                                "the other run carries on. Press r to reset."))
    if p >= 1 and q >= 1:
        out.append(("note", "keep_prob is 1.00: nothing is dropped, so both runs are the same network, "
                            "step for step. Press - to drop units and watch them part."))
        return out
    if step == 0:
        out.append(("note", "Step 0: both networks start from the same weights and will see the same data "
                            "and the same dropout masks. The only difference is the ÷ keep_prob."))
        return out

    # Why: the unrescaled net trains on weaker signals than it meets at prediction time.
    layers = unr.get("layers", [])
    if layers:
        last = layers[-1]
        s = _strength(last, activation)
        if s:
            what, tr, ev = s
            ratio = tr / ev
            per_layer = [(l["name"], _strength(l, activation)) for l in layers]
            chain = ", ".join(f"{name} ×{st[1] / st[2]:.2f}" for name, st in per_layer if st)
            if short:
                out.append(("why", f"Unrescaled trains on weaker signals: {last['name']} {what.split()[0]} "
                                   f"{tr:.2f} in training vs {ev:.2f} predicting (×{ratio:.2f})."))
            else:
                grows = len(layers) > 1 and all(st for _, st in per_layer)
                out.append(("why", f"Without the rescale, dropout weakens what each layer passes on while "
                                   f"training: {last['name']}'s {what} is {tr:.3f} in training but {ev:.3f} "
                                   f"when predicting (×{ratio:.2f}; keep_prob {p:.2f} per layer"
                                   + (f"; by layer: {chain}" if grows else "") +
                                   "). The layers after it learned on the weaker signal."))

    # Harm: loss and confidence, then accuracy, each only as far as the numbers go.
    lu, li = unr.get("test_loss"), inv.get("test_loss")
    if _ok(lu, li):
        rel = _compare_loss(lu, li)
        line = f"Test loss: unrescaled {lu:.3f}, {rel} inverted's {li:.3f}"
        cu, ci = unr.get("test_confidence"), inv.get("test_confidence")
        if _ok(cu, ci) and rel == "higher than" and cu > ci + SAME_CONF:
            line += (f": over-confident (confidence {_pct(cu)} vs {_pct(ci)})" if short else
                     f" — it is over-confident when predicting (mean confidence {_pct(cu)} vs {_pct(ci)})")
        out.append(("harm", line + "."))
    au, ai = unr.get("test_acc"), inv.get("test_acc")
    if _ok(au, ai):
        if abs(au - ai) <= SAME_ACC:
            out.append(("harm", f"Accuracy barely differs ({_pct(au)} vs {_pct(ai)}): the harm is in the "
                                "confidence, not (yet) in the decisions." if not short else
                                f"Accuracy barely differs ({_pct(au)} vs {_pct(ai)})."))
        else:
            word = "lower" if au < ai else "higher"
            out.append(("harm", f"Accuracy {_pct(au)} vs {_pct(ai)}." if short else
                                f"Test accuracy: unrescaled {_pct(au)}, {word} than inverted's {_pct(ai)}."))

    # Fix: scaling at test time.
    ls, as_ = unr.get("test_loss_scaled"), unr.get("test_acc_scaled")
    if _ok(ls, lu):
        rel = _compare_loss(ls, li) if _ok(li) else None
        tail = f", {rel} inverted's" if rel else ""
        if short:
            out.append(("fix", f"×p at test: loss {ls:.3f}."))
        else:
            out.append(("fix", f"Multiplying each dropped layer by keep_prob at test time (Srivastava et al. "
                               f"2014) gives the same unrescaled weights test loss {ls:.3f}"
                               + (f" and accuracy {_pct(as_)}" if _ok(as_) else "") + f"{tail}."))

    # What inverted dropout does and does not keep.
    il = inv.get("layers", [])
    if il:
        first = il[0]
        mo, so, so_t = first.get("mean_ratio_own"), first.get("sq_norm_ratio_own"), first.get("sq_norm_ratio_theory")
        if _ok(mo, so, so_t):
            if short:
                out.append(("note", f"Inverted keeps the mean (×{mo:.2f}), not the norm (‖·‖² ×{so:.2f})."))
            else:
                out.append(("note", f"Inverted dropout keeps each unit's mean (own mask on {first['name']}: "
                                    f"×{mo:.2f}, theory 1) but not its norm: E‖·‖² grows ×{so:.2f} "
                                    f"(theory 1/p = {so_t:.2f})."))
    return out
