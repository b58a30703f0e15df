"""Recording from the app in-process: CSV export and replay in the app."""


from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from dropout_tui.core.csv_data import MAX_CLASSES

from dropout_tui.core.changes import Change
from dropout_tui.core.session import SessionLog, read_session
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.replay_trainer import ReplayTrainer
from dropout_tui.tui.widgets.boundary_map import CLASS_RGB
from dropout_tui.tui.widgets.boundary_map import MIN_ROWS as MAP_MIN_ROWS
from dropout_tui.tui.widgets.boundary_map import BoundaryMap
from dropout_tui.tui.widgets.run_column import SUMMARY_ROWS, RunColumn
from dropout_tui.tui.widgets.status_bar import StatusBar
from textual.widgets._toast import Toast, ToastRack


async def test_e_exports_the_metrics_history_as_csv(small_config, tmp_path):
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=100, screenshot_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        snapshots = len(app.history.snapshots)
    files = list(tmp_path.glob("*.csv"))
    assert len(files) == 1
    rows = list(csv.DictReader(files[0].open()))
    assert len(rows) == 2 * snapshots
    assert {r["run"] for r in rows} == {"inverted", "unrescaled"}
    assert {"step", "keep_prob", "test_loss", "h1_mean_train", "h2_norm_pred"} <= set(rows[0])


async def test_the_export_notice_counts_in_words_and_says_what_it_covers(small_config, tmp_path):
    app = DropoutApp(small_config(), worker=False, paused=True, screenshot_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        messages = []
        for keys in ((), ("n", "n"), ("r", "n"), ("d", "n", "n", "n")):
            app.clear_notifications()
            await pilot.press(*keys, "e")
            await pilot.pause()
            messages.append(list(app._notifications)[-1].message)
    assert messages[0].startswith("2 rows (1 snapshot × 2 runs) saved,\nsteps 0–0, since the start:")
    assert messages[1].startswith("6 rows (3 snapshots × 2 runs) saved,\nsteps 0–2, since the start:")
    assert messages[2].startswith("4 rows (2 snapshots × 2 runs) saved,\nsteps 0–1, since the last reset:")
    assert messages[3].startswith("8 rows (4 snapshots × 2 runs) saved,\nsteps 0–3, since the last dataset change:")
    rows = [len(list(csv.DictReader(f.open()))) for f in sorted(tmp_path.glob("*.csv"))]
    assert sorted(rows) == [2, 4, 6, 8]


async def test_replay_in_the_app_follows_the_recording(small_config, tmp_path):
    path = tmp_path / "s.jsonl"
    from dropout_tui.core.experiment import PairedExperiment

    exp = PairedExperiment(small_config())
    with SessionLog(path, small_config()) as log:
        log.snapshot(exp.snapshot())
        exp.advance(5)
        exp.set_keep_prob(0.7)
        log.event(Change("keep_prob", 0.7), exp.step)
        exp.advance(5)
        log.snapshot(exp.snapshot())
    app = DropoutApp(trainer=ReplayTrainer(read_session(path), paused=True), worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.query_one(StatusBar)
        assert "REPLAY" in status._text.plain
        for _ in range(6):
            await pilot.press("n")
        assert app.trainer.exp.step == 6 and app.trainer.exp.keep_prob == 0.7
        await pilot.press("plus")  # the recording steers: refused
        assert app.trainer.exp.keep_prob == 0.7
        for _ in range(4):
            await pilot.press("n")
        await pilot.press("space")  # resume: the replay ends at once and pauses itself
        app.trainer.process_commands()
        app.trainer._train(5)
        assert app.trainer.replayer.done and app.trainer.paused
        assert app.trainer.replayer.last_snapshot["step"] == 10




async def test_recorded_changes_replace_one_notice_instead_of_piling_up(small_config, tmp_path):
    path = tmp_path / "s.jsonl"
    from dropout_tui.core.experiment import PairedExperiment

    exp = PairedExperiment(small_config())
    probs = [round(0.3 + 0.05 * (i % 12), 2) for i in range(30)]
    with SessionLog(path, small_config()) as log:
        log.snapshot(exp.snapshot())
        for p in probs:  # a change at every step
            exp.set_keep_prob(p)
            log.event(Change("keep_prob", p), exp.step)
            exp.advance(1)
            log.snapshot(exp.snapshot())
    app = DropoutApp(trainer=ReplayTrainer(read_session(path), paused=True), worker=False)

    def notices() -> list[str]:
        return [n.message for n in app._notifications if n.message.startswith("Recorded at step")]

    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        for _ in range(12):  # an update per step; a change recorded at a step applies once it is reached
            await pilot.press("n")
            await pilot.pause()
            step = app.trainer.step
            shown = notices()
            assert len(shown) == 1 and shown[0].startswith(f"Recorded at step {step}: keep_prob → {probs[step]}")
        app.trainer._train(15)  # many changes in one update: the latest is shown, the rest counted
        app._apply(app.trainer.make_update(boundary=False))
        await pilot.pause()
        assert notices() == [f"Recorded at step 27: keep_prob → {probs[27]} (and 14 earlier)"], notices()
        rack = app.screen.get_child_by_type(ToastRack)
        assert [t._notification.message for t in rack.query(Toast)] == notices()


# --- a user's CSV on screen -----------------------------------------------------------------------

DATA = Path(__file__).resolve().parents[1] / "data"


async def _csv_app(path: Path, size):
    from dropout_tui.core.config import Config

    config = Config.for_dataset("csv", data=str(path), layers=(16, 16))
    return DropoutApp(config, worker=False, paused=True, prerun=60), size


def _blank_rows(column: RunColumn) -> int:
    """Rows of the column's inside that no part takes."""
    plan = column.plan
    return column.inner_size[1] - (SUMMARY_ROWS + plan.chart + plan.legend + plan.table + plan.map)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (61, 19), (100, 33)])
async def test_four_features_no_map_and_the_screen_says_why_in_one_row(size):
    app, size = await _csv_app(DATA / "iris.csv", size)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert "iris.csv" in app.query_one(StatusBar)._text.plain
        for column in app.query(RunColumn):
            bm = column.query_one(BoundaryMap)
            assert column.plan is not None and _blank_rows(column) == 0
            assert column.plan.map in (0, 1)  # never a map, at most its one-row note
            if column.plan.map:
                assert bm.display and bm.size.height == 1 and bm._text.plain == "no map: 4 features"
            else:  # only where the curves have no row to spare: the petals get no map here either
                assert size == (61, 19)
        if size == (120, 40):
            await pilot.press("m")
            await pilot.pause()
            assert any("No map: 4 features" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("size, key", [((120, 40), None), ((100, 33), "m")])
async def test_two_features_draw_the_map(size, key):
    """At 120x40 the map has room beside the curves; at 100x33 it shows when asked for (m), as
    for the built-in sets."""
    app, size = await _csv_app(DATA / "iris-petals.csv", size)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if key:
            await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        assert "iris-petals.csv" in app.query_one(StatusBar)._text.plain
        for column in app.query(RunColumn):
            bm = column.query_one(BoundaryMap)
            assert column.plan.map >= MAP_MIN_ROWS and bm.display
            assert "no map" not in (bm._text.plain if bm._text else "")
            assert _blank_rows(column) == 0
        assert app._last.boundary is not None and app._last.map_note is None


async def test_a_map_with_more_classes_than_the_built_in_sets(tmp_path):
    """Up to the class limit, every class has a colour of its own (six classes on a 2-D plane)."""
    rng = np.random.default_rng(0)
    rows = [f"{c + rng.normal(0, 0.2):.3f},{c % 3 + rng.normal(0, 0.2):.3f},k{c}" for c in range(6) for _ in range(15)]
    path = tmp_path / "six.csv"
    path.write_text("a,b,y\n" + "\n".join(rows) + "\n")
    assert MAX_CLASSES <= len(CLASS_RGB) and len(set(map(tuple, CLASS_RGB.tolist()))) == len(CLASS_RGB)
    app, size = await _csv_app(path, (120, 40))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app._last.boundary is not None
        assert app._last.boundary.probs["inverted"].shape[2] == 6
        assert app.query_one(BoundaryMap)._text is not None
