"""Recording from the app in-process: CSV export and replay in the app."""


from __future__ import annotations

import csv

from dropout_tui.core.changes import Change
from dropout_tui.core.session import SessionLog, read_session
from dropout_tui.tui.app import DropoutApp
from dropout_tui.tui.replay_trainer import ReplayTrainer
from dropout_tui.tui.widgets.status_bar import StatusBar


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


