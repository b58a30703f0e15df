"""Training with snapshots at fixed steps, shared by the headless CLI, the app and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

if TYPE_CHECKING:
    from .experiment import PairedExperiment
    from .snapshot import Snapshot


def advance_with_snapshots(exp: PairedExperiment, steps: int, on_snapshot: Callable[[Snapshot], object],
                           every: int | None = None, *, max_chunk: int | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           on_progress: Callable[[int], object] | None = None,
                           rules_at: int | None = None) -> bool:
    """Advance ``steps`` steps, snapshotting whenever the step count is a multiple of ``every``
    (default: the config's eval_every). Snapshot steps never depend on how the work is chunked,
    so a session replays to the same snapshots. ``max_chunk`` bounds the steps between looks at
    ``should_stop()`` and calls of ``on_progress(step)``. Returns False if stopped early."""
    every = every or exp.config.eval_every
    target = exp.step + steps
    while exp.step < target:
        n = min(every - exp.step % every, target - exp.step)
        exp.advance(min(n, max_chunk) if max_chunk else n)
        if exp.step % every == 0:
            on_snapshot(exp.snapshot(rules=exp.step == rules_at))
        if on_progress is not None:
            on_progress(exp.step)
        if should_stop is not None and should_stop():
            return False
    return True
