"""core.sweep: parsing the lists, the tasks, the prediction rules read from a snapshot, results
files (resume, refusal of another sweep's file) and the summary over seeds."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
from decimal import Decimal
from itertools import pairwise

import pytest
from dropout_tui.core.config import Config, ConfigError
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.sweep import (
    CHECKPOINT_RULES,
    CLASSIFICATION_METRICS,
    PREDICTION_RULES,
    REGRESSION_METRICS,
    RULE_NAMES,
    InProcess,
    ResultsFile,
    SweepError,
    SweepSpec,
    checkpoint_steps,
    csv_columns,
    csv_rows,
    mc_passes,
    parse_keep_probs,
    parse_seeds,
    result_key,
    rule_metrics,
    run_task,
    run_tasks,
    stat,
    summarize,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st


def tiny(**changes) -> Config:
    base = {"layers": (8, 8), "train_size": 40, "test_size": 60}
    base.update(changes)
    return Config(**base).validate()


def spec(**changes) -> SweepSpec:
    values = {"base": tiny(), "keep_probs": (0.5, 1.0), "seeds": (0, 1), "steps": 30, "checkpoints": 3}
    values.update(changes)
    return SweepSpec(**values).validate()  # type: ignore[arg-type]


def same(a, b) -> bool:
    """Bit-for-bit equality of JSON-like results (nan equal to nan; floats by their exact repr)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# -- parsing ---------------------------------------------------------------------------------------


def test_a_range_is_inclusive_and_gives_the_floats_of_its_decimal_spellings():
    assert parse_keep_probs("0.1:1.0:0.1") == tuple(float(f"0.{i}") for i in range(1, 10)) + (1.0,)
    assert parse_keep_probs("0.25:1:0.25") == (0.25, 0.5, 0.75, 1.0)
    assert parse_keep_probs("0.1:0.95:0.2") == (0.1, 0.3, 0.5, 0.7, 0.9)  # STOP off the grid: not passed
    assert parse_keep_probs("0.5:0.5:0.1") == (0.5,)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(1, 50), count=st.integers(1, 20), step=st.integers(1, 20))
def test_a_range_on_a_decimal_grid_has_every_point_exactly(start, count, step):
    """Any START:STOP:STEP in hundredths whose STOP is on the grid: count+1 values, each the float
    of its exact decimal (no 0.30000000000000004), ascending, STOP included."""
    stop = start + count * step
    if stop > 100:
        return
    d = Decimal("0.01")
    text = f"{start * d}:{stop * d}:{step * d}"
    values = parse_keep_probs(text)
    assert values == tuple(float((start + i * step) * d) for i in range(count + 1))


def test_a_list_is_sorted_and_every_value_checked():
    assert parse_keep_probs("0.8, 0.3,0.5") == (0.3, 0.5, 0.8)


@pytest.mark.parametrize("text, words", [
    ("", "got nothing"), ("0", "(0, 1]"), ("1.5", "(0, 1]"), ("0.5,abc", "expected a number"),
    ("0.5,0.5", "twice"), ("0:1:0.1", "(0, 1]"), ("0.1:1:0", "step > 0"), ("0.9:0.1:0.1", "START <= STOP"),
    ("0.1:1", "START:STOP:STEP"), ("nan", "expected a number"), ("0.5,", "expected a number"),
    ("1e-400", "(0, 1]"),
])
def test_bad_keep_probs_are_refused_naming_the_option(text, words):
    with pytest.raises(ConfigError) as info:
        parse_keep_probs(text, "--keep-probs")
    message = str(info.value)
    assert message.startswith("--keep-probs:") and words in message and "\n" not in message


def test_seeds_are_a_count_or_a_list():
    assert parse_seeds("5") == (0, 1, 2, 3, 4)
    assert parse_seeds("3,7,9") == (3, 7, 9)
    assert parse_seeds("7,") == (7,)


@pytest.mark.parametrize("text", ["0", "", "-1", "a", "1,1", "1.5", ",", "3,-7"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(ConfigError, match="^--seeds: "):
        parse_seeds(text)


@given(steps=st.integers(1, 10_000), n=st.integers(1, 100))
def test_checkpoints_ascend_to_the_last_step(steps, n):
    cps = checkpoint_steps(steps, n)
    assert cps[-1] == steps and len(cps) == min(n, steps)
    assert all(0 < a < b for a, b in pairwise(cps))


@pytest.mark.parametrize("changes, option", [
    ({"keep_probs": ()}, "--keep-probs"), ({"seeds": ()}, "--seeds"), ({"steps": 0}, "--steps"),
    ({"steps": 10**7}, "--steps"), ({"checkpoints": 0}, "--checkpoints"), ({"seeds": (-1,)}, "--seeds"),
    ({"keep_probs": (0.0,)}, "--keep-probs"), ({"input_keep_probs": (2.0,)}, "--input-keep-probs"),
])
def test_a_bad_spec_names_the_option(changes, option):
    with pytest.raises((SweepError, ConfigError)) as info:
        spec(**changes)
    assert str(info.value).startswith(option + ":")


def test_tasks_cover_every_combination_once():
    s = spec(keep_probs=(0.3, 0.6), input_keep_probs=(0.8, 1.0), seeds=(4, 5, 6))
    keys = [t.key for t in s.tasks()]
    assert sorted(keys) == sorted((p, q, seed) for p in (0.3, 0.6) for q in (0.8, 1.0) for seed in (4, 5, 6))
    for t in s.tasks():
        assert (t.config.keep_prob, t.config.input_keep_prob, t.config.seed) == t.key
        assert t.config.layers == s.base.layers and t.steps == 30 and t.checkpoints == (10, 20, 30)


# -- the rules, read from the snapshot --------------------------------------------------------------


def test_rule_metrics_reads_each_rule_from_its_snapshot_fields():
    exp = PairedExperiment(tiny(keep_prob=0.5, mc_max=20))
    exp.advance(20)
    snap = exp.snapshot()
    rules = rule_metrics(snap)
    # Without the prediction rules computed, the deterministic rules only.
    assert list(rules) == list(CHECKPOINT_RULES) == ["inverted", "unrescaled", "unrescaled_scaled"]
    for rule in PREDICTION_RULES[:3]:
        run = snap["runs"][rule.run]
        for metric in CLASSIFICATION_METRICS:
            assert rules[rule.name][metric] == run[metric + rule.suffix]  # type: ignore[literal-required]
    # Weight scaling changes the unrescaled net's predictions when units were dropped.
    assert rules["unrescaled_scaled"]["test_loss"] != rules["unrescaled"]["test_loss"]

    full = exp.snapshot(rules=True)
    rules = rule_metrics(full)
    assert list(rules) == list(RULE_NAMES)
    for name in ("inverted", "unrescaled"):
        computed = full["runs"][name]["rules"]
        assert computed["mc_dropout"][-1]["T"] == mc_passes(20) == 20
        for metric in CLASSIFICATION_METRICS:
            assert rules[f"{name}_dropout_on"][metric] == computed["dropout_on"][metric]  # type: ignore[literal-required]
            assert rules[f"{name}_mc"][metric] == computed["mc_dropout"][-1][metric]  # type: ignore[literal-required]
            assert rules[name][metric] == computed["no_dropout"][metric]  # type: ignore[literal-required]


@pytest.mark.parametrize("mc_max, T", [(1, 1), (30, 20), (50, 50), (199, 100), (200, 200)])
def test_the_monte_carlo_rules_average_the_largest_ladder_t_up_to_mc_max(mc_max, T):
    assert mc_passes(mc_max) == T


def test_a_regression_task_reports_mse_r2_and_spread_for_every_rule():
    task = spec(base=tiny(dataset="sine", train_size=30, test_size=40), keep_probs=(0.5,), seeds=(0,)).tasks()[0]
    result = run_task(task)
    assert list(result["final"]) == list(RULE_NAMES)
    for metrics in result["final"].values():
        assert set(metrics) == {*REGRESSION_METRICS, "diverged"}
    exp = PairedExperiment(task.config)
    exp.advance(task.steps)
    run = exp.snapshot()["runs"]["unrescaled"]
    assert result["final"]["unrescaled"]["test_r2"] == run["test_r2"]
    assert result["final"]["unrescaled_scaled"]["test_spread"] == run["test_spread_scaled"]
    assert summarize([result], "test_r2")[(0.5, 1.0)]["inverted_mc"].n_finite == 1
    assert csv_columns(True)[5:8] == REGRESSION_METRICS


def test_at_keep_prob_one_every_rule_predicts_the_same():
    result = run_task(spec(keep_probs=(1.0,)).tasks()[0])
    first = result["final"]["inverted"]
    assert all(same(result["final"][r], first) for r in RULE_NAMES if not r.endswith("_mc"))
    # Monte-Carlo averages T equal predictions: equal up to the rounding of the average.
    for rule in ("inverted_mc", "unrescaled_mc"):
        got = result["final"][rule]
        assert got["test_acc"] == first["test_acc"] and got["diverged"] == first["diverged"]
        assert got["test_loss"] == pytest.approx(first["test_loss"], rel=1e-12)
        assert got["test_confidence"] == pytest.approx(first["test_confidence"], rel=1e-12)


# -- tasks -----------------------------------------------------------------------------------------


def test_a_task_is_deterministic_and_its_final_metrics_are_its_last_checkpoint():
    task = spec(keep_probs=(0.5,), seeds=(3,)).tasks()[0]
    a, b = run_task(task), run_task(task)
    assert same(a, b)
    assert [c["step"] for c in a["curve"]] == [10, 20, 30]
    assert same(a["final"], a["curve"][-1]["rules"])
    # The stochastic rules are taken at the last checkpoint only.
    assert [list(c["rules"]) for c in a["curve"]] == [list(CHECKPOINT_RULES)] * 2 + [list(RULE_NAMES)]
    assert result_key(a) == task.key == (0.5, 1.0, 3)


def test_the_curve_matches_a_plain_training_run():
    """A checkpoint is the snapshot a plain run takes at that step: taking metrics in between
    moves nothing."""
    task = spec(keep_probs=(0.5,), seeds=(2,)).tasks()[0]
    exp = PairedExperiment(task.config)
    exp.advance(30)
    assert same(run_task(task)["final"], rule_metrics(exp.snapshot(rules=True)))


def test_seeds_differ():
    a, b = (run_task(t) for t in spec(keep_probs=(0.5,), seeds=(0, 1)).tasks())
    assert not same(a["final"], b["final"])


def test_a_stop_request_stops_a_task():
    from dropout_tui.core.sweep import Stopped

    with pytest.raises(Stopped):
        run_task(spec().tasks()[0], should_stop=lambda: True)


class OneAtATime:
    """A pool that finishes one task per wait, in submission order."""

    def __init__(self):
        self.futures: list[cf.Future] = []
        self.tasks: dict[cf.Future, object] = {}
        self.cancelled: list[cf.Future] = []

    def submit(self, task):
        future: cf.Future = cf.Future()
        self.futures.append(future)
        self.tasks[future] = task
        return future

    def wait(self, handles, timeout):
        future = next(f for f in self.futures if f in handles)
        future.set_result(run_task(self.tasks[future]))  # type: ignore[arg-type]
        return {future}, set(handles) - {future}

    def result(self, handle):
        return handle.result()

    def cancel(self, handles):
        self.cancelled += list(handles)

    def close(self):
        pass


def test_run_tasks_hands_over_every_result_and_stops_when_asked():
    s = spec()
    got = {}
    assert run_tasks(InProcess(), s.tasks(), lambda t, r: got.__setitem__(t.key, r)) is True
    assert set(got) == {t.key for t in s.tasks()}
    pool, calls = OneAtATime(), []
    finished = run_tasks(pool, s.tasks(), lambda t, r: calls.append(t.key), should_stop=lambda: len(calls) >= 2)
    assert finished is False
    assert calls == [t.key for t in s.tasks()[:2]]  # what finished before the stop is handed over
    assert len(pool.cancelled) == len(s.tasks()) - 2 and not any(f.done() for f in pool.cancelled)


# -- results files ---------------------------------------------------------------------------------


def test_a_results_file_resumes_with_what_it_holds(tmp_path):
    path = tmp_path / "r.jsonl"
    s = spec()
    tasks = s.tasks()
    f = ResultsFile.open(path, s)
    results = [run_task(t) for t in tasks[:2]]
    for r in results:
        f.append(r)
    f.close()
    again = ResultsFile.open(path, s)
    try:
        assert set(again.done) == {t.key for t in tasks[:2]}
        for r in results:
            assert same(again.done[result_key(r)], r)  # the JSON round trip keeps every bit
        # Resuming runs only what is missing.
        ran = []
        run_tasks(InProcess(), [t for t in tasks if t.key not in again.done], lambda t, r: ran.append(t.key))
        assert sorted(ran) == sorted(t.key for t in tasks[2:])
    finally:
        again.close()


def test_a_non_finite_metric_survives_the_file(tmp_path):
    path = tmp_path / "r.jsonl"
    s = spec()
    r = run_task(s.tasks()[0])
    r["final"]["unrescaled"]["test_loss"] = math.inf
    r["final"]["inverted"]["test_acc"] = math.nan
    with_file = ResultsFile.open(path, s)
    with_file.append(r)
    with_file.close()
    back = ResultsFile.open(path, s)
    back.close()
    got = back.done[result_key(r)]["final"]
    assert math.isnan(got["unrescaled"]["test_loss"]) and math.isnan(got["inverted"]["test_acc"])


@pytest.mark.parametrize("changes, words", [
    ({"base": tiny(lr=0.1)}, "--lr 0.3, not 0.1"),
    ({"base": tiny(layers=(8, 4))}, "--layers 8,8, not 8,4"),
    ({"steps": 40}, "--steps 30, not 40"),
    ({"checkpoints": 2}, "--checkpoints"),
    ({"base": tiny(mc_max=50)}, "--mc-max 200, not 50"),
])
def test_a_file_from_another_sweep_is_refused_naming_the_difference(tmp_path, changes, words):
    path = tmp_path / "r.jsonl"
    ResultsFile.open(path, spec()).close()
    with pytest.raises(SweepError) as info:
        ResultsFile.open(path, spec(**changes))
    assert str(info.value).startswith("--out:") and words in str(info.value), str(info.value)


def test_a_file_with_other_prediction_rules_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsFile.open(path, spec()).close()
    header, rest = path.read_bytes().split(b"\n", 1)
    obj = json.loads(header)
    obj["rules"] = {"inverted": "", "unrescaled": ""}
    path.write_bytes(json.dumps(obj).encode() + b"\n" + rest)
    with pytest.raises(SweepError, match="prediction rules inverted,unrescaled, not"):
        ResultsFile.open(path, spec())


def test_a_file_an_older_version_wrote_is_refused_with_what_to_do(tmp_path):
    # Version 1 held the deterministic rules only: resuming it would mix results without the
    # stochastic rules into a sweep that shows them.
    path = tmp_path / "r.jsonl"
    ResultsFile.open(path, spec()).close()
    header, rest = path.read_bytes().split(b"\n", 1)
    obj = json.loads(header)
    obj["version"] = 1
    path.write_bytes(json.dumps(obj).encode() + b"\n" + rest)
    with pytest.raises(SweepError, match="version 1 .made before the dropout-on and Monte-Carlo rules, which its "
                                         "results lack.; this dropout-tui reads version 2 .give another --out file."):
        ResultsFile.open(path, spec())


def test_a_result_without_the_stochastic_rules_at_its_end_is_not_a_result(tmp_path):
    path = tmp_path / "r.jsonl"
    s = spec()
    r = run_task(s.tasks()[0])
    with_file = ResultsFile.open(path, s)
    with_file.append(r)
    with_file.close()
    lines = path.read_text().splitlines()
    obj = json.loads(lines[1])
    del obj["final"]["inverted_mc"]
    path.write_text("\n".join([lines[0], json.dumps(obj)]) + "\n")
    with pytest.raises(SweepError, match="line 2 is not a sweep result"):
        ResultsFile.open(path, s)


def test_other_keep_probs_and_seeds_may_extend_a_file(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsFile.open(path, spec()).close()
    ResultsFile.open(path, spec(keep_probs=(0.2,), seeds=(9,))).close()


def test_a_cut_off_last_line_is_dropped_and_the_next_result_starts_cleanly(tmp_path):
    path = tmp_path / "r.jsonl"
    s = spec()
    tasks = s.tasks()
    f = ResultsFile.open(path, s)
    f.append(run_task(tasks[0]))
    f.close()
    with open(path, "ab") as out:
        out.write(b'{"type":"result","keep_prob":0.5,"inp')  # a kill -9 in mid-write
    f = ResultsFile.open(path, s)
    assert f.dropped_partial and set(f.done) == {tasks[0].key}
    f.append(run_task(tasks[1]))
    f.close()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
    f = ResultsFile.open(path, s)
    f.close()
    assert set(f.done) == {tasks[0].key, tasks[1].key} and not f.dropped_partial


@pytest.mark.parametrize("content, words", [
    (b"hello\n", "not JSON"), (b'{"type":"header","format":"other"}\n', "not a dropout-tui sweep"),
    (b"partial", "no complete first line"),
])
def test_a_file_that_is_not_a_sweep_is_refused(tmp_path, content, words):
    path = tmp_path / "r.jsonl"
    path.write_bytes(content)
    with pytest.raises(SweepError, match=words):
        ResultsFile.open(path, spec())


def test_a_broken_result_line_is_refused_with_its_number(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsFile.open(path, spec()).close()
    with open(path, "ab") as out:
        out.write(b'{"type":"result","keep_prob":0.5}\n')
    with pytest.raises(SweepError, match="line 2 is not a sweep result"):
        ResultsFile.open(path, spec())


@pytest.mark.skipif(os.name != "posix", reason="results files are locked on POSIX only")
def test_a_file_in_use_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    first = ResultsFile.open(path, spec())
    try:
        with pytest.raises(SweepError, match="in use by another sweep"):
            ResultsFile.open(path, spec())
    finally:
        first.close()


# -- summaries -------------------------------------------------------------------------------------

# Losses of exploding runs reach 1e196 and more while still finite: every size must summarise.
finite = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.floats(allow_nan=False, allow_infinity=False))


@given(values=st.lists(st.one_of(finite, st.just(math.nan), st.just(math.inf)), min_size=1, max_size=12))
@example(values=[0.0, 2.2250738585072014e-308, 2.2250738585072014e-308])  # a subnormal mean
@example(values=[1e200, -1e200, 3.0])
def test_a_stat_describes_its_finite_values(values):
    s = stat(values)
    ok = [v for v in values if math.isfinite(v)]
    assert s.n == len(values) and s.n_finite == len(ok)
    if not ok:
        assert math.isnan(s.mean) and math.isnan(s.min)
        return
    assert s.min == min(ok) and s.max == max(ok)
    assert s.min - 1e-9 * abs(s.min) <= s.mean <= s.max + 1e-9 * abs(s.max)
    if len(ok) > 1:
        assert s.std >= 0  # inf where the spread itself is past the largest float
    else:
        assert math.isnan(s.std)
    if max(map(abs, ok)) < 1e300 and len(ok) > 1:  # no overflow: the plain formulas' bits
        assert s.mean == math.fsum(ok) / len(ok)


def test_summarize_groups_by_point_over_seeds():
    s = spec(keep_probs=(0.5, 1.0), seeds=(0, 1, 2))
    results = [run_task(t) for t in s.tasks()]
    table = summarize(results, "test_loss")
    assert list(table) == [(0.5, 1.0), (1.0, 1.0)]
    for (p, _q), rules in table.items():
        for rule in RULE_NAMES:
            values = [r["final"][rule]["test_loss"] for r in results if r["keep_prob"] == p]
            assert rules[rule].n == 3 and rules[rule].min == min(values) and rules[rule].max == max(values)


def test_csv_rows_are_one_per_task_checkpoint_and_rule():
    s = spec()
    results = [run_task(t) for t in s.tasks()]
    rows = list(csv_rows(results))
    # Two checkpoints with the deterministic rules, the last with every rule.
    assert len(rows) == len(results) * (2 * len(CHECKPOINT_RULES) + len(RULE_NAMES))
    columns = csv_columns(False)
    assert all(len(row) == len(columns) for row in rows)
    first = dict(zip(columns, rows[0]))
    r = results[0]
    assert float(first["test_loss"]) == r["curve"][0]["rules"][first["rule"]]["test_loss"]
