"""The metrics snapshot, typed once: what ``core.metrics.Snapshotter`` produces and every reader reads.

A snapshot is plain JSON-ready data (dicts, lists, floats), so it goes to recordings, ``--json``
and CSV as it is. The TypedDicts below are its definition: each field's ``Annotated`` metadata gives
its label (for tables) and its meaning (for the README), and the CSV columns, the headless table
rows and the documented JSON shape are all derived from them.

Vocabulary: *training mode* is a forward pass with the dropout masks applied (and scaled by the
run's rule); *prediction mode* ("pred") is the pass without dropout, as the network predicts.

Non-finite numbers are floats (nan, inf) in memory and ``null`` in JSON and recordings.

Units: every regression number is of the target the network fits. The built-in sets' targets are
fitted as they are (they are on a unit scale already); a CSV file's target is standardised with
its training split's mean and standard deviation (``core.csv_data``), so its losses, MSE, chance
loss and RMSE are in those standard deviations (squared for the MSE): ``Dataset.target_scale``
takes them back to the target's units. R² and the output spread are ratios: the same in any units.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated, TypedDict

RUNS = ("inverted", "unrescaled")


@dataclass(frozen=True)
class Doc:
    """A field's short label (table rows, CSV readers) and its meaning (README)."""
    label: str
    meaning: str


class LayerStats(TypedDict):
    """One hidden layer of one run, measured on the statistics rows (the first training points)."""
    name: Annotated[str, Doc("layer", "h1, h2, ... from the input side")]
    mean_train: Annotated[float, Doc("mean, training mode",
                                     "mean activation of the layer's output with dropout (mask and the run's scale)")]
    mean_pred: Annotated[float, Doc("mean, prediction mode", "mean activation of the layer's output without dropout")]
    norm_train: Annotated[float, Doc("norm, training mode", "mean per-example L2 norm of the output with dropout")]
    norm_pred: Annotated[float, Doc("norm, prediction mode", "mean per-example L2 norm of the output without dropout")]
    weight_norm: Annotated[float, Doc("weight norm", "Frobenius norm of the weights into the layer")]
    grad_norm: Annotated[float, Doc("gradient norm", "Frobenius norm of their gradient at the latest step")]
    mean_ratio_own: Annotated[float, Doc("mean ratio, own mask",
                                         "train/pred mean ratio with only this layer's own mask applied to its "
                                         "prediction-mode output: the case the closed form covers")]
    mean_ratio_theory: Annotated[float, Doc("mean ratio, theory", "the closed form: 1 (inverted) or p (unrescaled)")]
    sq_norm_ratio_own: Annotated[float, Doc("E‖·‖² ratio, own mask",
                                            "train/pred ratio of the mean squared norm, own mask only")]
    sq_norm_ratio_theory: Annotated[float, Doc("E‖·‖² ratio, theory",
                                               "the closed form: 1/p (inverted) or p (unrescaled)")]


class _RuleCore(TypedDict):
    test_loss: Annotated[float, Doc("test loss", "test loss of the rule's predictions: cross-entropy of its "
                                                 "probabilities (nats), or for regression the mean squared error "
                                                 "(of the standardised target, for a CSV file)")]


class RuleMetrics(_RuleCore, total=False):
    """One prediction rule's test-set metrics (see ``core.prediction``): accuracy and confidence
    for classification, R² and spread for regression."""
    test_acc: Annotated[float, Doc("test accuracy", "fraction of test points predicted right")]
    test_confidence: Annotated[float, Doc("confidence", "mean probability of the predicted class")]
    test_r2: Annotated[float, Doc("R²", "1 − MSE / variance of the test targets")]
    test_spread: Annotated[float, Doc("output spread", "standard deviation of the predictions over the test "
                                                       "points ÷ that of the targets")]


class StochasticMetrics(RuleMetrics):
    predictive_std: Annotated[float, Doc("predictive std", "mean over test points of the standard deviation, over "
                                                           "stochastic passes, of the predicted probability (or "
                                                           "output, for regression)")]


class MCMetrics(StochasticMetrics):
    T: Annotated[int, Doc("T", "number of stochastic passes averaged")]


class _RulesCore(TypedDict):
    no_dropout: Annotated[RuleMetrics, Doc("no dropout", "prediction mode: every multiplier 1 (model.eval())")]
    dropout_on: Annotated[StochasticMetrics, Doc("dropout left on",
                                                 "one stochastic pass with training-mode masks, as when "
                                                 "model.eval() is forgotten")]
    mc_dropout: Annotated[list[MCMetrics], Doc("Monte-Carlo dropout",
                                               "probabilities (or outputs) averaged over T stochastic passes, one "
                                               "row per T of the ladder up to mc_max")]


class RulesResult(_RulesCore, total=False):
    """The same weights under every prediction rule. ``weight_scaling`` for the unrescaled run only.
    Every metric is nan for a run that has diverged (the Monte-Carlo rows keep their T)."""
    weight_scaling: Annotated[RuleMetrics, Doc("×p at test", "weight scaling: each dropped layer's output "
                                                               "times its keep probability")]


class _RunCore(TypedDict):
    diverged: Annotated[bool, Doc("diverged", "a loss or a weight became non-finite; the run stopped updating")]
    learning: Annotated[bool, Doc("learning",
                                  "the run beats chance: it has not diverged and its test accuracy is more than "
                                  "5 points above chance_acc (regression: its test R², or the R² of its training "
                                  "loss with dropout, is above 0.05). False at "
                                  "chance, whatever the loss; a network can beat chance before any training, and "
                                  "stay above chance with a loss far above chance_loss (over-confident but right "
                                  "more often than not)")]
    train_loss_dropout: Annotated[float, Doc("train loss, with dropout",
                                             "loss of the latest training step, as the optimiser saw it (masks on)")]
    train_loss: Annotated[float, Doc("train loss, prediction mode", "loss on every training point, no dropout")]
    test_loss: Annotated[float, Doc("test loss", "loss on every test point, no dropout: cross-entropy (nats), or "
                                                 "for regression the mean squared error (of the standardised "
                                                 "target, for a CSV file)")]
    output_weight_norm: Annotated[float, Doc("output weight norm", "Frobenius norm of the output layer's weights")]
    layers: Annotated[list[LayerStats], Doc("layers", "one entry per hidden layer")]


class RunMetrics(_RunCore, total=False):
    """One run at one step. Classification runs carry accuracy and confidence, regression runs RMSE,
    R² and spread; the ``*_scaled`` fields exist for the unrescaled run only."""
    train_acc: Annotated[float, Doc("train accuracy", "accuracy on every training point, no dropout")]
    test_acc: Annotated[float, Doc("test accuracy", "accuracy on every test point, no dropout")]
    test_confidence: Annotated[float, Doc("test confidence",
                                          "mean probability given to the predicted class (nan for a diverged run)")]
    test_rmse: Annotated[float, Doc("test RMSE", "regression: root of the test MSE, in the target's units; for "
                                                 "a CSV file, of the standardised target (times the target's "
                                                 "training std: its own units)")]
    test_r2: Annotated[float, Doc("test R²", "regression: 1 − test MSE / variance of the test targets")]
    test_spread: Annotated[float, Doc("output spread",
                                      "regression: standard deviation of the predictions over the test points ÷ "
                                      "that of the targets; above 1 the predictions are stretched")]
    test_loss_scaled: Annotated[float, Doc("test loss, ×p at test",
                                           "test loss of the unrescaled run's weights with each dropped layer's "
                                           "output (and the input, with input dropout) multiplied by its keep "
                                           "probability: weight scaling, the unrescaled run only")]
    test_acc_scaled: Annotated[float, Doc("test accuracy, ×p at test", "test accuracy of that evaluation")]
    test_confidence_scaled: Annotated[float, Doc("test confidence, ×p at test", "test confidence of that evaluation")]
    test_r2_scaled: Annotated[float, Doc("test R², ×p at test", "regression: test R² of that evaluation")]
    test_spread_scaled: Annotated[float, Doc("output spread, ×p at test",
                                             "regression: output spread of that evaluation")]
    rules: Annotated[RulesResult, Doc("prediction rules",
                                      "the same weights under every prediction rule (no dropout, ×p, dropout "
                                      "left on, Monte-Carlo dropout); present on the snapshots they were "
                                      "computed for")]


class _SnapshotCore(TypedDict):
    step: Annotated[int, Doc("step", "training steps taken since the experiment (re)started")]
    dataset: Annotated[str, Doc("dataset", "the dataset; after a reset or dataset change steps restart at 0")]
    keep_prob: Annotated[float, Doc("keep_prob", "keep probability of the hidden layers at this step")]
    input_keep_prob: Annotated[float, Doc("input keep_prob", "keep probability of the input features")]
    chance_loss: Annotated[float, Doc("chance loss",
                                      "test loss of the best constant prediction: always the test set's class "
                                      "frequencies, the entropy of its labels in nats (ln 2 = 0.693 for two equal "
                                      "classes); for regression always the test targets' mean, their variance "
                                      "(of the standardised target, for a CSV file)")]
    runs: Annotated[dict[str, RunMetrics], Doc("runs", "\"inverted\" and \"unrescaled\"")]


class Snapshot(_SnapshotCore, total=False):
    """Both runs at one step of one experiment."""
    chance_acc: Annotated[float, Doc("chance accuracy",
                                     "classification: test accuracy of always predicting the test set's most "
                                     "frequent class")]


def docs(cls: type) -> dict[str, Doc]:
    """Field name -> Doc, in declaration order (base classes first)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = {}
    for name, hint in hints.items():
        meta = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Doc)]
        out[name] = meta[0] if meta else Doc(name, "")
    return out


def scalar_fields(cls: type) -> tuple[str, ...]:
    """The fields of ``cls`` that hold one number or flag (not lists or nested records)."""
    hints = typing.get_type_hints(cls)
    return tuple(n for n, t in hints.items() if t in (int, float, bool, str))


RUN_FIELDS = scalar_fields(RunMetrics)
LAYER_FIELDS = tuple(n for n in scalar_fields(LayerStats) if n != "name")
SNAPSHOT_FIELDS = scalar_fields(Snapshot)

# Older recordings (format 1) called prediction mode "eval".
LEGACY_LAYER_KEYS = {"mean_eval": "mean_pred", "norm_eval": "norm_pred"}


def upgrade_legacy(snapshot: dict) -> dict:
    """A format-1 snapshot with its layer keys renamed to today's, in place; returns it."""
    for run in snapshot.get("runs", {}).values():
        if not isinstance(run, dict):
            continue
        for layer in run.get("layers", []) if isinstance(run.get("layers"), list) else []:
            if isinstance(layer, dict):
                for old, new in LEGACY_LAYER_KEYS.items():
                    if old in layer and new not in layer:
                        layer[new] = layer.pop(old)
    return snapshot


def rule_columns(ladder: tuple[int, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """(column, path into ``RunMetrics["rules"]``) for every prediction-rule number: deterministic
    rules as ``<rule>_<metric>``, Monte-Carlo rows as ``mc<T>_<metric>`` for each T of ``ladder``."""
    hints = typing.get_type_hints(RulesResult)
    out: list[tuple[str, tuple[str, ...]]] = []
    for rule, hint in hints.items():
        if rule == "mc_dropout":
            continue
        out += [(f"{rule}_{m}", (rule, m)) for m in scalar_fields(hint)]
    for i, T in enumerate(ladder):
        out += [(f"mc{T}_{m}", ("mc_dropout", str(i), m)) for m in scalar_fields(StochasticMetrics)]
    return out


def csv_columns(n_layers: int, ladder: tuple[int, ...] = ()) -> list[str]:
    """Columns of the metrics CSV: one row per snapshot and run; the prediction rules' columns for
    a Monte-Carlo ladder ``ladder`` (empty cells where a snapshot has no rules)."""
    cols = list(SNAPSHOT_FIELDS)
    cols.insert(cols.index("dataset") + 1, "run")
    cols += RUN_FIELDS
    for i in range(1, n_layers + 1):
        cols += [f"h{i}_{f}" for f in LAYER_FIELDS]
    cols += [name for name, _ in rule_columns(ladder)]
    return cols


def field_reference() -> str:
    """The README's list of snapshot, run and layer fields with their meanings, generated from the definition."""
    lines = []
    for cls, skip in ((Snapshot, {"dataset", "runs"}), (RunMetrics, {"layers"}), (LayerStats, {"name"})):
        lines += [f"- `{name}`: {doc.meaning}." for name, doc in docs(cls).items() if name not in skip]
    return "\n".join(lines)
