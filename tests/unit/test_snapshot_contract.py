"""The snapshot is defined once (core.snapshot): what the engine produces, the README documents,
the CSV carries and the headless table shows all follow that one definition."""

from __future__ import annotations

import json
import math
import re
import typing
from pathlib import Path

import pytest
from dropout_tui.core.csv_export import csv_rows
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.report import result
from dropout_tui.core.snapshot import (
    LAYER_FIELDS,
    RUN_FIELDS,
    LayerStats,
    RunMetrics,
    Snapshot,
    csv_columns,
    docs,
    field_reference,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

README = Path(__file__).resolve().parents[2] / "README.md"


def _json_block_after(marker: str) -> dict:
    text = README.read_text()
    start = text.index(marker)
    block = re.search(r"```json\n(.*?)```", text[start:], re.S)
    assert block, f"no JSON block after {marker!r}"
    return json.loads(block.group(1))


def test_readme_json_blocks_list_exactly_the_defined_fields():
    top = _json_block_after("The JSON object")
    run = _json_block_after("RUN (")
    layer = _json_block_after("LAYER:")
    assert set(top) == {"config"} | set(typing.get_type_hints(Snapshot)) - {"dataset"}
    assert set(run) == set(typing.get_type_hints(RunMetrics))
    assert set(layer) == set(typing.get_type_hints(LayerStats))


def test_readme_field_list_is_the_generated_one():
    assert field_reference() in README.read_text()


def test_every_field_has_a_label_and_a_meaning():
    for cls in (Snapshot, RunMetrics, LayerStats):
        for name, doc in docs(cls).items():
            assert doc.label and doc.meaning, (cls.__name__, name)


def test_csv_columns_follow_the_definition():
    cols = csv_columns(2)
    assert cols[:5] == ["step", "dataset", "run", "keep_prob", "input_keep_prob"]
    assert [c for c in cols if c in RUN_FIELDS] == list(RUN_FIELDS)
    assert [c for c in cols if c.startswith("h2_")] == [f"h2_{f}" for f in LAYER_FIELDS]
    assert not any(c.startswith("h3_") for c in cols)


def _check_types(value, hint, where):
    origin = typing.get_origin(hint)
    if hint is float:
        assert isinstance(value, float), where
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif hint is bool:
        assert isinstance(value, bool), where
    elif hint is str:
        assert isinstance(value, str), where
    elif origin is list:
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            _check_types(v, item, f"{where}[{i}]")
    elif origin is dict:
        _, item = typing.get_args(hint)
        for k, v in value.items():
            _check_types(v, item, f"{where}.{k}")
    else:  # a TypedDict
        hints = typing.get_type_hints(hint)
        required = hint.__required_keys__
        assert required <= set(value) <= set(hints), (where, set(value) ^ set(hints))
        for k, v in value.items():
            _check_types(v, hints[k], f"{where}.{k}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layers=st.lists(st.integers(1, 9), min_size=1, max_size=4), keep=st.floats(0.05, 1.0),
       input_keep=st.sampled_from([1.0, 0.6]), steps=st.integers(0, 12),
       dataset=st.sampled_from(["moons", "spiral"]), dtype=st.sampled_from(["float64", "float32"]))
def test_the_engine_produces_exactly_the_definition(small_config, layers, keep, input_keep, steps, dataset, dtype):
    exp = PairedExperiment(small_config(layers=tuple(layers), keep_prob=keep, input_keep_prob=input_keep,
                                        dataset=dataset, dtype=dtype))
    exp.advance(steps)
    snap = exp.snapshot()
    _check_types(snap, Snapshot, "snapshot")
    assert "test_loss_scaled" in snap["runs"]["unrescaled"] and "test_loss_scaled" not in snap["runs"]["inverted"]
    rows = csv_rows(snap, len(layers))
    assert all(len(row) == len(csv_columns(len(layers))) for row in rows)
    doc = result(exp.config, snap)
    json.dumps(doc, allow_nan=False)
    assert all(v is None or math.isfinite(v) for run in doc["runs"].values()
               for v in run.values() if isinstance(v, float))


@pytest.mark.parametrize("cls", [RunMetrics, LayerStats])
def test_labels_are_unique(cls):
    labels = [d.label for d in docs(cls).values()]
    assert len(labels) == len(set(labels))


def test_readme_rules_block_lists_the_prediction_rules():
    from dropout_tui.core.snapshot import MCMetrics, RulesResult

    rules = _json_block_after("RULES (")
    assert set(rules) == set(typing.get_type_hints(RulesResult))
    assert set(rules["mc_dropout"][0]) == set(typing.get_type_hints(MCMetrics))


def test_snapshot_with_rules_matches_the_definition_and_fills_the_csv(small_config):
    from dropout_tui.core.prediction import mc_ladder

    exp = PairedExperiment(small_config(mc_max=20))
    exp.advance(15)
    snap = exp.snapshot(rules=True)
    _check_types(snap, Snapshot, "snapshot")
    assert "weight_scaling" in snap["runs"]["unrescaled"]["rules"]
    assert "weight_scaling" not in snap["runs"]["inverted"]["rules"]
    ladder = mc_ladder(20)
    cols = csv_columns(2, ladder)
    inv, unr = csv_rows(snap, 2, ladder)
    row = dict(zip(cols, unr))
    assert float(row["mc20_test_loss"]) == snap["runs"]["unrescaled"]["rules"]["mc_dropout"][-1]["test_loss"]
    assert float(row["weight_scaling_test_loss"]) == snap["runs"]["unrescaled"]["test_loss_scaled"]
    assert dict(zip(cols, inv))["weight_scaling_test_loss"] == ""
