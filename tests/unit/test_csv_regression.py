"""Regression on a user's CSV: the target is standardised with the training split's statistics, so a
target on a real-world scale trains as a unit-scale one does, a change of the target's units changes
nothing, recordings still replay bit-identically and sweeps run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_tui.core import csv_data
from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionLog, read_session
from dropout_tui.core.sweep import RULE_NAMES, run_task
from dropout_tui.tui.cli import main
from dropout_tui.tui.numbers import num
from dropout_tui.tui.sweep_cmd import parse
from dropout_tui.tui.threads import limit_blas_threads


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    # As the CLI does: at these sizes a second BLAS thread only contends for the cores.
    limit_blas_threads()


def write_table(path: Path, x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Path:
    """A CSV of features ``x`` (n, k) and target ``y`` (n,), every value written exactly (repr)."""
    rows = (",".join(repr(float(v)) for v in (*xi, yi)) for xi, yi in zip(x, y))
    path.write_text(",".join(names) + "\n" + "\n".join(rows) + "\n")
    return path


def houses(path: Path, n: int = 200) -> Path:
    """Prices around 50,000 (std about 15,000) from two features: a target whose MSE gradient is
    ~10⁴ times a unit-scale one's."""
    r = np.random.default_rng(0)
    x = r.uniform(-3, 3, (n, 2))
    y = 50_000 + 20_000 * np.sin(x[:, 0]) + 5_000 * x[:, 1] + r.normal(0, 2_000, n)
    return write_table(path, x, y, ("a", "b", "price"))


def test_prices_train_at_the_defaults_instead_of_diverging(tmp_path):
    config = Config.for_dataset("csv", data=str(houses(tmp_path / "houses.csv")), task="regression")
    exp = PairedExperiment(config)
    scale = exp.data.target_scale
    assert scale is not None and 45_000 < scale.mean < 55_000 and 10_000 < scale.std < 20_000
    exp.advance(2000)
    snap = exp.snapshot()
    inv, unr = snap["runs"]["inverted"], snap["runs"]["unrescaled"]
    assert not inv["diverged"] and not unr["diverged"]
    assert inv["test_r2"] > 0.7 and inv["learning"]
    # the standardised test targets' variance: about 1 (the training split's std, not the test's own)
    assert 0.5 < snap["chance_loss"] < 2
    assert all(math.isfinite(run[k]) for run in (inv, unr) for k in ("test_loss", "test_rmse", "test_spread"))
    # the mismatch the tool exists to show is still there: unrescaled predicts stretched, and ×p repairs it
    assert unr["test_spread"] > 1.3 * inv["test_spread"]
    assert unr["test_loss_scaled"] < unr["test_loss"]


# --- a change of the target's units changes nothing -----------------------------------------------

R = np.random.default_rng(11)
X = R.uniform(-2, 2, (60, 2))
Y = np.sin(1.5 * X[:, 0]) + 0.5 * X[:, 1] + R.normal(0, 0.2, 60)


def numbers(snapshot) -> np.ndarray:
    """Every number of a snapshot (nested fields included), in a fixed order, as floats."""
    out: list[float] = []

    def walk(v):
        if isinstance(v, dict):
            for k in sorted(v):
                walk(v[k])
        elif isinstance(v, list):
            for item in v:
                walk(item)
        elif isinstance(v, (bool, int, float)):
            out.append(float(v))

    walk(snapshot)
    return np.array(out)


def trained(path: Path, steps: int, **changes) -> tuple[PairedExperiment, list]:
    config = Config.for_dataset("csv", data=str(path), task="regression", layers=(16, 16), **changes)
    exp = PairedExperiment(config)
    snaps = [exp.snapshot()]
    for _ in range(steps // 20):
        exp.advance(20)
        snaps.append(exp.snapshot())
    return exp, snaps


def assert_same_runs(a: tuple[PairedExperiment, list], b: tuple[PairedExperiment, list], rtol: float) -> None:
    (exp_a, snaps_a), (exp_b, snaps_b) = a, b
    for sa, sb in zip(snaps_a, snaps_b, strict=True):
        na, nb = numbers(sa), numbers(sb)
        assert na.shape == nb.shape
        np.testing.assert_allclose(na, nb, rtol=rtol, atol=rtol * 1e-3)
    for rule in exp_a.runs:
        for pa, pb in zip(exp_a.runs[rule].net.params, exp_b.runs[rule].net.params, strict=True):
            np.testing.assert_allclose(pa, pb, rtol=rtol, atol=rtol * 1e-3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.floats(1e-3, 1e6), offset=st.floats(-1e3, 1e3), keep=st.sampled_from([0.3, 0.5, 0.8]),
       batch=st.sampled_from([0, 16]))
def test_an_affine_change_of_the_target_leaves_training_and_every_metric_unchanged(tmp_path, a, offset, keep,
                                                                                  batch):
    """y → a·y + b (a > 0, b up to 10³ of the target's units times a): the same losses, R², spread,
    layer statistics and weights, step by step, up to the rounding of a·y + b itself."""
    base = write_table(tmp_path / "base.csv", X, Y, ("a", "b", "y"))
    moved = write_table(tmp_path / "moved.csv", X, a * Y + a * offset, ("a", "b", "y"))
    same = {"keep_prob": keep, "batch_size": batch}
    assert_same_runs(trained(base, 100, **same), trained(moved, 100, **same), rtol=1e-9)


def test_a_power_of_two_change_of_units_is_bit_identical(tmp_path):
    # Multiplying by 2^k is exact in binary floating point, and so are the mean and std it scales:
    # the standardised targets, and so the whole run, are the same bits.
    base = write_table(tmp_path / "base.csv", X, Y, ("a", "b", "y"))
    moved = write_table(tmp_path / "moved.csv", X, 1024.0 * Y, ("a", "b", "y"))
    assert_same_runs(trained(base, 60), trained(moved, 60), rtol=0.0)


def test_without_standardisation_the_units_would_matter(tmp_path, monkeypatch):
    """The check above can fail: with the target left raw, 1024·y trains to another MSE."""
    base = write_table(tmp_path / "base.csv", X, Y, ("a", "b", "y"))
    moved = write_table(tmp_path / "moved.csv", X, 1024.0 * Y, ("a", "b", "y"))
    monkeypatch.setattr(csv_data, "_target_scale", lambda table, t: csv_data.TargetScale(table.label_name, 0.0, 1.0))
    with pytest.raises(AssertionError):
        assert_same_runs(trained(base, 20), trained(moved, 20), rtol=1e-9)


# --- recordings and sweeps ------------------------------------------------------------------------


def record(path: Path, config: Config) -> Path:
    exp = PairedExperiment(config)
    with SessionLog(path, config, source=exp.source) as log:
        log.snapshot(exp.snapshot())
        for _ in range(3):
            exp.advance(25)
            log.snapshot(exp.snapshot())
        log.snapshot(exp.snapshot(rules=True))
    return path


@pytest.mark.parametrize("embedded", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_recording_on_a_regression_csv_replays_bit_identically(tmp_path, monkeypatch, embedded, dtype):
    data = houses(tmp_path / "houses.csv", n=80)
    if not embedded:
        monkeypatch.setattr(csv_data, "EMBED_LIMIT", 100)  # referenced by SHA-256, given again on replay
    config = Config.for_dataset("csv", data=str(data), task="regression", layers=(16, 16), dtype=dtype,
                                mc_max=10)
    path = record(tmp_path / "s.jsonl", config)
    header = json.loads(path.read_text().splitlines()[0])
    assert ("text" in header["data"]["train"]) == embedded
    rep = Replayer(read_session(path), verify=True, rtol=0.0,
                   data_path=None if embedded else str(data)).run()
    assert rep.mismatch is None and rep.snapshots_compared == 5


def test_a_sweep_over_a_regression_csv_reports_standardised_metrics(tmp_path):
    data = houses(tmp_path / "houses.csv", n=100)
    request = parse(["--data", str(data), "--task", "regression", "--layers", "16,16", "--steps", "200",
                     "--checkpoints", "2", "--keep-probs", "0.5", "--seeds", "1", "--mc-max", "10"])
    task = request.spec.tasks()[0]
    result = run_task(task)
    assert list(result["final"]) == list(RULE_NAMES)
    inv = result["final"]["inverted"]
    assert not inv["diverged"] and inv["test_r2"] > 0.3 and inv["test_loss"] < 1
    # the same numbers as the experiment's own snapshot
    exp = PairedExperiment(task.config)
    exp.advance(task.steps)
    assert inv["test_loss"] == exp.snapshot()["runs"]["inverted"]["test_loss"]


# --- what the headless output and the README say --------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def headless(capsys, *argv: str) -> str:
    assert main(["--headless", *argv]) == 0
    return capsys.readouterr().out


def test_the_headless_table_and_json_say_the_target_is_standardised(tmp_path, capsys):
    data = str(houses(tmp_path / "houses.csv", n=100))
    doc = json.loads(headless(capsys, "--data", data, "--task", "regression", "--steps", "50", "--json"))
    scale = doc["target_scale"]
    exp = PairedExperiment(Config.for_dataset("csv", data=data, task="regression"))
    assert scale == {"name": "price", "mean": exp.data.target_scale.mean, "std": exp.data.target_scale.std}
    table = " ".join(headless(capsys, "--data", data, "--task", "regression", "--steps", "50").split())
    assert "houses.csv · price standardised ·" in table
    assert (f"losses (MSE) and RMSE are of price standardised with the training rows' mean "
            f"{num(scale['mean'], 4)} and std {num(scale['std'], 4)}") in table
    # the row's cells: inverted, its × column, unrescaled, its × column
    cells = [c.strip() for c in table.split("│ test RMSE, price units │")[1].split("│")[:4]]
    assert cells[0] == num(doc["runs"]["inverted"]["test_rmse"] * scale["std"], 4)
    assert cells[2] == num(doc["runs"]["unrescaled"]["test_rmse"] * scale["std"], 4)
    assert "│ test RMSE, standardised │" in table
    # a built-in set's targets are fitted as they are: nothing to say, no key
    doc = json.loads(headless(capsys, "--dataset", "sine", "--steps", "5", "--json"))
    assert "target_scale" not in doc
    assert "standardised" not in headless(capsys, "--dataset", "sine", "--steps", "5")


def _readme_after(marker: str) -> str:
    text = README.read_text()
    return text[text.index(marker):]


def test_the_readme_houses_example(tmp_path, capsys, monkeypatch):
    """The README's snippet makes the file; its table and numbers are what the headless run gives."""
    section = _readme_after("A target on a real-world scale")
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README snippet", "exec"), {})
    command = section.split("`dropout-tui --headless ", 1)[1].split("`", 1)[0].split()
    doc = json.loads(headless(capsys, *command, "--json"))
    scale, inv, unr = doc["target_scale"], doc["runs"]["inverted"], doc["runs"]["unrescaled"]
    words = " ".join(section.split("\n\n## ", 1)[0].split())
    assert f"price's training mean {round(scale['mean']):,}, std {round(scale['std']):,}" in words

    def row(label: str) -> list[str]:
        line = next(r for r in section.splitlines() if r.startswith(f"| {label} |"))
        return [c.strip() for c in line.strip("|").split("|")][1:]

    def dec(x: float) -> str:
        return f"{x:.3f}".replace("-", "−")

    assert row("inverted") == [dec(inv["test_loss"]), f"{round(inv['test_rmse'] * scale['std']):,}",
                               dec(inv["test_r2"]), dec(inv["test_spread"])]
    assert row("unrescaled") == [dec(unr["test_loss"]), f"{round(unr['test_rmse'] * scale['std']):,}",
                                 dec(unr["test_r2"]), dec(unr["test_spread"])]
    assert row("unrescaled ×p at test") == [dec(unr["test_loss_scaled"]), "", dec(unr["test_r2_scaled"]),
                                            dec(unr["test_spread_scaled"])]
    assert "140 training and 60 test rows" in words
    assert f"spread {unr['test_spread']:.1f}× as wide" in words and unr["test_r2"] < 0
    # "Left in its own units ...": the same file with the target raw
    monkeypatch.setattr(csv_data, "_target_scale", lambda table, t: csv_data.TargetScale(table.label_name, 0.0, 1.0))
    config = Config.for_dataset("csv", data=str(tmp_path / "houses.csv"), task="regression")
    assert config.lr == 0.05
    raw = PairedExperiment(config)
    raw.advance(4)
    assert all(run.last_loss() > 1e100 for run in raw.runs.values())
    raw.advance(1996)
    snap = raw.snapshot()
    assert all(run["diverged"] and math.isnan(run["test_loss"]) for run in snap["runs"].values())


def test_the_readme_documents_the_json_target_scale_and_the_constant_target_message(tmp_path, capsys):
    section = _readme_after("A regression on a CSV file adds")
    documented = json.loads(section.split("`", 2)[1].removeprefix('"target_scale": '))
    data = str(houses(tmp_path / "houses.csv"))
    doc = json.loads(headless(capsys, "--data", data, "--task", "regression", "--steps", "1", "--json"))
    assert set(doc["target_scale"]) == set(documented)
    assert documented["mean"] == round(doc["target_scale"]["mean"], 1)  # the README's example file
    assert documented["std"] == round(doc["target_scale"]["std"], 1)
    quoted = " ".join(_readme_after("A target\n  that is constant in training").split("`", 2)[1].split())
    flat = tmp_path / "flat.csv"
    flat.write_text("a,t\n" + "".join(f"{i},5\n" for i in range(12)))
    assert main(["--headless", "--data", str(flat), "--task", "regression"]) == 2
    assert capsys.readouterr().err.strip().endswith(quoted)


def test_a_regression_sweep_over_a_csv_titles_its_mse_standardised(tmp_path, capsys):
    data = str(houses(tmp_path / "houses.csv", n=60))
    small = ["--layers", "8,8", "--steps", "20", "--checkpoints", "2", "--keep-probs", "0.5", "--seeds", "1",
             "--workers", "1", "--mc-max", "2"]
    assert main(["sweep", "--data", data, "--task", "regression", *small]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "test MSE (standardised target) · no dropout at prediction" in out
    assert "test MSE (standardised target) against keep_prob" in out
    assert main(["sweep", "--dataset", "sine", "--train-size", "30", "--test-size", "40", *small]) == 0
    out = capsys.readouterr().out
    assert "test MSE" in out and "standardised" not in out
