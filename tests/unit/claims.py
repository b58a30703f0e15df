"""Independent checks of the explanation's sentences against the snapshot they explain.

Written from what the screen shows and what the sentences claim, not from ``tui.explain``'s
preconditions: every number a sentence quotes must be a number on the screen (or one the sentence
derives from keep_prob), to within the rounding it is printed with, and every comparison or claim
a sentence makes must hold for the numbers. ``check(snapshot, context, shown)`` returns the
problems found (empty: the explanation tells the truth about this snapshot).
"""

from __future__ import annotations

import math
import re

from dropout_tui.core.metrics import CHANCE_MARGIN

NUMBER = re.compile(r"(?<![\w.‖])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?%?")
N = r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?%?)"  # one printed number, as a group
CONSTANTS = {1.0, 2014.0, 50.0}  # "1/p", "ratio 1", "(Srivastava et al. 2014)", their "k = 50"
REACH = 0.01  # "at most 1% above" a reference loss
BEAT = 0.05  # "does better than" a reference loss: more than 5% below it
DRIFT = 0.15  # the layer table's warning colour: a mean ratio further than this from 1
ACC_POINTS, ERR_RATIO = 0.02, 1.25
# What the run columns show: the *_own / *_theory ratios, gradient norms, the output layer's weight
# norm and the ×p confidence are in the snapshot but not on screen.
RUN_ON_SCREEN = ("train_loss_dropout", "train_loss", "train_acc", "test_loss", "test_acc", "test_confidence",
                 "test_loss_scaled", "test_acc_scaled", "test_r2", "test_spread", "test_r2_scaled",
                 "test_spread_scaled")
LAYER_ON_SCREEN = ("mean_train", "mean_pred", "norm_train", "norm_pred", "weight_norm")


def parse(token: str) -> tuple[float, float]:
    """(value, half a unit of the last printed digit) of a number as printed."""
    pct = token.endswith("%")
    t = token.rstrip("%").replace(",", "")
    mantissa, _, exp = t.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    scale = 10.0 ** int(exp) if exp else 1.0
    value, tol = float(t), 0.5 * 10.0 ** -decimals * scale
    if pct:
        value, tol = value / 100, tol / 100
    return value, tol


def matches(token: str, value: float) -> bool:
    x, tol = parse(token)
    return isinstance(value, (int, float)) and math.isfinite(value) and abs(x - value) <= tol * 1.0001 + 1e-12


def ratio(a, b):
    return a / b if b else math.nan


def finite(*xs) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in xs)


def screen_values(snap: dict, ctx) -> list[float]:
    """Every number the screen shows for ``snap`` (and the settings a sentence may name), plus the
    factors a sentence may derive from keep_prob."""
    vals: list[float] = [snap["step"], snap["keep_prob"], snap["input_keep_prob"]]
    vals += [snap.get("chance_acc", math.nan), snap.get("chance_loss", math.nan)]
    for run in snap["runs"].values():
        vals += [run[k] for k in RUN_ON_SCREEN if k in run]
        for layer in run["layers"]:
            vals += [layer[k] for k in LAYER_ON_SCREEN]
            vals.append(ratio(layer["mean_train"], layer["mean_pred"]))
            vals.append(ratio(layer["norm_train"], layer["norm_pred"]))
    rules = rules_snapshot(snap, ctx)
    if rules is not None:
        vals += [rules["step"], REACH]
        for run in rules["runs"].values():
            for name, rule in run["rules"].items():
                for m in (rule if name == "mc_dropout" else [rule]):
                    vals += [v for k, v in m.items()]
            # Rises the sentences derive: dropout on over no dropout, the largest T over the reference.
            r = run["rules"]
            ref = r.get("weight_scaling", r["no_dropout"])["test_loss"]
            vals += [ratio(r["dropout_on"]["test_loss"] - r["no_dropout"]["test_loss"], r["no_dropout"]["test_loss"]),
                     ratio(r["no_dropout"]["test_loss"] - r["dropout_on"]["test_loss"], r["no_dropout"]["test_loss"]),
                     ratio(r["mc_dropout"][-1]["test_loss"] - ref, ref),
                     ratio(ref - r["mc_dropout"][-1]["test_loss"], ref)]  # "N% below" it
    p, q = snap["keep_prob"], snap["input_keep_prob"]
    vals += [1 / p, 1 / math.sqrt(p), p * p, 1 / q, q * q, ctx.lr, ctx.n_inputs, (1 - q) ** ctx.n_inputs]
    if ctx.l2:
        vals += [ctx.l2 / (p * p), ctx.l2 / (q * q)]
    vals += [x for x in (ctx.keep_prob, ctx.input_keep_prob) if x is not None]
    return [v for v in vals if finite(v)]


def rules_snapshot(snap: dict, ctx):
    """The prediction rules a sentence may quote: the snapshot's own, or the context's latest."""
    if all("rules" in run for run in snap["runs"].values()):
        return snap
    rules = getattr(ctx, "rules", None)
    if rules is not None and all("rules" in run for run in rules["runs"].values()):
        return rules
    return None


def learning(run: dict, snap: dict) -> bool:
    """A run to compare: it predicts the test set better than chance (regression: test R² above the
    margin; a training fit alone is no reason to compare it)."""
    if "test_r2" in run:
        return not run["diverged"] and finite(run["test_r2"]) and run["test_r2"] > CHANCE_MARGIN
    return not run["diverged"] and finite(run["test_acc"]) and run["test_acc"] > snap["chance_acc"] + CHANCE_MARGIN


def misscaled(snap: dict, ctx) -> bool:
    """Regression: the unrescaled run predicts no better than the mean, but ×p at test does, or
    (full batch, beside a learning inverted run) the snapshot's flag says it fits its training data
    with dropout on. Such a run may be set beside a learning inverted run, never named better."""
    unr, inv = snap["runs"]["unrescaled"], snap["runs"]["inverted"]
    if "test_r2" not in unr or unr["diverged"] or learning(unr, snap) or snap["step"] == 0:
        return False
    if snap["keep_prob"] >= 1 and snap["input_keep_prob"] >= 1:
        return False
    scaled = unr.get("test_r2_scaled", math.nan)
    fits = ctx.full_batch and bool(unr["learning"]) and learning(inv, snap)
    return (finite(scaled) and scaled > CHANCE_MARGIN) or fits


def stuck(run: dict, snap: dict) -> bool:
    return not run["diverged"] and not learning(run, snap)


def ok_r2(r2) -> bool:
    """A test R² above the margin: better than always predicting the mean."""
    return finite(r2) and r2 > CHANCE_MARGIN


def _num_after(text: str, prefix: str) -> str | None:
    m = re.search(re.escape(prefix) + r"\s*(" + NUMBER.pattern + ")", text)
    return m.group(1) if m else None


def check(snap: dict, ctx, shown) -> list[str]:
    """Problems with the sentences ``shown`` (``tui.explain.Shown``) for ``snap`` under ``ctx``."""
    problems: list[str] = []
    values = screen_values(snap, ctx)
    inv, unr = snap["runs"]["inverted"], snap["runs"]["unrescaled"]
    # Regression: a learning inverted run beside a mis-scaled unrescaled one may be compared (the
    # comparison is the harm), and the unrescaled run is then never the better one by R².
    comparable = learning(inv, snap) and (learning(unr, snap) or misscaled(snap, ctx))
    ids = [s.rule.id for s in shown]

    def bad(rule_id: str, why: str, text: str) -> None:
        problems.append(f"[{rule_id}] {why}: {text}")

    for s in shown:
        rid, text = s.rule.id, s.text
        # 1. Every number is a number on screen, or a factor derived from keep_prob, as printed.
        for token in NUMBER.findall(text):
            x, _ = parse(token)
            if x in CONSTANTS and not token.endswith("%"):
                continue
            if not any(matches(token, v) for v in values):
                bad(rid, f"{token} is no number on screen", text)
        if "—" in text or "nan" in text or "inf" in text.replace("infinite", ""):
            bad(rid, "quotes a missing number", text)
        # 2. The claims.
        alone = rid == "weaker" and inv["diverged"] and not unr["diverged"]  # the unrescaled run's own story
        if rid in ("loss_compare", "acc_compare", "weaker", "scaled_beats_inverted", "stretched") \
                and not comparable and not alone:
            bad(rid, "compares runs when one is not learning", text)
        # R² in words: "reaches" only above the margin; "worse than always predicting the mean" only below 0.
        for tok in re.findall(r"reaches test R² (" + NUMBER.pattern + ")", text):
            if not parse(tok)[0] > CHANCE_MARGIN:
                bad(rid, "says a run reaches an R² at or below the margin", text)
        for tok in re.findall(r"R² (" + NUMBER.pattern + r"),? worse than always predicting the mean", text):
            if not parse(tok)[0] < 0:
                bad(rid, "says worse than the mean for an R² not below 0", text)
        if rid == "loss_compare":
            m = re.search(N + r"(?: \(R² [^)]*\))?, (higher than|lower than|about the same as) inverted's " + N, text)
            if not m:
                bad(rid, "unparsed", text)
            else:
                lu, li = unr["test_loss"], inv["test_loss"]
                if not (matches(m.group(1), lu) and matches(m.group(3), li)):
                    bad(rid, "quotes other losses", text)
                word = m.group(2)
                if (word == "higher than" and not lu > li) or (word == "lower than" and not lu < li):
                    bad(rid, "direction contradicts the losses", text)
                if word == "about the same as" and not 1 / 1.2 <= lu / li <= 1.2:
                    bad(rid, "losses are not about the same", text)
            if "over-confident" in text and not unr["test_confidence"] > unr["test_acc"]:
                bad(rid, "over-confident without confidence above accuracy", text)
        if rid == "acc_compare":
            au, ai = unr["test_acc"], inv["test_acc"]
            if "barely differs" in text:
                eu, ei = 1 - au, 1 - ai
                lo, hi = min(eu, ei), max(eu, ei)
                if abs(au - ai) > ACC_POINTS or (hi > 0 and (lo == 0 or hi / lo > ERR_RATIO)):
                    bad(rid, "accuracies do not barely differ", text)
            if "lower than" in text and not au < ai:
                bad(rid, "unrescaled accuracy is not lower", text)
            if "higher than" in text and not au > ai:
                bad(rid, "unrescaled accuracy is not higher", text)
        if rid == "scaled":
            ls, lu, li = unr["test_loss_scaled"], unr["test_loss"], inv["test_loss"]
            m = re.search(r"(?:from |loss |\()" + N + r" (?:to|→) " + N, text)
            if not m or not (matches(m.group(1), lu) and matches(m.group(2), ls)):
                bad(rid, "unparsed or other losses", text)
            if ("brings" in text or "fixes" in text) and not (ls < lu and learning(inv, snap) and ls <= li * 1.1):
                bad(rid, "claims a fix the numbers do not show", text)
            if ("brings" in text or "fixes" in text) and "test_r2" in unr and not unr["test_r2_scaled"] > CHANCE_MARGIN:
                bad(rid, "credits ×p as a fix where it predicts no better than the mean", text)
            if "lowers" in text and not ls < lu:
                bad(rid, "claims lower, is not", text)
            if "raises" in text and not ls > lu:
                bad(rid, "claims higher, is not", text)
            if "still above inverted's" in text and not ls > li:
                bad(rid, "not above inverted's", text)
            if "lower than inverted's" in text and not ls < li:
                bad(rid, "not below inverted's", text)
        if rid == "path_gap":
            m = re.search(r"\(" + N + r" against inverted's " + N + r"\)", text)
            if not comparable:
                bad(rid, "compares runs when one is not learning", text)
            if not m or not (matches(m.group(1), unr["test_loss_scaled"]) and matches(m.group(2), inv["test_loss"])):
                bad(rid, "unparsed or other losses", text)
            elif not unr["test_loss_scaled"] > inv["test_loss"] * 1.1:
                bad(rid, "×p at test leaves no gap to close", text)
            if "times the learning rate" in text and ctx.optimizer not in ("sgd", "momentum"):
                bad(rid, "the p² learning rate is for SGD and momentum only", text)
        if rid == "scaled_beats_inverted":
            if not unr["test_loss_scaled"] < inv["test_loss"]:
                bad(rid, "×p does not beat inverted", text)
            if "times the learning rate" in text and ctx.optimizer not in ("sgd", "momentum"):
                bad(rid, "the p² learning rate is for SGD and momentum only", text)
        if rid in ("keeps_mean", "drift") and inv["layers"]:
            h1 = inv["layers"][0]
            tok = _num_after(text, "keeps h1's mean (×")
            if tok is not None:
                r = ratio(h1["mean_train"], h1["mean_pred"])
                if not matches(tok, r) or abs(r - 1) > 0.05 or snap["input_keep_prob"] < 1:
                    bad(rid, "h1 does not keep its mean", text)
        if rid == "keeps_mean":
            h1 = inv["layers"][0]
            nr = ratio(h1["norm_train"], h1["norm_pred"])
            tok = _num_after(text, "not its norm (×")
            if tok is None or not matches(tok, nr) or not parse(tok)[0] > 1:
                bad(rid, "norm ratio misquoted or not above 1", text)
            bound = _num_after(text, "at most √(1/p) = ")
            if bound is not None and (not matches(bound, 1 / math.sqrt(snap["keep_prob"]))
                                      or parse(tok or "0")[0] > parse(bound)[0]):
                bad(rid, "bound misquoted or exceeded", text)
        if rid == "drift":
            for name, tok in re.findall(r"(h\d+)(?:'s)? \(?×(" + NUMBER.pattern + ")", text):
                layer = next(lay for lay in inv["layers"] if lay["name"] == name)
                r = ratio(layer["mean_train"], layer["mean_pred"])
                if not matches(tok, r):
                    bad(rid, f"{name}'s ratio misquoted", text)
                if name != "h1" and abs(r - 1) <= DRIFT:
                    bad(rid, f"{name} is not in the warning colour", text)
            if "Jensen" in text and ctx.activation not in ("relu", "leaky_relu"):
                bad(rid, "Jensen's sign needs a convex activation", text)
        if rid == "weaker":
            m = re.search(r"(h\d+)(?:'s)? (mean|norm) (?:is )?" + N + r" (?:in )?training,? (?:but )?" + N
                          + r" (?:when )?predicting \(×" + N, text)
            if not m:
                bad(rid, "unparsed", text)
            else:
                layer = next(lay for lay in unr["layers"] if lay["name"] == m.group(1))
                tr, pr = layer[f"{m.group(2)}_train"], layer[f"{m.group(2)}_pred"]
                if not (matches(m.group(3), tr) and matches(m.group(4), pr) and matches(m.group(5), tr / pr)):
                    bad(rid, "quotes other numbers", text)
                if not tr < pr:
                    bad(rid, "not weaker in training", text)
        if rid in ("tuned_to_weak", "train_above_test") and not ctx.full_batch:
            bad(rid, "compares a minibatch's loss with the whole set's", text)
        if rid == "tuned_to_weak" and not unr["train_loss_dropout"] < unr["train_loss"]:
            bad(rid, "not lower with dropout", text)
        if rid == "train_above_test" and not inv["train_loss_dropout"] > inv["test_loss"]:
            bad(rid, "training loss with dropout not above test loss", text)
        if rid == "neither_learning" and not (stuck(inv, snap) and stuck(unr, snap)):
            bad(rid, "a run is learning", text)
        if rid == "neither_learning" and "test_r2" in unr and ok_r2(unr.get("test_r2_scaled")):
            bad(rid, "says neither run predicts where ×p at test does", text)
        if rid == "one_stuck":
            name = "inverted" if text.startswith("The inverted") else "unrescaled"
            other = "unrescaled" if name == "inverted" else "inverted"
            good = learning(snap["runs"][other], snap) or (other == "unrescaled" and misscaled(snap, ctx))
            if not (stuck(snap["runs"][name], snap) and good):
                bad(rid, "the named run is learning or the other is not", text)
        if rid == "both_diverged" and not (inv["diverged"] and unr["diverged"]):
            bad(rid, "a run has not diverged", text)
        if rid == "one_diverged" and inv["diverged"] == unr["diverged"]:
            bad(rid, "not exactly one run diverged", text)
        if rid == "one_diverged" and "carries on" in text:
            survivor = unr if inv["diverged"] else inv
            told = "not learning either" in text
            if told != stuck(survivor, snap) and not (not told and inv["diverged"] and misscaled(snap, ctx)):
                bad(rid, "says the surviving run learns or not, against its numbers", text)
        if rid == "stretched":
            su, si = unr["test_spread"], inv["test_spread"]
            if not (su > 1 and su > si):
                bad(rid, "the unrescaled outputs are not the more stretched", text)
            tok = _num_after(text, "brings it to ") or _num_after(text, "narrows it to ")
            if tok is not None and not unr["test_spread_scaled"] < su:
                bad(rid, "×p does not narrow the spread", text)
            if "overshoots" in text and tok is None:
                bad(rid, "claims the cause without ×p narrowing the spread", text)
            if "too far" in text and not unr["test_spread_scaled"] < si / 1.1:
                bad(rid, "says ×p went too far, it did not", text)
            if "brings it to" in text and not unr["test_spread_scaled"] >= si / 1.1:
                bad(rid, "says ×p brings the spread to a value narrower than the targets without saying so", text)
        if rid == "input_story":
            key = "test_r2" if "test_r2" in inv else "test_acc"
            if not (snap["input_keep_prob"] < 1 and inv[key] < unr[key] and inv["test_loss"] > unr["test_loss"]):
                bad(rid, "no input dropout, or inverted not worse", text)
            if "test_r2" in inv and not learning(unr, snap):
                bad(rid, "the unrescaled run does not predict", text)
        if rid == "keep_prob_one" and (snap["keep_prob"] < 1 or snap["input_keep_prob"] < 1):
            bad(rid, "something is dropped", text)
        if rid == "step_zero" and snap["step"] != 0:
            bad(rid, "not step 0", text)
        if rid == "pending" and ctx.keep_prob in (None, snap["keep_prob"]) and \
                ctx.input_keep_prob in (None, snap["input_keep_prob"]):
            bad(rid, "nothing is pending", text)
        if rid == "tiny_keep_prob":
            m = re.search(r"into (h\d+)(?: reached| is) ‖W‖ " + N + r",? (?:against |\(unrescaled )" + N, text) \
                or re.search(r"‖W‖ into (h\d+) is " + N + r" \(unrescaled " + N, text)
            if not m:
                bad(rid, "unparsed", text)
            else:
                a = next(lay for lay in inv["layers"] if lay["name"] == m.group(1))["weight_norm"]
                b = next(lay for lay in unr["layers"] if lay["name"] == m.group(1))["weight_norm"]
                # Blown up: far beyond the other run's and far beyond any initial weight norm.
                if not (a > 100 * b and a > 1000) or not (matches(m.group(2), a) and matches(m.group(3), b)):
                    bad(rid, "weights not out of scale, or misquoted", text)
        if rid == "silent":
            tok = (_num_after(text, "mean output is ") or _num_after(text, "silent when predicting (")
                   or _num_after(text, "silent when predicting (mean ") or _num_after(text, "(mean "))
            if tok is None or not abs(parse(tok)[0]) < 1e-3:
                bad(rid, "not silent", text)
            active = _num_after(text, "active in training (mean ") or _num_after(text, "not in training (")
            if active is not None and not abs(parse(active)[0]) >= 1e-3:
                bad(rid, "says active in training, is not", text)
        if rid == "tanh_noise":
            m = re.search(r"(inverted|unrescaled) (h\d+): mean " + N + r",? (?:when predicting, against a norm of "
                          r"|norm )" + N, text)
            if not m or ctx.activation != "tanh":
                bad(rid, "unparsed or not tanh", text)
            else:
                layer = next(lay for lay in snap["runs"][m.group(1)]["layers"] if lay["name"] == m.group(2))
                if not (matches(m.group(3), layer["mean_pred"]) and matches(m.group(4), layer["norm_pred"])
                        and abs(layer["mean_pred"]) <= 0.05 * layer["norm_pred"]):
                    bad(rid, "mean not near zero beside the norm, or misquoted", text)
                r = ratio(layer["mean_train"], layer["mean_pred"])
                if finite(r) and abs(r - layer["mean_ratio_theory"]) <= DRIFT:
                    bad(rid, "calls noise a ratio that matches its run's closed form", text)
        if rid in ("dropout_left_on", "mc_unrescaled", "mc_inverted"):
            _check_prediction(rid, text, snap, ctx, bad)
        # 3. Words that must never appear.
        if re.search(r"(about|≈) ?×? ?√", text):
            bad(rid, "presents √(1/p) as the norm ratio to expect", text)
    # Global: "keeps the mean" never stands beside an unexplained warning-coloured inverted layer.
    warn = [lay["name"] for k, lay in enumerate(inv["layers"])
            if finite(lay["mean_train"], lay["mean_pred"]) and lay["mean_pred"] > 0
            and abs(ratio(lay["mean_train"], lay["mean_pred"]) - 1) > DRIFT]
    if "keeps_mean" in ids and warn:
        problems.append(f"keeps_mean beside warning-coloured inverted layers {warn}")
    if "both_diverged" in ids and len(ids) > 1 + ("pending" in ids):
        problems.append(f"more than the divergence note when both diverged: {ids}")
    return problems


def _check_prediction(rid: str, text: str, snap: dict, ctx, bad) -> None:
    """The prediction-rule sentences: their numbers are the latest evaluation's, of a learning run
    with dropout on, and every comparison holds."""
    rules_snap = rules_snapshot(snap, ctx)
    if rules_snap is None:
        bad(rid, "speaks of prediction rules without an evaluation", text)
        return
    at = re.match(r"At step " + N + ", ", text)
    if (rules_snap["step"] != snap["step"]) != bool(at) or (at and not matches(at.group(1), rules_snap["step"])):
        bad(rid, "does not name the step of an evaluation from another step (or names a wrong one)", text)
    if rules_snap["keep_prob"] >= 1 and rules_snap["input_keep_prob"] >= 1:
        bad(rid, "prediction rules without dropout", text)
    run_name = "unrescaled" if rid == "mc_unrescaled" else "inverted"
    run = rules_snap["runs"][run_name]
    if rid == "dropout_left_on" and "lowers" in text:
        # Told of a run whose stochastic pass predicts better than its no-dropout rule: that pass
        # must itself beat chance.
        on = run["rules"]["dropout_on"]
        score = on.get("test_r2") if "test_r2" in on else on.get("test_acc")
        floor = 0.0 if "test_r2" in on else rules_snap["chance_acc"]
        if run["diverged"] or not (finite(score) and score > floor + CHANCE_MARGIN):
            bad(rid, "says dropout left on lowers the loss of a pass at chance", text)
    # Regression: the unrescaled run's Monte-Carlo story is told against ×p at test, whose R² is
    # checked below; its own no-dropout R² may be mis-scaled.
    mc_misscaled = rid == "mc_unrescaled" and "test_r2" in run and not run["diverged"] and run["learning"]
    lowers = rid == "dropout_left_on" and "lowers" in text
    if not (learning(run, rules_snap) or mc_misscaled or lowers):
        bad(rid, "speaks of a run that is not learning", text)
    rules = run["rules"]
    still = re.search(r"predicting without dropout does better still here \(" + N + r"\)", text)
    if still:
        nd, mc_last = rules["no_dropout"]["test_loss"], rules["mc_dropout"][-1]["test_loss"]
        scaled = rules.get("weight_scaling", {}).get("test_loss", math.inf)
        if not (matches(still.group(1), nd) and nd < mc_last and nd < scaled):
            bad(rid, "no dropout is not better than both", text)
    if rid == "dropout_left_on":
        if "sd " in text and rules["mc_dropout"][-1]["T"] < 20:
            bad(rid, "quotes a call-to-call sd estimated from too few passes", text)
        m = re.search(r"by " + N + r" \(" + N + " → " + N + r"\)", text)
        a, b = rules["no_dropout"]["test_loss"], rules["dropout_on"]["test_loss"]
        if not m or not (matches(m.group(2), a) and matches(m.group(3), b)):
            bad(rid, "unparsed, or not the no-dropout and dropout-on losses", text)
        elif "lowers" in text:
            if not (b * 1.1 < a and matches(m.group(1), (a - b) / a)):
                bad(rid, "no clear drop, or a wrong one", text)
        elif not (b > a and matches(m.group(1), (b - a) / a) and parse(m.group(1))[0] >= 0.01):
            bad(rid, "no rise, or a wrong one", text)
        return
    reference = rules["weight_scaling" if run_name == "unrescaled" else "no_dropout"]
    ref = reference["test_loss"]
    mc = rules["mc_dropout"]
    for name, metrics in (("the reference rule", reference), ("the largest T", mc[-1])):
        score = metrics.get("test_r2") if "test_r2" in metrics else metrics.get("test_acc")
        floor = 0.0 if "test_r2" in metrics else rules_snap["chance_acc"]
        if not (finite(score) and score > floor + CHANCE_MARGIN):
            bad(rid, f"compares Monte-Carlo dropout where {name} is at chance", text)
    m = re.search(N + r", " + N + r" below (?:its |the )?\S+(?: at test)? loss " + N, text)
    if m:
        last = mc[-1]["test_loss"]
        if not (matches(m.group(1), last) and matches(m.group(3), ref) and last < ref * (1 - BEAT)
                and matches(m.group(2), (ref - last) / ref)):
            bad(rid, "not below the reference by what it says", text)
        one = re.search(r"one pass, T = 1, already gives " + N, text)
        if one and not (mc[0]["T"] == 1 and matches(one.group(1), mc[0]["test_loss"]) and mc[0]["test_loss"] < ref):
            bad(rid, "misquotes the one-pass loss, or it is not below the reference", text)
        return
    m = re.search(r"at most 1% above (?:its |the )?\S+(?: at test)? loss " + N + r" from T = (\d+) on", text)
    if m:
        t = int(m.group(2))
        if not matches(m.group(1), ref):
            bad(rid, "misquotes the reference loss", text)
        later = [row for row in mc if row["T"] >= t]
        if not later or later[0]["T"] != t or any(row["test_loss"] > ref * (1 + REACH) for row in later):
            bad(rid, "not at most 1% above from that T on", text)
        earlier = [row for row in mc if row["T"] < t]
        if earlier and earlier[-1]["test_loss"] <= ref * (1 + REACH):
            bad(rid, "already at most 1% above before that T", text)
        below = re.search(r"at T = (\d+) it is below it \(" + N + r"\)", text)
        if below and not (mc[-1]["T"] == int(below.group(1)) and matches(below.group(2), mc[-1]["test_loss"])
                          and mc[-1]["test_loss"] < ref):
            bad(rid, "the largest T is not below the reference", text)
        return
    m = re.search(N + r", (?:still )?" + N + r" above (?:its |the )?\S+(?: at test)? loss " + N, text)
    if not m:
        bad(rid, "unparsed", text)
        return
    last = mc[-1]["test_loss"]
    if not (matches(m.group(1), last) and matches(m.group(3), ref) and last > ref
            and matches(m.group(2), (last - ref) / ref) and parse(m.group(2))[0] >= 0.01):
        bad(rid, "not above the reference by what it says", text)
