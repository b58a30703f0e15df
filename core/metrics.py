"""Metrics snapshots: what each run looks like right now, cheap enough to take every few steps.

Layer statistics compare the same inputs (the training set) in training mode — dropout masks
applied and scaled by the run's rule — and in prediction mode (no dropout). The masks come from
a generator seeded by (metrics seed, step), so a snapshot at step t is the same number however
often snapshots were taken before it, and never touches the training streams.

Where a closed form holds — a layer's own mask on fixed input — the snapshot carries it beside the
measurement: the mean ratio is 1 (inverted) or p (unrescaled); the E‖·‖² ratio is 1/p or p.
"""

from __future__ import annotations

import math

import numpy as np

from .dropout import draw_mask, theory
from .network import Workspace

NO_DROPOUT = None


class Snapshotter:
    """Takes snapshots of one experiment; keeps its own buffers so training's stay untouched."""

    def __init__(self, exp):
        self.exp = exp
        self._ws: dict[tuple[str, int, int], Workspace] = {}

    def _workspace(self, run, tag: int, n: int) -> Workspace:
        key = (run.rule, tag, n)
        ws = self._ws.get(key)
        if ws is None:
            ws = self._ws[key] = run.net.workspace(n)
        return ws

    def take(self) -> dict:
        exp = self.exp
        with np.errstate(all="ignore"):
            masks = self._metric_masks()
            runs = {rule: self._run(run, masks) for rule, run in exp.runs.items()}
        return {"step": exp.step, "keep_prob": exp.keep_prob, "input_keep_prob": exp.input_keep_prob,
                "runs": runs}

    def _metric_masks(self):
        """One set of masks for both runs, as in training: (keep mask, mask / p) per site."""
        exp = self.exp
        x = exp.data.x_train
        rng = np.random.default_rng([exp.metrics_seed.entropy, *exp.metrics_seed.spawn_key, exp.step])
        widths = [x.shape[1], *exp.config.layers]
        out = []
        for w, p in zip(widths, exp.probs):
            if p >= 1.0:
                out.append((None, None))
                continue
            bufs = (np.empty((x.shape[0], w), np.float32), np.empty((x.shape[0], w), x.dtype),
                    np.empty((x.shape[0], w), x.dtype))
            draw_mask(rng, p, *bufs)
            out.append((bufs[1], bufs[2]))
        return out

    def _run(self, run, masks) -> dict:
        exp = self.exp
        data, net = exp.data, run.net
        none = [NO_DROPOUT] * len(exp.probs)
        train_target = net.targets(data.y_train)
        test_target = net.targets(data.y_test)
        n_train, n_test = data.x_train.shape[0], data.x_test.shape[0]

        out = {"diverged": run.diverged, "train_loss_dropout": run.last_loss()}

        ev = self._workspace(run, 0, n_train)
        z = net.forward(ev, data.x_train, none)
        out["train_loss"] = net.loss(z, train_target)
        out["train_acc"] = net.accuracy(z, data.y_train)

        mults = [m if run.rule == "unrescaled" else s for m, s in masks]
        tr = self._workspace(run, 1, n_train)
        net.forward(tr, data.x_train, mults)

        ts = self._workspace(run, 2, n_test)
        z = net.forward(ts, data.x_test, none)
        out["test_loss"] = net.loss(z, test_target)
        out["test_acc"] = net.accuracy(z, data.y_test)
        out["test_confidence"] = _confidence(net, ts)
        if run.rule == "unrescaled":
            # Srivastava et al. 2014: same weights, each dropped layer's output times its keep_prob.
            z = net.forward(ts, data.x_test, [p if p < 1 else None for p in exp.probs])
            out["test_loss_scaled"] = net.loss(z, test_target)
            out["test_acc_scaled"] = net.accuracy(z, data.y_test)
            out["test_confidence_scaled"] = _confidence(net, ts)

        layers = []
        for l in range(len(exp.config.layers)):
            a_eval = ev.a[l]
            m = mults[l + 1]
            a_train = tr.a[l] if m is None else tr.d[l]
            mean_e, norm_e, sq_e = _stats(a_eval)
            mean_t, norm_t, _ = _stats(a_train)
            # The layer's own mask on the prediction-mode input: the case the closed form covers.
            own = a_eval if m is None else a_eval * m
            mean_o, _, sq_o = _stats(own)
            layers.append({
                "name": f"h{l + 1}",
                "mean_train": mean_t, "mean_eval": mean_e,
                "norm_train": norm_t, "norm_eval": norm_e,
                "weight_norm": float(np.linalg.norm(net.W[l])),
                "grad_norm": float(np.linalg.norm(net.gW[l])),
                "mean_ratio_own": _ratio(mean_o, mean_e),
                "sq_norm_ratio_own": _ratio(sq_o, sq_e),
                **theory(run.rule, exp.keep_prob),
            })
        out["layers"] = layers
        out["output_weight_norm"] = float(np.linalg.norm(net.W[-1]))
        # Check the weights themselves: a norm can overflow while every weight is still finite.
        if not all(np.isfinite(w).all() for w in net.W):
            run.mark_diverged(exp.step)
            out["diverged"] = True
        return out


def _stats(a: np.ndarray) -> tuple[float, float, float]:
    """Mean entry, mean per-example L2 norm, mean per-example squared norm."""
    sq = np.einsum("ij,ij->i", a, a)
    return float(a.mean()), float(np.sqrt(sq).mean()), float(sq.mean())


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else math.nan


def _confidence(net, ws: Workspace) -> float:
    """Mean probability given to the predicted class: how sure the network is, right or wrong."""
    p = net.probabilities(ws)
    if net.binary:
        return float(np.maximum(p, 1 - p).mean())
    return float(p.max(axis=1).mean())
