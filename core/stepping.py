"""Training with snapshots at fixed steps, shared by the headless CLI, the app and replays."""

from __future__ import annotations


def advance_with_snapshots(exp, steps: int, on_snapshot, every: int | None = None) -> None:
    """Advance ``steps`` steps, snapshotting whenever the step count is a multiple of ``every``
    (default: the config's eval_every). Snapshot steps never depend on how a caller chunks its
    calls, so a session replays to the same snapshots."""
    every = every or exp.config.eval_every
    target = exp.step + steps
    while exp.step < target:
        exp.advance(min(every - exp.step % every, target - exp.step))
        if exp.step % every == 0:
            on_snapshot(exp.snapshot())
