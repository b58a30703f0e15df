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


# -- prediction rules and the map's Monte-Carlo spread ------------------------------------------


class _Clock:
    """A clock the test moves by hand, for RulesCadence."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fresh_rules(config, steps):
    from dropout_tui.core.experiment import PairedExperiment
    exp = PairedExperiment(config)
    exp.advance(steps)
    return exp.snapshot(rules=True)


def test_rules_only_when_asked_and_at_once_when_paused(small_config):
    config = small_config(mc_max=10)
    trainer = Trainer(config, paused=True)
    trainer.prerun(30)
    assert trainer.make_update(boundary=False).rules is None  # nobody asked: no Monte-Carlo work

    trainer.send("rules", True)
    trainer.process_commands()
    update = trainer.make_update(boundary=False)
    assert update.rules is not None and update.rules["step"] == 30
    # The numbers of the step, whenever they are taken: a fresh experiment gives the same.
    fresh = _fresh_rules(config, 30)
    for rule in ("inverted", "unrescaled"):
        assert update.rules["runs"][rule]["rules"] == fresh["runs"][rule]["rules"]

    trainer.send("step")
    trainer.process_commands()
    stepped = trainer.make_update(boundary=False)
    assert stepped.rules["step"] == 31  # paused: evaluated again at once after a step

    trainer.send("rules", False)
    trainer.process_commands()
    assert trainer.make_update(boundary=False).rules is None


def test_rules_wait_for_a_pending_keep_prob_and_a_reset_drops_them(small_config):
    trainer = Trainer(small_config(mc_max=5), paused=True)
    trainer.prerun(20)
    trainer.send("keep_prob", 0.8)
    trainer.send("rules", True)
    trainer.process_commands()
    # Step 20's weights are never evaluated under the keep_prob meant for step 21 onwards.
    assert trainer.make_update(boundary=False).rules is None
    trainer.send("step")
    trainer.process_commands()
    update = trainer.make_update(boundary=False)
    assert update.rules["step"] == 21 and update.rules["keep_prob"] == 0.8

    trainer.send("reset")
    trainer.process_commands()
    reset = trainer.make_update(boundary=False)
    assert reset.reset and reset.rules is not None and reset.rules["step"] == 0


def test_rules_follow_their_cadence_while_running(small_config):
    from dropout_tui.core.prediction import RULES_SHARE, RulesCadence
    clock = _Clock()
    trainer = Trainer(small_config(mc_max=5), paused=False)
    trainer._rules_cadence = RulesCadence(clock=clock)
    trainer.send("rules", True)
    trainer.process_commands()
    first = trainer.make_update(boundary=False).rules
    assert first is not None and first["step"] == 0  # none yet: evaluated at once
    trainer._train(7)
    # The evaluation took no time on this clock, so the next is due at once; then space them out.
    trainer._rules_cadence.spent(1.0)
    assert trainer.make_update(boundary=False).rules["step"] == 0  # not due: the old one, with its step
    clock.now += (1 - RULES_SHARE) / RULES_SHARE * 1.0
    trainer._train(3)
    assert trainer.make_update(boundary=False).rules["step"] == 10


def test_map_spread_only_when_asked_and_independent_of_when(small_config):
    trainer = Trainer(small_config(mc_max=10), paused=True)
    trainer.prerun(40)
    trainer.boundary_shape = (12, 8)
    assert trainer.make_update(boundary=True).spread is None
    trainer.send("map_spread", True)
    trainer.process_commands()
    update = trainer.make_update(boundary=True)
    assert update.spread_step == 40
    assert set(update.spread) == {"inverted", "unrescaled"}
    assert update.spread["inverted"].shape == update.boundary.probs["inverted"].shape[:2]
    # A second trainer asked at a different moment (after other evaluations) gets the same numbers.
    other = Trainer(small_config(mc_max=10), paused=True)
    other.prerun(40)
    other.boundary_shape = (12, 8)
    other.send("rules", True)
    other.process_commands()
    other.make_update(boundary=True)
    other.send("map_spread", True)
    other.process_commands()
    again = other.make_update(boundary=True)
    for rule in ("inverted", "unrescaled"):
        assert (again.spread[rule] == update.spread[rule]).all()


def test_a_key_pressed_during_an_evaluation_is_served_first(small_config):
    """A command waiting abandons the rules' evaluation (no rules in that update); they come with
    the next one, the same numbers as ever."""
    config = small_config(mc_max=10)
    trainer = Trainer(config, paused=True)
    trainer.prerun(30)
    trainer.send("rules", True)
    trainer.process_commands()
    trainer.send("step")  # waiting in the queue while the update is made
    assert trainer.make_update(boundary=False).rules is None
    trainer.process_commands()
    update = trainer.make_update(boundary=False)
    assert update.rules is not None and update.rules["step"] == 31
    fresh = _fresh_rules(config, 31)
    for rule in ("inverted", "unrescaled"):
        assert update.rules["runs"][rule]["rules"] == fresh["runs"][rule]["rules"]
