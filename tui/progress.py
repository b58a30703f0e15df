"""A progress bar on stderr that appears only for work that takes a while, and never breaks a run
whose terminal went away."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

SHOW_AFTER_S = 1.0  # shorter work finishes before a bar would be worth drawing


class LateProgress:
    """``with LateProgress("training", total) as bar: ... bar.update(done)``. Draws nothing when
    stderr is not a terminal or before ``SHOW_AFTER_S`` has passed."""

    def __init__(self, label: str, total: int, *, show_after_s: float = SHOW_AFTER_S):
        self.label, self.total, self.show_after_s = label, total, show_after_s
        self._console = Console(stderr=True)
        self._start = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(self, completed: int) -> None:
        if self._progress is None:
            if not self._console.is_terminal or time.perf_counter() - self._start < self.show_after_s:
                return
            self._progress = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=self._console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        assert self._task is not None
        self._progress.update(self._task, completed=completed)

    def __enter__(self) -> LateProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            try:
                self._progress.stop()
            except (OSError, ValueError):  # the terminal went away (SIGHUP)
                pass
