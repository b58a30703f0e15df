"""A progress bar on stderr that appears only for work that takes a while, and never breaks a run
whose terminal went away."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.text import Text

SHOW_AFTER_S = 1.0  # shorter work finishes before a bar would be worth drawing


class _Remaining(ProgressColumn):
    """Time left at the rate since the work began — not since the bar appeared, which for work
    done in a few large pieces (a sweep's tasks) would count the first piece as instant."""

    def __init__(self, started: float):
        super().__init__()
        self.started = started

    def render(self, task: Task) -> Text:
        done, total = task.completed, task.total or 0
        if not done or done >= total:
            return Text("-:--:--" if not done else "0:00:00", style="progress.remaining")
        left = (time.perf_counter() - self.started) / done * (total - done)
        minutes, seconds = divmod(round(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


class LateProgress:
    """``with LateProgress("training", total) as bar: ... bar.update(done)``. Draws nothing when
    stderr is not a terminal or before ``SHOW_AFTER_S`` has passed."""

    def __init__(self, label: str, total: int, *, show_after_s: float = SHOW_AFTER_S, ascii_only: bool = False):
        self.label, self.total, self.show_after_s = label, total, show_after_s
        self.ascii_only = ascii_only
        self._console = Console(stderr=True)
        self._start = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(self, completed: int) -> None:
        if self._progress is None:
            if not self._console.is_terminal or time.perf_counter() - self._start < self.show_after_s:
                return
            # The Linux console's font has no bar glyphs: the count and the time left say it all.
            bar = () if self.ascii_only else (BarColumn(),)
            self._progress = Progress(TextColumn(self.label), *bar, MofNCompleteColumn(),
                                      _Remaining(self._start), console=self._console, transient=True)
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
