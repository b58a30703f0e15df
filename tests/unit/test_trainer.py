"""The trainer's rules about numbers and steps: a snapshot belongs to one step, and a pair of
diverged runs is not stepped any further."""

from __future__ import annotations

import threading

from dropout_tui.tui.trainer import BOTH_DIVERGED, Trainer


def test_keep_prob_changed_while_paused_does_not_rewrite_the_step(small_config):
    trainer = Trainer(small_config(keep_prob=0.5), paused=True)
    trainer.prerun(20)
    first = trainer.make_update(boundary=False)
    assert first.snapshots[-1]["step"] == 20 and first.snapshots[-1]["keep_prob"] == 0.5

    trainer.send("keep_prob", 0.3)
    trainer.process_commands()
    update = trainer.make_update(boundary=False)
    # The new value is the experiment's (it applies from the next step) ...
    assert update.keep_prob == 0.3 and update.step == 20
    # ... but no snapshot re-measures step 20's weights under it.
    assert update.snapshots == []

    trainer.send("step")
    trainer.process_commands()
    stepped = trainer.make_update(boundary=False)
    assert [s["step"] for s in stepped.snapshots] == [21]
    assert stepped.snapshots[-1]["keep_prob"] == 0.3


def test_reset_still_shows_the_fresh_step_zero(small_config):
    trainer = Trainer(small_config(), paused=True)
    trainer.prerun(10)
    trainer.make_update(boundary=False)
    trainer.send("reset")
    trainer.process_commands()
    update = trainer.make_update(boundary=False)
    assert update.reset and [s["step"] for s in update.snapshots] == [0]


def both_diverge(small_config):
    # keep_prob 1: the runs are the same network, so they diverge at the same step.
    return small_config(lr=1e30, keep_prob=1.0)


def test_both_runs_diverged_pauses_with_a_note_and_stops_counting(small_config):
    trainer = Trainer(both_diverge(small_config), paused=False, speed_index=0)
    trainer._train(10)
    assert all(run.diverged for run in trainer.exp.runs.values())
    assert trainer.paused and trainer.note == BOTH_DIVERGED
    step = trainer.step
    trainer._train(10)
    trainer.send("step")
    trainer.process_commands()
    assert trainer.step == step
    update = trainer.make_update(boundary=False)
    assert update.paused and update.note == BOTH_DIVERGED
    assert [c.kind for c, _ in update.events].count("pause") == 1  # recorded once, as a pause


def test_reset_after_both_diverged_clears_the_note(small_config):
    trainer = Trainer(both_diverge(small_config), paused=False)
    trainer._train(10)
    trainer.send("reset")
    trainer.process_commands()
    assert trainer.note == "" and trainer.step == 0
    assert not any(run.diverged for run in trainer.exp.runs.values())


def test_one_diverged_run_does_not_stop_training(small_config):
    # The premise, as in the app's test: the inverted run blows up, the unrescaled one does not.
    trainer = Trainer(small_config(test_size=60, lr=1e6, keep_prob=0.3, eval_every=5), paused=False)
    trainer._train(51)
    diverged = [run.diverged for run in trainer.exp.runs.values()]
    assert diverged.count(True) == 1  # the premise: one run only
    assert not trainer.paused and trainer.step == 51


def test_the_running_loop_stops_when_both_runs_have_diverged(small_config):
    trainer = Trainer(both_diverge(small_config), paused=False)
    updates, stop = [], threading.Event()
    worker = threading.Thread(target=trainer.run, args=(updates.append, stop.is_set))
    worker.start()
    try:
        for _ in range(200):
            if any(u.paused and u.note == BOTH_DIVERGED for u in updates):
                break
            stop.wait(0.05)
        step = trainer.step
        stop.wait(0.3)
        assert trainer.step == step
    finally:
        stop.set()
        worker.join(5)
    assert any(u.paused and u.note == BOTH_DIVERGED for u in updates)
    assert step < 50


def test_a_resume_after_both_diverged_pauses_again(small_config):
    trainer = Trainer(both_diverge(small_config), paused=False)
    trainer._train(10)
    trainer.send("pause", False)
    trainer.process_commands()
    step = trainer.step
    trainer._train(5)
    assert trainer.step == step and trainer.paused
