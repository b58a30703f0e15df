"""The trainer for ``dropout-tui replay FILE``: the recorded session instead of the keyboard.

The Replayer applies each recorded change (keep_prob changes, resets, dataset changes) at its
recorded step; the speed keys, pause and single steps work as in a live session. Commands that
would change the experiment are refused, with a note saying why: the recording decides. ``r``
starts the replay again.
"""

from __future__ import annotations

from dropout_tui.core.replay import Replayed, Replayer
from dropout_tui.core.session import EventRecord, SessionFile

from .trainer import SPEEDS, Trainer

START_SPEED = SPEEDS.index(300)  # a 3,000-step session replays in ten seconds; ] and [ change it
STEERED = ("keep_prob", "dataset")
REFUSAL = "Replay: the recording sets keep_prob and the dataset (r plays it again)."
MAX_EVENTS_SHOWN = 20  # events an update carries to the screen; older ones between two updates are skipped


class ReplayTrainer(Trainer):
    replay = True

    def __init__(self, session: SessionFile, *, data_path: str | None = None, test_path: str | None = None,
                 **kwargs):
        self.session = session
        self._paths = (data_path, test_path)
        self.replayer = self._replayer()
        kwargs.setdefault("speed_index", START_SPEED)
        super().__init__(exp=self.replayer.exp, **kwargs)

    def _replayer(self) -> Replayer:
        return Replayer(self.session, data_path=self._paths[0], test_path=self._paths[1])

    def refusal(self, name: str) -> str | None:
        return REFUSAL if name in STEERED else None

    def _apply(self, name: str, args: tuple) -> None:
        if name == "reset":
            self.replayer = self._replayer()
            self.exp = self.replayer.exp
            self._boundary = None
            self.paused = False
            self.note = ""
            self._restart()
            return
        super()._apply(name, args)

    def _train(self, steps: int) -> None:
        before = self.exp.step
        for passed in self.replayer.advance(steps):
            if isinstance(passed, Replayed):
                self._keep(passed.snapshot)
            elif isinstance(passed, EventRecord):
                if passed.change.kind in ("reset", "dataset"):
                    self._reset_flag = True
                    self._pending = []
                    self._snapped = None
                    self._boundary = None
                self._events.append((passed.change, passed.step))
                if len(self._events) > MAX_EVENTS_SHOWN:
                    del self._events[0]  # a file of a million events must not pile them up for the screen
        self.exp = self.replayer.exp
        self._rate.add(max(0, self.exp.step - before))
        if self.replayer.done:
            self.paused = True
            self.note = "replay finished (r plays it again)"
