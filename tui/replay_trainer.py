"""The trainer for ``dropout-tui replay FILE``: the recorded session instead of the keyboard.

The Replayer applies each recorded event (keep_prob changes, resets, dataset changes) at its
recorded step; the speed keys, pause and single steps work as in a live session. Keys that would
change the experiment are refused: the recording decides. ``r`` starts the replay again.
"""

from __future__ import annotations

from dropout_tui.core.recording import Replayer, SessionFile

from .trainer import SPEEDS, Trainer

START_SPEED = SPEEDS.index(300)  # a 3,000-step session replays in ten seconds; ] and [ change it
STEERING = ("keep_prob", "dataset")


class ReplayTrainer(Trainer):
    def __init__(self, session: SessionFile, **kwargs):
        self.session = session
        self.replayer = Replayer(session)
        kwargs.setdefault("speed_index", START_SPEED)
        super().__init__(exp=self.replayer.exp, **kwargs)

    def _apply(self, name: str, args) -> None:
        if name in STEERING:
            return  # the recording steers; the app tells the user so
        if name == "reset":
            self.replayer = Replayer(self.session)
            self.exp = self.replayer.exp
            self._boundary = None
            self.paused = False
            self.note = ""
            self._restart()
            return
        super()._apply(name, args)

    def _train(self, steps: int) -> None:
        before = self.exp.step
        for record in self.replayer.advance(steps):
            if record["type"] == "snapshot":
                self._keep({k: v for k, v in record.items() if k not in ("type", "recorded", "t")})
            elif record["type"] == "event":
                if record["kind"] in ("reset", "dataset"):
                    self._reset_flag = True
                    self._pending = []
                    self._boundary = None
                self._events.append((record["kind"], record["step"], {"value": record.get("value")}))
        self.exp = self.replayer.exp
        self._rate.add(max(0, self.exp.step - before))
        if self.replayer.done:
            self.paused = True
            self.note = "replay finished (r plays it again)"
